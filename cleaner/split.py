"""Cut a page into speeches, each with its title and paragraphs.

Pages from essay sites often carry several pieces. A piece starts at

* a numbered marker line: ``第二篇: 标题`` or ``…讲话内容篇三``;
* a short title line followed by a salutation (``同志们：``), possibly with the
  title repeated once in between: pieces without any marker start this way;
* the first line of the page, when it looks like a title.

A title repeated right below itself is one title. Title-like lines between a
title and the salutation (a second title, ``——在…会议上的讲话``, a byline such
as ``---***教育局 局长``) are the speech's subtitles, not body text. Site
suffixes (``…范文``, ``…篇三``, ``(精选5篇)``) are cut from titles. Every other
non-empty line is a paragraph.
"""
from __future__ import annotations

import re

from .model import Edit, Page, Speech

_NUM = "一二三四五六七八九十百零〇两0-9"
_MARKER_PREFIX = re.compile(f"^第[{_NUM}]+篇\\s*[:：、.．]?\\s*(.*)$")
_MARKER_SUFFIX = re.compile(f"^(.{{2,60}}?)篇[{_NUM}]+$")
_SALUTATION = re.compile(
    r"^[^。！？；!?;]{0,36}(同志们|同事们|老师们|同学们|朋友们|女士们|先生们|来宾|委员|代表|"
    r"各位[^，,。：:\s]{0,6})[：:]?$"
)
_ENUMERATION = re.compile(
    f"^(（[{_NUM}]+）|\\([{_NUM}]+\\)|[{_NUM}]+[、.．]|第[{_NUM}]+[，,、]|[{_NUM}]是)"
)
_TERMINAL = tuple("。！？；，：、…!?;,:")
_DATE_LINE = re.compile(r"^\s*[（(]?\s*\d{4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?\s*[）)]?\s*$")
_DASH_LED = re.compile(r"^\s*(—{1,3}|-{2,3}|－{2,3})\s*\S")
# Suffixes that sites append to a speech's title; each is cut, repeatedly, from the end.
TITLE_SUFFIX = re.compile(
    f"(篇[{_NUM}]+|范文(大全|精选)?|[（(【\\[](精选|通用|优选|推荐|热门|最新|完整版|精品|"
    f"\\d+页(珍藏|精品)?版|word版|doc版|[{_NUM}]+篇)[^）)】\\]]{{0,8}}[）)】\\]]|"
    f"(精选|通用)[{_NUM}]+篇|模板|范本)$"
)
TITLE_MIN_CHARS = 4
_WS = re.compile(r"\s+")


def piece_marker(line: str) -> str | None:
    """The title a piece marker announces, ``""`` for a bare marker, else None.

    >>> piece_marker("第一篇：教育局局长在教学工作会议上的总结讲话")
    '教育局局长在教学工作会议上的总结讲话'
    >>> piece_marker("教育局长教育工作会讲话内容篇十二")
    '教育局长教育工作会讲话内容篇十二'
    >>> piece_marker("第二篇") == ""
    True
    >>> piece_marker("这是第一篇文章的内容，大家要认真读。") is None
    True
    """
    m = _MARKER_PREFIX.match(line)
    if m:
        return m.group(1).strip()
    if len(line) <= 64 and _MARKER_SUFFIX.match(line) and not line.endswith(_TERMINAL):
        return line
    return None


def is_salutation(line: str) -> bool:
    """True for the line that opens a speech by addressing the audience.

    >>> is_salutation("同志们："), is_salutation("尊敬的各位领导、各位来宾、老师们：")
    (True, True)
    >>> is_salutation("各位来宾、同志们")
    True
    >>> is_salutation("同志们，今天我们召开会议。")
    False
    """
    return len(line) <= 40 and _SALUTATION.match(line) is not None


def is_title_like(line: str) -> bool:
    """True for a short line that can be a title: no closing punctuation, no list number.

    >>> is_title_like("教育局长在2024教育工作会议上的讲话")
    True
    >>> is_title_like("一、统一思想，提高认识"), is_title_like("谢谢大家！")
    (False, False)
    """
    return (
        2 <= len(line) <= 60
        and not line.endswith(_TERMINAL)
        and not _ENUMERATION.match(line)
        and not is_salutation(line)
        and re.search(r"[\u4e00-\u9fff]", line) is not None
    )


def strip_title_suffix(title: str) -> tuple[str, str]:
    """Cut the site's suffixes off a title: the title and what was cut.

    >>> strip_title_suffix("教育局长教育工作会讲话内容篇十二")
    ('教育局长教育工作会讲话内容', '篇十二')
    >>> strip_title_suffix("教育局长在2024年全市双减工作会议上的讲话范文")
    ('教育局长在2024年全市双减工作会议上的讲话', '范文')
    >>> strip_title_suffix("校长开学典礼讲话稿(精选5篇)")
    ('校长开学典礼讲话稿', '(精选5篇)')
    >>> strip_title_suffix("第三篇")
    ('第三篇', '')
    """
    cut = ""
    while True:
        m = TITLE_SUFFIX.search(title)
        if not m or len(title) - len(m.group()) < TITLE_MIN_CHARS:
            return title, cut
        title, cut = title[:m.start()].rstrip(" -_—:："), m.group() + cut


def is_subtitle(line: str) -> bool:
    """True for a dash-led subtitle or byline (``——在…会议上的讲话``, ``---***教育局 局长``) or a date line.

    >>> is_subtitle("——教育局局长在2024教育工作会议上的讲话"), is_subtitle("---***教育局 局长")
    (True, True)
    >>> is_subtitle("（2018年7月11日）")
    True
    >>> is_subtitle("——关于形势：加强思想和思路建设，加强现代教育体系建设。")
    False
    """
    if _DATE_LINE.match(line):
        return True
    return bool(_DASH_LED.match(line)) and is_title_like(line.lstrip(" —-－"))


