"""Property-based tests: invariants of fit -> sample on random mixed-type tables (hypothesis).

Tables mix nullable dtypes, categories, strings, booleans, tz-aware datetimes, extreme numbers and
missing-value patterns.  Whatever the table, samples keep the columns, order and dtypes, stay inside
what training saw, have no missing values where training had none, and a saved model samples the same.
Models are tiny (one epoch, small network) so the file runs in well under two minutes on one core.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabvae import TabularVAE, load

pytestmark = pytest.mark.filterwarnings("ignore")

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# value_protection=0: the properties are those of raw values (a table of 20 rows has few levels of 5 rows)
TINY = {
    "latent_dim": 4,
    "epochs": 1,
    "batch_size": 64,
    "config": {"hidden_dims": (16,), "prior_components": 2, "value_protection": 0},
}
KINDS = ["float", "extreme_float", "int64", "huge_int", "Int64", "uint8", "category", "object", "bool", "boolean"]
KINDS += ["date_tz", "seconds_tz", "naive"]


def _column(kind: str, n: int, rng: np.random.RandomState, nan_share: float) -> pd.Series:
    """One column of ``kind``; ``nan_share`` of its rows missing where the dtype allows it."""
    missing = rng.rand(n) < nan_share
    if kind == "float":
        return pd.Series(np.where(missing, np.nan, rng.lognormal(size=n) * rng.choice([-1, 1], n)))
    if kind == "extreme_float":
        return pd.Series(np.where(missing, np.nan, rng.uniform(-1, 1, n) * 1.7e308))
    if kind == "int64":
        return pd.Series(rng.randint(-1000, 1000, n), dtype="int64")
    if kind == "huge_int":
        return pd.Series(rng.choice([2**63 - 1, -(2**63), 0, 2**62 + 1, 5], n), dtype="int64")
    if kind == "Int64":
        return pd.Series(pd.array(np.where(missing, None, rng.randint(-50, 10**6, n)), dtype="Int64"))
    if kind == "uint8":
        return pd.Series(rng.randint(0, 256, n).astype("uint8"))
    if kind == "category":
        values = np.where(missing, None, rng.choice(["lo", "mid", "hi"], n))
        ordered = bool(rng.rand() < 0.5)
        return pd.Series(pd.Categorical(values, categories=["lo", "mid", "hi", "unused"], ordered=ordered))
    if kind == "object":
        return pd.Series(np.where(missing, None, rng.choice(["x", "y", "z", "w"], n)), dtype=object)
    if kind == "bool":
        return pd.Series(rng.rand(n) < 0.4)
    if kind == "boolean":
        return pd.Series(pd.array(np.where(missing, None, rng.rand(n) < 0.5), dtype="boolean"))
    start = pd.Timestamp("2021-03-20")  # spans the spring DST change
    if kind == "date_tz":
        days = pd.to_datetime(start + pd.to_timedelta(rng.randint(0, 30, n), unit="D"))
        return pd.Series(days).dt.tz_localize("Europe/Paris").where(~missing)
    if kind == "seconds_tz":
        ts = pd.to_datetime(start + pd.to_timedelta(rng.randint(0, 10**7, n), unit="s"))
        return pd.Series(ts).dt.tz_localize("UTC").dt.tz_convert("America/New_York").where(~missing)
    return pd.Series(pd.to_datetime(start + pd.to_timedelta(rng.randint(0, 10**5, n), unit="min"))).where(~missing)


@st.composite
def tables(draw) -> pd.DataFrame:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    n = draw(st.integers(20, 80))
    seed = draw(st.integers(0, 2**31 - 1))
    nan_shares = draw(st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0]), min_size=len(kinds), max_size=len(kinds)))
    nan_shares[0] = min(nan_shares[0], 0.5)  # one column with values (all-constant tables: test_hardening)
    rng = np.random.RandomState(seed)
    return pd.DataFrame({f"{k}_{i}": _column(k, n, rng, p) for i, (k, p) in enumerate(zip(kinds, nan_shares))})


def _fit(df: pd.DataFrame) -> TabularVAE:
    return TabularVAE(random_state=0, **TINY).fit(df)


@SETTINGS
@given(tables())
def test_samples_keep_the_columns_dtypes_and_training_values(df):
    out = _fit(df).sample(60, random_state=1)
    assert list(out.columns) == list(df.columns)
    assert list(out.dtypes) == list(df.dtypes)
    for col in df.columns:
        train, got = df[col], out[col]
        if not train.isna().any():
            assert not got.isna().any(), col
        present = got.dropna()
        if isinstance(train.dtype, pd.CategoricalDtype):
            assert list(got.cat.categories) == list(train.cat.categories), col
        ordered_values = pd.api.types.is_numeric_dtype(train.dtype) or pd.api.types.is_datetime64_any_dtype(train.dtype)
        if pd.api.types.is_bool_dtype(train.dtype) or not ordered_values:
            assert set(present) <= set(train.dropna()), col
        elif len(present):
            assert present.min() >= train.min() and present.max() <= train.max(), col


@SETTINGS
@given(tables())
def test_a_saved_model_samples_the_same(df):
    model = _fit(df)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.tabvae"
        model.save(path)
        loaded = load(path, device="cpu")
    pd.testing.assert_frame_equal(loaded.sample(40, random_state=3), model.sample(40, random_state=3))
