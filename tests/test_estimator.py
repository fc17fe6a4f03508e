import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SHARED_TABLES, load_slice, make_mixed
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from tabvae import TabularVAE, TrainingConfig

FAST = dict(epochs=3, batch_size=128, latent_dim=8, config={"hidden_dims": (64, 64)})


@pytest.fixture(scope="module")
def fitted_mixed():
    df = make_mixed(400)
    return df, TabularVAE(**FAST, random_state=0).fit(df)


# ---------------------------------------------------------------- scikit-learn contract


@parametrize_with_checks(
    [TabularVAE(epochs=2, latent_dim=2, batch_size=64, random_state=0, config=TrainingConfig(hidden_dims=(8,)))]
)
def test_sklearn_estimator_checks(estimator, check):
    # Every check applies to the numeric path and passes; none is listed as expected to fail.
    check(estimator)


def test_get_set_params_and_clone():
    model = TabularVAE(epochs=7, categorical_columns=["a"])
    assert model.get_params()["epochs"] == 7
    model.set_params(latent_dim=4)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model


@pytest.mark.parametrize(
    "method, args",
    [
        ("sample", (5,)),
        ("transform", (make_mixed(5),)),
        ("inverse_transform", (np.zeros((2, 8)),)),
        ("score_samples", (make_mixed(5),)),
        ("reconstruct", (make_mixed(5),)),
    ],
)
def test_not_fitted(method, args):
    with pytest.raises(NotFittedError):
        getattr(TabularVAE(), method)(*args)


def test_fit_returns_self_and_history(fitted_mixed):
    df, model = fitted_mixed
    assert model.early_stopping_  # "auto" on a table this small: rows held out, their loss tracked
    assert set(model.history_) == {"loss", "reconstruction", "kl", "val_loss"}
    assert len(model.history_["loss"]) == len(model.history_["val_loss"]) <= FAST["epochs"]
    assert all(np.isfinite(v) for v in model.history_["loss"])
    assert list(model.feature_names_in_) == list(df.columns) and model.n_features_in_ == df.shape[1]


# ---------------------------------------------------------------- output honours the schema


def test_sample_honours_schema(fitted_mixed):
    df, model = fitted_mixed
    out = model.sample(2000, random_state=1)
    assert list(out.columns) == list(df.columns)
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
    assert out.index.equals(pd.RangeIndex(2000))
    for c in ["float", "bimodal", "int", "Int64", "Float64", "uint8", "date", "ts_tz", "ts_s"]:
        assert out[c].min() >= df[c].min() and out[c].max() <= df[c].max(), c
    for c in ["code", "object", "string", "ordered", "mixed", "bool", "boolean"]:
        assert set(out[c].dropna()) <= set(df[c].dropna()), c
    assert out["ordered"].cat.categories.tolist() == ["low", "mid", "high"] and out["ordered"].cat.ordered
    assert (out["constant"] == 7).all()
    assert (out["int"] == out["int"].round()).all()


def test_all_missing_column_reproduced():
    df = pd.DataFrame({"x": np.arange(50.0), "gone": [None] * 50})
    with pytest.warns(UserWarning, match="entirely missing"):
        model = TabularVAE(**FAST, random_state=0).fit(df)
    out = model.sample(20, random_state=0)
    assert out["gone"].isna().all() and out["gone"].dtype == df["gone"].dtype


def test_input_is_not_modified(mixed):
    before = mixed.copy(deep=True)
    model = TabularVAE(**FAST, random_state=0).fit(mixed)
    model.transform(mixed)
    model.score_samples(mixed)
    pd.testing.assert_frame_equal(mixed, before)


# ---------------------------------------------------------------- randomness


def test_same_seed_same_model_and_samples(mixed):
    a = TabularVAE(**FAST, random_state=3).fit(mixed)
    b = TabularVAE(**FAST, random_state=3).fit(mixed)
    assert a.history_ == b.history_
    pd.testing.assert_frame_equal(a.sample(300, random_state=5), b.sample(300, random_state=5))
    pd.testing.assert_frame_equal(a.sample(300), b.sample(300))  # each model's own stream


