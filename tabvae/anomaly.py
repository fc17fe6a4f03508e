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
DEFAULT_TEMPLATE: dict[str, Any] = {
    "kl_weight": 1.0,
    "config": {
        "prior": "standard",
        "decoder": "factorized",
        "hidden_dims": (128, 128),
        "learning_rate": 1e-3,
        "ema_decay": 0.0,
        "discrete_levels": 0,
    },
}


class TabularVAEAnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag rows a VAE finds unlikely, and say which columns made them so.

    Parameters
    ----------
    vae : TabularVAE, optional
        Template model (cloned at fit).  Default ``TabularVAE(**DEFAULT_TEMPLATE)``:
        ``kl_weight=1.0`` and ``config={"prior": "standard", "decoder":
        "factorized", "hidden_dims": (128, 128), "learning_rate": 1e-3,
        "ema_decay": 0.0, "discrete_levels": 0}``.  Scores are ELBO bounds on
        log p(x), which are only that with the unweighted ELBO, and scoring
        needs no sampler.
    contamination : "auto" or float in (0, 0.5], default="auto"
        Expected share of anomalies; sets ``offset_``.  With ``"auto"`` the
        threshold is a robust outlier fence on the training scores:
        median - 3 x 1.4826 x MAD (about 3 standard deviations).
    n_importance_samples : int, optional
        Score with the importance-weighted bound on log p(x) (tighter)
        instead of the ELBO.
    units : {"data", "encoded"}, default="data"
        ``"data"`` scores the density of each row in the columns' own units:
        the bound on log p(z) of the encoded row plus log |dz/dx| of every
        numeric cell (change of variables through the quantile map), so a value
        in a sparse region or far outside the training range scores low even
        though the quantile map squeezes it near the edge.  ``"encoded"``
        scores the encoded row as :meth:`TabularVAE.score_samples` does.
    random_state : None, int, RandomState or numpy Generator, default=None

    Attributes
    ----------
    vae_ : TabularVAE
    offset_ : float
        ``decision_function = score_samples - offset_``; negative is an anomaly.

    Notes
    -----
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
        units: str = "data",
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.vae = vae
        self.contamination = contamination
        self.n_importance_samples = n_importance_samples
        self.units = units
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TabularVAEAnomalyDetector:
        """Fit the VAE on ``X`` (labels, if any, are ignored) and set ``offset_``."""
        c = self.contamination
        if not (c == "auto" or (isinstance(c, numbers.Real) and not isinstance(c, bool) and 0 < c <= 0.5)):
            raise ValueError(f"contamination must be 'auto' or a float in (0, 0.5], got {c!r}.")
        if self.units not in ("data", "encoded"):
            raise ValueError(f"units must be 'data' or 'encoded', got {self.units!r}.")
        rng = check_seed(self.random_state)
        vae = clone(self.vae) if self.vae is not None else TabularVAE(**copy.deepcopy(DEFAULT_TEMPLATE))
        self.vae_ = vae.set_params(random_state=rng.randint(2**31 - 1)).fit(X)
        self.n_features_in_ = self.vae_.n_features_in_
        if hasattr(self.vae_, "feature_names_in_"):
            self.feature_names_in_ = self.vae_.feature_names_in_
        self._n_train = len(X)
        scores = self.score_samples(X)
        if c == "auto":
            med = np.median(scores)
            mad = np.median(np.abs(scores - med))
            self.offset_ = float(med - 3 * 1.4826 * mad)
        else:
            self.offset_ = float(np.percentile(scores, 100 * float(c)))
        return self

    def _cell_nll(self, X: Any) -> tuple[pd.DataFrame, np.ndarray]:
        """Per-row, per-column reconstruction NLL (averaged over draws) and the row bound."""
        vae = self.vae_
        df = vae.match_columns(X)
        vae.encoder_.check_missing(df)
        cont, codes = vae.encoder_.transform(df, extrapolate=True)
        unknown = codes < 0
        dims, bound = vae.likelihood_bounds(cont, codes, n_importance_samples=self.n_importance_samples)
        lay, n_cont = vae.encoder_.layout_, vae.encoder_.layout_.n_continuous
        penalty = np.log(self._n_train + 1)
        dims[:, n_cont:][unknown] += penalty  # unseen category: as rare as one training occurrence
        bound -= penalty * unknown.sum(1)
        if self.units == "data":
            bound += vae.encoder_.log_jacobian(df).to_numpy().sum(1)
        per_col = {}
        for name in vae.schema_.names:
            sc, sk = lay.continuous[name], lay.codes[name]
            per_col[name] = dims[:, sc].sum(1) + dims[:, n_cont + sk.start : n_cont + sk.stop].sum(1)
        return pd.DataFrame(per_col, index=df.index), bound

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood bound of each row (higher = more normal); see ``TabularVAE.score_samples``."""
        check_is_fitted(self, "vae_")
        return self._cell_nll(X)[1]

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
        return self._cell_nll(X)[0]
