"""Differentially private preprocessing: the fitted encoders never read raw extremes or rare levels."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tabvae.encoders import TableEncoder
from tabvae.encoders.privacy import (
    PreprocessingBudget,
    level_threshold,
    private_bounds,
    split_budget,
)
from tabvae.schema import infer_schema

OUTLIER = 123_456_789.0
SINGLETON = "singleton_level"


def _table(n: int = 3_000, outlier: float = OUTLIER, singleton: str = SINGLETON, seed: int = 0) -> pd.DataFrame:
    """Ages, incomes with one huge outlier, a job column with one singleton level, a flag and dates."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    income[0] = outlier
    job = rng.choice(["clerk", "nurse", "driver", "teacher"], n).astype(object)
    job[1] = singleton
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": income,
            "job": job,
            "flag": rng.random(n) < 0.3,
            "day": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        }
    )


def _fit(df: pd.DataFrame, epsilon: float = 1.0, seed: int = 0, **params) -> TableEncoder:
    budget = PreprocessingBudget(epsilon=epsilon, delta=1e-6, seed=seed)
    return TableEncoder(infer_schema(df, warn=False), dp=budget, **params).fit(df)


def _state(enc: TableEncoder) -> dict:
    state = enc.get_state()
    del state["schema"]  # the schema is read from the data without noise (not covered)
    return state


def test_state_holds_neither_the_outlier_nor_the_singleton():
    enc = _fit(_table())
    text = json.dumps(_state(enc))
    assert SINGLETON not in text and "123456789" not in text and "1.23456789e+08" not in text
    assert enc["income"].training_range()[1] < 1e6 and SINGLETON not in enc["job"].seen_values()


def test_state_does_not_depend_on_the_outlier_or_the_singleton():
    """Neighbouring tables that differ in the outlier's value and the singleton's level give the same state
    under the same noise: the fit reads neither except through noisy counts."""
    a = _state(_fit(_table()))
    b = _state(_fit(_table(outlier=9.9e12, singleton="another_level")))
    assert a == b


def test_samples_stay_inside_the_noisy_range_and_hold_no_dropped_level():
    df = _table()
    enc = _fit(df)
    out = enc.inverse_transform(*enc.transform(df), np.random.RandomState(0))
    lo, hi = enc["income"].training_range()
    assert out["income"].between(lo, hi).all() and SINGLETON not in set(out["job"])
    assert out.dtypes.tolist() == df.dtypes.tolist()


def test_public_bounds_and_levels_are_used_as_given():
    df = _table()
    enc = _fit(
        df,
        public_bounds={"age": (17, 90), "day": ("2020-01-01", "2023-12-31")},
        public_levels={"job": ["clerk", "nurse", "driver", "teacher", "pilot"]},
    )
    assert enc["age"].training_range() == (17.0, 90.0) and enc["age"].int_range_ == [17, 90]
    assert enc["day"].training_range() == (pd.Timestamp("2020-01-01"), pd.Timestamp("2023-12-31"))
    assert sorted(enc["job"].levels_) == ["clerk", "driver", "nurse", "pilot", "teacher"]  # a public level of 0 rows
    assert enc["job"].code_of(SINGLETON) == enc["job"].other_code_
    assert sorted(enc["flag"].levels_) == [False, True]  # booleans: public levels by default


def test_public_bounds_without_dp_clip_inside_the_protected_range():
    df = _table()
    schema = infer_schema(df, warn=False)
    enc = TableEncoder(schema, public_bounds={"income": (0, 50_000), "age": (30, 40)}).fit(df)
    lowest = df["income"].nsmallest(5).iloc[-1]
    assert enc["income"].training_range() == (lowest, 50_000.0) and enc["age"].int_range_ == [30, 40]
    raw = TableEncoder(schema, public_bounds={"income": (0, 50_000)}, value_protection=0).fit(df)
    assert raw["income"].training_range() == (df["income"].min(), 50_000.0)


def test_budget_is_split_over_the_columns():
    df = _table()
    schema = infer_schema(df, warn=False)
    parts = split_budget(PreprocessingBudget(epsilon=2.0, delta=1e-6, seed=0), schema, {"flag": [False, True]})
    assert math.isclose(sum(p.epsilon for p in parts.values()), 2.0)
    assert {name for name, p in parts.items() if p.delta > 0} == {"job"}  # levels found by the noisy threshold


def test_a_level_of_one_row_rarely_clears_the_threshold():
    eps, delta = 0.5, 1e-3
    noise = np.random.default_rng(0).laplace(0, 1 / eps, 200_000)
    assert np.mean(1 + noise >= level_threshold(eps, delta)) <= 2 * delta


def test_seed_is_not_saved_and_fixes_the_noise():
    df = _table()
    enc = _fit(df, seed=7)
    assert enc.get_state()["dp"] == {"epsilon": 1.0, "delta": 1e-6}
    assert _state(_fit(df, seed=7)) == _state(enc) != _state(_fit(df, seed=8))
    twin = TableEncoder.from_state(json.loads(json.dumps(enc.get_state())))
    rng = lambda: np.random.RandomState(0)  # noqa: E731
    pd.testing.assert_frame_equal(
        twin.inverse_transform(*twin.transform(df), rng()), enc.inverse_transform(*enc.transform(df), rng())
    )


def test_too_few_rows_for_a_noisy_range_is_a_clear_error():
    with pytest.raises(ValueError, match="public bounds or a larger epsilon"):
        private_bounds(np.arange(5.0), 0.1, np.random.default_rng(0))
    df = _table(n=40)[["income"]]
    with pytest.raises(ValueError, match="Column 'income'"):
        _fit(df, epsilon=0.1)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"dp": PreprocessingBudget(epsilon=0)}, ValueError, "epsilon must be a finite number > 0"),
        ({"dp": PreprocessingBudget(epsilon=1, delta=1)}, ValueError, r"delta must be a number in \(0, 1\)"),
        ({"dp": {"epsilon": 1}}, TypeError, "dp must be a PreprocessingBudget"),
        ({"public_bounds": {"job": (0, 1)}}, ValueError, r"public_bounds\['job'\]: not a numeric"),
        ({"public_bounds": {"age": (90, 17)}}, ValueError, "low <= high"),
        ({"public_levels": {"job": "clerk"}}, ValueError, r"public_levels\['job'\] must be a non-empty list"),
    ],
)
def test_bad_settings_are_named(params, error, match):
    df = _table(n=200)
    with pytest.raises(error, match=match):
        TableEncoder(infer_schema(df, warn=False), **params).fit(df)
