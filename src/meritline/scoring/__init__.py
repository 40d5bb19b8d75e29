"""Scoring: versioned models over thirteen pillars, scoring runs, snapshots, explanations."""
