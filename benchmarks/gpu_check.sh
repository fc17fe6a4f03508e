#!/usr/bin/env bash
# The GPU checks behind benchmarks/README.md, "GPU": the test suite on CUDA, then the timing
# and sample jobs of benchmarks.gpu, each section under its own time limit so that a slow one
# cannot starve the rest. Run from the repository root on a machine with a CUDA GPU:
#
#     OUT=some/dir TABVAE_DATA=path/to/shared/data bash benchmarks/gpu_check.sh
#
# Writes $OUT/pytest.txt, $OUT/timings.jsonl and $OUT/samples.tgz (the samples, for
# `python -m benchmarks.gpu evaluate`). Wheels in .whl/ (and pandas 2.x in .whlpd/ where the
# machine has pandas 3, which SDV does not support) are installed first when present.
set -u
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
work=$(mktemp -d)
if [ -d .whl ]; then
    extra=.whl/*.whl
    python3 -c "import pandas, sys; sys.exit(pandas.__version__ >= '3')" || extra="$extra .whlpd/*.whl"
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $extra
    export PYTHONPATH=/tmp/site
fi
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >/dev/null 2>&1 || export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD
nvidia-smi -L
python3 -c "import torch, pandas, numpy; print('torch', torch.__version__, 'pandas', pandas.__version__, 'numpy', numpy.__version__, torch.cuda.get_device_name(0))"

section() {  # section SECONDS ARGS...: one benchmarks.gpu run, then refresh the samples archive
    local limit=$1; shift
    echo "== $* ($(date +%T))"
    timeout "$limit" python3 -m benchmarks.gpu run --out "$work" "$@"
    cp "$work/timings.jsonl" "$OUT/timings.jsonl"
    tar czf "$OUT/samples.tgz" -C "$work" samples
}

all=adult,default_credit,online_shoppers,beijing_pm25,california_housing,magic_gamma
section 130 --jobs tabvae --datasets $all
echo "== pytest on CUDA ($(date +%T))"
par=$(python3 -c "import xdist" 2>/dev/null && echo "-n 8")  # pytest-xdist, where installed
timeout 110 python3 -m pytest -q -p no:cacheprovider $par tests \
    --ignore=tests/test_notebooks.py --ignore=tests/test_distributed.py --ignore=tests/test_report_browser.py \
    >"$OUT/pytest.txt" 2>&1
tail -25 "$OUT/pytest.txt"
section 60 --jobs tabvae_rerun,tabvae_bf16 --datasets adult,california_housing
section 150 --jobs tvae --datasets $all
section 45 --jobs tabvae_compile --datasets adult
section 30 --jobs tabvae_cpu --datasets adult
echo "== done ($(date +%T))"
