"""Reading raw trees and writing output atomically.

Output goes to a temporary folder beside OUT and is swapped in at the end, so
a run that is killed leaves the previous complete output (or none), never a
half-written one. Nothing is ever written inside RAW.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UsageError


def list_inputs(raw: Path) -> list[tuple[Path, str]]:
    """Every regular file under ``raw`` with its relative POSIX path, sorted.

    Hidden files and folders (a leading dot) are skipped.
    """
    raw = Path(raw)
    if raw.is_file():
        return [(raw, raw.name)]
    if not raw.is_dir():
        raise UsageError(f"{raw}: no such folder")
    found = []
    for dirpath, dirnames, filenames in os.walk(raw):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            found.append((path, path.relative_to(raw).as_posix()))
    return sorted(found, key=lambda item: item[1])


def speech_id(source: str, n: int) -> str:
    """``<source without extension>#<n>``: the contract's stable speech id.

    >>> speech_id("a/b.txt", 2)
    'a/b#2'
    """
    stem = source.rsplit(".", 1)[0] if "." in source.rsplit("/", 1)[-1] else source
    return f"{stem}#{n}"


def doc_path(source: str, n: int) -> str:
    """Where a speech's readable copy goes under ``docs/``.

    >>> doc_path("a/b.txt", 2)
    'docs/a/b.2.txt'
    """
    return "docs/" + speech_id(source, n).replace("#", ".") + ".txt"


def check_layout(raw: Path, out: Path) -> None:
    """Refuse an output folder that is, or lies inside, the input, or contains it."""
    raw_r, out_r = Path(raw).resolve(), Path(out).resolve()
    if out_r == raw_r or raw_r in out_r.parents:
        raise UsageError(f"output {out} is inside input {raw}: the input is never written to")
    if out_r in raw_r.parents:
        raise UsageError(f"input {raw} is inside output {out}: it would be replaced")


@contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a fresh folder that replaces ``out`` only if the block succeeds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def dump_jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
