"""Every column kind round-trips through its encoder: exactly for categories,
booleans and datetimes, within tolerance for numbers."""

import numpy as np
import pandas as pd
import pytest

from tabvae.encoders import CategoricalEncoder, TableEncoder
from tabvae.schema import infer_schema

EXACT = ["int", "Int64", "Float64", "uint8", "code", "object", "string", "ordered", "mixed", "bool",
         "boolean", "date", "ts_tz", "ts_s", "constant"]


@pytest.fixture
def encoded(mixed):
    enc = TableEncoder(infer_schema(mixed)).fit(mixed)
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
    enc = TableEncoder(infer_schema(df), clip=False).fit(df)
    out = enc.inverse_transform(np.array([[9.0], [-9.0]], np.float32), np.zeros((2, 0), np.int64),
                                np.random.RandomState(0))
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
    enc = TableEncoder(infer_schema(df)).fit(df)
    num = enc.encoders_["gain"]
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
    assert enc.encoders_["x"].spike_ is None and enc.layout_.cardinalities == ()


def test_encoder_state_without_spike_fields_loads():
    # Model files written before spikes had a state lack "spike".
    df = pd.DataFrame({"x": np.random.RandomState(0).rand(300)})
    enc = TableEncoder(infer_schema(df)).fit(df)
    state = enc.get_state()
    del state["encoders"]["x"]["spike"]
    enc2 = TableEncoder.from_state(state)
    np.testing.assert_array_equal(enc2.transform(df)[0], enc.transform(df)[0])


def test_high_cardinality_is_capped_and_rare_levels_resampled():
    rng = np.random.RandomState(0)
    values = np.concatenate([rng.choice(["common_a", "common_b"], 5000), [f"id{i}" for i in range(50_000)]])
    df = pd.DataFrame({"id": values})
    enc = TableEncoder(infer_schema(df), max_categories=16).fit(df)
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


def test_state_round_trips_through_json(encoded):
    import json

    df, enc, cont, codes = encoded
    state = json.loads(json.dumps(enc.get_state()))
    enc2 = TableEncoder.from_state(state)
    cont2, codes2 = enc2.transform(df)
    np.testing.assert_array_equal(cont, cont2)
    np.testing.assert_array_equal(codes, codes2)
    pd.testing.assert_frame_equal(enc2.inverse_transform(cont, codes, np.random.RandomState(0)),
                                  enc.inverse_transform(cont, codes, np.random.RandomState(0)))
