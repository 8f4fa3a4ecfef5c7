"""Layout repair: previews rejoined, broken lines rejoined, nothing invented or lost."""
from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.model import Page
from cleaner.repair import (
    drop_page_numbers, find_chunk_runs, is_blank_line_layout, join_broken_lines, repair_page,
    split_flattened,
)
from cleaner.rules import seconds_capped

PARA = "这次年度教育工作会议是在全市推进三次创业加快跨越赶超的关键时期召开的，开好这次会议具有重要作用。"


def _page(lines: list[str]) -> Page:
    return Page(source="x.txt", sha256="", size=0, lines=list(enumerate(lines, 1)))


def _preview(text: str, size: int = 150) -> list[str]:
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    out: list[str] = []
    for n, chunk in enumerate(chunks, 1):
        out += [f"{n}、{chunk}", ""]
    return out


def test_preview_chunks_are_rejoined_into_their_paragraphs():
    paragraphs = [PARA * 2, "二、振奋精神，克难奋进", PARA * 3, "同志们，" + PARA]
    page = repair_page(_page(["标题"] + _preview(" ".join(paragraphs))))
    assert page.layout == "preview"
    assert [t for _, t in page.lines if t] == ["标题"] + paragraphs
    markers = [e.text for e in page.edits if e.rule == "repair.chunk-marker"]
    assert markers == [f"{n}、" for n in range(1, len(markers) + 1)] and len(markers) >= 3


def test_a_real_numbered_list_is_not_a_preview():
    lines = ["1、公权力的使用和把握。" + PARA, "2、收费问题。" + PARA, "3、关于干部的使用。" + PARA]
    assert find_chunk_runs(lines) == []
    page = repair_page(_page(list(lines)))
    assert [t for _, t in page.lines] == lines


def test_numbering_must_run_on_from_one():
    long = PARA * 3
    assert find_chunk_runs([f"2、{long}", f"3、{long}", f"4、{long}"]) == []
    assert find_chunk_runs([f"1、{long}", f"2、{long}", f"4、{long}"]) == []


def test_page_numbers_go_and_content_numbers_stay():
    text, removed = drop_page_numbers("总体水 2 平，自 6 身素质，措施 153 条，学生 19957 人次，建成 15 所学校", 20)
    assert text == "总体水平，自身素质，措施 153 条，学生 19957 人次，建成 15 所学校"
    assert [span for _, span in removed] == [" 2 ", " 6 "]
    # Rising page numbers are dropped even before a measure word; a lone one there stays.
    assert drop_page_numbers("素养 3 课堂，新 4 课程", 20)[0] == "素养课堂，新课程"
    assert drop_page_numbers("建成 5 所学校", 20)[0] == "建成 5 所学校"


def test_flattened_text_is_cut_where_paragraphs_ended():
    assert split_flattened("甲乙丙丁。 戊己庚辛，壬癸。") == ["甲乙丙丁。", "戊己庚辛，壬癸。"]
    assert split_flattened("我们要深入研 究，认真落实。") == ["我们要深入研 究，认真落实。"]
    assert split_flattened("加以解决。 （二）坚定不移地加快发展") == ["加以解决。", "（二）坚定不移地加快发展"]


def test_blank_line_layout_rejoins_breaks_inside_sentences_and_at_semicolons():
    lines = ["标题", "", "同志们:", "", "入学率达100%;", "巩固率达100%;", "持续巩固提升义务教育", "均衡发展成果。",
             "", "二是加快建设。", "三是抓好落实。", ""]
    assert is_blank_line_layout(lines)
    page = join_broken_lines(_page(lines))
    texts = [t for _, t in page.lines if t]
    assert texts == ["标题", "同志们:", "入学率达100%;巩固率达100%;持续巩固提升义务教育均衡发展成果。",
                     "二是加快建设。", "三是抓好落实。"]
    assert page.counts["repair.join-broken-line"] == 3


def test_one_line_layout_keeps_lines_and_joins_only_wraps():
    wrapped = "坚持把促进教育公平作为“双减”治本之策，深入实施教育强镇筑基行动，X个省级试点镇、X个市级试点镇和"
    lines = ["标题", "同志们：", wrapped, "X个县级试点镇全部制定实施方案。", "抓宣传教育阵地，营造良好舆论氛围；",
             "抓课堂教学主阵地，打牢思想基础；", "一、统一思想，提高认识", "谢谢大家！"]
    page = join_broken_lines(_page(lines))
    assert page.layout == "one-line"
    assert [t for _, t in page.lines] == ["标题", "同志们：", wrapped + "X个县级试点镇全部制定实施方案。"] + lines[4:]


