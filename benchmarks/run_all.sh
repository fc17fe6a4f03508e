#!/usr/bin/env bash
# The sequence of commands behind benchmarks/results (run from the repository root).
# Fast generators first, then the slow ones, so that a cut-off run still covers every data set.
#
# tabvae is imported from a snapshot of one commit (`git archive`), placed first on
# PYTHONPATH, so that edits to tabvae/ made while the benchmark runs cannot mix versions;
# `python -P` keeps the repository root (the working directory) from going before it.
# Each JSON records the commit (machine.git_commit) and the path tabvae came from.
set -u
ALL=adult,default_credit,online_shoppers,beijing_pm25,california_housing,magic_gamma
MAXTRAIN=${MAXTRAIN:-10000}
COMMIT=${COMMIT:-$(git rev-parse HEAD)}
SNAP=${TMPDIR:-/tmp}/tabvae_snapshot/$COMMIT
if [ ! -d "$SNAP/tabvae" ]; then mkdir -p "$SNAP" && git archive "$COMMIT" tabvae | tar -x -C "$SNAP"; fi
export PYTHONPATH="$SNAP:$PWD" TABVAE_BENCH_COMMIT=$COMMIT

# Each job writes a per-seed JSON; the last line packs them into results/fidelity__<generator>.jsonl
# and regenerates the tables. A job is skipped while its per-seed JSON exists (before packing);
# OVERWRITE=1 re-runs those too.
OW=${OVERWRITE:+--overwrite}
python -P -m benchmarks.run --datasets $ALL --generators tabvae --seeds 5 --max-train $MAXTRAIN $OW
python -P -m benchmarks.run --datasets $ALL --generators gaussian_copula,identity --seeds 1 --max-train $MAXTRAIN
python -P -m benchmarks.run --datasets $ALL --generators sdv_tvae --seeds 3 --max-train $MAXTRAIN
python -P -m benchmarks.run --datasets $ALL --generators sdv_ctgan --seeds 1 --max-train $MAXTRAIN --ctgan-epochs 30
python -P -m benchmarks.report --pack
# Augmentation lift (cells already in results/augmentation.jsonl are skipped), then its tables.
python -P -m benchmarks.augmentation --sizes 100,200 --seeds 0,1,2,3,4,5,6,7,8,9 --sdv
python -P -m benchmarks.augmentation --sizes 500,1000 --seeds 0,1,2,3,4 \
  --arms none,random_oversampling,smote_nc,conditional,joint,refined_balanced,auto,sdv_tvae
python -P -m benchmarks.augmentation --report
