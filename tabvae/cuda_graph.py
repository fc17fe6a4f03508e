"""The training step replayed as one CUDA graph.

At tabular sizes a training step is a few hundred small kernels, and a GPU
spends most of the step waiting for the host to launch them.  Captured once
as a CUDA graph (forward, backward, the Adam update and the weight average),
the whole step is then one launch.  A graph replays fixed shapes and fixed
memory, so the step reads its batch from static buffers that are filled
before each replay, every batch has exactly ``batch_size`` rows (an epoch
skips the fewer than ``batch_size`` rows its permutation leaves over), and
the values that change between steps (the KL weight, the weight average's
decay) are device tensors rather than Python numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

WARMUP_STEPS = 3  # eager steps on a side stream before capture (lazy state, cuBLAS workspaces)


def can_capture(device: torch.device, n_rows: int, batch_size: int) -> bool:
    """Whether the step can be captured: a CUDA device and at least one full batch."""
    return device.type == "cuda" and n_rows >= batch_size and hasattr(torch.cuda, "CUDAGraph")


class StaticBatch:
    """Device buffers of one batch: the step reads its rows, noise and KL weight from here.

    Shapes: ``cont`` (B, C) float, ``codes`` (B, K) long, ``cond`` (B, m) long or None,
    ``eps`` (B, L) the reparameterisation noise, ``kl_weight`` () and ``totals`` (3,)
    the summed loss, reconstruction and KL of the steps since the last :meth:`reset`.
    """

    def __init__(
        self, cont: torch.Tensor, codes: torch.Tensor, cond: torch.Tensor | None, latent_dim: int, batch_size: int
    ):
        device = cont.device
        self.cont = cont.new_empty((batch_size, cont.shape[1]))
        self.codes = codes.new_empty((batch_size, codes.shape[1]))
        self.cond = None if cond is None else cond.new_empty((batch_size, cond.shape[1]))
        self.eps = torch.empty((batch_size, latent_dim), device=device)
        self.kl_weight = torch.zeros((), device=device)
        self.totals = torch.zeros(3, device=device)

    def fill(
        self,
        cont: torch.Tensor,
        codes: torch.Tensor,
        cond: torch.Tensor | None,
        rows: torch.Tensor,
        generator: torch.Generator,
    ) -> None:
        """Copy the rows ``rows`` of the table into the buffers and draw fresh noise."""
        torch.index_select(cont, 0, rows, out=self.cont)
        torch.index_select(codes, 0, rows, out=self.codes)
        if cond is not None:
            torch.index_select(cond, 0, rows, out=self.cond)
        self.eps.normal_(generator=generator)


class GraphedStep:
    """Run ``step`` (a function of nothing that reads a :class:`StaticBatch`) as a CUDA graph.

    The first :data:`WARMUP_STEPS` calls run eagerly on a side stream, the
    next one captures the step and replays it; every later call replays it.
    Each call is one real optimisation step.  If capture fails, the step
    stays eager (``captured`` is False) and training goes on unchanged.
    """

    def __init__(self, step: Callable[[], None], zero_grad: Callable[[], None], device: torch.device):
        self.step, self.zero_grad = step, zero_grad
        self.calls, self.failed = 0, device.type != "cuda"  # off the GPU every step is eager
        self.graph: torch.cuda.CUDAGraph | None = None

    @property
    def captured(self) -> bool:
        return self.graph is not None

    def __call__(self) -> None:
        self.calls += 1
        if self.graph is not None:
            self.graph.replay()
        elif self.failed or self.calls <= WARMUP_STEPS:
            self._eager()
        else:
            self._capture()

    def _eager(self) -> None:
        if self.failed:  # no capture to come: plain steps on the current stream
            self.step()
            return
        side = torch.cuda.Stream()  # warm-up before capture runs on a side stream
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.step()
        torch.cuda.current_stream().wait_stream(side)

    def _capture(self) -> None:
        self.zero_grad()  # gradients are allocated inside the graph's memory pool
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.step()
        except RuntimeError as e:
            warnings.warn(
                f"CUDA graph capture failed ({e}); training goes on with eager steps.", RuntimeWarning, stacklevel=2
            )
            self.failed = True
            torch.cuda.synchronize()
            self._eager()
            return
        self.graph = graph
        graph.replay()  # capture records the step without running it
