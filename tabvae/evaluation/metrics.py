"""The evaluation's score keys: their groups and a plain-language guide to each."""

from __future__ import annotations

GROUP_ORDER = ("fidelity", "detection", "utility", "privacy")
_FIDELITY_KEYS = ("quality_score", "column_shapes", "column_pair_trends")
_DETECTION_KEYS = ("logistic_detection", "detection_auc")
DISTANCE_KEYS = (
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
ATTACK_KEYS = ("membership_attack_auc", "membership_attack_auc_low", "membership_attack_auc_high")
PRIVACY_KEYS = DISTANCE_KEYS + ATTACK_KEYS

GUIDANCE = {
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
    "roc_auc": "ROC-AUC (1 = perfect ranking, 0.5 = chance; macro one-vs-rest for more than two classes).",
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
    "dcr_synthetic_p05": "5th percentile of synthetic-to-train distances: the closest synthetic rows.",
    "dcr_holdout_p05": "5th percentile of holdout-to-train distances: the baseline for the closest rows.",
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
    "membership_attack_auc": (
        "A membership-inference attack: an attacker who holds the synthetic table and some real rows "
        "from the same population tries to tell which real rows were used for training. It scores a "
        "row high when a synthetic row lies closer to it than its typical real neighbours do, and is "
        "tested on equal numbers of training rows and holdout rows the generator never saw. The value "
        "is its ROC-AUC: 0.5 = it cannot tell them apart (no leak), 1 = it identifies every training "
        "row. Read it with its 95% interval: an interval above 0.5 means a real, if small, leak; above "
        "about 0.55 the synthetic rows give away who was in the training data."
    ),
    "membership_attack_auc_low": "Lower end of the 95% bootstrap interval of membership_attack_auc.",
    "membership_attack_auc_high": "Upper end of the 95% bootstrap interval of membership_attack_auc.",
}


def explain(key: str) -> str:
    """Plain-language explanation of score ``key``."""
    if key in GUIDANCE:
        return GUIDANCE[key]
    setting, _, metric = key.partition("_")
    return f"{GUIDANCE.get(setting, '')} {GUIDANCE.get(metric, '')}".strip()


def group_of(key: str) -> str:
    if key in _FIDELITY_KEYS:
        return "fidelity"
    if key in _DETECTION_KEYS:
        return "detection"
    if key in PRIVACY_KEYS:
        return "privacy"
    return "utility"
