"""Reversible per-column encoders and the table encoder built from them."""

from .base import ColumnEncoder
from .categorical import CategoricalEncoder
from .constant import ConstantEncoder
from .datetime import DatetimeEncoder
from .numeric import NumericEncoder
from .privacy import PreprocessingBudget
from .table import Layout, TableEncoder, make_encoder

__all__ = [
    "ColumnEncoder",
    "CategoricalEncoder",
    "ConstantEncoder",
    "DatetimeEncoder",
    "NumericEncoder",
    "PreprocessingBudget",
    "Layout",
    "TableEncoder",
    "make_encoder",
]
