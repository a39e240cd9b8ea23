"""The package's version (its own module, so that any module can read it without
importing the package, which imports them)."""

__version__ = "0.1.0"
