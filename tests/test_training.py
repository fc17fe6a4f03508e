"""The training loop's weight average (``ema_decay``)."""

import numpy as np
import pandas as pd
import pytest
import torch

from tabvae import TabularVAE
from tabvae.training import WeightAverage


def _table(n=300, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(list("pqr"), n), "c": rng.randint(0, 50, n)})


def test_weight_average_follows_its_warmed_up_decay():
    live = torch.nn.Linear(3, 2)
    average = WeightAverage(live, decay=0.9)
    start = [p.detach().clone() for p in average.model.parameters()]
    with torch.no_grad():
        for p in live.parameters():
            p.fill_(1.0)
    average.update()  # step 1: the decay is capped by the warm-up (1 + 1) / (10 + 1)
    kept = 2 / 11
    for p0, p in zip(start, average.model.parameters()):
        torch.testing.assert_close(p, kept * p0 + (1 - kept) * torch.ones_like(p0))
    for _ in range(400):  # then it decays at 0.9 towards the constant live weights
        average.update()
    for p in average.model.parameters():
        torch.testing.assert_close(p, torch.ones_like(p))
    # The live model is only read, never written.
    assert all((p == 1).all() for p in live.parameters())


def test_averaging_changes_the_kept_weights_not_the_training_path():
    df = _table()
    averaged = TabularVAE(epochs=6, random_state=0).fit(df)
    last = TabularVAE(epochs=6, config={"ema_decay": 0}, random_state=0).fit(df)
    # The same optimisation: the average is a read-only copy updated after each step.
    np.testing.assert_allclose(averaged.history_["loss"], last.history_["loss"], rtol=1e-6)
    differ = [not torch.equal(p, q) for p, q in zip(averaged.model_.parameters(), last.model_.parameters())]
    assert any(differ)
    out = averaged.sample(200, random_state=0)
    assert list(out.dtypes) == list(df.dtypes) and out["b"].isin(list("pqr")).all()


def test_early_stopping_validates_and_keeps_the_averaged_weights(monkeypatch):
    from tabvae import training

    seen = []  # (model validated, its weights) per epoch
    fake_losses = iter([5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9])  # best at epoch 2

    def fake_evaluate_loss(model, data, gen, batch_size=8192):
        seen.append((model, {k: v.clone() for k, v in model.state_dict().items()}))
        return next(fake_losses)

    monkeypatch.setattr(training, "evaluate_loss", fake_evaluate_loss)
    model = TabularVAE(epochs=8, early_stopping=True, config={"n_iter_no_change": 3}, random_state=0).fit(_table(400))
    assert len(seen) == 6  # stopped three epochs after the best
    assert all(m is not model.model_ for m, _ in seen)  # the average was validated, not the live weights
    for k, v in model.model_.state_dict().items():
        torch.testing.assert_close(v, seen[2][1][k])


@pytest.mark.parametrize("value", [1.0, -0.1, "0.9", True])
def test_bad_ema_decay_is_a_clear_error(value):
    with pytest.raises(ValueError, match=r"config.ema_decay must be a number in \[0, 1\)"):
        TabularVAE(config={"ema_decay": value}).fit(_table(50))


@pytest.mark.parametrize("fused_kernel", [True, False])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-5])
def test_adam_matches_torch_optim_adam(weight_decay, fused_kernel, monkeypatch):
    """The optimiser is torch's Adam update without torch.optim.Optimizer: the same weights, step by step.

    Without a fused kernel (older torch, other devices) it is torch's multi-tensor version.
    """
    from tabvae import optimizer
    from tabvae.optimizer import Adam

    if not fused_kernel:
        monkeypatch.setattr(optimizer, "_fused_adam_works", lambda device: False)
    gen = torch.Generator().manual_seed(0)
    ours = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.SiLU(), torch.nn.Linear(7, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.SiLU(), torch.nn.Linear(7, 3))
    theirs.load_state_dict(ours.state_dict())
    fused = Adam(ours.parameters(), 2e-3, weight_decay).fused
    assert fused or not fused_kernel
    optimisers = [
        (ours, Adam(ours.parameters(), 2e-3, weight_decay)),
        (
            theirs,
            torch.optim.Adam(
                theirs.parameters(), lr=2e-3, weight_decay=weight_decay, fused=fused or None, foreach=not fused
            ),
        ),
    ]
    for _ in range(30):
        x = torch.randn(11, 5, generator=gen)
        for net, opt in optimisers:
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)


