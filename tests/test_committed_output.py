"""The committed clean/ must be exactly what `cleaner run raw clean` writes today."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cleaner.cli import app
from conftest import RAW, ROOT


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_clean_is_fresh(tmp_path):
    result = CliRunner().invoke(app, ["run", str(RAW), str(tmp_path / "clean"), "--quiet"])
    assert result.exit_code == 0, result.output
    fresh, committed = _tree(tmp_path / "clean"), _tree(ROOT / "clean")
    assert sorted(committed) == sorted(fresh), "clean/ has different files: run `make run` and commit"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"clean/ is stale ({stale[:3]}): run `make run` and commit"
