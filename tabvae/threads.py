"""The number of threads tabvae's own work runs on, set around it and restored after.

torch's intra-op threads and the BLAS/OpenMP threads of NumPy and SciPy
(through threadpoolctl) are limited only while a :class:`~tabvae.TabularVAE`
method runs (fit, sample, transform, score), never for the rest of the
process.  ``"auto"`` is one thread: tabvae's networks are small, so a second
thread gains little on an idle machine and, because OpenMP threads spin-wait
for each other, costs many times over on a busy one
(``docs/decisions/threads.md``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

AUTO_THREADS = 1  # what n_threads="auto" means (docs/decisions/threads.md)

F = TypeVar("F", bound=Callable[..., Any])


def resolve_threads(n_threads: object) -> int:
    """``n_threads`` as a number of threads: an int >= 1, or "auto"; else a ValueError naming it."""
    if isinstance(n_threads, str) and n_threads == "auto":
        return AUTO_THREADS
    if isinstance(n_threads, int) and not isinstance(n_threads, bool) and n_threads >= 1:
        return n_threads
    raise ValueError(f'n_threads must be a positive int or "auto", got {n_threads!r}.')


@contextmanager
def thread_limit(n_threads: object) -> Iterator[None]:
    """Run the block on ``n_threads`` torch and BLAS threads, then restore the previous counts."""
    import torch
    from threadpoolctl import threadpool_limits

    n = resolve_threads(n_threads)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def limit_threads(method: F) -> F:
    """Decorate an estimator method to run under ``thread_limit(self.n_threads)``."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with thread_limit(getattr(self, "n_threads", "auto")):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def limit_threads_iter(method: F) -> F:
    """:func:`limit_threads` for a generator method: the limit holds while each item is made, not between."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        n_threads = getattr(self, "n_threads", "auto")
        resolve_threads(n_threads)  # a bad value fails at the call, not at the first item
        return _limited(method(self, *args, **kwargs), n_threads)

    return wrapper  # type: ignore[return-value]


def _limited(items: Iterator[Any], n_threads: object) -> Iterator[Any]:
    end = object()
    while True:
        with thread_limit(n_threads):
            item = next(items, end)
        if item is end:
            return
        yield item
