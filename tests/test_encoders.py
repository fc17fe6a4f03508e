"""Every column kind round-trips through its encoder: exactly for categories,
booleans and datetimes, within tolerance for numbers."""

import json

import numpy as np
import pandas as pd
import pytest

from tabvae.encoders import CategoricalEncoder, TableEncoder
from tabvae.schema import infer_schema

EXACT = [
    "int",
    "Int64",
    "Float64",
    "uint8",
    "code",
    "object",
    "string",
    "ordered",
    "mixed",
    "bool",
    "boolean",
    "date",
    "ts_tz",
    "ts_s",
    "constant",
]


@pytest.fixture
def encoded(mixed):
    enc = TableEncoder(infer_schema(mixed), value_protection=0).fit(mixed)
    cont, codes = enc.transform(mixed)
    return mixed, enc, cont, codes


def test_blocks_have_layout_shapes(encoded):
    df, enc, cont, codes = encoded
    assert cont.dtype == np.float64 and codes.dtype == np.int64
    assert cont.shape == (len(df), enc.layout_.n_continuous)
    assert codes.shape == (len(df), len(enc.layout_.cardinalities))
    assert (codes >= 0).all() and (codes < np.array(enc.layout_.cardinalities)).all()
    assert np.isfinite(cont).all() and np.abs(cont).max() < 6


@pytest.mark.parametrize("column", EXACT)
def test_round_trip_exact(encoded, column):
    df, enc, cont, codes = encoded
    out = enc.inverse_transform(cont, codes, np.random.RandomState(0))
    assert out[column].dtype == df[column].dtype
    pd.testing.assert_series_equal(out[column], df[column], check_names=True)


@pytest.mark.parametrize("column", ["float", "bimodal"])
def test_round_trip_numeric_within_tolerance(encoded, column):
    df, enc, cont, codes = encoded
    out = enc.inverse_transform(cont, codes, np.random.RandomState(0))
    assert out[column].dtype == df[column].dtype
    assert out[column].isna().equals(df[column].isna())
    rel = (out[column] - df[column]).abs().max() / df[column].abs().max()
    assert rel < 1e-3


def test_decoded_numbers_stay_in_training_range(encoded):
    df, enc, cont, codes = encoded
    wild = np.random.RandomState(1).normal(0, 10, cont.shape).astype(np.float32)
    out = enc.inverse_transform(wild, codes, np.random.RandomState(0))
    for c in ["float", "bimodal", "int", "Int64", "date"]:
        assert out[c].min() >= df[c].min() and out[c].max() <= df[c].max(), c


def test_no_clip_extrapolates():
    df = pd.DataFrame({"x": np.linspace(0, 1, 500)})
    enc = TableEncoder(infer_schema(df), clip=False, value_protection=0).fit(df)
    out = enc.inverse_transform(
        np.array([[9.0], [-9.0]], np.float32), np.zeros((2, 0), np.int64), np.random.RandomState(0)
    )
    assert out.x[0] > 1 and out.x[1] < 0


def test_spike_round_trips_exactly():
    x = np.where(np.random.RandomState(0).rand(1000) < 0.9, 0, np.random.RandomState(1).randint(1, 10**5, 1000))
    df = pd.DataFrame({"gain": x})
    enc = TableEncoder(infer_schema(df)).fit(df)
    out = enc.inverse_transform(*enc.transform(df), np.random.RandomState(0))
    assert (out.gain == 0).mean() == pytest.approx(0.9, abs=0.03)
    np.testing.assert_array_equal(out.gain[x == 0], 0)


