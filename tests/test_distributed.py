"""Data-parallel training: a real 2-process launch on CPU with the gloo backend."""

import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import make_mixed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank)
    )
    torch.set_num_threads(1)
    from tabvae import TabularVAE
    from tabvae.distributed import fit_distributed

    dist.init_process_group("gloo", rank=rank, world_size=world)
    df = make_mixed(400)
    model = fit_distributed(
        TabularVAE(epochs=4, batch_size=100, latent_dim=4, config={"hidden_dims": (32,)}, device="cpu", random_state=0),
        df,
    )
    weights = torch.cat([p.detach().flatten() for p in model.model_.parameters()])
    torch.save({"history": model.history_, "weights": weights}, os.path.join(out, f"rank{rank}.pt"))
    if rank == 0:
        model.save(os.path.join(out, "model.tabvae"))
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")
def test_two_process_gloo_training(tmp_path):
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["history"] == r1["history"]  # losses are all-reduced: every rank reports the same
    assert len(r0["history"]["loss"]) == 4 and all(np.isfinite(r0["history"]["loss"]))
    torch.testing.assert_close(r0["weights"], r1["weights"])  # DDP keeps replicas identical

    from tabvae import load

    model = load(tmp_path / "model.tabvae")
    df = make_mixed(400)
    # Rank 0's column encoders are the ones a single-process fit builds (discrete codes included).
    from tabvae import TabularVAE

    single = TabularVAE(epochs=1, batch_size=100, latent_dim=4, config={"hidden_dims": (32,)}, random_state=0).fit(df)
    assert model.encoder_.get_state() == single.encoder_.get_state()
    out = model.sample(300, random_state=0)
    assert list(out.columns) == list(df.columns)
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
