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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def source_stem(source: str) -> str:
    """The raw path without its extension.

    >>> source_stem("a/b.txt"), source_stem("a.b/c")
    ('a/b', 'a.b/c')
    """
    name = source.rsplit("/", 1)[-1]
    return source.rsplit(".", 1)[0] if "." in name.lstrip(".") else source


def unique_stems(sources: Iterable[str]) -> dict[str, str]:
    """Map each source to its id stem; sources whose stems collide keep their extension.

    >>> unique_stems(["x.txt", "x.md", "y.txt"])
    {'x.txt': 'x.txt', 'x.md': 'x.md', 'y.txt': 'y'}
    """
    sources = list(sources)
    counts: dict[str, int] = {}
    for source in sources:
        counts[source_stem(source)] = counts.get(source_stem(source), 0) + 1
    return {s: source_stem(s) if counts[source_stem(s)] == 1 else s for s in sources}


def doc_path(stem: str, n: int) -> str:
    """Where a speech's readable copy goes under ``docs/``.

    >>> doc_path("a/b", 2)
    'docs/a/b.2.txt'
    """
    return f"docs/{stem}.{n}.txt"


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
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; OUT is not
    try:
        yield tmp
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
        try:
            os.replace(tmp, out)
        except BaseException:
            if old is not None:  # put the previous complete output back
                os.replace(old / out.name, out)
                shutil.rmtree(old, ignore_errors=True)
            raise
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
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result is not
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
