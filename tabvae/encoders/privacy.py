"""Value protection and differentially private preprocessing of the encoders.

Value protection (``docs/decisions/value-protection.md``): a category seen in
fewer than ``k`` training rows is never emitted, and a number's range is cut to
its ``k``-th smallest and ``k``-th largest training values.

Differentially private preprocessing (``docs/decisions/differential-privacy-preprocessing.md``):
what the encoders learn from the data - category lists and their order, the
quantile maps and the ranges - comes from noisy counts and histograms (the
Laplace mechanism), or from public bounds and levels the user gives.  Each
non-constant column gets an equal share of the budget's epsilon (sequential
composition); a category list whose levels are not public spends a share of
delta too, on the threshold that keeps a level only when its noisy count is
high enough that a level of one row passes with probability at most that
share.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..schema import pandas_dtype

RARE_PLACEHOLDER = "_RARE_"
_BOUND_FAILURE = 0.05  # chance that noise alone lifts an empty power-of-two bin over the bound threshold
HISTOGRAM_FLOOR = 3.0  # noise scales a noisy histogram count needs to count as mass
_MAX_EXPONENT = 1024  # log2(1 + |x|) <= 1024 for every finite float64


@dataclass(frozen=True)
class PreprocessingBudget:
    """The privacy budget the encoders spend when they are fitted.

    Parameters
    ----------
    epsilon : float
        Total epsilon of the preprocessing, shared equally by the non-constant
        columns.
    delta : float, default=1e-6
        Total delta, shared by the categorical columns whose levels are not
        given as public levels (the only releases that need one).
    seed : int or None, default=None
        Seed of the noise.  Anyone who knows it can recompute the noise and
        remove it: fix it for tests only, never for a release.  The seed is
        not saved with the model.
    bins : int, default=100
        Bins of the noisy histogram each quantile map is read from.
    """

    epsilon: float
    delta: float = 1e-6
    seed: int | None = None
    bins: int = 100

    def check(self) -> None:
        """A ValueError naming the field that is out of range."""
        if not _is_real(self.epsilon) or not 0 < self.epsilon < math.inf:
            raise ValueError(f"PreprocessingBudget.epsilon must be a finite number > 0, got {self.epsilon!r}.")
        if not _is_real(self.delta) or not 0 < self.delta < 1:
            raise ValueError(f"PreprocessingBudget.delta must be a number in (0, 1), got {self.delta!r}.")
        if not isinstance(self.bins, numbers.Integral) or isinstance(self.bins, bool) or self.bins < 2:
            raise ValueError(f"PreprocessingBudget.bins must be an int >= 2, got {self.bins!r}.")
        if self.seed is not None and (not isinstance(self.seed, numbers.Integral) or self.seed < 0):
            raise ValueError(f"PreprocessingBudget.seed must be None or an int >= 0, got {self.seed!r}.")


@dataclass(frozen=True)
class ColumnBudget:
    """One column's share of a :class:`PreprocessingBudget` and the generator of its noise."""

    epsilon: float
    delta: float
    bins: int
    rng: np.random.Generator


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def split_budget(budget: PreprocessingBudget, schema: Any, public_levels: dict) -> dict[str, ColumnBudget]:
    """Each non-constant column of ``schema`` with its equal share of ``budget`` (constant columns spend none)."""
    names = [spec.name for spec in schema if spec.kind != "constant"]
    thresholded = [
        spec.name for spec in schema if spec.kind in ("categorical", "boolean") and public_levels.get(spec.name) is None
    ]
    seeds = np.random.SeedSequence(budget.seed).spawn(len(names))
    eps, delta = budget.epsilon / max(len(names), 1), budget.delta / max(len(thresholded), 1)
    return {
        name: ColumnBudget(eps, delta if name in thresholded else 0.0, budget.bins, np.random.default_rng(seed))
        for name, seed in zip(names, seeds)
    }


# --------------------------------------------------------------------------- value protection


