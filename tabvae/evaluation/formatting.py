"""Numbers as text (reports, plot titles) and as JSON-safe Python values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def plain(v):
    """A JSON-safe Python scalar: numpy scalars unwrapped, NaN/inf as None."""
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def records(df: pd.DataFrame) -> list:
    return [{str(k): plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def fmt(v) -> str:
    if v is None or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
        return "n/a"
    return f"{float(v):.3f}"


def pct(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"
