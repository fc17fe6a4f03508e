import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score
from sklearn.tree import DecisionTreeClassifier

from tabvae import TabularVAE, TabVAEResampler, augment

FAST = dict(epochs=3, latent_dim=4, batch_size=64)


@pytest.fixture(scope="module")
def xy(adult_slice):
    return adult_slice.drop(columns="income"), adult_slice["income"]


@pytest.fixture(scope="module")
def small(xy):
    X, y = xy
    return X.iloc[:160], y.iloc[:160]


@pytest.fixture(scope="module")
def searched(small):
    X, y = small
    res = TabVAEResampler(vae=TabularVAE(**FAST), cv=2, random_state=0)
    return res, res.fit_resample(X, y)


class RecordingVAE(TabularVAE):
    """A TabularVAE that remembers the row ids of every table it is fitted on."""

    fits: list = []

    def fit(self, X, y=None):
        RecordingVAE.fits.append(frozenset(X["rid"].round().astype(int)))
        return super().fit(X, y)


# ---------------------------------------------------------------- fixed amounts


def test_resampler_balances_classes(xy):
    X, y = xy
    X_res, y_res = TabVAEResampler(n_new=None, vae=TabularVAE(epochs=5), random_state=0).fit_resample(X, y)
    counts = y_res.value_counts()
    assert counts[">50K"] == counts["<=50K"] == (y == "<=50K").sum()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    pd.testing.assert_series_equal(X_res.dtypes, X.dtypes)


@pytest.mark.parametrize("strategy", [0.5, {">50K": 600}])
def test_resampler_sampling_strategies(xy, strategy):
    X, y = xy
    _, y_res = TabVAEResampler(
        n_new=None, sampling_strategy=strategy, vae=TabularVAE(epochs=3), random_state=0
    ).fit_resample(X, y)
    majority = (y == "<=50K").sum()
    assert y_res.value_counts()[">50K"] == (round(0.5 * majority) if strategy == 0.5 else 600)
    assert y_res.value_counts()["<=50K"] == majority


@pytest.mark.parametrize("strategy", ["conditional", "latent_neighbours", "refined"])
def test_class_counts_follow_the_classes(small, strategy):
    X, y = small
    res = TabVAEResampler(n_new=1.0, strategy=strategy, vae=TabularVAE(**FAST), random_state=0)
    X_res, y_res = res.fit_resample(X, y)
    added = y_res.iloc[len(y) :].value_counts()
    wanted = y.value_counts()
    assert res.strategy_ == strategy and res.n_new_ == len(X_res) - len(X) == added.sum()
    if strategy == "conditional":  # exactly in proportion; the others may drop rows
        assert added.to_dict() == wanted.to_dict()
    else:
        assert (added <= wanted[added.index]).all() and added.sum() > 0.3 * len(y)
    assert set(y_res) == set(y)
    pd.testing.assert_series_equal(X_res.dtypes, X.dtypes)


def test_augment_regression_target(xy):
    X, _ = xy
    X_aug, y_aug = augment(X.drop(columns="age"), X["age"], n_new=250, vae=TabularVAE(epochs=3), random_state=0)
    assert len(X_aug) == len(X) + 250 and y_aug.dtype == X["age"].dtype
    assert y_aug.between(X["age"].min(), X["age"].max()).all()


def test_regression_auto_and_refined_target(small):
    X, _ = small
    X, y = X.drop(columns="hours-per-week"), X["hours-per-week"].astype(float)
    res = TabVAEResampler(vae=TabularVAE(**FAST), cv=2, random_state=0)
    X_res, y_res = res.fit_resample(X, y)
    assert set(res.cv_results_["param_strategy"]) == {"none", "refined"}
    assert list(res.cv_results_["param_n_new"]) == [0.0, 0.5, 1.0, 2.0]
    assert y_res.dtype == y.dtype and len(X_res) == len(X) + res.n_new_
    _, y_ref = augment(X, y, n_new=50, strategy="refined", vae=TabularVAE(**FAST), random_state=0)
    assert len(y_ref) == len(y) + 50 and y_ref.iloc[len(y) :].nunique() > 5  # predicted, not drawn


# ---------------------------------------------------------------- n_new="auto"


def test_cv_results_layout(searched, small):
    res, (X_res, y_res) = searched
    r = res.cv_results_
    n_arms = 1 + 3
    assert r["params"][0] == {"strategy": "none", "n_new": 0.0} and len(r["params"]) == n_arms
    assert list(r["param_n_new"]) == [0.0, "balance", 1.0, 2.0] and set(r["param_strategy"][1:]) == {"refined"}
    for key in (
        "split0_test_score",
        "split1_test_score",
        "mean_test_score",
        "std_test_score",
        "mean_lift",
        "std_lift",
        "rank_test_score",
        "param_n_new",
        "param_strategy",
    ):
        assert len(r[key]) == n_arms, key
    assert r["mean_lift"][0] == 0.0
    np.testing.assert_allclose(r["mean_lift"], r["mean_test_score"] - r["mean_test_score"][0])
    assert res.best_score_ == r["mean_test_score"][res.best_index_]
    chosen = r["params"][res.best_index_]
    assert res.strategy_ == (None if chosen["strategy"] == "none" else chosen["strategy"])
    assert len(X_res) == len(small[0]) + res.n_new_


