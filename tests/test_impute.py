"""Imputation: ``TabularVAE.impute`` and ``TabVAEImputer``."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_mixed
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from tabvae import TabularVAE, TabVAEImputer


@pytest.fixture(scope="module")
def mixed_model():
    return TabularVAE(epochs=2, random_state=0).fit(make_mixed())


def with_holes(df: pd.DataFrame, share: float = 0.2, seed: int = 1) -> pd.DataFrame:
    holes = np.random.RandomState(seed).rand(*df.shape) < share
    return df.mask(holes)


@pytest.fixture(scope="module")
def linear():
    """y = 2x (and a sign category), so y and c are known given x."""
    rng = np.random.RandomState(0)
    x = rng.normal(size=1000)
    return pd.DataFrame({"x": x, "y": 2 * x + 0.05 * rng.normal(size=1000), "c": np.where(x > 0, "pos", "neg")})


def test_observed_cells_unchanged_dtypes_and_index_kept(mixed_model):
    X = with_holes(make_mixed(60, seed=3))
    X.index = np.arange(100, 160)[::-1]
    before = X.copy()
    out = mixed_model.impute(X, random_state=0)
    pd.testing.assert_frame_equal(X, before)  # the input is not modified
    assert list(out.columns) == list(X.columns)
    pd.testing.assert_index_equal(out.index, X.index)
    assert out.dtypes.to_dict() == X.dtypes.to_dict()
    assert not out.isna().any().any()
    for col in X.columns:
        observed = X[col].notna()
        pd.testing.assert_series_equal(out[col][observed], X[col][observed])


def test_values_are_training_levels(mixed_model):
    train = make_mixed()
    X = with_holes(make_mixed(60, seed=3), 0.5)
    out = mixed_model.impute(X, random_state=0)
    filled = {col: out[col][X[col].isna()] for col in X.columns}
    for col in ["object", "string", "ordered", "mixed", "code"]:
        assert set(filled[col]) <= set(train[col].dropna())
    for col in ["int", "bimodal", "ts_tz", "date"]:
        assert filled[col].between(train[col].min(), train[col].max()).all()


def test_column_without_missing_values_in_fit_is_filled(mixed_model):
    X = make_mixed(40, seed=4)
    X["bool"] = X["bool"].astype(object)
    X.loc[:29, ["bimodal", "string", "ts_s", "bool"]] = None
    out = mixed_model.impute(X, random_state=0, method="mean")
    assert not out[["bimodal", "string", "ts_s", "bool"]].isna().any().any()
    assert out.dtypes.to_dict() == X.dtypes.to_dict()


def test_all_missing_column_takes_the_training_dtype(mixed_model):
    X = make_mixed(20, seed=5)
    X["object"] = np.nan  # a float column now: it cannot hold the strings
    out = mixed_model.impute(X, random_state=0)
    assert out["object"].isin(["red", "green", "blue"]).all()


def test_rows_without_missing_cells_come_back_as_they_are(mixed_model):
    X = make_mixed(20, seed=6).dropna()
    pd.testing.assert_frame_equal(mixed_model.impute(X, random_state=0), X)


def test_multiple_imputations_differ_and_are_reproducible(mixed_model):
    X = with_holes(make_mixed(60, seed=3))
    first = mixed_model.impute(X, n_imputations=3, random_state=0)
    again = mixed_model.impute(X, n_imputations=3, random_state=0)
    assert isinstance(first, list) and len(first) == 3
    for a, b in zip(first, again):
        pd.testing.assert_frame_equal(a, b)
    assert not first[0].equals(first[1]) and not first[1].equals(first[2])
    assert not mixed_model.impute(X, random_state=1).equals(first[0])


def test_imputation_uses_the_observed_cells(linear):
    # 40 epochs of the masked decoder model y given x directly; the small-table default (factorized)
    # needs its full schedule for it, and is measured on real tables by benchmarks/imputation.py.
    model = TabularVAE(epochs=40, random_state=0, config={"decoder": "autoregressive"}).fit(linear)
    X = linear.head(200).copy()
    X[["y", "c"]] = None
    truth = linear.head(200)
    out = model.impute(X, random_state=0, method="mean")
    rmse = np.sqrt(np.mean((out["y"] - truth["y"]) ** 2))
    rmse_column_mean = np.sqrt(np.mean((linear["y"].mean() - truth["y"]) ** 2))
    assert rmse < 0.3 * rmse_column_mean
    assert (out["c"] == truth["c"]).mean() > 0.85
    drawn = model.impute(X, random_state=0)  # draws: noisier, still far better than the column mean
    assert np.sqrt(np.mean((drawn["y"] - truth["y"]) ** 2)) < 0.8 * rmse_column_mean


def test_imputer_in_a_pipeline_with_set_output(linear):
    X = linear[["x", "y"]].assign(c=linear["c"].astype("category")).mask(np.random.RandomState(2).rand(1000, 3) < 0.2)
    target = (linear["y"] > 0).astype(int)
    imputer = TabVAEImputer(vae=TabularVAE(epochs=5), random_state=0)
    pipe = make_pipeline(imputer, HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=20))
    pipe.set_output(transform="pandas")
    assert pipe.fit(X, target).score(X, target) > 0.8
    out = pipe[0].transform(X)
    assert isinstance(out, pd.DataFrame) and not out.isna().any().any()
    assert list(pipe[0].get_feature_names_out()) == ["x", "y", "c"]
    pd.testing.assert_frame_equal(out, pipe[0].transform(X))  # a seeded imputer is deterministic
    reordered = pipe[0].transform(X[["c", "y", "x"]])
    assert list(reordered.columns) == ["x", "y", "c"]
    assert out.dtypes.to_dict() == X.dtypes.to_dict()


def test_imputer_errors(linear):
    with pytest.raises(NotFittedError):
        TabVAEImputer().transform(linear)
    with pytest.raises(ValueError, match="method"):
        TabVAEImputer(method="median").fit(linear)


def test_impute_errors(mixed_model):
    X = make_mixed(10, seed=7)
    with pytest.raises(NotFittedError):
        TabularVAE().impute(X)
    with pytest.raises(ValueError, match="missing \\['int'\\]"):
        mixed_model.impute(X.drop(columns="int"))
    with pytest.raises(ValueError, match="unexpected \\['extra'\\]"):
        mixed_model.impute(X.assign(extra=1))
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="n_imputations"):
            mixed_model.impute(X, n_imputations=bad)
    with pytest.raises(ValueError, match="method"):
        mixed_model.impute(X, method="mode")


def test_unseen_level_is_kept_and_the_rest_imputed(mixed_model):
    X = make_mixed(10, seed=7).assign(object="purple")
    X.loc[:4, "bimodal"] = np.nan
    out = mixed_model.impute(X, random_state=0)
    assert (out["object"] == "purple").all() and not out["bimodal"].isna().any()
