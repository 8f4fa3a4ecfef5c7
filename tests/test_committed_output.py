"""The committed clean/ must be exactly what `cleaner run raw clean` writes today."""
from __future__ import annotations

from pathlib import Path

from cleaner.dedup import DedupSettings
from cleaner.pipeline import clean_page, decode_file, write_output
from cleaner.store import list_inputs
from conftest import RAW, ROOT


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_clean_is_fresh(tmp_path, ruleset):
    pages = [clean_page(decode_file(path, source), ruleset) for path, source in list_inputs(RAW)]
    write_output(pages, tmp_path / "clean", DedupSettings())
    fresh, committed = _tree(tmp_path / "clean"), _tree(ROOT / "clean")
    assert sorted(committed) == sorted(fresh), "clean/ has different files: run `make run` and commit"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"clean/ is stale ({stale[:3]}): run `make run` and commit"
