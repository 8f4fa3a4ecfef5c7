"""Golden tests on the seed pages: what must go, what must stay, how pages split."""
from __future__ import annotations

import tomllib

import pytest

from conftest import ROOT, SEED_NAMES, SHARED_SEEDS

GOLDEN = tomllib.loads((ROOT / "tests" / "golden" / "seeds.toml").read_text(encoding="utf-8"))


def test_every_seed_has_golden_expectations():
    assert SEED_NAMES, "raw/ holds no seed files"
    assert sorted(GOLDEN) == SEED_NAMES


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="no shared seeds beside the project")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED_SEEDS.glob("*.txt")) if SHARED_SEEDS.is_dir() else [])
def test_raw_holds_the_seeds_unchanged(name):
    assert (ROOT / "raw" / name).read_bytes() == (SHARED_SEEDS / name).read_bytes()


def _cases(key):
    return [pytest.param(name, s, id=f"{name[:3]}-{s[:12]}") for name in SEED_NAMES
            for s in GOLDEN.get(name, {}).get(key, [])]


def _output_text(page) -> str:
    return "\n".join([sp.title or "" for sp in page.speeches]
                     + [p for sp in page.speeches for p in sp.paragraphs])


@pytest.mark.parametrize("name", SEED_NAMES)
def test_speech_count_and_titles(seed_pages, name):
    page = seed_pages[name]
    expected = GOLDEN[name]
    assert len(page.speeches) == expected["speeches"]
    assert [sp.title for sp in page.speeches] == expected["titles"]
    assert all(sp.paragraphs for sp in page.speeches), "an empty speech was written"


@pytest.mark.parametrize(("name", "text"), _cases("gone"))
def test_boilerplate_is_gone(seed_pages, name, text):
    assert text not in _output_text(seed_pages[name])


@pytest.mark.parametrize(("name", "text"), _cases("stay"))
def test_content_stays_in_one_paragraph(seed_pages, name, text):
    paragraphs = [p for sp in seed_pages[name].speeches for p in sp.paragraphs]
    assert any(text in p for p in paragraphs)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_removal_names_a_rule_and_a_source_line(seed_pages, name):
    page = seed_pages[name]
    raw_lines = (ROOT / "raw" / name).read_text(encoding="utf-8-sig").split("\n")
    for edit in page.edits:
        assert edit.rule and edit.stage in {"strip", "repair", "normalize", "split"}
        assert edit.text and edit.text in raw_lines[edit.line - 1]


def _paragraphs(page) -> list[str]:
    return [p for sp in page.speeches for p in sp.paragraphs]


@pytest.mark.parametrize(("name", "text"), _cases("whole"))
def test_paragraph_stands_alone(seed_pages, name, text):
    assert text in _paragraphs(seed_pages[name])


@pytest.mark.parametrize(("name", "text"), _cases("starts"))
def test_paragraph_starts_here(seed_pages, name, text):
    assert any(p.startswith(text) for p in _paragraphs(seed_pages[name]))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_subtitles_are_kept_apart_from_the_body(seed_pages, name):
    expected = {int(n): subs for n, subs in GOLDEN[name].get("subtitles", {}).items()}
    page = seed_pages[name]
    assert {sp.n: sp.subtitles for sp in page.speeches if sp.subtitles} == expected
    body = _paragraphs(page)
    assert not any(sub in body for subs in expected.values() for sub in subs)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_layout_is_recognised(seed_pages, name):
    assert seed_pages[name].layout == GOLDEN[name]["layout"]
