"""Generation strategies: how a fitted :class:`TabularVAE` turns into synthetic training rows.

The VAE is fitted on the real rows with the target as a column named
:data:`TARGET` (a conditioning column for classification).  A strategy makes a
*pool* of synthetic rows once; an amount of rows is then a prefix of that pool
(per class for classification), so one VAE and one pool serve a whole grid of
amounts.

- ``"conditional"`` (classification): rows drawn from the VAE conditioned on
  each class.
- ``"joint"`` (regression): rows drawn from the VAE, target included.
- ``"latent_neighbours"``: real rows are encoded (latent means), new latent
  points are drawn on the segment between a row and one of its nearest
  neighbours of the same class (all rows for regression), plus small noise,
  and decoded: SMOTE's interpolation, done in the VAE's latent space.  A
  point is kept only when it decodes with its class.
- ``"refined"``: for classification, conditional rows whose label a model of
  the real rows contradicts with probability at least
  :data:`REFINE_CONFIDENCE` are dropped (a CLLM-style filter); for
  regression, the target of joint rows is replaced by the prediction of a
  model of the real rows.
"""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

TARGET = "__target__"
CLASSIFICATION_STRATEGIES = ("conditional", "latent_neighbours", "refined")
REGRESSION_STRATEGIES = ("joint", "latent_neighbours", "refined")
REFINE_CONFIDENCE = 0.9  # a synthetic row is dropped when the model gives another class this probability
REFINE_OVERDRAW = 3.0  # conditional rows drawn per wanted refined row, to make up for the dropped ones
LATENT_OVERDRAW = 1.5  # latent points per wanted row, to make up for those not decoded with their class
NEIGHBOURS = 5  # latent neighbours a new point may be interpolated towards
LATENT_NOISE = 0.1  # noise added to an interpolated point, as a share of the latent codes' spread
DECODE_ROUNDS = 20  # tries to decode a latent point with its class as the drawn condition


def strategies_for(classification: bool) -> tuple[str, ...]:
    """The strategy names valid for the task."""
    return CLASSIFICATION_STRATEGIES if classification else REGRESSION_STRATEGIES