def test_sample_seed_controls_sampling(fitted_mixed):
    _, model = fitted_mixed
    pd.testing.assert_frame_equal(model.sample(100, random_state=1), model.sample(100, random_state=1))
    assert not model.sample(100, random_state=1).equals(model.sample(100, random_state=2))
    assert not model.sample(100).equals(model.sample(100))  # the stream moves on


def test_numpy_random_state_accepted(mixed):
    model = TabularVAE(**FAST, random_state=np.random.RandomState(0)).fit(mixed)
    assert len(model.sample(5, random_state=np.random.RandomState(1))) == 5


def test_global_rng_untouched(mixed):
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()
    TabularVAE(**FAST, random_state=0).fit(mixed).sample(50, random_state=0)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    assert all(np.array_equal(a, b) for a, b in zip(np_state[1:2], np.random.get_state()[1:2]))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("n", [0, -3, 2.5, "10", None, True])
def test_bad_n(fitted_mixed, n):
    with pytest.raises(ValueError, match=r"n_samples must be a positive int, got"):
        fitted_mixed[1].sample(n)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"epochs": 0}, r'epochs must be a positive int or "auto", got 0'),
        ({"latent_dim": 2.5}, r"latent_dim must be a positive int, got 2.5"),
        ({"epochs": "many"}, r'^epochs must be a positive int or "auto", got \'many\''),
        ({"kl_weight": "high"}, r'^kl_weight must be a positive number or "auto", got \'high\''),
        ({"config": {"hidden_dims": ()}}, r"^config.hidden_dims must be a non-empty tuple"),
        ({"config": {"prior": "flow"}}, r"^config.prior must be 'gmm' or 'standard', got 'flow'"),
        ({"config": {"learning_rate": -1}}, r"^config.learning_rate must be a positive number, got -1"),
        ({"config": {"weight_decay": -1}}, r"^config.weight_decay must be a number >= 0, got -1"),
        ({"config": {"ema_decay": 1}}, r"^config.ema_decay must be a number in \[0, 1\), got 1"),
        ({"config": {"prior_components": 0}}, r"^config.prior_components must be a positive int, got 0"),
        ({"config": {"validation_fraction": 1.5}}, r"^config.validation_fraction must be in \(0, 1\)"),
        ({"config": {"n_iter_no_change": 0}}, r"^config.n_iter_no_change must be a positive int, got 0"),
        ({"config": {"max_categories": 1}}, r"^config.max_categories must be an int >= 2"),
        ({"config": {"stop_when_settled": "yes"}}, r"^config.stop_when_settled must be True or False, got 'yes'"),
        (
            {"config": {"robust_ramp": (4, 2)}},
            r"^config.robust_ramp must be None or \(low, high\) with 0 <= low < high",
        ),
        ({"config": {"robust_ramp": 2}}, r"^config.robust_ramp must be None or \(low, high\)"),
        ({"config": {"discrete_levels": -1}}, r"^config.discrete_levels must be an int >= 0, got -1"),
        ({"config": {"precision": "fp8"}}, r"^config.precision must be 'fp32' or 'bf16', got 'fp8'"),
        (
            {"config": {"decoder": "flow"}},
            r"^config.decoder must be 'auto' or 'autoregressive' or 'factorized', got 'flow'",
        ),
        (
            {"config": {"numeric_frequencies": -1}},
            r'^config.numeric_frequencies must be an int in \[0, 16\] or "auto", got -1',
        ),
        (
            {"config": {"numeric_frequencies": 2.5}},
            r'^config.numeric_frequencies must be an int in \[0, 16\] or "auto", got 2.5',
        ),
        (
            {"config": {"numeric_frequencies": "many"}},
            r'^config.numeric_frequencies must be an int in \[0, 16\] or "auto", got \'many\'',
        ),
        ({"config": {"kl_warmup": 1.0}}, r'^config.kl_warmup must be a number in \[0, 1\) or "auto", got 1.0'),
        ({"config": {"kl_warmup": -0.1}}, r'^config.kl_warmup must be a number in \[0, 1\) or "auto", got -0.1'),
        ({"config": {"learning_rte": 1e-3}}, r"^TrainingConfig has no field\(s\) \['learning_rte'\]"),
    ],
)
def test_bad_params(mixed, params, match):
    with pytest.raises(ValueError, match=match):
        TabularVAE(**params).fit(mixed)


