"""Rules on numbers and datetimes: :class:`Inequality` and :class:`Range`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, python_scalar
from .base import Conditions, Constraint
from .values import column_from_json, column_to_json, fresh_name

# Candidate units of a datetime gap in nanoseconds, coarsest first: day, hour, minute, second, ms, us, ns.
GAP_UNITS_NS = (86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)


def _kind(s: pd.Series) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return "integer" if pd.api.types.is_integer_dtype(s.dtype) else "numeric"
    return None


def _floats(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _ns(gap: pd.Series) -> np.ndarray:
    """Timedeltas as int64 nanoseconds (NaT as 0; mask them separately)."""
    return gap.to_numpy(dtype="timedelta64[ns]").astype(np.int64)


class Inequality(Constraint):
    """``low <= high`` (``low < high`` with ``strict``) on every row where both are present.

    For two numeric columns where ``low`` is positive in every training row
    with both present, ``high`` is modelled as the ratio ``high / low`` and
    restored as ``low * max(ratio, floor)``: floor 1, and with ``strict`` the
    smallest training ratio above 1.  Otherwise (``low`` zero or negative in
    some row, or datetimes) ``high`` is modelled as the gap ``high - low``
    (for datetimes, a whole number of the coarsest unit, day to nanosecond,
    that every training gap is a multiple of) and restored as
    ``low + max(gap, floor)``: floor 0, and with ``strict`` the smallest
    positive training gap.  A ``high`` with whole values is rounded and, where
    rounding breaks the rule, raised to the smallest whole value that keeps
    it; a sampled ``low`` at or below zero under a ratio gets
    ``low + |low| (ratio - 1)``.  A missing ``high`` stays missing; where
    ``low`` is missing and ``high`` is not, ``high`` is modelled as itself in
    an extra column (there is then no rule to keep).  Float columns
    round-trip up to floating-point rounding; integers and datetimes exactly.

    Parameters
    ----------
    low, high : str
        Two numeric columns, or two datetime columns (both with or both without a time zone).
    strict : bool, default=False
    """

    params = ("low", "high", "strict")

    def __init__(self, low: str, high: str, strict: bool = False):
        self.low, self.high, self.strict = low, high, strict

    def column_names(self) -> list[str]:
        if not (isinstance(self.low, str) and isinstance(self.high, str)) or self.low == self.high:
            raise ValueError(f"{self!r}: low and high must be two different column names.")
        if not isinstance(self.strict, bool):
            raise TypeError(f"{self!r}: strict must be True or False, got {self.strict!r}.")
        return [self.low, self.high]

    def reads(self) -> list[str]:
        return [self.low]

    def owns(self) -> list[str]:
        return [self.high]

    def fit(self, df: pd.DataFrame, specs: dict[str, ColumnSpec]) -> Inequality:
        kinds = {c: _kind(df[c]) for c in self.column_names()}
        if None in kinds.values() or (kinds[self.low] == "datetime") != (kinds[self.high] == "datetime"):
            raise ValueError(
                f"{self!r} needs two numeric or two datetime columns; got dtypes "
                f"{df[self.low].dtype} and {df[self.high].dtype}."
            )
        naive = [getattr(df[c].dtype, "tz", None) is None for c in self.column_names()]
        if kinds[self.low] == "datetime" and naive[0] != naive[1]:
            raise ValueError(f"{self!r}: one column has a time zone and the other has not; localize both.")
        super().fit(df, specs)
        self.datetime_ = kinds[self.low] == "datetime"
        self.whole_ = kinds[self.high] in ("integer", "datetime")  # high takes whole values
        self.integer_ = self.datetime_ or set(kinds.values()) == {"integer"}  # whole gaps, exact arithmetic
        both = (df[self.low].notna() & df[self.high].notna()).to_numpy()
        self.unit_ns_ = 1
        if self.datetime_:
            ns = _ns(df[self.high] - df[self.low])[both]
            self.unit_ns_ = next(u for u in GAP_UNITS_NS if np.all(ns % u == 0))
        self.ratio_ = False
        if not self.datetime_:
            lows, highs = _floats(df[self.low])[both], _floats(df[self.high])[both]
            exact = not self.integer_ or not len(highs) or np.abs(highs).max() < 2**50  # integers restore exactly
            self.ratio_ = bool(len(lows)) and bool(np.all(lows > 0)) and bool(exact)
        spreads = _floats(self.spreads(df))[both]
        above = spreads[spreads > self.neutral_]
        self.floor_ = (float(above.min()) if len(above) else self.neutral_ + 1) if self.strict else self.neutral_
        self.extra_ = None
        if (df[self.low].isna() & df[self.high].notna()).any():
            self.extra_ = fresh_name(f"{self.high} (no {self.low})", df.columns)
        self.fallback_ = df[self.high].dropna().iloc[[len(df[self.high].dropna()) // 2]].reset_index(drop=True)
        return self

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        low, high = df[self.low], df[self.high]
        bad = (high <= low) if self.strict else (high < low)
        return bad.fillna(False).to_numpy(bool)

    @property
    def neutral_(self) -> float:
        """The modelled value of ``high == low``: 1 for a ratio, 0 for a gap."""
        return 1.0 if self.ratio_ else 0.0

    def spreads(self, df: pd.DataFrame) -> pd.Series:
        """The modelled ``high`` per row, missing unless both are present.

        ``high / low`` for a ratio, else ``high - low`` (datetimes: in units of ``unit_ns_``).
        """
        if self.ratio_:
            return pd.Series(_floats(df[self.high]) / _floats(df[self.low]), index=df.index)
        if self.datetime_:
            diff = df[self.high] - df[self.low]
            out = pd.Series(_ns(diff) // self.unit_ns_, index=df.index).astype("Int64")
            return out.mask(diff.isna().to_numpy())
        if self.integer_:
            return df[self.high].astype("Int64") - df[self.low].astype("Int64")
        return pd.Series(_floats(df[self.high]) - _floats(df[self.low]), index=df.index)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        spreads = self.spreads(df)
        if self.integer_ and not self.ratio_ and not spreads.isna().any():
            spreads = spreads.astype("int64")
        out = df.assign(**{self.high: spreads})
        if self.extra_ is not None:
            alone = df[self.high].astype("Int64") if self.whole_ and not self.datetime_ else df[self.high]
            out.insert(list(out.columns).index(self.high) + 1, self.extra_, alone.where(df[self.low].isna()))
        return out

    def inverse_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        low, high = df[self.low], self._restore(df[self.low], df[self.high])
        if self.extra_ is not None:
            high = high.where(low.notna(), df[self.extra_])
        spec = self.specs_[self.high]
        if spec.null_rate == 0:  # the training column had no missing value; neither will the output
            high = high.fillna(self._restore(low, pd.Series(self.floor_, index=df.index)))
            high = high.fillna(self.fallback_.iloc[0])
        out = df.drop(columns=[self.extra_]) if self.extra_ is not None else df
        return out.assign(**{self.high: spec.restore_dtype(high)})

    def _restore(self, low: pd.Series, spread: pd.Series) -> pd.Series:
        """``high`` from ``low`` and the modelled value raised to the floor, whole where ``high`` is."""
        if self.integer_ and not self.ratio_:
            whole = spread.astype("Int64") if pd.api.types.is_integer_dtype(spread.dtype) else spread.round()
            whole = whole.astype("Int64").clip(lower=int(np.ceil(self.floor_)))
            if self.datetime_:
                return low + pd.to_timedelta(whole * self.unit_ns_, unit="ns")
            return low.astype("Int64") + whole
        lo, v = _floats(low), _floats(spread)
        v = np.where(np.isnan(v), v, np.maximum(v, self.floor_))
        high = np.where(lo > 0, lo * v, lo + np.abs(lo) * (v - 1)) if self.ratio_ else lo + v
        if self.whole_:
            high = np.round(high)
            lowest = np.floor(lo) + 1 if self.strict else np.ceil(lo)
            high = np.where(high < lowest, lowest, high)
        elif self.strict:
            high = np.where(high <= lo, np.nextafter(lo, np.inf), high)
        return pd.Series(high, index=low.index)

    def translate(self, conditions: Conditions) -> Conditions:
        if self.high not in conditions:
            return conditions
        cond, base = conditions[self.high], conditions.get(self.low)  # type: Any, Any
        one_base = base is not None and not isinstance(base, (tuple, set, frozenset)) and not pd.isna(base)
        modelled = f"the ratio {self.high} / {self.low}" if self.ratio_ else f"the gap {self.high} - {self.low}"
        if not one_base or isinstance(cond, (set, frozenset)) or (not isinstance(cond, tuple) and pd.isna(cond)):
            raise ValueError(
                f"Condition on {self.high!r} cannot be translated exactly: {self!r} models it as "
                f"{modelled}. Also fix {self.low!r} to one value, or filter the sampled rows."
            )
        if self.ratio_ and not base > 0:
            raise ValueError(
                f"Condition {self.low}={base!r} cannot be translated: {self!r} models {self.high!r} as "
                f"{modelled}, and {self.low!r} was positive in every training row; condition on a positive value."
            )
        bounds = cond if isinstance(cond, tuple) else (cond,)
        if self.datetime_:
            spreads = tuple((pd.Timestamp(b) - pd.Timestamp(base)).value / self.unit_ns_ for b in bounds)
        elif self.ratio_:
            spreads = tuple(python_scalar(b / base) for b in bounds)
        else:
            spreads = tuple(python_scalar(b - base) for b in bounds)
        if max(spreads) < self.floor_ or (self.strict and max(spreads) <= self.neutral_):
            raise ValueError(
                f"Conditions cannot be met: {self.high}={cond!r} with {self.low}={base!r} breaks {self!r}."
            )
        return {**conditions, self.high: spreads if isinstance(cond, tuple) else spreads[0]}

    def fitted_state(self) -> dict[str, Any]:
        return {
            "datetime": self.datetime_,
            "whole": self.whole_,
            "integer": self.integer_,
            "ratio": self.ratio_,
            "unit_ns": self.unit_ns_,
            "floor": self.floor_,
            "extra": self.extra_,
            "fallback": column_to_json(self.fallback_),
        }

    def restore(self, fitted: dict[str, Any], specs: dict[str, ColumnSpec]) -> None:
        super().restore(fitted, specs)
        self.datetime_, self.whole_, self.integer_ = fitted["datetime"], fitted["whole"], fitted["integer"]
        self.unit_ns_, self.floor_, self.extra_ = fitted["unit_ns"], fitted["floor"], fitted["extra"]
        self.ratio_ = fitted.get("ratio", False)  # a state without the key models a gap
        self.fallback_ = column_from_json(fitted["fallback"], specs[self.high])

    def __repr__(self) -> str:
        return f"Inequality({self.low!r} {'<' if self.strict else '<='} {self.high!r})"


class Range(Constraint):
    """Values of ``column`` lie in ``[low, high]``; sampled values are clipped to it.

    Parameters
    ----------
    column : str
        A numeric or datetime column.
    low, high : number, datetime string or None
        Inclusive bounds; None leaves that side open.
    """

    params = ("column", "low", "high")

    def __init__(self, column: str, low: Any = None, high: Any = None):
        self.column, self.low, self.high = column, low, high

    def column_names(self) -> list[str]:
        if not isinstance(self.column, str):
            raise TypeError(f"Range: column must be a column name, got {self.column!r}.")
        if self.low is None and self.high is None:
            raise ValueError(f"{self!r}: give low, high or both.")
        return [self.column]

    def reads(self) -> list[str]:
        return [self.column]

    def writes(self) -> list[str]:
        return [self.column]

    def _bounds(self, s: pd.Series) -> tuple[Any, Any]:
        kind = _kind(s)
        if kind is None:
            raise ValueError(f"{self!r} needs a numeric or datetime column; {self.column!r} has dtype {s.dtype}.")
        if kind == "datetime":
            tz = getattr(s.dtype, "tz", None)
            stamp = [None if b is None else pd.Timestamp(b) for b in (self.low, self.high)]
            bounds = [b.tz_localize(tz) if b is not None and tz is not None and b.tz is None else b for b in stamp]
        else:
            bounds = [self.low, self.high]
            if kind == "integer":
                bounds = [
                    None if bounds[0] is None else np.ceil(bounds[0]),
                    None if bounds[1] is None else np.floor(bounds[1]),
                ]
        low, high = bounds
        if low is not None and high is not None and low > high:
            raise ValueError(f"{self!r}: low is above high.")
        return low, high

    def violations(self, df: pd.DataFrame) -> np.ndarray:
        low, high = self._bounds(df[self.column])
        s = df[self.column]
        bad = pd.Series(False, index=df.index)
        bad |= (s < low).fillna(False) if low is not None else False
        bad |= (s > high).fillna(False) if high is not None else False
        return bad.to_numpy(bool)

    def inverse_transform(self, df: pd.DataFrame) -> pd.DataFrame:
        low, high = self._bounds(df[self.column])
        clipped = df[self.column].clip(low, high)
        return df.assign(**{self.column: self.specs_[self.column].restore_dtype(clipped)})

    def fit(self, df: pd.DataFrame, specs: dict[str, ColumnSpec]) -> Range:
        self.bounds_ = self._bounds(df[self.column])
        return super().fit(df, specs)  # type: ignore[return-value]

    def translate(self, conditions: Conditions) -> Conditions:
        cond = conditions.get(self.column)
        if cond is None or isinstance(cond, (set, frozenset)):
            return conditions
        lo, hi = cond if isinstance(cond, tuple) else (cond, cond)
        low, high = self.bounds_
        bound = high if low is None else low
        if isinstance(bound, pd.Timestamp):
            lo, hi = (pd.Timestamp(v) for v in (lo, hi))
            tz = bound.tz
            lo, hi = (v.tz_localize(tz) if tz is not None and v.tz is None else v for v in (lo, hi))
        if (low is not None and hi < low) or (high is not None and lo > high):
            raise ValueError(f"Conditions cannot be met: {self.column}={cond!r} lies outside {self!r}.")
        return conditions

    def restore(self, fitted: dict[str, Any], specs: dict[str, ColumnSpec]) -> None:
        super().restore(fitted, specs)
        self.bounds_ = self._bounds(specs[self.column].restore_dtype(pd.Series([], dtype=object)))
