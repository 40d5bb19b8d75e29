"""meritline: evidence-grounded performance reviews and statistically defensible calibration."""

__version__ = "0.1.0"
