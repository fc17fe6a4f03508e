"""tabvae: learn a table, write new realistic rows of it.

Public API: :class:`TabularVAE` (fit / sample / transform / score),
:func:`load`, :func:`evaluate` (needs the ``eval`` extra),
:func:`augment` / :class:`TabVAEResampler`, and
:class:`TabularVAEAnomalyDetector`.
"""

from .anomaly import TabularVAEAnomalyDetector
from .augment import TabVAEResampler, augment
from .estimator import TabularVAE
from .evaluation import EvaluationReport, evaluate
from .persistence import load
from .schema import ColumnSpec, Schema, infer_schema

__version__ = "0.1.0"

__all__ = [
    "TabularVAE", "load", "evaluate", "EvaluationReport", "augment", "TabVAEResampler",
    "TabularVAEAnomalyDetector", "Schema", "ColumnSpec", "infer_schema", "__version__",
]
