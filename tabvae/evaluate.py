"""Evaluate synthetic data against the real data it imitates.

:func:`evaluate` scores a synthetic table on four axes and returns an
:class:`EvaluationReport`:

* **fidelity** -- SDMetrics ``QualityReport`` (column shapes and column pair
  trends over *all* column pairs);
* **detection** -- can a classifier tell real rows from synthetic ones?
* **utility** -- does a model trained on synthetic data predict real data as
  well as one trained on real data (TSTR vs TRTR)?
* **privacy** -- are synthetic rows closer to the training rows than fresh
  real rows are (distance to closest record, exact copies)?

Everything is deterministic for a given ``random_state``; no global random
state is consumed (see :func:`evaluate` for the one sdmetrics call that needs
numpy's global generator, which is seeded and then restored).
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .schema import Schema, check_dataframe, infer_schema

__all__ = ["evaluate", "EvaluationReport", "TASKS", "shared_bin_similarity"]

TASKS = ("classification", "regression")

_NUMERIC_KINDS = ("numeric", "integer", "datetime")
_TREE_MAX_LEVELS = 253  # HistGradientBoosting categorical codes must stay below max_bins=255
_DISTANCE_MAX_LEVELS = 200
_ASSOC_BINS = 10
_ASSOC_MAX_LEVELS = 50
_PLOT_MAX_LEVELS = 15
_HTML_MAX_COLUMNS = 60
_MIN_ROWS_DETECTION = 10
# Closer-to-train share above which synthetic rows look memorised (the benchmark's privacy bound).
CLOSER_SHARE_BOUND = 0.53

_GROUP_ORDER = ("fidelity", "detection", "utility", "privacy")
_FIDELITY_KEYS = ("quality_score", "column_shapes", "column_pair_trends")
_DETECTION_KEYS = ("logistic_detection", "detection_auc")
_PRIVACY_KEYS = (
    "dcr_synthetic_median",
    "dcr_holdout_median",
    "dcr_median_ratio",
    "dcr_synthetic_p05",
    "dcr_holdout_p05",
    "dcr_p05_ratio",
    "closer_to_train_share",
    "exact_copy_share",
    "holdout_exact_copy_share",
)
_SDTYPE_TO_KIND = {
    "numerical": "numeric",
    "datetime": "datetime",
    "categorical": "categorical",
    "ordinal": "categorical",
    "boolean": "boolean",
}

# --------------------------------------------------------------------------- guidance

_GUIDANCE = {
    "quality_score": (
        "SDMetrics overall quality: the mean of Column Shapes and Column Pair Trends. "
        "1 means every single-column distribution and every pairwise trend matches. "
        "Above about 0.8 is usually good; read the two parts below to see what is off."
    ),
    "column_shapes": (
        "Mean over columns of how well each column's distribution matches: "
        "1 - Kolmogorov-Smirnov statistic for numbers and dates, 1 - total variation "
        "distance for categories. 1 = identical; below 0.8 a column is clearly off."
    ),
    "column_pair_trends": (
        "Mean over ALL column pairs of how well relationships are kept: "
        "1 - |difference of Pearson correlations| / 2 for two numeric columns, "
        "1 - total variation distance of the two-way frequency table otherwise "
        "(numbers binned). Synthetic data with independent columns score visibly lower."
    ),
    "logistic_detection": (
        "SDMetrics LogisticDetection: 1 - (2 x AUC - 1) of a logistic regression that "
        "tries to tell real rows from synthetic rows. 1 = it cannot tell them apart, "
        "0 = it separates them perfectly. A linear model misses many differences, so "
        "also read detection_auc."
    ),
    "detection_auc": (
        "Cross-validated ROC-AUC of a gradient-boosted tree classifier trained to tell "
        "real rows from synthetic rows (equal numbers of each). 0.5 = indistinguishable "
        "(values slightly below 0.5 are noise); about 0.6 = detectable differences; "
        "above 0.8 = synthetic rows are easy to spot."
    ),
    "tstr": "Train on Synthetic, Test on Real: a fixed gradient-boosting model learns the "
    "target from the synthetic table and is scored on real rows it never saw.",
    "trtr": "Train on Real, Test on Real: the same model trained on real rows, scored on "
    "the same test rows. This is the reference TSTR should come close to.",
    "roc_auc": "ROC-AUC (1 = perfect ranking, 0.5 = chance; macro one-vs-rest for more "
    "than two classes).",
    "f1": "F1 score of the predicted labels (for two classes the rarer class is the "
    "positive one; macro average for more classes). Higher is better.",
    "r2": "R squared (1 = perfect, 0 = no better than predicting the mean).",
    "rmse": "Root mean squared error in the target's units (lower is better).",
    "dcr_synthetic_median": (
        "Median distance from a synthetic row to its closest training row, on a common "
        "encoding (numbers mapped to [0, 1] by the training quantiles, categories "
        "one-hot, so a differing category counts 1)."
    ),
    "dcr_holdout_median": (
        "Median distance from a real holdout row (never used for training) to its "
        "closest training row: what an honest generator should look like."
    ),
    "dcr_median_ratio": (
        "dcr_synthetic_median / dcr_holdout_median. About 1 or above is fine; well "
        "below 1 means synthetic rows sit closer to the training rows than new real "
        "rows do, a sign of memorisation."
    ),
    "dcr_synthetic_p05": "5th percentile of synthetic-to-train distances: the closest "
    "synthetic rows.",
    "dcr_holdout_p05": "5th percentile of holdout-to-train distances: the baseline for "
    "the closest rows.",
    "dcr_p05_ratio": (
        "dcr_synthetic_p05 / dcr_holdout_p05. Well below 1 flags a subset of synthetic "
        "rows that are near-copies of training rows."
    ),
    "closer_to_train_share": (
        "Share of synthetic rows whose nearest neighbour in a training sample is closer "
        "than their nearest neighbour in an equally large holdout (ties count half). "
        "0.5 is ideal; values towards 1 mean the generator copies its training data."
    ),
    "exact_copy_share": (
        "Share of synthetic rows identical (in every column) to some training row. "
        "Compare with holdout_exact_copy_share."
    ),
    "holdout_exact_copy_share": (
        "Share of real holdout rows identical to some training row: the natural level "
        "of duplicates in this kind of data."
    ),
}


def _guidance(key: str) -> str:
    """Plain-language explanation of score ``key``."""
    if key in _GUIDANCE:
        return _GUIDANCE[key]
    setting, _, metric = key.partition("_")
    return f"{_GUIDANCE.get(setting, '')} {_GUIDANCE.get(metric, '')}".strip()


# --------------------------------------------------------------------------- report


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
        Caveats collected during the evaluation (skipped parts, fallbacks), and a
        warning when the closer-to-train share says the generator memorised
        training rows (above 0.53, or two standard errors above 0.5 on few rows).
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
    _real: pd.DataFrame | None = None
    _synthetic: pd.DataFrame | None = None

    # ----------------------------------------------------------------- tables

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={_fmt(self.scores[k])}"
            for k in ("quality_score", "detection_auc")
            if k in self.scores
        )
        return f"EvaluationReport({shown}, {len(self.scores)} scores)"

    def groups(self) -> dict:
        """Map each score key to its group (fidelity, detection, utility, privacy)."""
        return {k: _group_of(k) for k in self.scores}

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
            "scores": {k: _plain(v) for k, v in self.scores.items()},
            "groups": self.groups(),
            "column_shapes": _records(self.column_shapes),
            "pair_trends": _records(self.pair_trends),
            "utility": None if self.utility is None else _records(self.utility.reset_index(names="setting")),
            "privacy_evaluated": "exact_copy_share" in self.scores,
            "target": self.target,
            "task": self.task,
            "n_rows": {k: _plain(v) for k, v in self.n_rows.items()},
            "random_state": int(self.random_state),
            "notes": list(self.notes),
            "history": None if self.history is None else {
                k: [_plain(x) for x in v] for k, v in self.history.items()
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """Scores as a tidy DataFrame with columns ``metric``, ``value``, ``group``."""
        return pd.DataFrame(
            {
                "metric": list(self.scores),
                "value": [float(v) for v in self.scores.values()],
                "group": [_group_of(k) for k in self.scores],
            }
        )

    def summary(self) -> str:
        """A few lines of text with the headline numbers."""
        s = self.scores
        lines = [
            f"Fidelity: quality {_fmt(s.get('quality_score'))} "
            f"(column shapes {_fmt(s.get('column_shapes'))}, "
            f"pair trends {_fmt(s.get('column_pair_trends'))}; 1 = identical)",
            f"Detection: logistic {_fmt(s.get('logistic_detection'))} (1 = indistinguishable), "
            f"tree classifier AUC {_fmt(s.get('detection_auc'))} (0.5 = indistinguishable)",
        ]
        if self.utility is not None:
            parts = [
                f"{m} TSTR {_fmt(self.utility.loc['TSTR', m])} vs TRTR {_fmt(self.utility.loc['TRTR', m])}"
                for m in self.utility.columns
            ]
            lines.append(f"Utility ({self.task} of {self.target!r}): " + "; ".join(parts))
        if "exact_copy_share" in s:
            lines.append(
                f"Privacy: DCR median ratio {_fmt(s['dcr_median_ratio'])} (>= 1 good), "
                f"closer-to-train share {_fmt(s['closer_to_train_share'])} (0.5 ideal), "
                f"exact copies {_pct(s['exact_copy_share'])} "
                f"(holdout baseline {_pct(s['holdout_exact_copy_share'])})"
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
        cols = self._plot_columns(columns)
        ncols = max(1, min(ncols, len(cols)))
        nrows = math.ceil(len(cols) / ncols)
        fig = _new_figure((4.2 * ncols, 3.2 * nrows))
        axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, name in zip(axes, cols):
            self._draw_column(ax, name)
        for ax in axes[len(cols):]:
            ax.set_visible(False)
        return fig

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
        diff = self.correlation_difference()
        n = len(diff)
        fig = _new_figure((max(4.0, 0.55 * n + 2.5), max(3.5, 0.5 * n + 1.8)))
        ax = fig.subplots()
        values = diff.to_numpy(dtype=float)
        image = ax.imshow(values, vmin=0.0, vmax=max(1.0, float(np.nanmax(values, initial=0.0))), cmap="Reds")
        ax.set_xticks(range(n), diff.columns, rotation=90)
        ax.set_yticks(range(n), diff.index)
        if n <= 20:
            _annotate(ax, values)
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title("|association real - association synthetic|")
        return fig

    def correlation_difference(self) -> pd.DataFrame:
        """Matrix behind :meth:`plot_correlation_difference` (0 on the diagonal)."""
        names = [c.name for c in self.schema if c.kind != "constant"]
        real = _association_matrix(self._real, self._real, self.schema, names)
        synth = _association_matrix(self._synthetic, self._real, self.schema, names)
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
        fig = _new_figure((9.0, 3.4))
        left, right = fig.subplots(1, 2)
        for key in ("loss", "val_loss"):
            _plot_curve(left, self.history.get(key), key)
        for key in ("reconstruction", "kl"):
            _plot_curve(right, self.history.get(key), key)
        left.set_title("Total loss")
        right.set_title("Loss terms")
        for ax in (left, right):
            ax.set_xlabel("epoch")
            if ax.lines:
                ax.legend(fontsize=8)
        return fig

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
            fh.write(self._html())
        return path

    def _html(self) -> str:
        parts = [
            _HTML_HEAD,
            "<h1>Synthetic data evaluation</h1>",
            f"<p class='meta'>{html.escape(self._meta_line())}</p>",
            f"<pre class='summary'>{html.escape(self.summary())}</pre>",
            _HTML_INTRO,
            self._html_scores(),
            self._html_shapes(),
            self._html_pairs(),
            self._html_utility(),
            self._html_privacy(),
            self._html_history(),
            self._html_notes(),
            "</body></html>",
        ]
        return "\n".join(p for p in parts if p)

    def _meta_line(self) -> str:
        rows = ", ".join(f"{k}: {v}" for k, v in self.n_rows.items())
        target = f"; target {self.target!r} ({self.task})" if self.target else ""
        return f"Rows - {rows}; random_state {self.random_state}{target}"

    def _html_scores(self) -> str:
        rows = []
        for group in _GROUP_ORDER:
            keys = [k for k in self.scores if _group_of(k) == group]
            if keys:
                rows.append(f"<tr class='group'><th colspan='3'>{group.capitalize()}</th></tr>")
            rows += [
                f"<tr><td><code>{k}</code></td><td class='num'>{_fmt(self.scores[k])}</td>"
                f"<td>{html.escape(_guidance(k))}</td></tr>"
                for k in keys
            ]
        head = "<tr><th>metric</th><th>value</th><th>how to read it</th></tr>"
        return f"<h2>Scores</h2><table>{head}{''.join(rows)}</table>"

    def _html_shapes(self) -> str:
        cols = self._plot_columns(None)
        shown = cols[:_HTML_MAX_COLUMNS]
        images = "".join(
            f"<figure>{_img(self._column_figure(c))}</figure>" for c in shown
        )
        more = (
            f"<p>Showing the first {len(shown)} of {len(cols)} columns.</p>" if len(cols) > len(shown) else ""
        )
        return (
            "<h2>Column shapes</h2>"
            f"<p>{html.escape(_GUIDANCE['column_shapes'])} Real data in blue, synthetic in orange.</p>"
            f"{_table(self.column_shapes)}<div class='grid'>{images}</div>{more}"
        )

    def _html_pairs(self) -> str:
        if self.pair_trends.empty:
            return "<h2>Column pair trends</h2><p>Fewer than two columns: no pairs.</p>"
        worst = self.pair_trends.sort_values("score", na_position="first").head(10)
        return (
            "<h2>Column pair trends</h2>"
            f"<p>{html.escape(_GUIDANCE['column_pair_trends'])}</p>"
            "<p>Heatmap: absolute difference between the real and the synthetic association "
            "of each pair (Pearson correlation for two numeric columns, Cramér's V otherwise). "
            "0 (white) = relationship kept; dark cells = relationship lost or invented.</p>"
            f"{_img(self.plot_correlation_difference())}"
            f"<h3>Ten weakest pairs</h3>{_table(worst)}"
        )

    def _html_utility(self) -> str:
        if self.utility is None:
            return "<h2>Machine-learning utility</h2><p>Not evaluated: pass target=... to evaluate().</p>"
        text = " ".join(html.escape(_GUIDANCE[k]) for k in ("tstr", "trtr"))
        metrics = " ".join(html.escape(_GUIDANCE[m]) for m in self.utility.columns)
        return (
            f"<h2>Machine-learning utility ({html.escape(str(self.task))} of "
            f"<code>{html.escape(str(self.target))}</code>)</h2>"
            f"<p>{text}</p><p>{metrics}</p>{_table(self.utility.reset_index(names='setting'))}"
        )

    def _html_privacy(self) -> str:
        if "exact_copy_share" not in self.scores:
            return "<h2>Privacy</h2><p>Not evaluated: pass holdout=<real rows not used for training>.</p>"
        s = self.scores
        rows = [
            ("distance to closest record, median",
             s["dcr_synthetic_median"], s["dcr_holdout_median"], s["dcr_median_ratio"]),
            ("distance to closest record, 5th percentile",
             s["dcr_synthetic_p05"], s["dcr_holdout_p05"], s["dcr_p05_ratio"]),
            ("share of exact copies of training rows",
             s["exact_copy_share"], s["holdout_exact_copy_share"], np.nan),
            ("share closer to train than to holdout (ideal 0.5)", s["closer_to_train_share"], np.nan, np.nan),
        ]
        frame = pd.DataFrame(rows, columns=["measure", "synthetic", "holdout baseline", "ratio"])
        guide = "".join(
            f"<li><code>{k}</code>: {html.escape(_GUIDANCE[k])}</li>" for k in _PRIVACY_KEYS
        )
        return f"<h2>Privacy</h2>{_table(frame)}<ul>{guide}</ul>"

    def _html_history(self) -> str:
        if not self.history:
            return ""
        return (
            "<h2>Training curve</h2><p>Loss per epoch. A validation loss that rises while "
            "the training loss keeps falling means over-fitting; a KL term near 0 means "
            "the latent space is unused (posterior collapse).</p>"
            f"{_img(self.plot_training_curve())}"
        )

    def _html_notes(self) -> str:
        if not self.notes:
            return ""
        items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return f"<h2>Notes</h2><ul>{items}</ul>"

    # ----------------------------------------------------------------- plot helpers

    def _plot_columns(self, columns) -> list:
        if columns is None:
            return [c.name for c in self.schema if c.kind != "constant"] or self.schema.names
        if isinstance(columns, str):
            columns = [columns]
        columns = list(columns)
        unknown = [c for c in columns if c not in self.schema.names]
        if unknown:
            raise ValueError(f"Unknown columns {unknown}; available: {self.schema.names}.")
        return columns

    def _column_figure(self, name: str):
        fig = _new_figure((4.2, 3.2))
        self._draw_column(fig.subplots(), name)
        return fig

    def _draw_column(self, ax, name: str) -> None:
        kind = self.schema[name].kind
        real, synth = self._real[name], self._synthetic[name]
        if kind in _NUMERIC_KINDS:
            _draw_numeric(ax, real, synth, kind)
        else:
            _draw_categorical(ax, real, synth)
        score = self.column_shapes.set_index("column")["score"].get(name, np.nan)
        ax.set_title(f"{name} (score {_fmt(score)})", fontsize=10)
        ax.legend(fontsize=7)


# --------------------------------------------------------------------------- evaluate


def evaluate(
    real,
    synthetic,
    *,
    target: str | None = None,
    task: str | None = None,
    holdout=None,
    metadata=None,
    random_state=0,
    max_rows: int = 20_000,
    model=None,
) -> EvaluationReport:
    """Score a synthetic table against the real one.

    Parameters
    ----------
    real : DataFrame
        The real data the generator was trained on ("train").
    synthetic : DataFrame
        Synthetic rows, with the same columns as ``real`` (any order).
    target : str, optional
        Column to predict for the utility scores (TSTR / TRTR). Without it,
        utility is skipped.
    task : {'classification', 'regression'}, optional
        Utility task. Inferred from the target's kind when ``None``:
        categorical and boolean targets are classification, numeric and
        integer ones regression.
    holdout : DataFrame, optional
        Real rows *not* used to train the generator, same columns as ``real``.
        Needed for privacy scores (skipped, with a note, when ``None``) and used
        as the utility test set. Without it, ``real`` is split 70/30: TRTR trains
        on the 70%, and TSTR and TRTR are both tested on the 30% -- which the
        generator did see, so TSTR is then optimistic.
    metadata : Schema or dict, optional
        Column kinds: a :class:`~tabvae.schema.Schema`, its ``to_dict()``, or an
        SDMetrics metadata dict. Default: the model's ``schema_`` if it has one,
        else :func:`~tabvae.schema.infer_schema` on ``real``. SDMetrics metadata
        is always derived from this schema.
    random_state : int, numpy RandomState or Generator, default=0
        Seed for subsampling, splits and models. ``None`` gives a fresh seed
        (non-deterministic).
    max_rows : int, default=20000
        ``real``, ``synthetic`` and ``holdout`` are each subsampled (without
        replacement, with the seed) to at most this many rows. Exact-copy
        checks use all rows of ``real``.
    model : object, optional
        A fitted model with ``history_`` (dict of lists keyed ``loss``,
        ``reconstruction``, ``kl`` and optionally ``val_loss``); its training
        curve is added to the report.

    Returns
    -------
    EvaluationReport
        ``scores`` holds (NaN where a metric could not be computed):

        * fidelity: ``quality_score``, ``column_shapes``, ``column_pair_trends``;
        * detection: ``logistic_detection`` (1 = indistinguishable),
          ``detection_auc`` (0.5 = indistinguishable);
        * utility (with ``target``): ``tstr_roc_auc``, ``tstr_f1``,
          ``trtr_roc_auc``, ``trtr_f1`` for classification, or ``tstr_r2``,
          ``tstr_rmse``, ``trtr_r2``, ``trtr_rmse`` for regression;
        * privacy (with ``holdout``): ``dcr_synthetic_median``,
          ``dcr_holdout_median``, ``dcr_median_ratio``, ``dcr_synthetic_p05``,
          ``dcr_holdout_p05``, ``dcr_p05_ratio``, ``closer_to_train_share``,
          ``exact_copy_share``, ``holdout_exact_copy_share``.

    Raises
    ------
    ValueError
        Empty frames, differing columns (missing/extra columns are listed),
        a target missing from a frame, an unknown task, a bad ``max_rows`` or a
        model without ``history_``.

    Notes
    -----
    *Fidelity* uses ``sdmetrics.reports.single_table.QualityReport``. In
    sdmetrics 0.32 the report averages Column Pair Trends only over pairs whose
    real correlation exceeds ``real_correlation_threshold`` (0.5) or whose
    real Cramér's V exceeds ``real_association_threshold`` (0.3); both are
    public attributes of the report, copied to the property at ``generate``,
    and are set to 0 here so that the trend score is the mean over **all**
    column pairs. Its row subsampling (unseeded) is switched off
    (``num_rows_subsample = None``); subsampling happens here, seeded.

    *Detection*: ``sdmetrics.single_table.LogisticDetection`` shuffles its
    folds with numpy's global generator, so that one call runs with the global
    generator seeded from ``random_state`` and its previous state restored
    afterwards (not thread-safe); synthetic rows with categories absent from
    ``real`` (which its encoder cannot handle) are left out of it, with a note.
    The stronger test is a
    ``HistGradientBoostingClassifier`` (native categorical features) with
    3-fold stratified cross-validated ROC-AUC on equal numbers of real and
    synthetic rows; each fold's AUC is floored at 0.5 as in sdmetrics (an AUC
    well below 0.5 means the classifier learned the opposite of the truth,
    typically because synthetic rows duplicate real ones; a note says so).
    Tree models run with OpenMP limited to one thread.

    *Utility* uses fixed ``HistGradientBoostingClassifier`` /
    ``HistGradientBoostingRegressor`` models; the target's categories are
    taken from ``real`` (for two classes the rarer is the positive class).

    *Privacy*: rows are encoded in a common space fitted on ``real`` -- numeric
    and datetime columns mapped to [0, 1] by ``QuantileTransformer`` (missing
    values placed at -1), categorical and boolean columns one-hot with weight
    1/sqrt(2) so a differing category adds 1 to the squared Euclidean distance.
    Nearest neighbours come from ``sklearn.neighbors.NearestNeighbors``.
    Exact copies compare whole rows by hashing.

    The input frames are never modified.
    """
    real, synthetic, holdout = _validate_inputs(real, synthetic, holdout, target, task)
    _check_max_rows(max_rows)
    history = _model_history(model)
    schema = _resolve_schema(real, metadata, model)
    task = _resolve_task(schema, target, task)
    seed = _seed(random_state)
    with _single_threaded_openmp():
        return _evaluate(real, synthetic, holdout, schema, target, task, seed, max_rows, history)


def _evaluate(real, synthetic, holdout, schema, target, task, seed, max_rows, history):
    """The body of :func:`evaluate`, on validated inputs."""
    rng = np.random.default_rng(seed)
    real_s = _subsample(real, max_rows, rng)
    synth_s = _subsample(synthetic, max_rows, rng)
    hold_s = None if holdout is None else _subsample(holdout, max_rows, rng)
    notes: list[str] = []
    shapes, pairs, scores = _fidelity(real_s, synth_s, schema)
    notes.extend(_binning_notes(real_s, synth_s, schema, pairs))
    scores.update(_detection(real_s, synth_s, schema, seed, notes))
    utility = None
    if target is not None:
        utility, utility_scores = _utility(real_s, synth_s, hold_s, schema, target, task, seed, notes)
        scores.update(utility_scores)
    if hold_s is None:
        notes.append("Privacy metrics skipped: pass holdout=<real rows not used for training>.")
    else:
        scores.update(_privacy(real, real_s, synth_s, hold_s, schema, seed))
        notes.extend(_privacy_notes(scores, len(synth_s), min(len(real_s), len(hold_s))))
    n_rows = _row_counts(real, synthetic, holdout, real_s, synth_s, hold_s)
    return EvaluationReport(
        scores=scores, column_shapes=shapes, pair_trends=pairs, schema=schema,
        utility=utility, notes=notes, target=target, task=task, n_rows=n_rows,
        random_state=seed, history=history, _real=real_s, _synthetic=synth_s,
    )


@contextmanager
def _single_threaded_openmp():
    """Run OpenMP code (HistGradientBoosting) on one thread.

    The data here are small; one thread avoids oversubscription (and the large
    slow-downs it causes when torch's OpenMP runtime is loaded as well).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


# --------------------------------------------------------------------------- validation


def _validate_inputs(real, synthetic, holdout, target, task):
    """Check the frames, target and task; return frames with ``real``'s column order."""
    real = check_dataframe(real, what="real")
    synthetic = check_dataframe(synthetic, what="synthetic")
    if holdout is not None:
        holdout = check_dataframe(holdout, what="holdout")
    if task is not None and task not in TASKS:
        raise ValueError(
            f"Unknown task {task!r}; use 'classification', 'regression' or None "
            "(inferred from the target column)."
        )
    if target is None and task is not None:
        raise ValueError(f"task={task!r} was given without a target; pass target=<column name>.")
    if target is not None:
        frames = {"real": real, "synthetic": synthetic, "holdout": holdout}
        for what, frame in frames.items():
            if frame is not None and target not in frame.columns:
                raise ValueError(
                    f"target {target!r} is not a column of {what}; its columns are {list(frame.columns)}."
                )
    synthetic = _same_columns(real, synthetic, "synthetic")
    if holdout is not None:
        holdout = _same_columns(real, holdout, "holdout")
    return real, synthetic, holdout


def _same_columns(real: pd.DataFrame, other: pd.DataFrame, what: str) -> pd.DataFrame:
    """Raise if ``other`` lacks or adds columns; return it in ``real``'s column order."""
    missing = [c for c in real.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in real.columns]
    if missing or extra:
        raise ValueError(
            f"real and {what} columns differ: {what} is missing columns {missing} "
            f"and has extra columns {extra}."
        )
    return other[list(real.columns)]


def _check_max_rows(max_rows) -> None:
    is_int = isinstance(max_rows, (int, np.integer)) and not isinstance(max_rows, bool)
    if not is_int or max_rows < _MIN_ROWS_DETECTION:
        raise ValueError(f"max_rows must be an integer >= {_MIN_ROWS_DETECTION}, got {max_rows!r}.")


def _model_history(model) -> dict | None:
    """Copy of ``model.history_`` as a dict of float lists (``None`` without a model)."""
    if model is None:
        return None
    history = getattr(model, "history_", None)
    if not isinstance(history, dict) or not history:
        raise ValueError(
            f"model ({type(model).__name__}) has no history_ dict of training losses; "
            "pass a fitted model or model=None."
        )
    return {str(k): [float(x) for x in v] for k, v in history.items()}


def _resolve_schema(real: pd.DataFrame, metadata, model) -> Schema:
    """Schema from ``metadata``, the model, or inference on ``real``."""
    if metadata is None:
        metadata = getattr(model, "schema_", None)
    if metadata is None:
        return infer_schema(real, warn=False)
    schema = _schema_from(metadata)
    missing = [c for c in real.columns if c not in schema.names]
    extra = [c for c in schema.names if c not in real.columns]
    if missing or extra:
        raise ValueError(
            f"metadata does not match real: columns without metadata {missing}, "
            f"metadata for absent columns {extra}."
        )
    return Schema([schema[c] for c in real.columns])


def _schema_from(metadata) -> Schema:
    if isinstance(metadata, Schema):
        return metadata
    cols = metadata.get("columns") if isinstance(metadata, dict) else None
    if isinstance(cols, list):
        return Schema.from_dict(metadata)
    if isinstance(cols, dict):
        return _schema_from_sdmetrics(cols)
    raise TypeError(
        "metadata must be a tabvae Schema, Schema.to_dict() output or an SDMetrics "
        f"single-table metadata dict, got {type(metadata).__name__}."
    )


def _schema_from_sdmetrics(columns: dict) -> Schema:
    from .schema import ColumnSpec

    specs = []
    for name, meta in columns.items():
        sdtype = meta.get("sdtype")
        if sdtype not in _SDTYPE_TO_KIND:
            raise ValueError(
                f"metadata column {name!r} has sdtype {sdtype!r}; supported: {sorted(_SDTYPE_TO_KIND)}."
            )
        specs.append(ColumnSpec(name=name, kind=_SDTYPE_TO_KIND[sdtype], dtype="object"))
    return Schema(specs)


def _resolve_task(schema: Schema, target, task):
    if target is None or task is not None:
        return task
    kind = schema[target].kind
    if kind in ("categorical", "boolean", "constant"):
        return "classification"
    if kind in ("numeric", "integer"):
        return "regression"
    raise ValueError(f"Cannot infer the task for target {target!r} of kind {kind!r}; pass task=.")


def _seed(random_state) -> int:
    """An int seed from an int, RandomState, Generator or None (fresh entropy)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] % (2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    raise TypeError(f"random_state must be an int, RandomState, Generator or None, got {random_state!r}.")


def _subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``n`` rows of ``df`` (sorted positions), with a fresh RangeIndex."""
    if len(df) > n:
        df = df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]
    return df.reset_index(drop=True)


