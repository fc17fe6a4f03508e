"""Anomaly detection with a VAE: scikit-learn's outlier-detector contract plus explanations.

A thin class that owns a :class:`TabularVAE` (as scikit-learn meta-estimators
own theirs), rather than more methods on the generator: the detector has
its own parameters (``contamination``) and fitted state (``offset_``), and
keeping them apart leaves ``TabularVAE``'s contract that of a generator.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .config import check_seed
from .estimator import TabularVAE

# The parameters of the VAE the detector fits by default: the true ELBO (scores are bounds on log p(x)
# only without a KL weight), no latent sampler (scoring needs none), a factorized decoder.
SCORING_EPOCHS = 3  # the scoring model's training: short enough not to learn the anomalies among the rows
# The fully trained model has learned the training rows' anomalies too: its tail shares in data units (the
# density of values, which a cluster of anomalies raises) count this many times larger.  In encoded units it
# keeps its full say: there it finds the rows that break a dependency between columns.
FULL_MODEL_HANDICAP = 5
DEFAULT_TEMPLATE: dict[str, Any] = {
    "kl_weight": 1.0,
    "early_stopping": False,  # the benchmark's settings: the brief model is the early stop
    "config": {
        "value_protection": 0,  # rare levels and extreme values are what the scores must see
        "prior": "standard",
        "decoder": "factorized",
        "hidden_dims": (128, 128),
        "learning_rate": 1e-3,
        "ema_decay": 0.0,
        "discrete_levels": 0,
        "stop_when_settled": True,  # the full model trains until its ranking of the rows stops changing
        "robust_ramp": (2.0, 4.0),  # a batch's rows far less likely than its median pull less on both models
    },
}


class TabularVAEAnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag rows a VAE finds unlikely, and say which columns made them so.

    Parameters
    ----------
    vae : TabularVAE, optional
        Template model (cloned at fit).  Default ``TabularVAE(**DEFAULT_TEMPLATE)``:
        ``kl_weight=1.0``, ``early_stopping=False`` and ``config={
        "value_protection": 0, "prior": "standard", "decoder": "factorized",
        "hidden_dims": (128, 128), "learning_rate": 1e-3, "ema_decay": 0.0,
        "discrete_levels": 0, "stop_when_settled": True,
        "robust_ramp": (2.0, 4.0)}`` (rare levels and extremes are kept: they
        are what the scores must see; training ends once the model's ranking
        of the rows settles, and each batch's far less likely rows pull less
        on it).  Scores are ELBO bounds on
        log p(x), which are only that with the unweighted ELBO, and scoring
        needs no sampler.  Two models are fitted from it, both on the rows
        ``trim`` keeps (all by default): one trained for ``scoring_epochs``
        epochs, one trained as the template says.
    scoring_epochs : int or None, default=3
        Epochs of the briefly trained model.  It has learned what most rows
        share but not yet the anomalies among the training rows, which the
        fully trained model learns as normal rows; the fully trained one
        knows how columns depend on each other and explains rows
        (``docs/decisions/anomaly-detector.md``).  ``None``: only the fully
        trained model.
    contamination : "auto" or float in (0, 0.5], default="auto"
        Expected share of anomalies; sets ``offset_``.  With ``"auto"`` the
        threshold is a robust outlier fence on the training scores:
        median - 3 x 1.4826 x MAD (about 3 standard deviations).
    n_importance_samples : int, optional
        Score with the importance-weighted bound on log p(x) (tighter)
        instead of the ELBO.
    units : {"both", "data", "encoded"}, default="both"
        ``"data"`` scores the density of each row in the columns' own units:
        the bound on log p(z) of the encoded row plus log |dz/dx| of every
        numeric cell (change of variables through the quantile map), so a value
        in a sparse region or far outside the training range scores low even
        though the quantile map squeezes it near the edge.  ``"encoded"``
        scores the encoded row as :meth:`TabularVAE.score_samples` does.
        With one of these, rows are scored by the briefly trained model.
        ``"both"``: a row is as unusual as it is under the most telling of both
        units and both models; its score is the log of the smallest of its
        tail shares (the share of training rows scoring no higher, plus one,
        over ``n_train + 1``), a log-probability in [-log(n_train + 1), 0]
        rather than a bound on log p(x).  The fully trained model's shares in
        data units count ``FULL_MODEL_HANDICAP`` (5) times larger: it has
        learned the density of the anomalies among the training rows too.
        Each unit and each model finds anomalies the others miss.
    trim : float in [0, 0.5), default=0.0
        Share of the training rows that neither model trains on: those a
        first model, trained for ``scoring_epochs`` epochs (3 when None) on
        every row, finds least likely in either unit (one more brief fit).
        It keeps a cluster of anomalies among the training rows from
        becoming a mode the models learn as normal, but it also leaves out
        legitimate rare rows, which then score as less likely.  The tail
        shares of ``units="both"`` and the threshold still count every
        training row.  0.1 helps on the anomaly benchmark's numeric tables
        and hurts mixed-type contextual anomalies on Adult
        (``docs/decisions/anomaly-detector.md``): try it when your training
        rows hold anomalies, and check it on rows whose labels you know.
    random_state : None, int, RandomState or numpy Generator, default=None

    Attributes
    ----------
    vae_ : TabularVAE
        The briefly trained model (the fully trained one if ``scoring_epochs`` is None).
    explainer_ : TabularVAE
        The fully trained model, behind :meth:`explain`.
    reference_bounds_ : dict of ndarray or None
        With ``units="both"``, the training rows' sorted bounds per model and unit.
    offset_ : float
        ``decision_function = score_samples - offset_``; negative is an anomaly.

    Notes
    -----
    The detector and ``TabularVAE.score_samples`` answer different questions
    and can rank rows differently: a generator is trained to learn every row,
    anomalies included; the detector's scoring model is not.

    A category never seen in training scores as if it had been seen once:
    ``log(n_train + 1)`` nats are added to that cell's negative log-likelihood.
    Columns are matched by name, in any order.

    Examples
    --------
    >>> from tabvae import TabularVAE
    >>> from tabvae.anomaly import TabularVAEAnomalyDetector
    >>> from tabvae.datasets import load_adult
    >>> df = load_adult().head(800)
    >>> det = TabularVAEAnomalyDetector(vae=TabularVAE(epochs=3), contamination=0.05, random_state=0)
    >>> labels = det.fit_predict(df)
    >>> sorted(set(labels.tolist()))
    [-1, 1]
    >>> det.explain(df.head(2)).shape
    (2, 15)
    """

    def __init__(
        self,
        *,
        vae: TabularVAE | None = None,
        contamination: float | str = "auto",
        n_importance_samples: int | None = None,
        scoring_epochs: int | None = SCORING_EPOCHS,
        units: str = "both",
        trim: float = 0.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.vae = vae
        self.contamination = contamination
        self.n_importance_samples = n_importance_samples
        self.scoring_epochs = scoring_epochs
        self.units = units
        self.trim = trim
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TabularVAEAnomalyDetector:
        """Fit the VAE on ``X`` (labels, if any, are ignored) and set ``offset_``."""
        c = self.contamination
        if not (c == "auto" or (isinstance(c, numbers.Real) and not isinstance(c, bool) and 0 < c <= 0.5)):
            raise ValueError(f"contamination must be 'auto' or a float in (0, 0.5], got {c!r}.")
        if self.units not in ("both", "data", "encoded"):
            raise ValueError(f"units must be 'both', 'data' or 'encoded', got {self.units!r}.")
        e = self.scoring_epochs
        if e is not None and (isinstance(e, bool) or not isinstance(e, numbers.Integral) or e < 1):
            raise ValueError(f"scoring_epochs must be a positive int or None, got {e!r}.")
        t = self.trim
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 <= t < 0.5:
            raise ValueError(f"trim must be a float in [0, 0.5), got {t!r}.")
        rng = check_seed(self.random_state)
        template = clone(self.vae) if self.vae is not None else TabularVAE(**copy.deepcopy(DEFAULT_TEMPLATE))
        seed = rng.randint(2**31 - 1)
        self._n_train: int = len(X)
        rows = self._typical_rows(template, X, seed, e or SCORING_EPOCHS)
        self.explainer_: TabularVAE = clone(template).set_params(random_state=seed).fit(rows)
        self.vae_: TabularVAE = (
            self.explainer_ if e is None else template.set_params(epochs=e, random_state=seed).fit(rows)
        )
        self.n_features_in_ = self.vae_.n_features_in_
        if hasattr(self.vae_, "feature_names_in_"):
            self.feature_names_in_ = self.vae_.feature_names_in_
        self.reference_bounds_: dict[str, np.ndarray] | None = None
        if self.units == "both":
            bounds = self._all_bounds(X)
            self.reference_bounds_ = {k: np.sort(b) for k, b in bounds.items()}
            scores = self._tail_score(bounds)
        else:
            scores = self.score_samples(X)
        if c == "auto":
            med = np.median(scores)
            mad = np.median(np.abs(scores - med))
            self.offset_: float = float(med - 3 * 1.4826 * mad)
        else:
            self.offset_ = float(np.percentile(scores, 100 * float(c)))
        return self

    def _typical_rows(self, template: TabularVAE, X: Any, seed: int, epochs: int) -> Any:
        """``X`` without the ``trim`` share of rows a brief model of all of ``X`` finds least likely."""
        n_drop = int(self.trim * len(X))
        if n_drop == 0:
            return X
        first = clone(template).set_params(epochs=epochs, random_state=seed).fit(X)
        bounds = self._likelihoods(first, X)[1]
        # A row's rank is its lower one over both units: unusual in either is enough.
        rank = np.minimum.reduce([pd.Series(b).rank(method="average").to_numpy() for b in bounds.values()])
        keep = np.sort(np.argsort(rank, kind="stable")[n_drop:])  # (n_rows - n_drop,)
        return X.iloc[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]

    def _likelihoods(self, vae: TabularVAE, X: Any) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Per-row, per-column NLL of ``vae`` (averaged over draws) and the rows' bounds in both units."""
        df = vae.match_columns(X)
        vae.encoder_.check_missing(df)
        cont, codes = vae.encoder_.transform(df, extrapolate=True)
        unknown = codes < 0
        dims, bound = vae.likelihood_bounds(cont, codes, n_importance_samples=self.n_importance_samples)
        lay, n_cont = vae.encoder_.layout_, vae.encoder_.layout_.n_continuous
        penalty = np.log(self._n_train + 1)
        dims[:, n_cont:][unknown] += penalty  # unseen category: as rare as one training occurrence
        bound -= penalty * unknown.sum(1)
        bounds = {"encoded": bound, "data": bound + vae.encoder_.log_jacobian(df).to_numpy().sum(1)}
        per_col = {}
        for name in vae.schema_.names:
            sc, sk = lay.continuous[name], lay.codes[name]
            per_col[name] = dims[:, sc].sum(1) + dims[:, n_cont + sk.start : n_cont + sk.stop].sum(1)
        return pd.DataFrame(per_col, index=df.index), bounds

    def _all_bounds(self, X: Any) -> dict[str, np.ndarray]:
        """The rows' bounds under each model (the brief one and the full one) in each unit."""
        models = {"brief": self.vae_, "full": self.explainer_}
        if self.vae_ is self.explainer_:  # scoring_epochs=None: one model
            del models["brief"]
        return {f"{m}/{u}": b for m, vae in models.items() for u, b in self._likelihoods(vae, X)[1].items()}

    def score_samples(self, X: Any) -> np.ndarray:
        """Each row's score, higher = more normal (see ``units``)."""
        check_is_fitted(self, "vae_")
        if self.units != "both":
            return self._likelihoods(self.vae_, X)[1][self.units]
        return self._tail_score(self._all_bounds(X))

    def _tail_score(self, bounds: dict[str, np.ndarray]) -> np.ndarray:
        """The log of each row's smallest tail share among the training rows' ``reference_bounds_``."""
        reference = self.reference_bounds_ or {}  # set by fit
        handicap = 1 if self.vae_ is self.explainer_ else FULL_MODEL_HANDICAP
        shares = []
        for k, b in bounds.items():
            share = (np.searchsorted(reference[k], b, side="right") + 1) / (self._n_train + 1)
            shares.append(share * handicap if k == "full/data" else share)
        return np.log(np.minimum.reduce(shares))

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for anomalies."""
        check_is_fitted(self)
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for normal rows, -1 for anomalies."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood bound of ``X``."""
        return float(np.mean(self.score_samples(X)))

    def explain(self, X: Any) -> pd.DataFrame:
        """Each column's share of each row's anomaly score.

        Returns
        -------
        DataFrame with the columns of X
            Negative log-likelihood (nats) of every cell given the row's
            latent code, on the encoded (scale-free) scale so that columns
            compare; the largest values name the fields that made a row
            unusual.  Rows sum to the reconstruction part of the negative
            ELBO.
        """
        check_is_fitted(self)
        return self._likelihoods(self.explainer_, X)[0]
