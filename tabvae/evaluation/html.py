"""The self-contained HTML page of an :class:`~tabvae.evaluation.EvaluationReport` (inline CSS and plots)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from .formatting import fmt
from .metrics import DISTANCE_KEYS, GROUP_ORDER, GUIDANCE, explain, group_of
from .plots import plot_columns

_HTML_MAX_COLUMNS = 60


def render(report) -> str:
    """The whole page: summary, guide, scores, column shapes, pairs, utility, privacy, training curve, notes."""
    parts = [
        _HTML_HEAD,
        "<h1>Synthetic data evaluation</h1>",
        f"<p class='meta'>{html.escape(_meta_line(report))}</p>",
        f"<pre class='summary'>{html.escape(report.summary())}</pre>",
        _HTML_INTRO,
        _html_scores(report),
        _html_shapes(report),
        _html_pairs(report),
        _html_utility(report),
        _html_privacy(report),
        _html_history(report),
        _html_notes(report),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _meta_line(report) -> str:
    rows = ", ".join(f"{k}: {v}" for k, v in report.n_rows.items())
    target = f"; target {report.target!r} ({report.task})" if report.target else ""
    return f"Rows - {rows}; random_state {report.random_state}{target}"


def _html_scores(report) -> str:
    rows = []
    for group in GROUP_ORDER:
        keys = [k for k in report.scores if group_of(k) == group]
        if keys:
            rows.append(f"<tr class='group'><th colspan='3'>{group.capitalize()}</th></tr>")
        rows += [
            f"<tr><td><code>{k}</code></td><td class='num'>{fmt(report.scores[k])}</td>"
            f"<td>{html.escape(explain(k))}</td></tr>"
            for k in keys
        ]
    head = "<tr><th>metric</th><th>value</th><th>how to read it</th></tr>"
    return f"<h2>Scores</h2><table>{head}{''.join(rows)}</table>"


def _html_shapes(report) -> str:
    cols = plot_columns(report.schema, None)
    shown = cols[:_HTML_MAX_COLUMNS]
    images = "".join(f"<figure>{_img(report.plot_distributions([c]))}</figure>" for c in shown)
    more = f"<p>Showing the first {len(shown)} of {len(cols)} columns.</p>" if len(cols) > len(shown) else ""
    return (
        "<h2>Column shapes</h2>"
        f"<p>{html.escape(GUIDANCE['column_shapes'])} Real data in blue, synthetic in orange.</p>"
        f"{_table(report.column_shapes)}<div class='grid'>{images}</div>{more}"
    )


def _html_pairs(report) -> str:
    if report.pair_trends.empty:
        return "<h2>Column pair trends</h2><p>Fewer than two columns: no pairs.</p>"
    worst = report.pair_trends.sort_values("score", na_position="first").head(10)
    return (
        "<h2>Column pair trends</h2>"
        f"<p>{html.escape(GUIDANCE['column_pair_trends'])}</p>"
        "<p>Heatmap: absolute difference between the real and the synthetic association "
        "of each pair (Pearson correlation for two numeric columns, Cramér's V otherwise). "
        "0 (white) = relationship kept; dark cells = relationship lost or invented.</p>"
        f"{_img(report.plot_correlation_difference())}"
        f"<h3>Ten weakest pairs</h3>{_table(worst)}"
    )


def _html_utility(report) -> str:
    if report.utility is None:
        return "<h2>Machine-learning utility</h2><p>Not evaluated: pass target=... to evaluate().</p>"
    text = " ".join(html.escape(GUIDANCE[k]) for k in ("tstr", "trtr"))
    metrics = " ".join(html.escape(GUIDANCE[m]) for m in report.utility.columns)
    return (
        f"<h2>Machine-learning utility ({html.escape(str(report.task))} of "
        f"<code>{html.escape(str(report.target))}</code>)</h2>"
        f"<p>{text}</p><p>{metrics}</p>{_table(report.utility.reset_index(names='setting'))}"
    )


def _html_privacy(report) -> str:
    if "exact_copy_share" not in report.scores:
        return "<h2>Privacy</h2><p>Not evaluated: pass holdout=<real rows not used for training>.</p>"
    s = report.scores
    rows = [
        (
            "distance to closest record, median",
            s["dcr_synthetic_median"],
            s["dcr_holdout_median"],
            s["dcr_median_ratio"],
        ),
        (
            "distance to closest record, 5th percentile",
            s["dcr_synthetic_p05"],
            s["dcr_holdout_p05"],
            s["dcr_p05_ratio"],
        ),
        ("share of exact copies of training rows", s["exact_copy_share"], s["holdout_exact_copy_share"], np.nan),
        ("share closer to train than to holdout (ideal 0.5)", s["closer_to_train_share"], np.nan, np.nan),
    ]
    frame = pd.DataFrame(rows, columns=["measure", "synthetic", "holdout baseline", "ratio"])
    guide = "".join(f"<li><code>{k}</code>: {html.escape(GUIDANCE[k])}</li>" for k in DISTANCE_KEYS)
    return f"<h2>Privacy</h2>{_table(frame)}<ul>{guide}</ul>{_html_attack(s)}"


def _html_attack(s: dict) -> str:
    result = (
        f"Here: ROC-AUC <b>{fmt(s['membership_attack_auc'])}</b> (95% interval "
        f"{fmt(s['membership_attack_auc_low'])} to {fmt(s['membership_attack_auc_high'])})."
    )
    return f"<h3>Membership-inference attack</h3><p>{html.escape(GUIDANCE['membership_attack_auc'])} {result}</p>"


def _html_history(report) -> str:
    if not report.history:
        return ""
    return (
        "<h2>Training curve</h2><p>Loss per epoch. A validation loss that rises while "
        "the training loss keeps falling means over-fitting; a KL term near 0 means "
        "the latent space is unused (posterior collapse).</p>"
        f"{_img(report.plot_training_curve())}"
    )


def _html_notes(report) -> str:
    if not report.notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return f"<h2>Notes</h2><ul>{items}</ul>"


def _img(fig) -> str:
    """Embed a Figure as a base64 PNG ``<img>`` tag."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img alt='plot' src='data:image/png;base64,{data}'>"


def _table(df: pd.DataFrame) -> str:
    """A small HTML table with numbers to three decimals."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f"<table><tr>{head}</tr>{rows}</table>"


def _cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"<td class='num'>{fmt(v)}</td>"
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
