"""Columns with one value (or none at all): reproduced exactly, no network dims."""

from __future__ import annotations

import pandas as pd

from ..schema import python_scalar
from .base import ColumnEncoder, is_missing


class ConstantEncoder(ColumnEncoder):
    """A column holding a single value everywhere, or missing everywhere."""

    def fit(self, column: pd.Series) -> ConstantEncoder:
        present = column[~is_missing(column)]
        value = present.iloc[0] if len(present) else None
        self.value_ = python_scalar(value)
        if isinstance(self.value_, pd.Timestamp):
            self.value_ = self.value_.isoformat()
        return self

    def transform(self, column, extrapolate: bool = False):
        return self._empty(len(column))

    def inverse_transform(self, continuous, codes, rng):
        n = len(continuous)
        if self.value_ is None:
            values = pd.Series([None] * n, dtype=object)
        elif self.spec.kind == "constant" and "datetime" in self.spec.dtype:
            values = pd.Series([pd.Timestamp(self.value_)] * n)
        else:
            values = pd.Series([self.value_] * n, dtype=object)
        if "datetime" in self.spec.dtype and self.value_ is None:
            values = pd.Series(pd.NaT, index=range(n))
        return self.spec.restore_dtype(values)

    def get_state(self):
        return {"value": self.value_}

    def set_state(self, state):
        self.value_ = state["value"]
        return self
