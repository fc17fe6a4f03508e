"""The training loop: device choice, the optimiser, shuffled batches, weight averaging, early stopping."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .config import TrainingConfig, can_hold_out, held_out_rows
from .cuda_graph import GraphedStep, StaticBatch, can_capture
from .model import VAE, elbo
from .optimizer import Adam


class NegativeELBO(torch.nn.Module):
    """The training objective as a module, so DistributedDataParallel can wrap its forward."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.vae = vae

    def forward(self, cont, codes, eps, kl_weight, cond=None):
        return elbo(self.vae, cont, codes, eps, kl_weight, cond)


def _world() -> tuple[int, int]:
    """(rank, world size) of an initialised torch.distributed group, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; a clear error for unavailable CUDA."""
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but no CUDA GPU is available to PyTorch "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda is not None}). "
            "Use device='auto' or device='cpu'."
        )
    try:
        return torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"device={device!r} is not a valid torch device: {e}") from None


@dataclass
class TrainConfig:
    """The resolved settings of one training run (defaults live in :class:`tabvae.TrainingConfig`)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    kl_weight: float
    kl_warmup: int  # epochs over which the KL weight rises linearly from 0
    n_iter_no_change: int | None  # early-stopping patience (None: off)
    verbose: bool
    precision: str  # "bf16": autocast matmuls to bfloat16
    compile: bool  # torch.compile the objective
    ema_decay: float  # the fitted weights are this moving average of the iterates (0: the last iterate)
    tol: float = 1e-4  # the least improvement of the validation loss that resets the patience
    robust_ramp: tuple[float, float] | None = None  # down-weight each batch's unlikely rows (robust_weights)
    settle: bool = False  # stop once the training rows' ranking by loss has settled (stop_when_settled)
    capture: bool = True  # on a CUDA GPU, replay the training step as a CUDA graph
    privacy: Any = None  # a tabvae.dp.PrivacyPlan: DP-SGD epochs instead of plain Adam ones

    @classmethod
    def resolved(
        cls,
        cfg: TrainingConfig,
        epochs: int,
        batch_size: int,
        kl_weight: float,
        kl_warmup_share: float,
        early_stopping: bool,
        verbose: bool,
        privacy: Any = None,
    ) -> TrainConfig:
        """The run's settings from a model's config and its resolved epochs and KL settings."""
        return cls(
            epochs,
            batch_size,
            cfg.learning_rate,
            cfg.weight_decay,
            kl_weight,
            kl_warmup=round(kl_warmup_share * epochs),
            ema_decay=float(cfg.ema_decay),
            n_iter_no_change=cfg.n_iter_no_change if early_stopping else None,
            settle=bool(cfg.stop_when_settled),
            robust_ramp=None if cfg.robust_ramp is None else (float(cfg.robust_ramp[0]), float(cfg.robust_ramp[1])),
            verbose=verbose,
            precision=cfg.precision,
            compile=bool(cfg.compile),
            capture=bool(cfg.cuda_graph),
            privacy=privacy,
        )


class Data:
    """The encoded table resident on the device; batches are drawn by index."""

    def __init__(self, cont: np.ndarray, codes: np.ndarray, device: torch.device, cond: np.ndarray | None = None):
        self.cont = torch.as_tensor(cont, dtype=torch.float32, device=device)
        self.codes = torch.as_tensor(codes, device=device)
        self.cond = None if cond is None else torch.as_tensor(cond, device=device)

    def __len__(self) -> int:
        return self.cont.shape[0]

    def batch(self, idx: torch.Tensor):
        cond = None if self.cond is None else self.cond[idx]
        return self.cont[idx], self.codes[idx], cond

    def batches(self, order: torch.Tensor, n_batches: int, per_gather: int = 32):
        """(cont, codes, cond) of ``n_batches`` consecutive slices of the rows in ``order``.

        The slices are those of ``order.tensor_split(n_batches)``.  Rows are
        gathered ``per_gather`` batches at a time, then sliced as views, which
        costs less than gathering every batch by index and, unlike gathering
        the whole epoch at once, does not copy the whole table.
        """
        q, r = divmod(len(order), n_batches)
        sizes = [q + 1] * r + [q] * (n_batches - r)
        start = 0
        for g in range(0, n_batches, per_gather):
            group = sizes[g : g + per_gather]
            cont, codes, cond = self.batch(order[start : start + sum(group)])
            start += sum(group)
            conds = [None] * len(group) if cond is None else cond.split(group)
            yield from zip(cont.split(group), codes.split(group), conds)


def split_rows(
    cont: np.ndarray,
    codes: np.ndarray,
    cond: np.ndarray | None,
    device: torch.device,
    rng: np.random.RandomState,
    validation_fraction: float | None,
) -> tuple[Data, Data | None]:
    """The training rows and, with a ``validation_fraction`` (early stopping), the held-out rows."""
    if validation_fraction is None:  # no split: no fancy-indexed copies of the whole encoded table
        return Data(cont, codes, device, cond), None
    n = len(cont)
    n_val = held_out_rows(n, validation_fraction)
    if not can_hold_out(n, validation_fraction):
        raise ValueError(
            f"early_stopping needs at least one training and one validation row; with {n} rows and "
            f"config.validation_fraction={validation_fraction} that is not possible."
        )
    perm = rng.permutation(n)
    pick = lambda a, i: None if a is None else a[i]  # noqa: E731
    train_rows, val_rows = (
        Data(cont[i], codes[i], device, pick(cond, i)) for i in (np.sort(perm[n_val:]), np.sort(perm[:n_val]))
    )
    return train_rows, val_rows


class Step:
    """One optimisation step: forward, backward, the Adam update and the weight average.

    The losses of the step's rows are added to ``totals`` (3,): summed loss,
    reconstruction and KL, so an epoch reads them from the device once.  The
    same step runs eagerly or, on a GPU, inside a CUDA graph
    (:mod:`tabvae.cuda_graph`).
    """

    def __init__(
        self,
        objective,
        optimizer: Adam,
        averaged: WeightAverage | None,
        precision: str,
        device,
        robust_ramp: tuple[float, float] | None = None,
    ):
        self.objective, self.optimizer, self.averaged = objective, optimizer, averaged
        self.robust_ramp = robust_ramp
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
        self.mixed = precision == "bf16"
        # Gradients handed straight to the optimizer skip the per-parameter .grad bookkeeping;
        # DistributedDataParallel averages gradients in hooks on that bookkeeping, so it keeps backward().
        self.direct = _world()[1] == 1

    def __call__(self, cont, codes, cond, eps, kl_weight, totals: torch.Tensor) -> None:
        with self.autocast:
            loss, rec, kl = self.objective(cont, codes, eps, kl_weight, cond)  # (B,) each
        if self.mixed:
            loss, rec, kl = loss.float(), rec.float(), kl.float()
        objective = loss.mean() if self.robust_ramp is None else (loss * robust_weights(loss, *self.robust_ramp)).mean()
        if self.direct:
            self.optimizer.step(torch.autograd.grad(objective, self.optimizer.params, allow_unused=True))
        else:
            self.optimizer.zero_grad()
            objective.backward()
            self.optimizer.step()
        if self.averaged is not None:
            self.averaged.update()
        with torch.no_grad():
            totals += torch.stack([loss, rec, kl]).sum(1)


@torch.no_grad()
def robust_weights(loss: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """(B,) weights of a batch's rows from their losses (B,), averaging 1.

    A row's weight is 1 up to ``low`` robust standard deviations (1.4826 x
    MAD) above the batch's median loss and falls linearly to 0 at ``high``.
    A batch whose MAD is 0 (half its rows share the median) weighs every
    row 1.  No host synchronisation, so it runs inside a CUDA graph.
    """
    median = loss.median()
    scale = 1.4826 * (loss - median).abs().median()
    z = (loss - median) / (scale + 1e-6)  # (B,)
    weight = ((high - z) / (high - low)).clamp(0, 1)
    weight = torch.where(scale > 0, weight, torch.ones_like(weight))
    return weight / weight.mean().clamp_min(1e-6)


def run_epoch(step: Step, data: Data, batch_size: int, kl_weight: float, gen: torch.Generator, latent_dim: int):
    """One eager pass over ``data``; returns mean (loss, reconstruction, kl) as a device tensor.

    With torch.distributed, every rank draws the same permutation (same
    generator seed) and takes every world-th batch row, so ranks see disjoint
    shards; ``objective`` is then DDP-wrapped and averages gradients.
    """
    step.objective.train()
    rank, world = _world()
    device = data.cont.device
    perm = torch.randperm(len(data), generator=gen, device=device)[rank::world]
    n_batches = max(1, round(len(data) / batch_size))  # about batch_size rows across all ranks
    totals = torch.zeros(3, device=device)
    for cont, codes, cond in data.batches(perm, n_batches):
        eps = torch.randn((len(cont), latent_dim), generator=gen, device=device)  # (B, L)
        step(cont, codes, cond, eps, kl_weight, totals)
    if world > 1:
        torch.distributed.all_reduce(totals)
    return totals / len(data)


class CapturedEpochs:
    """Epochs of fixed-size batches whose step is replayed as a CUDA graph (:mod:`tabvae.cuda_graph`).

    Each epoch draws a fresh permutation and runs ``len(data) // batch_size``
    full batches; the rows left over by the permutation wait for a later epoch.
    """

    def __init__(self, step: Step, data: Data, batch_size: int, latent_dim: int):
        self.data, self.batch_size = data, batch_size
        self.batch = StaticBatch(data.cont, data.codes, data.cond, latent_dim, batch_size)
        b = self.batch
        self.graphed = GraphedStep(
            lambda: step(b.cont, b.codes, b.cond, b.eps, b.kl_weight, b.totals),
            step.optimizer.zero_grad,
            data.cont.device,
        )
        self.objective = step.objective

    def __call__(self, kl_weight: float, gen: torch.Generator) -> torch.Tensor:
        self.objective.train()  # as run_epoch: early stopping's evaluation switches the model to eval
        data, b, size = self.data, self.batch, self.batch_size
        perm = torch.randperm(len(data), generator=gen, device=data.cont.device)
        b.kl_weight.fill_(kl_weight)
        b.totals.zero_()
        n_batches = len(data) // size
        for i in range(n_batches):
            b.fill(data.cont, data.codes, data.cond, perm[i * size : (i + 1) * size], gen)
            self.graphed()
        return b.totals / (n_batches * size)


class WeightAverage:
    """An exponential moving average of a model's weights, kept in a copy of the model.

    The decay warms up as (1 + t) / (10 + t) at step t, capped at ``decay``, so a
    short training (a few epochs) is not averaged back towards its first steps.
    Written out rather than torch's ``AveragedModel``, which reads its step
    counter from the device on every update (a GPU sync per step) and regroups
    the tensors each time; here the count stays on the host and the update is
    one fused ``_foreach_lerp_``.
    """

    def __init__(self, model: VAE, decay: float, on_device: bool = False):
        self.model = copy.deepcopy(model)
        self.decay, self.steps = decay, 0
        self._live: list[torch.Tensor] = list(model.parameters())
        self._averaged: list[torch.Tensor] = list(self.model.parameters())
        # For a CUDA graph the step count and the weight must be device tensors, not Python numbers.
        self._device_steps = torch.zeros((), device=self._live[0].device) if on_device else None

    @torch.no_grad()
    def update(self) -> None:
        if self._device_steps is not None:
            self._update_on_device(self._device_steps)
            return
        self.steps += 1
        torch._foreach_lerp_(self._averaged, self._live, 1.0 - min(self.decay, (1 + self.steps) / (10 + self.steps)))

    def _update_on_device(self, steps: torch.Tensor) -> None:
        """The same update with the count and weight kept on the device (no host number in the step)."""
        t = steps.add_(1)
        weight = 1.0 - ((1 + t) / (10 + t)).clamp(max=self.decay)
        diffs = torch._foreach_sub(self._live, self._averaged)
        torch._foreach_mul_(diffs, weight)
        torch._foreach_add_(self._averaged, diffs)


# stop_when_settled: how often the training rows' ranking is checked, and the rank correlation with the
# previous check at which it counts as settled (docs/decisions/anomaly-detector.md).
SETTLE_EVERY = 25
SETTLED = 0.999


def _batch_losses(model: VAE, data: Data, gen: torch.Generator | None, batch_size: int = 8192):
    """Each batch's negative ELBOs (kl weight 1), (B,) each: one random draw per row, or with
    ``gen=None`` none (z = mu)."""
    model.eval()
    with torch.no_grad():
        for idx in torch.arange(len(data), device=data.cont.device).split(batch_size):
            cont, codes, cond = data.batch(idx)
            shape, device = (len(idx), model.cfg.latent_dim), data.cont.device
            eps = torch.zeros(shape, device=device) if gen is None else torch.randn(shape, generator=gen, device=device)
            yield elbo(model, cont, codes, eps, 1.0, cond)[0]


def row_losses(model: VAE, data: Data) -> torch.Tensor:
    """Each row's negative ELBO (kl weight 1) at its posterior mean, without a draw: (n_rows,)."""
    return torch.cat(list(_batch_losses(model, data, None)))


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's correlation of two (n,) tensors, ties ranked by position (a stable sort)."""
    ranks = [x.argsort(stable=True).argsort(stable=True).double() for x in (a, b)]
    ra, rb = (r - r.mean() for r in ranks)
    return float((ra * rb).sum() / (ra.norm() * rb.norm()).clamp_min(1e-12))


