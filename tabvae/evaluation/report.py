"""The result of an evaluation: scores, detail tables, notes, and the plots and HTML page drawn from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike

import pandas as pd

from ..schema import Schema
from .encoding import association_matrix
from .formatting import fmt, pct, plain, records
from .html import render
from .metrics import group_of
from .plots import correlation_figure, distributions_figure, plot_columns, training_curve_figure


@dataclass(repr=False)
class EvaluationReport:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    scores : dict of str to float
        Headline numbers (``NaN`` where a metric could not be computed); see
        :func:`evaluate` for the keys.
    column_shapes : DataFrame
        One row per column: ``column``, ``kind``, ``metric`` (``KSComplement`` or
        ``TVComplement``) and ``score``.
    pair_trends : DataFrame
        One row per column pair: ``column_1``, ``column_2``, ``metric``
        (``CorrelationSimilarity`` or ``ContingencySimilarity``), ``score``,
        ``real_correlation``, ``synthetic_correlation``.
    utility : DataFrame or None
        Rows ``TSTR`` and ``TRTR``, one column per utility metric; ``None``
        without a target.
    notes : list of str
        Caveats collected during the evaluation (skipped parts, fallbacks), a
        warning when the closer-to-train share says the generator memorised
        training rows (above 0.53, or two standard errors above 0.5 on few rows),
        and one when the membership attack's ROC-AUC is above 0.55 with its 95%
        interval above 0.5.
    schema : Schema
        Column kinds used for the evaluation.
    target, task : str or None
        Utility target column and task.
    n_rows : dict
        Row counts of the inputs and of the (subsampled) evaluation frames.
    random_state : int
        Seed the evaluation used.
    history : dict or None
        Copy of the model's ``history_`` (training curves), if a model was given.
    real_evaluated, synthetic_evaluated : DataFrame
        The (subsampled) rows of ``real`` and ``synthetic`` the scores were
        computed on; the plots draw them.
    """

    scores: dict
    column_shapes: pd.DataFrame
    pair_trends: pd.DataFrame
    schema: Schema
    utility: pd.DataFrame | None = None
    notes: list = field(default_factory=list)
    target: str | None = None
    task: str | None = None
    n_rows: dict = field(default_factory=dict)
    random_state: int = 0
    history: dict | None = None
    real_evaluated: pd.DataFrame | None = None
    synthetic_evaluated: pd.DataFrame | None = None

    # ----------------------------------------------------------------- tables

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={fmt(self.scores[k])}" for k in ("quality_score", "detection_auc") if k in self.scores)
        return f"EvaluationReport({shown}, {len(self.scores)} scores)"

    def groups(self) -> dict:
        """Map each score key to its group (fidelity, detection, utility, privacy)."""
        return {k: group_of(k) for k in self.scores}

    def to_dict(self) -> dict:
        """JSON-serialisable summary (plain Python types, ``None`` for NaN/inf).

        Returns
        -------
        dict
            Keys ``scores``, ``groups``, ``column_shapes``, ``pair_trends``,
            ``utility``, ``privacy_evaluated``, ``target``, ``task``, ``n_rows``,
            ``random_state``, ``notes`` and ``history``.
        """
        return {
            "scores": {k: plain(v) for k, v in self.scores.items()},
            "groups": self.groups(),
            "column_shapes": records(self.column_shapes),
            "pair_trends": records(self.pair_trends),
            "utility": None if self.utility is None else records(self.utility.reset_index(names="setting")),
            "privacy_evaluated": "exact_copy_share" in self.scores,
            "target": self.target,
            "task": self.task,
            "n_rows": {k: plain(v) for k, v in self.n_rows.items()},
            "random_state": int(self.random_state),
            "notes": list(self.notes),
            "history": None if self.history is None else {k: [plain(x) for x in v] for k, v in self.history.items()},
        }

    def to_frame(self) -> pd.DataFrame:
        """Scores as a tidy DataFrame with columns ``metric``, ``value``, ``group``."""
        return pd.DataFrame(
            {
                "metric": list(self.scores),
                "value": [float(v) for v in self.scores.values()],
                "group": [group_of(k) for k in self.scores],
            }
        )

    def summary(self) -> str:
        """A few lines of text with the headline numbers."""
        s = self.scores
        lines = [
            f"Fidelity: quality {fmt(s.get('quality_score'))} "
            f"(column shapes {fmt(s.get('column_shapes'))}, "
            f"pair trends {fmt(s.get('column_pair_trends'))}; 1 = identical)",
            f"Detection: logistic {fmt(s.get('logistic_detection'))} (1 = indistinguishable), "
            f"tree classifier AUC {fmt(s.get('detection_auc'))} (0.5 = indistinguishable)",
        ]
        if self.utility is not None:
            parts = [
                f"{m} TSTR {fmt(self.utility.loc['TSTR', m])} vs TRTR {fmt(self.utility.loc['TRTR', m])}"
                for m in self.utility.columns
            ]
            lines.append(f"Utility ({self.task} of {self.target!r}): " + "; ".join(parts))
        if "exact_copy_share" in s:
            lines.append(
                f"Privacy: DCR median ratio {fmt(s['dcr_median_ratio'])} (>= 1 good), "
                f"closer-to-train share {fmt(s['closer_to_train_share'])} (0.5 ideal), "
                f"exact copies {pct(s['exact_copy_share'])} "
                f"(holdout baseline {pct(s['holdout_exact_copy_share'])}), "
                f"membership attack AUC {fmt(s['membership_attack_auc'])} (0.5 = no leak)"
            )
        else:
            lines.append("Privacy: not evaluated (no holdout given)")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    # ----------------------------------------------------------------- plots

    def plot_distributions(self, columns: Iterable[str] | None = None, *, ncols: int = 3):
        """Real-vs-synthetic histograms (numbers, dates) and bar charts (categories).

        Parameters
        ----------
        columns : iterable of str, optional
            Columns to draw (default: all non-constant columns).
        ncols : int, default=3
            Plots per row of the grid.

        Returns
        -------
        matplotlib.figure.Figure
        """
        cols = plot_columns(self.schema, columns)
        return distributions_figure(
            self.schema, self.real_evaluated, self.synthetic_evaluated, self.column_shapes, cols, ncols
        )

    def plot_correlation_difference(self):
        """Heatmap of |association(real) - association(synthetic)| for every pair.

        The association is mixed: Pearson correlation for two numeric (or
        datetime) columns, so the difference lies in [0, 2]; bias-uncorrected
        Cramér's V for every other pair, with numeric columns cut into 10
        equal-width bins whose edges come from the real data (the same edges are
        used for the synthetic data). A constant column has association 0.
        Computed on the subsampled evaluation frames.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return correlation_figure(self.correlation_difference())

    def correlation_difference(self) -> pd.DataFrame:
        """Matrix behind :meth:`plot_correlation_difference` (0 on the diagonal)."""
        names = [c.name for c in self.schema if c.kind != "constant"]
        real = association_matrix(self.real_evaluated, self.real_evaluated, self.schema, names)
        synth = association_matrix(self.synthetic_evaluated, self.real_evaluated, self.schema, names)
        return (real - synth).abs()

    def plot_training_curve(self):
        """Training curves from the model's ``history_`` (loss, reconstruction, KL).

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        ValueError
            If no model with a ``history_`` was passed to :func:`evaluate`.
        """
        if not self.history:
            raise ValueError("No training history: pass model=<fitted model with history_> to evaluate().")
        return training_curve_figure(self.history)

    # ----------------------------------------------------------------- html

    def to_html(self, path: str | PathLike) -> str | PathLike:
        """Write a self-contained HTML report (inline CSS, plots as base64 PNG).

        Parameters
        ----------
        path : str or path-like
            File to write (UTF-8). It references no external resource.

        Returns
        -------
        str or path-like
            ``path``.
        """
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(render(self))
        return path
