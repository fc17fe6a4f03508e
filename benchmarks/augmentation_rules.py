"""Selection rules for augment(n_new="auto"), replayed on the augmentation benchmark's records.

Every ``auto`` record of ``results/augmentation.jsonl`` holds the cross-validated lift (mean and
standard deviation over the folds) of every arm it scored.  For the arms that the benchmark also ran
on their own at 1 x len(X) (``conditional``/``joint``, ``latent_neighbours``, ``refined``), their
test lift is known, so a rule that picks among "none" and those arms from the CV figures can be
scored without refitting anything::

    python -m benchmarks.augmentation_rules

A rule is "candidates, z": the arm with the largest ``mean - z * std / sqrt(folds)`` is kept when
that is above 0, else no rows are added.  For each rule it prints the mean test lift over the
classification cells, how many (table, size, model) cells have the lower end of their 95 %
interval below the issue's bound (-0.003 ROC-AUC, -0.005 R²), and in how many classification
cells of the HistGradientBoosting model the mean lift is at least 0.005.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
from scipy import stats

RESULTS = Path(__file__).resolve().parent / "results" / "augmentation.jsonl"
CLASSIFICATION = {"adult", "default_credit", "online_shoppers", "magic_gamma"}
FOLDS = 5


def choose(cv_arms: dict, candidates: tuple[str, ...], z: float) -> str:
    best, best_value = "none", 0.0
    for key, (mean, std) in cv_arms.items():
        strategy, share = key.split("@")
        if strategy in candidates and share == "1.0":
            value = mean - z * std / np.sqrt(FOLDS)
            if value > best_value:
                best, best_value = strategy, value
    return best


def score(rows: list[dict], candidates: tuple[str, ...], z: float) -> tuple[float, int, int, int]:
    test = {(r["table"], r["size"], r["seed"], r["model"], r["arm"]): r["lift"] for r in rows}
    cells = collections.defaultdict(list)
    for r in rows:
        if r["arm"] != "auto":
            continue
        key = (r["table"], r["size"], r["seed"], r["model"])
        arm = choose(r["chosen"]["cv_arms"], candidates, z)
        cells[key[:2] + key[3:]].append(0.0 if arm == "none" else test[key + (arm,)])
    means, failing, helped = [], 0, 0
    for (table, _, model), lifts in cells.items():
        lifts = np.asarray(lifts)
        half = stats.t.ppf(0.975, len(lifts) - 1) * lifts.std(ddof=1) / np.sqrt(len(lifts))
        failing += lifts.mean() - half < (-0.003 if table in CLASSIFICATION else -0.005)
        if table in CLASSIFICATION:
            means.append(lifts.mean())
            helped += model == "hgb" and lifts.mean() >= 0.005
    return float(np.mean(means)), failing, len(cells), helped


def main() -> None:
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines()]
    print("| candidates | z | mean lift (classification cells) | cells below the bound | hgb cells >= +0.005 |")
    print("|---|---:|---:|---:|---:|")
    for candidates in (("refined",), ("conditional", "joint", "latent_neighbours", "refined")):
        for z in (0.0, 1.0, 1.645, 2.0, 3.0):
            mean, failing, n_cells, helped = score(rows, candidates, z)
            print(f"| {', '.join(candidates)} | {z} | {mean:+.4f} | {failing}/{n_cells} | {helped}/8 |")
    for arm in ("smote_nc", "refined", "conditional"):
        cells = collections.defaultdict(list)
        for r in rows:
            if r["arm"] == arm and r["table"] in CLASSIFICATION:
                cells[(r["table"], r["size"], r["model"])].append(r["lift"])
        print(f"always {arm}: mean lift over classification cells {np.mean([np.mean(v) for v in cells.values()]):+.4f}")


if __name__ == "__main__":
    main()
