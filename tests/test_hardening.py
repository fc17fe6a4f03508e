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


# --------------------------------------------------------------------------- 4, 9, 10, 22, 23: sampling


@pytest.fixture(scope="module")
def mt(b) -> TabularVAE:
    """``m`` with a tz-aware datetime column, conditioned on ``cat``."""
    when = pd.Series(pd.date_range("2021-01-01", periods=len(b), freq="D")).dt.tz_localize("Europe/Paris")
    return TabularVAE(epochs=2, conditional_columns=["cat"], random_state=0).fit(b.assign(when=when))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "hot", None])
def test_4_temperature_must_be_a_finite_number_at_least_0(m, bad):
    state = m.sample_rng_.get_state()[1].copy()
    with pytest.raises(ValueError, match=r"^temperature must be"):
        m.sample(5, temperature=bad)
    with pytest.raises(ValueError, match=r"^temperature must be"):
        next(m.iter_samples(5, temperature=bad))
    np.testing.assert_array_equal(m.sample_rng_.get_state()[1], state)  # nothing drawn


def test_4_temperature_0_is_allowed(m):
    assert len(m.sample(5, temperature=0, random_state=0)) == 5


def test_9_max_tries_must_be_positive(m):
    with pytest.raises(ValueError, match=r"^max_tries must be a positive int, got 0"):
        m.sample(5, conditions={"num": (0, 1)}, max_tries=0)


def test_9_an_empty_conditions_frame_is_refused_clearly(m):
    with pytest.raises(ValueError, match=r"^conditions is a DataFrame with no rows"):
        m.sample(None, conditions=pd.DataFrame({"cat": []}))


def test_9_a_conditions_frame_without_columns_leaves_rows_free(m):
    assert len(m.sample(None, conditions=pd.DataFrame(index=range(3)), random_state=0)) == 3


def test_9_text_bounds_on_a_tz_aware_column_are_read_in_its_zone(mt):
    rows = mt.sample(20, conditions={"when": ("2021-02-01", "2021-03-01")}, random_state=0)
    assert (
        rows["when"]
        .between(pd.Timestamp("2021-02-01", tz="Europe/Paris"), pd.Timestamp("2021-03-01", tz="Europe/Paris"))
        .all()
    )
    utc = (pd.Timestamp("2021-02-01", tz="UTC"), pd.Timestamp("2021-03-01", tz="UTC"))
    assert len(mt.sample(5, conditions={"when": utc}, random_state=0)) == 5


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"num": ("0", "1")}, r"^Condition on 'num': range bounds must be numbers"),
        ({"num": (np.nan, 1.0)}, r"^Condition on 'num': range bounds must be numbers \(not NaN\)"),
        ({"num": (1.0, 0.0)}, r"^Condition on 'num': need low <= high"),
        ({"num": (100.0, 200.0)}, r"^Condition num in \[100.0, 200.0\] does not overlap the training range"),
        ({"when": (np.nan, "2021-03-01")}, r"^Condition on 'when': range bounds must be datetimes"),
        ({"when": ("2030-01-01", "2031-01-01")}, r"^Condition when in .* does not overlap the training range"),
        ({"when": ("soon", "later")}, r"^Condition on 'when': 'soon' is not a datetime"),
    ],
)
def test_9_bad_ranges_are_refused_up_front(mt, conditions, message):
    with pytest.raises(ValueError, match=message):
        mt.sample(5, conditions=conditions, max_tries=1)


def test_10_iter_samples_takes_a_frame_of_conditions(mt):
    conditions = pd.DataFrame({"cat": ["a", "b", None, "c", "a"]})
    chunks = list(mt.iter_samples(None, chunk_size=2, conditions=conditions, random_state=0))
    assert [len(c) for c in chunks] == [2, 2, 1]
    rows = pd.concat(chunks, ignore_index=True)
    assert rows["cat"].iloc[[0, 1, 3, 4]].tolist() == ["a", "b", "c", "a"]
    with pytest.raises(ValueError, match=r"^n_samples=4 but conditions has 5 rows"):
        next(mt.iter_samples(4, conditions=conditions))


def test_22_sampling_more_rows_than_memory_holds_is_refused(m):
    state = m.sample_rng_.get_state()[1].copy()
    with pytest.raises(ValueError, match=r"GiB of memory available\. Stream them in chunks with iter_samples"):
        m.sample(10**13)
    np.testing.assert_array_equal(m.sample_rng_.get_state()[1], state)


def test_22_the_estimate_compares_with_the_memory_available(m, monkeypatch):
    import tabvae.sampling

    monkeypatch.setattr(tabvae.sampling, "available_memory", lambda: 10_000)
    with pytest.raises(ValueError, match=r"tabvae sample MODEL -n N -o rows\.parquet"):
        m.sample(1000)
    monkeypatch.setattr(tabvae.sampling, "available_memory", lambda: None)  # unknown: no refusal
    assert len(m.sample(1000)) == 1000


def test_23_iter_samples_rows_follow_the_seed_and_chunk_size_as_documented(m, monkeypatch):
    import tabvae.sampling

    def chunked(size: int) -> pd.DataFrame:
        return pd.concat(list(m.iter_samples(50, chunk_size=size, random_state=4)), ignore_index=True)

    pd.testing.assert_frame_equal(pd.concat(list(m.iter_samples(50, random_state=4))), m.sample(50, random_state=4))
    pd.testing.assert_frame_equal(chunked(7), chunked(7))  # same seed and chunk size: same rows
    monkeypatch.setattr(tabvae.sampling, "SAMPLE_CHUNK", 7)
    pd.testing.assert_frame_equal(m.sample(50, random_state=4), chunked(7))  # sample uses the default chunk size
    assert not chunked(7).equals(chunked(50))  # another chunk size: other rows
