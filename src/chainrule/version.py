"""The version of chainrule."""

__version__ = "0.1.0"
