"""Shared fixtures: the project's own seed copies and one cleaned run of them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cleaner.cli import app
from cleaner.pipeline import clean_page, decode_file
from cleaner.rules import load_rules
from cleaner.store import list_inputs

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
SEED_NAMES = sorted(p.name for p in RAW.glob("*.txt"))


def tree(folder: Path) -> dict[str, bytes] | None:
    """Every file under ``folder`` (relative POSIX path → bytes), empty folders as
    ``name/``; None when ``folder`` does not exist."""
    if not folder.exists():
        return None
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file():
            found[rel] = path.read_bytes()
        elif path.is_dir() and not any(path.iterdir()):
            found[rel + "/"] = b""
    return found


def invoke(*args, **kwargs):
    """``cleaner ARGS...`` in this process, each argument as a string."""
    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def group_processes(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="session")
def ruleset():
    return load_rules()


@pytest.fixture(scope="session")
def seed_pages(ruleset):
    """Every seed page run through decode → strip → normalize → split, by file name."""
    return {source: clean_page(decode_file(path, source), ruleset)
            for path, source in list_inputs(RAW)}
