"""tabvae: learn a table, write new realistic rows of it."""

from .estimator import TabularVAE
from .persistence import load
from .schema import ColumnSpec, Schema, infer_schema

__version__ = "0.1.0"

__all__ = ["TabularVAE", "load", "Schema", "ColumnSpec", "infer_schema", "__version__"]