def test_dominant_spike_is_a_state_and_rare_values_come_back():
    rng = np.random.RandomState(0)
    gain = np.where(rng.rand(2000) < 0.95, 0, rng.randint(100, 10**5, 2000)).astype(float)
    gain[:40] = np.nan
    df = pd.DataFrame({"gain": gain})
    enc = TableEncoder(infer_schema(df), value_protection=0).fit(df)
    num = enc["gain"]
    assert num.spike_ == 0.0 and enc.layout_.cardinalities == (3,)  # value, missing, spike
    cont, codes = enc.transform(df)
    state = np.select([np.isnan(gain), gain == 0], [1, 2], 0)
    np.testing.assert_array_equal(codes[:, 0], state)
    assert (cont[state > 0] == 0).all()
    # The quantile map covers only the non-spike values: their z spread over N(0, 1).
    assert abs(cont[state == 0].mean()) < 0.2 and 0.7 < cont[state == 0].std() < 1.3
    out = enc.inverse_transform(cont, codes, np.random.RandomState(0))
    assert out.gain.isna().sum() == 40 and (out.gain == 0).sum() == (gain == 0).sum()
    assert np.allclose(out.gain[state == 0], gain[state == 0], rtol=0.02)
    # Spike and missing rows carry no density term (their probability is the state's).
    jac = enc.log_jacobian(df)["gain"].to_numpy()
    assert (jac[state > 0] == 0).all() and (jac[state == 0] != 0).all()
    assert num.training_range() == (0.0, float(np.nanmax(gain)))


def test_spike_below_the_share_stays_in_the_quantile_map():
    x = np.where(np.random.RandomState(0).rand(1000) < 0.5, 7.0, np.random.RandomState(1).rand(1000))
    enc = TableEncoder(infer_schema(pd.DataFrame({"x": x}))).fit(pd.DataFrame({"x": x}))
    assert enc["x"].spike_ is None and enc.layout_.cardinalities == ()


def _amounts(n=3000, seed=0, missing=0):
    """Adult's capital-gain in miniature: mostly 0, then 29 exact amounts on a sparse grid
    (over 20 distinct integers, so the schema says integer, not categorical)."""
    rng = np.random.RandomState(seed)
    amounts = [0, 15024, 7688, 7298, 99999] + [1000 + 137 * k for k in range(25)]
    x = rng.choice(amounts, n, p=[0.875, 0.03, 0.03, 0.02, 0.02] + [0.001] * 25)
    return pd.Series(
        x if not missing else pd.array(np.where(rng.rand(n) < missing, None, x), dtype="Int64"), name="gain"
    )


@pytest.mark.parametrize("missing", [0, 0.1])
def test_discrete_amounts_are_codes_that_round_trip(missing):
    df = _amounts(missing=missing).to_frame()
    enc = TableEncoder(infer_schema(df), discrete_levels=128).fit(df)
    num = enc["gain"]
    assert num.discrete_ and num.n_continuous == 0 and num.spike_ is None
    # A code for each of the 5 frequent amounts, one "other" for the 25 rare ones, then "missing".
    assert enc.layout_.cardinalities == (6 + bool(missing),)
    cont, codes = enc.transform(df)
    assert cont.shape == (len(df), 0)
    out = enc.inverse_transform(cont, codes, np.random.RandomState(0))
    assert out.gain.dtype == df.gain.dtype
    pd.testing.assert_series_equal(out.gain.isna(), df.gain.isna())
    frequent = df.gain.isin([0, 15024, 7688, 7298, 99999])
    pd.testing.assert_series_equal(out.gain[frequent], df.gain[frequent])  # exactly
    rare = df.gain.notna() & ~frequent
    assert out.gain[rare].isin(df.gain[rare].unique()).all() and out.gain[rare].nunique() > 15
    # log p(x) = log P(code) + log P(x | code): 0 for a frequent amount, about log(1/25) for a rare one.
    jac = enc.log_jacobian(df).gain
    assert (jac[frequent | df.gain.isna()] == 0).all()
    assert np.allclose(jac[rare], np.log(1 / 25), atol=1.5)
    assert num.training_range() == (0.0, 99999.0)
    # The state survives JSON.
    state = json.loads(json.dumps(enc.get_state()))
    np.testing.assert_array_equal(TableEncoder.from_state(state).transform(df)[1], codes)
    assert TableEncoder.from_state(state)["gain"].discrete_


