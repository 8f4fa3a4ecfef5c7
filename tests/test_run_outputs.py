"""What `cleaner run` and `cleaner dedup` write about duplicates and learned templates.

Near-duplicate speeches (`duplicate_of`, `copied_share`), short repeated
lines (`repeats.jsonl`), `--keep`, `--drop-duplicates` with its audit trail,
and the site templates learned by `run` (`template.<id>` removals,
`cleaner templates`, `strip --templates`).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import RAW, invoke, read_jsonl
from test_templates import invented_sites_corpus

SEED = "002_727ffb95bee0db86.txt"  # one long speech in blank-line layout
OTHER = "004_bb8126398240cff5.txt"


def edited(text: str) -> str:
    """A repost: a few words changed, years replaced."""
    return text.replace("教育", "教学", 3).replace("2023", "20xx")


@pytest.fixture(scope="module")
def reposted(tmp_path_factory):
    """Three files: a seed speech, a shorter edited repost of it, another seed."""
    raw = tmp_path_factory.mktemp("reposted") / "raw"
    raw.mkdir()
    text = (RAW / SEED).read_text(encoding="utf-8")
    (raw / "a_original.txt").write_text(text, encoding="utf-8")
    paragraphs = [p for p in text.split("\n") if p.strip()]
    (raw / "b_repost.txt").write_text(edited("\n".join(paragraphs[:-3])) + "\n", encoding="utf-8")
    shutil.copyfile(RAW / OTHER, raw / "c_other.txt")
    return raw


def run(raw: Path, out: Path, *options: str) -> list[dict]:
    result = invoke("run", raw, out, "--quiet", *options)
    assert result.exit_code == 0, result.output
    return read_jsonl(out / "corpus.jsonl")


def test_repost_is_flagged_as_near_duplicate_of_the_longer_speech(reposted, tmp_path):
    records = {r["source"]: r for r in run(reposted, tmp_path / "out")}
    repost, original = records["b_repost.txt"], records["a_original.txt"]
    assert repost["duplicate_of"] == original["id"]
    assert 0.6 <= repost["copied_share"] <= 1.0
    assert original["duplicate_of"] is None and original["copied_share"] is None
    assert records["c_other.txt"]["duplicate_of"] is None
    assert repost["duplicate_paras"], "the copied paragraphs are flagged too"
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert f"| `{repost['id']}` | `{original['id']}` |" in report


def test_without_drop_the_corpus_is_unchanged(reposted, tmp_path):
    flagged = run(reposted, tmp_path / "flag")
    plain = run(reposted, tmp_path / "plain", "--threshold", "1.0")
    assert [(r["id"], r["text"]) for r in flagged] == [(r["id"], r["text"]) for r in plain]
    assert not [r for r in read_jsonl(tmp_path / "flag" / "removed.jsonl") if r["rule"] == "dedup"]


def test_keep_first_makes_the_earlier_file_the_original(reposted, tmp_path):
    # The repost is shorter: "longest" keeps a_original, "first" keeps a_original
    # too (path order); rename so that the repost comes first.
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copyfile(reposted / "a_original.txt", raw / "z_original.txt")
    shutil.copyfile(reposted / "b_repost.txt", raw / "a_repost.txt")
    first = {r["source"]: r for r in run(raw, tmp_path / "first", "--keep", "first")}
    longest = {r["source"]: r for r in run(raw, tmp_path / "longest", "--keep", "longest")}
    assert first["z_original.txt"]["duplicate_of"] == first["a_repost.txt"]["id"]
    assert first["a_repost.txt"]["duplicate_of"] is None
    assert longest["a_repost.txt"]["duplicate_of"] == longest["z_original.txt"]["id"]
    manifest = json.loads((tmp_path / "first" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["dedup"]["keep"] == "first"


def test_keep_rejects_an_unknown_policy(reposted, tmp_path):
    result = invoke("run", reposted, tmp_path / "out", "--keep", "newest")
    assert result.exit_code == 2
    assert "keep must be one of" in result.stderr
    assert not (tmp_path / "out").exists()


def test_drop_duplicates_removes_the_repost_and_says_so(reposted, tmp_path):
    out = tmp_path / "out"
    flagged = {r["id"]: r for r in run(reposted, tmp_path / "flag")}
    kept = {r["id"]: r for r in run(reposted, out, "--drop-duplicates")}
    dup = next(r for r in flagged.values() if r["duplicate_of"])
    assert dup["id"] not in kept
    assert set(kept) == set(flagged) - {dup["id"]}
    assert not (out / dup["doc"]).exists()
    dropped = [r for r in read_jsonl(out / "removed.jsonl") if r["rule"] == "dedup"]
    assert [(r["action"], r["doc"], r["duplicate_of"]) for r in dropped] == [
        ("drop_speech", dup["id"], dup["duplicate_of"])]
    assert dropped[0]["stage"] == "dedup" and dropped[0]["source"] == dup["source"]
    # Nothing lost silently: every paragraph of the dropped speech is in the audit trail.
    assert all(p in dropped[0]["text"].split("\n") for p in dup["text"].split("\n"))


def test_drop_duplicates_removes_copied_paragraphs_from_a_speech_that_stays(reposted, tmp_path):
    # b borrows two long paragraphs of a (as cleaned) into its own speech.
    seeds = {r["source"]: r for r in run(reposted, tmp_path / "seeds", "--threshold", "1.0")}
    paragraphs = [p for p in seeds["a_original.txt"]["text"].split("\n") if len(p) > 60]
    borrowed = paragraphs[3:5]
    own = seeds["c_other.txt"]["text"].split("\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copyfile(reposted / "a_original.txt", raw / "a.txt")
    title = seeds["c_other.txt"]["title"]
    (raw / "b.txt").write_text("\n".join([title, *own[:6], *borrowed, *own[6:]]) + "\n",
                               encoding="utf-8")
    # b is the longer speech: with --keep first, a (first in path order) holds the originals.
    flagged = {r["source"]: r for r in run(raw, tmp_path / "flag", "--keep", "first")}
    assert flagged["b.txt"]["duplicate_of"] is None
    copies = flagged["b.txt"]["duplicate_paras"]
    assert len(copies) == 2
    kept = {r["source"]: r for r in run(raw, tmp_path / "drop", "--drop-duplicates", "--keep", "first")}
    b = kept["b.txt"]
    assert b["dropped_paras"] == copies
    assert b["paragraphs"] == flagged["b.txt"]["paragraphs"] - 2
    for p in borrowed:
        assert p not in b["text"].split("\n")
    assert kept["a.txt"]["text"] == flagged["a.txt"]["text"]
    dropped = [r for r in read_jsonl(tmp_path / "drop" / "removed.jsonl") if r["rule"] == "dedup"]
    assert sorted(r["para"] for r in dropped) == copies
    assert {r["action"] for r in dropped} == {"drop_paragraph"}
    assert sorted(r["text"] for r in dropped) == sorted(borrowed)


def test_short_repeated_lines_are_reported_not_dropped(reposted, tmp_path):
    out = tmp_path / "out"
    records = run(reposted, out, "--drop-duplicates")
    groups = read_jsonl(out / "repeats.jsonl")
    salutation = [g for g in groups if g["key"] == "同志们"]
    assert salutation and salutation[0]["speeches"] >= 2
    assert all(m["text"].startswith("同志们") for m in salutation[0]["members"])
    assert sum(1 for g in salutation[0]["members"] if g["original"]) == 1
    kept_ids = {r["id"] for r in records}
    for m in salutation[0]["members"]:
        if m["doc"] in kept_ids:  # a line kept in a speech that stays
            text = next(r["text"] for r in records if r["id"] == m["doc"]).split("\n")
            assert m["text"] in text


def test_dedup_stage_takes_the_same_options(reposted, tmp_path):
    run(reposted, tmp_path / "run", "--drop-duplicates", "--keep", "first", "--no-templates")
    stream = tmp_path / "pages.jsonl"
    for stage, src in (("decode", reposted), ("strip", None), ("normalize", None), ("split", None)):
        target = tmp_path / f"{stage}.jsonl"
        result = invoke(stage, src or stream, target)
        assert result.exit_code == 0, result.output
        stream = target
    result = invoke("dedup", stream, tmp_path / "chain", "--drop-duplicates", "--keep", "first",
                    "--quiet")
    assert result.exit_code == 0, result.output
    for name in ("corpus.jsonl", "removed.jsonl", "duplicates.jsonl", "repeats.jsonl"):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "chain" / name).read_bytes(), name


# --------------------------------------------------------------------------
# Learned site templates in a run
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def invented(tmp_path_factory):
    """Two invented sites of 16 pages each (no rule knows them), with the chrome marked."""
    corpus = invented_sites_corpus()
    raw = tmp_path_factory.mktemp("invented") / "raw"
    for page in corpus.pages:
        path = raw / page.source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(t for _, t in page.lines) + "\n", encoding="utf-8")
    chrome = {(page.source, t) for page in corpus.pages for n, t in page.lines
              if n in corpus.chrome[page.source]}
    return raw, chrome


def test_run_strips_learned_templates_and_records_them(invented, tmp_path):
    raw, chrome = invented
    out = tmp_path / "out"
    run(raw, out)
    removed = [r for r in read_jsonl(out / "removed.jsonl") if r["action"] == "drop_line"]
    by_templates = {(r["source"], r["text"]) for r in removed if r["rule"].startswith("template.")}
    by_rules = {(r["source"], r["text"]) for r in removed} - by_templates
    assert len(by_templates) >= 0.5 * len(chrome)
    assert len((by_templates | by_rules) & chrome) >= 0.95 * len(chrome)
    assert by_templates <= chrome, "a learned template removed speech text"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["templates"]
    without = tmp_path / "without"
    run(raw, without, "--no-templates")
    assert not [r for r in read_jsonl(without / "removed.jsonl") if r["rule"].startswith("template.")]
    assert json.loads((without / "manifest.json").read_text(encoding="utf-8"))["settings"]["templates"] is None


def test_templates_command_lists_saves_and_strip_applies(invented, tmp_path):
    raw, chrome = invented
    saved = tmp_path / "t.json"
    result = invoke("templates", raw, "--save", saved)
    assert result.exit_code == 0, result.output
    learned = json.loads(saved.read_text(encoding="utf-8"))["templates"]
    assert learned
    for t in learned[:3]:
        assert t["id"] in result.stdout
    toml = invoke("templates", raw, "--toml")
    assert toml.exit_code == 0 and "[[rule]]" in toml.stdout
    stream = tmp_path / "decode.jsonl"
    assert invoke("decode", raw, stream).exit_code == 0
    assert invoke("strip", stream, tmp_path / "strip.jsonl", "--templates", saved).exit_code == 0
    pages = read_jsonl(tmp_path / "strip.jsonl")
    rules = {e["rule"] for p in pages for e in p["edits"]}
    assert {f"template.{t['id']}" for t in learned} & rules


def test_strip_refuses_a_bad_templates_file(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text('{"templates": [{"key": ""}]}', encoding="utf-8")
    stream = tmp_path / "decode.jsonl"
    assert invoke("decode", RAW / SEED, stream).exit_code == 0
    result = invoke("strip", stream, tmp_path / "s.jsonl", "--templates", bad)
    assert result.exit_code == 2
    assert "t.json" in result.stderr and "not a templates file" in result.stderr


def test_explain_shows_saved_template_removals(invented, tmp_path):
    raw, chrome = invented
    saved = tmp_path / "t.json"
    assert invoke("templates", raw, "--save", saved, "--quiet").exit_code == 0
    page = raw / "ink" / "03.txt"
    plain = invoke("explain", page, "--no-color")
    with_templates = invoke("explain", page, "--no-color", "--templates", saved)
    assert plain.exit_code == with_templates.exit_code == 0
    assert "{template." not in plain.stdout
    marked = [line for line in with_templates.stdout.splitlines() if "{template." in line]
    assert marked
    chrome_here = {t for source, t in chrome if source == "ink/03.txt"}
    assert all(any(t in line for t in chrome_here) for line in marked if " - " in line)


def test_report_md_stays_short_on_big_corpora(reposted, tmp_path, monkeypatch):
    import cleaner.report
    monkeypatch.setattr(cleaner.report, "MAX_FILES", 2)
    monkeypatch.setattr(cleaner.report, "MAX_MEMBERS", 1)
    out = tmp_path / "out"
    run(reposted, out, "--no-cache")
    report = (out / "report.md").read_text(encoding="utf-8")
    files = report.split("## Files\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in files.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 2  # the header and two files
    assert "1 more files: every input is in `manifest.json`" in files
    clusters = read_jsonl(out / "duplicates.jsonl")
    assert clusters and f"- … {clusters[0]['size'] - 1} more copies in `duplicates.jsonl`" in report
