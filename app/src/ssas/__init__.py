"""Smart Student Analytics System."""

__version__ = "0.1.0"