def test_unseen_amounts_take_the_nearest_code_and_are_priced():
    df = _amounts().to_frame()
    enc = TableEncoder(infer_schema(df), discrete_levels=128).fit(df)
    new = pd.DataFrame({"gain": [7688, 7700, 99999, 200_000, 2_000_000]})
    codes = enc.transform(new)[1][:, 0]
    assert codes[1] == codes[0] and codes[3] == codes[4] == codes[2]
    jac = enc.log_jacobian(new).gain.to_numpy()
    assert jac[0] == 0 and jac[1] < 0  # unseen: as if seen once
    assert jac[4] < jac[3] < jac[1]  # and further beyond the range costs more


@pytest.mark.parametrize(
    "x, why",
    [
        (np.random.RandomState(0).randint(17, 90, 3000), "a dense grid (every age occurs)"),
        (np.random.RandomState(0).choice(np.arange(30) * 1000, 200), "too few rows per value"),
        (np.random.RandomState(0).normal(size=3000), "continuous"),
    ],
)
def test_dense_or_rarely_repeated_values_stay_on_the_quantile_map(x, why):
    df = pd.DataFrame({"x": x})
    enc = TableEncoder(infer_schema(df, warn=False), discrete_levels=128).fit(df)
    assert not enc["x"].discrete_, why
    assert enc.layout_.n_continuous == 1


def test_discrete_columns_in_the_estimator(tmp_path):
    from tabvae import TabularVAE, load

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"gain": _amounts(1500), "age": rng.randint(17, 90, 1500)})
    model = TabularVAE(epochs=3, random_state=0).fit(df)
    assert model.encoder_["gain"].discrete_ and not model.encoder_["age"].discrete_
    out = model.sample(500, random_state=0)
    assert out.gain.dtype == df.gain.dtype and out.gain.isin(df.gain.unique()).all()
    assert (model.sample(50, conditions={"gain": 15024}, random_state=0).gain == 15024).all()
    # The rare amounts behind "other" are drawn from the sample's own random state.
    pd.testing.assert_frame_equal(model.sample(300, random_state=1), model.sample(300, random_state=1))
    model.save(tmp_path / "discrete.tabvae")
    pd.testing.assert_frame_equal(
        load(tmp_path / "discrete.tabvae").sample(300, random_state=1), model.sample(300, random_state=1)
    )
    off = TabularVAE(epochs=3, config={"discrete_levels": 0}, random_state=0).fit(df)
    assert not off.encoder_["gain"].discrete_
    with pytest.raises(ValueError, match=r"config.discrete_levels must be an int >= 0, got -1"):
        TabularVAE(config={"discrete_levels": -1}).fit(df)


def test_high_cardinality_is_capped_and_rare_levels_resampled():
    rng = np.random.RandomState(0)
    values = np.concatenate([rng.choice(["common_a", "common_b"], 5000), [f"id{i}" for i in range(50_000)]])
    df = pd.DataFrame({"id": values})
    enc = TableEncoder(infer_schema(df), max_categories=16, value_protection=0).fit(df)
    assert enc.layout_.cardinalities == (16,)
    cont, codes = enc.transform(df)
    out = enc.inverse_transform(cont, codes, np.random.RandomState(0))
    assert set(out.id) <= set(values)
    assert out.id.nunique() > 10_000  # rare levels come back from the empirical distribution
    assert (out.id == "common_a").sum() == (df.id == "common_a").sum()


def test_unseen_category_gets_code_minus_one():
    df = pd.DataFrame({"c": ["a", "b", "a"]})
    enc = CategoricalEncoder(infer_schema(df)["c"]).fit(df.c)
    assert enc.transform(pd.Series(["a", "zzz", None]))[1][:, 0].tolist() == [0, -1, -1]


def test_levels_of_equal_count_keep_first_appearance_order():
    # pandas 2 and 3 order ties differently in value_counts; the encoder must not.
    values = ["d", "b", None, "c", "b", "a", "c", "d", "e", "a", "b"]
    for dtype in (object, "string", "category"):
        col = pd.Series(values, dtype=dtype)
        enc = CategoricalEncoder(infer_schema(col.to_frame("x"))["x"]).fit(col)
        assert enc.levels_ == ["b", "d", "c", "a", "e"], dtype
        assert enc.missing_code_ == 5


