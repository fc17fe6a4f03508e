"""MOSTLY AI's TabularARGN (``mostlyai-engine``) on the privacy benchmark's protocol, as a peer.

    python -m benchmarks.privacy_peer --epsilon 3 [--dataset adult] [--minutes 8] [--seed 0]
    python -m benchmarks.privacy_peer --epsilon inf

Same split, sample size and ``tabvae.evaluate`` call as ``benchmarks.privacy``.  The engine is run with its
defaults (value protection on) except for a training-time limit (``--minutes``, on a CPU) and, for a finite
epsilon, differential privacy with the budget split as tabvae splits it: half of epsilon for the value
ranges of the analysis step (``value_protection_epsilon``) and ``max_epsilon=epsilon``, the total at which
training stops (the engine's accountant counts the analysis half in it; its defaults otherwise: noise
multiplier 1.5, clipping norm 1, delta 1e-5).  The spent epsilon is the last total of the engine's progress
log (the checkpoint it keeps may have spent a little less).
Needs ``pip install mostlyai-engine``; it is not one of tabvae's dependencies.  Rows are merged into
``benchmarks/results/privacy_mostlyai.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import torch

import tabvae
from benchmarks.privacy import ATTACK, FIDELITY
from benchmarks.run import load_dataset, machine_info, split

OUT = Path(__file__).resolve().parent / "results" / "privacy_mostlyai.json"


def spent_epsilon(workspace: Path) -> float | None:
    """The last total ``dp_eps`` the engine logged during training, if it logged one."""
    for log in workspace.rglob("*progress-messages.csv"):
        progress = pd.read_csv(log)
        if "dp_eps" in progress and progress["dp_eps"].notna().any():
            return float(progress["dp_eps"].dropna().iloc[-1])
    return None


def main(argv=None) -> None:
    from mostlyai.engine import TabularARGN
    from mostlyai.engine.domain import DifferentialPrivacyConfig

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--epsilon", type=float, required=True)
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise-multiplier", type=float, default=None, help="DP-SGD noise (engine default 1.5)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    df, target, task = load_dataset(args.dataset)
    train, test = split(df, target, task, args.seed, None)
    private = math.isfinite(args.epsilon)
    dp = {"max_epsilon": args.epsilon, "value_protection_epsilon": args.epsilon / 2} if private else None
    if dp and args.noise_multiplier is not None:
        dp["noise_multiplier"] = args.noise_multiplier
    workspace = Path(f"/tmp/mostlyai_{args.dataset}_{args.epsilon}_{args.noise_multiplier}_{args.seed}")
    model = TabularARGN(
        max_training_time=args.minutes,
        differential_privacy=DifferentialPrivacyConfig(**dp) if dp else None,
        device="cpu",
        workspace_dir=workspace,
        random_state=args.seed,
    )
    start = time.perf_counter()
    model.fit(train.reset_index(drop=True))
    row = {"dataset": args.dataset, "epsilon": args.epsilon if private else "inf", "generator": "mostlyai-engine"}
    row["fit_seconds"] = round(time.perf_counter() - start, 1)
    row["dp_epsilon_"] = spent_epsilon(workspace) if private else None
    synthetic = model.sample(n_samples=len(train))
    synthetic = synthetic[list(train.columns)].astype(train.dtypes.to_dict(), errors="ignore")
    scores = tabvae.evaluate(train, synthetic, target=target, task=task, holdout=test, random_state=args.seed).scores
    keys = [*FIDELITY, *(k for k in scores if k.startswith(("tstr_", "trtr_"))), *ATTACK]
    row["scores"] = {k: round(float(scores[k]), 4) for k in keys if k in scores}
    row["settings"] = {"max_training_time_minutes": args.minutes, "differential_privacy": dp, "torch_threads": 1}
    row["command"] = "python -m benchmarks.privacy_peer " + shlex.join(sys.argv[1:] if argv is None else argv)
    row["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results = json.loads(OUT.read_text()) if OUT.exists() else {"rows": []}
    key = lambda r: (r["dataset"], str(r["epsilon"]), str(r["settings"]["differential_privacy"]))  # noqa: E731
    results["rows"] = [r for r in results["rows"] if key(r) != key(row)] + [row]
    results["machine"] = machine_info()
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
