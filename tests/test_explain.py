"""`cleaner explain`: every removed or changed span of a raw file, with its rule id.

The strongest check: rebuilding the output from the trace alone (what was kept,
plus what was put in) gives exactly the pipeline's output for every seed.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cleaner.cli import app
from cleaner.explain import (
    LineTrace, Piece, diff_regions, output_lines, reconstruct, render, tally, trace_page,
)
from cleaner.model import Page
from cleaner.pipeline import decode_file
from cleaner.rules import load_rules, seconds_capped

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"
SEEDS = sorted(p.name for p in RAW.glob("*.txt"))
BANNER_SEED = "001_8397a770520427d1.txt"
WATERMARK_SEED = "000_a1e37c801c7ff920.txt"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

runner = CliRunner()


def explain(*args: object):
    return runner.invoke(app, ["explain", *[str(a) for a in args]])


@pytest.fixture(scope="module")
def traces(ruleset):
    return {name: trace_page(decode_file(RAW / name, name), ruleset) for name in SEEDS}


def line_of(trace, number: int) -> LineTrace:
    return next(line for line in trace.lines if line.number == number)


def numbered(output: str, number: int) -> str:
    """The rendered line for raw line ``number`` in explain's output."""
    found = [line for line in output.splitlines() if re.match(rf"\s*{number} ", line)]
    assert len(found) == 1, output[:2000]
    return found[0].lstrip()


# --------------------------------------------------------------------------
# Faithful: the trace rebuilds the pipeline's output, for every seed
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEEDS)
def test_trace_rebuilds_the_pipeline_output(name, traces, seed_pages):
    trace = traces[name]
    assert trace.output == output_lines(seed_pages[name])  # explain ran the real pipeline
    assert trace.output, "the seed yields text"
    assert reconstruct(trace) == trace.output
    assert trace.unattributed == 0  # every stage's change was attributed, none patched up
    assert trace.reordered == 0


def test_every_strip_removal_is_shown_with_its_rule(traces, seed_pages):
    checked = 0
    for name, trace in traces.items():
        for edit in seed_pages[name].edits:
            if edit.stage != "strip":
                continue
            line = line_of(trace, edit.line)
            if edit.action == "drop_line":
                assert line.gone, (name, edit, line)
                assert edit.rule in {p.rule for p in line.pieces}
            elif edit.action == "delete_span":
                assert any(p.rule == edit.rule and edit.text in p.old and not p.new
                           for p in line.pieces), (name, edit, line.pieces)
            checked += 1
    assert checked > 20


def test_only_repair_joins_lines(traces):
    # Split drops lines but never joins two; a break it seems to remove from a
    # kept line means the diff kept the wrong one of two equal breaks.
    for trace in traces.values():
        for line in trace.lines:
            if line.eol and line.survives:
                assert line.eol.startswith("repair."), (trace.source, line)


def test_no_rule_is_a_placeholder(traces):
    for trace in traces.values():
        rules = {t.rule for t in tally(trace)}
        assert not {r for r in rules if r.endswith((".unattributed", ".unrecorded"))}, rules
        assert "unattributed" not in rules


# --------------------------------------------------------------------------
# What the seeds show
# --------------------------------------------------------------------------

def test_upload_banner_line_is_dropped_by_its_rule():
    result = explain(RAW / BANNER_SEED)
    assert result.exit_code == 0, result.output
    line = numbered(result.stdout, 3)
    assert re.fullmatch(r"3 - \{share\.upload-banner\} 上传人:新\*\* 文档编号:558910364 .*", line)


def test_comma_widening_is_attributed_to_punct_width(traces):
    trace = traces[BANNER_SEED]
    widened = [p for line in trace.lines for p in line.pieces if p.old == "," and p.new == "，"]
    assert widened
    assert {p.rule for p in widened} == {"normalize.punct-width"}
    result = explain(RAW / BANNER_SEED, "--no-color")
    assert "[,→，]{normalize.punct-width}" in result.stdout


