"""Matplotlib figures of an evaluation: column distributions, association differences, training curves.

Every figure is a standalone :class:`matplotlib.figure.Figure` (no pyplot, no
global backend state).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..schema import Schema
from .encoding import NUMERIC_KINDS, as_float, frequent_levels, integer_codes
from .formatting import fmt

_PLOT_MAX_LEVELS = 15
_REAL_COLOR, _SYNTH_COLOR = "#1f77b4", "#ff7f0e"


def plot_columns(schema: Schema, columns) -> list:
    """The columns to draw: ``columns`` checked against ``schema``, or all non-constant ones."""
    if columns is None:
        return [c.name for c in schema if c.kind != "constant"] or schema.names
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise ValueError(f"Unknown columns {unknown}; available: {schema.names}.")
    return columns


def distributions_figure(
    schema: Schema, real: pd.DataFrame, synthetic: pd.DataFrame, column_shapes: pd.DataFrame, columns: list, ncols: int
):
    """A grid of real-vs-synthetic histograms (numbers, dates) and bar charts (categories)."""
    ncols = max(1, min(ncols, len(columns)))
    nrows = math.ceil(len(columns) / ncols)
    fig = _new_figure((4.2 * ncols, 3.2 * nrows))
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    scores = column_shapes.set_index("column")["score"]
    for ax, name in zip(axes, columns):
        _draw_column(ax, schema[name].kind, real[name], synthetic[name], name, scores.get(name, np.nan))
    for ax in axes[len(columns) :]:
        ax.set_visible(False)
    return fig


def correlation_figure(diff: pd.DataFrame):
    """Heatmap of an association-difference matrix, annotated up to 20 columns."""
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


def training_curve_figure(history: dict):
    """Total (and validation) loss on the left, reconstruction and KL terms on the right."""
    fig = _new_figure((9.0, 3.4))
    left, right = fig.subplots(1, 2)
    for key in ("loss", "val_loss"):
        _plot_curve(left, history.get(key), key)
    for key in ("reconstruction", "kl"):
        _plot_curve(right, history.get(key), key)
    left.set_title("Total loss")
    right.set_title("Loss terms")
    for ax in (left, right):
        ax.set_xlabel("epoch")
        if ax.lines:
            ax.legend(fontsize=8)
    return fig


def _new_figure(size):
    """A standalone matplotlib Figure (no pyplot, no global backend state)."""
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def _draw_column(ax, kind: str, real: pd.Series, synth: pd.Series, name: str, score: float) -> None:
    if kind in NUMERIC_KINDS:
        _draw_numeric(ax, real, synth, kind)
    else:
        _draw_categorical(ax, real, synth)
    ax.set_title(f"{name} (score {fmt(score)})", fontsize=10)
    ax.legend(fontsize=7)


def _draw_numeric(ax, real: pd.Series, synth: pd.Series, kind: str) -> None:
    scale = 86400.0 if kind == "datetime" else 1.0  # datetimes as matplotlib day numbers
    r = as_float(real, kind) / scale
    s = as_float(synth, kind) / scale
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    both = np.concatenate([r, s])
    if both.size == 0:
        ax.text(0.5, 0.5, "all missing", ha="center", transform=ax.transAxes)
        return
    bins = np.histogram_bin_edges(both, bins=30)
    ax.hist(r, bins=bins, density=True, alpha=0.5, color=_REAL_COLOR, label="real")
    ax.hist(s, bins=bins, density=True, alpha=0.5, color=_SYNTH_COLOR, label="synthetic")
    ax.set_ylabel("density", fontsize=8)
    if kind == "datetime":
        ax.xaxis_date()
        ax.tick_params(axis="x", labelrotation=30)


def _draw_categorical(ax, real: pd.Series, synth: pd.Series) -> None:
    levels = frequent_levels(real, _PLOT_MAX_LEVELS)
    labels = [str(v) for v in levels] + ["(other)", "(missing)"]
    shares = [_level_shares(x, levels) for x in (real, synth)]
    keep = [i for i in range(len(labels)) if shares[0][i] > 0 or shares[1][i] > 0]
    pos = np.arange(len(keep))
    ax.bar(pos - 0.2, shares[0][keep], width=0.4, color=_REAL_COLOR, label="real")
    ax.bar(pos + 0.2, shares[1][keep], width=0.4, color=_SYNTH_COLOR, label="synthetic")
    ax.set_xticks(pos, [labels[i][:18] for i in keep], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("share of rows", fontsize=8)


def _level_shares(s: pd.Series, levels: list) -> np.ndarray:
    codes = integer_codes(s, levels)
    return np.bincount(codes, minlength=len(levels) + 2) / max(len(codes), 1)


def _annotate(ax, values: np.ndarray) -> None:
    for (i, j), v in np.ndenumerate(values):
        if i != j and np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v > 0.5 else "black")


def _plot_curve(ax, values, label: str) -> None:
    if values:
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