def test_step_with_gradients_from_autograd_grad_matches_backward():
    """The step hands autograd.grad's gradients to Adam; backward() (kept for DDP) gives the same weights."""
    from tabvae.model import VAEConfig, build_vae
    from tabvae.optimizer import Adam
    from tabvae.training import NegativeELBO, Step

    cfg = VAEConfig(2, (3, 4), latent_dim=4, hidden_dims=(8,), cont_positions=(1, 3), part_positions=(0, 2))
    models = [build_vae(cfg, torch.device("cpu"), torch.Generator().manual_seed(0)) for _ in range(2)]
    steps = []
    for model, direct in zip(models, (True, False)):
        average = WeightAverage(model, decay=0.9)
        step = Step(NegativeELBO(model), Adam(model.parameters(), 1e-2), average, "fp32", torch.device("cpu"))
        step.direct = direct
        steps.append((step, torch.zeros(3)))
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        cont, eps = torch.randn(16, 2, generator=gen), torch.randn(16, 4, generator=gen)
        codes = torch.stack([torch.randint(0, 3, (16,), generator=gen), torch.randint(0, 4, (16,), generator=gen)], 1)
        for step, totals in steps:
            step(cont, codes, None, eps, 0.5, totals)
    assert torch.equal(steps[0][1], steps[1][1])
    for a, b in zip(*(s.averaged.model.state_dict().values() for s, _ in steps)):
        assert torch.equal(a, b)
    for a, b in zip(*(m.parameters() for m in models)):
        assert torch.equal(a, b)


def test_adam_skips_parameters_without_gradients():
    from tabvae.optimizer import Adam

    used, unused = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = Adam([used, unused], lr=0.1)
    (used**2).sum().backward()
    opt.step()
    assert (used < 1).all() and torch.equal(unused, torch.ones(2))
    opt.zero_grad()
    assert used.grad is None


def test_fit_does_not_import_the_compiler_stack():
    """Optimizer construction imports torch._dynamo and meta to_empty imports sympy: seconds per process."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, pandas as pd; from tabvae import TabularVAE; "
        "TabularVAE(epochs=1, random_state=0).fit(pd.DataFrame({'a': np.arange(60.0), 'b': list('xy') * 30})); "
        "print(sorted(m for m in ('torch._dynamo', 'sympy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("n_batches, per_gather", [(7, 2), (7, 32), (1, 1), (103, 5), (10, 3)])
def test_batches_are_the_slices_of_the_shuffled_order(n_batches, per_gather):
    """Gathering several batches at once keeps torch.tensor_split's batches, rows and conditions aligned."""
    from tabvae.training import Data

    data = Data(np.arange(103.0)[:, None], np.arange(103)[:, None], "cpu", cond=np.arange(103)[:, None] * 2)
    order = torch.randperm(103, generator=torch.Generator().manual_seed(0))
    batches = list(data.batches(order, n_batches, per_gather))
    assert len(batches) == n_batches
    for (cont, codes, cond), idx in zip(batches, order.tensor_split(n_batches)):
        assert cont[:, 0].tolist() == idx.double().tolist()
        assert codes[:, 0].tolist() == idx.tolist() and cond[:, 0].tolist() == (2 * idx).tolist()


def test_weight_average_on_the_device_matches_the_host_update():
    # The CUDA-graph step keeps the step count and weight as tensors; the update is the same.
    live = torch.nn.Linear(3, 2)
    host, device = WeightAverage(live, decay=0.9), WeightAverage(live, decay=0.9, on_device=True)
    for k in range(30):
        with torch.no_grad():
            for p in live.parameters():
                p.add_(0.1 * k)
        host.update()
        device.update()
    for a, b in zip(host.model.parameters(), device.model.parameters()):
        torch.testing.assert_close(a, b)