def test_watermark_span_inside_a_sentence():
    result = explain(RAW / WATERMARK_SEED)
    assert result.exit_code == 0
    mark = "[-本资料权属文秘资源网放上鼠标按照提示查看文秘资源网-]{portal.watermark-in-sentence}"
    lines = [line for line in result.stdout.splitlines() if mark in line]
    assert lines
    for line in lines:
        assert re.match(r"\s*\d+ ~ ", line)  # the line changed but stays
    assert any("正常的维稳信访是基础" + mark + "工作，群体上访是难点工作" in line for line in lines)


def test_repeated_title_is_dropped_by_split(traces):
    trace = traces["002_727ffb95bee0db86.txt"]
    line = line_of(trace, 7)
    assert line.gone and {p.rule for p in line.pieces} == {"split.repeated-title"}
    assert not line_of(trace, 1).changed  # the title itself stays


def test_summary_counts_match_the_audit_trail(traces, seed_pages):
    for name, trace in traces.items():
        counts = {t.rule: t for t in tally(trace)}
        dropped: dict[str, int] = {}
        for e in seed_pages[name].edits:
            if e.stage == "strip" and e.action == "drop_line":
                dropped[e.rule] = dropped.get(e.rule, 0) + 1
        for rule, n in dropped.items():
            assert counts[rule].lines == n, (name, rule)


def test_summary_is_printed():
    out = explain(RAW / BANNER_SEED).stdout
    summary = out[out.index("== summary"):]
    assert re.search(r"^share\.page-counter\s+5\s+0\s+\d+\s+0$", summary, re.M)
    assert re.search(r"^normalize\.punct-width\s+0\s+[1-9]\d*\s+[1-9]\d*\s+[1-9]\d*$", summary, re.M)
    assert re.search(r"^\d+ characters in, \d+ out, \d+ output lines$", summary, re.M)


# --------------------------------------------------------------------------
# Several rules on one line; decode counts
# --------------------------------------------------------------------------

RULES = r"""
[[rule]]
id = "test.ad"
description = "An inline advert."
action = "delete_span"
pattern = '【广告】'
match = ["今天【广告】开会"]
no_match = ["今天开会"]
[[rule.fix]]
before = "今天【广告】开会"
after = "今天开会"

[[rule]]
id = "test.site"
description = "The site's address, named."
action = "replace"
pattern = 'www\.example\.com'
replacement = "本站"
match = ["访问www.example.com"]
no_match = ["访问本站"]
[[rule.fix]]
before = "访问www.example.com"
after = "访问本站"

[[rule]]
id = "test.footer"
description = "Footer line."
action = "drop_line"
pattern = '^以上内容'
match = ["以上内容仅供参考"]
no_match = ["内容以上"]
"""

PAGE = "讲话标题\n同志们：\n今天【广告】我们开会,访问www.example.com了解更多。\n以上内容【广告】仅供参考\n"


@pytest.fixture
def rules_dir(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "test.toml").write_text(RULES, encoding="utf-8")
    return folder


def test_each_span_rule_gets_its_own_span(tmp_path, rules_dir):
    path = tmp_path / "page.txt"
    path.write_text(PAGE, encoding="utf-8")
    trace = trace_page(decode_file(path, path.name), load_rules(rules_dir))
    assert reconstruct(trace) == trace.output
    assert trace.output == ["讲话标题", "同志们：", "今天我们开会，访问本站了解更多。"]
    assert line_of(trace, 3).pieces == [
        Piece("今天", "今天"), Piece("【广告】", "", "test.ad"), Piece("我们开会", "我们开会"),
        Piece(",", "，", "normalize.punct-width"), Piece("访问", "访问"),
        Piece("www.example.com", "本站", "test.site"), Piece("了解更多。", "了解更多。"),
    ]
    footer = line_of(trace, 4)
    assert footer.gone
    assert [p.rule for p in footer.pieces] == ["test.footer", "test.ad", "test.footer"]
    result = explain(path, "--rules", rules_dir)
    assert result.exit_code == 0, result.output
    assert numbered(result.stdout, 4) == "4 - [-以上内容-]{test.footer}[-【广告】-]{test.ad}[-仅供参考-]{test.footer}"
    assert "[www.example.com→本站]{test.site}" in numbered(result.stdout, 3)


