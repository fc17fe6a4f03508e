"""Differentially private training: DP-SGD on Poisson-sampled batches, with Opacus's optimizer and accountant.

Each step draws a batch by Poisson sampling (every training row joins with
probability ``sample_rate``), computes every row's own gradient with
``torch.func`` (``vmap`` of ``grad``, exact for every parameter, masked
autoregressive layers included), and hands them to Opacus's ``DPOptimizer``,
which clips each row's gradient to ``max_grad_norm``, adds Gaussian noise of
standard deviation ``noise_multiplier * max_grad_norm`` and takes the Adam
step.  The noise multiplier is calibrated by Opacus's accountant so that the
planned steps spend at most the target (epsilon, delta).
See ``docs/decisions/differential-privacy.md`` for what the guarantee covers.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch.func import functional_call, grad, vmap

from .encoders import PreprocessingBudget
from .model import VAE
from .training import Data, NegativeELBO, WeightAverage

ACCOUNTANT = "prv"  # Opacus's privacy-random-variable accountant (tighter than "rdp")
MAX_GRAD_NORM = 1.0  # each row's gradient is clipped to this L2 norm
AUTO_STEPS = 600  # optimisation steps of epochs="auto" under DP (docs/decisions/differential-privacy.md)
MAX_EPOCHS = 100
MAX_EPSILON = 100.0  # the PRV accountant's calibration took 43 s and ~6 GB at 100; at 1,000 it ran out of memory
# Share of dp_epsilon and dp_delta spent on fitting the encoders (noisy counts and histograms);
# the rest goes to DP-SGD (docs/decisions/differential-privacy.md).
PREPROCESSING_SHARE = 0.5
GRAD_FLOATS = 2**23  # per-row gradient numbers held at once (32 MB, cache-friendly): rows per chunk = this / parameters


def require_opacus() -> None:
    """Import Opacus, or an ImportError that says how to install it."""
    try:
        import opacus  # noqa: F401
    except ImportError:
        raise ImportError(
            'Differentially private training (dp_epsilon) needs Opacus: pip install "tabvae[dp]"'
        ) from None


@contextmanager
def quiet_accountant() -> Iterator[None]:
    """Silence the accountant's numerical warnings (its RDP bound's alpha range; log(1 - q) at q = 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def check_privacy(
    dp_epsilon: Any, dp_delta: Any, early_stopping: bool, conditional_columns: Any = None, cfg: Any = None
) -> None:
    """A ValueError/TypeError naming ``dp_epsilon`` or ``dp_delta`` when either is not a valid budget,
    or the setting (a parameter, or a field of the TrainingConfig ``cfg``) that a DP fit cannot honour."""
    for name, value in (("dp_epsilon", dp_epsilon), ("dp_delta", dp_delta)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise TypeError(f"{name} must be a number or None, got {value!r}.")
    if dp_epsilon is None:
        if dp_delta is not None:
            raise ValueError(f"dp_delta={dp_delta!r} is set but dp_epsilon is None; set dp_epsilon to train with DP.")
        return
    if not (math.isfinite(dp_epsilon) and dp_epsilon > 0):
        raise ValueError(f"dp_epsilon must be a finite number > 0 (e.g. 3), got {dp_epsilon!r}.")
    if dp_epsilon > MAX_EPSILON:
        raise ValueError(
            f"dp_epsilon={dp_epsilon!r} is above {MAX_EPSILON:g}: such a budget bounds nothing a user would rely "
            "on, and calibrating its noise exhausts memory. Use dp_epsilon=None for a fit without DP."
        )
    if dp_delta is not None and not 0 < dp_delta < 1:
        raise ValueError(f"dp_delta must be in (0, 1), well below 1 / n_rows (e.g. 1e-6), got {dp_delta!r}.")
    for field in ("robust_ramp", "stop_when_settled"):
        if cfg is not None and getattr(cfg, field) not in (None, False):
            raise ValueError(
                f"config.{field} cannot be used with dp_epsilon: it steers the fit by the losses of all the batch's "
                f"or all the training rows, which DP-SGD does not make private. Leave config.{field} at its default."
            )
    if early_stopping:
        raise ValueError(
            "early_stopping=True cannot be used with dp_epsilon: the validation loss of held-out rows is not "
            "private and would steer the fit. Set early_stopping=False (the epochs are fixed in advance under DP)."
        )
    if conditional_columns:
        raise ValueError(
            "conditional_columns cannot be used with dp_epsilon: conditional sampling draws the conditions from "
            "the raw rows' joint distribution of those columns, which is not private. Leave conditional_columns "
            "unset; sample(conditions=...) still works, by rejection."
        )


@dataclass(frozen=True)
class PrivacyPlan:
    """The DP-SGD settings of one fit: the budget, the sampling and the calibrated noise."""

    epsilon: float  # the target budget of the training steps
    delta: float
    sample_rate: float  # Poisson sampling probability of each row per step
    epochs: int
    steps_per_epoch: int
    noise_multiplier: float
    max_grad_norm: float = MAX_GRAD_NORM
    encoder_epsilon: float = 0.0  # spent by the encoders' fit, before training
    encoder_delta: float = 0.0

    @classmethod
    def for_fit(cls, epsilon: float, delta: float | None, epochs: int | str, batch_size: int, n_rows: int):
        """The plan for ``n_rows`` rows: expected batch ``batch_size``, ``delta`` 1 / (10 n_rows) when None."""
        require_opacus()
        from opacus.accountants.utils import get_noise_multiplier

        delta = 1.0 / (10 * n_rows) if delta is None else float(delta)
        steps_per_epoch = max(1, round(n_rows / batch_size))
        if isinstance(epochs, str):  # "auto": about AUTO_STEPS steps
            epochs = min(MAX_EPOCHS, max(1, round(AUTO_STEPS / steps_per_epoch)))
        rate = min(1.0, batch_size / n_rows)
        with quiet_accountant():
            noise = get_noise_multiplier(
                target_epsilon=float(epsilon),
                target_delta=delta,
                sample_rate=rate,
                steps=epochs * steps_per_epoch,
                accountant=ACCOUNTANT,
            )
        return cls(float(epsilon), delta, rate, int(epochs), steps_per_epoch, float(noise))

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def spent_epsilon(self) -> float:
        """The accountant's epsilon at ``delta`` after the planned steps."""
        return spent_epsilon(self.noise_multiplier, self.sample_rate, self.steps, self.delta)

    def runner(self, model: VAE, data: Data, cfg: Any, averaged: WeightAverage | None) -> PrivateEpochs:
        """The epochs of this plan for :func:`tabvae.training.train` (``cfg``: its TrainConfig)."""
        return PrivateEpochs(model, data, self, cfg.learning_rate, cfg.weight_decay, averaged)


def split_budget(dp_epsilon: float, dp_delta: float | None, n_rows: int) -> tuple[float, float, float, float]:
    """(encoder epsilon, encoder delta, training epsilon, training delta) of a fit on ``n_rows`` rows.

    ``dp_delta=None`` is 1 / (10 n_rows).  The encoders get
    ``PREPROCESSING_SHARE`` of both; the budgets add up (basic composition).

    >>> [round(v, 12) for v in split_budget(3.0, 1e-6, 10_000)]
    [1.5, 5e-07, 1.5, 5e-07]
    """
    delta = 1.0 / (10 * n_rows) if dp_delta is None else float(dp_delta)
    share = PREPROCESSING_SHARE
    return share * dp_epsilon, share * delta, (1 - share) * dp_epsilon, (1 - share) * delta


def preprocessing_budget(
    dp_epsilon: float | None, dp_delta: float | None, n_rows: int, rng: Any
) -> PreprocessingBudget | None:
    """The encoders' share of a DP fit's budget, its noise seeded from ``rng`` (a RandomState, drawn from
    only under DP); None without ``dp_epsilon``."""
    if dp_epsilon is None:
        return None
    epsilon, delta, _, _ = split_budget(dp_epsilon, dp_delta, n_rows)
    return PreprocessingBudget(epsilon=epsilon, delta=delta, seed=int(rng.randint(2**31 - 1)))


def privacy_plan(
    dp_epsilon: float | None, dp_delta: float | None, epochs: int | str, batch_size: int, n_rows: int
) -> PrivacyPlan | None:
    """The DP-SGD plan of a fit on ``n_rows`` rows, on the training share of the budget; None without DP."""
    if dp_epsilon is None:
        return None
    enc_eps, enc_delta, eps, delta = split_budget(dp_epsilon, dp_delta, n_rows)
    plan = PrivacyPlan.for_fit(eps, delta, epochs, batch_size, n_rows)
    return replace(plan, encoder_epsilon=enc_eps, encoder_delta=enc_delta)


def spent_budget(plan: PrivacyPlan | None) -> tuple[float | None, float | None, float | None]:
    """(epsilon spent by the encoders and the training, total delta, noise multiplier); Nones without DP."""
    if plan is None:
        return None, None, None
    return plan.encoder_epsilon + plan.spent_epsilon(), plan.encoder_delta + plan.delta, plan.noise_multiplier


def spent_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """Opacus's accountant's epsilon for ``steps`` Poisson-sampled Gaussian steps."""
    require_opacus()
    from opacus.accountants import create_accountant

    accountant = create_accountant(ACCOUNTANT)
    accountant.history = [(noise_multiplier, sample_rate, steps)]
    with quiet_accountant():
        return float(accountant.get_epsilon(delta=delta))


def per_row_grads(objective: NegativeELBO, cont, codes, cond, eps, kl_weight: float):
    """Each row's gradient of its own loss and its loss terms.

    ``cont`` (B, C), ``codes`` (B, K), ``cond`` (B, m) or None, ``eps`` (B, L).
    Returns ({parameter name: (B, *shape)}, (3, B) loss, reconstruction, kl).
    """
    params = {k: p.detach() for k, p in objective.named_parameters()}

    def row(p, c, k, e, cd):  # one row: (C,), (K,), (L,), (m,) or None
        b = lambda t: None if t is None else t[None]  # noqa: E731
        loss, rec, kl = functional_call(objective, p, (b(c), b(k), b(e), kl_weight, b(cd)))
        return loss.sum(), torch.cat([loss, rec, kl]).detach()

    grads, terms = vmap(grad(row, has_aux=True), in_dims=(None, 0, 0, 0, None if cond is None else 0))(
        params, cont, codes, eps, cond
    )
    return grads, terms.T


class PrivateEpochs:
    """Epochs of DP-SGD steps on ``data``: Poisson batches, per-row clipping and noise (Opacus's DPOptimizer).

    A Poisson batch is processed in chunks of rows whose per-row gradients fit
    in ``GRAD_FLOATS`` numbers; the optimizer adds up the chunks' clipped
    gradients and steps once per batch.
    """

    def __init__(self, model: VAE, data: Data, plan: PrivacyPlan, lr: float, wd: float, averaged):
        from opacus.optimizers import DPOptimizer

        self.model, self.data, self.plan, self.averaged = model, data, plan, averaged
        self.objective = NegativeELBO(model)
        self.params = [p for _, p in self.objective.named_parameters()]
        self.chunk = max(1, GRAD_FLOATS // sum(p.numel() for p in self.params))
        adam = torch.optim.Adam(self.params, lr=lr, weight_decay=wd)
        expected = max(1, round(plan.sample_rate * len(data)))
        self.optimizer = DPOptimizer(
            adam, noise_multiplier=plan.noise_multiplier, max_grad_norm=plan.max_grad_norm, expected_batch_size=expected
        )

    def __call__(self, kl_weight: float, gen: torch.Generator) -> torch.Tensor:
        """One epoch of ``steps_per_epoch`` steps; returns the mean (loss, reconstruction, kl) of its rows."""
        self.optimizer.generator = gen  # the noise comes from the fit's seeded stream
        self.model.train()
        device = self.data.cont.device
        totals, n = torch.zeros(3, device=device), 0
        for _ in range(self.plan.steps_per_epoch):
            rows = (torch.rand(len(self.data), generator=gen, device=device) < self.plan.sample_rate).nonzero()[:, 0]
            totals += self.step(rows, kl_weight, gen)
            n += len(rows)
        return totals / max(n, 1)

    def step(self, rows: torch.Tensor, kl_weight: float, gen: torch.Generator) -> torch.Tensor:
        """One DP-SGD step on the (b,) ``rows``; returns their summed (3,) loss terms."""
        chunks = rows.split(self.chunk) if len(rows) else (rows,)
        totals = torch.zeros(3, device=rows.device)
        for i, idx in enumerate(chunks):
            cont, codes, cond = self.data.batch(idx)
            eps = torch.randn((len(idx), self.model.cfg.latent_dim), generator=gen, device=rows.device)  # (b, L)
            self.set_grad_samples(cont, codes, cond, eps, kl_weight, totals)
            self.optimizer.signal_skip_step(do_skip=i < len(chunks) - 1)
            self.optimizer.step()
            self.optimizer.zero_grad()
        if self.averaged is not None:
            self.averaged.update()
        return totals

    def set_grad_samples(self, cont, codes, cond, eps, kl_weight: float, totals: torch.Tensor) -> None:
        """Put each parameter's (b, *shape) per-row gradients where DPOptimizer reads them."""
        if not len(cont):  # an empty Poisson batch: the step is noise alone
            for p in self.params:
                p.grad_sample = p.new_zeros((0, *p.shape))  # type: ignore[attr-defined]
            return
        grads, terms = per_row_grads(self.objective, cont, codes, cond, eps, kl_weight)
        for name, p in self.objective.named_parameters():
            p.grad_sample = grads[name]  # type: ignore[attr-defined]
        totals += terms.sum(1)