def _row_counts(real, synthetic, holdout, real_s, synth_s, hold_s) -> dict:
    counts = {"real": len(real), "synthetic": len(synthetic)}
    if holdout is not None:
        counts["holdout"] = len(holdout)
    counts.update({"real_evaluated": len(real_s), "synthetic_evaluated": len(synth_s)})
    if hold_s is not None:
        counts["holdout_evaluated"] = len(hold_s)
    return counts


# --------------------------------------------------------------------------- fidelity


@contextmanager
def _quiet():
    """Silence the deprecation / convergence chatter of sdmetrics and friends."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, ConvergenceWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        yield


def _quality_report():
    """An sdmetrics single-table QualityReport that averages trends over all pairs."""
    with _quiet():
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
    report.real_correlation_threshold = 0
    report.real_association_threshold = 0
    report.num_rows_subsample = None
    return report


def _fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema):
    """Column shapes, pair trends and the three headline fidelity scores."""
    report = _quality_report()
    with _quiet():
        report.generate(_for_sdmetrics(real, schema), _for_sdmetrics(synthetic, schema),
                        schema.sdmetrics_metadata(), verbose=False)
    shapes = _tidy_shapes(report.get_details("Column Shapes"), schema)
    pairs = _tidy_pairs(report.get_details("Column Pair Trends"))
    props = report.get_properties().set_index("Property")["Score"]
    scores = {
        "quality_score": float(report.get_score()),
        "column_shapes": float(props["Column Shapes"]),
        "column_pair_trends": float(props["Column Pair Trends"]),
    }
    return shapes, pairs, scores


def _for_sdmetrics(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A copy with nullable numeric columns (``Int64``, ``Float64``) as float64, and one missing marker.

    sdmetrics fills missing numbers with the column mean, which a nullable
    integer column cannot hold. Its one-hot encoders treat ``None`` and ``NaN`` as
    different labels, so an object column read back from Parquet (``None``) would
    not match the same column read from CSV (``NaN``), and a ``string`` column's ``pd.NA``
    matches neither: every missing text value becomes ``NaN`` in an object column.
    """
    out = df.copy()
    for spec in schema:
        s = out[spec.name]
        if spec.kind in ("numeric", "integer") and isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            out[spec.name] = _as_float(s, spec.kind)
        elif (s.dtype == object or isinstance(s.dtype, pd.StringDtype)) and s.isna().any():
            out[spec.name] = s.astype(object).where(s.notna(), np.nan)
    return out


