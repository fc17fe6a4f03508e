"""Checks and resolution of :func:`~tabvae.evaluation.evaluate`'s arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, Schema, check_dataframe, infer_schema
from .detection import MIN_ROWS_DETECTION

TASKS = ("classification", "regression")

_SDTYPE_TO_KIND = {
    "numerical": "numeric",
    "datetime": "datetime",
    "categorical": "categorical",
    "ordinal": "categorical",
    "boolean": "boolean",
}


def validate_inputs(real, synthetic, holdout, target, task):
    """Check the frames, target and task; return frames with ``real``'s column order."""
    real = check_dataframe(real, what="real")
    synthetic = check_dataframe(synthetic, what="synthetic")
    if holdout is not None:
        holdout = check_dataframe(holdout, what="holdout")
    if task is not None and task not in TASKS:
        raise ValueError(
            f"Unknown task {task!r}; use 'classification', 'regression' or None (inferred from the target column)."
        )
    if target is None and task is not None:
        raise ValueError(f"task={task!r} was given without a target; pass target=<column name>.")
    if target is not None:
        frames = {"real": real, "synthetic": synthetic, "holdout": holdout}
        for what, frame in frames.items():
            if frame is not None and target not in frame.columns:
                raise ValueError(f"target {target!r} is not a column of {what}; its columns are {list(frame.columns)}.")
    synthetic = _same_columns(real, synthetic, "synthetic")
    if holdout is not None:
        holdout = _same_columns(real, holdout, "holdout")
    return real, synthetic, holdout


def _same_columns(real: pd.DataFrame, other: pd.DataFrame, what: str) -> pd.DataFrame:
    """Raise if ``other`` lacks or adds columns; return it in ``real``'s column order."""
    missing, extra = _missing_and_extra(list(real.columns), list(other.columns))
    if missing or extra:
        raise ValueError(
            f"real and {what} columns differ: {what} is missing columns {missing} and has extra columns {extra}."
        )
    return other[list(real.columns)]


def _missing_and_extra(expected: list, given: list) -> tuple[list, list]:
    """Names of ``expected`` absent from ``given``, and names of ``given`` not in ``expected``."""
    return [c for c in expected if c not in given], [c for c in given if c not in expected]


def check_max_rows(max_rows) -> None:
    is_int = isinstance(max_rows, (int, np.integer)) and not isinstance(max_rows, bool)
    if not is_int or max_rows < MIN_ROWS_DETECTION:
        raise ValueError(f"max_rows must be an integer >= {MIN_ROWS_DETECTION}, got {max_rows!r}.")


def model_history(model) -> dict | None:
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


def resolve_schema(real: pd.DataFrame, metadata, model) -> Schema:
    """Schema from ``metadata``, the model, or inference on ``real``."""
    if metadata is None:
        metadata = getattr(model, "schema_", None)
    if metadata is None:
        return infer_schema(real, warn=False)
    schema = _schema_from(metadata)
    missing, extra = _missing_and_extra(list(real.columns), schema.names)
    if missing or extra:
        raise ValueError(
            f"metadata does not match real: columns without metadata {missing}, metadata for absent columns {extra}."
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
    specs = []
    for name, meta in columns.items():
        sdtype = meta.get("sdtype")
        if sdtype not in _SDTYPE_TO_KIND:
            raise ValueError(f"metadata column {name!r} has sdtype {sdtype!r}; supported: {sorted(_SDTYPE_TO_KIND)}.")
        specs.append(ColumnSpec(name=name, kind=_SDTYPE_TO_KIND[sdtype], dtype="object"))
    return Schema(specs)


def resolve_task(real: pd.DataFrame, schema: Schema, target, task) -> tuple[str | None, list[str]]:
    """The utility task, and a note saying why when it was inferred for a numeric target.

    Categorical, boolean and constant targets are classification. A numeric or
    integer target is classification when ``real`` holds exactly two distinct
    values of it (a 0/1 flag stored as numbers), regression otherwise.
    """
    if target is None or task is not None:
        return task, []
    kind = schema[target].kind
    if kind in ("categorical", "boolean", "constant"):
        return "classification", []
    if kind not in ("numeric", "integer"):
        raise ValueError(f"Cannot infer the task for target {target!r} of kind {kind!r}; pass task=.")
    values = real[target].dropna().unique()
    if len(values) == 2:
        pair = " and ".join(str(v) for v in sorted(values))
        return "classification", [
            f"Utility task inferred as classification: the {kind} target {target!r} has exactly two distinct "
            f"values in real ({pair}). Pass task='regression' to score it as a regression."
        ]
    return "regression", [
        f"Utility task inferred as regression: the {kind} target {target!r} has {len(values)} distinct values "
        "in real. Pass task='classification' to score it as a classification."
    ]


def seed_from(random_state) -> int:
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


def row_counts(real, synthetic, holdout, real_s, synth_s, hold_s) -> dict:
    counts = {"real": len(real), "synthetic": len(synthetic)}
    if holdout is not None:
        counts["holdout"] = len(holdout)
    counts.update({"real_evaluated": len(real_s), "synthetic_evaluated": len(synth_s)})
    if hold_s is not None:
        counts["holdout_evaluated"] = len(hold_s)
    return counts