def _as_model_input(X: pd.DataFrame) -> pd.DataFrame:
    """Text, boolean and categorical columns as ``category``; datetimes as seconds."""
    X = X.copy()
    for c in X.columns:
        s = X[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            X[c] = (s - pd.Timestamp(0, tz=getattr(s.dt, "tz", None))).dt.total_seconds()
        elif not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            X[c] = s.astype(object).where(s.notna(), None).astype("category")
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            X[c] = s.astype("float64")
    return X


def default_estimator(classification: bool, random_state: int = 0):
    """HistGradientBoosting (classifier or regressor) on a DataFrame of any column kinds.

    Text, boolean and categorical columns are passed as native categorical
    features, datetimes as seconds, missing values as they are.
    """
    model_cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
    return make_pipeline(
        FunctionTransformer(_as_model_input), model_cls(categorical_features="from_dtype", random_state=random_state)
    )


def allocate(y: pd.Series, n: int) -> dict:
    """Split ``n`` new rows over the classes of ``y`` in proportion to their counts (largest remainder)."""
    counts = y.value_counts(sort=False)
    return _whole_rows(counts.index, counts.to_numpy() * n / counts.sum(), n)


def fill_up(y: pd.Series, n: int) -> dict:
    """Split ``n`` new rows over the classes of ``y``, smallest classes first.

    The rarest classes are raised to a common count before any other class
    gets a row ("water filling"); once every class has the majority count, the
    rest is shared equally.  With as many rows as the classes lack, this is
    imbalanced-learn's ``sampling_strategy="auto"``.

    >>> fill_up(pd.Series(["a"] * 6 + ["b"] * 2 + ["c"]), 6)
    {'a': 0, 'b': 3, 'c': 3}
    """
    counts = y.value_counts(sort=False)
    have = counts.to_numpy().astype(float)
    order = np.sort(have)
    level = (n + order.sum()) / len(order)  # past the majority count: equal shares
    for j in range(1, len(order)):  # the smallest j classes reach order[j] only with more rows than n
        if j * order[j] - order[:j].sum() >= n:
            level = (n + order[:j].sum()) / j
            break
    return _whole_rows(counts.index, np.maximum(level - have, 0.0), n, kind="stable")


def _whole_rows(
    classes: pd.Index, exact: np.ndarray, n: int, kind: Literal["quicksort", "stable"] = "quicksort"
) -> dict:
    """``exact`` shares of ``n`` rows rounded to whole rows that add up to ``n`` (largest remainder first;
    ``kind``: the sort that orders tied remainders)."""
    k = np.floor(exact).astype(int)
    k[np.argsort(k - exact, kind=kind)[: n - k.sum()]] += 1
    return dict(zip(classes, k.tolist()))


def class_targets(y: pd.Series, strategy) -> dict:
    """Rows to add per class for an imbalanced-learn style ``sampling_strategy``."""
    counts = y.value_counts()
    majority = counts.max()
    if strategy in ("auto", "not majority"):
        return {c: int(majority - n) for c, n in counts.items() if n < majority}
    if strategy == "minority":
        c = counts.idxmin()
        return {c: int(majority - counts[c])}
    if strategy == "all":
        return {c: int(majority - n) for c, n in counts.items()}
    if isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        if len(counts) != 2 or not 0 < float(strategy) <= 1:
            raise ValueError(
                "A float sampling_strategy is the wanted minority/majority ratio in (0, 1] "
                f"and needs a binary target; got {strategy!r} with {len(counts)} classes."
            )
        c = counts.idxmin()
        return {c: max(0, int(round(strategy * majority)) - int(counts[c]))}
    if isinstance(strategy, dict):
        unknown = [c for c in strategy if c not in counts.index]
        if unknown:
            raise ValueError(f"sampling_strategy names classes not in y: {unknown}; classes are {list(counts.index)}.")
        short = {c: n for c, n in strategy.items() if n < counts[c]}
        if short:
            raise ValueError(f"sampling_strategy asks for fewer rows than exist for {short}; it adds rows only.")
        return {c: int(n - counts[c]) for c, n in strategy.items()}
    raise ValueError(
        "sampling_strategy must be 'auto', 'not majority', 'minority', 'all', a float ratio or a "
        f"dict {{class: count}}, got {strategy!r}."
    )


def take(pool: pd.DataFrame, counts) -> pd.DataFrame:
    """The first ``counts`` rows of ``pool``: an int, or a dict {class: rows} (per class)."""
    if not isinstance(counts, dict):
        return pool.iloc[:counts]
    parts = [pool[pool[TARGET] == c].iloc[:k] for c, k in counts.items() if k > 0]
    return pd.concat(parts, ignore_index=True) if parts else pool.iloc[:0]


def make_pools(vae, table: pd.DataFrame, strategies, counts, seed: int) -> dict:
    """Synthetic rows for each strategy, at least ``counts`` of them (int, or dict per class).

    ``vae`` is fitted on ``table`` (features plus :data:`TARGET`); a dict of
    counts means classification.  The pools of ``"conditional"`` and
    ``"refined"`` share their draws, so the strategies are compared on the
    same rows.
    """
    classification = isinstance(counts, dict)
    draws = {}
    pools = {}
    for name in strategies:
        if name in ("conditional", "joint", "refined"):
            if "draw" not in draws:
                wanted = _scaled(counts, REFINE_OVERDRAW) if "refined" in strategies else counts
                draws["draw"] = _draw(vae, wanted, seed)
            pools[name] = _refine(draws["draw"], table, classification) if name == "refined" else draws["draw"]
        elif name == "latent_neighbours":
            pools[name] = _latent_neighbours(vae, table, _scaled(counts, LATENT_OVERDRAW), seed + 1)
        else:
            raise ValueError(f"unknown strategy {name!r}")
    return pools


def _scaled(counts, factor: float):
    if isinstance(counts, dict):
        return {c: int(np.ceil(k * factor)) for c, k in counts.items()}
    return int(np.ceil(counts * factor))


def _draw(vae, counts, seed: int) -> pd.DataFrame:
    """Rows from the VAE: per class when ``counts`` is a dict, else from the joint distribution."""
    if not isinstance(counts, dict):
        return vae.sample(counts, random_state=seed) if counts else _empty(vae)
    parts = [
        vae.sample(k, conditions={TARGET: c}, random_state=seed + i) for i, (c, k) in enumerate(counts.items()) if k > 0
    ]
    return pd.concat(parts, ignore_index=True) if parts else _empty(vae)


def _empty(vae) -> pd.DataFrame:
    return vae.sample(1, random_state=0).iloc[:0]


def _refine(rows: pd.DataFrame, table: pd.DataFrame, classification: bool) -> pd.DataFrame:
    """Drop rows whose label a model of the real rows contradicts, or predict their target."""
    if rows.empty:
        return rows
    model = default_estimator(classification).fit(table.drop(columns=TARGET), table[TARGET])
    X = rows.drop(columns=TARGET)
    if not classification:
        return rows.assign(**{TARGET: model.predict(X).astype(rows[TARGET].dtype, copy=False)})
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    own = np.array([classes.index(v) for v in rows[TARGET]])
    others = proba.copy()
    others[np.arange(len(rows)), own] = 0.0
    return rows[others.max(axis=1) < REFINE_CONFIDENCE].reset_index(drop=True)


def _latent_neighbours(vae, table: pd.DataFrame, counts, seed: int) -> pd.DataFrame:
    """Decoded interpolations between latent codes of real rows and their near neighbours."""
    rng = np.random.RandomState(seed)
    if not isinstance(counts, dict):
        Z = _interpolate(vae.transform(table), counts, rng)
        return vae.inverse_transform(Z, random_state=rng.randint(2**31 - 1)) if len(Z) else _empty(vae)
    parts = []
    share = table[TARGET].value_counts(normalize=True)
    for c, k in counts.items():
        if k > 0:
            Z = _interpolate(vae.transform(table[table[TARGET] == c]), k, rng)
            parts.append(_decode_as(vae, Z, c, share[c], rng))
    return pd.concat(parts, ignore_index=True) if parts else _empty(vae)


def _interpolate(Z: np.ndarray, n: int, rng: np.random.RandomState) -> np.ndarray:
    """``n`` points between random rows of ``Z`` and one of their nearest neighbours, plus noise."""
    start = rng.randint(len(Z), size=n)
    if len(Z) > 1:
        k = min(NEIGHBOURS, len(Z) - 1)
        neighbours = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z, return_distance=False)[:, 1:]
        end = neighbours[start, rng.randint(k, size=n)]
        spread = Z.std(axis=0)
    else:
        end, spread = start, np.ones(Z.shape[1])
    t = rng.uniform(size=(n, 1))
    return Z[start] + t * (Z[end] - Z[start]) + LATENT_NOISE * spread * rng.standard_normal((n, Z.shape[1]))