def test_state_round_trips_through_json(encoded):
    import json

    df, enc, cont, codes = encoded
    state = json.loads(json.dumps(enc.get_state()))
    enc2 = TableEncoder.from_state(state)
    cont2, codes2 = enc2.transform(df)
    np.testing.assert_array_equal(cont, cont2)
    np.testing.assert_array_equal(codes, codes2)
    pd.testing.assert_frame_equal(
        enc2.inverse_transform(cont, codes, np.random.RandomState(0)),
        enc.inverse_transform(cont, codes, np.random.RandomState(0)),
    )


def test_public_column_helpers():
    df = pd.DataFrame({"c": ["a", "b", "a", None, "rare"] * 20, "x": np.arange(100.0)})
    enc = TableEncoder(infer_schema(df), max_categories=3, value_protection=0).fit(df)
    assert enc["c"].seen_values() == ["a", "b", "rare"]  # frequent levels first, then the rare ones
    assert enc["c"].code_of("b") == 1 and enc["c"].code_of("zzz") == -1
    assert enc["c"].code_of("rare") == enc["c"].other_code_ and enc["c"].code_of(None) == enc["c"].missing_code_
    assert enc["x"].training_range() == (0.0, 99.0)


def _closer_to_train_share(train: np.ndarray, holdout: np.ndarray, query: np.ndarray) -> float:
    """1-D share of ``query`` values nearer a training value than a holdout value (ties count half)."""

    def nearest(ref, q):
        ref = np.sort(ref)
        i = np.clip(np.searchsorted(ref, q), 1, len(ref) - 1)
        return np.minimum(abs(q - ref[i - 1]), abs(q - ref[i]))

    d_train, d_holdout = nearest(train, query), nearest(holdout, query)
    return float(np.mean(d_train < d_holdout) + 0.5 * np.mean(d_train == d_holdout))


@pytest.mark.parametrize("smoothed", [True, False])
def test_decoded_numbers_are_no_closer_to_training_values_than_unseen_ones(smoothed, monkeypatch):
    # The empirical quantiles give every gap between neighbouring training values the same mass, so
    # draws through them sit near training values (share about 0.7); the smoothed map does not.
    import tabvae.encoders.smoothing as smoothing

    monkeypatch.setattr(smoothing, "SMOOTH_MAX_VALUES", smoothing.SMOOTH_MAX_VALUES if smoothed else 0)
    shares = []
    for seed in range(5):
        rng = np.random.RandomState(seed)
        train, holdout = rng.lognormal(size=300), rng.lognormal(size=300)
        df = pd.DataFrame({"x": train})
        enc = TableEncoder(infer_schema(df, warn=False), value_protection=0).fit(df)
        z = rng.standard_normal((4000, 1)).astype(np.float32)
        out = enc.inverse_transform(z, np.zeros((4000, 0), np.int64), rng)["x"].to_numpy()
        assert train.min() <= out.min() and out.max() <= train.max()
        assert (enc["x"].quantiles_[0], enc["x"].quantiles_[-1]) == (train.min(), train.max())  # the map's ends
        shares.append(_closer_to_train_share(train, holdout, out))
    assert (np.mean(shares) < 0.57) if smoothed else (np.mean(shares) > 0.65), shares


def test_smoothing_keeps_repeated_values_exact():
    rng = np.random.RandomState(0)
    x = np.concatenate([rng.normal(size=400), np.full(100, 1.25)])  # a fifth of the rows at 1.25
    df = pd.DataFrame({"x": x})
    enc = TableEncoder(infer_schema(df, warn=False), value_protection=0).fit(df)
    z = rng.standard_normal((20_000, 1)).astype(np.float32)
    out = enc.inverse_transform(z, np.zeros((20_000, 0), np.int64), rng)["x"].to_numpy()
    assert abs((out == 1.25).mean() - 0.2) < 0.02
    cont, codes = enc.transform(df)
    np.testing.assert_allclose(enc.inverse_transform(cont, codes, rng)["x"], x, rtol=1e-6)  # still a round trip
