"""The latent sampler: a Gaussian mixture fitted to the aggregate posterior of the training rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

ACTIVE_KL = 0.05  # nats; latent dimensions whose mean KL is below this carry no information


@dataclass
class GaussianMixturePrior:
    """A Gaussian mixture fitted to the aggregate posterior of the training rows.

    A VAE trained with the N(0, I) prior leaves "holes": regions the prior
    covers but no training row's posterior does, which decode into atypical
    rows.  Sampling latent codes from a model of the aggregate posterior
    (the mixture of q(z|x) over the training rows) instead puts samples where
    data lives.  The mixture is fitted with scikit-learn to draws
    z ~ q(z|x), only on the *active* dimensions (mean KL above
    ``ACTIVE_KL``): the others collapsed to the prior, so N(0, 1) is already
    their exact aggregate posterior and the decoder ignores them.  Stored as
    plain arrays.
    """

    weights: np.ndarray
    means: np.ndarray  # (K, A)
    chol: np.ndarray  # (K, A, A) Cholesky factors of the covariances
    active: np.ndarray  # (L,) bool: the dimensions the mixture models

    @classmethod
    def fit(
        cls,
        mu: np.ndarray,
        std: np.ndarray,
        n_components: int,
        random_state: int,
        max_rows: int = 10_000,
        tol: float = 1e-3,
        covariance_type: str = "full",
    ) -> GaussianMixturePrior:
        """Fit to two draws z ~ q(z|x) per row from posterior means ``mu`` and stds ``std`` (N, L).

        ``covariance_type="diag"`` fits diagonal covariances (stored as diagonal Cholesky factors).
        """
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        if covariance_type not in ("full", "diag"):
            raise ValueError(f"covariance_type must be 'full' or 'diag', got {covariance_type!r}")
        rng = np.random.RandomState(random_state)
        kl = 0.5 * (mu**2 + std**2 - 1 - 2 * np.log(std)).mean(0)
        active = kl > ACTIVE_KL
        if not active.any():  # posterior collapse: N(0, I) is the aggregate posterior
            return cls(np.ones(1), np.zeros((1, 0)), np.zeros((1, 0, 0)), active)
        mu, std = mu[:, active], std[:, active]
        z = np.concatenate([mu + std * rng.standard_normal(mu.shape) for _ in range(2)])
        if len(z) > max_rows:
            z = z[rng.choice(len(z), max_rows, replace=False)]
        k = int(min(n_components, max(1, len(z) // 50)))
        # EM's tolerance is scikit-learn's default (docs/decisions/gmm-prior.md).
        gm = GaussianMixture(
            k,
            covariance_type=covariance_type,
            reg_covar=1e-4,
            max_iter=100,
            tol=tol,
            random_state=rng.randint(2**31 - 1),
        )
        # EM on a few thousand small (A x A) problems: BLAS threads only add
        # synchronisation (several times slower with 2 threads than with 1 here).
        with threadpool_limits(1):
            gm.fit(z)
        if covariance_type == "diag":
            return cls(gm.weights_, gm.means_, np.sqrt(gm.covariances_)[:, :, None] * np.eye(mu.shape[1]), active)
        return cls(gm.weights_, gm.means_, np.linalg.cholesky(gm.covariances_), active)

    def sample(self, n: int, rng: np.random.RandomState) -> np.ndarray:
        z = rng.standard_normal((n, len(self.active)))
        comp = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        eps = z[:, self.active]
        shifted = np.empty_like(eps)
        for k in np.unique(comp):  # one (rows, A) @ (A, A) product per component
            rows = comp == k
            shifted[rows] = self.means[k] + eps[rows] @ self.chol[k].T
        z[:, self.active] = shifted
        return z

    def sample_on(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """:meth:`sample`'s distribution drawn with ``generator`` on its device: (n, L) float32."""
        device = generator.device
        z = torch.randn((n, len(self.active)), generator=generator, device=device)
        if not self.active.any():
            return z
        weights = torch.as_tensor(self.weights / self.weights.sum(), device=device)
        comp = torch.multinomial(weights, n, replacement=True, generator=generator)  # (n,)
        active = torch.as_tensor(np.flatnonzero(self.active), device=device)
        means = torch.as_tensor(self.means, dtype=torch.float32, device=device)  # (K, A)
        chol = torch.as_tensor(self.chol, dtype=torch.float32, device=device)  # (K, A, A)
        z[:, active] = means[comp] + (chol[comp] @ z[:, active, None]).squeeze(-1)
        return z

    def to_dict(self) -> dict:
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "chol": self.chol.tolist(),
            "active": self.active.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> GaussianMixturePrior:
        means = np.asarray(d["means"], float)
        active = np.asarray(d["active"], bool)
        k, a = len(d["weights"]), int(active.sum())
        return cls(
            np.asarray(d["weights"], float), means.reshape(k, a), np.asarray(d["chol"], float).reshape(k, a, a), active
        )
