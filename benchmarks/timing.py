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


def best_of_each(fns: dict[str, Callable[[], T]],
                 repeats: int) -> dict[str, tuple[float, T | None]]:
    """Least wall time of each function, and its last result, over ``repeats`` rounds.

    Every round calls every function once, starting one further along each
    time, so all of them share the machine's quiet and busy moments alike: a
    neighbour's burst cannot land on one arm alone and skew a ratio. As in
    :func:`best_of`, the garbage collector is off while timing; the previous
    result of a function is freed before it is timed again.
    """
    names = list(fns)
    best = dict.fromkeys(names, math.inf)
    results: dict[str, T | None] = dict.fromkeys(names)
    gc.collect()
    for round_ in range(repeats):
        for i in range(len(names)):
            name = names[(round_ + i) % len(names)]
            results[name] = out = None  # the previous result is freed outside the timing
            gc.disable()
            try:
                start = time.perf_counter()
                out = fns[name]()
                best[name] = min(best[name], time.perf_counter() - start)
            finally:
                gc.enable()
            results[name] = out
    return {name: (best[name], results[name]) for name in names}
