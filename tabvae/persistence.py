"""Save and load fitted models without pickle.

A model file is one safetensors file: the network's weights as tensors, and
everything else (parameters, schema, encoder states, prior, history, the
sampling stream's state) as JSON in the file's metadata.  Loading never
unpickles anything, so a model file from an untrusted source cannot run code.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import torch

FORMAT = "tabvae-model"
FORMAT_VERSION = 2  # 2: column dtypes may be "str[storage]" or "arrow:string" (schema.dtype_name)


def save(model, path: str | os.PathLike) -> None:
    """Write a fitted :class:`~tabvae.TabularVAE` to ``path`` (see module doc)."""
    from safetensors.torch import save_file
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    check_is_fitted(model)
    params = model.get_params()
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState object; its effect is already in the weights
    params["hidden_dims"] = list(params["hidden_dims"])
    rng_state = model._sample_rng.get_state()
    meta = {
        "format": FORMAT,
        "format_version": _format_version(model),
        "tabvae_version": __version__,
        "params": params,
        "encoder": model.encoder_.get_state(),
        "config": dataclasses.asdict(model.model_.cfg),
        "prior": None if model.prior_ is None else model.prior_.to_dict(),
        "history": model.history_,
        "n_features_in": model.n_features_in_,
        "feature_names_in": None if not hasattr(model, "feature_names_in_") else list(model.feature_names_in_),
        "sample_rng": {"pos": int(rng_state[2]), "has_gauss": int(rng_state[3]), "cached": float(rng_state[4])},
        "extra": model._extra_state() if hasattr(model, "_extra_state") else {},
    }
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.model_.state_dict().items()}
    tensors["sample_rng.keys"] = torch.as_tensor(rng_state[1].astype(np.int64))
    save_file(tensors, os.fspath(path), metadata={"tabvae": json.dumps(meta)})


def _format_version(model) -> int:
    """The oldest format that can read this model, so that older tabvae still loads what it can.

    Format 1 readers parse a column's dtype with ``str(dtype)``'s grammar, which has no
    ``str[storage]`` or ``arrow:string``; they would fail only when sampling.
    """
    new_names = any(spec.dtype.startswith(("str[", "arrow:")) for spec in model.encoder_.schema)
    return 2 if new_names else 1


def load(path: str | os.PathLike, *, device: str = "auto"):
    """Load a model written by :meth:`TabularVAE.save`.

    Parameters
    ----------
    path : str or path-like
    device : str, default="auto"
        Where to put the network; a model trained on a GPU loads on a CPU.

    Returns
    -------
    TabularVAE

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a tabvae model, is truncated or corrupted, or was
        written by a newer, incompatible format.
    """
    from safetensors import safe_open

    from .encoders import TableEncoder
    from .estimator import TabularVAE
    from .model import GaussianMixturePrior, VAEConfig, build_vae
    from .training import resolve_device

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
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is a safetensors file but not a tabvae model.")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written by tabvae {meta.get('tabvae_version')} in model format "
            f"{meta['format_version']}; this tabvae reads format {FORMAT_VERSION}. Upgrade tabvae."
        )
    params = meta["params"]
    params["hidden_dims"] = tuple(params["hidden_dims"])
    model = TabularVAE(**params)
    dev = resolve_device(device)
    model.device_ = dev
    model.encoder_ = TableEncoder.from_state(meta["encoder"])
    model.schema_ = model.encoder_.schema
    cfg = meta["config"]
    cfg = VAEConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
    model.model_ = build_vae(cfg, dev, torch.Generator(device=dev).manual_seed(0))
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    model.model_.load_state_dict(state)
    model.model_.eval()
    model.prior_ = None if meta["prior"] is None else GaussianMixturePrior.from_dict(meta["prior"])
    model.history_ = meta["history"]
    model.n_features_in_ = meta["n_features_in"]
    if meta["feature_names_in"] is not None:
        model.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
    r = meta["sample_rng"]
    model._sample_rng = np.random.RandomState()
    model._sample_rng.set_state(("MT19937", tensors["sample_rng.keys"].numpy().astype(np.uint32),
                                 r["pos"], r["has_gauss"], r["cached"]))
    if hasattr(model, "_set_extra_state"):
        model._set_extra_state(meta.get("extra", {}))
    return model