def test_captured_epochs_run_eagerly_on_the_cpu(monkeypatch):
    # Force the CUDA-graph path on the CPU: fixed-size batches from static buffers, where the
    # graph cannot be captured and every step runs eagerly (the fallback of a failed capture).
    from tabvae import training

    monkeypatch.setattr(training, "can_capture", lambda *args: True)
    df = _table(300)
    fits = [TabularVAE(epochs=3, batch_size=64, random_state=0).fit(df) for _ in range(2)]
    losses = [f.history_["loss"] for f in fits]
    assert np.isfinite(losses[0]).all() and losses[0] == losses[1]  # reproducible
    pd.testing.assert_frame_equal(fits[0].sample(50, random_state=1), fits[1].sample(50, random_state=1))
    monkeypatch.undo()
    eager = TabularVAE(epochs=3, batch_size=64, random_state=0).fit(df)
    assert eager.history_["loss"] != losses[0]  # 4 full batches of 64 an epoch, not 5 of about 60


def test_graphed_step_is_eager_off_the_gpu():
    from tabvae.cuda_graph import GraphedStep

    calls = []
    step = GraphedStep(lambda: calls.append(1), lambda: None, torch.device("cpu"))
    for _ in range(6):
        step()
    assert len(calls) == 6 and not step.captured


def test_a_diverging_fit_stops_with_a_clear_error():
    with pytest.raises((FloatingPointError, ValueError), match="diverged|learning_rate"):
        TabularVAE(epochs=5, config={"learning_rate": 1e30}, random_state=0).fit(_table())


def test_early_stopping_auto_follows_the_table_size():
    from tabvae.config import AUTO_EARLY_STOPPING_ROWS, resolve_early_stopping

    assert resolve_early_stopping("auto", 500, 0.1, private=False)
    assert not resolve_early_stopping("auto", AUTO_EARLY_STOPPING_ROWS, 0.1, private=False)
    assert not resolve_early_stopping("auto", 500, 0.1, private=True)  # held-out losses are not private
    assert not resolve_early_stopping("auto", 4, 0.1, private=False)  # no row to hold out
    assert resolve_early_stopping(True, 10**6, 0.1, private=False) is True
    with pytest.raises(ValueError, match='early_stopping must be True, False or "auto"'):
        resolve_early_stopping("yes", 500, 0.1, private=False)


def test_rank_correlation_is_spearmans():
    from scipy.stats import spearmanr

    from tabvae.training import rank_correlation

    gen = torch.Generator().manual_seed(0)
    a = torch.randn(500, generator=gen)
    b = a + 0.5 * torch.randn(500, generator=gen)
    assert rank_correlation(a, b) == pytest.approx(spearmanr(a.numpy(), b.numpy()).statistic, abs=1e-9)
    assert rank_correlation(a, a) == pytest.approx(1.0) and rank_correlation(a, -a) == pytest.approx(-1.0)


def test_stop_when_settled_ends_the_fit_once_the_ranking_stops_changing():
    from tabvae.training import SETTLE_EVERY, SETTLED

    df = _table(n=400)
    params = dict(
        epochs=400, batch_size=100, early_stopping=False, config={"hidden_dims": (32,), "ema_decay": 0}, random_state=0
    )
    settled = TabularVAE(**{**params, "config": {**params["config"], "stop_when_settled": True}}).fit(df)
    h = settled.history_
    n = len(h["loss"])
    assert n < 400 and n % SETTLE_EVERY == 0  # stopped at a check, before the epoch budget
    rho = h["rank_correlation"]
    assert len(rho) == n // SETTLE_EVERY - 1  # the first check has nothing to compare with
    assert rho[-1] >= SETTLED and all(r < SETTLED for r in rho[:-1])
    # Until it stops, the fit is the one without the check: the check only reads the weights.
    full = TabularVAE(**params).fit(df)
    assert "rank_correlation" not in full.history_ and len(full.history_["loss"]) == 400
    np.testing.assert_allclose(h["loss"], full.history_["loss"][:n], rtol=0, atol=0)


