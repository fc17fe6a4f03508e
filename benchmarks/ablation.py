"""Quick ablations behind tabvae's defaults (one seed; SDMetrics QualityReport with its own
default pair thresholds, so trends here are not comparable with the all-pairs figures of run.py).

    python -m benchmarks.ablation adult '[{"epochs": 50, "gmm": [8, 32]}]' --max-train 0
    python -m benchmarks.ablation default_credit '[{"epochs": 150, "hidden_dims": [128, 128]}]'

Each config is a dict of TabularVAE parameters; "gmm": [k, ...] also scores the same fit with a
Gaussian-mixture prior of k components fitted to the training latents.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd

from tabvae import TabularVAE
from tabvae.model import GaussianMixturePrior
from tabvae.schema import infer_schema

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load(name: str) -> pd.DataFrame:
    if name == "adult":
        from tabvae.datasets import load_adult

        return load_adult()
    return pd.read_csv(DATA / f"{name}.csv")


def fidelity(real, syn, meta):
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(real, syn, meta, verbose=False)
    p = report.get_properties().set_index("Property")["Score"]
    return round(float(p["Column Shapes"]), 4), round(float(p["Column Pair Trends"]), 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("configs", help="JSON list of TabularVAE parameter dicts")
    ap.add_argument("--max-train", type=int, default=10_000, help="0 = the whole 80 %% split")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    df = load(args.dataset).sample(frac=1, random_state=0).reset_index(drop=True)
    train = df.iloc[: int(0.8 * len(df))]
    if args.max_train:
        train = train.iloc[: args.max_train]
    meta = infer_schema(train).sdmetrics_metadata()
    for cfg in json.loads(args.configs):
        gmm = cfg.pop("gmm", [])
        start = time.perf_counter()
        model = TabularVAE(random_state=0, prior="standard", **cfg).fit(train)
        res = {"fit_s": round(time.perf_counter() - start, 1),
               "standard": fidelity(train, model.sample(len(train), random_state=0), meta)}
        latents = model.transform(train) if gmm else None
        for k in gmm:
            model.prior_ = GaussianMixturePrior.fit(latents, k, 0, max_rows=10_000)
            res[f"gmm{k}"] = fidelity(train, model.sample(len(train), random_state=0), meta)
        print(args.dataset, cfg, res, flush=True)


if __name__ == "__main__":
    main()
