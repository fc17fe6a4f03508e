"""Reversible per-column encoders and the table encoder built from them."""

from .base import ColumnEncoder
from .categorical import CategoricalEncoder
from .constant import ConstantEncoder
from .datetime import DatetimeEncoder
from .numeric import NumericEncoder
from .table import Layout, TableEncoder, make_encoder

__all__ = [
    "ColumnEncoder",
    "CategoricalEncoder",
    "ConstantEncoder",
    "DatetimeEncoder",
    "NumericEncoder",
    "Layout",
    "TableEncoder",
    "make_encoder",
]
