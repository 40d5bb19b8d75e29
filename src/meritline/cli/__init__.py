"""The ``meritline`` command line."""
