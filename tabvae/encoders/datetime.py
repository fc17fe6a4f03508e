"""Datetime columns: a number on the column's own time unit, quantile-encoded.

Values are read as integers of the dtype's unit, modelled with
:class:`NumericEncoder`, rounded on the way back to the coarsest resolution
every training value had (day, hour, second...), and returned in the original
unit and time zone.  A tz-aware column is read in UTC, or in local wall time
where its resolution is coarser there (midnight dates in Europe/Paris are daily
in local time, hourly in UTC), so that local dates come back at local midnight.
Value protection, public bounds and a privacy budget act on those integers
(see :class:`NumericEncoder`); the resolution is read from the data in every
case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import ColumnSpec
from .base import ColumnEncoder, is_missing
from .numeric import NumericEncoder
from .privacy import ColumnBudget

# Candidate resolutions in nanoseconds, coarsest first.
_RESOLUTIONS_NS = [86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1]


class DatetimeEncoder(ColumnEncoder):
    """Quantile encoding of datetimes, tz and unit preserved.

    Parameters
    ----------
    spec : ColumnSpec
    clip : bool, default=True
        Keep decoded values within the training range.
    protection : int, default=0
        Cut the range to the ``protection``-th earliest and latest training
        values (0: off).
    bounds : (low, high) or None, default=None
        Public bounds (datetimes or their text), used instead.
    budget : ColumnBudget or None, default=None
        Fit the map from noisy counts (see :class:`NumericEncoder`).
    """

    def __init__(
        self,
        spec,
        clip: bool = True,
        *,
        protection: int = 0,
        bounds: tuple | None = None,
        budget: ColumnBudget | None = None,
    ):
        super().__init__(spec)
        self.clip = clip
        self.protection = protection
        self.bounds = bounds
        self.budget = budget

    def fit(self, column: pd.Series) -> DatetimeEncoder:
        present = ~is_missing(column)
        self.local_ = False
        self.resolution_ns_ = _resolution(_to_ns(column)[present])
        if getattr(column.dtype, "tz", None) is not None:
            local = _resolution(_to_ns(column, local=True)[present])
            self.local_ = local > self.resolution_ns_
            self.resolution_ns_ = max(local, self.resolution_ns_)
        steps = None if self.bounds is None else tuple(self._as_numeric(pd.Series(list(self.bounds))))
        numeric = self._numeric_encoder(protection=self.protection, bounds=steps, budget=self.budget)
        self._numeric = numeric.fit(self._as_numeric(column))
        self._set_dims()
        return self

    def _numeric_encoder(self, **privacy) -> NumericEncoder:
        spec = ColumnSpec(self.spec.name, "numeric", "float64", self.spec.null_rate)
        return NumericEncoder(spec, clip=self.clip, **privacy)

    def _set_dims(self):
        self.n_continuous = self._numeric.n_continuous
        self.cardinalities = self._numeric.cardinalities
        self.value_gated = self._numeric.value_gated
        self.has_missing_ = self._numeric.has_missing_

    def _as_numeric(self, column: pd.Series) -> pd.Series:
        column = self._as_datetime(column)
        ns = _to_ns(column, self.local_).astype("float64")
        ns[is_missing(column)] = np.nan
        return pd.Series(ns / self.resolution_ns_)

    def _as_datetime(self, column: pd.Series) -> pd.Series:
        """``column`` as datetimes in the column's time zone (a ValueError naming it for values that are not)."""
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            return column
        tz = getattr(pd.api.types.pandas_dtype(self.spec.dtype), "tz", None)
        try:
            values = pd.to_datetime(column, utc=tz is not None)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"Column {self.spec.name!r} holds values that are not datetimes ({err}); it held datetimes in fit."
            ) from None
        return values if tz is None else values.dt.tz_convert(tz)

    def transform(self, column, extrapolate: bool = False):
        return self._numeric.transform(self._as_numeric(column), extrapolate)

    def log_jacobian(self, column) -> np.ndarray:
        """log |dz/dx| per value, x in units of the column's resolution."""
        return self._numeric.log_jacobian(self._as_numeric(column))

    def inverse_transform(self, continuous, codes, rng):
        return self._from_steps(self._numeric.inverse_transform(continuous, codes, rng).to_numpy(float))

    def training_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Earliest and latest value seen in training, in the column's time zone."""
        values = self._from_steps(np.asarray(self._numeric.training_range(), float))
        return values.iloc[0], values.iloc[1]

    def _from_steps(self, steps: np.ndarray) -> pd.Series:
        """Values in units of the resolution (NaN: missing) as the column's datetimes."""
        missing = np.isnan(steps)
        ns = np.where(missing, 0, np.round(steps)).astype(np.int64) * self.resolution_ns_
        values = pd.Series(pd.to_datetime(ns, unit="ns"))
        values[missing] = pd.NaT
        dtype = pd.api.types.pandas_dtype(self.spec.dtype)
        if getattr(dtype, "tz", None) is not None and self.local_:
            values = values.dt.tz_localize(dtype.tz, ambiguous=np.zeros(len(values), bool), nonexistent="shift_forward")
        elif getattr(dtype, "tz", None) is not None:
            values = values.dt.tz_localize("UTC").dt.tz_convert(dtype.tz)
        return values.astype(dtype).rename(self.spec.name)

    def get_state(self):
        return {
            "clip": self.clip,
            "resolution_ns": self.resolution_ns_,
            "local": self.local_,
            "numeric": self._numeric.get_state(),
        }

    def set_state(self, state):
        self.clip = state["clip"]
        self.resolution_ns_ = state["resolution_ns"]
        self.local_ = bool(state.get("local", False))
        self._numeric = self._numeric_encoder().set_state(state["numeric"])
        self._set_dims()
        return self


def _resolution(ns: np.ndarray) -> int:
    """The coarsest of ``_RESOLUTIONS_NS`` that divides every value."""
    return next(r for r in _RESOLUTIONS_NS if np.all(ns % r == 0))


def _to_ns(column: pd.Series, local: bool = False) -> np.ndarray:
    """Integer nanoseconds since the epoch (tz-aware: of UTC, or with ``local`` of the wall time); NaT rows are 0."""
    values = column
    if getattr(column.dtype, "tz", None) is not None:
        values = column.dt.tz_localize(None) if local else column.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = values.to_numpy(dtype="datetime64[ns]").view("int64")
    return np.where(values.isna().to_numpy(), 0, ns)
