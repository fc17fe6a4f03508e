"""Utility: train on synthetic, test on real (TSTR) against train on real, test on real (TRTR)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import Schema
from .encoding import NUMERIC_KINDS, TreeEncoding, as_float, frequent_levels, level_codes, tree_model


def utility_scores(real, synthetic, holdout, schema: Schema, target: str, task: str, seed: int, notes: list):
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
        enc = TreeEncoding.fit(schema, real, features)
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
    def fit(cls, y: pd.Series, kind: str, task: str) -> _TargetEncoding:
        levels = frequent_levels(y, len(y)) if task == "classification" else None
        return cls(task, kind, levels)

    @property
    def binary(self) -> bool:
        return self.levels is not None and len(self.levels) == 2

    def transform(self, y: pd.Series) -> np.ndarray:
        if self.levels is not None:  # classification
            return level_codes(y, self.levels)
        return as_float(y, self.kind if self.kind in NUMERIC_KINDS else "numeric")


def _fit_and_score(enc, y_enc, fit_frame, test, target, task, seed, notes, setting) -> dict:
    X_fit, y_fit = _xy(enc, y_enc, fit_frame, target)
    X_test, y_test = _xy(enc, y_enc, test, target)
    if task == "classification":
        return _score_classifier(enc, y_enc, X_fit, y_fit, X_test, y_test, seed, notes, setting)
    model = tree_model(task, enc.categorical_mask, seed).fit(X_fit, y_fit)
    pred = model.predict(X_test)
    from sklearn.metrics import r2_score

    return {"r2": float(r2_score(y_test, pred)), "rmse": float(np.sqrt(np.mean((y_test - pred) ** 2)))}


def _xy(enc: TreeEncoding, y_enc: _TargetEncoding, frame: pd.DataFrame, target: str):
    """Features and target, dropping rows whose target is missing."""
    y = y_enc.transform(frame[target])
    keep = ~np.isnan(y)
    return enc.transform(frame)[keep], y[keep]


def _score_classifier(enc, y_enc, X_fit, y_fit, X_test, y_test, seed, notes, setting) -> dict:
    from sklearn.metrics import f1_score

    if len(np.unique(y_fit)) < 2 or len(np.unique(y_test)) < 2:
        notes.append(f"{setting}: the training or test target has a single class; scores are NaN.")
        return {"roc_auc": np.nan, "f1": np.nan}
    model = tree_model("classification", enc.categorical_mask, seed).fit(X_fit, y_fit)
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
