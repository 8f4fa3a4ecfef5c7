"""Crash safety: OUT is always the previous complete output, the new one, or absent.

The first part kills real ``cleaner run`` processes (SIGKILL) on a generated
corpus, pausing them (SIGSTOP) many times before the kill to look at OUT while
nothing moves. The second part tests the pieces of ``store.atomic_dir`` one by one:
an identical output left untouched, leftovers of killed runs removed, a failed
swap that puts the previous output back.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cleaner.store as store
from benchmarks import synth
from cleaner.store import atomic_dir, exchange_dirs, output_snapshot, remove_leftovers, same_tree
from conftest import group_processes, tree

ROOT = Path(__file__).resolve().parents[1]
CLEANER = [sys.executable, "-c", "from cleaner.cli import main; main()"]
PAGES_BEFORE, PAGES_AFTER = 30, 80  # the previous run saw fewer pages than the new one

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and signals")


def run(raw: Path, out: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*CLEANER, "run", str(raw), str(out), "--quiet"], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kwargs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two raw folders (before and after a change) and the complete output of each."""
    base = tmp_path_factory.mktemp("crash")
    pages = synth.build_pages(seed=5, pages=PAGES_AFTER)
    folders = {}
    for name, count in (("before", PAGES_BEFORE), ("after", PAGES_AFTER)):
        raw = base / name / "raw"
        raw.mkdir(parents=True)
        for page in pages[:count]:
            (raw / page.name).write_bytes(page.data)
        out = base / name / "out"
        start = time.monotonic()
        proc = run(raw, out)
        assert proc.wait() == 0, proc.stderr.read().decode()
        folders[name] = (raw, out, time.monotonic() - start)
    before, after = tree(folders["before"][1]), tree(folders["after"][1])
    assert before != after
    return {"before": before, "after": after, "raw": folders["after"][0],
            "reference": folders["before"][1], "seconds": folders["after"][2]}


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def watch(proc: subprocess.Popen, out: Path, allowed: list, until, every: float = 0.03) -> int:
    """Pause ``proc`` every ``every`` seconds and check that OUT is one of ``allowed``,
    until ``until()`` is true or the process ends; return how many pauses looked."""
    looks = 0
    while proc.poll() is None and not until():
        time.sleep(every)
        try:
            proc.send_signal(signal.SIGSTOP)
        except ProcessLookupError:
            break
        while _state(proc.pid) not in ("T", "t", "Z", "gone"):
            time.sleep(0.001)
        try:
            assert tree(out) in allowed, "OUT is neither the previous output, the new one, nor absent"
            looks += 1
        finally:
            proc.send_signal(signal.SIGCONT)
    return looks


def _temp_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.tmp-*")) + sorted(out.parent.glob(f".{out.name}.old-*"))


def _writing(out: Path, what: str):
    """A trigger: true once a temporary output folder holds ``what``."""
    def ready() -> bool:
        return any((tmp / what).exists() for tmp in _temp_folders(out))
    return ready


def test_killed_runs_leave_a_complete_output_and_the_next_run_completes(tmp_path, corpus):
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    allowed = [corpus["before"], corpus["after"], None]
    seconds = corpus["seconds"]
    started = {}

    def after(fraction: float):
        return lambda: time.monotonic() - started["t"] > fraction * seconds

    # From the start of the run to inside the write phase: decoding, cleaning,
    # the temporary folder made, doc files being written, the manifest written.
    triggers = [after(0.2), after(0.6), _writing(out, "docs"), _writing(out, "manifest.json")]
    killed = 0
    for trigger in triggers:
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(corpus["reference"], out)  # the previous complete output
        started["t"] = time.monotonic()
        proc = run(corpus["raw"], out)
        watch(proc, out, allowed, trigger, every=0.01 if trigger in triggers[2:] else 0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        deadline = time.monotonic() + 5
        while group_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert group_processes(proc.pid) == [], "a worker outlived the killed run"
        assert tree(out) in allowed
    assert killed >= 3, "the runs ended before they could be killed: make the corpus bigger"

    # The next run cleans up what the killed ones left and writes the new output.
    proc = run(corpus["raw"], out)
    looks = watch(proc, out, allowed, lambda: False, every=0.05)
    assert proc.wait() == 0, proc.stderr.read().decode()
    assert looks > 0
    assert tree(out) == corpus["after"]
    assert _temp_folders(out) == []
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith(".cleaner-cache")) == ["out"]


