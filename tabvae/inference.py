"""Embedding and scoring encoded rows with a trained network, in float64.

A row's embedding and score must not depend on the other rows of the call,
and float32 matrix products differ in the last bits with a row's position in
the batch, so these run on a float64 copy of the network (it is small, so the
copy is cheap).  The latent draws of the likelihood bounds are fixed and
shared by all rows, so a row's score does not depend on repeated calls either.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .model import VAE, log_likelihood_terms
from .sampling import check_n

ELBO_DRAWS = 8  # fixed latent draws shared by all rows when scoring with the ELBO
POSTERIOR_BATCH = 65_536  # rows encoded at a time
LIKELIHOOD_BATCH = 8_192  # rows scored at a time


def float64_copy(network: VAE) -> VAE:
    """A float64 copy of ``network`` in eval mode."""
    return copy.deepcopy(network).double().eval()


def _batches(
    cont: np.ndarray, codes: np.ndarray, cond: np.ndarray | None, device: torch.device, batch: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
    """(cont as float64, codes, cond) tensors on ``device``, ``batch`` rows at a time."""
    for s in range(0, len(cont), batch):
        c = torch.as_tensor(cont[s : s + batch], dtype=torch.float64, device=device)
        k = torch.as_tensor(codes[s : s + batch], device=device)
        y = None if cond is None else torch.as_tensor(cond[s : s + batch], device=device)
        yield c, k, y


@torch.no_grad()
def posterior(
    network: VAE, cont: np.ndarray, codes: np.ndarray, cond: np.ndarray | None, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations (N, L) of q(z|x), as float64 arrays."""
    model = float64_copy(network)
    mus, stds = [], []
    for c, k, y in _batches(cont, codes, cond, device, POSTERIOR_BATCH):
        mu, logvar = model.encode(c, k, y)
        mus.append(mu.cpu().numpy())
        stds.append((0.5 * logvar).exp().cpu().numpy())
    return np.concatenate(mus).astype(np.float64), np.concatenate(stds).astype(np.float64)


@torch.no_grad()
def row_bounds(
    network: VAE,
    cont: np.ndarray,
    codes: np.ndarray,
    cond: np.ndarray | None,
    device: torch.device,
    n_importance_samples: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension reconstruction NLL (mean over draws) and each row's bound on log p(x).

    The bound is the ELBO over ``ELBO_DRAWS`` fixed draws, or with
    ``n_importance_samples=k`` the importance-weighted bound over k draws.
    """
    model = float64_copy(network)
    iw = n_importance_samples is not None
    k = n_importance_samples if n_importance_samples is not None else ELBO_DRAWS
    gen = torch.Generator(device=device).manual_seed(0)
    eps = torch.randn((k, model.cfg.latent_dim), generator=gen, device=device).double()
    recs, bounds = [], []
    for c, codes_t, y in _batches(cont, codes, cond, device, LIKELIHOOD_BATCH):
        rec, log_w, kl = log_likelihood_terms(model, c, codes_t, eps, y)
        recs.append(rec.mean(0))
        bounds.append(torch.logsumexp(log_w, 0) - np.log(k) if iw else -(rec.sum(-1).mean(0) + kl))
    return _as_numpy(recs), _as_numpy(bounds)


def _as_numpy(parts: list[torch.Tensor]) -> np.ndarray:
    return torch.cat(parts).cpu().numpy().astype(np.float64)


def check_latents(Z: Any, latent_dim: int) -> np.ndarray:
    """``Z`` as a float64 array of shape (n, latent_dim) of finite values, else a ValueError."""
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != latent_dim:
        raise ValueError(f"Z must have shape (n_samples, {latent_dim}), got {Z.shape}.")
    if not np.isfinite(Z).all():
        raise ValueError("Z contains NaN or infinite values.")
    return Z


def path_positions(n_steps: object, method: str) -> np.ndarray:
    """(n_steps, 1) positions t in [0, 1] of a latent path, after checking ``n_steps`` and ``method``."""
    n_steps = check_n(n_steps, "n_steps")
    if n_steps < 2:
        raise ValueError(f"n_steps must be at least 2, got {n_steps}.")
    if method not in ("slerp", "linear"):
        raise ValueError(f"method must be 'slerp' or 'linear', got {method!r}.")
    return np.linspace(0.0, 1.0, n_steps)[:, None]


def latent_path(za: np.ndarray, zb: np.ndarray, t: np.ndarray, method: str) -> np.ndarray:
    """Points at positions ``t`` on the spherical (``"slerp"``) or straight path from ``za`` to ``zb``."""
    Z = slerp(za, zb, t) if method == "slerp" else (1 - t) * za + t * zb
    Z[0], Z[-1] = za, zb  # exact endpoints, free of rounding in the mixing
    return Z


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of two vectors (norms interpolated linearly)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    ua, ub = a / max(na, 1e-12), b / max(nb, 1e-12)
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return direction * ((1 - t) * na + t * nb)
