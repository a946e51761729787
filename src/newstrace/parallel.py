"""Running a stage's per-batch function in worker processes, keeping the input order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def ordered_map(fn: Callable[..., Any], items: Iterable[Any], workers: int = 1) -> Iterator[Any]:
    """``fn`` over ``items``, results in input order; with ``workers`` > 1, in forked processes.

    Only ``2 * workers`` items are in flight, so a large input is not read ahead of the workers.
    Forked workers share this process's string-hash secret, so hashes they compute agree.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
