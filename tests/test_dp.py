"""Differentially private training (``dp_epsilon``): accounting, budget checks, determinism, clipping."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("opacus")
from opacus.accountants import PRVAccountant  # noqa: E402
from opacus.optimizers import DPOptimizer  # noqa: E402

from tabvae import TabularVAE, load  # noqa: E402
from tabvae.dp import PrivacyPlan, per_row_grads, require_opacus, spent_epsilon  # noqa: E402
from tabvae.training import NegativeELBO  # noqa: E402

# Public bounds of Adult's numbers, as a user would declare them: on a few hundred rows the
# encoders' half of a small budget is too little to find ranges from the data.
PUBLIC = {
    "public_bounds": {
        "age": (17, 90),
        "fnlwgt": (0, 1_500_000),
        "capital-gain": (0, 100_000),
        "capital-loss": (0, 5_000),
        "hours-per-week": (1, 99),
    }
}


# The encoders share half of it over 15 columns: enough on 1,500 rows to keep Adult's frequent levels.
EPSILON = 8.0


def _fit(df, **params):
    config = PUBLIC if "dp_epsilon" in params and "age" in df else None
    return TabularVAE(epochs=2, batch_size=100, random_state=0, config=config, **params).fit(df)


@pytest.fixture(scope="module")
def private(adult_slice):
    return _fit(adult_slice, dp_epsilon=EPSILON)


def test_accountant_epsilon_matches_opacus_and_stays_within_target():
    plan = PrivacyPlan.for_fit(3.0, 1e-5, epochs=5, batch_size=100, n_rows=2_000)
    assert (plan.sample_rate, plan.steps) == (0.05, 100)
    accountant = PRVAccountant()
    accountant.history = [(plan.noise_multiplier, plan.sample_rate, plan.steps)]
    assert plan.spent_epsilon() == pytest.approx(accountant.get_epsilon(delta=1e-5), rel=1e-9)
    assert 2.8 < plan.spent_epsilon() <= 3.0
    # More noise for the same steps spends less.
    assert spent_epsilon(2 * plan.noise_multiplier, 0.05, 100, 1e-5) < plan.spent_epsilon()


def test_delta_defaults_to_a_tenth_of_one_over_n_rows():
    assert PrivacyPlan.for_fit(1.0, None, epochs=1, batch_size=50, n_rows=500).delta == pytest.approx(1 / 5_000)


def test_fit_spends_at_most_the_budget(private):
    assert private.dp_epsilon_ <= EPSILON
    assert private.dp_delta_ == pytest.approx(1 / 15_000)
    assert private.dp_noise_multiplier_ > 0
    assert private.prior_ is None  # a mixture fitted on the training rows' posteriors would not be private
    assert all(v == [] for v in private.history_.values())


def test_same_seed_gives_same_samples(adult_slice, private):
    again = _fit(adult_slice, dp_epsilon=EPSILON)
    assert private.sample(50, random_state=1).equals(again.sample(50, random_state=1))


def test_without_dp_the_budget_attributes_are_none(mixed):
    model = TabularVAE(epochs=1, random_state=0).fit(mixed)
    assert (model.dp_epsilon_, model.dp_delta_, model.dp_noise_multiplier_) == (None, None, None)


def test_save_load_keeps_the_spent_budget(private, tmp_path):
    private.save(tmp_path / "m.tabvae")
    loaded = load(tmp_path / "m.tabvae")
    assert (loaded.dp_epsilon_, loaded.dp_delta_) == (private.dp_epsilon_, private.dp_delta_)
    assert loaded.sample(20, random_state=3).equals(private.sample(20, random_state=3))


def test_load_refuses_a_bad_spent_budget(private):
    state, tensors = private.get_state()
    state = json.loads(json.dumps(state))  # as a model file holds it
    state["privacy"]["dp_delta_"] = 2.0
    with pytest.raises(ValueError, match=r"state\.privacy\.dp_delta_"):
        TabularVAE.from_state(state, tensors)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"dp_epsilon": 0.0}, "dp_epsilon"),
        ({"dp_epsilon": -1.0}, "dp_epsilon"),
        ({"dp_epsilon": math.inf}, "dp_epsilon"),
        ({"dp_epsilon": math.nan}, "dp_epsilon"),
        ({"dp_epsilon": 1_000.0}, "dp_epsilon"),
        ({"dp_epsilon": 1.0, "dp_delta": 0.0}, "dp_delta"),
        ({"dp_epsilon": 1.0, "dp_delta": 1.0}, "dp_delta"),
        ({"dp_delta": 1e-6}, "dp_delta"),
        ({"dp_epsilon": 1.0, "early_stopping": True}, "early_stopping"),
    ],
)
def test_bad_budget_is_a_value_error_naming_the_parameter(mixed, params, name):
    with pytest.raises(ValueError, match=name):
        TabularVAE(epochs=1, **params).fit(mixed)


@pytest.mark.parametrize("value", ["3", True])
def test_budget_of_the_wrong_type_is_a_type_error(mixed, value):
    with pytest.raises(TypeError, match="dp_epsilon"):
        TabularVAE(epochs=1, dp_epsilon=value).fit(mixed)


def test_missing_opacus_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "opacus", None)
    with pytest.raises(ImportError, match=r'pip install "tabvae\[dp\]"'):
        require_opacus()


def _rows(model, df, n):
    cont, codes = model.encoder_.transform(df.head(n))
    cond = torch.as_tensor(codes[:, [model.encoder_.layout_.codes[c].start for c in model.conditional_columns_]])
    eps = torch.randn((n, model.latent_dim), generator=torch.Generator().manual_seed(0))
    return torch.as_tensor(cont, dtype=torch.float32), torch.as_tensor(codes), cond, eps


def test_per_row_gradients_are_exact_and_clipped(adult_slice):
    """The masked autoregressive layers included: each row's gradient equals autograd's on that row alone,
    and after Opacus's clipping its norm is at most max_grad_norm."""
    model = TabularVAE(
        epochs=1, conditional_columns=["income"], random_state=0, config={"decoder": "autoregressive"}
    ).fit(adult_slice.head(300))
    vae = model.model_.train()
    assert vae.ar is not None
    with torch.no_grad():
        vae.ar.out.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(1))  # not the zero init
    objective = NegativeELBO(vae)
    cont, codes, cond, eps = _rows(model, adult_slice, 6)
    grads, terms = per_row_grads(objective, cont, codes, cond, eps, 0.75)
    assert terms.shape == (3, 6)
    named = dict(objective.named_parameters())
    for i in range(6):
        objective.zero_grad()
        objective(cont[i : i + 1], codes[i : i + 1], eps[i : i + 1], 0.75, cond[i : i + 1])[0].sum().backward()
        for name, p in named.items():
            torch.testing.assert_close(grads[name][i], p.grad, rtol=1e-4, atol=1e-5)
    assert all(grads[f"vae.ar.{k}.weight"].abs().sum() > 0 for k in ("inp", "out", "lat"))

    max_norm = 0.5
    sgd = torch.optim.SGD(list(named.values()), lr=0.0)
    opt = DPOptimizer(sgd, noise_multiplier=0.0, max_grad_norm=max_norm, expected_batch_size=1)
    raw = torch.stack([g.flatten(1).norm(dim=1) for g in grads.values()], dim=1).norm(dim=1)  # (6,)
    assert (raw > max_norm).any()
    for i in range(6):
        for name, p in named.items():
            p.grad_sample = grads[name][i : i + 1]
        opt.pre_step()  # clip, add (zero) noise, scale: p.grad is the row's clipped gradient
        clipped = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in named.values()))
        assert clipped <= max_norm + 1e-5
        assert clipped == pytest.approx(min(float(raw[i]), max_norm), rel=1e-4)
        opt.zero_grad()
    assert np.isfinite(float(raw.sum()))


