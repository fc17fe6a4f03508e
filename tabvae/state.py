"""The fitted state of a :class:`~tabvae.TabularVAE` as a JSON-safe dict and a dict of tensors.

:meth:`TabularVAE.get_state` and :meth:`TabularVAE.from_state` are the public
entry points; :mod:`tabvae.persistence` writes and reads what they exchange.
Only the estimator's parameters and public fitted attributes go in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch

from .config import TrainingConfig
from .constraints import ConstraintSet, constraint_from_dict
from .encoders import TableEncoder
from .model import VAEConfig, build_vae
from .prior import GaussianMixturePrior
from .sampling import ConditionTable
from .state_check import RNG_KEYS, check_decodes, check_layout, check_tensors
from .training import resolve_device

RESOLVED = ("numeric_frequencies_", "kl_weight_", "kl_warmup_", "early_stopping_")  # what the "auto" settings became
PRIVACY = ("dp_epsilon_", "dp_delta_", "dp_noise_multiplier_")  # the budget a DP fit spent (None without DP)


def fitted_state(vae: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The fitted ``vae``'s parameters and fitted attributes, and its network's tensors."""
    params = vae.get_params(deep=False)
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState object; its effect is already in the weights
    params["config"] = _config_state(params["config"])
    constraints = None if vae.constraints_ is None else vae.constraints_.get_state()  # a Predicate refuses
    if params["constraints"] is not None:
        params["constraints"] = [c if isinstance(c, dict) else c.to_dict() for c in params["constraints"]]
    keys, pos, has_gauss, cached = vae.sample_rng_.get_state()[1:]
    state = {
        "params": params,
        "encoder": vae.encoder_.get_state(),
        "network": dataclasses.asdict(vae.model_.cfg),
        "prior": None if vae.prior_ is None else vae.prior_.to_dict(),
        "history": vae.history_,
        "n_features_in": vae.n_features_in_,
        "feature_names_in": list(vae.feature_names_in_) if hasattr(vae, "feature_names_in_") else None,
        "conditional_columns": vae.conditional_columns_,
        "condition_table": None if vae.condition_table_ is None else vae.condition_table_.to_dict(),
        "constraints": constraints,
        "resolved": {name: getattr(vae, name) for name in RESOLVED},
        "privacy": {name: getattr(vae, name) for name in PRIVACY},
        "sample_rng": {"pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
    }
    tensors = {f"model.{k}": v for k, v in vae.model_.state_dict().items()}
    tensors["sample_rng.keys"] = torch.as_tensor(keys.astype(np.int64))
    return state, tensors


def parameters(state: dict[str, Any]) -> dict[str, Any]:
    """The estimator parameters recorded in ``state``."""
    rules = state["params"].get("constraints")
    constraints = None if rules is None else rules_from_state(lambda: [constraint_from_dict(d) for d in rules])
    return dict(state["params"], config=_config_from_state(state["params"]["config"]), constraints=constraints)


def restore_fitted(vae: Any, state: dict[str, Any], tensors: dict[str, torch.Tensor], device: str) -> None:
    """Set the fitted attributes of ``vae`` from :func:`fitted_state`'s output, its network on ``device``."""
    vae.device_ = dev = resolve_device(device)
    vae.encoder_ = TableEncoder.from_state(state["encoder"])
    vae.schema_ = vae.encoder_.schema
    check_layout(vae.encoder_.layout_, state["network"])
    check_decodes(vae.encoder_)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in state["network"].items()}
    net = VAEConfig(**fields)
    vae.model_ = build_vae(net, dev, torch.Generator(device=dev).manual_seed(0))
    shapes = {f"model.{k}": v.shape for k, v in vae.model_.state_dict().items()}
    check_tensors({**shapes, "sample_rng.keys": (RNG_KEYS,)}, tensors)
    vae.model_.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
    vae.model_.eval()
    vae.prior_ = None if state["prior"] is None else GaussianMixturePrior.from_dict(state["prior"])
    vae.history_ = state["history"]
    vae.n_features_in_ = state["n_features_in"]
    if state["feature_names_in"] is not None:
        vae.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
    vae.conditional_columns_ = state["conditional_columns"]
    table = state["condition_table"]
    vae.condition_table_ = None if table is None else ConditionTable.from_dict(table)
    fitted = state.get("constraints")
    vae.constraints_ = None if fitted is None else rules_from_state(partial(ConstraintSet.from_state, fitted))
    for name, value in state["resolved"].items():
        setattr(vae, name, value)
    vae.decoder_ = "autoregressive" if vae.model_.ar is not None else "factorized"  # the network says which
    for name in PRIVACY:  # a file written before DP training existed has no "privacy" entry
        setattr(vae, name, state.get("privacy", {}).get(name))
    r = state["sample_rng"]
    vae.sample_rng_ = np.random.RandomState()
    vae.sample_rng_.set_state(
        ("MT19937", tensors["sample_rng.keys"].numpy().astype(np.uint32), r["pos"], r["has_gauss"], r["cached"])
    )


def set_input_features(vae: Any, X: Any, user: pd.DataFrame) -> None:
    """``n_features_in_`` and, when ``X`` is a DataFrame, ``feature_names_in_`` of ``user`` (the checked ``X``)."""
    vae.n_features_in_ = user.shape[1]
    if isinstance(X, pd.DataFrame):
        vae.feature_names_in_ = np.asarray(user.columns, dtype=object)
    elif hasattr(vae, "feature_names_in_"):
        del vae.feature_names_in_


def rules_from_state(build: Callable[[], Any]) -> Any:
    """``build()``, the constraints of a state; what their readers raise for a malformed one is a ValueError."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise ValueError(f"invalid model state: its constraints cannot be read: {type(e).__name__}: {e}") from None


def _config_state(config: TrainingConfig | dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``config`` parameter as JSON: its kind (TrainingConfig or dict) and fields."""
    if config is None:
        return None
    fields = config.get_params() if isinstance(config, TrainingConfig) else dict(config)
    plain = lambda v: v.item() if isinstance(v, np.generic) else v  # noqa: E731  numpy scalars as JSON numbers
    fields = {k: [plain(x) for x in v] if isinstance(v, (tuple, list)) else plain(v) for k, v in fields.items()}
    return {"kind": type(config).__name__, "fields": fields}


def _config_from_state(state: dict[str, Any] | None) -> TrainingConfig | dict[str, Any] | None:
    if state is None:
        return None
    pairs = ("hidden_dims", "robust_ramp")  # JSON lists of the tuple fields
    fields: dict[str, Any] = {k: tuple(v) if k in pairs and v is not None else v for k, v in state["fields"].items()}
    return TrainingConfig(**fields) if state["kind"] == "TrainingConfig" else fields
