"""Columns with one value (or none at all): reproduced exactly, no network dims."""

from __future__ import annotations

import pandas as pd

from ..schema import pandas_dtype, python_scalar
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
        values = pd.Series([self.value_] * n, dtype=object)
        if "datetime" in self.spec.dtype:  # tz-aware: the ISO text carries the offset; all-missing: NaT
            tz = getattr(pandas_dtype(self.spec.dtype), "tz", None)
            values = pd.to_datetime(values, utc=tz is not None)
            values = values if tz is None else values.dt.tz_convert(tz)
        return self.spec.restore_dtype(values)

    def get_state(self):
        return {"value": self.value_}

    def set_state(self, state):
        self.value_ = state["value"]
        return self