def test_fit_splits_the_budget_between_encoders_and_training(private):
    from tabvae.dp import PREPROCESSING_SHARE, split_budget

    enc_eps, enc_delta, train_eps, train_delta = split_budget(EPSILON, None, 1_500)
    assert enc_eps == pytest.approx(PREPROCESSING_SHARE * EPSILON) and enc_eps + train_eps == pytest.approx(EPSILON)
    assert enc_delta + train_delta == pytest.approx(1 / 15_000)
    assert enc_eps < private.dp_epsilon_ <= EPSILON  # the encoders' share plus what the accountant spent


def test_dp_fit_encoders_never_read_raw_extremes_or_rare_levels(adult_slice):
    df = adult_slice.copy()
    df.loc[df.index[0], "capital-gain"] = 12_345_678  # beyond the public bound
    df.loc[df.index[1], "workclass"] = "Singleton-level"
    model = _fit(df, dp_epsilon=EPSILON)
    state = json.dumps(model.get_state()[0], default=str)
    assert "12345678" not in state and "Singleton-level" not in state
    sample = model.sample(2_000, random_state=0)
    assert sample["capital-gain"].max() <= 100_000 and "Singleton-level" not in set(sample["workclass"])


def test_too_small_a_budget_for_the_ranges_says_what_to_do(adult_slice):
    with pytest.raises(ValueError, match="Column 'age'.*public bounds or a larger epsilon"):
        TabularVAE(epochs=1, dp_epsilon=0.5, random_state=0).fit(adult_slice.head(300))


@pytest.mark.parametrize("field, value", [("robust_ramp", (2, 4)), ("stop_when_settled", True)])
def test_loss_steered_training_is_refused_under_dp(adult_slice, field, value):
    with pytest.raises(ValueError, match=f"config.{field} cannot be used with dp_epsilon"):
        TabularVAE(epochs=2, dp_epsilon=2.0, config={**PUBLIC, field: value}).fit(adult_slice.head(200))


def test_conditional_columns_are_refused_under_dp(adult_slice):
    with pytest.raises(ValueError, match="conditional_columns cannot be used with dp_epsilon"):
        _fit(adult_slice.head(200), dp_epsilon=2.0, conditional_columns=["income"])
