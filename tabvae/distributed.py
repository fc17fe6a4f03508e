"""Data-parallel training across processes with torch.distributed (DistributedDataParallel).

Launch one process per GPU (or several CPU processes) with ``torchrun``::

    torchrun --nproc_per_node=4 -m tabvae.cli fit data.parquet -o model.tabvae

Rank 0 fits the column encoders once and broadcasts their JSON state, so all
ranks encode identically; each rank trains on a disjoint shard of every epoch
(same permutation, strided by rank) and DDP averages gradients, so the weights
stay identical on every rank.  Per-epoch losses are all-reduced; rank 0 saves.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist

from .encoders import TableEncoder
from .estimator import TabularVAE


def is_launched() -> bool:
    """True inside a torchrun / torch.distributed launch with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def fit_distributed(model: TabularVAE, X: Any, *, backend: str | None = None) -> TabularVAE:
    """Fit ``model`` (a TabularVAE) data-parallel across the launched processes.

    Parameters
    ----------
    model : TabularVAE
        Unfitted; every rank must pass the same parameters and the same ``X``.
    X : DataFrame
    backend : str, optional
        ``"nccl"`` on GPUs, ``"gloo"`` on CPUs (default: chosen by device).

    Returns
    -------
    model : TabularVAE
        Fitted; identical on every rank.  Its ``device`` parameter is left as
        given; with CUDA each rank trains on its own GPU (``LOCAL_RANK``).
    """
    if not dist.is_initialized():
        cuda = torch.cuda.is_available() and model.device != "cpu"
        dist.init_process_group(backend or ("nccl" if cuda else "gloo"))
    rank = dist.get_rank()
    device = None
    if torch.cuda.is_available() and model.device in ("auto", "cuda"):
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    state: list[Any] = [None]
    if rank == 0:
        state[0] = model.fit_encoder(X).get_state()
    dist.broadcast_object_list(state, src=0)  # a JSON-able dict: no model objects are pickled
    return model.fit(X, encoder=TableEncoder.from_state(state[0]), device=device)