def test_config_of_the_wrong_type_is_a_type_error(mixed):
    with pytest.raises(TypeError, match=r"config must be a TrainingConfig, a dict of its fields or None, got 3"):
        TabularVAE(config=3).fit(mixed)


# ---------------------------------------------------------------- TrainingConfig


def test_training_config_defaults_are_the_models():
    cfg = TrainingConfig()
    assert cfg.get_params() == {
        "hidden_dims": (96, 96),
        "learning_rate": 2e-3,
        "weight_decay": 1e-5,
        "ema_decay": 0.995,
        "kl_warmup": "auto",
        "prior": "gmm",
        "prior_components": 32,
        "decoder": "auto",
        "numeric_frequencies": "auto",
        "max_categories": 256,
        "discrete_levels": 128,
        "validation_fraction": 0.1,
        "n_iter_no_change": 10,
        "stop_when_settled": False,
        "robust_ramp": None,
        "precision": "fp32",
        "compile": False,
        "cuda_graph": True,
        "value_protection": 5,
        "rare_replacement": "frequent",
        "public_bounds": None,
        "public_levels": None,
    }
    assert TrainingConfig.coerce(None) == cfg and TrainingConfig.coerce({"prior": "standard"}).prior == "standard"


def test_config_fields_are_nested_params():
    model = TabularVAE()
    params = model.get_params()
    assert params["config"] is None and params["config__learning_rate"] == 2e-3
    assert params["config__hidden_dims"] == (96, 96)
    model.set_params(config__learning_rate=1e-3, epochs=5)
    assert isinstance(model.config, TrainingConfig) and model.config.learning_rate == 1e-3 and model.epochs == 5
    assert model.get_params()["config__learning_rate"] == 1e-3
    # A dict config shows its fields over the defaults.
    assert TabularVAE(config={"decoder": "factorized"}).get_params()["config__decoder"] == "factorized"


def test_set_params_does_not_change_a_shared_config():
    shared = TrainingConfig(learning_rate=5e-3)
    a, b = TabularVAE(config=shared), TabularVAE(config=shared)
    a.set_params(config__learning_rate=1e-4)
    assert a.config.learning_rate == 1e-4 and b.config.learning_rate == 5e-3 and shared.learning_rate == 5e-3
    with pytest.raises(ValueError, match=r"TrainingConfig has no field\(s\) \['nope'\]"):
        a.set_params(config__nope=1)


def test_clone_copies_the_config():
    model = TabularVAE(epochs=2, config=TrainingConfig(hidden_dims=(8,), decoder="factorized"))
    twin = clone(model)
    assert twin.config == model.config and twin.config is not model.config
    assert twin.get_params() == model.get_params()


def test_grid_search_over_config_fields(mixed):
    from sklearn.model_selection import GridSearchCV

    df = mixed.head(120)
    search = GridSearchCV(
        TabularVAE(epochs=1, batch_size=64, latent_dim=2, random_state=0, config={"hidden_dims": (8,)}),
        {"config__learning_rate": [1e-3, 2e-3], "config__prior": ["standard"]},
        cv=2,
    )
    search.fit(df)
    assert search.best_params_["config__prior"] == "standard"
    assert search.best_estimator_.config.learning_rate in (1e-3, 2e-3)
    assert search.best_estimator_.config.hidden_dims == (8,)  # fields not searched keep their values


def test_bf16_mixed_precision_trains(mixed):
    model = TabularVAE(**{**FAST, "config": {"hidden_dims": (64, 64), "precision": "bf16"}}, random_state=0).fit(mixed)
    assert all(np.isfinite(model.history_["loss"]))
    assert next(model.model_.parameters()).dtype == torch.float32  # weights stay fp32
    pd.testing.assert_series_equal(model.sample(50, random_state=0).dtypes, mixed.dtypes)


