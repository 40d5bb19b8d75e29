"""Writeback destinations: one plugin per kind (``type`` slug), found through entry points."""
