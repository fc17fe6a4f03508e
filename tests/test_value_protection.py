"""Value protection: rare categories are never emitted, numbers stay inside their protected range."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tabvae import TabularVAE
from tabvae.encoders import TableEncoder
from tabvae.encoders.privacy import RARE_PLACEHOLDER, protected_range
from tabvae.schema import infer_schema

K = 5
RARE = {"secret_1": 1, "secret_2": 2, "secret_4": 4}  # levels of fewer than K rows, and their rows


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Frequent levels, levels of 1, 2 and 4 rows, one of exactly K rows, and numbers with far outliers."""
    rng = np.random.default_rng(seed)
    common = rng.choice(["a", "b", "c"], n - sum(RARE.values()) - K, p=[0.5, 0.3, 0.2]).tolist()
    levels = common + [level for level, rows in RARE.items() for _ in range(rows)] + ["five"] * K
    order = rng.permutation(n)
    x = rng.normal(size=n)
    x[:2] = [-1e6, 1e6]
    counts = rng.integers(0, 1_000, n)
    counts[0] = 10**6
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    days.values[0] = np.datetime64("1900-01-01")
    return pd.DataFrame(
        {
            "level": np.asarray(levels, dtype=object)[order],
            "cat": pd.Categorical(np.asarray(levels, dtype=object)[order]),
            "text": pd.array(np.asarray(levels, dtype=object)[np.roll(order, 1)], dtype="string"),
            "x": x,
            "count": pd.array(counts, dtype="Int64"),
            "day": days,
        }
    )


def _rare_values(df: pd.DataFrame) -> set:
    return {v for c in ("level", "cat", "text") for v in df[c].dropna().unique() if v in RARE}


def _encoder(df: pd.DataFrame, **params) -> TableEncoder:
    return TableEncoder(infer_schema(df, warn=False), **params).fit(df)


def _round_trip(enc: TableEncoder, df: pd.DataFrame) -> pd.DataFrame:
    return enc.inverse_transform(*enc.transform(df), np.random.RandomState(0))


def test_model_samples_hold_no_rare_level_and_stay_in_the_protected_range():
    df = _table()
    model = TabularVAE(epochs=2, random_state=0).fit(df)
    out = model.sample(100_000, random_state=1)
    assert not _rare_values(out)
    assert (out["level"] == "five").any()  # a level of exactly K rows is kept
    lo, hi = protected_range(df["x"], K)
    assert lo <= out["x"].min() and out["x"].max() <= hi and hi < 1e6
    assert out["count"].max() <= protected_range(df["count"].dropna(), K)[1] < 10**6
    assert out["day"].min() >= protected_range(df["day"], K)[0] > pd.Timestamp("1900-01-01")
    assert list(out.dtypes) == list(df.dtypes)  # a category dtype keeps its declared categories
    state = json.dumps({k: v for k, v in model.encoder_.get_state().items() if k != "schema"})
    assert not any(level in state for level in RARE)


def test_model_opt_out_gives_raw_values_back():
    df = _table()
    out = TabularVAE(epochs=2, random_state=0, config={"value_protection": 0}).fit(df).sample(20_000, random_state=1)
    assert _rare_values(out) and out["x"].abs().max() > 1_000  # beyond the protected range, toward the outliers


def test_encoder_round_trip_replaces_rare_levels_and_clips_extremes():
    df = _table()
    out = _round_trip(_encoder(df), df)
    assert not _rare_values(out)
    rare_rows = df["level"].isin(list(RARE))
    replaced = out.loc[rare_rows, "level"]  # kept levels, drawn by their training shares
    assert replaced.isin(["a", "b", "c", "five"]).all() and replaced.nunique() > 1
    assert out["x"].between(*protected_range(df["x"], K)).all()
    assert list(out.dtypes) == list(df.dtypes)


def test_placeholder_keeps_the_dtype_and_joins_the_categories():
    df = _table()
    out = _round_trip(_encoder(df, rare_replacement="placeholder"), df)
    rare_rows = df["level"].isin(list(RARE))
    assert (out.loc[rare_rows, "level"] == RARE_PLACEHOLDER).all() and (
        out.loc[rare_rows, "cat"] == RARE_PLACEHOLDER
    ).all()
    assert list(out.dtypes[["level", "text"]]) == list(df.dtypes[["level", "text"]])
    assert list(out["cat"].cat.categories) == [*df["cat"].cat.categories, RARE_PLACEHOLDER]


