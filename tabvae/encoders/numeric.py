"""Numeric and integer columns: a quantile-to-normal transform.

The quantile map is used rather than a Gaussian mixture per column (TVAE's
mode-specific normalisation) for its speed (``docs/decisions/quantile-map.md``),
and it has properties that matter for the model:

* multi-modal and heavy-tailed columns become one standard-normal dimension
  that a single Gaussian decoder head models well;
* a dominant spike is a state of its own: when the most frequent value holds
  at least ``SPIKE_SHARE`` (90 %) of the rows (e.g. the zeros of an amount),
  a small categorical part says "spike or not" and the quantile map covers
  the other values.  Inside one Gaussian dimension such a spike would pull the
  decoder's standard deviation down and leave the rare other values
  unsampled; as a state they get a probability of their own
  (``docs/decisions/quantile-map.md``);
* smaller spikes map to one z-interval and come back exactly, because the
  inverse map is flat over it;
* the inverse map is bounded by the observed minimum and maximum, so output
  stays in the training range without clipping artefacts.  With value
  protection (``protection=k``) the values are first clipped to their
  ``k``-th smallest and ``k``-th largest, so the raw extremes are neither
  emitted nor stored (``docs/decisions/value-protection.md``); public
  ``bounds`` clip them too, and under a privacy ``budget`` the map is read
  from a noisy histogram between them (:mod:`.privacy`).

A column of few, often repeated values on a sparse grid is *discrete*
instead: one categorical part over its values (a code for each value seen
``DISCRETE_MIN_COUNT`` times, one "other" code for the rarer ones, which
are drawn from their training frequencies), no Gaussian dimension.
Discrete means at most ``discrete_levels`` distinct values, each seen
``DISCRETE_MIN_COUNT`` times on average, that fill less than
``DISCRETE_MAX_FILL`` of the grid their smallest gap spans, such as amounts
of 0, 7,298, 7,688 and 15,024.  Through the quantile map Gaussian noise would
blur the exact amounts a downstream model splits on; as codes they come back
exactly (``docs/decisions/sparse-grid-codes.md``).  Dense grids (``age``, ``hours-per-week``, an hour of the day) stay
on the map: there, neighbouring values are alike, which codes would forget
(reconstructions and embeddings keep the order).

The map is a piecewise-linear interpolation of ``n_quantiles`` empirical
quantiles (the same construction as scikit-learn's ``QuantileTransformer``),
written with ``np.interp`` so that its whole state is two short float lists
that save to JSON.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..schema import pandas_dtype
from .base import ColumnEncoder, code_missing, missing_rows
from .privacy import ColumnBudget, private_bounds, private_quantiles, protected_range
from .smoothing import smoothed_quantiles

N_QUANTILES = 1000
_EPS = 1e-7  # keeps the extreme quantiles at a finite z of about +-5.2
SNAP_LEVELS = 50  # columns with this few distinct values snap to observed values
SPIKE_SHARE = 0.9  # a value this frequent gets a categorical state of its own
DISCRETE_MIN_COUNT = 10  # a discrete column's values are each seen this often on average,
# and a value seen this often has a code of its own
DISCRETE_MAX_FILL = 0.25  # ... and fill less than this share of the grid of their smallest gap
_HUGE = 2.0**1000  # values beyond this are scaled down (by a power of two, exactly) before interpolating
_HUGE_SCALE = 2.0**-24


class NumericEncoder(ColumnEncoder):
    """Quantile-normal encoding of a float or integer column.

    One Gaussian dimension, plus a categorical *state* part when the column
    had missing values or a spike in training: its levels are "value", then
    "missing" and "spike" where present.  Missing and spike rows encode their
    Gaussian dimension as 0, a placeholder that ``value_gated`` tells the
    model to leave out of the Gaussian likelihood.

    A discrete column (see the module docstring) is one categorical part
    instead: a code per frequent value, then "other" (the rare values) and
    "missing" where present.

    Parameters
    ----------
    spec : ColumnSpec
    clip : bool, default=True
        Keep decoded values within the training min/max.  With ``False``, z
        values beyond the training extremes extrapolate linearly with the slope
        of the outer 1 % of the quantile function (discrete columns always
        decode to observed values).
    discrete_levels : int, default=0
        Model a column with at most this many distinct values (each seen
        ``DISCRETE_MIN_COUNT`` times on average, on a sparse grid) as codes;
        0: never.
    protection : int, default=0
        Clip the training values to their ``protection``-th smallest and
        largest before fitting (0: off), so the range of decoded values, the
        map and the saved state hold no rarer extreme.
    bounds : (low, high) or None, default=None
        Public bounds: the training values are clipped to them too (to the
        protected ends where those lie inside); under a ``budget`` they are
        the range.
    budget : ColumnBudget or None, default=None
        Fit the map from a noisy histogram between ``bounds`` (or bounds
        found by a noisy histogram, for half the budget): no spike, no
        discrete codes, no snapping to observed values, no rounding to the
        data's decimals, and whether the column has missing values is read
        from the schema.
    """

    def __init__(
        self,
        spec,
        clip: bool = True,
        discrete_levels: int = 0,
        *,
        protection: int = 0,
        bounds: tuple | None = None,
        budget: ColumnBudget | None = None,
    ):
        super().__init__(spec)
        self.clip = clip
        self.discrete_levels = discrete_levels
        self.protection = protection
        self.bounds = bounds
        self.budget = budget

    def fit(self, column: pd.Series) -> NumericEncoder:
        if self.budget is not None:
            return self._fit_private(column)
        x = _as_float(column)
        x = x[~np.isnan(x)]
        present = column.dropna()
        limits = self._limits(present)
        if limits is not None:
            x = np.clip(x, float(limits[0]), float(limits[1]))
        self.discrete_ = _is_discrete(x, self.discrete_levels)
        self.spike_ = None if self.discrete_ else _spike(x)
        if self.spike_ is not None:
            x = x[x != self.spike_]
        n_q = int(min(N_QUANTILES, max(len(x), 2)))
        self.references_ = np.linspace(0.0, 1.0, n_q)
        scale = _scale(x)
        self.quantiles_ = smoothed_quantiles(x * scale, self.references_) / scale
        # Repeated quantiles must stay sorted for np.interp.
        self.quantiles_ = np.maximum.accumulate(self.quantiles_)
        uniq = np.unique(x)
        gaps = np.diff(uniq)
        self.min_gap_ = float(gaps.min()) if len(gaps) else 1.0
        self.levels_ = uniq if len(uniq) <= SNAP_LEVELS or self.discrete_ else None
        # Share of each level, for the probability mass of discrete columns in log_jacobian.
        self.level_probs_ = (np.unique(x, return_counts=True)[1] / len(x)) if self.levels_ is not None else None
        self.decimals_ = _decimals(uniq) if self.spec.kind == "numeric" else 0
        self.has_missing_ = bool(np.isnan(_as_float(column)).any())
        self.n_values_ = len(x)
        exact = self.spec.kind == "integer" and len(present)
        lo, hi = limits if limits is not None else (present.min(), present.max()) if exact else (0, 0)
        self.int_range_ = _int_range(lo, hi) if exact else None
        self._set_dims()
        return self

    def _limits(self, present: pd.Series) -> tuple | None:
        """The range the training values are clipped to: the protected ends within the public bounds, or None."""
        limits = protected_range(present, self.protection) if self.protection and len(present) else None
        if self.bounds is None:
            return limits
        if limits is None:
            return tuple(self.bounds)
        lo, hi = max(self.bounds[0], limits[0]), min(self.bounds[1], limits[1])
        return (lo, hi) if lo <= hi else tuple(self.bounds)

    def _fit_private(self, column: pd.Series) -> NumericEncoder:
        """Fit from a noisy histogram (see ``budget``)."""
        x, budget = _as_float(column), self.budget
        assert budget is not None  # only called under a budget
        x, bounds_budget = x[~np.isnan(x)], dataclasses.replace(budget, epsilon=budget.epsilon / 2)
        try:
            lo, hi = self.bounds if self.bounds is not None else private_bounds(x, bounds_budget.epsilon, budget.rng)
        except ValueError as err:
            raise ValueError(f"Column {self.spec.name!r}: {err}") from None
        integer = self.spec.kind == "integer"
        if integer:
            lo, hi = _int_range(lo, hi)
        histogram = budget if self.bounds is not None else bounds_budget
        self.quantiles_ = private_quantiles(x, (float(lo), float(hi)), histogram, N_QUANTILES)
        self.references_ = np.linspace(0.0, 1.0, N_QUANTILES)
        self.discrete_, self.spike_, self.levels_, self.level_probs_ = False, None, None, None
        self.min_gap_ = (float(hi) - float(lo)) / budget.bins or 1.0
        self.decimals_ = 0 if integer else None
        self.has_missing_ = self.spec.null_rate > 0
        self.n_values_ = 0
        self.int_range_ = [int(lo), int(hi)] if integer else None
        self._set_dims()
        return self

    def _set_dims(self):
        if self.discrete_:  # a code per frequent value, then "other" and "missing" where present
            self.n_continuous, self.spike_code_, self.value_gated = 0, None, False
            counts = np.rint(self.level_probs_ * self.n_values_)
            frequent = counts >= DISCRETE_MIN_COUNT
            n_frequent, has_other = int(frequent.sum()), not frequent.all()
            self.other_code_ = n_frequent if has_other else None
            self.missing_code_ = n_frequent + has_other if self.has_missing_ else None
            self.cardinalities = (n_frequent + has_other + self.has_missing_,)
            self._level_code = np.where(frequent, np.cumsum(frequent) - 1, n_frequent)  # level -> code
            self._code_level = np.flatnonzero(frequent)  # code -> level
            self._rare = np.flatnonzero(~frequent)
            self._code_probs = np.append(self.level_probs_[frequent], self.level_probs_[~frequent].sum())
            return
        self.n_continuous = 1
        self.missing_code_ = 1 if self.has_missing_ else None
        self.spike_code_ = 1 + self.has_missing_ if self.spike_ is not None else None
        n_states = 1 + self.has_missing_ + (self.spike_ is not None)
        self.cardinalities = (n_states,) if n_states > 1 else ()
        self.value_gated = n_states > 1

    def training_range(self) -> tuple[float, float]:
        """Smallest and largest value seen in training (the quantile map's ends, or the spike)."""
        lo, hi = float(self.quantiles_[0]), float(self.quantiles_[-1])
        if self.spike_ is None:
            return lo, hi
        return min(lo, self.spike_), max(hi, self.spike_)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        q, r = self.quantiles_, self.references_
        x, q = x * (s := _scale(q)), q * s
        # Average of the forward and backward interpolation puts a run of tied
        # values (a spike) in the middle of its quantile interval.
        return 0.5 * (np.interp(x, q, r) - np.interp(-x, -q[::-1], -r[::-1]))

    def _tail_slopes(self) -> tuple[float, float]:
        """dx/dz of the outer 1 % of the map, low and high side."""
        q, r = self.quantiles_, self.references_
        z_lo, z_hi = ndtri(_EPS), ndtri(1 - _EPS)
        k = max(1, len(q) // 100)
        hi = (q[-1] - q[-1 - k]) / max(z_hi - ndtri(np.clip(r[-1 - k], _EPS, 1 - _EPS)), 1e-6)
        lo = (q[k] - q[0]) / max(ndtri(np.clip(r[k], _EPS, 1 - _EPS)) - z_lo, 1e-6)
        floor = self.min_gap_ / 10  # a constant column still has a usable slope
        return max(lo, floor), max(hi, floor)

    def transform(self, column: pd.Series, extrapolate: bool = False):
        """Encode; with ``extrapolate``, values beyond the training range continue
        linearly past the extreme z (so "far outside" stays far, for scoring)."""
        x = _as_float(column)
        if self.discrete_:  # an unseen value takes its nearest value's code (log_jacobian prices it)
            assert self.levels_ is not None  # a discrete column keeps its values
            codes = self._level_code[_nearest(np.nan_to_num(x), self.levels_)]
            return np.zeros((len(x), 0)), code_missing(codes, np.isnan(x), self.missing_code_)[:, None]
        state = self._state(x)
        z = ndtri(np.clip(self._cdf(x), _EPS, 1 - _EPS))
        if extrapolate:
            (lo, hi), q = self._tail_slopes(), self.quantiles_
            z = np.where(x > q[-1], ndtri(1 - _EPS) + (x - q[-1]) / hi, z)
            z = np.where(x < q[0], ndtri(_EPS) + (x - q[0]) / lo, z)
        z[state > 0] = 0.0
        codes = state[:, None] if self.cardinalities else np.zeros((len(x), 0), np.int64)
        return z[:, None], codes

    def _state(self, x: np.ndarray) -> np.ndarray:
        """(n,) state code of each value: 0 a value, else the missing or spike code."""
        state = np.zeros(len(x), np.int64)
        if self.spike_ is not None:
            state[x == self.spike_] = self.spike_code_
        return code_missing(state, np.isnan(x), self.missing_code_, absent=0)

    def inverse_transform(self, continuous, codes, rng):
        if self.discrete_:
            code = codes[:, 0]
            missing = missing_rows(codes, self.missing_code_)
            x = self.levels_[self._code_level[np.clip(code, 0, len(self._code_level) - 1)]]
            other = code == self.other_code_ if self.other_code_ is not None else np.zeros(len(code), bool)
            if other.any():  # a rare value, drawn from the rare values' training frequencies
                p = self.level_probs_[self._rare]
                x[other] = self.levels_[self._rare[rng.choice(len(p), size=int(other.sum()), p=p / p.sum())]]
            return self._restore(x, missing)
        z = continuous[:, 0].astype(np.float64)
        u = ndtr(z)
        # The extremes were encoded at u = EPS / 1 - EPS: send them back exactly.
        u = np.where(u >= 1 - 1.01 * _EPS, 1.0, np.where(u <= 1.01 * _EPS, 0.0, u))
        scale = _scale(self.quantiles_)
        x = np.interp(u, self.references_, self.quantiles_ * scale) / scale
        if not self.clip:
            x = self._extrapolate(z, x)
        if self.levels_ is not None:
            x = _snap(x, self.levels_)
        elif self.decimals_ is not None:
            x = np.round(x, self.decimals_)
        if self.spike_ is not None:
            x = np.where(codes[:, 0] == self.spike_code_, self.spike_, x)
        return self._restore(x, missing_rows(codes, self.missing_code_))

    def _extrapolate(self, z, x):
        (lo, hi), q = self._tail_slopes(), self.quantiles_
        z_lo, z_hi = ndtri(_EPS), ndtri(1 - _EPS)
        x = np.where(z > z_hi, q[-1] + (z - z_hi) * hi, x)
        return np.where(z < z_lo, q[0] + (z - z_lo) * lo, x)

    def log_jacobian(self, column: pd.Series) -> np.ndarray:
        """log |dz/dx| of each value (0 where missing or at the spike), to turn a density of z
        into a density in the column's own units: log p(x) = log p(z) + log |dz/dx|.

        Continuous columns use the slope of the empirical CDF (a finite
        difference over 0.1 % of the range), so log p(x) is a density per unit.
        Columns with at most 50 distinct values are discrete: the term is
        log P(X = x) - log phi(z), so log p(x) is a probability mass and a rare
        level scores low wherever it sits (an unseen value counts as seen once).
        Beyond the training range the slope is the extrapolated tail's.
        A discrete column's codes are already a probability mass: the term is 0
        for observed values, and an unseen one is priced as seen once, relative
        to the level whose code it took, and beyond the range also by the
        extrapolated tail.
        """
        x = _as_float(column)
        missing = np.isnan(x)
        q = self.quantiles_
        if self.discrete_:
            return np.where(missing, 0.0, self._unseen_penalty(x))
        u = np.clip(self._cdf(x), _EPS, 1 - _EPS)
        if self.level_probs_ is not None:
            assert self.levels_ is not None  # level shares are kept with the levels
            idx = np.clip(np.searchsorted(self.levels_, x), 0, len(self.levels_) - 1)
            seen = self.levels_[idx] == x
            n = 1 / self.level_probs_.min() if len(self.level_probs_) else 1.0
            mass = np.where(seen, self.level_probs_[idx], 1 / (n + 1))
            log_dz_dx = np.log(mass) - _log_phi(ndtri(u))
        else:
            h = max((q[-1] - q[0]) * 1e-3, 1e-12)
            du_dx = (self._cdf(x + h) - self._cdf(x - h)) / (2 * h)
            log_dz_dx = np.log(np.maximum(du_dx, 1e-300)) - _log_phi(ndtri(u))
        lo, hi = self._tail_slopes()
        log_dz_dx = np.where(x > q[-1], -np.log(hi), log_dz_dx)
        log_dz_dx = np.where(x < q[0], -np.log(lo), log_dz_dx)
        # Missing and spike rows: their probability is the state part's.
        return np.where(missing | (self._state(x) > 0), 0.0, log_dz_dx)

    def _unseen_penalty(self, x: np.ndarray) -> np.ndarray:
        """log P(value | its code): 0 for a frequent value, its share of "other" for a rare one,
        and for an unseen one log P(seen once) - log P(the code it took), plus the tail beyond the range."""
        assert self.levels_ is not None and self.level_probs_ is not None  # a discrete column keeps its values
        idx = _nearest(np.nan_to_num(x), self.levels_)
        seen = self.levels_[idx] == x
        code_p = self._code_probs[self._level_code[idx]]
        within = np.log(self.level_probs_[idx]) - np.log(code_p)  # 0 unless the code is "other"
        unseen = np.log(1 / (self.n_values_ + 1)) - np.log(code_p)
        (lo, hi), q, z_edge = self._tail_slopes(), self.quantiles_, ndtri(1 - _EPS)
        beyond = np.where(x > q[-1], (x - q[-1]) / hi, np.where(x < q[0], (q[0] - x) / lo, 0.0))
        tail = _log_phi(z_edge + beyond) - _log_phi(z_edge)
        return np.where(seen, within, unseen + tail)

    def _restore(self, x: np.ndarray, missing: np.ndarray) -> pd.Series:
        """Decoded floats as the column's dtype, inside the dtype's range (and the training range for
        clipped integers, exact even beyond float precision)."""
        dtype = pandas_dtype(self.spec.dtype)
        np_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))
        if np_dtype.kind in "iu":
            if missing.any() and isinstance(dtype, np.dtype):
                # Cannot happen for a column fitted without missing values.
                raise RuntimeError(f"column {self.spec.name!r}: missing values in an int column")
            limits = self.int_range_ if self.clip and self.int_range_ is not None else None
            values = _to_int(np.where(missing, 0, x), np_dtype, limits)
            if isinstance(dtype, np.dtype):
                return pd.Series(values, name=self.spec.name)
            arr = pd.array(values, dtype=dtype)
            arr[missing] = pd.NA
            return pd.Series(arr, name=self.spec.name)
        if np_dtype.kind == "f":  # no inf from values beyond the dtype's range
            info = np.finfo(np_dtype)
            x = np.clip(x, float(info.min), float(info.max))
        if missing.any():
            x = x.copy()
            x[missing] = np.nan
        if self.spec.dtype[0] in "F":  # pandas nullable Float64 / Float32
            arr = pd.array(np.where(missing, 0, x), dtype=self.spec.dtype)
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
            "min_gap": self.min_gap_,
            "level_probs": None if self.level_probs_ is None else self.level_probs_.tolist(),
            "spike": self.spike_,
            "discrete": self.discrete_,
            "n_values": self.n_values_,
            "discrete_levels": self.discrete_levels,
            "int_range": self.int_range_,
            "protection": self.protection,
        }

    def set_state(self, state):
        self.clip = state["clip"]
        self.quantiles_ = np.asarray(state["quantiles"], float)
        self.references_ = np.asarray(state["references"], float)
        self.levels_ = None if state["levels"] is None else np.asarray(state["levels"], float)
        self.decimals_ = state["decimals"]
        self.has_missing_ = state["has_missing"]
        self.min_gap_ = state["min_gap"]
        self.level_probs_ = None if state["level_probs"] is None else np.asarray(state["level_probs"], float)
        self.spike_ = state["spike"]
        self.discrete_ = state["discrete"]
        self.n_values_ = state["n_values"]
        self.discrete_levels = state["discrete_levels"]
        self.int_range_ = state.get("int_range")
        self.protection = state.get("protection", 0)
        self._set_dims()
        return self


