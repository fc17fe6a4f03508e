#!/usr/bin/env bash
# Issue 22's GPU checks as one command, from the repository root of a machine with a CUDA GPU
# (needs torch, pandas, scikit-learn, safetensors, scipy, tqdm; no data beyond the bundled Adult):
#
#     OUT=some/dir bash benchmarks/gpu_speed.sh
#
# Writes $OUT/step_speed_cuda.json (ms per step, operator calls and kernel launches per step, Adult and
# 1,000,000-row fit and sample times), $OUT/graph_vs_eager.json (default Adult fit with and without the
# CUDA graph, refit reproducibility), $OUT/cpu_same_machine.json (the default Adult fit on this machine's
# CPU) and $OUT/adult_graphed_seed0.csv.gz (samples to score with tabvae.evaluate on a machine with sdmetrics).
set -u
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi -L
python3 -c "import torch, pandas, numpy; print('torch', torch.__version__, 'pandas', pandas.__version__, 'numpy', numpy.__version__)"
echo "== graph vs eager ($(date +%T))"
timeout 150 python3 - <<'PY'
import json, os, torch
from benchmarks.step_speed import adult_train, eager_and_graphed, _fit
train = adult_train()
_fit(train.iloc[:2000], "cuda", epochs=1)  # CUDA context and lazy imports
res = eager_and_graphed(train, "cuda")
print(json.dumps(res, indent=1))
open(os.path.join(os.environ["OUT"], "graph_vs_eager.json"), "w").write(json.dumps(res, indent=1))
model = _fit(train, "cuda")
model.sample(len(train), random_state=0).to_csv(os.path.join(os.environ["OUT"], "adult_graphed_seed0.csv.gz"), index=False)
PY
echo "== step speed on CUDA ($(date +%T))"
timeout 300 python3 -m benchmarks.step_speed --devices cuda --million --out "$OUT"
echo "== default Adult fit on this machine's CPU ($(date +%T))"
timeout 120 python3 - <<'PY'
import json, os, time, torch
from benchmarks.step_speed import adult_train, _fit
train = adult_train()
res = {"cpu_threads_default": torch.get_num_threads()}
for threads in (torch.get_num_threads(), 1):
    torch.set_num_threads(threads)
    t0 = time.perf_counter(); _fit(train, "cpu"); res[f"fit_s_{threads}_threads"] = round(time.perf_counter() - t0, 2)
print(res)
open(os.path.join(os.environ["OUT"], "cpu_same_machine.json"), "w").write(json.dumps(res, indent=1))
PY
echo "== done ($(date +%T))"