def test_a_rerun_with_nothing_changed_leaves_out_untouched(tmp_path, corpus):
    out = tmp_path / "out"
    shutil.copytree(corpus["reference"], out)
    raw = corpus["reference"].parent / "raw"
    snapshot = output_snapshot(out)
    proc = run(raw, out)
    assert proc.wait() == 0, proc.stderr.read().decode()
    assert output_snapshot(out) == snapshot  # names, sizes, modification times, inodes
    assert tree(out) == corpus["before"]


# -- atomic_dir, piece by piece --------------------------------------------------------

def write_output(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text('{"tool": "cleaner"}\n', encoding="utf-8")
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")


def make_output(out: Path, files: dict[str, str]) -> None:
    with atomic_dir(out) as tmp:
        write_output(tmp, files)


FILES = {"corpus.jsonl": "{}\n", "docs/a.1.txt": "标题\n\n正文\n"}


def test_identical_output_keeps_the_old_folder_and_its_times(tmp_path):
    out = tmp_path / "out"
    make_output(out, FILES)
    old = os.stat(out)
    old_snapshot = output_snapshot(out)
    time.sleep(0.01)
    make_output(out, FILES)
    assert os.stat(out).st_ino == old.st_ino and os.stat(out).st_mtime_ns == old.st_mtime_ns
    assert output_snapshot(out) == old_snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("change", ["bytes", "extra file", "missing file", "empty folder"])
def test_any_difference_replaces_the_folder(tmp_path, change):
    out = tmp_path / "out"
    make_output(out, FILES)
    files = dict(FILES)
    with atomic_dir(out) as tmp:
        if change == "bytes":
            files["docs/a.1.txt"] = "标题\n\n正文。\n"
        elif change == "extra file":
            files["docs/b.1.txt"] = "x\n"
        elif change == "missing file":
            del files["docs/a.1.txt"]
        write_output(tmp, files)
        if change == "empty folder":
            (tmp / "docs" / "sub").mkdir()
    expected = {"manifest.json": b'{"tool": "cleaner"}\n', **{k: v.encode() for k, v in files.items()}}
    if change == "empty folder":
        expected["docs/sub/"] = b""
    assert tree(out) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_unchanged_files_keep_their_times_when_others_change(tmp_path):
    out = tmp_path / "out"
    make_output(out, FILES)
    before = {rel: os.stat(out / rel).st_mtime_ns for rel in FILES}
    time.sleep(0.01)
    make_output(out, {**FILES, "corpus.jsonl": "{\"changed\": 1}\n"})
    after = {rel: os.stat(out / rel).st_mtime_ns for rel in FILES}
    assert after["docs/a.1.txt"] == before["docs/a.1.txt"]
    assert after["corpus.jsonl"] != before["corpus.jsonl"]
    assert (out / "corpus.jsonl").read_text(encoding="utf-8") == '{"changed": 1}\n'


def test_same_tree_compares_names_kinds_and_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        write_output(folder, FILES)
    assert same_tree(a, b)
    (b / "docs" / "a.1.txt").write_text("标题\n\n正文\n".replace("正", "政"), encoding="utf-8")
    assert not same_tree(a, b)  # same size, other bytes
    write_output(b, FILES)
    (b / "docs" / "x").mkdir()
    assert not same_tree(a, b)
    (a / "docs" / "x").write_text("", encoding="utf-8")
    assert not same_tree(a, b)  # a file where the other has a folder


def test_leftovers_of_killed_runs_are_removed_but_not_a_live_runs(tmp_path):
    out = tmp_path / "out"
    make_output(out, FILES)
    dead_tmp = tmp_path / ".out.tmp-dead1"
    dead_old = tmp_path / ".out.old-dead2"
    for folder in (dead_tmp, dead_old / "out"):
        folder.mkdir(parents=True)
        write_output(folder, {"docs/half.1.txt": "half"})
    stray_file = tmp_path / ".out.tmp-dead3"
    stray_file.write_text("a file, not a folder", encoding="utf-8")
    live = tmp_path / ".out.tmp-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running cleaner holds it
    others = [tmp_path / ".other.tmp-x", tmp_path / "out.tmp-x", tmp_path / ".out.tmpx"]
    for path in others:
        path.mkdir()
    try:
        make_output(out, {**FILES, "report.md": "new\n"})
        assert not dead_tmp.exists() and not dead_old.exists() and not stray_file.exists()
        assert live.is_dir()
        assert all(path.is_dir() for path in others)
    finally:
        os.close(fd)
    assert remove_leftovers(out) == [live]
    assert tree(out)["report.md"] == b"new\n"


def test_a_temp_folder_taken_by_a_concurrent_cleanup_is_made_again(tmp_path, monkeypatch):
    # Between making its temporary folder and locking it, a run can lose the
    # folder to another run's cleanup of leftovers, which removes it or holds
    # its lock. The run makes another folder instead of failing.
    real_lock, calls, held = store._lock, [], []

    def racing_lock(path, flags=0):
        calls.append(path)
        if len(calls) == 1:
            shutil.rmtree(path)  # removed before the lock
        elif len(calls) == 2:
            held.append(real_lock(path))  # locked by the cleanup
        return real_lock(path, flags)

    monkeypatch.setattr(store, "_lock", racing_lock)
    path, lock = store._temp_dir(tmp_path / "out", "tmp")
    try:
        assert len(calls) == 3 and path == calls[2] and path.is_dir()
        with pytest.raises(BlockingIOError):
            real_lock(path)  # this run holds it
    finally:
        store._unlock(lock)
        store._unlock(held[0])


def test_a_failed_block_leaves_the_previous_output(tmp_path):
    out = tmp_path / "out"
    make_output(out, FILES)
    before = tree(out)
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            write_output(tmp, {"docs/a.1.txt": "half"})
            raise RuntimeError("killed while writing")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_exchange_leaves_the_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_output(out, FILES)
    before = tree(out)

    def failing(a, b):
        raise OSError("exchange failed")

    monkeypatch.setattr(store, "exchange_dirs", failing)
    with pytest.raises(OSError, match="exchange failed"):
        make_output(out, {"docs/b.1.txt": "new"})
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_without_exchange_two_renames_and_a_failed_second_one_restores(tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_output(out, FILES)
    monkeypatch.setattr(store, "exchange_dirs", lambda a, b: False)
    make_output(out, {"docs/b.1.txt": "new"})
    assert tree(out)["docs/b.1.txt"] == b"new" and "docs/a.1.txt" not in tree(out)
    before = tree(out)
    real_replace = os.replace

    def failing_replace(src, dst, *args, **kwargs):
        if Path(src).name.startswith(".out.tmp-") and Path(dst) == out:
            raise OSError("rename failed")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        make_output(out, FILES)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_output(a, {"x": "a"})
    write_output(b, {"x": "b"})
    if not exchange_dirs(a, b):
        pytest.skip("this file system cannot exchange")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_stage_files_are_written_atomically_and_leftovers_removed(tmp_path):
    target = tmp_path / "build" / "pages.jsonl"
    target.parent.mkdir()
    leftover = target.parent / ".pages.jsonl.tmp-dead"
    leftover.write_text("half a li", encoding="utf-8")
    store.write_text_atomic(target, "{}\n")
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["pages.jsonl"]


def test_snapshot_sees_edits_additions_and_removals(tmp_path):
    out = tmp_path / "out"
    make_output(out, FILES)
    snapshot = output_snapshot(out)
    assert output_snapshot(out) == snapshot and "docs/a.1.txt" in snapshot
    (out / "docs" / "a.1.txt").write_text("标题\n\n改过\n", encoding="utf-8")
    assert output_snapshot(out) != snapshot
    snapshot = output_snapshot(out)
    (out / "extra.txt").write_text("", encoding="utf-8")
    assert output_snapshot(out) != snapshot
    assert output_snapshot(tmp_path / "absent") is None