def _is_discrete(x: np.ndarray, max_levels: int) -> bool:
    """Few, often repeated values that leave most of their grid empty (see the module docstring)."""
    values = np.unique(x)
    if not 2 <= len(values) <= max_levels or len(values) * DISCRETE_MIN_COUNT > len(x):
        return False
    grid = (values[-1] - values[0]) / np.diff(values).min() + 1
    return bool(len(values) < DISCRETE_MAX_FILL * grid)


def _spike(x: np.ndarray) -> float | None:
    """The most frequent of the (non-missing) values ``x`` if it holds ``SPIKE_SHARE`` of them
    and at least two other values remain for the quantile map, else None."""
    if len(x) == 0:
        return None
    values, counts = np.unique(x, return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] < SPIKE_SHARE * len(x) or len(x) - counts[top] < 2:
        return None
    return float(values[top])


def _scale(values: np.ndarray) -> float:
    """A power of two that brings ``values`` well inside the float range (1 for ordinary values), so
    differences and slopes of quantiles near +-1.8e308 do not overflow; scaling by it is exact."""
    return _HUGE_SCALE if len(values) and np.nanmax(np.abs(values)) > _HUGE else 1.0


def _to_int(x: np.ndarray, dtype: np.dtype, limits: list[int] | None) -> np.ndarray:
    """Rounded floats ``x`` as ``dtype`` integers within ``limits`` (default: the dtype's range).

    A float at or beyond a limit becomes the limit itself, so no value wraps around (2**63 - 1 is
    2.0**63 as a float, which a plain cast turns into -2**63).
    """
    info = np.iinfo(dtype)
    lo, hi = (info.min, info.max) if limits is None else (max(limits[0], info.min), min(limits[1], info.max))
    x = np.round(x)
    low, high = x <= float(lo), x >= float(hi)
    out = np.where(low | high, 0, x).astype(dtype)  # inside (lo, hi): the cast cannot overflow
    out[low], out[high] = lo, hi
    return out


def _int_range(lo, hi) -> list[int]:
    """The integers of [lo, hi], as [first, last] (exact for integers beyond float precision)."""
    first = int(lo) if isinstance(lo, numbers.Integral) else math.ceil(lo)
    last = int(hi) if isinstance(hi, numbers.Integral) else math.floor(hi)
    return [first, max(first, last)]


def _log_phi(z: np.ndarray) -> np.ndarray:
    return -0.5 * (z * z + np.log(2 * np.pi))


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


def _nearest(x: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Index of the observed level nearest to each value (ties go to the lower level)."""
    right = np.clip(np.searchsorted(levels, x), 0, len(levels) - 1)
    left = np.maximum(right - 1, 0)
    return np.where(np.abs(x - levels[left]) <= np.abs(levels[right] - x), left, right)


def _snap(x: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Replace each value by the nearest observed level."""
    return levels[_nearest(x, levels)]