def _tidy_shapes(details: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    out = details.rename(columns={"Column": "column", "Metric": "metric", "Score": "score", "Error": "error"})
    out.insert(1, "kind", [schema[c].kind for c in out["column"]])
    out["score"] = out["score"].astype(float)
    return out.reset_index(drop=True)


def _tidy_pairs(details: pd.DataFrame) -> pd.DataFrame:
    names = {
        "Column 1": "column_1",
        "Column 2": "column_2",
        "Metric": "metric",
        "Score": "score",
        "Real Correlation": "real_correlation",
        "Synthetic Correlation": "synthetic_correlation",
        "Error": "error",
    }
    if details.empty:
        return pd.DataFrame(columns=[v for k, v in names.items() if k != "Error"])
    out = details[[c for c in names if c in details.columns]].rename(columns=names)
    for col in ("score", "real_correlation", "synthetic_correlation"):
        out[col] = out[col].astype(float)
    return out.reset_index(drop=True)


def shared_bin_similarity(real: pd.Series, synthetic: pd.Series, real_other: pd.Series,
                          synthetic_other: pd.Series, bins: str = "real") -> float:
    """ContingencySimilarity of a numeric and a discrete column, both tables cut on the real bins.

    The numeric column is cut into ``np.histogram_bin_edges`` of the real values (10 bins),
    the outer edges opened so that synthetic values beyond the real range fall in the end
    bins; a missing number and a missing category are cells of their own, as in sdmetrics.
    sdmetrics 0.32 instead cuts each table on its own range (see :func:`evaluate`'s notes).

    Parameters
    ----------
    real, synthetic : Series
        The numeric column in the real and the synthetic table.
    real_other, synthetic_other : Series
        The discrete column in the real and the synthetic table.
    bins : {"real", "own"}, default="real"
        ``"own"`` cuts each table on the edges of its own values, as sdmetrics 0.32's
        quality report does (to compare the two).

    Returns
    -------
    float
        1 minus the total variation distance of the two tables' cell frequencies
        (1 = the same joint distribution of bin and category).
    """
    if bins not in ("real", "own"):
        raise ValueError(f"bins must be 'real' or 'own', got {bins!r}.")
    r, s = (pd.to_numeric(x, errors="coerce").astype("float64").to_numpy() for x in (real, synthetic))
    edges = [_bin_edges(r), _bin_edges(s)]
    if bins == "real":
        edges = [edges[0].copy(), edges[0].copy()]
        for e in edges:
            e[0], e[-1] = -np.inf, np.inf
    labels = pd.concat([real_other, synthetic_other], ignore_index=True).astype(object)
    codes, uniques = pd.factorize(labels.where(labels.notna(), "\0missing"))
    n_cells = (max(len(e) for e in edges) + 1) * len(uniques)
    cells = [np.digitize(x, e) * len(uniques) + c
             for x, e, c in ((r, edges[0], codes[: len(r)]), (s, edges[1], codes[len(r):]))]
    p, q = (np.bincount(c, minlength=n_cells) / len(c) for c in cells)
    return float(1 - 0.5 * np.abs(p - q).sum())


def _bin_edges(x: np.ndarray) -> np.ndarray:
    """sdmetrics' bins of a numeric column: ``np.histogram_bin_edges`` of its present values."""
    present = x[~np.isnan(x)]
    return np.histogram_bin_edges(present) if len(present) else np.array([0.0, 1.0])


def _binning_notes(real, synthetic, schema: Schema, pairs: pd.DataFrame) -> list[str]:
    """A note when sdmetrics' own-range binning lowers Column Pair Trends by more than 0.01.

    sdmetrics (0.32) cuts the numeric column of a numeric x discrete pair on each table's
    own range, so a synthetic column whose minimum or maximum differs from the real one's
    is cut at other places and its bins are compared with different real bins. SDMetrics
    describes its method with the real data's bins (sdmetrics PR #368); the note gives the
    score that way, and the report's score is left as sdmetrics computes it.
    """
    numeric = {c.name for c in schema if c.kind in ("numeric", "integer")}
    discrete = {c.name for c in schema if c.kind in ("categorical", "boolean", "constant")}
    if pairs.empty or not numeric or not discrete:
        return []
    rescored = pairs["score"].copy()
    for i, a, b in zip(pairs.index, pairs["column_1"], pairs["column_2"]):
        num, other = (a, b) if a in numeric and b in discrete else (b, a)
        if num in numeric and other in discrete and np.isfinite(rescored[i]):
            rescored[i] = shared_bin_similarity(real[num], synthetic[num], real[other], synthetic[other])
    reported, shared = pairs["score"].mean(), rescored.mean()
    if not shared - reported > 0.01:
        return []
    change = rescored - pairs["score"]
    worst = change[change > 0.005].nlargest(3)
    examples = ", ".join(f"{pairs.at[i, 'column_1']} x {pairs.at[i, 'column_2']} "
                         f"{pairs.at[i, 'score']:.3f} -> {rescored[i]:.3f}" for i in worst.index)
    return [
        f"Column Pair Trends is {reported:.3f} as sdmetrics computes it, which bins each table's "
        f"numeric columns on its own range; with both tables cut on the real data's bins it would be "
        f"{shared:.3f} (most changed: {examples}). A synthetic column whose minimum or maximum "
        "differs from the real one's is cut elsewhere, so the gap comes from where the bins fall, not "
        "from the rows' relationships."
    ]


# --------------------------------------------------------------------------- detection


@contextmanager
def _seeded_global_numpy(seed: int):
    """Seed numpy's global generator for a third-party call, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _detection(real, synthetic, schema: Schema, seed: int, notes: list) -> dict:
    return {
        "logistic_detection": _logistic_detection(real, synthetic, schema, seed, notes),
        "detection_auc": _classifier_auc(real, synthetic, schema, seed, notes),
    }


def _logistic_detection(real, synthetic, schema: Schema, seed: int, notes: list) -> float:
    """SDMetrics LogisticDetection, leaving out rows with labels unseen in ``real``.

    Its one-hot encoder is fitted on ``real`` and fails on any other label, so
    synthetic rows holding such a label (already penalised by Column Shapes)
    are dropped here, with a note.
    """
    from sdmetrics.single_table import LogisticDetection

    unseen = _rows_with_unseen_labels(real, synthetic, schema)
    if unseen.any():
        notes.append(
            f"LogisticDetection left out {int(unseen.sum())} synthetic row(s) "
            f"({100 * unseen.mean():.1f}%) holding categories absent from the real data."
        )
        synthetic = synthetic[~unseen]
    if len(synthetic) < _MIN_ROWS_DETECTION:
        return float("nan")
    try:
        with _quiet(), _seeded_global_numpy(seed):
            score = LogisticDetection.compute(
                _for_sdmetrics(real, schema), _for_sdmetrics(synthetic, schema), schema.sdmetrics_metadata()
            )
            return float(score)
    except Exception as err:  # sdmetrics raises IncomputableMetricError and friends
        notes.append(f"LogisticDetection could not be computed: {type(err).__name__}: {err}")
        return float("nan")


def _rows_with_unseen_labels(real, synthetic, schema: Schema) -> np.ndarray:
    """Mask of synthetic rows with a categorical value (or a missing one) not in ``real``."""
    mask = np.zeros(len(synthetic), dtype=bool)
    for spec in schema:
        if spec.kind in ("categorical", "constant"):
            r, s = real[spec.name], synthetic[spec.name]
            known = s.isin(r.dropna().unique()).to_numpy().copy()  # pandas 3 hands out read-only views
            if r.isna().any():
                known |= s.isna().to_numpy()
            mask |= ~known
    return mask


def _classifier_auc(real, synthetic, schema: Schema, seed: int, notes: list) -> float:
    """Cross-validated ROC-AUC of a tree classifier telling real from synthetic."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    n = min(len(real), len(synthetic))
    if n < _MIN_ROWS_DETECTION:
        notes.append(f"Classifier detection skipped: only {n} rows per side.")
        return float("nan")
    rng = np.random.default_rng(seed + 1)
    enc = _TreeEncoding.fit(schema, real, schema.names)
    X = np.vstack([enc.transform(_subsample(real, n, rng)), enc.transform(_subsample(synthetic, n, rng))])
    y = np.r_[np.ones(n), np.zeros(n)]
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    aucs = []
    for train, test in folds.split(X, y):
        clf = _tree_model("classification", enc.categorical_mask, seed).fit(X[train], y[train])
        aucs.append(roc_auc_score(y[test], clf.predict_proba(X[test])[:, 1]))
    raw = float(np.mean(aucs))
    if raw < 0.4:
        notes.append(
            f"The detection classifier scored AUC {raw:.3f}, well below 0.5 (reported as 0.5): "
            "it learned the opposite of the truth, which happens when synthetic rows are "
            "copies of real rows. Check the privacy scores."
        )
    return float(np.mean(np.maximum(aucs, 0.5)))


def _tree_model(task: str, categorical_mask: np.ndarray, seed: int):
    """The fixed HistGradientBoosting model used for detection and utility."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    mask = categorical_mask if categorical_mask.any() else None
    return cls(categorical_features=mask, random_state=seed)


# --------------------------------------------------------------------------- encodings


def _as_float(s: pd.Series, kind: str) -> np.ndarray:
    """Numbers as float64 (datetimes as seconds since 1970, UTC); NaN when missing."""
    if kind == "datetime":
        dt = pd.to_datetime(s, errors="coerce", utc=True)
        return ((dt - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64").to_numpy()
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def _levels(s: pd.Series, limit: int) -> list:
    """The ``limit`` most frequent non-missing values (ties in pandas' order: first seen first in
    pandas 3, unspecified in pandas 2; it matters only when ``limit`` cuts through a tie)."""
    counts = s.value_counts(dropna=True)
    return list(counts.index[counts.to_numpy() > 0][:limit])


def _codes(s: pd.Series, levels: list) -> np.ndarray:
    """Float codes: position in ``levels``, ``len(levels)`` if unseen, NaN if missing."""
    values = pd.Series(s.to_numpy(dtype=object))
    codes = values.map({v: i for i, v in enumerate(levels)}).astype("float64")
    unseen = values.notna().to_numpy() & codes.isna().to_numpy()
    out = codes.to_numpy().copy()  # writable under pandas 3
    out[unseen] = len(levels)
    return out


@dataclass
class _TreeEncoding:
    """Columns as a float matrix for HistGradientBoosting (categories as codes)."""

    columns: list
    kinds: list
    levels: dict

    @classmethod
    def fit(cls, schema: Schema, reference: pd.DataFrame, columns: list) -> "_TreeEncoding":
        kinds = [schema[c].kind for c in columns]
        levels = {
            c: _levels(reference[c], _TREE_MAX_LEVELS)
            for c, k in zip(columns, kinds)
            if k not in _NUMERIC_KINDS
        }
        return cls(list(columns), kinds, levels)

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([k not in _NUMERIC_KINDS for k in self.kinds], dtype=bool)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        cols = [
            _as_float(df[c], k) if k in _NUMERIC_KINDS else _codes(df[c], self.levels[c])
            for c, k in zip(self.columns, self.kinds)
        ]
        return np.column_stack(cols) if cols else np.empty((len(df), 0))


@dataclass
class _DistanceEncoding:
    """Common space for distances: quantile-scaled numbers, weighted one-hot categories."""

    numeric: list
    kinds: dict
    quantiles: Any
    levels: dict

    @classmethod
    def fit(cls, schema: Schema, train: pd.DataFrame, seed: int) -> "_DistanceEncoding":
        from sklearn.preprocessing import QuantileTransformer

        kinds = {c.name: c.kind for c in schema}
        numeric = [c for c, k in kinds.items() if k in _NUMERIC_KINDS]
        quantiles = None
        if numeric:
            quantiles = QuantileTransformer(n_quantiles=min(1000, len(train)), random_state=seed)
            with _quiet():
                quantiles.fit(_numeric_block(train, numeric, kinds))
        levels = {
            c: _levels(train[c], _DISTANCE_MAX_LEVELS) for c, k in kinds.items() if k not in _NUMERIC_KINDS
        }
        return cls(numeric, kinds, quantiles, levels)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        if self.numeric:
            with _quiet():
                scaled = self.quantiles.transform(_numeric_block(df, self.numeric, self.kinds))
            blocks.append(np.nan_to_num(scaled, nan=-1.0))
        for name, levels in self.levels.items():
            codes = _codes(df[name], levels)
            codes = np.where(np.isnan(codes), len(levels) + 1, codes).astype(int)
            onehot = np.zeros((len(df), len(levels) + 2))
            onehot[np.arange(len(df)), codes] = 1.0 / math.sqrt(2.0)
            blocks.append(onehot)
        return np.hstack(blocks)


def _numeric_block(df: pd.DataFrame, names: list, kinds: dict) -> np.ndarray:
    return np.column_stack([_as_float(df[c], kinds[c]) for c in names])


# --------------------------------------------------------------------------- utility


def _utility(real, synthetic, holdout, schema: Schema, target: str, task: str, seed: int, notes: list):
    """TSTR and TRTR scores with a fixed gradient-boosting model."""
    if holdout is None:
        train, test = _split(real, seed)
        notes.append(
            "No holdout given: TRTR trains on 70% of real and both TSTR and TRTR are "
            "tested on the other 30%, which the generator saw in training (TSTR is optimistic)."
        )
    else:
        train, test = real, holdout
    features = [c for c in schema.names if c != target]
    metric_names = ("roc_auc", "f1") if task == "classification" else ("r2", "rmse")
    if not features:
        notes.append("Utility skipped: the target is the only column.")
        rows = {s: dict.fromkeys(metric_names, np.nan) for s in ("TSTR", "TRTR")}
    else:
        enc = _TreeEncoding.fit(schema, real, features)
        y_enc = _TargetEncoding.fit(real[target], schema[target].kind, task)
        rows = {
            setting: _fit_and_score(enc, y_enc, fit_frame, test, target, task, seed, notes, setting)
            for setting, fit_frame in (("TSTR", synthetic), ("TRTR", train))
        }
    table = pd.DataFrame.from_dict(rows, orient="index")[list(metric_names)]
    scores = {f"{s.lower()}_{m}": float(table.loc[s, m]) for s in table.index for m in table.columns}
    return table, scores


def _split(real: pd.DataFrame, seed: int):
    """Seeded 70/30 split of ``real``."""
    order = np.random.default_rng(seed + 3).permutation(len(real))
    cut = int(round(0.7 * len(real)))
    return real.iloc[np.sort(order[:cut])], real.iloc[np.sort(order[cut:])]


@dataclass
class _TargetEncoding:
    """Target as float codes (classification, rarer class = 1 when binary) or floats."""

    task: str
    kind: str
    levels: list | None

    @classmethod
    def fit(cls, y: pd.Series, kind: str, task: str) -> "_TargetEncoding":
        levels = _levels(y, len(y)) if task == "classification" else None
        return cls(task, kind, levels)

    @property
    def binary(self) -> bool:
        return self.levels is not None and len(self.levels) == 2

    def transform(self, y: pd.Series) -> np.ndarray:
        if self.task == "classification":
            return _codes(y, self.levels)
        return _as_float(y, self.kind if self.kind in _NUMERIC_KINDS else "numeric")


def _fit_and_score(enc, y_enc, fit_frame, test, target, task, seed, notes, setting) -> dict:
    X_fit, y_fit = _xy(enc, y_enc, fit_frame, target)
    X_test, y_test = _xy(enc, y_enc, test, target)
    if task == "classification":
        return _score_classifier(enc, y_enc, X_fit, y_fit, X_test, y_test, seed, notes, setting)
    model = _tree_model(task, enc.categorical_mask, seed).fit(X_fit, y_fit)
    pred = model.predict(X_test)
    from sklearn.metrics import r2_score

    return {"r2": float(r2_score(y_test, pred)), "rmse": float(np.sqrt(np.mean((y_test - pred) ** 2)))}


def _xy(enc: _TreeEncoding, y_enc: _TargetEncoding, frame: pd.DataFrame, target: str):
    """Features and target, dropping rows whose target is missing."""
    y = y_enc.transform(frame[target])
    keep = ~np.isnan(y)
    return enc.transform(frame)[keep], y[keep]


def _score_classifier(enc, y_enc, X_fit, y_fit, X_test, y_test, seed, notes, setting) -> dict:
    from sklearn.metrics import f1_score

    if len(np.unique(y_fit)) < 2 or len(np.unique(y_test)) < 2:
        notes.append(f"{setting}: the training or test target has a single class; scores are NaN.")
        return {"roc_auc": np.nan, "f1": np.nan}
    model = _tree_model("classification", enc.categorical_mask, seed).fit(X_fit, y_fit)
    proba = _full_proba(model, X_test, len(y_enc.levels) + 1)
    pred = np.argmax(proba, axis=1)
    if y_enc.binary:
        f1 = f1_score(y_test == 1, pred == 1, zero_division=0)
    else:
        f1 = f1_score(y_test, pred, labels=np.unique(y_test), average="macro", zero_division=0)
    return {"roc_auc": _roc_auc(y_test, proba, y_enc.binary), "f1": float(f1)}


def _full_proba(model, X: np.ndarray, n_codes: int) -> np.ndarray:
    """Class probabilities with one column per target code (0 for unseen classes)."""
    proba = np.zeros((len(X), n_codes))
    proba[:, model.classes_.astype(int)] = model.predict_proba(X)
    return proba


def _roc_auc(y: np.ndarray, proba: np.ndarray, binary: bool) -> float:
    """Binary AUC for code 1, else macro one-vs-rest AUC over the classes in ``y``."""
    from sklearn.metrics import roc_auc_score

    if binary:
        return float(roc_auc_score(y == 1, proba[:, 1]))
    present = np.unique(y).astype(int)
    p = proba[:, present] + 1e-12
    p /= p.sum(axis=1, keepdims=True)
    return float(roc_auc_score(y, p, multi_class="ovr", average="macro", labels=present))


# --------------------------------------------------------------------------- privacy


def _privacy(real_full, train, synthetic, holdout, schema: Schema, seed: int) -> dict:
    """Distance to closest record, closer-to-train share and exact-copy shares."""
    enc = _DistanceEncoding.fit(schema, train, seed)
    T, S, H = enc.transform(train), enc.transform(synthetic), enc.transform(holdout)
    d_syn, d_hold = _nn_distance(T, S), _nn_distance(T, H)
    scores = {
        "dcr_synthetic_median": float(np.median(d_syn)),
        "dcr_holdout_median": float(np.median(d_hold)),
        "dcr_synthetic_p05": float(np.percentile(d_syn, 5)),
        "dcr_holdout_p05": float(np.percentile(d_hold, 5)),
    }
    scores["dcr_median_ratio"] = _ratio(scores["dcr_synthetic_median"], scores["dcr_holdout_median"])
    scores["dcr_p05_ratio"] = _ratio(scores["dcr_synthetic_p05"], scores["dcr_holdout_p05"])
    scores["closer_to_train_share"] = _closer_share(T, H, S, seed)
    train_hashes = _row_hashes(real_full, schema)
    scores["exact_copy_share"] = float(np.isin(_row_hashes(synthetic, schema), train_hashes).mean())
    scores["holdout_exact_copy_share"] = float(np.isin(_row_hashes(holdout, schema), train_hashes).mean())
    return {k: scores[k] for k in _PRIVACY_KEYS}


def _privacy_notes(scores: dict, n_synthetic: int, n_reference: int) -> list[str]:
    """A plain warning when the closer-to-train share points at memorised training rows.

    The bound is the benchmark's 0.53, widened to two standard errors of the share of an
    honest generator, so that few rows do not raise it by chance. The share counts
    ``n_synthetic`` rows against train and holdout samples of ``n_reference`` rows each;
    both add variance: 0.25 / n_synthetic for the rows, and about 0.125 / n_reference for
    the two reference samples (a measured 0.06 / n_reference on a test table, doubled to be safe).
    """
    share = scores["closer_to_train_share"]
    se = np.sqrt(0.25 / max(n_synthetic, 1) + 0.125 / max(n_reference, 1))
    margin = max(CLOSER_SHARE_BOUND - 0.5, 2 * se)
    if not share > 0.5 + margin:
        return []
    return [
        f"{share:.1%} of synthetic rows are closer to a training row than to a holdout row "
        f"(50% is chance, more than {0.5 + margin:.1%} is unlikely by chance here): the generator "
        "has partly memorised its training rows. With TabularVAE on a table of a few thousand rows "
        "or fewer, refit with epochs=100 or early_stopping=True and check again."
    ]


def _nn_distance(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row.

    The neighbour is found by sklearn; the distance is then recomputed exactly
    so that identical rows are at distance exactly 0.
    """
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(reference)
    nearest = index.kneighbors(query, return_distance=False)[:, 0]
    return np.sqrt(((query - reference[nearest]) ** 2).sum(axis=1))


def _closer_share(T: np.ndarray, H: np.ndarray, S: np.ndarray, seed: int) -> float:
    """Share of synthetic rows closer to a train sample than to an equal-size holdout."""
    m = min(len(T), len(H))
    rng = np.random.default_rng(seed + 2)
    t = T[np.sort(rng.choice(len(T), size=m, replace=False))]
    h = H[np.sort(rng.choice(len(H), size=m, replace=False))]
    d_t, d_h = _nn_distance(t, S), _nn_distance(h, S)
    return float(np.mean(d_t < d_h) + 0.5 * np.mean(d_t == d_h))


def _ratio(num: float, den: float) -> float:
    if den == 0:
        return 1.0 if num == 0 else float("inf")
    return num / den


def _row_hashes(df: pd.DataFrame, schema: Schema) -> np.ndarray:
    """One 64-bit hash per row of a dtype-normalised copy (numbers as floats, labels as text)."""
    canon = {}
    for spec in schema:
        s = df[spec.name]
        if spec.kind in _NUMERIC_KINDS:
            x = _as_float(s, spec.kind)
            canon[spec.name] = np.where(np.isnan(x), np.inf, x)
        else:
            canon[spec.name] = s.astype(object).where(s.notna(), "\x00<NA>").astype(str).to_numpy()
    frame = pd.DataFrame(canon)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


# --------------------------------------------------------------------------- associations


def _association_matrix(df: pd.DataFrame, ref: pd.DataFrame, schema: Schema, names: list) -> pd.DataFrame:
    """Pearson for numeric pairs, Cramér's V otherwise (binning/levels from ``ref``)."""
    numeric = {c: schema[c].kind in _NUMERIC_KINDS for c in names}
    floats = {c: _as_float(df[c], schema[c].kind) for c in names if numeric[c]}
    codes = {c: _discrete_codes(df[c], ref[c], schema[c].kind) for c in names}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if numeric[a] and numeric[b]:
                value = _pearson(floats[a], floats[b])
            else:
                value = _cramers_v(codes[a], codes[b])
            out.loc[a, b] = out.loc[b, a] = value
    return out


def _discrete_codes(s: pd.Series, ref: pd.Series, kind: str) -> np.ndarray:
    """Integer codes: 10 bins from ``ref`` for numbers, top levels for labels; missing last."""
    if kind in _NUMERIC_KINDS:
        ref_x = _as_float(ref, kind)
        finite = ref_x[np.isfinite(ref_x)]
        edges = np.histogram_bin_edges(finite if finite.size else [0.0], bins=_ASSOC_BINS)[1:-1]
        x = _as_float(s, kind)
        return np.where(np.isnan(x), len(edges) + 1, np.digitize(x, edges)).astype(int)
    levels = _levels(ref, _ASSOC_MAX_LEVELS)
    codes = _codes(s, levels)
    return np.where(np.isnan(codes), len(levels) + 1, codes).astype(int)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-uncorrected Cramér's V of two integer code arrays (0 if undefined)."""
    kb = int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=(int(a.max()) + 1) * kb).reshape(-1, kb).astype(float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / n / (min(table.shape) - 1)))


