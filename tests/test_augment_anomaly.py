import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from benchmarks.explain_check import contextual_anomalies, corrupt
from tabvae import TabularVAE, TabularVAEAnomalyDetector
from tabvae.anomaly import DEFAULT_TEMPLATE, FULL_MODEL_HANDICAP, SCORING_EPOCHS
from tabvae.training import SETTLED

# ---------------------------------------------------------------- anomaly detection


@pytest.fixture(scope="module")
def detector(adult_slice):
    return TabularVAEAnomalyDetector(
        vae=TabularVAE(epochs=150, kl_weight=1.0, config={"prior": "standard", "decoder": "autoregressive"}),
        contamination=0.05,
        scoring_epochs=None,  # one fully trained model: these tests check its likelihood and explanations
        units="data",
        random_state=0,
    ).fit(adult_slice)


def test_injected_outliers_score_lower(detector, adult_slice):
    normal = detector.score_samples(adult_slice.sample(300, random_state=2))
    bad = detector.score_samples(contextual_anomalies(adult_slice))
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(bad))], -np.r_[normal, bad])
    assert auc > 0.9, auc


def test_predict_share_follows_contamination(detector, adult_slice):
    share = (detector.predict(adult_slice) == -1).mean()
    assert share == pytest.approx(0.05, abs=0.01)
    np.testing.assert_allclose(
        detector.decision_function(adult_slice), detector.score_samples(adult_slice) - detector.offset_
    )
    auto = TabularVAEAnomalyDetector(vae=TabularVAE(epochs=5), random_state=0).fit(adult_slice)
    assert 0 < (auto.predict(adult_slice) == -1).mean() < 0.2


def test_explanations_point_to_corrupted_column(detector, adult_slice):
    bad = contextual_anomalies(adult_slice)
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
    import torch

    from tabvae.inference import float64_copy
    from tabvae.model import log_likelihood_terms

    cont, codes = vae.encoder_.transform(vae.match_columns(rows))
    eps = torch.randn((64, vae.latent_dim), generator=torch.Generator().manual_seed(0)).double()
    rec, log_w, kl = log_likelihood_terms(float64_copy(vae.model_), torch.as_tensor(cont), torch.as_tensor(codes), eps)
    assert (iwae >= log_w.mean(0).cpu().numpy() - 1e-9).all()
    # And on average it is above the ELBO with the analytic KL that score_samples reports.
    elbo = -(rec.sum(-1).mean(0) + kl).cpu().numpy()
    assert iwae.mean() > elbo.mean()
    assert np.isfinite(vae.score_samples(rows)).all()


def test_bad_contamination(adult_slice):
    with pytest.raises(ValueError, match=r"contamination must be 'auto' or a float in \(0, 0.5\]"):
        TabularVAEAnomalyDetector(contamination=0.9).fit(adult_slice)


def test_explain_names_the_single_injected_column_first(adult_slice):
    train, rows = adult_slice.iloc[:1200], adult_slice.iloc[1200:1400]
    detector = TabularVAEAnomalyDetector(random_state=0).fit(train)  # the default template
    bad, hit = corrupt(rows, train, np.random.RandomState(0))
    assert (detector.explain(bad).idxmax(axis=1).to_numpy() == hit).mean() >= 0.8


def test_default_detector_scores_are_log_tail_shares(adult_slice):
    train = adult_slice.iloc[:1000]
    detector = TabularVAEAnomalyDetector(random_state=0).fit(train)
    scores = detector.score_samples(adult_slice)
    assert scores.max() <= 0 and scores.min() >= -np.log(len(train) + 1) - 1e-12
    assert set(detector.reference_bounds_) == {"brief/data", "brief/encoded", "full/data", "full/encoded"}
    assert detector.explainer_ is not detector.vae_ and len(detector.vae_.history_["loss"]) == 3
    np.testing.assert_array_equal(detector.predict(adult_slice), np.where(scores < detector.offset_, -1, 1))


def _tail_shares(detector, X):
    n = detector._n_train + 1
    bounds = detector._all_bounds(X)
    return {k: (np.searchsorted(detector.reference_bounds_[k], b, side="right") + 1) / n for k, b in bounds.items()}


@pytest.mark.parametrize("scoring_epochs", [3, None])
def test_only_the_full_models_data_units_are_handicapped(adult_slice, scoring_epochs):
    vae = TabularVAE(**{**copy.deepcopy(DEFAULT_TEMPLATE), "epochs": 4})
    detector = TabularVAEAnomalyDetector(vae=vae, scoring_epochs=scoring_epochs, random_state=0)
    detector.fit(adult_slice.iloc[:800])
    shares = _tail_shares(detector, adult_slice)
    plain = np.log(np.minimum.reduce(list(shares.values())))
    if scoring_epochs is None:  # one model: nothing to weigh it against
        assert set(shares) == {"full/data", "full/encoded"}
        np.testing.assert_allclose(detector.score_samples(adult_slice), plain)
        return
    shares["full/data"] = shares["full/data"] * FULL_MODEL_HANDICAP
    expected = np.log(np.minimum.reduce(list(shares.values())))
    np.testing.assert_allclose(detector.score_samples(adult_slice), expected)
    assert (expected > plain).any()  # the handicap decides some rows' scores


