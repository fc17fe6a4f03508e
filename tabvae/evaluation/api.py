"""The :func:`evaluate` entry point: check the inputs, subsample, score the four axes, build the report."""

from __future__ import annotations

import numpy as np

from .common import single_threaded_openmp, subsample
from .detection import detection_scores
from .fidelity import binning_notes, fidelity_scores
from .inputs import check_max_rows, model_history, resolve_schema, resolve_task, row_counts, seed_from, validate_inputs
from .privacy import privacy_notes, privacy_scores
from .report import EvaluationReport
from .utility import utility_scores


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
        Utility task. Inferred from the target when ``None``: categorical and
        boolean targets are classification; a numeric or integer target is
        classification when ``real`` holds exactly two distinct values of it
        (a 0/1 flag stored as numbers) and regression otherwise, and a note
        in the report says which task was inferred and why.
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
          ``exact_copy_share``, ``holdout_exact_copy_share``, and
          ``membership_attack_auc`` (0.5 = no leak) with its 95% bootstrap
          interval ``membership_attack_auc_low`` / ``membership_attack_auc_high``.

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
    Exact copies compare whole rows by hashing. The membership-inference attack
    scores up to 2,000 training rows and as many holdout rows by
    ``r / (r + d)``, with ``d`` the distance to the nearest synthetic row and
    ``r`` the mean distance to the five nearest rows of the rest of the
    holdout (the attacker's reference sample), and reports the ROC-AUC of
    telling the two apart.

    The input frames are never modified.
    """
    real, synthetic, holdout = validate_inputs(real, synthetic, holdout, target, task)
    check_max_rows(max_rows)
    history = model_history(model)
    schema = resolve_schema(real, metadata, model)
    task, notes = resolve_task(real, schema, target, task)
    seed = seed_from(random_state)
    with single_threaded_openmp():
        return _evaluate(real, synthetic, holdout, schema, target, task, seed, max_rows, history, notes)


def _evaluate(real, synthetic, holdout, schema, target, task, seed, max_rows, history, notes):
    """The body of :func:`evaluate`, on validated inputs; ``notes`` collects the caveats."""
    rng = np.random.default_rng(seed)
    real_s = subsample(real, max_rows, rng)
    synth_s = subsample(synthetic, max_rows, rng)
    hold_s = None if holdout is None else subsample(holdout, max_rows, rng)
    shapes, pairs, scores = fidelity_scores(real_s, synth_s, schema)
    notes.extend(binning_notes(real_s, synth_s, schema, pairs))
    scores.update(detection_scores(real, real_s, synth_s, schema, seed, notes))
    utility = None
    if target is not None:
        utility, util = utility_scores(real_s, synth_s, hold_s, schema, target, task, seed, notes)
        scores.update(util)
    if hold_s is None:
        notes.append("Privacy metrics skipped: pass holdout=<real rows not used for training>.")
    else:
        scores.update(privacy_scores(real, real_s, synth_s, hold_s, schema, seed))
        notes.extend(privacy_notes(scores, len(synth_s), min(len(real_s), len(hold_s))))
    n_rows = row_counts(real, synthetic, holdout, real_s, synth_s, hold_s)
    return EvaluationReport(
        scores=scores,
        column_shapes=shapes,
        pair_trends=pairs,
        schema=schema,
        utility=utility,
        notes=notes,
        target=target,
        task=task,
        n_rows=n_rows,
        random_state=seed,
        history=history,
        real_evaluated=real_s,
        synthetic_evaluated=synth_s,
    )