def test_decode_counts_are_reported(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text("讲话标题\n同志们：\n今天&ldquo;开会&rdquo;。\n", encoding="utf-8")
    out = explain(path).stdout
    assert re.search(r"^decoding, before lines existed \(counts only\): .*decode\.html-entity 2", out, re.M)
    assert numbered(out, 3) == "3   今天“开会”。"  # lines show the tidied text


# --------------------------------------------------------------------------
# Layout repair steps: joins and splits
# --------------------------------------------------------------------------

def join_after_comma(page: Page) -> Page:
    lines: list[tuple[int, str]] = []
    for number, text in page.lines:
        if lines and lines[-1][1].endswith("，"):
            lines[-1] = (lines[-1][0], lines[-1][1] + text)
        else:
            lines.append((number, text))
    page.lines = lines
    return page


def split_sentences(page: Page) -> Page:
    page.lines = [(n, part) for n, text in page.lines for part in text.split("。 ")]
    return page


STEPS = (("test.join", join_after_comma), ("test.split", split_sentences))


def test_joins_and_splits_are_traced(tmp_path, ruleset):
    path = tmp_path / "page.txt"
    path.write_text("讲话标题\n同志们：\n我们今天开会，\n讨论工作。 明天继续\n", encoding="utf-8")
    trace = trace_page(decode_file(path, path.name), ruleset, steps=STEPS)
    assert trace.output == ["讲话标题", "同志们：", "我们今天开会，讨论工作", "明天继续"]
    assert reconstruct(trace) == trace.output
    assert trace.unattributed == 0
    joined, split = line_of(trace, 3), line_of(trace, 4)
    assert joined.eol == "test.join" and joined.changed
    assert Piece("。 ", "\n", "test.split") in split.pieces
    text = "\n".join(render(trace))
    assert "   3 ~ 我们今天开会，[-⏎-]{test.join}" in text
    assert "   4 ~ 讨论工作[。 →⏎]{test.split}明天继续" in text


# --------------------------------------------------------------------------
# Output options
# --------------------------------------------------------------------------

def test_plain_output_has_no_colour_codes():
    result = explain(RAW / BANNER_SEED)  # not a terminal: plain by default
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    assert "\x1b" not in explain(RAW / BANNER_SEED, "--no-color").stdout


def test_colour_output_has_colour_codes():
    result = explain(RAW / BANNER_SEED, "--color")
    assert result.exit_code == 0
    assert "\x1b[31;9m" in result.stdout  # deletions: red, struck through
    assert "\x1b[2m{normalize.punct-width}" in result.stdout  # rule ids dim
    plain = explain(RAW / BANNER_SEED, "--no-color").stdout
    # Colour only marks up: without the codes and markers, the same lines are listed.
    assert len(ANSI.sub("", result.stdout).splitlines()) == len(plain.splitlines())


def test_only_changed_lists_changed_lines_only():
    out = explain(RAW / BANNER_SEED, "--only-changed").stdout
    out = out[:out.index("== summary")]
    body = [line for line in out.splitlines() if re.match(r"\s*\d+ ", line)]
    assert body
    assert all(re.match(r"\s*\d+ [-~] ", line) for line in body)
    assert not re.search(r"^\s*1 ", out, re.M)  # the title line is unchanged
    assert "--" in out.splitlines()  # between runs of changed lines that are not adjacent
    with_context = explain(RAW / BANNER_SEED, "--context", "1").stdout
    assert re.search(r"^\s*2$", with_context, re.M)  # blank line 2 sits next to a change
    full = explain(RAW / BANNER_SEED).stdout
    assert len(body) < len(with_context.splitlines()) < len(full.splitlines())


# --------------------------------------------------------------------------
# Exit codes
# --------------------------------------------------------------------------

def test_unreadable_file_exits_1(tmp_path):
    result = explain(tmp_path / "missing.txt")
    assert result.exit_code == 1
    assert "cannot read" in result.stderr and result.stdout == ""


def test_binary_file_exits_1(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x00\x01\x02\x03binary\x00\x00\x00\xff\xfe")
    result = explain(path)
    assert result.exit_code == 1
    assert "blob.txt" in result.stderr


def test_bad_rules_or_encoding_exit_2(tmp_path):
    assert explain(RAW / BANNER_SEED, "--rules", tmp_path).exit_code == 2
    result = explain(RAW / BANNER_SEED, "--encoding", "nope")
    assert result.exit_code == 2 and "unknown codec" in result.stderr
    assert explain().exit_code == 2


def test_help():
    result = runner.invoke(app, ["explain", "--help"])
    assert result.exit_code == 0
    for option in ("--color", "--no-color", "--only-changed", "--context", "--rules", "--encoding"):
        assert option in result.stdout


# --------------------------------------------------------------------------
# The character diff
# --------------------------------------------------------------------------

def apply_regions(a: str, b: str, regions) -> str:
    out, pos = [], 0
    for i1, i2, j1, j2 in regions:
        out.append(a[pos:i1])
        out.append(b[j1:j2])
        pos = i2
    out.append(a[pos:])
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="甲乙，,。 \n12", max_size=120), st.text(alphabet="甲乙，,。 \n12", max_size=120))
def test_diff_regions_turn_a_into_b(a, b):
    regions = diff_regions(a, b)
    assert apply_regions(a, b, regions) == b
    for (i1, i2, j1, j2), nxt in zip(regions, regions[1:] + [(len(a), len(a), len(b), len(b))]):
        assert i1 <= i2 <= nxt[0] and j1 <= j2 <= nxt[2]
        assert (i1, j1) != (i2, j2)  # no empty region


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="甲乙丙丁戊，。 ", min_size=30, max_size=400), st.data())
def test_diff_regions_stay_small_for_sparse_edits(text, data):
    k = data.draw(st.integers(0, len(text) - 1))
    changed = text[:k] + "X" + text[k + 1:]
    regions = diff_regions(text, changed)
    assert apply_regions(text, changed, regions) == changed
    assert sum(i2 - i1 for i1, i2, _, _ in regions) <= 1


