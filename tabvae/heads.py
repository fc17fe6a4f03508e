"""Categorical heads: log-likelihood and sampling of many categorical parts in a few ops.

A table's categorical columns become many softmax parts of different sizes.
Looping over them costs a few ops per column, and at tabular sizes the cost of
a training step is mostly that per-op overhead, so parts are grouped into
buckets padded to a common size (see :func:`bucket_parts`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD_WIDTH = 256  # padded logits per row below which parts of different sizes share one op


def bucket_parts(cardinalities: tuple[int, ...]) -> list[list[int]]:
    """Group parts (indices, ascending cardinality) that are cheap to pad to a common size.

    A bucket grows while its padded width (parts x largest cardinality) stays
    within twice its real width or ``PAD_WIDTH``, so many small columns share
    one op and a 100,000-level column never pads its neighbours.
    """
    buckets: list[list[int]] = []
    real = 0
    for i in sorted(range(len(cardinalities)), key=lambda i: cardinalities[i]):
        k = cardinalities[i]
        if buckets and (len(buckets[-1]) + 1) * k <= max(2 * (real + k), PAD_WIDTH):
            buckets[-1].append(i)
            real += k
        else:
            buckets.append([i])
            real = k
    return buckets


def sample_categorical(logits: torch.Tensor, generator, temperature: float = 1.0) -> torch.Tensor:
    """Codes drawn from softmax(logits / temperature) along the last axis (Gumbel-max); 0: the mode."""
    if temperature == 0:
        return logits.argmax(-1)
    u = torch.rand(logits.shape, generator=generator, device=logits.device).clamp_(1e-10, 1 - 1e-10)
    return (logits / temperature - torch.log(-torch.log(u))).argmax(-1)


# Largest (logits x parts) for which the training loss sums exp(logits) per part with one
# dense matmul; above it the matmul costs more than padding (e.g. 200 parts of 256 codes).
PER_PART_LSE_MAX = 65_536


class CategoricalParts(nn.Module):
    """Vectorised log-softmax / sampling over many categorical parts.

    Parts are padded to the largest cardinality of their bucket (see
    :func:`bucket_parts`) and stacked into one (B, parts, k) tensor, with
    padding logits of -inf, so the cost is a few ops per bucket rather than per
    column.  Training time is dominated by this per-op overhead at tabular
    sizes.  The training loss of a table with few parts skips the padding
    (see :meth:`nll`).
    """

    offsets: torch.Tensor
    part_of: torch.Tensor
    part_sum: torch.Tensor
    order: torch.Tensor

    def __init__(self, cardinalities: tuple[int, ...]):
        super().__init__()
        self.cardinalities = tuple(cardinalities)
        total = int(sum(cardinalities))
        offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.int64)
        self.register_buffer("offsets", torch.as_tensor(offsets), persistent=False)
        self.per_part_lse = 0 < total * len(self.cardinalities) <= PER_PART_LSE_MAX
        if self.per_part_lse:
            part_of = np.repeat(np.arange(len(self.cardinalities)), self.cardinalities).astype(np.int64)
            self.register_buffer("part_of", torch.as_tensor(part_of), persistent=False)  # each logit's part
            # (logits, parts) 0/1: a matmul with it sums exp(logits) per part.
            part_sum = np.eye(len(self.cardinalities), dtype=np.float32)[part_of]
            self.register_buffer("part_sum", torch.as_tensor(part_sum), persistent=False)
        self.buckets = bucket_parts(self.cardinalities)
        order = [i for b in self.buckets for i in b]
        # Position of each part in the concatenation of the buckets' outputs.
        self.register_buffer("order", torch.as_tensor(np.argsort(order), dtype=torch.long), persistent=False)
        for b, parts in enumerate(self.buckets):
            k = max(self.cardinalities[i] for i in parts)
            # Column ``total`` of the padded logits is the -inf pad.
            idx = [offsets[i] + j if j < self.cardinalities[i] else total for i in parts for j in range(k)]
            self.register_buffer(f"parts_{b}", torch.as_tensor(parts, dtype=torch.long), persistent=False)
            self.register_buffer(f"logits_{b}", torch.as_tensor(idx, dtype=torch.long), persistent=False)

    def locate(self, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K) codes -> (B, K) column of each code among all parts' logits, and whether it is seen.

        An unseen code (-1) points at its part's first column; :meth:`one_hot` and
        :meth:`nll` take the pair so that a step computes it once.
        """
        return codes.clamp_min(0) + self.offsets, codes >= 0

    def one_hot(self, codes: torch.Tensor, dtype=torch.float32, located=None) -> torch.Tensor:
        """(B, K) codes -> (B, sum(cards)) multi-hot; code -1 (unseen) gives zeros.

        ``located``: :meth:`locate` of ``codes``, when already computed.
        """
        out = codes.new_zeros((codes.shape[0], sum(self.cardinalities)), dtype=dtype)
        if codes.shape[1]:
            column, seen = self.locate(codes) if located is None else located
            # Out of place: torch.func.vmap (per-row gradients under DP) has no batching rule for scatter_.
            out = out.scatter(1, column, seen.to(dtype))
        return out

    def _stacked(self, logits: torch.Tensor):
        """Yield (parts, (B, parts, k) padded logits) per bucket."""
        padded = F.pad(logits, (0, 1), value=-math.inf)
        for b in range(len(self.buckets)):
            parts, idx = getattr(self, f"parts_{b}"), getattr(self, f"logits_{b}")
            # index_select: its backward is several times faster than fancy indexing's on CPU.
            yield parts, padded.index_select(1, idx).view(logits.shape[0], len(parts), -1)

    def nll(self, logits: torch.Tensor, codes: torch.Tensor, located=None) -> torch.Tensor:
        """(B, K) negative log-likelihood of each code; unseen codes (-1) score 0.

        With few parts (``per_part_lse``): a log-sum-exp per part without
        padding, exp of the logits less their part's maximum summed per part by
        one small matmul, which is cheaper than padding when parts are few.
        Otherwise the padded log-softmax of each bucket.  ``located``:
        :meth:`locate` of ``codes``, when already computed.
        """
        if not self.buckets:
            return logits.new_zeros(codes.shape)
        column, seen = self.locate(codes) if located is None else located
        if self.per_part_lse:
            rows, parts = codes.shape
            with torch.no_grad():  # any shift gives the same value; the part's max keeps exp() in range
                shift = logits.new_full((rows, parts), -math.inf).scatter_reduce_(
                    1, self.part_of.expand(rows, -1), logits, "amax", include_self=True
                )
            part_sum = self.part_sum if self.part_sum.dtype == logits.dtype else self.part_sum.to(logits.dtype)
            summed = (logits - shift.index_select(1, self.part_of)).exp() @ part_sum
            nll = summed.log() + shift - logits.gather(1, column)
        else:
            target = codes.clamp_min(0)
            out = [
                -F.log_softmax(g, dim=-1).gather(-1, target[:, parts, None]).squeeze(-1)
                for parts, g in self._stacked(logits)
            ]
            nll = torch.cat(out, dim=1).index_select(1, self.order)
        return torch.where(seen, nll, 0.0)

    def sample(self, logits: torch.Tensor, generator: torch.Generator | None, temperature: float = 1.0) -> torch.Tensor:
        """Draw codes from the softmax of each part (Gumbel-max trick)."""
        if not self.buckets:
            return torch.zeros((logits.shape[0], 0), dtype=torch.long, device=logits.device)
        out = [sample_categorical(g, generator, temperature) for _, g in self._stacked(logits)]
        return torch.cat(out, dim=1).index_select(1, self.order)
