"""The ordered parallel map and the per-file result cache (cleaner/batch.py, cleaner/cache.py)."""
from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import cleaner.batch
from cleaner.batch import WorkerError, chunk_size, default_jobs, map_pages
from cleaner.cache import PageCache, digest, file_digest, page_digest, pack, unpack
from cleaner.model import Page
from cleaner.pipeline import clean_page, decode_and_strip, decode_file
from cleaner.rules import load_rules
from cleaner.store import list_inputs
from conftest import RAW, ROOT, group_processes



# Stage functions for the map: module-level, so worker processes can run them.

def decode_and_clean(item: tuple[Path, str], ruleset) -> Page:
    path, source = item
    return clean_page(decode_file(path, source), ruleset)


def named_page(source: str) -> Page:
    return Page(source=source, sha256=digest(source), size=len(source),
                lines=[(1, source * 3)])


def must_not_run(item) -> Page:
    raise AssertionError(f"computed {item!r} although it was cached")


def fails_on_seven(source: str) -> Page:
    if source == "7":
        raise RuntimeError("page 7 is broken")
    return named_page(source)


def dies_on_seven(source: str) -> Page:
    if source == "7":
        os._exit(9)  # as if the system killed the worker (out of memory)
    return named_page(source)


def file_key(item: tuple[Path, str], stage: str, ruleset) -> str | None:
    sha = file_digest(item[0])
    return None if sha is None else digest(stage, item[1], sha, ruleset.digest)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def raw_items(tmp_path_factory):
    """The seed files and a few variants of them, so that a pool gets several chunks."""
    folder = tmp_path_factory.mktemp("raw")
    seeds = sorted(RAW.glob("*.txt"))
    for n in range(4):
        for seed in seeds:
            data = seed.read_bytes()
            (folder / f"{n}_{seed.name}").write_bytes(data[: len(data) * (n + 1) // 4])
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01PK\x03\x04" * 50)
    return list_inputs(folder)


def dicts(pages: list[Page]) -> list[dict]:
    return [p.to_dict() for p in pages]


# -- order and jobs -----------------------------------------------------------------

@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_back_in_input_order(jobs):
    items = [str(n) for n in range(200, 0, -1)]  # not sorted: order is the input's
    pages = map_pages(named_page, items, jobs=jobs)
    assert [p.source for p in pages] == items
    assert dicts(pages) == dicts([named_page(i) for i in items])


def test_jobs_1_and_2_give_identical_pages(raw_items, rules):
    func = functools.partial(decode_and_clean, ruleset=rules)
    one = map_pages(func, raw_items, jobs=1)
    two = map_pages(func, raw_items, jobs=2)
    assert dicts(one) == dicts(two)
    assert [p.source for p in one] == [source for _, source in raw_items]
    assert any(p.speeches for p in one) and any(p.error for p in one)


def test_an_error_in_a_worker_reaches_the_caller():
    with pytest.raises(RuntimeError, match="page 7 is broken"):
        map_pages(fails_on_seven, [str(n) for n in range(40)], jobs=2)


def test_progress_sees_every_page_in_order_and_the_total():
    seen, totals = [], []

    def progress(stream):
        totals.append(len(stream))
        for page in stream:
            seen.append(page.source)
            yield page

    items = [str(n) for n in range(30)]
    pages = map_pages(named_page, items, jobs=2, progress=progress)
    assert seen == items == [p.source for p in pages]
    assert totals == [30]


def test_jobs_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        map_pages(named_page, ["a"], jobs=0)


def test_default_jobs_is_the_usable_cpus():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_jobs() == expected >= 1


def test_chunks_are_small_enough_to_balance_and_never_empty():
    assert chunk_size(1, 2) == 1
    assert chunk_size(16, 2) == 1
    assert chunk_size(10_000, 2) == 32


# -- the cache ------------------------------------------------------------------------

def test_second_run_reads_everything_from_the_cache(tmp_path, raw_items, rules):
    key = functools.partial(file_key, stage="strip", ruleset=rules)
    cache = PageCache(tmp_path / "cache")
    first = map_pages(functools.partial(decode_and_strip, ruleset=rules), raw_items,
                      key=key, jobs=2, cache=cache)
    assert cache.stats()["misses"] == len(raw_items) and cache.stats()["hits"] == 0

    again = PageCache(tmp_path / "cache")
    second = map_pages(must_not_run, raw_items, key=key, jobs=2, cache=again)
    assert again.stats() == {"hits": len(raw_items), "misses": 0, "writes": 0, "failed_writes": 0}
    assert dicts(second) == dicts(first)


def test_cached_pages_equal_computed_ones_for_any_jobs(tmp_path, raw_items, rules):
    func = functools.partial(decode_and_clean, ruleset=rules)
    key = functools.partial(file_key, stage="clean", ruleset=rules)
    plain = dicts([func(item) for item in raw_items])
    for jobs in (1, 2):
        for _ in range(2):  # cold, then warm
            cache = PageCache(tmp_path / f"cache{jobs}")
            assert dicts(map_pages(func, raw_items, key=key, jobs=jobs, cache=cache)) == plain


def test_a_changed_key_is_a_miss(tmp_path):
    cache = PageCache(tmp_path / "cache")
    items = ["a", "b", "c"]
    map_pages(named_page, items, key=lambda s: digest("v1", s), cache=cache, jobs=1)
    cache = PageCache(tmp_path / "cache")
    pages = map_pages(named_page, items, key=lambda s: digest("v1" if s != "b" else "v2", s),
                      cache=cache, jobs=1)
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 1
    assert [p.source for p in pages] == items


def test_items_without_a_key_are_computed_every_time(tmp_path):
    cache = PageCache(tmp_path / "cache")
    map_pages(named_page, ["a", "b"], key=lambda s: None, cache=cache, jobs=1)
    assert cache.stats() == {"hits": 0, "misses": 0, "writes": 0, "failed_writes": 0}
    assert not (tmp_path / "cache").exists()


def _entry_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "CACHEDIR.TAG")


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage", "not-a-page"])
def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path, damage):
    folder = tmp_path / "cache"
    items = [str(n) for n in range(5)]
    key = functools.partial(digest, "named")
    map_pages(named_page, items, key=key, cache=PageCache(folder), jobs=1)
    entries = _entry_files(folder)
    assert len(entries) == 5
    victim = PageCache(folder)._path(PageCache(folder)._name(key("3")))
    data = victim.read_bytes()
    victim.write_bytes({
        "truncate": data[: len(data) // 2],
        "flip": data[:-1] + bytes([data[-1] ^ 0x55]),
        "empty": b"",
        "garbage": os.urandom(len(data)),
        "not-a-page": pack({"source": "3"}),  # a sound entry of the wrong shape
    }[damage])

    cache = PageCache(folder)
    pages = map_pages(named_page, items, key=key, cache=cache, jobs=1)
    assert dicts(pages) == dicts([named_page(i) for i in items])
    assert cache.stats()["hits"] == 4 and cache.stats()["misses"] == 1
    assert PageCache(folder).get(key("3")) == named_page("3")  # written again, whole


def test_pack_refuses_damage():
    blob = pack({"a": "讲话"})
    assert unpack(blob) == {"a": "讲话"}
    for bad in (blob[:-1], blob + b"x", b"x" + blob[1:], blob[:10]):
        with pytest.raises(ValueError):
            unpack(bad)


def test_a_failed_write_is_ignored(tmp_path):
    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where the cache folder should be", encoding="utf-8")
    cache = PageCache(folder)
    pages = map_pages(named_page, ["a", "b"], key=functools.partial(digest, "k"), cache=cache, jobs=1)
    assert [p.source for p in pages] == ["a", "b"]
    assert cache.stats()["failed_writes"] == 2


def test_entries_of_another_version_are_not_read(tmp_path):
    folder = tmp_path / "cache"
    PageCache(folder, version="0.0.1").put("k", named_page("a"))
    assert PageCache(folder, version="0.0.1").get("k") == named_page("a")
    assert PageCache(folder, version="0.0.2").get("k") is None


def test_prune_keeps_what_the_run_used_and_nothing_else(tmp_path):
    folder = tmp_path / "cache"
    key = functools.partial(digest, "named")
    map_pages(named_page, ["a", "b", "c", "d"], key=key, cache=PageCache(folder), jobs=2)
    stray = folder / "ab" / ".tmp-left-by-a-killed-run"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"half an entr")

    cache = PageCache(folder)
    map_pages(named_page, ["b", "d", "e"], key=key, cache=cache, jobs=2)  # e is new
    cache.put_record("run", {"files": 3})
    assert cache.prune() == 3  # a, c and the stray temporary file
    left = PageCache(folder)
    assert [left.get(key(s)) is not None for s in "abcde"] == [False, True, False, True, True]
    assert left.get_record("run") == {"files": 3}
    assert not stray.exists()
    assert (folder / "CACHEDIR.TAG").read_text(encoding="utf-8").startswith("Signature: 8a477f59")