def test_cuda_without_gpu_is_a_clear_error(mixed):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match=r"device='cuda' was requested but no CUDA GPU is available"):
        TabularVAE(device="cuda").fit(mixed)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (pd.DataFrame({"x": [1.0, np.inf]}), ValueError, r"Column 'x' contains 1 infinite value"),
        (pd.DataFrame({"x": [1j, 2j]}), ValueError, r"Column 'x' has complex dtype"),
        (pd.DataFrame({"x": [[1], [2]]}), TypeError, r"Column 'x' holds list values"),
        (pd.DataFrame({"x": []}), ValueError, r"has 0 rows"),
        (pd.DataFrame(index=range(3)), ValueError, r"has 0 columns"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), ValueError, r"duplicate column names \['a'\]"),
        ([1, 2, 3], ValueError, r"Reshape your data"),
        ("table.csv", TypeError, r"must be a pandas DataFrame or a 2-D array, got str"),
    ],
)
def test_bad_training_data(bad, exc, match):
    with pytest.raises(exc, match=match):
        TabularVAE(**FAST).fit(bad)


def test_transform_checks_columns(fitted_mixed):
    df, model = fitted_mixed
    pd.testing.assert_frame_equal(  # order of columns does not matter, names do
        pd.DataFrame(model.transform(df[df.columns[::-1]])), pd.DataFrame(model.transform(df))
    )
    with pytest.raises(ValueError, match=r"missing \['float'\], unexpected \[\]"):
        model.transform(df.drop(columns="float"))
    with pytest.raises(ValueError, match=r"never seen in fit: \{'object': \['purple'\]\}"):
        model.transform(df.assign(object="purple"))
    # A number missing where fit saw none has no probability: say so instead of scoring NaN.
    name = next(spec.name for spec in model.schema_ if spec.kind == "numeric" and spec.null_rate == 0)
    holes = df.head(5).copy()
    holes[name] = holes[name].astype("float64")
    holes.loc[holes.index[0], name] = np.nan
    with pytest.raises(ValueError, match=rf"missing values in column '{name}', which had none in fit"):
        model.score_samples(holes)


# ---------------------------------------------------------------- every shared table, default parameters


@pytest.mark.parametrize("name", SHARED_TABLES)
def test_every_shared_table(name):
    df = load_slice(name)
    out = TabularVAE(random_state=0).fit(df).sample(3000, random_state=0)  # default parameters
    assert list(out.columns) == list(df.columns)
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
    for c in df.columns:
        real, syn = df[c], out[c]
        assert abs(real.isna().mean() - syn.isna().mean()) <= 0.02, c
        if pd.api.types.is_numeric_dtype(real) and not pd.api.types.is_bool_dtype(real):
            assert syn.min() >= real.min() and syn.max() <= real.max(), c
        else:
            assert set(syn.dropna()) <= set(real.dropna()), c


def test_quality_floor_on_adult(adult_slice):
    from sdmetrics.reports.single_table import QualityReport

    from tabvae.schema import infer_schema

    out = TabularVAE(epochs=30, random_state=0).fit(adult_slice).sample(len(adult_slice), random_state=0)
    report = QualityReport()
    report.generate(adult_slice, out, infer_schema(adult_slice).sdmetrics_metadata(), verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    assert scores["Column Shapes"] > 0.85 and scores["Column Pair Trends"] > 0.75, scores


def test_early_stopping_keeps_validation_history(mixed):
    model = TabularVAE(
        epochs=200,
        batch_size=64,
        latent_dim=4,
        early_stopping=True,
        random_state=0,
        config={"hidden_dims": (32,), "validation_fraction": 0.2, "n_iter_no_change": 3},
    ).fit(mixed)
    h = model.history_
    assert set(h) == {"loss", "reconstruction", "kl", "val_loss"}
    assert len(h["val_loss"]) == len(h["loss"]) < 200  # stopped before the epoch budget
    assert all(np.isfinite(h["val_loss"]))
    with pytest.raises(ValueError, match="early_stopping needs at least one training and one validation row"):
        TabularVAE(early_stopping=True, config={"validation_fraction": 0.1}).fit(mixed.head(2))


def test_kl_warmup_raises_the_kl_weight_linearly(mixed):
    # kl_warmup=0.5 of 4 epochs: the KL weight is 0.375 in epoch 1, then 0.75.
    model = TabularVAE(epochs=4, kl_weight=0.75, config={"kl_warmup": 0.5}, random_state=0).fit(mixed)
    h = model.history_
    weights = [(loss - rec) / kl for loss, rec, kl in zip(h["loss"], h["reconstruction"], h["kl"])]
    np.testing.assert_allclose(weights, [0.375, 0.75, 0.75, 0.75], rtol=1e-4)


def _numbers_table(n_rows, n_numeric=4, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n_rows, n_numeric)), columns=[f"x{i}" for i in range(n_numeric)])
    return df.assign(label=rng.choice(["a", "b"], n_rows))  # 4 of 5 columns are continuous: 80 %


