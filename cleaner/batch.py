"""Run a per-file stage over many items: in order, in parallel, through a cache.

:func:`map_pages` is the one loop both phases of a run go through: decode and
strip every raw file, then (after the corpus-level steps) finish every page.
It looks each item's key up in the cache, computes the misses (in this
process, or in a pool of worker processes), stores what it computed, and
returns the pages in input order. The output never depends on ``jobs`` or on
what the cache held: a stage is a pure function of its input, and a cached
page is the same page (``Page.to_dict``/``from_dict`` round-trip exactly).
"""
from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from functools import lru_cache
from typing import Generic, TypeVar

from .cache import PageCache, pack, unpack
from .errors import CleanerError
from .model import Page

T = TypeVar("T")


class WorkerError(CleanerError):
    """A worker process died before it returned its pages."""


@lru_cache(maxsize=1)
def _pools_work() -> bool:
    """Whether this system can run a process pool (it needs working semaphores,
    which some sandboxes and containers lack)."""
    try:
        import multiprocessing

        multiprocessing.get_context().Lock()
    except (OSError, ImportError, NotImplementedError):
        return False
    return True

# Items sent to a worker at once: enough to amortize the round trip, few
# enough that the last chunks balance the workers' loads.
MAX_CHUNK = 32
CHUNKS_PER_JOB = 8


def default_jobs() -> int:
    """The processors this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def chunk_size(items: int, jobs: int) -> int:
    """How many items go to a worker at once.

    >>> chunk_size(1000, 2), chunk_size(10, 2), chunk_size(1, 4), chunk_size(100000, 8)
    (32, 1, 1, 32)
    """
    return max(1, min(MAX_CHUNK, math.ceil(items / (jobs * CHUNKS_PER_JOB))))


# -- worker side -----------------------------------------------------------------

_func: Callable | None = None
_cache: PageCache | None = None


def _start_worker(func: Callable, cache: PageCache | None, parent: int) -> None:
    global _func, _cache
    _func, _cache = func, cache
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when the process that started it dies.

    A run killed with SIGKILL cannot stop its workers; without this they
    would finish their chunk for nobody.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _run_chunk(chunk: list[tuple[object, str | None]]) -> list[bytes]:
    """Compute one chunk in a worker; each page goes back (and into the cache) as one entry."""
    blobs = []
    for item, key in chunk:
        blob = pack(_func(item).to_dict())
        if key is not None and _cache is not None:
            _cache.put_packed(key, blob)
        blobs.append(blob)
    return blobs


# -- caller side -------------------------------------------------------------------

class _Ordered(Generic[T]):
    """An iterator with a length, so that a progress bar knows the total."""

    def __init__(self, it: Iterator[T], length: int) -> None:
        self._it, self._length = it, length

    def __iter__(self) -> Iterator[T]:
        return self._it

    def __len__(self) -> int:
        return self._length


def map_pages(
    func: Callable[[T], Page],
    items: Sequence[T],
    key: Callable[[T], str | None] | None = None,
    jobs: int | None = None,
    cache: PageCache | None = None,
    progress: Callable[[Iterable[Page]], Iterable[Page]] | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[Page]:
    """``[func(item) for item in items]``, in order, computed in parallel and cached.

    - ``func`` must be picklable (a module-level function, or a
      :func:`functools.partial` of one) when ``jobs`` > 1.
    - ``key(item)`` names the item's result in ``cache``; it must change
      whenever the result could (the file's sha256, the rule-set digest, the
      settings, the stage: see :func:`cleaner.cache.digest`). None means
      "do not cache this item". Without ``cache`` or ``key`` nothing is cached.
    - ``jobs``: worker processes (default :func:`default_jobs`); 1 computes in
      this process, without a pool. The pages are the same for any ``jobs``.
    - ``progress`` wraps the stream of finished pages (in order), e.g. a
      progress bar; the stream has a length.
    - ``pool``: a pool already started for ``func`` (see :func:`map_stream`),
      used instead of starting one and left open.

    An exception raised by ``func`` stops the map and is raised here.
    """
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    items = list(items)
    keys = [key(item) if key is not None and cache is not None else None for item in items]
    if cache is not None:
        cache.mark(keys)
    stream = _Ordered(_results(func, items, keys, jobs, cache, pool), len(items))
    return list(progress(stream) if progress is not None else stream)


def _results(func: Callable[[T], Page], items: list[T], keys: list[str | None], jobs: int,
             cache: PageCache | None, pool: ProcessPoolExecutor | None = None) -> Iterator[Page]:
    """The pages in input order: cached ones read here, the others computed."""
    found: list[Page | None] = [
        cache.get(k) if cache is not None and k is not None else None for k in keys]
    missing = [i for i, page in enumerate(found) if page is None]
    if jobs > 1 and len(missing) >= 2 and not _pools_work():
        warnings.warn("worker processes cannot be started here; running in one process",
                      RuntimeWarning, stacklevel=3)
        jobs = 1
    if jobs == 1 or len(missing) < 2:
        for i, item in enumerate(items):
            page = found[i]
            if page is None:
                page = func(item)
                if cache is not None and keys[i] is not None:
                    cache.put(keys[i], page)
            found[i] = None  # hand each page over once; the caller keeps the list
            yield page
        return
    size = chunk_size(len(missing), jobs)
    chunks = [missing[start:start + size] for start in range(0, len(missing), size)]
    owned = pool is None  # started here, for this map only
    with _start_pool(func, cache, min(jobs, len(chunks))) if owned else nullcontext(pool) as pool:
        futures: dict[int, tuple[list[int], Future]] = {}
        for chunk in chunks:
            future = pool.submit(_run_chunk, [(items[i], keys[i]) for i in chunk])
            futures[chunk[0]] = (chunk, future)
        try:
            pending: dict[int, bytes] = {}
            for i in range(len(items)):
                if found[i] is not None:
                    page, found[i] = found[i], None
                    yield page
                    continue
                if i not in pending:
                    chunk, future = futures.pop(i)
                    pending.update(zip(chunk, future.result()))
                yield Page.from_dict(unpack(pending.pop(i)))
        except BrokenProcessPool:
            raise WorkerError("a worker process died (killed, or out of memory); "
                              "run again with --jobs 1 to see which file") from None
        except BaseException:
            for _, future in futures.values():
                future.cancel()
            raise


def _start_pool(func: Callable, cache: PageCache | None, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_start_worker,
                               initargs=(func, cache, os.getpid()))


STREAM_CHUNK = 256  # items per parallel map when streaming


def map_stream(func: Callable[[T], Page], items: Iterable[T], jobs: int | None = None,
               chunk: int = STREAM_CHUNK) -> Iterator[Page]:
    """:func:`map_pages` over a stream, ``chunk`` items at a time: the results
    come out in order and as they are done, and only a chunk is held."""
    jobs = default_jobs() if jobs is None else jobs
    # One pool for the whole stream, not one per chunk.
    pool = _start_pool(func, None, jobs) if jobs > 1 and _pools_work() else None
    with nullcontext() if pool is None else pool:
        batch: list[T] = []
        for item in items:
            batch.append(item)
            if len(batch) >= chunk:
                yield from map_pages(func, batch, jobs=jobs, pool=pool)
                batch = []
        if batch:
            yield from map_pages(func, batch, jobs=jobs, pool=pool)
