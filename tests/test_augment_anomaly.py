import numpy as np
import pandas as pd
import pytest

from tabvae import TabularVAE, TabularVAEAnomalyDetector, TabVAEResampler, augment


@pytest.fixture(scope="module")
def xy(adult_slice):
    return adult_slice.drop(columns="income"), adult_slice["income"]


def test_resampler_balances_classes(xy):
    X, y = xy
    X_res, y_res = TabVAEResampler(vae=TabularVAE(epochs=5), random_state=0).fit_resample(X, y)
    counts = y_res.value_counts()
    assert counts[">50K"] == counts["<=50K"] == (y == "<=50K").sum()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    pd.testing.assert_series_equal(X_res.dtypes, X.dtypes)


@pytest.mark.parametrize("strategy, expected", [
    (0.5, {">50K": lambda n: n}),
    ({">50K": 600}, {">50K": lambda n: 600}),
])
def test_resampler_strategies(xy, strategy, expected):
    X, y = xy
    _, y_res = TabVAEResampler(sampling_strategy=strategy, vae=TabularVAE(epochs=3), random_state=0).fit_resample(X, y)
    majority = (y == "<=50K").sum()
    if strategy == 0.5:
        assert y_res.value_counts()[">50K"] == round(0.5 * majority)
    else:
        assert y_res.value_counts()[">50K"] == 600
    assert y_res.value_counts()["<=50K"] == majority


def test_resampler_in_imblearn_pipeline(xy):
    imblearn = pytest.importorskip("imblearn")
    from imblearn.pipeline import Pipeline
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = xy
    X = X.select_dtypes("number")
    pipe = Pipeline([("aug", TabVAEResampler(vae=TabularVAE(epochs=3), random_state=0)),
                     ("clf", HistGradientBoostingClassifier(max_iter=20))])
    assert pipe.fit(X, y).score(X, y) > 0.7
    assert imblearn is not None


def test_augment_regression_target(xy):
    X, _ = xy
    X_aug, y_aug = augment(X.drop(columns="age"), X["age"], n_new=250, vae=TabularVAE(epochs=3), random_state=0)
    assert len(X_aug) == len(X) + 250 and y_aug.dtype == X["age"].dtype
    assert y_aug.between(X["age"].min(), X["age"].max()).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"sampling_strategy": "most"}, r"sampling_strategy must be 'auto'"),
    ({"sampling_strategy": {"rich": 10}}, r"names classes not in y: \['rich'\]"),
    ({"sampling_strategy": {">50K": 1}}, r"asks for fewer rows than exist"),
])
def test_bad_strategies(xy, kwargs, match):
    X, y = xy
    with pytest.raises(ValueError, match=match):
        TabVAEResampler(vae=TabularVAE(epochs=1), **kwargs).fit_resample(X, y)


def test_regression_needs_n_new(xy):
    X, _ = xy
    with pytest.raises(ValueError, match=r"looks continuous \(regression\); pass n_new"):
        augment(X.drop(columns="fnlwgt"), X["fnlwgt"].astype(float), vae=TabularVAE(epochs=1))


# ---------------------------------------------------------------- anomaly detection

@pytest.fixture(scope="module")
def detector(adult_slice):
    return TabularVAEAnomalyDetector(vae=TabularVAE(epochs=150, kl_weight=1.0, prior="standard"), contamination=0.05, random_state=0).fit(adult_slice)


def _corrupt(df):
    bad = df.sample(60, random_state=1).reset_index(drop=True)
    bad.loc[:19, "age"] = 90
    bad.loc[:19, "hours-per-week"] = 99
    bad.loc[20:39, "education"] = "Preschool"
    bad.loc[20:39, "education-num"] = 16  # impossible pair: Preschool is 1
    bad.loc[40:, "capital-gain"] = 99999
    return bad


def test_injected_outliers_score_lower(detector, adult_slice):
    normal = detector.score_samples(adult_slice.sample(300, random_state=2))
    bad = detector.score_samples(_corrupt(adult_slice))
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(bad))], -np.r_[normal, bad])
    assert auc > 0.9, auc


def test_predict_share_follows_contamination(detector, adult_slice):
    share = (detector.predict(adult_slice) == -1).mean()
    assert share == pytest.approx(0.05, abs=0.01)
    np.testing.assert_allclose(detector.decision_function(adult_slice),
                               detector.score_samples(adult_slice) - detector.offset_)
    auto = TabularVAEAnomalyDetector(vae=TabularVAE(epochs=5), random_state=0).fit(adult_slice)
    assert 0 < (auto.predict(adult_slice) == -1).mean() < 0.2


def test_explanations_point_to_corrupted_column(detector, adult_slice):
    bad = _corrupt(adult_slice)
    top = detector.explain(bad).idxmax(axis=1)
    assert list(detector.explain(bad).columns) == list(adult_slice.columns)
    assert top[:20].isin(["age", "hours-per-week"]).mean() > 0.6
    assert top[20:40].isin(["education", "education-num"]).mean() > 0.6
    assert (top[40:] == "capital-gain").mean() > 0.6


def test_unseen_category_and_column_order(detector, adult_slice):
    rows = adult_slice.head(5)
    odd = rows.assign(workclass="Astronaut")
    assert (detector.score_samples(odd) < detector.score_samples(rows)).all()
    expl = detector.explain(odd)
    assert (expl["workclass"] >= np.log(len(adult_slice) + 1)).all()  # scored as if seen once at most
    assert (expl.idxmax(axis=1) == "workclass").mean() >= 0.6
    np.testing.assert_allclose(detector.score_samples(rows[rows.columns[::-1]]), detector.score_samples(rows))
    with pytest.raises(ValueError, match=r"missing \['age'\]"):
        detector.score_samples(rows.drop(columns="age"))


def test_importance_weighted_bound_is_tighter(detector, adult_slice):
    vae, rows = detector.vae_, adult_slice.head(200)
    iwae = vae.score_samples(rows, n_importance_samples=64)
    # score_samples' draws are fixed and shared, so the same 64 draws give the ELBO's Monte
    # Carlo estimate, which the importance-weighted bound dominates row by row (Jensen).
    rec, log_w, kl = next(vae._likelihood_terms(*vae._encode_input(rows), 64))
    assert (iwae >= log_w.mean(0).cpu().numpy() - 1e-9).all()
    # And on average it is above the ELBO with the analytic KL that score_samples reports.
    elbo = -(rec.sum(-1).mean(0) + kl).cpu().numpy()
    assert iwae.mean() > elbo.mean()
    assert np.isfinite(vae.score_samples(rows)).all()


def test_bad_contamination(adult_slice):
    with pytest.raises(ValueError, match=r"contamination must be 'auto' or a float in \(0, 0.5\]"):
        TabularVAEAnomalyDetector(contamination=0.9).fit(adult_slice)