def _decode_as(vae, Z: np.ndarray, label, share: float, rng: np.random.RandomState) -> pd.DataFrame:
    """Decoded rows of ``Z`` labelled ``label``.

    ``inverse_transform`` draws a conditional model's class at random from its
    training frequencies, so each point is decoded in several copies and the
    first copy decoded with ``label`` is kept; points never decoded with it
    are dropped.
    """
    copies = int(min(100, np.ceil(3 / share)))
    found, pending = [], np.arange(len(Z))
    for _ in range(DECODE_ROUNDS):
        rows = vae.inverse_transform(np.repeat(Z[pending], copies, axis=0), random_state=rng.randint(2**31 - 1))
        hit = (rows[TARGET] == label).to_numpy().reshape(len(pending), copies)
        ok = hit.any(axis=1)
        found.append(rows.iloc[np.flatnonzero(ok) * copies + hit[ok].argmax(axis=1)])
        pending = pending[~ok]
        if not len(pending):
            break
    return pd.concat(found, ignore_index=True)


def fit_estimator(estimator, real: pd.DataFrame, synthetic: pd.DataFrame):
    """A clone of ``estimator`` fitted on the real rows plus the synthetic ones."""
    rows = pd.concat([real, synthetic], ignore_index=True) if len(synthetic) else real
    return clone(estimator).fit(rows.drop(columns=TARGET), rows[TARGET])