def protected_range(present: pd.Series, k: int) -> tuple[Any, Any]:
    """The ``k``-th smallest and ``k``-th largest of the non-missing values ``present``, in their own type.

    With fewer than ``2 k`` values both ends move to the median, so no value
    held by fewer than ``k`` rows at or beyond it is an end.
    """
    n, values = len(present), present.to_numpy()
    low, high = min(k - 1, (n - 1) // 2), max(n - k, n // 2)
    if values.dtype.kind in "iuf":  # a partial sort: linear time
        ends = np.partition(values, [low, high])
        return ends[low], ends[high]
    ordered = present.sort_values(kind="stable").reset_index(drop=True)
    return ordered.iloc[low], ordered.iloc[high]


def protect_counts(counts: pd.Series, k: int) -> tuple[pd.Series, float]:
    """The levels of ``counts`` seen at least ``k`` times, and the rows of the others."""
    rare = (counts > 0) & (counts < k)
    return counts[~rare], float(counts[rare].sum())


def holds_text(spec: Any) -> bool:
    """Whether a column of ``spec``'s dtype can hold the placeholder string."""
    if spec.dtype == "category":
        return all(isinstance(c, str) for c in spec.categories or [])
    return spec.dtype == "object" or spec.dtype.startswith("str")


def holds_missing(spec: Any) -> bool:
    """Whether a column of ``spec``'s dtype can hold a missing value (not numpy integers or bool)."""
    if spec.dtype == "category":
        return True
    dtype = pandas_dtype(spec.dtype)
    return not (isinstance(dtype, np.dtype) and dtype.kind in "iub")


# --------------------------------------------------------------------------- differential privacy


def laplace(counts: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """``counts`` (one row changes one of them by 1) plus Laplace noise of scale ``1 / epsilon``."""
    return np.asarray(counts, float) + rng.laplace(0.0, 1.0 / epsilon, size=np.shape(counts))


def level_threshold(epsilon: float, delta: float) -> float:
    """Noisy count a level needs to be kept: a level of one row passes it with probability ``delta``."""
    return 1.0 + math.log(1.0 / (2.0 * delta)) / epsilon


def private_counts(counts: pd.Series, budget: ColumnBudget, public: list | None = None) -> pd.Series:
    """Noisy counts of the levels, most frequent first.

    With ``public`` levels, every public level is kept (its noisy count
    clipped at 0) and other levels are dropped; without, only the levels whose
    noisy count reaches :func:`level_threshold` are kept, so a rare level
    shows up with probability at most ``budget.delta``.
    """
    if public is not None:
        counts = counts.reindex(pd.Index(public, dtype=object), fill_value=0)
    noisy = pd.Series(laplace(counts.to_numpy(float), budget.epsilon, budget.rng), index=counts.index)
    if public is not None:
        noisy = noisy.clip(lower=0.0)
    else:
        noisy = noisy[noisy >= level_threshold(budget.epsilon, budget.delta)]
    return noisy.iloc[np.argsort(-noisy.to_numpy(), kind="stable")]


def _exponents(x: np.ndarray) -> np.ndarray:
    """Signed power-of-two bin of each value: ``sign(x) * ceil(log2(1 + |x|))``, in [-1024, 1024]."""
    with np.errstate(over="ignore"):
        e = np.ceil(np.log2(1.0 + np.abs(x)))
    return (np.sign(x) * np.minimum(e, _MAX_EXPONENT)).astype(np.int64)


def _bin_edge(exponent: int, upper: bool) -> float:
    """Lower (or upper) end of the values of a signed power-of-two bin."""
    size = abs(exponent)
    outer = 2.0**size - 1 if size < _MAX_EXPONENT else float(np.finfo(float).max)
    inner = 2.0 ** (size - 1) - 1 if size else 0.0
    if exponent >= 0:
        return outer if upper else inner
    return -inner if upper else -outer


def private_bounds(x: np.ndarray, epsilon: float, rng: np.random.Generator) -> tuple[float, float]:
    """A range of the values ``x`` from a noisy histogram over fixed power-of-two bins.

    The low end is the lower edge of the lowest bin whose noisy count clears
    a threshold that noise alone clears with probability 5 % over all bins,
    the high end the upper edge of the highest; no value of ``x`` is read
    except through the noisy counts.
    """
    n_bins = 2 * _MAX_EXPONENT + 1
    counts = np.bincount(_exponents(x) + _MAX_EXPONENT, minlength=n_bins)
    noisy = laplace(counts, epsilon, rng)
    passed = np.flatnonzero(noisy >= math.log(n_bins / _BOUND_FAILURE) / epsilon)
    if not len(passed):
        raise ValueError(
            "the noisy histogram found no range: too few rows for the budget's epsilon. "
            "Give the column public bounds or a larger epsilon."
        )
    return _bin_edge(int(passed[0]) - _MAX_EXPONENT, False), _bin_edge(int(passed[-1]) - _MAX_EXPONENT, True)


def private_quantiles(x: np.ndarray, bounds: tuple[float, float], budget: ColumnBudget, n_q: int) -> np.ndarray:
    """``n_q`` quantiles (at evenly spaced levels from 0 to 1) of ``x`` clipped to ``bounds``, read from a
    noisy histogram of ``budget.bins`` equal bins; the ends are the bounds themselves.

    Noisy counts below ``HISTOGRAM_FLOOR`` noise scales count as empty, so that the many empty bins of a
    wide range do not each get the positive part of their noise as mass.
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    edges = np.linspace(lo, hi, budget.bins + 1)
    counts = np.histogram(np.clip(x, lo, hi), bins=edges)[0] if hi > lo else np.zeros(budget.bins)
    noisy = laplace(counts, budget.epsilon, budget.rng)
    mass = np.where(noisy >= HISTOGRAM_FLOOR / budget.epsilon, noisy, 0.0) + 1e-9  # every bin a little mass
    cdf = np.concatenate([[0.0], np.cumsum(mass) / mass.sum()])
    quantiles = np.interp(np.linspace(0.0, 1.0, n_q), cdf, edges)
    quantiles[0], quantiles[-1] = lo, hi
    return np.maximum.accumulate(quantiles)


# --------------------------------------------------------------------------- checks


def check_public(schema: Any, public_bounds: dict | None, public_levels: dict | None) -> None:
    """A ValueError naming the column of a public bound or level list that does not fit ``schema``."""
    kinds = {spec.name: spec.kind for spec in schema}
    for name, bounds in (public_bounds or {}).items():
        if kinds.get(name) not in ("numeric", "integer", "datetime"):
            raise ValueError(f"public_bounds[{name!r}]: not a numeric or datetime column of the table.")
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2 or pd.isna(bounds[0]) or pd.isna(bounds[1]):
            raise ValueError(f"public_bounds[{name!r}] must be a (low, high) pair, got {bounds!r}.")
        if not bounds[0] <= bounds[1]:
            raise ValueError(f"public_bounds[{name!r}] must have low <= high, got {bounds!r}.")
    for name, levels in (public_levels or {}).items():
        if kinds.get(name) not in ("categorical", "boolean"):
            raise ValueError(f"public_levels[{name!r}]: not a categorical or boolean column of the table.")
        if isinstance(levels, str) or not hasattr(levels, "__iter__") or not len(list(levels)):
            raise ValueError(f"public_levels[{name!r}] must be a non-empty list of levels, got {levels!r}.")
