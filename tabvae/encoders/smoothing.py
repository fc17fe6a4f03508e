"""The quantile map's knots read from a kernel-smoothed copy of a column's training values.

``docs/decisions/smoothed-quantile-map.md`` has the reason and the evidence.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

SMOOTH_MAX_VALUES = 50_000  # above this many values each knot interval holds 50 or more: no smoothing
LOCAL_BANDWIDTH = 0.25  # a value's Gaussian width, as a share of the span of its sqrt(n) neighbours either side


def smoothed_quantiles(x: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Quantiles at ``references`` of a kernel-smoothed distribution of ``x``, within its range.

    The empirical quantiles of a sample put the same mass between every pair of
    neighbouring values, so values decoded through them sit closer to the
    training values than unseen values do (a closer-to-train share near 0.63
    per column however well the network generalises;
    ``docs/decisions/smoothed-quantile-map.md``).  Each value that occurs once
    is spread by a Gaussian whose width is a quarter of the span of its
    ``sqrt(n)`` neighbours on either side (a local bandwidth: heavy tails keep
    their shape), reflected at the minimum and maximum; repeated values stay
    point masses, so ties and integers come back exactly.  Above
    ``SMOOTH_MAX_VALUES`` values the empirical quantiles are used.
    """
    n = len(x)
    if n < 3 or n > SMOOTH_MAX_VALUES:
        return np.quantile(x, references)
    x = np.sort(x)
    k, i = math.isqrt(n - 1) + 1, np.arange(n)
    width = (x[np.minimum(i + k, n - 1)] - x[np.maximum(i - k, 0)]) * LOCAL_BANDWIDTH  # (n,)
    counts = np.unique(x, return_counts=True)[1]
    width[np.repeat(counts, counts) > 1] = 0.0
    m = int(np.clip(400_000 // n, 8, 32))  # draws per value, at the normal's quantiles
    spread = (x[:, None] + width[:, None] * ndtri((np.arange(m) + 0.5) / m)).ravel()  # (n * m,)
    spread = np.where(spread < x[0], 2 * x[0] - spread, spread)
    spread = np.clip(np.where(spread > x[-1], 2 * x[-1] - spread, spread), x[0], x[-1])
    q = np.quantile(spread, references)
    q[0], q[-1] = x[0], x[-1]
    return q