def test_robust_weights_ramp_down_the_batch_s_unlikely_rows():
    from tabvae.training import robust_weights

    # Median 0 and MAD 1 (robust sd 1.4826): the last rows lie 2.5 and 10 robust sds above the median.
    loss = torch.tensor([-2.0, -1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 2.5 * 1.4826, 10 * 1.4826])
    w = robust_weights(loss, 2.0, 4.0)
    assert w.mean().item() == pytest.approx(1.0)
    assert torch.all(w[:7] == w[0]) and w[8] == 0  # full weight up to 2 sds, none from 4
    assert w[7] / w[0] == pytest.approx(0.75, abs=1e-4)  # 2.5 sds: a quarter of the way down
    assert torch.equal(robust_weights(torch.zeros(5), 2.0, 4.0), torch.ones(5))  # a batch of equal losses
    # MAD 0 (half the rows share the median; any 2-row batch): every row keeps weight 1
    assert torch.equal(robust_weights(torch.tensor([1.0, 1.0, 1.0, 5.0]), 2.0, 4.0), torch.ones(4))
    assert torch.equal(robust_weights(torch.tensor([0.0, 3.0]), 2.0, 4.0), torch.ones(2))


def test_step_with_a_robust_ramp_descends_the_weighted_loss():
    """The step's gradient is that of the rows' losses weighted by ``robust_weights``; totals stay unweighted."""
    from tabvae.model import VAEConfig, build_vae
    from tabvae.optimizer import Adam
    from tabvae.training import NegativeELBO, Step, robust_weights

    cfg = VAEConfig(2, (3, 4), latent_dim=4, hidden_dims=(8,), cont_positions=(1, 3), part_positions=(0, 2))
    models = [build_vae(cfg, torch.device("cpu"), torch.Generator().manual_seed(0)) for _ in range(2)]
    gen = torch.Generator().manual_seed(1)
    cont, eps = torch.randn(32, 2, generator=gen), torch.randn(32, 4, generator=gen)
    cont[:3] += 8.0  # three rows far from the rest
    codes = torch.stack([torch.randint(0, 3, (32,), generator=gen), torch.randint(0, 4, (32,), generator=gen)], 1)
    ramped = Step(
        NegativeELBO(models[0]), Adam(models[0].parameters(), 1e-2), None, "fp32", torch.device("cpu"), (2, 4)
    )
    totals = torch.zeros(3)
    ramped(cont, codes, None, eps, 1.0, totals)
    objective = NegativeELBO(models[1])
    loss, rec, kl = objective(cont, codes, eps, 1.0)
    assert robust_weights(loss, 2, 4)[:3].max() < 1  # the far rows do count less
    torch.testing.assert_close(totals, torch.stack([loss, rec, kl]).sum(1).detach())
    manual = Adam(models[1].parameters(), 1e-2)
    manual.step(torch.autograd.grad((loss * robust_weights(loss, 2, 4)).mean(), manual.params, allow_unused=True))
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(a, b)


def test_settling_waits_for_the_kl_warmup():
    from tabvae.training import SETTLE_EVERY

    config = {"hidden_dims": (32,), "kl_warmup": 0.5, "stop_when_settled": True}
    model = TabularVAE(epochs=200, batch_size=100, early_stopping=False, config=config, random_state=0)
    h = model.fit(_table(n=400)).history_
    # Checks start after the 100 warm-up epochs: the first at 125 has nothing to compare with.
    assert len(h["loss"]) >= 100 + 2 * SETTLE_EVERY and len(h["rank_correlation"]) == len(h["loss"]) // 25 - 5


def test_robust_ramp_runs_on_the_captured_epochs_path(monkeypatch):
    from tabvae import training

    monkeypatch.setattr(training, "can_capture", lambda *args: True)
    config = {"robust_ramp": (2.0, 4.0)}
    fits = [TabularVAE(epochs=3, batch_size=64, config=config, random_state=0).fit(_table(300)) for _ in range(2)]
    plain = TabularVAE(epochs=3, batch_size=64, random_state=0).fit(_table(300))
    assert np.isfinite(fits[0].history_["loss"]).all() and fits[0].history_["loss"] == fits[1].history_["loss"]
    assert fits[0].history_["loss"] != plain.history_["loss"]  # the ramp changed the training path
