"""tabvae: learn a table, write new realistic rows of it.

Public API: :class:`TabularVAE` (fit / sample / transform / score) and its
:class:`TrainingConfig`, :func:`load`, :func:`evaluate` (needs the ``eval`` extra),
:func:`augment` / :class:`TabVAEResampler`,
:class:`TabularVAEAnomalyDetector`, and :func:`discover_constraints` (the
constraint classes are in :mod:`tabvae.constraints`).
"""

from .anomaly import TabularVAEAnomalyDetector
from .augment import TabVAEResampler, augment
from .config import TrainingConfig
from .constraints import discover_constraints
from .estimator import TabularVAE, load
from .evaluation import EvaluationReport, evaluate
from .schema import ColumnSpec, Schema, infer_schema
from .version import __version__

__all__ = [
    "TabularVAE",
    "TrainingConfig",
    "load",
    "evaluate",
    "EvaluationReport",
    "augment",
    "TabVAEResampler",
    "TabularVAEAnomalyDetector",
    "discover_constraints",
    "Schema",
    "ColumnSpec",
    "infer_schema",
    "__version__",
]