def test_default_detector_finds_anomalies_among_its_training_rows():
    # Unsupervised: 5 % of the training rows are anomalies scattered around the normal ones, and
    # they are the rows to find (IsolationForest: 0.994 on this table).
    rng = np.random.RandomState(0)
    normal = rng.multivariate_normal([0, 0, 0], [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 1]], size=950)
    odd = rng.uniform(-6, 6, size=(50, 3))
    X = pd.DataFrame(np.vstack([normal, odd]), columns=["a", "b", "c"])
    y = np.r_[np.zeros(950), np.ones(50)]
    detector = TabularVAEAnomalyDetector(random_state=0).fit(X)
    scores = detector.score_samples(X)
    assert roc_auc_score(y, -scores) > 0.97
    assert len(detector.vae_.history_["loss"]) == SCORING_EPOCHS
    # The full model stopped once its ranking of the rows settled, before epochs="auto"'s 300 passes.
    full = detector.explainer_.history_
    assert full["rank_correlation"][-1] >= SETTLED and len(full["loss"]) < 300, full["rank_correlation"]
    # fit's threshold comes from the same scores that score_samples gives afterwards
    median = np.median(scores)
    assert detector.offset_ == pytest.approx(median - 3 * 1.4826 * np.median(np.abs(scores - median)))


def test_full_model_keeps_the_templates_epochs():
    X = pd.DataFrame(np.random.RandomState(0).normal(size=(200, 2)), columns=["a", "b"])
    vae = TabularVAE(**{**copy.deepcopy(DEFAULT_TEMPLATE), "epochs": 7})
    detector = TabularVAEAnomalyDetector(vae=vae, random_state=0).fit(X)
    assert len(detector.explainer_.history_["loss"]) == 7
    assert vae.epochs == 7  # the template itself is not changed


def test_default_detector_finds_contextual_anomalies(adult_slice):
    # Values each seen in training, in combinations that are not: the fully trained model's part.
    detector = TabularVAEAnomalyDetector(random_state=0).fit(adult_slice)
    normal = detector.score_samples(adult_slice.sample(300, random_state=2))
    bad = detector.score_samples(contextual_anomalies(adult_slice))
    assert roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(bad))], -np.r_[normal, bad]) > 0.9


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_scoring_epochs_is_checked(adult_slice, bad):
    with pytest.raises(ValueError, match="scoring_epochs"):
        TabularVAEAnomalyDetector(scoring_epochs=bad).fit(adult_slice.head(50))


@pytest.mark.parametrize("bad", [-0.1, 0.5, True, "auto"])
def test_trim_is_checked(adult_slice, bad):
    with pytest.raises(ValueError, match="trim"):
        TabularVAEAnomalyDetector(trim=bad).fit(adult_slice.head(50))


def test_trim_leaves_out_the_rows_a_brief_model_finds_least_likely():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.multivariate_normal([0, 0, 0], np.eye(3) + 0.5, size=400), columns=["a", "b", "c"])
    X.iloc[:20] = rng.uniform(-8, 8, size=(20, 3))  # 5 % scattered anomalies
    detector = TabularVAEAnomalyDetector(trim=0.1, random_state=0)
    detector._n_train = len(X)
    kept = detector._typical_rows(TabularVAE(**copy.deepcopy(DEFAULT_TEMPLATE)), X, seed=0, epochs=3)
    assert len(kept) == 360 and kept.index.is_monotonic_increasing
    assert kept.index.isin(range(20)).sum() <= 4  # most anomalies are among the 40 rows left out
    detector.trim = 0.0
    assert detector._typical_rows(None, X, seed=0, epochs=3) is X  # nothing to leave out: no first fit


def test_trimmed_detector_counts_every_training_row_in_its_shares(adult_slice):
    rows = adult_slice.head(300)
    vae = TabularVAE(**{**copy.deepcopy(DEFAULT_TEMPLATE), "epochs": 3})
    detector = TabularVAEAnomalyDetector(vae=vae, trim=0.1, random_state=0).fit(rows)
    assert all(len(b) == 300 for b in detector.reference_bounds_.values())  # all rows, 270 trained on
    scores = detector.score_samples(rows)
    assert np.isfinite(scores).all() and scores.max() <= 0
    again = TabularVAEAnomalyDetector(vae=vae, trim=0.1, random_state=0).fit(rows).score_samples(rows)
    np.testing.assert_array_equal(scores, again)  # seeded: the first model and the row ranking repeat
