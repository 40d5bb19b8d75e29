"""Calibration: the statistics a committee reads, on any ratings export or a session."""
