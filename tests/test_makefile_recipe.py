"""The Makefile recipe of docs/makefile.md, run for real with make -j2.

The recipe is taken from the document itself, so the documented text is what
is tested: it must write the same folder as ``cleaner run``, rerun nothing
when nothing changed, and rerun only strip and later stages after a rule edit.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "makefile.md"
STAGES = ["pages", "templates", "stripped", "repaired", "normalized", "speeches"]

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("sha256sum") is None,
                                reason="needs GNU make and coreutils")


def recipe() -> str:
    """The first ``make`` code block of docs/makefile.md."""
    blocks = re.findall(r"```make\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/makefile.md has no make block"
    return blocks[0]


def cleaner_command() -> str:
    script = Path(sys.executable).with_name("cleaner")
    if script.exists():
        return str(script)
    return f"{sys.executable} -c 'from cleaner.cli import main; main()'"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def times(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path):
    """A data-prep folder: raw files (one with a space and a # in its name), rules,
    the recipe as its Makefile and a target of its own built from the output."""
    shutil.copytree(ROOT / "raw", tmp_path / "raw")
    os.rename(tmp_path / "raw" / "001_8397a770520427d1.txt", tmp_path / "raw" / "第 1#篇.txt")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    consumer = "\nlines.txt: clean/corpus.jsonl\n\twc -l < $< > $@\n"
    (tmp_path / "Makefile").write_text(recipe() + consumer, encoding="utf-8")
    return tmp_path


def make(folder: Path, *targets: str) -> str:
    done = subprocess.run(["make", "-j2", f"CLEANER={cleaner_command()}", *targets], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def ran(stdout: str) -> list[str]:
    """The cleaner commands make ran, in order."""
    return re.findall(r"^\S*(?:cleaner|main\(\)')\s+(\w+)", stdout, re.M)


def test_recipe_writes_what_cleaner_run_writes_and_reruns_only_what_changed(project):
    out = make(project, "cleaner-all", "lines.txt")
    assert sorted(ran(out)[:2]) == ["decode", "templates"]  # side by side with -j2
    assert ran(out)[2:] == ["strip", "repair", "normalize", "split", "dedup"]
    reference = project / "reference"
    subprocess.run([sys.executable, "-c", "from cleaner.cli import main; main()",
                    "run", "raw", str(reference), "--rules", "rules", "--quiet"],
                   cwd=project, check=True)
    assert tree(project / "clean") == tree(reference)

    # Nothing changed, a raw file touched: no stage reruns, no file is rewritten.
    build, clean = times(project / "build"), times(project / "clean")
    os.utime(project / "raw" / "第 1#篇.txt")
    assert ran(make(project, "cleaner-all", "lines.txt")) == []
    assert times(project / "build") == build and times(project / "clean") == clean

    # A rule file edited: templates, strip and the stages after it rerun, decode
    # does not; only the manifest and the reports change (they name the rule-set
    # digest), the other output files keep their times, and lines.txt is not remade.
    lines_time = (project / "lines.txt").stat().st_mtime_ns
    with open(project / "rules" / "essay.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# an edit that changes no rule\n")
    assert ran(make(project, "cleaner-all", "lines.txt")) == ["templates", "strip", "repair",
                                                              "normalize", "split", "dedup"]
    after = times(project / "build")
    assert after["pages.jsonl"] == build["pages.jsonl"]
    assert all(after[f"{stage}.jsonl"] != build[f"{stage}.jsonl"] for stage in STAGES[2:])
    changed = {rel for rel, t in times(project / "clean").items() if clean.get(rel) != t}
    assert "manifest.json" in changed
    assert all(rel == "manifest.json" or rel.startswith("report.") for rel in changed), changed
    assert (project / "lines.txt").stat().st_mtime_ns == lines_time

    # A new raw file: everything reruns from decode.
    shutil.copyfile(project / "raw" / "第 1#篇.txt", project / "raw" / "copy.txt")
    out = make(project, "cleaner-all")
    assert sorted(ran(out)[:2]) == ["decode", "templates"]
    assert ran(out)[2:] == ["strip", "repair", "normalize", "split", "dedup"]
    sources = {json.loads(line)["source"]
               for line in (project / "clean" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()}
    assert {"copy.txt", "第 1#篇.txt"} <= sources

    # No temporary file is left anywhere.
    leftovers = [p for p in project.rglob(".*") if ".tmp" in p.name]
    assert leftovers == [] and not list((project / "build").glob("*.tmp"))


def test_the_project_makefile_includes_the_documented_recipe():
    assert (ROOT / "cleaner.mk").read_text(encoding="utf-8") == recipe()
    assert "include cleaner.mk" in (ROOT / "Makefile").read_text(encoding="utf-8")
