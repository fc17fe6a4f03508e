"""Hardening (issue 23): no silent wrong output, no raw errors, bounded sampling.

Each test reproduces one item of the issue (its number in the test's name) and checks what tabvae
does now.
"""

from __future__ import annotations

import datetime
import decimal

import numpy as np
import pandas as pd
import pytest

from tabvae import TabularVAE
from tabvae.anomaly import TabularVAEAnomalyDetector

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """The issue's ``b``: a float, an int, a string and a bool column."""
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "int": rng.randint(0, 1000, n),
            "cat": rng.choice(["a", "b", "c"], n),
            "flag": rng.rand(n) < 0.3,
        }
    )


@pytest.fixture(scope="module")
def b() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def m(b) -> TabularVAE:
    return TabularVAE(epochs=2, random_state=0).fit(b)


# --------------------------------------------------------------------------- 1, 2: extreme values


@pytest.mark.parametrize("clip", [True, False])
@pytest.mark.parametrize(
    ("dtype", "limit"), [("int64", 2**63 - 1), ("int64", -(2**63)), ("uint64", 2**64 - 1), ("Int64", 2**63 - 1)]
)
def test_1_integers_at_the_dtype_limits_do_not_wrap(dtype, limit, clip):
    x = pd.Series([limit] * 10 + list(range(190)), dtype=dtype)
    model = TabularVAE(epochs=2, clip=clip, random_state=0).fit(pd.DataFrame({"x": x}))
    out = model.sample(2000, random_state=0)["x"]
    assert str(out.dtype) == dtype
    if clip:
        assert out.min() >= min(x) and out.max() <= max(x)
    assert (out == limit).any()  # the extreme comes back exactly
    wrapped = -(2**63) if limit > 0 and dtype != "uint64" else (2**63 - 1 if limit < 0 else 0)
    assert not (out == wrapped).any() or wrapped in set(x)


def test_1_clipped_integers_beyond_float_precision_stay_in_the_training_range():
    x = pd.Series([2**62 - 1, 2**62 - 3] * 20 + [2**62 - 10**6] * 20, dtype="int64")
    out = TabularVAE(epochs=2, random_state=0).fit(pd.DataFrame({"x": x})).sample(500, random_state=0)["x"]
    assert out.max() <= 2**62 - 1  # float(2**62 - 1) is 2**62, one past the training maximum


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_2_floats_near_the_dtype_limit_come_back_finite(dtype):
    top = float(np.finfo(dtype).max) * 0.99
    x = (np.random.RandomState(0).uniform(-1, 1, 300) * top).astype(dtype)
    model = TabularVAE(epochs=2, random_state=0).fit(pd.DataFrame({"f": x}))
    out = model.sample(300, random_state=0)["f"]
    assert out.dtype == dtype and np.isfinite(out).all()
    assert out.min() >= x.min() and out.max() <= x.max()
    assert (out / top).std() > 0.1  # spread over the range, not piled up at one end


