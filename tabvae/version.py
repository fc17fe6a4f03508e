"""The version of tabvae."""

__version__ = "0.1.0"