@pytest.mark.parametrize(
    "n_rows, n_numeric, expected",
    [
        (5_000, 4, (6, 0.6, 0.25)),  # mostly numbers, enough rows: periodic features, lighter warmed-up KL
        (4_999, 4, (0, 1.0, 0.0)),  # too few rows for the sharper network: factorized, the full KL term
        (5_000, 3, (0, 0.75, 0.0)),  # 3 of 4 columns continuous: under 80 %
    ],
)
def test_auto_settings_follow_the_table(n_rows, n_numeric, expected):
    df = _numbers_table(n_rows, n_numeric)
    model = TabularVAE(epochs=8, random_state=0).fit(df)
    assert (model.numeric_frequencies_, model.kl_weight_, model.kl_warmup_) == expected
    assert model.model_.cfg.n_frequencies == expected[0]
    # decoder="auto": the masked network from 5,000 rows, columns independent given z below.
    assert model.decoder_ == ("autoregressive" if n_rows >= 5_000 else "factorized")
    assert (model.model_.ar is not None) == (model.decoder_ == "autoregressive")
    h = model.history_
    weights = [(loss - rec) / kl for loss, rec, kl in zip(h["loss"], h["reconstruction"], h["kl"])]
    kl, warmup_epochs = expected[1], round(expected[2] * 8)  # a quarter of 8 epochs: 2
    expect = [kl * min(1.0, (e + 1) / warmup_epochs) if warmup_epochs else kl for e in range(8)]
    np.testing.assert_allclose(weights, expect, rtol=1e-4)
    assert model.get_params()["config__numeric_frequencies"] == "auto"  # parameters are left as given


def test_explicit_settings_override_auto(mixed):
    df = _numbers_table(5_000)
    model = TabularVAE(epochs=1, kl_weight=1.0, random_state=0).fit(df)
    assert (model.numeric_frequencies_, model.kl_weight_, model.kl_warmup_) == (6, 1.0, 0.25)
    # Features asked for by hand bring the KL settings they were measured with.
    model = TabularVAE(epochs=1, config={"numeric_frequencies": 6, "decoder": "autoregressive"}, random_state=0)
    model.fit(mixed)
    assert (model.numeric_frequencies_, model.kl_weight_, model.kl_warmup_) == (6, 0.6, 0.25)
    model = TabularVAE(epochs=1, config={"numeric_frequencies": 0}, random_state=0).fit(df)
    assert (model.numeric_frequencies_, model.kl_weight_, model.kl_warmup_) == (0, 0.75, 0.0)
    # Without continuous columns there is nothing to feed, so the KL settings stay as without features.
    cats = pd.DataFrame({"a": ["x", "y"] * 50, "b": ["u", "v", "w", "u"] * 25})
    model = TabularVAE(epochs=1, config={"numeric_frequencies": 6, "decoder": "autoregressive"}, random_state=0)
    assert (model.fit(cats).numeric_frequencies_, model.kl_weight_, model.kl_warmup_) == (0, 0.75, 0.0)
    # The factorized decoder has no masked network to feed.
    model = TabularVAE(epochs=1, config={"decoder": "factorized", "numeric_frequencies": 6}, random_state=0).fit(df)
    assert (model.numeric_frequencies_, model.kl_weight_, model.model_.cfg.n_frequencies) == (0, 0.75, 0)
