import pytest
import torch
from conftest import make_mixed

from tabvae import TabularVAE
from tabvae.threads import resolve_threads, thread_limit


def test_threads_are_set_around_the_work_and_restored():
    before = torch.get_num_threads()
    seen = []
    model = TabularVAE(epochs=1, n_threads=1, random_state=0)
    original = model._encoder_for

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    model._encoder_for = spy
    torch.set_num_threads(2)
    try:
        model.fit(make_mixed(100))
        assert seen == [1] and torch.get_num_threads() == 2
        chunks = model.iter_samples(6, chunk_size=3)
        next(chunks)
        assert torch.get_num_threads() == 2  # not held between chunks
        model.sample(3)
        model.transform(make_mixed(10))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_n_threads_values():
    assert resolve_threads("auto") == 1 and resolve_threads(3) == 3
    for bad in [0, -1, 1.5, True, "two", None]:
        with pytest.raises(ValueError, match='n_threads must be a positive int or "auto"'):
            resolve_threads(bad)
    with pytest.raises(ValueError, match="n_threads"):
        TabularVAE(n_threads=0).fit(make_mixed(50))
    with thread_limit(1):
        assert torch.get_num_threads() == 1
