"""The categorical heads: bucketed, padded log-softmax must equal one softmax per column."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from tabvae import model as model_module
from tabvae.heads import PAD_WIDTH, PER_PART_LSE_MAX, CategoricalParts, bucket_parts


# The last case has more (logits x parts) than PER_PART_LSE_MAX: the padded path.
@pytest.mark.parametrize(
    "cards", [(9, 16, 16, 7, 15, 6, 5, 2, 41, 2), (2,), (3, 5000, 2, 4), (700, 700, 2), (40,) * 30 + (7,) * 30]
)
def test_bucketed_nll_and_gradient_match_per_column_softmax(cards):
    torch.manual_seed(0)
    parts = CategoricalParts(cards)
    assert parts.per_part_lse == (sum(cards) * len(cards) <= PER_PART_LSE_MAX)
    logits = torch.randn(64, sum(cards), dtype=torch.float64, requires_grad=True)
    codes = torch.stack([torch.randint(0, k, (64,)) for k in cards], dim=1)
    codes[::7, 0] = -1  # unseen category: scores 0 and gets no gradient
    got = parts.nll(logits, codes)

    expected, start = [], 0
    for j, k in enumerate(cards):
        logp = F.log_softmax(logits[:, start : start + k], dim=-1)
        nll = -logp.gather(1, codes[:, j : j + 1].clamp_min(0)).squeeze(1)
        expected.append(torch.where(codes[:, j] >= 0, nll, torch.zeros_like(nll)))
        start += k
    expected = torch.stack(expected, dim=1)
    torch.testing.assert_close(got, expected)

    (g_got,) = torch.autograd.grad(got.sum(), logits)
    (g_exp,) = torch.autograd.grad(expected.sum(), logits)
    assert torch.isfinite(g_got).all()  # the -inf padding must not leak NaN into gradients
    torch.testing.assert_close(g_got, g_exp)


def test_located_codes_serve_the_one_hot_and_the_nll_alike():
    """A step locates the codes once; the one-hot and the likelihood are those of codes located afresh."""
    parts = CategoricalParts((3, 4, 2))
    codes = torch.tensor([[0, 3, 1], [2, -1, 0], [-1, 0, -1]])
    located = parts.locate(codes)
    one_hot = parts.one_hot(codes, torch.float32, located)
    assert torch.equal(one_hot, parts.one_hot(codes))
    assert one_hot.tolist()[1] == [0, 0, 1, 0, 0, 0, 0, 1, 0]  # the unseen code (-1) sets no column
    logits = torch.randn(3, 9, generator=torch.Generator().manual_seed(0))
    nll = parts.nll(logits, codes, located)
    assert torch.equal(nll, parts.nll(logits, codes))
    assert nll[1, 1] == 0 and nll[2, 0] == 0 and nll[2, 2] == 0 and (nll[codes >= 0] > 0).all()


def test_sampled_codes_stay_within_each_columns_categories():
    cards = (2, 41, 3, 1)
    parts = CategoricalParts(cards)
    logits = torch.zeros(2000, sum(cards))
    gen = torch.Generator().manual_seed(0)
    for temperature in (1.0, 0.0):
        codes = parts.sample(logits, gen, temperature).numpy()
        assert codes.shape == (2000, len(cards))
        assert all((codes[:, j] >= 0).all() and (codes[:, j] < k).all() for j, k in enumerate(cards))
    # Uniform logits: every level of the 41-level column is drawn (padding never wins).
    assert len(np.unique(parts.sample(logits, gen)[:, 1])) == 41


def test_buckets_cover_every_part_once_and_keep_padding_bounded():
    cards = (2, 2, 5, 41, 100_000, 7, 3000)
    buckets = bucket_parts(cards)
    assert sorted(i for b in buckets for i in b) == list(range(len(cards)))
    for b in buckets:
        padded = len(b) * max(cards[i] for i in b)
        assert padded <= max(2 * sum(cards[i] for i in b), PAD_WIDTH)
    # The small columns share one op; none of them is padded to the huge column's width.
    assert sorted(next(b for b in buckets if 0 in b)) == [0, 1, 2, 3, 5]


def _ar_model(seed=0, numeric_frequencies=0, decoder="autoregressive"):
    from conftest import make_mixed

    from tabvae import TabularVAE

    df = make_mixed(300)
    config = {"decoder": decoder, "hidden_dims": (32,), "numeric_frequencies": numeric_frequencies}
    return df, TabularVAE(
        epochs=3, latent_dim=8, conditional_columns=["object"], config=config, random_state=seed, device="cpu"
    ).fit(df)  # the tests feed CPU tensors


@pytest.mark.parametrize("frequencies", [0, 6])
def test_autoregressive_outputs_depend_only_on_preceding_columns(frequencies):
    _, model = _ar_model(numeric_frequencies=frequencies)
    vae = model.model_
    pos = torch.as_tensor(vae.cfg.input_positions)
    assert len(pos.unique()) > 10  # one position per column part, in table order
    x = torch.rand(1, vae.cfg.n_inputs, requires_grad=True)
    zc = torch.randn(1, 8 + vae.cfg.n_conditions)
    with torch.no_grad():
        vae.ar.out.weight.normal_()  # trained weights may be near 0; any weights must respect the order
    jac = torch.autograd.functional.jacobian(lambda x: vae.ar(x, zc), x).squeeze()  # (outputs, inputs)
    allowed = pos[None, :] < pos[:, None]
    assert (jac[~allowed] == 0).all() and (jac[allowed] != 0).any()


@pytest.mark.parametrize("frequencies, block", [(0, 8192), (6, 8192), (6, 16)])
def test_autoregressive_draw_matches_the_teacher_forced_decoder(frequencies, block, monkeypatch):
    # The sequential sampler must decode each column from exactly the inputs the
    # likelihood conditions on: at temperature 0, re-decoding the drawn rows gives them back,
    # also when the CPU draws the rows in several passes (block 16: four passes of 50 rows).
    monkeypatch.setattr(model_module, "CPU_DRAW_ROWS", block)
    _, model = _ar_model(numeric_frequencies=frequencies)
    vae = model.model_
    z = torch.randn(50, 8)
    cond = torch.randint(0, vae.cfg.cond_cardinalities[0], (50, 1))
    cont, codes = vae.draw(z, None, cond, temperature=0)
    mean, logits = vae.decode(z, cond, vae.inputs(cont, codes))
    # A missing or spike row's value is the placeholder 0 it was trained with, not the mean.
    gates = vae.value_gates
    assert gates is not None and (gates >= 0).any()  # make_mixed has missing numbers
    present = (codes[:, gates.clamp_min(0)] == 0) | (gates < 0)
    assert (~present).any() and (cont[~present] == 0).all()
    torch.testing.assert_close(mean[present], cont[present])
    assert (vae.parts.sample(logits, None, temperature=0) == codes).all()


@pytest.mark.parametrize("decoder", ["autoregressive", "factorized"])
def test_draw_in_passes_follows_one_stream(decoder, monkeypatch):
    # On a CPU the rows go through in passes of CPU_DRAW_ROWS: the first pass draws what a draw of
    # its rows alone would, a seed repeats the whole draw, and at temperature 0 every pass decodes
    # the means and modes.
    monkeypatch.setattr(model_module, "CPU_DRAW_ROWS", 16)
    _, model = _ar_model(decoder=decoder)
    vae = model.model_
    assert (vae.ar is not None) == (decoder == "autoregressive")
    z = torch.randn(50, 8)
    cond = torch.randint(0, vae.cfg.cond_cardinalities[0], (50, 1))
    cont, codes = vae.draw(z, torch.Generator().manual_seed(0), cond)
    again = vae.draw(z, torch.Generator().manual_seed(0), cond)
    first = vae.draw(z[:16], torch.Generator().manual_seed(0), cond[:16])
    assert cont.shape == (50, vae.cfg.n_continuous) and codes.shape == (50, len(vae.cfg.cardinalities))
    assert torch.equal(cont, again[0]) and torch.equal(codes, again[1])
    assert torch.equal(cont[:16], first[0]) and torch.equal(codes[:16], first[1])
    assert not torch.equal(codes[16:32], vae.draw(z[16:32], torch.Generator().manual_seed(0), cond[16:32])[1])
    if decoder == "factorized":
        cont, codes = vae.draw(z, None, cond, temperature=0)
        mean, logits = vae.decode(z, cond)
        torch.testing.assert_close(cont, mean)
        assert torch.equal(codes, vae.parts.sample(logits, None, temperature=0))


def test_periodic_features_follow_the_column_order():
    # Each numeric value's sines and cosines sit at its column's position: outputs before
    # or at that position must not depend on them, later ones may.
    _, model = _ar_model(numeric_frequencies=6)
    ar = model.model_.ar
    assert ar.periodic is not None and ar.periodic.in_features == 2 * 6 * model.model_.cfg.n_continuous
    pos = torch.as_tensor(model.model_.cfg.input_positions)
    cont = torch.rand(1, ar.n_continuous, requires_grad=True)
    rest = torch.rand(1, model.model_.cfg.n_inputs - ar.n_continuous)
    zc = torch.randn(1, ar.lat.in_features)
    with torch.no_grad():
        ar.out.weight.normal_()
    jac = torch.autograd.functional.jacobian(lambda c: ar(torch.cat([c, rest], 1), zc), cont).squeeze()
    allowed = pos[:, None] > pos[None, : ar.n_continuous]  # (outputs, continuous inputs)
    assert (jac[~allowed] == 0).all() and (jac[allowed] != 0).any()


def test_periodic_model_round_trips(tmp_path):
    from tabvae import TabularVAE, load

    df, model = _ar_model(numeric_frequencies=6)
    model.save(tmp_path / "periodic.tabvae")
    twin = load(tmp_path / "periodic.tabvae")
    assert twin.model_.cfg.n_frequencies == 6
    pd.testing.assert_frame_equal(model.sample(300, random_state=1), twin.sample(300, random_state=1))

    raw = TabularVAE(epochs=2, random_state=0, config={"decoder": "autoregressive"}).fit(df)
    assert raw.model_.ar.periodic is None and raw.model_.cfg.n_frequencies == 0  # "auto": off on a small table


def test_autoregressive_model_samples_reproducibly_and_round_trips(tmp_path):
    from tabvae import load

    df, model = _ar_model()
    out = model.sample(400, random_state=3)
    pd.testing.assert_frame_equal(out, model.sample(400, random_state=3))
    assert list(out.dtypes) == list(df.dtypes)
    assert (model.sample(100, conditions={"object": "red"}, random_state=0)["object"] == "red").all()
    model.save(tmp_path / "ar.tabvae")
    twin = load(tmp_path / "ar.tabvae")
    pd.testing.assert_frame_equal(out, twin.sample(400, random_state=3))
    np.testing.assert_allclose(model.score_samples(df.head(20)), twin.score_samples(df.head(20)))


def test_autoregressive_decoder_edge_cases():
    from tabvae import TabularVAE, TabularVAEAnomalyDetector

    rng = np.random.RandomState(0)
    # One column: nothing precedes anything, so there is no masked network.
    one = pd.DataFrame({"x": rng.normal(size=200)})
    m = TabularVAE(epochs=2, random_state=0).fit(one)
    assert m.model_.ar is None
    assert m.sample(50, random_state=0)["x"].between(one.x.min(), one.x.max()).all()

    # bf16 training, early stopping, latent round trip and anomaly scores all go through the masked decoder.
    df = pd.DataFrame(
        {
            "a": rng.normal(size=300),
            "b": rng.choice(list("pqr"), 300),
            "c": pd.array(np.where(rng.rand(300) < 0.2, None, rng.randint(0, 9, 300)), dtype="Int64"),
        }
    )
    m = TabularVAE(
        epochs=4,
        early_stopping=True,
        random_state=0,
        config={"decoder": "autoregressive", "precision": "bf16", "n_iter_no_change": 2},
    ).fit(df)
    back = m.inverse_transform(m.transform(df.head(20)))
    assert list(back.dtypes) == list(df.dtypes) and back["b"].isin(list("pqr")).all()
    det = TabularVAEAnomalyDetector(vae=TabularVAE(epochs=3, config={"decoder": "autoregressive"}), random_state=0).fit(
        df
    )
    assert np.isfinite(det.score_samples(df.head(30))).all()


def test_missing_and_spike_rows_add_nothing_to_the_gaussian_likelihood():
    # The placeholder z of a missing or spike value is not data: whatever it is, the
    # row's Gaussian term is 0 and only the state's categorical term counts.
    from tabvae import TabularVAE

    rng = np.random.RandomState(0)
    gain = np.where(rng.rand(400) < 0.95, 0.0, rng.randint(100, 10**4, 400))
    gain[:20] = np.nan
    df = pd.DataFrame({"gain": gain, "age": rng.randint(18, 90, 400)})
    # discrete_levels=0: with so few distinct amounts, gain would otherwise be modelled as codes.
    model = TabularVAE(
        epochs=2, latent_dim=4, config={"hidden_dims": (16,), "discrete_levels": 0}, random_state=0, device="cpu"
    ).fit(df)
    vae = model.model_
    assert vae.cfg.value_gates == (0, -1)  # gain's state part gates its value; age has none
    cont, codes = (torch.as_tensor(a) for a in model.encoder_.transform(df))
    cont = cont.float()
    mean, logits = torch.zeros_like(cont), torch.zeros(len(df), sum(vae.cfg.cardinalities))
    nll = vae.reconstruction_nll(cont, codes, mean, logits)
    state = codes[:, 0]
    assert (nll[state > 0, 0] == 0).all() and (nll[state == 0, 0] != 0).all()
    moved = vae.reconstruction_nll(cont + 5.0, codes, mean, logits)
    assert torch.equal(moved[state > 0, 0], nll[state > 0, 0])


def test_a_table_of_constants_fits_every_time():
    # Linear layers with no inputs keep a zero bias (PyTorch's scheme), not uninitialised memory.
    from tabvae import TabularVAE

    df = pd.DataFrame({"a": [np.nan] * 25, "b": ["x"] * 25})
    for seed in range(6):
        model = TabularVAE(epochs=1, random_state=seed).fit(df)
        assert np.isfinite(model.history_["loss"]).all()


def test_latent_mixture_draws_on_a_device_follow_the_numpy_draws():
    # On a GPU the mixture is sampled with torch; the distribution is the numpy one's.
    from tabvae.prior import GaussianMixturePrior

    rng = np.random.RandomState(0)
    scale = np.array([3, 1, 0, 2, 0, 1])
    mu, std = rng.normal(size=(2000, 6)) * scale, np.where(scale > 0, 0.3, 1.0) * np.ones((2000, 6))
    prior = GaussianMixturePrior.fit(mu, std, 4, random_state=0)
    assert prior.active.sum() == 4
    host = prior.sample(100_000, np.random.RandomState(1))
    device = prior.sample_on(100_000, torch.Generator().manual_seed(1)).numpy()
    assert device.shape == host.shape and device.dtype == np.float32
    np.testing.assert_allclose(device.mean(0), host.mean(0), atol=0.05)
    np.testing.assert_allclose(np.cov(device.T), np.cov(host.T), atol=0.1)