class Settling:
    """``stop_when_settled``: every ``SETTLE_EVERY`` epochs after the warm-up, has the rows' ranking settled?

    Every process of a distributed fit scores all rows with the same weights;
    the correlation is averaged across them, so they all stop together.
    """

    def __init__(self, data: Data, warmup: int):
        self.data, self.warmup = data, warmup
        self.previous: torch.Tensor | None = None  # (n_rows,) losses at the last check

    def __call__(self, model: VAE, epoch: int, history: dict[str, list[float]]) -> bool:
        done = epoch + 1
        if done % SETTLE_EVERY or done <= self.warmup:
            return False
        losses, previous = row_losses(model, self.data), self.previous
        self.previous = losses
        if previous is None:
            return False
        rho, world = torch.tensor(rank_correlation(losses, previous), device=losses.device), _world()[1]
        if world > 1:
            torch.distributed.all_reduce(rho)
            rho /= world
        history["rank_correlation"].append(float(rho))
        return float(rho) >= SETTLED


def evaluate_loss(model: VAE, data: Data, gen: torch.Generator) -> float:
    """Mean negative ELBO of ``data`` (kl weight 1), one draw per row."""
    total = torch.zeros((), device=data.cont.device)
    for losses in _batch_losses(model, data, gen):
        total += losses.sum()
    return float(total) / len(data)


