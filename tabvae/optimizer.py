"""Adam with PyTorch's own update, without ``torch.optim.Optimizer`` (``docs/decisions/optimizer.md``)."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.adam import adam

# torch.optim.Adam's defaults (docs/decisions/optimizer.md).
ADAM_CONSTANTS: dict[str, Any] = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "amsgrad": False, "maximize": False}


class Adam:
    """Adam with PyTorch's own update (``torch.optim.adam.adam``), fused where supported.

    The same computation as ``torch.optim.Adam(fused=True)`` (a test checks the
    weights are identical), without ``torch.optim.Optimizer``, whose construction
    imports ``torch._dynamo`` (seconds, once per process;
    ``docs/decisions/optimizer.md``).  The fused kernel (torch >= 2.4 on CPU)
    does the update in one pass; elsewhere the multi-tensor version is used.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0, capturable: bool = False):
        self.params = list(params)
        self.lr, self.weight_decay, self.capturable = lr, weight_decay, capturable
        device = self.params[0].device
        self.fused = _fused_adam_works(device)
        # Step counts live where torch.optim.Adam keeps them: on the device when fused, else the host.
        step_device = device if self.fused else "cpu"
        self.steps = [torch.zeros((), device=step_device) for _ in self.params]
        self.exp_avgs = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, grads=None) -> None:
        """One update with ``grads`` (one per parameter, None: unused), by default the parameters' ``.grad``."""
        grads = [p.grad for p in self.params] if grads is None else grads
        live = [i for i, g in enumerate(grads) if g is not None]
        pick = lambda xs: [xs[i] for i in live]  # noqa: E731
        adam(
            pick(self.params),
            pick(grads),
            pick(self.exp_avgs),
            pick(self.exp_avg_sqs),
            [],
            pick(self.steps),
            foreach=not self.fused,
            fused=self.fused,
            capturable=self.capturable,
            lr=self.lr,
            weight_decay=self.weight_decay,
            **ADAM_CONSTANTS,
        )


def _fused_adam_works(device: torch.device) -> bool:
    """Whether this torch has a fused Adam kernel for float32 tensors on ``device`` (tried on one)."""
    p, g = torch.zeros(1, device=device), torch.zeros(1, device=device)
    try:
        adam(
            [p],
            [g],
            [torch.zeros_like(p)],
            [torch.zeros_like(p)],
            [],
            [torch.zeros((), device=device)],
            fused=True,
            lr=1e-3,
            weight_decay=0.0,
            **ADAM_CONSTANTS,
        )
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without the kernel
        return False
    return True