def test_reproducible_with_random_state(searched, small):
    res, (X_res, y_res) = searched
    again = TabVAEResampler(vae=TabularVAE(**FAST), cv=2, random_state=0)
    X2, y2 = again.fit_resample(*small)
    np.testing.assert_array_equal(again.cv_results_["mean_test_score"], res.cv_results_["mean_test_score"])
    pd.testing.assert_frame_equal(X2, X_res)
    pd.testing.assert_series_equal(y2, y_res)


def test_generator_sees_training_folds_only(small):
    X, y = small
    X = X.assign(rid=np.arange(len(X), dtype=float))
    scored = []

    def scorer(est, X_test, y_test):
        scored.append(frozenset(X_test["rid"].round().astype(int)))
        return accuracy_score(y_test, est.predict(X_test))

    RecordingVAE.fits.clear()
    res = TabVAEResampler(vae=RecordingVAE(**FAST), scoring=scorer, cv=3, random_state=0)
    res.fit_resample(X, y)
    everything = frozenset(range(len(X)))
    folds = RecordingVAE.fits[:3]
    tests = set(scored)
    assert len(tests) == 3 and len(RecordingVAE.fits) == 3 + (res.n_new_ > 0)
    for fold_fit in folds:  # each fold's VAE misses exactly one test fold, and sees nothing of it
        missed = [t for t in tests if not (t & fold_fit)]
        assert len(missed) == 1 and missed[0] | fold_fit == everything
    if res.n_new_:
        assert RecordingVAE.fits[-1] == everything


def test_auto_can_choose_none():
    # The label is a threshold on one column, which a tree learns exactly; conditional rows from a
    # barely trained VAE only add label noise, so every amount of them scores below none.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.uniform(-1, 1, 120), "noise": rng.normal(size=120)})
    y = pd.Series(np.where(X["x"] > 0.5, "pos", "neg"))  # 1:3, so "balance" adds many rows
    RecordingVAE.fits.clear()
    res = TabVAEResampler(
        vae=RecordingVAE(epochs=1, latent_dim=2),
        strategy="conditional",
        estimator=DecisionTreeClassifier(random_state=0),
        scoring="accuracy",
        cv=3,
        random_state=0,
    )
    X_res, y_res = res.fit_resample(X.assign(rid=np.arange(120.0)), y)
    assert res.n_new_ == 0 and res.strategy_ is None and res.vae_ is None and res.best_index_ == 0
    assert len(RecordingVAE.fits) == 3  # no final VAE
    pd.testing.assert_frame_equal(X_res.drop(columns="rid"), X)
    pd.testing.assert_series_equal(y_res, y)


def test_numpy_inputs(small):
    X, y = small
    Xn = X.select_dtypes("number").to_numpy()
    X_res, y_res = augment(Xn, (y == ">50K").to_numpy(), vae=TabularVAE(**FAST), cv=2, random_state=0)
    assert isinstance(X_res, np.ndarray) and isinstance(y_res, np.ndarray)
    assert X_res.shape[1] == Xn.shape[1] and len(X_res) == len(y_res) >= len(Xn)
    np.testing.assert_array_equal(X_res[: len(Xn)], Xn)


def test_resampler_in_imblearn_pipeline(small):
    pytest.importorskip("imblearn")
    from imblearn.pipeline import Pipeline
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = small
    X = X.select_dtypes("number")
    pipe = Pipeline(
        [
            ("aug", TabVAEResampler(vae=TabularVAE(**FAST), cv=2, random_state=0)),
            ("clf", HistGradientBoostingClassifier(max_iter=20)),
        ]
    )
    assert pipe.fit(X, y).score(X, y) > 0.7
    assert hasattr(pipe.named_steps["aug"], "cv_results_")


# ---------------------------------------------------------------- input checks


