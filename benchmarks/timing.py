"""Timing shared by the benchmarks: the least wall time of several passes."""
from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def best_of(fn: Callable[[], T], repeats: int) -> tuple[float, T | None]:
    """Least wall time of ``repeats`` calls, and the last call's result.

    The garbage collector is off while timing, as :mod:`timeit` does.
    """
    best, result = math.inf, None
    gc.collect()
    for _ in range(repeats):
        gc.disable()
        try:
            start = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best, result
