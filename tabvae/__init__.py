"""tabvae: learn a table, write new realistic rows of it.

Public API: :class:`TabularVAE` (fit / sample / transform / score) and its
:class:`TrainingConfig`, :func:`load`, :func:`evaluate` (needs the ``eval`` extra),
:func:`augment` / :class:`TabVAEResampler`,
:class:`TabularVAEAnomalyDetector`, :class:`TabVAEImputer`, and :func:`discover_constraints` (the
constraint classes are in :mod:`tabvae.constraints`).

The names are imported on first use, so ``import tabvae`` (and the command
line's ``--help``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

_EXPORTS = {
    "TabularVAE": "estimator",
    "load": "estimator",
    "TrainingConfig": "config",
    "evaluate": "evaluation",
    "EvaluationReport": "evaluation",
    "augment": "augmentation",
    "TabVAEResampler": "augmentation",
    "TabularVAEAnomalyDetector": "anomaly",
    "TabVAEImputer": "imputer",
    "discover_constraints": "constraints",
    "Schema": "schema",
    "ColumnSpec": "schema",
    "infer_schema": "schema",
}

__all__ = [
    "TabularVAE",
    "TrainingConfig",
    "load",
    "evaluate",
    "EvaluationReport",
    "augment",
    "TabVAEResampler",
    "TabularVAEAnomalyDetector",
    "TabVAEImputer",
    "discover_constraints",
    "Schema",
    "ColumnSpec",
    "infer_schema",
    "__version__",
]

if TYPE_CHECKING:
    from .anomaly import TabularVAEAnomalyDetector
    from .augmentation import TabVAEResampler, augment
    from .config import TrainingConfig
    from .constraints import discover_constraints
    from .estimator import TabularVAE, load
    from .evaluation import EvaluationReport, evaluate
    from .imputer import TabVAEImputer
    from .schema import ColumnSpec, Schema, infer_schema


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tabvae' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