def train(model: VAE, data: Data, cfg: TrainConfig, gen: torch.Generator, validation: Data | None = None) -> dict:
    """Fit ``model`` with Adam; returns the per-epoch history.

    The loss of each epoch is summed on the device and read once per epoch, so
    the GPU never waits on the host inside an epoch.  With ``validation`` and
    ``n_iter_no_change``, training stops when the validation loss has not
    improved by ``tol`` for that many epochs, and the best weights are kept.
    With ``cfg.settle``, training stops once the training rows' ranking by
    their loss has settled (:class:`Settling`; the correlations go to
    ``history["rank_correlation"]``, one per check); with validation too,
    the best validated weights are still the ones kept.  With
    ``cfg.robust_ramp``, each step weighs its rows by :func:`robust_weights`
    (over each process's share of the batch in a distributed fit).  With
    ``cfg.ema_decay``, the weights validated and kept are the moving average
    of the iterates, not the last iterate.  With ``cfg.privacy`` the epochs
    are its DP-SGD epochs (eager, one process) and the history is left
    empty: the losses of the training rows are not private.
    """
    device = data.cont.device
    world = _world()[1]
    if cfg.privacy is not None and world > 1:
        raise ValueError("dp_epsilon cannot be used in a distributed fit; fit in one process.")
    capture = cfg.capture and world == 1 and not cfg.compile and cfg.precision == "fp32" and cfg.privacy is None
    capture = capture and can_capture(device, len(data), cfg.batch_size)
    optimizer = Adam(model.parameters(), cfg.learning_rate, cfg.weight_decay, capturable=capture)
    averaged = WeightAverage(model, cfg.ema_decay, on_device=capture) if cfg.ema_decay else None
    step = Step(_objective(model, cfg, device, world), optimizer, averaged, cfg.precision, device, cfg.robust_ramp)
    latent_dim = model.cfg.latent_dim
    captured = CapturedEpochs(step, data, cfg.batch_size, latent_dim) if capture else None
    private = None if cfg.privacy is None else cfg.privacy.runner(model, data, cfg, averaged)
    runner = captured if captured is not None else private  # whole epochs in one call, or None: eager steps
    history: dict[str, list[float]] = {"loss": [], "reconstruction": [], "kl": []}
    if validation is not None:
        history["val_loss"] = []
    settled = Settling(data, cfg.kl_warmup) if cfg.settle else None
    if settled is not None:
        history["rank_correlation"] = []
    fitted = model if averaged is None else averaged.model  # the weights validated and kept
    best, best_state, stale = np.inf, None, 0
    epochs = _progress(range(cfg.epochs), cfg.verbose)
    for epoch in epochs:
        kl_weight = cfg.kl_weight * min(1.0, (epoch + 1) / cfg.kl_warmup) if cfg.kl_warmup else cfg.kl_weight
        if runner is not None:
            means = runner(kl_weight, gen)
        else:
            means = run_epoch(step, data, cfg.batch_size, kl_weight, gen, latent_dim)
        loss, rec, kl = means.tolist()  # the epoch's one host synchronisation
        _check_finite(loss, epoch, cfg)
        history["loss"].append(loss)
        history["reconstruction"].append(rec)
        history["kl"].append(kl)
        postfix = {"loss": f"{loss:.3f}"}
        if validation is not None:
            val = evaluate_loss(fitted, validation, gen)
            history["val_loss"].append(val)
            postfix["val"] = f"{val:.3f}"
            if val < best - cfg.tol:
                best, best_state, stale = val, copy.deepcopy(fitted.state_dict()), 0
            else:
                stale += 1
            if cfg.n_iter_no_change is not None and stale >= cfg.n_iter_no_change:
                break
        if settled is not None and settled(fitted, epoch, history):
            break
        if cfg.verbose:
            epochs.set_postfix(postfix, refresh=False)
    if best_state is not None and cfg.n_iter_no_change is not None:
        model.load_state_dict(best_state)
    elif averaged is not None:
        model.load_state_dict(averaged.model.state_dict())
    model.eval()
    return history if private is None else {k: [] for k in history}


def _objective(model: VAE, cfg: TrainConfig, device: torch.device, world: int) -> Any:
    """The negative ELBO as a module; DDP-wrapped across processes, compiled on request."""
    objective: Any = NegativeELBO(model)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        objective = DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None)
    return torch.compile(objective) if cfg.compile else objective


def _check_finite(loss: float, epoch: int, cfg: TrainConfig) -> None:
    """Stop a diverged fit: a non-finite loss would leave weights that decode to NaN."""
    if not np.isfinite(loss):
        raise FloatingPointError(
            f"The training loss became {loss} in epoch {epoch + 1}: the fit diverged. Lower "
            f"config.learning_rate (now {cfg.learning_rate:g}) or kl_weight (now {cfg.kl_weight:g}), or check "
            "the table for extreme values."
        )


def _progress(it, verbose: bool):
    if not verbose:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc="tabvae fit", unit="epoch")