# --------------------------------------------------------------------------- drawing

_REAL_COLOR, _SYNTH_COLOR = "#1f77b4", "#ff7f0e"


def _new_figure(size):
    """A standalone matplotlib Figure (no pyplot, no global backend state)."""
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def _draw_numeric(ax, real: pd.Series, synth: pd.Series, kind: str) -> None:
    scale = 86400.0 if kind == "datetime" else 1.0  # datetimes as matplotlib day numbers
    r = _as_float(real, kind) / scale
    s = _as_float(synth, kind) / scale
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    both = np.concatenate([r, s])
    if both.size == 0:
        ax.text(0.5, 0.5, "all missing", ha="center", transform=ax.transAxes)
        return
    bins = np.histogram_bin_edges(both, bins=30)
    ax.hist(r, bins=bins, density=True, alpha=0.5, color=_REAL_COLOR, label="real")
    ax.hist(s, bins=bins, density=True, alpha=0.5, color=_SYNTH_COLOR, label="synthetic")
    if kind == "datetime":
        ax.xaxis_date()
        ax.tick_params(axis="x", labelrotation=30)


def _draw_categorical(ax, real: pd.Series, synth: pd.Series) -> None:
    levels = _levels(real, _PLOT_MAX_LEVELS)
    labels = [str(v) for v in levels] + ["(other)", "(missing)"]
    shares = [_level_shares(x, levels) for x in (real, synth)]
    keep = [i for i in range(len(labels)) if shares[0][i] > 0 or shares[1][i] > 0]
    pos = np.arange(len(keep))
    ax.bar(pos - 0.2, shares[0][keep], width=0.4, color=_REAL_COLOR, label="real")
    ax.bar(pos + 0.2, shares[1][keep], width=0.4, color=_SYNTH_COLOR, label="synthetic")
    ax.set_xticks(pos, [labels[i][:18] for i in keep], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("share of rows", fontsize=8)


def _level_shares(s: pd.Series, levels: list) -> np.ndarray:
    codes = _codes(s, levels)
    codes = np.where(np.isnan(codes), len(levels) + 1, codes).astype(int)
    return np.bincount(codes, minlength=len(levels) + 2) / max(len(codes), 1)


def _annotate(ax, values: np.ndarray) -> None:
    for (i, j), v in np.ndenumerate(values):
        if i != j and np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.5 else "black")


