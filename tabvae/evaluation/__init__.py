"""Evaluate synthetic data against the real data it imitates.

:func:`evaluate` scores a synthetic table on four axes and returns an
:class:`EvaluationReport`:

* **fidelity** -- SDMetrics ``QualityReport`` (column shapes and column pair
  trends over *all* column pairs);
* **detection** -- can a classifier tell real rows from synthetic ones?
* **utility** -- does a model trained on synthetic data predict real data as
  well as one trained on real data (TSTR vs TRTR)?
* **privacy** -- are synthetic rows closer to the training rows than fresh
  real rows are (distance to closest record, exact copies), and can a
  membership-inference attack tell training rows from unseen ones?

Everything is deterministic for a given ``random_state``; no global random
state is consumed (see :func:`evaluate` for the one sdmetrics call that needs
numpy's global generator, which is seeded and then restored).

The modules: ``api`` (:func:`evaluate`), ``inputs`` (argument checks),
``fidelity``, ``detection``, ``utility`` and ``privacy`` (the four axes),
``encoding`` (tables as numbers, associations), ``report``
(:class:`EvaluationReport`), ``plots`` and ``html`` (its figures and page),
``metrics`` (score groups and their guide), ``formatting`` and ``common``
(shared helpers).
"""

from .api import evaluate
from .report import EvaluationReport

__all__ = ["evaluate", "EvaluationReport"]
