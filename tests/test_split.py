"""Splitting pages into speeches: title blocks, page headings, recorded removals."""
from __future__ import annotations

from cleaner.model import Page
from cleaner.rules import seconds_capped
from cleaner.split import split_speeches

BODY = "今天，我们召开全县教育工作会议，主要任务是总结去年工作，安排部署今年的重点工作。"


def _split(lines: list[str]) -> Page:
    return split_speeches(Page(source="x.txt", sha256="", size=0, lines=list(enumerate(lines, 1))))


def test_title_block_lines_are_subtitles_not_body():
    page = _split(["教育局长在教育工作会议上的讲话范文", "认清形势 科学发展", "——在全县教育工作会议上的讲话",
                   "（2024年2月1日）", "同志们：", BODY])
    [speech] = page.speeches
    assert speech.title == "教育局长在教育工作会议上的讲话"
    assert speech.subtitles == ["认清形势 科学发展", "——在全县教育工作会议上的讲话", "（2024年2月1日）"]
    assert speech.paragraphs == ["同志们：", BODY]
    assert [(e.rule, e.text) for e in page.edits] == [("split.title-suffix", "范文")]


def test_a_date_line_under_a_title_without_salutation_is_a_subtitle():
    [speech] = _split(["在校长培训班开班仪式上的讲话", "（2018年7月11日）", BODY]).speeches
    assert speech.subtitles == ["（2018年7月11日）"] and speech.paragraphs == [BODY]


def test_a_page_heading_over_several_speeches_gives_way_to_the_first_speech_title():
    page = _split(["市教育局局长在双减工作推进会上的讲话", "分管副县长在教学质量分析会上的讲话", "同志们：", BODY,
                   "县委书记在秋季开学工作会议上的讲话", "同志们：", BODY])
    assert [(s.title, s.subtitles) for s in page.speeches] == [
        ("分管副县长在教学质量分析会上的讲话", []), ("县委书记在秋季开学工作会议上的讲话", [])]
    assert ("split.page-heading", "市教育局局长在双减工作推进会上的讲话") in [(e.rule, e.text) for e in page.edits]


def test_a_single_speech_keeps_its_title_over_a_second_title_line():
    [speech] = _split(["市教育局局长在双减工作推进会上的讲话", "分管副县长在教学质量分析会上的讲话", "同志们：", BODY]).speeches
    assert speech.title == "市教育局局长在双减工作推进会上的讲话"
    assert speech.subtitles == ["分管副县长在教学质量分析会上的讲话"]


def test_piece_markers_are_recorded():
    page = _split(["第一篇：教育工作会议讲话", "同志们：", BODY, "第二篇", "安全工作会议讲话", "同志们：", BODY])
    assert [s.title for s in page.speeches] == ["教育工作会议讲话", "安全工作会议讲话"]
    markers = [(e.action, e.text) for e in page.edits if e.rule == "split.piece-marker"]
    assert markers == [("delete_span", "第一篇"), ("drop_line", "第二篇")]


def test_a_title_repeated_many_times_is_dropped_in_linear_time():
    # Each repeat used to copy the rest of the speech's line list: quadratic,
    # about 45 s for these 200k repeats (now about a second).
    repeats = 200_000
    result = {}
    elapsed = seconds_capped(lambda: result.update(page=_split(["会议讲话"] * repeats + ["同志们：", BODY])), 10)
    assert elapsed < 10, "dropping the repeated titles took too long"
    page = result["page"]
    [speech] = page.speeches
    assert speech.title == "会议讲话" and speech.subtitles == [] and speech.paragraphs == ["同志们：", BODY]
    repeated = [e.line for e in page.edits if e.rule == "split.repeated-title"]
    assert repeated == list(range(2, repeats + 1))