def test_biggest_seed_is_fast(ruleset):
    import time

    name = max(SEEDS, key=lambda n: (RAW / n).stat().st_size)
    start = time.perf_counter()
    trace = trace_page(decode_file(RAW / name, name), ruleset)
    lines = list(render(trace))
    assert lines and time.perf_counter() - start < 5  # about 0.1 s on a laptop


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="甲乙，,。 \n12", max_size=120), st.text(alphabet="甲乙，,。 \n12", max_size=120))
def test_walked_regions_turn_a_into_b(a, b):
    # No matcher and a short window: the walk that takes over from SequenceMatcher on costly lines.
    regions = diff_regions(a, b, window=3, budget=0)
    assert apply_regions(a, b, regions) == b
    for (i1, i2, j1, j2), nxt in zip(regions, regions[1:] + [(len(a), len(a), len(b), len(b))]):
        assert i1 <= i2 <= nxt[0] and j1 <= j2 <= nxt[2]
        assert (i1, j1) != (i2, j2)


def capped_diff(a: str, b: str, cap: float = 10):
    """``diff_regions(a, b)``, asserting it took well under ``cap`` seconds (an alarm stops it there)."""
    found = []
    assert seconds_capped(lambda: found.append(diff_regions(a, b)), cap) < cap
    return found[0]


def test_spaced_out_text_is_diffed_in_about_linear_time():
    # PDF-extracted text often has a space between every character, and normalize
    # deletes them all: no 8 characters agree anywhere. SequenceMatcher took about
    # the cube of the length (minutes here); the walk takes a fraction of a second.
    rng = random.Random(0)
    text = "".join(rng.choice("教育局长在全市工作会议上的讲话") for _ in range(3000))
    spaced = " ".join(text)
    regions = capped_diff(spaced, text)
    assert apply_regions(spaced, text, regions) == text
    assert len(regions) == len(text) - 1  # each space is a deletion of its own
    assert all(spaced[i1:i2] == " " and j1 == j2 for i1, i2, j1, j2 in regions)


def test_every_other_character_changed_is_diffed_in_about_linear_time():
    commas = "教," * 3000
    widened = commas.replace(",", "，")
    regions = capped_diff(commas, widened)
    assert apply_regions(commas, widened, regions) == widened
    assert all(commas[i1:i2] == "," and widened[j1:j2] == "，" for i1, i2, j1, j2 in regions)