def test_records_hold_plain_data(tmp_path):
    cache = PageCache(tmp_path / "cache")
    record = {"snapshot": {"corpus.jsonl": [10, 123456789012345678, 42]}, "code": 1,
              "failed": ["a b.txt"], "ratio": 0.5, "none": None}
    cache.put_record("r", record)
    assert PageCache(tmp_path / "cache").get_record("r") == record
    assert cache.get_record("missing") is None
    cache.put("p", named_page("x"))
    assert cache.get_record("p") is not None  # a page is a record too, as a dict
    cache.put_record("list", [1, 2])  # not a dict: stored, but not a record
    assert cache.get_record("list") is None


def test_digests_tell_parts_and_pages_apart():
    assert digest("a", "bc") != digest("ab", "c")
    assert digest("strip", "x") != digest("clean", "x")
    a, b = named_page("a"), named_page("a")
    assert page_digest(a) == page_digest(b)
    b.lines.append((2, "one more line"))
    assert page_digest(a) != page_digest(b)


def test_file_digest_is_the_sha256_and_none_for_what_cannot_be_read(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 3_000_000)
    import hashlib
    assert file_digest(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert file_digest(tmp_path / "missing.txt") is None
    assert file_digest(tmp_path) is None
    os.mkfifo(tmp_path / "pipe")
    assert file_digest(tmp_path / "pipe") is None  # never blocks


# -- workers do not outlive a killed run ---------------------------------------------------

_KILLED_PARENT = textwrap.dedent("""
    import sys, time
    from cleaner.batch import map_pages
    sys.path.insert(0, {tests!r})
    from test_batch import slow_page
    print("started", flush=True)
    map_pages(slow_page, [str(n) for n in range(40)], jobs=2)
""")


def slow_page(source: str) -> Page:
    time.sleep(0.5)
    return named_page(source)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are tied to the parent on Linux")
def test_workers_die_with_a_killed_parent():
    script = _KILLED_PARENT.format(tests=str(Path(__file__).parent))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            start_new_session=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == b"started"
    time.sleep(1.0)  # the workers are busy now
    group = proc.pid
    assert len(group_processes(group)) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while group_processes(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_processes(group) == []


# -- a worker that dies, a system without process pools ----------------------------------

def test_a_dead_worker_is_a_clear_error():
    with pytest.raises(WorkerError, match="--jobs 1"):
        map_pages(dies_on_seven, [str(n) for n in range(40)], jobs=2)


def test_without_process_pools_the_map_runs_in_one_process(monkeypatch):
    monkeypatch.setattr(cleaner.batch, "_pools_work", lambda: False)
    items = [str(n) for n in range(40)]
    with pytest.warns(RuntimeWarning, match="one process"):
        pages = map_pages(named_page, items, jobs=2)
    assert [p.source for p in pages] == items
