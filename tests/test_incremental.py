"""Incremental, parallel and cross-corpus runs (cleaner.runner through the CLI and the library).

A second run with nothing changed does nothing and leaves OUT untouched,
modification times included; adding a file reprocesses that file only (and
the corpus-level steps); an edited rule set reprocesses every file; the
output is the same for any --jobs; --against finds copies in an earlier
output folder.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cleaner.rules import load_rules
from cleaner.runner import RunOptions, run_corpus
from conftest import RAW, invoke, tree

SEEDS = sorted(RAW.glob("*.txt"))


def times(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def copy_seeds(dest: Path, count: int = len(SEEDS)) -> Path:
    dest.mkdir(parents=True)
    for path in SEEDS[:count]:
        shutil.copyfile(path, dest / path.name)
    return dest


def run_library(raw: Path, out: Path, cache: Path, options: RunOptions | None = None):
    return run_corpus(raw, out, options or RunOptions(ruleset=load_rules()), jobs=1, cache_dir=cache)


def test_second_run_changes_nothing_not_even_times(tmp_path):
    raw = copy_seeds(tmp_path / "raw")
    out = tmp_path / "out"
    first = invoke("run", raw, out, "--quiet")
    assert first.exit_code == 0, first.output
    before, stamps = tree(out), times(out)
    os.utime(out / "report.md", ns=(1, stamps["report.md"]))  # atime only: not a change
    second = invoke("run", raw, out)
    assert second.exit_code == 0, second.output
    assert "(unchanged)" in second.stdout
    assert tree(out) == before and times(out) == stamps


def test_a_touched_output_is_written_again(tmp_path):
    raw = copy_seeds(tmp_path / "raw", 2)
    out = tmp_path / "out"
    assert invoke("run", raw, out, "--quiet").exit_code == 0
    before = tree(out)
    (out / "report.md").write_text("edited by hand\n", encoding="utf-8")
    result = invoke("run", raw, out)
    assert result.exit_code == 0 and "(unchanged)" not in result.stdout
    assert tree(out) == before


def test_adding_a_file_reprocesses_that_file_only(tmp_path):
    raw = copy_seeds(tmp_path / "raw", 4)
    out, cache = tmp_path / "out", tmp_path / "cache"
    cold = run_library(raw, out, cache)
    assert cold.cache["misses"] == 2 * 4 + 1 and cold.cache["hits"] == 0  # +1: the run record
    shutil.copyfile(SEEDS[4], raw / SEEDS[4].name)
    warm = run_library(raw, out, cache)
    assert not warm.unchanged
    assert warm.cache["misses"] == 2 + 1  # both phases of the new file, and the run record
    assert warm.cache["hits"] == 2 * 4
    fresh = tmp_path / "fresh"
    run_corpus(raw, fresh, RunOptions(ruleset=load_rules()), jobs=1, cache_dir=None)
    assert tree(out) == tree(fresh)


def test_an_edited_rule_set_reprocesses_every_file(tmp_path):
    raw = copy_seeds(tmp_path / "raw", 3)
    rules = tmp_path / "rules"
    shutil.copytree(RAW.parent / "rules", rules)
    out, cache = tmp_path / "out", tmp_path / "cache"
    run_library(raw, out, cache, RunOptions(ruleset=load_rules(rules)))
    again = run_library(raw, out, cache, RunOptions(ruleset=load_rules(rules)))
    assert again.unchanged
    toml = rules / "essay.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = run_library(raw, out, cache, RunOptions(ruleset=load_rules(rules)))
    assert edited.cache["misses"] == 2 * 3 + 1 and edited.cache["hits"] == 0  # +1: the run record


def test_output_is_the_same_for_any_number_of_jobs(tmp_path):
    raw = copy_seeds(tmp_path / "raw")
    outs = []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out{jobs}"
        result = invoke("run", raw, out, "--quiet", "--jobs", jobs, "--no-cache")
        assert result.exit_code == 0, result.output
        outs.append(tree(out))
    assert outs[0] == outs[1] == outs[2]
    assert not (tmp_path / ".cleaner-cache").exists()  # --no-cache writes none


def test_cached_run_equals_uncached_run(tmp_path):
    raw = copy_seeds(tmp_path / "raw")
    invoke("run", raw, tmp_path / "a", "--quiet", "--cache", tmp_path / "c")
    shutil.rmtree(tmp_path / "a")
    assert invoke("run", raw, tmp_path / "a", "--quiet", "--cache", tmp_path / "c").exit_code == 0
    assert invoke("run", raw, tmp_path / "b", "--quiet", "--no-cache").exit_code == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_jobs_must_be_positive(tmp_path):
    result = invoke("run", copy_seeds(tmp_path / "raw", 1), tmp_path / "out", "--jobs", "0")
    assert result.exit_code == 2


# --------------------------------------------------------------------------
# --against an earlier output
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """An earlier output of three seeds, and a new batch: a repost of one of them and a new seed."""
    base = tmp_path_factory.mktemp("against")
    old_raw = copy_seeds(base / "old_raw", 3)
    old = base / "old_clean"
    assert invoke("run", old_raw, old, "--quiet", "--no-cache").exit_code == 0
    new_raw = base / "new_raw"
    new_raw.mkdir()
    text = SEEDS[2].read_text(encoding="utf-8")
    (new_raw / "repost.txt").write_text(text.replace("教育", "教学", 2), encoding="utf-8")
    shutil.copyfile(SEEDS[4], new_raw / SEEDS[4].name)
    return old, new_raw


def test_against_finds_copies_in_the_earlier_corpus(batches, tmp_path):
    old, new_raw = batches
    out = tmp_path / "out"
    result = invoke("run", new_raw, out, "--quiet", "--against", old)
    assert result.exit_code == 0, result.output
    records = {r["source"]: r for r in map(json.loads, (out / "corpus.jsonl").read_text("utf-8").splitlines())}
    assert set(records) == {"repost.txt", SEEDS[4].name}  # the old speeches are not written again
    old_ids = {json.loads(line)["id"] for line in (old / "corpus.jsonl").read_text("utf-8").splitlines()}
    repost = records["repost.txt"]
    assert repost["duplicate_of"] in old_ids and repost["duplicate_of_reference"] is True
    assert records[SEEDS[4].name]["duplicate_of"] is None
    clusters = [json.loads(line) for line in (out / "duplicates.jsonl").read_text("utf-8").splitlines()]
    assert clusters and all(c["members"][0]["reference"] for c in clusters)
    assert all(not m["reference"] for c in clusters for m in c["members"][1:])
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["settings"]["against"]["speeches"] == len(old_ids)
    report = (out / "report.md").read_text("utf-8")
    assert f"in the {len(old_ids)} speeches of `{old}`" in report
    dropped = tmp_path / "dropped"
    assert invoke("run", new_raw, dropped, "--quiet", "--against", old, "--drop-duplicates").exit_code == 0
    kept = [json.loads(line)["source"] for line in (dropped / "corpus.jsonl").read_text("utf-8").splitlines()]
    assert set(kept) == {SEEDS[4].name}


def test_against_a_folder_without_a_corpus_is_refused(batches, tmp_path):
    _, new_raw = batches
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = invoke("run", new_raw, tmp_path / "out", "--against", empty)
    assert result.exit_code == 2
    assert "nothing" in result.stderr and "corpus.jsonl" in result.stderr
    assert not (tmp_path / "out").exists()


def test_adding_a_page_of_a_learned_site_reprocesses_that_page_only(tmp_path):
    from test_templates import invented_sites_corpus
    corpus = invented_sites_corpus()
    raw = tmp_path / "raw"

    def write(page):
        path = raw / page.source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(t for _, t in page.lines) + "\n", encoding="utf-8")

    last = corpus.pages[-1]
    for page in corpus.pages[:-1]:
        write(page)
    out, cache = tmp_path / "out", tmp_path / "cache"
    cold = run_library(raw, out, cache)
    removed = (out / "removed.jsonl").read_text(encoding="utf-8")
    assert '"rule": "template.' in removed  # templates were learned and stripped
    write(last)
    warm = run_library(raw, out, cache)
    files = len(corpus.pages)
    assert cold.cache["misses"] == 2 * (files - 1) + 1
    assert warm.cache["misses"] == 2 + 1 and warm.cache["hits"] == 2 * (files - 1)
    fresh = tmp_path / "fresh"
    run_corpus(raw, fresh, RunOptions(ruleset=load_rules()), jobs=1, cache_dir=None)
    assert tree(out) == tree(fresh)


def test_a_cache_path_that_is_a_file_is_refused(tmp_path):
    raw = copy_seeds(tmp_path / "raw", 1)
    (tmp_path / "afile").write_text("mine\n", encoding="utf-8")
    result = invoke("run", raw, tmp_path / "out", "--cache", tmp_path / "afile")
    assert result.exit_code == 2
    assert "is not a folder" in result.stderr
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "out").exists()


def test_cached_pages_say_which_templates_this_run_used(tmp_path):
    raw = copy_seeds(tmp_path / "raw", 2)
    cache = tmp_path / "cache"
    for options, expected in ((["--templates"], True), (["--no-templates"], False), (["--templates"], True)):
        out = tmp_path / f"out{len(options[0])}"
        result = invoke("run", raw, out, "--quiet", "--cache", cache, *options)
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert bool(manifest["settings"]["templates"]) is expected, options
        fresh = tmp_path / "fresh"
        assert invoke("run", raw, fresh, "--quiet", "--no-cache", *options).exit_code == 0
        assert tree(out) == tree(fresh)
        shutil.rmtree(fresh)


@pytest.mark.parametrize("inside", ["raw", "out"])
def test_a_cache_inside_raw_or_out_is_refused(tmp_path, inside):
    raw = copy_seeds(tmp_path / "raw", 1)
    before = sorted(p.name for p in raw.iterdir())
    result = invoke("run", raw, tmp_path / "out", "--cache", tmp_path / inside / "cache")
    assert result.exit_code == 2
    assert f"is inside {'input' if inside == 'raw' else 'output'}" in result.stderr
    assert sorted(p.name for p in raw.iterdir()) == before
    assert not (tmp_path / "out").exists()


def test_stage_commands_give_the_same_stream_for_any_jobs(tmp_path):
    raw = copy_seeds(tmp_path / "raw")
    streams = {}
    for jobs in ("1", "2"):
        stream = tmp_path / f"decode{jobs}.jsonl"
        assert invoke("decode", raw, stream, "--jobs", jobs).exit_code == 0
        for stage in ("strip", "repair", "normalize", "split"):
            target = tmp_path / f"{stage}{jobs}.jsonl"
            result = invoke(stage, stream, target, "--jobs", jobs)
            assert result.exit_code == 0, result.output
            stream = target
        streams[jobs] = [(tmp_path / f"{s}{jobs}.jsonl").read_bytes()
                         for s in ("decode", "strip", "repair", "normalize", "split")]
    assert streams["1"] == streams["2"]
    assert len(streams["1"][-1].splitlines()) == len(SEEDS)


def test_map_stream_keeps_order_across_chunks():
    from cleaner.batch import map_stream
    items = [str(n) for n in range(23)]
    pages = list(map_stream(_page_named, iter(items), jobs=2, chunk=5))
    assert [p.source for p in pages] == items


def _page_named(source: str):
    from cleaner.model import Page
    return Page(source=source, sha256="", size=0)