def title_block(texts: list[str]) -> int:
    """How many of the lines that follow a title are its subtitles.

    They are title-like lines followed by the salutation, or dash-led
    subtitle and byline lines.

    >>> title_block(["认清形势 科学发展", "——在教育工作会议上的讲话", "各位校长、同志们：", "正文。"])
    2
    >>> title_block(["——在教育工作会议上的讲话", "新春伊始，我们召开会议。"])
    1
    >>> title_block(["一年来的工作", "新春伊始，我们召开会议。"])
    0
    """
    n = 0
    while n < len(texts) and n < 6 and (is_subtitle(texts[n]) or is_title_like(texts[n])):
        n += 1
    if n < len(texts) and is_salutation(texts[n]):
        return n
    k = 0
    while k < n and is_subtitle(texts[k]):
        k += 1
    return k


def _same(a: str, b: str) -> bool:
    return _WS.sub("", a) == _WS.sub("", b)


def _title_then_salutation(texts: list[str], i: int) -> bool:
    if not is_title_like(texts[i]):
        return False
    j = i + 1
    if j < len(texts) and _same(texts[j], texts[i]):
        j += 1
    return j < len(texts) and is_salutation(texts[j])


def find_starts(texts: list[str]) -> list[tuple[int, str | None]]:
    """Where speeches start in a list of non-empty lines, with their titles.

    >>> find_starts(["标题甲", "同志们：", "正文。", "标题乙", "标题乙", "同志们：", "正文。"])
    [(0, '标题甲'), (3, '标题乙')]
    """
    starts: list[tuple[int, str | None]] = []
    if texts and piece_marker(texts[0]) is None and is_title_like(texts[0]):
        starts.append((0, texts[0]))  # the page's title line
    for i, text in enumerate(texts):
        if i == 0 and starts:
            continue
        title = piece_marker(text)
        if title is not None:
            if title == "" and i + 1 < len(texts) and is_title_like(texts[i + 1]):
                title = texts[i + 1]
            starts.append((i, title or None))
        elif _title_then_salutation(texts, i):
            # Title-like lines right after a start (a repeated title, a subtitle)
            # are that start's title block, not a new piece.
            if starts and all(is_title_like(t) for t in texts[starts[-1][0] + 1:i]):
                continue
            starts.append((i, text))
    if texts and (not starts or starts[0][0] != 0) and is_title_like(texts[0]):
        starts.insert(0, (0, texts[0]))
    return starts


def _page_heading(page: Page, speeches: list[Speech], texts: list[str],
                  lines: list[tuple[int, str]]) -> None:
    """On a page of several speeches, a first line over the first speech's own title heads the page.

    The first speech then takes its own title (its first plain subtitle line),
    and the page heading is recorded as dropped.
    """
    if len(speeches) < 2 or not texts or piece_marker(texts[0]) is not None:
        return
    first = speeches[0]
    if first.line != lines[0][0] or first.title is None:
        return
    own = next((k for k, sub in enumerate(first.subtitles) if not is_subtitle(sub)), None)
    if own is None:
        return
    page.record(Edit("split", "split.page-heading", first.line, "drop_line", texts[0]))
    first.title = first.subtitles.pop(own)


def split_speeches(page: Page) -> Page:
    """Fill ``page.speeches`` from its lines (in place) and return it.

    Lines before the first start form a speech of their own (title None) when
    anything is left there; speeches with no paragraphs are not kept.
    """
    lines = [(n, t) for n, t in page.lines if t.strip()]
    texts = [t for _, t in lines]
    starts = find_starts(texts)
    if not starts or starts[0][0] != 0:
        starts.insert(0, (0, None))
    speeches: list[Speech] = []
    for k, (begin, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(texts)
        body = list(range(begin, end))
        marker = _MARKER_PREFIX.match(texts[begin]) if body else None
        if marker:
            word = re.match(f"第[{_NUM}]+篇", texts[begin]).group()
            bare = not marker.group(1).strip()
            page.record(Edit("split", "split.piece-marker", lines[begin][0],
                             "drop_line" if bare else "delete_span", texts[begin] if bare else word))
            if title is None:
                body = body[1:]  # a bare marker without a title line
        if title is not None and body:
            body = body[1:]  # the start line carries the title
            if body and piece_marker(texts[begin]) == "" and _same(texts[body[0]], title):
                body = body[1:]  # a bare marker's title line
            skip = 0  # a title repeated under itself (advance, then slice once)
            while skip < len(body) and _same(texts[body[skip]], title):
                page.record(Edit("split", "split.repeated-title", lines[body[skip]][0],
                                 "drop_line", texts[body[skip]]))
                skip += 1
            body = body[skip:]
        subtitles = []
        if title is not None:
            n = title_block([texts[i] for i in body])
            subtitles = []
            for i in body[:n]:
                sub, cut = strip_title_suffix(texts[i])
                if cut:
                    page.record(Edit("split", "split.title-suffix", lines[i][0], "delete_span", cut))
                subtitles.append(sub)
            body = body[n:]
            title, cut = strip_title_suffix(title)
            if cut:
                page.record(Edit("split", "split.title-suffix", lines[begin][0], "delete_span", cut))
        paragraphs = [texts[i] for i in body]
        if not paragraphs:
            for i in range(begin, end):
                page.record(Edit("split", "split.empty-speech", lines[i][0], "drop_line", texts[i]))
            continue
        speeches.append(Speech(len(speeches) + 1, title, paragraphs, lines[begin][0], subtitles))
    _page_heading(page, speeches, texts, lines)
    page.speeches = speeches
    page.stages.append("split")
    return page
