"""Review cycles (reviews and calibration arrive with their issues)."""