def test_columns_that_cannot_hold_text_get_the_frequent_level():
    df = pd.DataFrame({"flag": [True] * 3 + [False] * 97, "code": [7] * 2 + [1] * 60 + [2] * 38})
    enc = TableEncoder(infer_schema(df, categorical_columns=["code"]), rare_replacement="placeholder").fit(df)
    out = _round_trip(enc, df)
    assert not out["flag"].any() and set(out["code"]) == {1, 2}
    assert out.dtypes.tolist() == df.dtypes.tolist()


def test_opt_out_gives_raw_values_back():
    df = _table()
    out = _round_trip(_encoder(df, value_protection=0), df)
    pd.testing.assert_series_equal(out["level"], df["level"])
    assert out["x"].min() == -1e6 and out["x"].max() == 1e6 and out["count"].max() == 10**6


def test_protected_state_holds_no_rare_level_nor_raw_extreme_and_round_trips():
    df = _table()
    enc = _encoder(df)
    text = json.dumps({k: v for k, v in enc.get_state().items() if k != "schema"})
    assert not any(level in text for level in RARE)  # the schema keeps the declared categories of "cat"
    assert "1000000" not in text and "1e+06" not in text
    x, count = enc["x"].get_state(), enc["count"].get_state()
    assert max(map(abs, x["quantiles"])) < 1e6 and max(count["quantiles"]) < 1e6 and count["int_range"][1] < 10**6
    assert enc["day"].training_range()[0] > pd.Timestamp("1900-01-01")
    twin = TableEncoder.from_state(json.loads(json.dumps(enc.get_state())))
    pd.testing.assert_frame_equal(_round_trip(twin, df), _round_trip(enc, df))
    assert twin.value_protection == K


def test_protected_and_unseen_levels_take_the_other_code():
    df = _table()
    enc = _encoder(df)["level"]
    assert enc.code_of("secret_1") == enc.code_of("never seen") == enc.other_code_
    assert "secret_1" not in enc.seen_values()
    plain = TableEncoder(infer_schema(pd.DataFrame({"c": ["a", "b"] * 10})), value_protection=K)
    assert plain.fit(pd.DataFrame({"c": ["a", "b"] * 10}))["c"].code_of("zzz") == -1  # nothing protected


def test_few_values_collapse_to_the_median():
    s = pd.Series([1.0, 2.0, 3.0, 100.0])
    assert protected_range(s, K) == (2.0, 3.0)
    assert protected_range(pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99]), K) == (5, 8)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"value_protection": -1}, "value_protection must be an int >= 0"),
        ({"value_protection": 2.5}, "value_protection must be an int >= 0"),
        ({"rare_replacement": "mode"}, "rare_replacement must be 'frequent' or 'placeholder'"),
    ],
)
def test_bad_settings_are_named(params, match):
    df = pd.DataFrame({"c": ["a", "b"] * 10})
    with pytest.raises(ValueError, match=match):
        _encoder(df, **params)


def test_a_column_without_a_frequent_level_gives_missing_values_its_median_or_the_placeholder():
    df = pd.DataFrame({"id": np.arange(20) * 7, "name": [f"n{i}" for i in range(20)]})
    schema = infer_schema(df, categorical_columns=["id", "name"])
    out = _round_trip(TableEncoder(schema).fit(df), df)
    assert out["name"].isna().all() and set(out["id"]) == {63}  # the lower median of 0, 7, ..., 133
    assert list(out.dtypes) == list(df.dtypes)
    out = _round_trip(TableEncoder(schema, rare_replacement="placeholder").fit(df), df)
    assert set(out["name"]) == {RARE_PLACEHOLDER} and set(out["id"]) == {63}


def test_protected_rows_follow_the_kept_levels_shares():
    df = _table(n=6_000)
    out = _round_trip(_encoder(df), df)
    kept = df.loc[~df["level"].isin(list(RARE)), "level"].value_counts(normalize=True)
    emitted = out["level"].value_counts(normalize=True)
    assert set(emitted.index) == set(kept.index)
    np.testing.assert_allclose(emitted[kept.index], kept, atol=0.02)  # the mode is not inflated
