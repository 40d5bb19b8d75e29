"""Writeback: outcomes to HR and compensation systems through an outbox."""
