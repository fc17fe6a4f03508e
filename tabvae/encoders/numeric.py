"""Numeric and integer columns: a quantile-to-normal transform.

Why quantiles rather than TVAE's mode-specific normalisation (a Bayesian
Gaussian mixture per column)?  Measured on the shared tables the quantile map
gives equal or better column-shape fidelity while fitting in milliseconds
instead of minutes (the mixture fit is what dominates TVAE's preprocessing):

* multi-modal and heavy-tailed columns become one standard-normal dimension
  that a single Gaussian decoder head models well;
* spikes (e.g. the 92 % zeros of ``capital-gain``) map to one z-interval and
  come back exactly, because the inverse map is flat over it;
* the inverse map is bounded by the observed minimum and maximum, so output
  stays in the training range without clipping artefacts.

The map is a piecewise-linear interpolation of ``n_quantiles`` empirical
quantiles (the same construction as scikit-learn's ``QuantileTransformer``),
written with ``np.interp`` so that its whole state is two short float lists
that save to JSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .base import ColumnEncoder, is_missing

N_QUANTILES = 1000
_EPS = 1e-7  # keeps the extreme quantiles at a finite z of about +-5.2
SNAP_LEVELS = 50  # columns with this few distinct values snap to observed values


class NumericEncoder(ColumnEncoder):
    """Quantile-normal encoding of a float or integer column.

    One Gaussian dimension, plus a two-level "is missing" category when the
    column had missing values in training.

    Parameters
    ----------
    spec : ColumnSpec
    clip : bool, default=True
        Keep decoded values within the training min/max.  With ``False``, z
        values beyond the training extremes extrapolate linearly with the slope
        of the outer 1 % of the quantile function.
    """

    def __init__(self, spec, clip: bool = True):
        super().__init__(spec)
        self.clip = clip

    def fit(self, column: pd.Series) -> "NumericEncoder":
        x = _as_float(column)
        x = x[~np.isnan(x)]
        n_q = int(min(N_QUANTILES, max(len(x), 2)))
        self.references_ = np.linspace(0.0, 1.0, n_q)
        self.quantiles_ = np.quantile(x, self.references_)
        # Repeated quantiles must stay sorted for np.interp.
        self.quantiles_ = np.maximum.accumulate(self.quantiles_)
        uniq = np.unique(x)
        self.levels_ = uniq if len(uniq) <= SNAP_LEVELS else None
        self.decimals_ = _decimals(uniq) if self.spec.kind == "numeric" else 0
        self.has_missing_ = bool(np.isnan(_as_float(column)).any())
        self._set_dims()
        return self

    def _set_dims(self):
        self.n_continuous = 1
        self.cardinalities = (2,) if self.has_missing_ else ()

    def transform(self, column: pd.Series):
        x = _as_float(column)
        missing = np.isnan(x)
        q, r = self.quantiles_, self.references_
        # Average of the forward and backward interpolation puts a run of tied
        # values (a spike) in the middle of its quantile interval.
        u = 0.5 * (np.interp(x, q, r) - np.interp(-x, -q[::-1], -r[::-1]))
        z = ndtri(np.clip(u, _EPS, 1 - _EPS))
        z[missing] = 0.0
        cont = z[:, None]
        codes = missing.astype(np.int64)[:, None] if self.has_missing_ else np.zeros((len(x), 0), np.int64)
        return cont, codes

    def inverse_transform(self, continuous, codes, rng):
        z = continuous[:, 0].astype(np.float64)
        u = ndtr(z)
        # The extremes were encoded at u = EPS / 1 - EPS: send them back exactly.
        u = np.where(u >= 1 - 1.01 * _EPS, 1.0, np.where(u <= 1.01 * _EPS, 0.0, u))
        x = np.interp(u, self.references_, self.quantiles_)
        if not self.clip:
            x = self._extrapolate(z, x)
        if self.levels_ is not None:
            x = _snap(x, self.levels_)
        elif self.decimals_ is not None:
            x = np.round(x, self.decimals_)
        missing = codes[:, 0] == 1 if self.has_missing_ else np.zeros(len(x), bool)
        return self._restore(x, missing)

    def _extrapolate(self, z, x):
        q, r = self.quantiles_, self.references_
        z_lo, z_hi = ndtri(_EPS), ndtri(1 - _EPS)
        k = max(1, len(q) // 100)
        slope_hi = (q[-1] - q[-1 - k]) / max(z_hi - ndtri(np.clip(r[-1 - k], _EPS, 1 - _EPS)), 1e-6)
        slope_lo = (q[k] - q[0]) / max(ndtri(np.clip(r[k], _EPS, 1 - _EPS)) - z_lo, 1e-6)
        x = np.where(z > z_hi, q[-1] + (z - z_hi) * slope_hi, x)
        return np.where(z < z_lo, q[0] + (z - z_lo) * slope_lo, x)

    def _restore(self, x: np.ndarray, missing: np.ndarray) -> pd.Series:
        dtype = self.spec.dtype
        if self.spec.kind == "integer":
            x = np.round(x)
            if dtype.startswith(("uint", "UInt")):
                x = np.maximum(x, 0)
        if missing.any():
            if dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
                # Cannot happen for a column fitted without missing values.
                raise RuntimeError(f"column {self.spec.name!r}: missing values in an int column")
            x = x.copy()
            x[missing] = np.nan
        if dtype[0] in "IUF":  # pandas nullable Int64 / UInt8 / Float64 ...
            arr = pd.array(np.where(missing, 0, x), dtype=dtype)
            arr[missing] = pd.NA
            return pd.Series(arr, name=self.spec.name)
        return self.spec.restore_dtype(pd.Series(x))

    def get_state(self):
        return {
            "clip": self.clip,
            "quantiles": self.quantiles_.tolist(),
            "references": self.references_.tolist(),
            "levels": None if self.levels_ is None else self.levels_.tolist(),
            "decimals": self.decimals_,
            "has_missing": self.has_missing_,
        }

    def set_state(self, state):
        self.clip = state["clip"]
        self.quantiles_ = np.asarray(state["quantiles"], float)
        self.references_ = np.asarray(state["references"], float)
        self.levels_ = None if state["levels"] is None else np.asarray(state["levels"], float)
        self.decimals_ = state["decimals"]
        self.has_missing_ = state["has_missing"]
        self._set_dims()
        return self


def _as_float(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="float64", na_value=np.nan)


def _decimals(values: np.ndarray) -> int | None:
    """Fewest decimals (0-6) that represent every observed value, else None."""
    values = values[:10_000]
    for k in range(7):
        scaled = values * 10.0**k
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return k
    return None


def _snap(x: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Replace each value by the nearest observed level."""
    idx = np.clip(np.searchsorted(levels, x), 1, len(levels) - 1)
    left, right = levels[idx - 1], levels[idx]
    return np.where(np.abs(x - left) <= np.abs(right - x), left, right)
