"""Latent space: transform / inverse_transform / reconstruct / interpolate, and conditional sampling."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from tabvae import TabularVAE


@pytest.fixture(scope="module")
def adult_model(adult_slice):
    # kl_weight=0.5: the latent code carries more of each row, as docs/limitations.md advises for latent
    # work on a small table (the default there is the full KL term).
    model = TabularVAE(epochs=150, kl_weight=0.5, conditional_columns=["income"], random_state=0).fit(adult_slice)
    return adult_slice, model


def test_transform_shape_and_feature_names(adult_model):
    df, model = adult_model
    Z = model.transform(df)
    assert Z.shape == (len(df), model.latent_dim) and np.isfinite(Z).all()
    assert list(model.get_feature_names_out()) == [f"z{i}" for i in range(model.latent_dim)]
    model_pd = TabularVAE(epochs=2, random_state=0).set_output(transform="pandas").fit(df.head(200))
    out = model_pd.transform(df.head(5))
    assert isinstance(out, pd.DataFrame) and list(out.columns) == [f"z{i}" for i in range(32)]


def test_latents_are_features_in_a_pipeline(adult_slice):
    X, y = adult_slice.drop(columns="income"), adult_slice["income"]
    # 60 epochs = 180 steps on these 1,500 rows: 20 left the latent code too untrained to carry the label.
    pipe = make_pipeline(TabularVAE(epochs=60, random_state=0), LogisticRegression(max_iter=500))
    assert pipe.fit(X, y).score(X, y) > (y.value_counts(normalize=True).max() + 0.02)  # beats the majority class


def test_inverse_transform_honours_schema(adult_model):
    df, model = adult_model
    out = model.inverse_transform(np.random.RandomState(0).standard_normal((50, model.latent_dim)))
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
    with pytest.raises(ValueError, match=r"Z must have shape \(n_samples, 32\)"):
        model.inverse_transform(np.zeros((3, 4)))


def test_reconstruction_is_close(adult_model):
    df, model = adult_model
    rec = model.reconstruct(df)
    cats = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex"]
    kappas = []
    for c in cats:
        agree = (rec[c].astype(object).fillna("NA") == df[c].astype(object).fillna("NA")).mean()
        chance = (df[c].value_counts(normalize=True, dropna=False) ** 2).sum()
        # Cohen's-kappa-like gain over agreement by chance (0 = chance, 1 = perfect).
        kappas.append((agree - chance) / (1 - chance))
        assert kappas[-1] > 0.2, (c, agree, chance)
    assert np.mean(kappas) > 0.5, kappas
    corr = np.corrcoef(rec["age"], df["age"])[0, 1]
    assert corr > 0.7


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolation_endpoints(adult_model, method):
    df, model = adult_model
    a, b = df.iloc[[0]], df.iloc[[1]]
    path = model.interpolate(a, b, n_steps=7, method=method)
    assert len(path) == 7 and list(path.columns) == list(df.columns)
    # Endpoints decode to the rows' own reconstructions; numbers may differ in the last unit
    # (a one-row and a seven-row batch round differently in float32).
    for row, end in ((a, path.iloc[[0]]), (b, path.iloc[[-1]])):
        pd.testing.assert_frame_equal(
            end.reset_index(drop=True), model.reconstruct(row).reset_index(drop=True), check_exact=False, rtol=1e-4
        )
    with pytest.raises(ValueError, match="n_steps must be at least 2"):
        model.interpolate(a, b, n_steps=1)


def test_conditioned_samples_always_meet_conditions(adult_model):
    df, model = adult_model
    rows = model.sample(1000, conditions={"income": ">50K", "sex": "Female", "age": (30, 40)}, random_state=0)
    assert len(rows) == 1000
    assert (rows["income"] == ">50K").all() and (rows["sex"] == "Female").all()
    assert rows["age"].between(30, 40).all()
    pd.testing.assert_series_equal(rows.dtypes, df.dtypes)


def test_conditional_distribution_moves_the_right_way(adult_model):
    df, model = adult_model
    rich = model.sample(2000, conditions={"income": ">50K"}, random_state=1)
    poor = model.sample(2000, conditions={"income": "<=50K"}, random_state=1)
    real_gap = df.groupby("income")["age"].mean()
    assert rich["age"].mean() - poor["age"].mean() > 0.4 * (real_gap[">50K"] - real_gap["<=50K"])
    married = lambda d: (d["marital-status"] == "Married-civ-spouse").mean()  # noqa: E731
    assert married(rich) > married(poor) + 0.2


def test_per_row_conditions(adult_model):
    _, model = adult_model
    cond = pd.DataFrame({"income": [">50K", "<=50K", None, ">50K"], "sex": ["Female", None, "Male", None]})
    out = model.sample(None, conditions=cond, random_state=0)
    assert out["income"].tolist()[:2] == [">50K", "<=50K"] and out["income"][3] == ">50K"
    assert out["sex"][0] == "Female" and out["sex"][2] == "Male"
    with pytest.raises(ValueError, match=r"n_samples=3 but conditions has 4 rows"):
        model.sample(3, conditions=cond)


@pytest.mark.parametrize(
    "cond, match",
    [
        ({"nope": 1}, r"Unknown column 'nope' in conditions"),
        ({"income": "rich"}, r"Condition income='rich': value never seen in training"),
        ({"age": (200, 300)}, r"Condition age in \[200, 300\] does not overlap the training range"),
        ({"age": (40, 30)}, r"need low <= high"),
        ({"sex": (1, 2)}, r"a \(low, high\) range needs a numeric or datetime column"),
        ({"fnlwgt": 123456.5}, r"Condition fnlwgt=123456.5: 'fnlwgt' holds integers"),
        ({"fnlwgt": 1}, r"Condition fnlwgt=1 is outside the training range"),
        ("income", r"conditions must be a non-empty dict"),
    ],
)
def test_bad_conditions(adult_model, cond, match):
    with pytest.raises((ValueError, TypeError), match=match):
        adult_model[1].sample(10, conditions=cond)


def test_impossible_rejection_names_the_condition(adult_model):
    _, model = adult_model
    age, gain = (int(model.encoder_[c].training_range()[1]) for c in ("age", "capital-gain"))  # the protected maxima
    with pytest.raises(ValueError, match=rf"Could only generate \d+ of 500 rows meeting \{{'age': \({age}, {age}\)"):
        model.sample(500, conditions={"age": (age, age), "capital-gain": (gain, gain)}, max_tries=3, random_state=0)


def test_conditional_columns_validation(adult_slice):
    with pytest.raises(ValueError, match=r"conditional_columns: 'age' is integer"):
        TabularVAE(epochs=1, conditional_columns=["age"]).fit(adult_slice)
    with pytest.raises(ValueError, match=r"conditional_columns names 'nope'"):
        TabularVAE(epochs=1, conditional_columns=["nope"]).fit(adult_slice)


# ---------------------------------------------------------------- latent sampler (prior="gmm")


def _posteriors(n=2000, seed=0):
    """Two informative dimensions (two well-separated clusters) and three collapsed ones."""
    rng = np.random.RandomState(seed)
    centre = np.where(rng.rand(n) < 0.3, -2.0, 2.0)
    mu = np.zeros((n, 5))
    mu[:, 0] = centre
    mu[:, 1] = -centre
    std = np.ones((n, 5))
    std[:, :2] = 0.1
    return mu, std


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_mixture_models_only_the_active_dimensions(covariance_type):
    from tabvae.prior import GaussianMixturePrior

    mu, std = _posteriors()
    prior = GaussianMixturePrior.fit(mu, std, n_components=4, random_state=0, covariance_type=covariance_type)
    if covariance_type == "diag":  # stored as diagonal Cholesky factors: standard deviations, not variances
        assert all(np.count_nonzero(c - np.diag(np.diag(c))) == 0 for c in prior.chol)
        tight = prior.chol[np.argmax(prior.weights)].diagonal()  # the clusters' spread is about 0.1
        assert np.all((tight > 0.05) & (tight < 0.3))
    assert prior.active.tolist() == [True, True, False, False, False]
    z = prior.sample(20_000, np.random.RandomState(1))
    assert z.shape == (20_000, 5)
    # The clusters come back with their weights; nothing lands in the prior's "hole" at 0.
    assert np.mean(z[:, 0] < 0) == pytest.approx(0.3, abs=0.02)
    assert np.mean(np.abs(z[:, 0]) < 1) < 0.01
    # Collapsed dimensions stay standard normal.
    np.testing.assert_allclose(z[:, 2:].mean(0), 0, atol=0.03)
    np.testing.assert_allclose(z[:, 2:].std(0), 1, atol=0.03)


def test_mixture_rejects_other_covariance_types():
    from tabvae.prior import GaussianMixturePrior

    mu, std = _posteriors()
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixturePrior.fit(mu, std, n_components=4, random_state=0, covariance_type="tied")


def test_mixture_round_trips_and_handles_collapse():
    from tabvae.prior import GaussianMixturePrior

    mu, std = _posteriors()
    prior = GaussianMixturePrior.fit(mu, std, n_components=4, random_state=0)
    back = GaussianMixturePrior.from_dict(json.loads(json.dumps(prior.to_dict())))
    np.testing.assert_array_equal(
        back.sample(100, np.random.RandomState(2)), prior.sample(100, np.random.RandomState(2))
    )
    collapsed = GaussianMixturePrior.fit(np.zeros((100, 3)), np.ones((100, 3)), 4, random_state=0)
    assert not collapsed.active.any()
    z = collapsed.sample(5000, np.random.RandomState(0))
    assert z.shape == (5000, 3) and abs(z.std() - 1) < 0.05


def test_prior_parameter_selects_the_sampler(adult_slice):
    small = adult_slice.head(600)
    # KL weight 0.5: at the default 0.75 so few rows leave the latent code unused (nothing for a mixture).
    gmm = TabularVAE(epochs=20, kl_weight=0.5, random_state=0, config={"value_protection": 0}).fit(small)
    assert gmm.prior_ is not None and gmm.prior_.active.any()
    assert gmm.prior_.active.sum() <= gmm.latent_dim
    standard = TabularVAE(epochs=20, random_state=0, config={"prior": "standard"}).fit(small)
    assert standard.prior_ is None
    # Same seed, same samples, with the mixture sampler too.
    pd.testing.assert_frame_equal(gmm.sample(50, random_state=3), gmm.sample(50, random_state=3))