def test_a_heading_is_never_joined_to_its_paragraph():
    lines = ["一、认清形势，肯定成绩，正视差距，切实增强教育事业跨越赶超的责任感和紧迫感", "202X年，是可喜的一年。"] * 3
    page = join_broken_lines(_page(list(lines)))
    assert [t for _, t in page.lines] == lines


_text = st.text(alphabet="教育局工作会议讲话，。；： 、0123456789\n（一）二是同志们", max_size=400)


@settings(max_examples=200, deadline=None)
@given(_text)
def test_repair_keeps_every_character_it_does_not_record(text):
    page = repair_page(_page(text.split("\n")))
    before = Counter(ch for ch in text if not ch.isspace())
    after = Counter(ch for _, t in page.lines for ch in t if not ch.isspace())
    removed = Counter(ch for e in page.edits for ch in e.text if not ch.isspace())
    assert after + removed == before


@settings(max_examples=200, deadline=None)
@given(_text)
def test_repair_is_idempotent(text):
    once = repair_page(_page(text.split("\n")))
    twice = repair_page(_page([t for _, t in once.lines]))
    assert [t for _, t in twice.lines] == [t for _, t in once.lines]


def test_a_sentence_cut_by_blank_lines_is_rejoined():
    cut = "有效加强教学管理，创新实施“三段四横五纵”的管理模式，完成了全县8所学校的检查，对各校“精细化管理和"
    lines = ["标题", "", cut, "", "", "教学常规落实”进行评估。", "", "二、下一步工作", "", "同志们，要认真落实；", "",
             "抓课堂教学主阵地，打牢思想基础。"]
    page = join_broken_lines(_page(list(lines)))
    assert [t for _, t in page.lines if t] == ["标题", cut + "教学常规落实”进行评估。", "二、下一步工作",
                                                "同志们，要认真落实；", "抓课堂教学主阵地，打牢思想基础。"]


def test_a_long_flattened_paragraph_is_split_in_linear_time():
    # At every space, the paragraph built so far used to be copied and scanned
    # back to its last clause break: quadratic, over a minute for these 66k
    # characters without clause punctuation (now well under a second).
    words = "教育 " * 22_000
    result = {}
    elapsed = seconds_capped(lambda: result.update(out=split_flattened(words + "工作。 二、振奋精神克难奋进 我们要努力。")), 10)
    assert elapsed < 10, "splitting a long flattened paragraph took too long"
    assert result["out"] == [words + "工作。", "二、振奋精神克难奋进", "我们要努力。"]


def test_many_page_numbers_are_dropped_in_linear_time():
    # Each candidate page number used to be compared with every earlier one:
    # quadratic, minutes for these 48k candidates (now well under a second).
    values = [2 + k // 50 for k in range(48_000)]  # each page number 50 times: one of each is a page's
    text = "".join(f"教 {v} 育" for v in values)
    lines = [f"{n}、{text[i:i + 600]}" for n, i in enumerate(range(0, len(text), 600), 1)]
    result = {}
    elapsed = seconds_capped(lambda: result.update(page=repair_page(_page(lines))), 10)
    assert elapsed < 10, "dropping page numbers took too long"
    page = result["page"]
    assert page.layout == "preview"
    dropped = [e.text for e in page.edits if e.rule == "repair.page-number"]
    assert dropped == [f" {v} " for v in sorted(set(values))]


def test_many_wrapped_lines_are_joined_in_linear_time():
    # Each join used to rebuild the growing paragraph and strip and search it
    # again: quadratic, over a minute for these 64k lines (now well under a second).
    line = "这次年度教育工作会议是在全市推进三次创业加快跨越赶超的关键时期召开的，开好这次会议，"
    result = {}
    elapsed = seconds_capped(lambda: result.update(page=join_broken_lines(_page([line] * 64_000 + ["谢谢大家！"]))), 10)
    assert elapsed < 10, "joining wrapped lines took too long"
    page = result["page"]
    assert page.lines == [(1, line * 64_000 + "谢谢大家！")]
    assert page.counts["repair.join-broken-line"] == 64_000
