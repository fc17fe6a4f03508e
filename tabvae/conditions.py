"""Conditions for ``sample(n, conditions=...)``: parsing, checking, matching.

A condition fixes a column to a value (``{"sex": "Female"}``) or, for numbers
and datetimes, to an inclusive range (``{"age": (30, 40)}``).  Columns named
in ``conditional_columns`` at fit are conditioned inside the network (a
conditional VAE): every row is generated for its condition, no rejection.
Other columns fall back to bounded rejection sampling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def parse(model, conditions) -> dict:
    """Check a ``{column: value or (low, high)}`` dict against the fitted schema.

    Raises a ValueError naming the column for unknown columns, values never
    seen in training, and ranges outside the training range.
    """
    if not isinstance(conditions, dict) or not conditions:
        raise TypeError(
            "conditions must be a non-empty dict {column: value or (low, high)} or a DataFrame "
            f"of per-row conditions, got {type(conditions).__name__}."
        )
    names = model.schema_.names
    out = {}
    for col, value in conditions.items():
        if col not in names:
            raise ValueError(f"Unknown column {col!r} in conditions; columns are {names}.")
        spec, enc = model.schema_[col], model.encoder_.encoders_[col]
        if isinstance(value, (tuple, list)):
            out[col] = _parse_range(col, spec, enc, value)
        elif spec.kind in ("categorical", "boolean", "constant"):
            out[col] = _parse_level(col, enc, value)
        elif spec.kind == "integer" or getattr(enc, "levels_", None) is not None:
            lo, hi = _bounds(spec, enc)
            if pd.isna(value):
                out[col] = value
            elif spec.kind == "integer" and float(value) != round(float(value)):
                raise ValueError(
                    f"Condition {col}={value!r}: {col!r} holds integers; give an integer or a range."
                )
            elif not lo <= value <= hi:
                raise ValueError(
                    f"Condition {col}={value!r} is outside the training range [{lo}, {hi}]."
                )
            else:
                out[col] = value
        else:
            raise ValueError(
                f"Condition {col}={value!r}: {col!r} is continuous, so an exact value is almost "
                f"never produced; give a range instead, e.g. {{{col!r}: ({value!r}, {value!r} + delta)}}."
            )
    return out


def _parse_level(col, enc, value):
    if hasattr(enc, "levels_"):
        seen = list(enc.levels_) + list(enc.rare_levels_)
        if pd.isna(value) if np.ndim(value) == 0 else False:
            if enc.has_missing_:
                return None
            raise ValueError(f"Condition on {col!r}: missing values never occur in training.")
        if value not in seen:
            show = seen[:20]
            raise ValueError(
                f"Condition {col}={value!r}: value never seen in training. Seen values include {show}."
            )
        return value
    if value != enc.value_:
        raise ValueError(f"Condition {col}={value!r}: the column is constant ({enc.value_!r}) in training.")
    return value


def _bounds(spec, enc):
    return (enc._numeric if spec.kind == "datetime" else enc).training_range()


def _parse_range(col, spec, enc, value):
    if spec.kind not in ("numeric", "integer", "datetime") or len(value) != 2:
        raise ValueError(
            f"Condition on {col!r}: a (low, high) range needs a numeric or datetime column and "
            f"two bounds, got {value!r} for a {spec.kind} column."
        )
    lo, hi = value
    if spec.kind == "datetime":
        lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
        if lo > hi:
            raise ValueError(f"Condition on {col!r}: low {lo} is after high {hi}.")
        return (lo, hi)
    if not (np.isscalar(lo) and np.isscalar(hi)) or lo > hi:
        raise ValueError(f"Condition on {col!r}: need low <= high, got {value!r}.")
    tmin, tmax = _bounds(spec, enc)
    if hi < tmin or lo > tmax:
        raise ValueError(
            f"Condition {col} in [{lo}, {hi}] does not overlap the training range [{tmin}, {tmax}]."
        )
    return (lo, hi)


def satisfied(frame: pd.DataFrame, conditions: dict) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that meet every condition."""
    ok = np.ones(len(frame), dtype=bool)
    for col, value in conditions.items():
        s = frame[col]
        if isinstance(value, tuple):
            ok &= (s >= value[0]).fillna(False).to_numpy(bool) & (s <= value[1]).fillna(False).to_numpy(bool)
        elif value is None or (np.ndim(value) == 0 and pd.isna(value)):
            ok &= s.isna().to_numpy()
        else:
            ok &= (s.astype(object) == value).to_numpy(bool)
    return ok


def exact_column(model, col: str, value, n: int) -> pd.Series:
    """A column of ``n`` copies of ``value`` in the column's own dtype."""
    return model.schema_[col].restore_dtype(pd.Series([value] * n, dtype=object))