def test_y_is_aligned_on_the_index(small):
    X, y = small
    shuffled = y.sample(frac=1, random_state=0)
    _, y_res = augment(X, shuffled, n_new=0, random_state=0)
    pd.testing.assert_series_equal(y_res, y.reset_index(drop=True))
    with pytest.raises(ValueError, match="different index labels"):
        augment(X, y.set_axis(y.index + 10_000), n_new=0)
    _, y_pos = augment(X, y.to_numpy(), n_new=0)  # an array is paired by position
    np.testing.assert_array_equal(y_pos, y.to_numpy())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_new": None, "sampling_strategy": "most"}, r"sampling_strategy must be 'auto'"),
        ({"n_new": None, "sampling_strategy": {"rich": 10}}, r"names classes not in y: \['rich'\]"),
        ({"n_new": None, "sampling_strategy": {">50K": 1}}, r"asks for fewer rows than exist"),
        ({"n_new": -1}, r"n_new must be 'auto', None, a non-negative int"),
        ({"strategy": "joint"}, r"strategy must be 'auto' or one of \['conditional'"),
        ({"scoring": "roc_auc_typo"}, r"scoring='roc_auc_typo' is not a scikit-learn scorer name"),
        ({"estimator": object()}, r"estimator must be a scikit-learn estimator with fit and predict"),
        ({"cv": 1}, r"cv must be an int >= 2"),
    ],
)
def test_bad_parameters(small, kwargs, match):
    X, y = small
    error = TypeError if "estimator" in kwargs else ValueError
    with pytest.raises(error, match=match):
        TabVAEResampler(vae=TabularVAE(epochs=1), **kwargs).fit_resample(X, y)


def test_too_small_class_for_the_folds(small):
    X, y = small
    y = y.where(np.arange(len(y)) >= 3, "rare")
    with pytest.raises(ValueError, match=r"class 'rare' has 3 row\(s\), fewer than cv=5 folds need"):
        augment(X, y, vae=TabularVAE(epochs=1))


def test_regression_needs_n_new(xy):
    X, _ = xy
    with pytest.raises(ValueError, match=r"looks continuous \(regression\); pass n_new"):
        augment(X.drop(columns="fnlwgt"), X["fnlwgt"].astype(float), n_new=None, vae=TabularVAE(epochs=1))


# ---------------------------------------------------------------- amounts and the choice rule


def test_fill_up_gives_rows_to_the_rarest_classes_first():
    from tabvae.augmentation.strategies import class_targets, fill_up

    y = pd.Series(["a"] * 60 + ["b"] * 30 + ["c"] * 10)
    assert fill_up(y, 20) == {"a": 0, "b": 0, "c": 20}
    assert fill_up(y, 50) == {"a": 0, "b": 15, "c": 35}  # b and c both reach 45
    deficit = class_targets(y, "auto")
    assert fill_up(y, sum(deficit.values())) == {"a": 0, **deficit}  # exactly balanced
    assert fill_up(y, 110) == {"a": 10, "b": 40, "c": 60}  # then equal shares: 70 each
    assert sum(fill_up(y, 7).values()) == 7


def test_auto_keeps_balance_unless_the_folds_disagree_and_adds_rows_only_on_a_gain_in_most_folds():
    from tabvae.augmentation.search import summarize

    params = [{"strategy": "none", "n_new": 0.0}] + [{"strategy": "refined", "n_new": a} for a in ("balance", 1.0)]
    # the 1x arm is better on average, but not by more than the standard error of the difference
    close = np.array([[0.80, 0.70, 0.75], [0.82, 0.72, 0.77], [0.85, 0.71, 0.78]])
    assert summarize({"params": params, "scores": close}, default=1)[1] == 1
    # now it is better on every fold by 0.02-0.03
    clear = np.array([[0.80, 0.70, 0.75], [0.82, 0.72, 0.77], [0.85, 0.74, 0.80]])
    assert summarize({"params": params, "scores": clear}, default=1)[1] == 2
    # rows that hurt on every fold: none
    hurt = np.array([[0.80, 0.70, 0.75], [0.78, 0.69, 0.73], [0.77, 0.68, 0.74]])
    assert summarize({"params": params, "scores": hurt}, default=1)[1] == 0
    # a mean gain below half its standard error (+0.03, -0.02, +0.01 on the folds): none
    noisy = np.array([[0.80, 0.70, 0.75], [0.83, 0.68, 0.76], [0.79, 0.69, 0.74]])
    assert summarize({"params": params, "scores": noisy}, default=1)[1] == 0
    # the same folds with a clearer gain (+0.03, -0.01, +0.02): rows
    clearer = np.array([[0.80, 0.70, 0.75], [0.83, 0.69, 0.77], [0.79, 0.69, 0.74]])
    assert summarize({"params": params, "scores": clearer}, default=1)[1] == 1
    # a mean gain above half its standard error from one fold only (+0.05, -0.001, -0.001): none
    one_fold = np.array([[0.80, 0.70, 0.75], [0.85, 0.699, 0.749], [0.79, 0.69, 0.74]])
    lift = one_fold[1] - one_fold[0]
    assert lift.mean() - 0.5 * lift.std(ddof=1) / np.sqrt(3) > 0  # the standard-error test alone would add rows
    assert summarize({"params": params, "scores": one_fold}, default=1)[1] == 0
