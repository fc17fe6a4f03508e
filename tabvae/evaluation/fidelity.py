"""Fidelity: SDMetrics' quality report (column shapes, pair trends) and a note on its binning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Schema
from .common import quiet
from .encoding import as_float


def _quality_report():
    """An sdmetrics single-table QualityReport that averages trends over all pairs."""
    with quiet():
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
    report.real_correlation_threshold = 0
    report.real_association_threshold = 0
    report.num_rows_subsample = None
    return report


def fidelity_scores(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema):
    """Column shapes, pair trends and the three headline fidelity scores."""
    report = _quality_report()
    with quiet():
        report.generate(
            for_sdmetrics(real, schema), for_sdmetrics(synthetic, schema), schema.sdmetrics_metadata(), verbose=False
        )
    shapes = _tidy_shapes(report.get_details("Column Shapes"), schema)
    pairs = _tidy_pairs(report.get_details("Column Pair Trends"))
    props = report.get_properties().set_index("Property")["Score"]
    scores = {
        "quality_score": float(report.get_score()),
        "column_shapes": float(props["Column Shapes"]),
        "column_pair_trends": float(props["Column Pair Trends"]),
    }
    return shapes, pairs, scores


def for_sdmetrics(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
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
            out[spec.name] = as_float(s, spec.kind)
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


def shared_bin_similarity(
    real: pd.Series, synthetic: pd.Series, real_other: pd.Series, synthetic_other: pd.Series, bins: str = "real"
) -> float:
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

    Examples
    --------
    >>> import pandas as pd
    >>> x, c = pd.Series([0.0, 1.0, 2.0, 3.0]), pd.Series(["a", "a", "b", "b"])
    >>> shared_bin_similarity(x, x, c, c)
    1.0
    >>> shared_bin_similarity(x, x, c, c[::-1].reset_index(drop=True))
    0.0
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
    cells = [
        np.digitize(x, e) * len(uniques) + c
        for x, e, c in ((r, edges[0], codes[: len(r)]), (s, edges[1], codes[len(r) :]))
    ]
    p, q = (np.bincount(c, minlength=n_cells) / len(c) for c in cells)
    return float(1 - 0.5 * np.abs(p - q).sum())


def _bin_edges(x: np.ndarray) -> np.ndarray:
    """sdmetrics' bins of a numeric column: ``np.histogram_bin_edges`` of its present values."""
    present = x[~np.isnan(x)]
    return np.histogram_bin_edges(present) if len(present) else np.array([0.0, 1.0])


def binning_notes(real, synthetic, schema: Schema, pairs: pd.DataFrame) -> list[str]:
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
    examples = ", ".join(
        f"{pairs.at[i, 'column_1']} x {pairs.at[i, 'column_2']} {pairs.at[i, 'score']:.3f} -> {rescored[i]:.3f}"
        for i in worst.index
    )
    return [
        f"Column Pair Trends is {reported:.3f} as sdmetrics computes it, which bins each table's "
        f"numeric columns on its own range; with both tables cut on the real data's bins it would be "
        f"{shared:.3f} (most changed: {examples}). A synthetic column whose minimum or maximum "
        "differs from the real one's is cut elsewhere, so the gap comes from where the bins fall, not "
        "from the rows' relationships."
    ]
