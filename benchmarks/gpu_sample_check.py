"""Sampling a million rows on a CUDA GPU: total time and its parts (run from the repository root).

PYTHONPATH=. python benchmarks/gpu_sample_check.py
"""

import json
import time

import numpy as np
import torch

from benchmarks.step_speed import _fit, adult_train


def timed(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


train = adult_train()
fit_s, model = timed(lambda: _fit(train, "cuda"))
model.sample(1_000, random_state=0)  # warm-up
res = {"device": torch.cuda.get_device_name(0), "adult_fit_s": round(fit_s, 3)}
for k in range(2):
    res[f"sample_1m_s_{k}"] = round(timed(lambda: model.sample(1_000_000, random_state=0))[0], 3)
g = torch.Generator(device="cuda").manual_seed(0)
res["latents_1m_s"] = round(timed(lambda: model.prior_.sample_on(1_000_000, g))[0], 4)
z = model.prior_.sample_on(1_000_000, g)
res["network_draw_1m_s"] = round(timed(lambda: model.model_.draw(z, g))[0], 4)
cont, codes = (t.detach().cpu().numpy() for t in model.model_.draw(z, g))
res["decode_1m_s"] = round(timed(lambda: model.encoder_.inverse_transform(cont, codes, np.random.RandomState(0)))[0], 3)
a, b = model.sample(5_000, random_state=3), model.sample(5_000, random_state=3)
res["same_seed_same_rows"] = bool(a.equals(b))
print(json.dumps(res, indent=1))