def _plot_curve(ax, values, label: str) -> None:
    if values:
        ax.plot(np.arange(1, len(values) + 1), values, label=label)


def _img(fig) -> str:
    """Embed a Figure as a base64 PNG ``<img>`` tag."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img alt='plot' src='data:image/png;base64,{data}'>"


# --------------------------------------------------------------------------- formatting


def _group_of(key: str) -> str:
    if key in _FIDELITY_KEYS:
        return "fidelity"
    if key in _DETECTION_KEYS:
        return "detection"
    if key in _PRIVACY_KEYS:
        return "privacy"
    return "utility"


def _plain(v):
    """A JSON-safe Python scalar: numpy scalars unwrapped, NaN/inf as None."""
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _records(df: pd.DataFrame) -> list:
    return [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _fmt(v) -> str:
    if v is None or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
        return "n/a"
    return f"{float(v):.3f}"


def _pct(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"


def _table(df: pd.DataFrame) -> str:
    """A small HTML table with numbers to three decimals."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in df.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"<td class='num'>{_fmt(v)}</td>"
    if v is None or v is pd.NA:
        return "<td></td>"
    return f"<td>{html.escape(str(v))}</td>"


_HTML_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Synthetic data evaluation</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.meta { color: #666; } pre.summary { background: #f5f5f8; padding: 1em; white-space: pre-wrap; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.group th { background: #eef; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; } figure { margin: 0; }
img { max-width: 100%; }
</style></head><body>"""

_HTML_INTRO = (
    "<h2>How to read this report</h2><p>Four questions are answered. <b>Fidelity</b>: do "
    "single columns and pairs of columns look like the real data (1 = identical)? "
    "<b>Detection</b>: can a classifier tell synthetic rows from real ones (it should not)? "
    "<b>Utility</b>: does a model trained on synthetic data predict real data about as well "
    "as one trained on real data? <b>Privacy</b>: are synthetic rows suspiciously close to "
    "the training rows, compared with real rows the generator never saw? No single number "
    "decides; a generator that copies its training data scores perfectly on fidelity and "
    "badly on privacy.</p>"
)
