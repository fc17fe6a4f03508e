"""Run-time helpers shared by the evaluation modules: warnings, global random state, threads, subsampling."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd


@contextmanager
def quiet():
    """Silence the deprecation / convergence chatter of sdmetrics and friends."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, ConvergenceWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        yield


@contextmanager
def seeded_global_numpy(seed: int):
    """Seed numpy's global generator for a third-party call, then restore it."""
    state = np.random.get_state()  # noqa: NPY002 (saved to be restored below)
    np.random.seed(seed)  # noqa: NPY002 (the third-party call reads the global generator)
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@contextmanager
def single_threaded_openmp():
    """Run OpenMP code (HistGradientBoosting) on one thread.

    The data here are small; one thread avoids oversubscription (and the large
    slow-downs it causes when torch's OpenMP runtime is loaded as well).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``n`` rows of ``df`` (sorted positions), with a fresh RangeIndex."""
    if len(df) > n:
        df = df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]
    return df.reset_index(drop=True)