# --------------------------------------------------------------------------- 3: non-finite settings


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"kl_weight": float("inf")}, "kl_weight"),
        ({"kl_weight": float("nan")}, "kl_weight"),
        ({"config": {"learning_rate": float("inf")}}, "config.learning_rate"),
        ({"config": {"weight_decay": float("nan")}}, "config.weight_decay"),
        ({"config": {"ema_decay": float("nan")}}, "config.ema_decay"),
        ({"config": {"kl_warmup": float("inf")}}, "config.kl_warmup"),
        ({"config": {"validation_fraction": float("nan")}}, "config.validation_fraction"),
    ],
)
def test_3_non_finite_parameters_are_refused(b, params, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a finite number"):
        TabularVAE(epochs=1, **params).fit(b)


def test_3_a_diverging_fit_raises_naming_the_learning_rate(b):
    with pytest.raises(FloatingPointError, match=r"diverged.*learning_rate"):
        TabularVAE(epochs=5, random_state=0, config={"learning_rate": 1e30}).fit(b)


# --------------------------------------------------------------------------- 5: tz-aware dates


def test_5_tz_aware_daily_dates_keep_local_midnight():
    days = pd.Series(pd.date_range("2021-01-01", periods=400, freq="D")).dt.tz_localize("Europe/Paris")
    model = TabularVAE(epochs=2, random_state=0).fit(pd.DataFrame({"d": days, "x": np.arange(400.0)}))
    assert model.encoder_["d"].resolution_ns_ == 86_400 * 10**9
    out = model.sample(500, random_state=0)["d"]
    assert out.dtype == days.dtype
    assert (out == out.dt.normalize()).all()
    assert out.min() >= days.min() and out.max() <= days.max()


# --------------------------------------------------------------------------- 6: anomaly scores of NaN


def test_6_anomaly_scores_refuse_nan_where_fit_had_none(b):
    det = TabularVAEAnomalyDetector(vae=TabularVAE(epochs=2), random_state=0).fit(b)
    row = b.head(3).assign(num=[np.nan, 0.0, 1.0])
    for call in (det.score_samples, det.predict, det.vae_.score_samples):
        with pytest.raises(ValueError, match=r"missing values in column 'num', which had none in fit"):
            call(row)


# --------------------------------------------------------------------------- 7: unsaveable values


@pytest.mark.parametrize(
    ("values", "advice"),
    [
        ([decimal.Decimal("1.5"), decimal.Decimal("2")], r"decimal\.Decimal.*astype\(float\)"),
        ([b"ab", b"cd"], r"bytes.*str\.decode"),
        ([datetime.date(2020, 1, 1), datetime.date(2020, 1, 2)], r"datetime\.date.*pd\.to_datetime"),
        ([pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2020-01-01", tz="Europe/Paris")], r"utc=True"),
        (pd.Categorical([pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02")]), r"pd\.to_datetime"),
        ([object(), object()], r"object values"),
    ],
)
def test_7_values_a_model_cannot_save_are_refused_at_fit(b, values, advice):
    col = pd.Series(list(values) * 100, dtype="category" if isinstance(values, pd.Categorical) else object)
    with pytest.raises(TypeError, match=rf"^Column 'odd' holds .*{advice}"):
        TabularVAE(epochs=1).fit(b.assign(odd=col))


# --------------------------------------------------------------------------- 11, 13: input shapes


def test_11_transform_names_a_numeric_column_holding_text(m, b):
    with pytest.raises(ValueError, match=r"^X column 'num' holds values that are not numbers"):
        m.transform(b.assign(num="abc"))
    with pytest.raises(ValueError, match=r"^X column 'num' holds values that are not numbers"):
        m.transform(b.assign(num="abc").to_numpy())


def test_11_numbers_given_as_text_are_parsed(m, b):
    np.testing.assert_allclose(m.transform(b.assign(num=b["num"].astype(str))), m.transform(b), atol=1e-6)


def test_13_a_list_of_records_asks_for_a_dataframe():
    with pytest.raises(TypeError, match=r"list of records.*pd\.DataFrame\(X\)"):
        TabularVAE().fit([{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}])


# --------------------------------------------------------------------------- 12: random_state


def test_12_a_numpy_generator_seeds_fit_and_sample_without_global_state(b):
    before = np.random.get_state()[1].copy()
    one = TabularVAE(epochs=1, random_state=np.random.default_rng(5)).fit(b)
    two = TabularVAE(epochs=1, random_state=np.random.default_rng(5)).fit(b)
    pd.testing.assert_frame_equal(
        one.sample(20, random_state=np.random.default_rng(1)), two.sample(20, random_state=np.random.default_rng(1))
    )
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("bad", ["seed", 1.5])
def test_12_other_random_states_are_refused_naming_the_parameter(m, b, bad):
    with pytest.raises(TypeError, match=r"^random_state must be None, an int, a numpy.random.RandomState or a"):
        TabularVAE(epochs=1, random_state=bad).fit(b)
    with pytest.raises(TypeError, match=r"^random_state must be"):
        m.sample(5, random_state=bad)


# --------------------------------------------------------------------------- issue 24 item 9: interpolate rows


def test_interpolate_accepts_rows_given_as_series(m, b):
    frames = m.interpolate(b.iloc[[0]], b.iloc[[1]], n_steps=4)
    pd.testing.assert_frame_equal(m.interpolate(b.iloc[0], b.iloc[1], n_steps=4), frames)
    assert m.interpolate(b.iloc[0], b.iloc[2:10], n_steps=3).shape == (3, b.shape[1])


def test_interpolate_series_rows_of_every_column_kind():
    from conftest import make_mixed

    df = make_mixed(300)
    model = TabularVAE(epochs=1, random_state=0).fit(df)
    pd.testing.assert_frame_equal(
        model.interpolate(df.iloc[3], df.iloc[4], n_steps=3), model.interpolate(df.iloc[[3]], df.iloc[[4]], n_steps=3)
    )
