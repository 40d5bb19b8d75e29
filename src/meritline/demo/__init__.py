"""The synthetic demo company."""
