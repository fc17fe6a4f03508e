"""Model files: one safetensors file, tensors plus JSON metadata, no pickle.

A model file holds the tensors of :meth:`TabularVAE.get_state` (the network's
weights, the sampling stream's key) and its JSON-safe state dict in the file's
metadata, with a format name and version.  Reading never unpickles anything,
so a model file from an untrusted source cannot run code.  Building the
estimator from what is read is :meth:`TabularVAE.from_state`'s job.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from .version import __version__

FORMAT = "tabvae-model"
FORMAT_VERSION = 1


def write_model_file(path: str | os.PathLike, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Write ``tensors`` and the JSON-safe ``state`` to ``path``."""
    from safetensors.torch import save_file

    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "tabvae_version": __version__, "state": state}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    save_file(tensors, os.fspath(path), metadata={"tabvae": json.dumps(meta)})


def read_model_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The state dict and the tensors (on the CPU) written by :func:`write_model_file`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a tabvae model, is truncated or corrupted, or was
        written by a newer, incompatible format.
    """
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            header = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(header["tabvae"])
    except Exception as e:  # safetensors raises several error types for bad files
        raise ValueError(
            f"{path!r} is not a readable tabvae model file (truncated, corrupted, or another "
            f"format): {type(e).__name__}: {e}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is a safetensors file but not a tabvae model.")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written by tabvae {meta.get('tabvae_version')} in model format "
            f"{meta['format_version']}; this tabvae reads format {FORMAT_VERSION}. Upgrade tabvae."
        )
    return meta["state"], tensors
