"""Layout repair: give a page its paragraphs back, one per line.

Scraped pages come in three layouts, and each breaks paragraphs its own way:

* **preview**: a document-share site shows the text as numbered chunks
  (``1、…``, ``2、…``) cut at arbitrary points, often mid-word, with the
  paragraphs of each chunk flattened into one line (``…加以解决。 二、振奋精神…``)
  and page numbers dropped inside words (``水 2 平``);
* **blank-line**: paragraphs are separated by blank lines, and a paragraph may
  be broken across lines inside a sentence or after a semicolon;
* **one-line**: one paragraph per line; a long line may still be wrapped in
  the middle of a sentence.

Each repair is a step ``(rule id, function(page) -> page)`` in :data:`STEPS`;
:func:`repair_page` runs them in order. Deleted text (chunk markers, page
numbers) is recorded as an :class:`Edit`; joins and splits are counted under
their rule id. Spaces inside words are left for :mod:`cleaner.normalize`,
which removes every space between two Chinese characters in prose.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Callable

from .model import Edit, Page
from .split import is_salutation, piece_marker

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NUM = "一二三四五六七八九十百零〇两"
_CHUNK_MARKER = re.compile(r"^(\d{1,3})、")
_TERMINAL = "。！？!?…"
_CLOSERS = "”’」』）)》】"
_BREAK_AFTER = _TERMINAL + "；;：:"
_SENTENCE_PUNCT = re.compile(r"[，,。；;！？!?：:、]")
# Numbered headings: （一） (一) 一、 1. 1、 第一部分; and numbered items: 一是 一要 第一，
_HEADING = re.compile(
    f"^(（[{_NUM}\\d]{{1,3}}）|\\([{_NUM}\\d]{{1,3}}\\)|[{_NUM}]{{1,3}}[、.．]|\\d{{1,2}}[.．、](?!\\d)|"
    f"第[{_NUM}\\d]{{1,3}}[部章节条篇])"
)
_ITEM = re.compile(f"^([{_NUM}]{{1,2}}[是要]|第[{_NUM}]{{1,3}}[，,、])")
HEADING_MAX_CHARS = 40
_GAP = re.compile(r"[ \u3000\u00a0]+")
_PAGE_NUMBER = re.compile(f"(?<=[{_HAN}])[ \u3000]+(\\d{{1,3}})[ \u3000]+(?=[{_HAN}])")
# Characters that follow a number that is content: measure words and units.
MEASURE_WORDS = frozenset(
    "个名人位项条次所家只台件套座辆间本册篇部门节课类种批期届轮级层岁年月日天周号时分秒"
    "元万亿千百倍成米克吨亩里户村镇县市省校班组支队团起例场份张幅首句字"
)
PREVIEW_MIN_CHUNKS = 3
PREVIEW_MIN_MEDIAN_CHARS = 120
WRAP_MIN_CHARS = 40
BLANK_LAYOUT_SHARE = 0.4
_SALUTATION_IN_TEXT = re.compile(
    r"(?:^|[ \u3000])(?:尊敬的[^:：。]{0,30}|各位[^:：。]{0,30}|同志们|老师们|同学们|朋友们)[:：]")
TITLE_BLOCK_MAX_CHARS = 300


def _ends_sentence(text: str) -> bool:
    """True when ``text`` ends a sentence: terminal punctuation, maybe inside closing quotes.

    >>> _ends_sentence("加以解决。"), _ends_sentence("“谢谢大家！”"), _ends_sentence("正视")
    (True, True, False)
    """
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL


# ---------------------------------------------------------------- previews

def find_chunk_runs(texts: list[str]) -> list[list[int]]:
    """Indexes of the lines of each preview: numbered chunks ``1、`` ``2、`` … cut mid-sentence.

    Only blank lines may stand between two chunks. A run needs at least
    :data:`PREVIEW_MIN_CHUNKS` chunks, a median length of
    :data:`PREVIEW_MIN_MEDIAN_CHARS` characters, and most chunks (the last
    one aside) ending mid-sentence; a real numbered list ends its items.

    >>> long = "这次年度教育工作会议是在全市推进三次创业的关键时期召开的" * 5
    >>> find_chunk_runs(["标题", "1、" + long, "", "2、" + long, "3、" + long])
    [[1, 3, 4]]
    >>> find_chunk_runs(["1、公权力的使用和把握。", "2、收费问题。", "3、关于干部的使用。"])
    []
    """
    runs: list[list[int]] = []
    i = 0
    while i < len(texts):
        m = _CHUNK_MARKER.match(texts[i])
        if not m or m.group(1) != "1":
            i += 1
            continue
        run, expected, j = [i], 2, i + 1
        while j < len(texts):
            if not texts[j].strip():
                j += 1
                continue
            m = _CHUNK_MARKER.match(texts[j])
            if not m or int(m.group(1)) != expected:
                break
            run.append(j)
            expected += 1
            j += 1
        if _looks_like_preview([texts[k] for k in run]):
            runs.append(run)
            i = j
        else:
            i += 1
    return runs


def _looks_like_preview(chunks: list[str]) -> bool:
    if len(chunks) < PREVIEW_MIN_CHUNKS:
        return False
    if statistics.median(len(c) for c in chunks) < PREVIEW_MIN_MEDIAN_CHARS:
        return False
    cut = sum(not _ends_sentence(c) for c in chunks[:-1])
    return cut * 2 > len(chunks) - 1


def drop_page_numbers(text: str, bound: int) -> tuple[str, list[str]]:
    """Remove page numbers a preview dropped inside words; keep numbers that are content.

    A page number stands alone between spaces, between two Chinese characters,
    is at most ``bound`` and is not followed by a measure word.

    >>> drop_page_numbers("教育发展总体水 2 平还有待提高，形成整体创优的新 3 局面", 20)
    ('教育发展总体水平还有待提高，形成整体创优的新局面', [' 2 ', ' 3 '])
    >>> drop_page_numbers("资助学生 19957 人次，建成 5 所学校", 20)
    ('资助学生 19957 人次，建成 5 所学校', [])
    """
    removed: list[str] = []

    def replace(m: re.Match) -> str:
        after = text[m.end()] if m.end() < len(text) else ""
        if int(m.group(1)) <= bound and after not in MEASURE_WORDS:
            removed.append(m.group())
            return ""
        return m.group()

    return _PAGE_NUMBER.sub(replace, text), removed


def _tail_clause(text: str) -> str:
    """What follows the last sentence or clause break (。！？；：) in ``text``."""
    for i in range(len(text) - 1, -1, -1):
        if text[i] in _BREAK_AFTER:
            return text[i + 1:]
    return text


def _break_between(left: str, right: str, head: bool) -> int | None:
    """Where the space between ``left`` and ``right`` in flattened text ends a paragraph.

    None when it does not; otherwise the offset in ``left`` where the last
    paragraph starts: 0 for all of it, more when a numbered heading ran on
    after the end of a sentence (``…三方面事情:一、认清形势`` / ``202X年…``).
    """
    if not left or not right:
        return None
    if left.rstrip(_CLOSERS)[-1:] in _BREAK_AFTER or left[-1] in _BREAK_AFTER:
        return 0
    if is_salutation(re.split("[:：]", right, maxsplit=1)[0] + "："):
        return 0
    if _HEADING.match(right) or _ITEM.match(right):
        return 0
    tail = _tail_clause(left)
    if len(tail) <= HEADING_MAX_CHARS and _HEADING.match(tail):
        return len(left) - len(tail)  # a heading run into the text around it
    if head and not _SENTENCE_PUNCT.search(left) and len(left) <= 60 \
            and re.search(f"[{_HAN}]$", left) and re.match(f"[{_HAN}]", right):
        return 0  # the title block at the top of a preview: title, subtitle, byline
    return None


def _title_block_end(text: str) -> int:
    """Where the title lines flattened at the top of a preview end: at the salutation.

    0 when the text does not open with punctuation-free lines and a salutation.

    >>> _title_block_end("讲话稿 加速实施教育振兴工程 同志们: 这次会议很重要。")
    15
    >>> _title_block_end("我们要深入研 究，认真落实。同志们: 好。")
    0
    """
    m = _SALUTATION_IN_TEXT.search(text, 0, TITLE_BLOCK_MAX_CHARS)
    if not m or _SENTENCE_PUNCT.search(text, 0, m.start()):
        return 0
    return m.start() + 1


def split_flattened(text: str) -> list[str]:
    """Cut flattened preview text into paragraphs at the spaces that ended them.

    A space ends a paragraph after sentence-final punctuation or a colon,
    before a salutation or a numbered heading, after a numbered heading
    (which is then cut from the sentence it ran on from), and between the
    title lines at the top. Other spaces are inside a paragraph and stay for
    :mod:`cleaner.normalize` to judge.

    >>> split_flattened("讲话稿 加速实施教育振兴工程 同志们: 这次会议很重要。 二、振奋精神 我们要努 力。")
    ['讲话稿', '加速实施教育振兴工程', '同志们:', '这次会议很重要。', '二、振奋精神', '我们要努 力。']
    >>> split_flattened("我讲三方面事情:一、认清形势,肯定成绩 202X年,是可喜的一年。")
    ['我讲三方面事情:', '一、认清形势,肯定成绩', '202X年,是可喜的一年。']
    """
    paragraphs: list[str] = []
    current = ""
    pos = 0
    head_end = _title_block_end(text)
    for m in _GAP.finditer(text):
        current += text[pos:m.start()]
        pos = m.end()
        cut = _break_between(current, text[m.end():m.end() + 20], m.start() < head_end)
        if cut is None:
            current += m.group()
            continue
        paragraphs += [current[:cut], current[cut:]]
        current = ""
    paragraphs.append(current + text[pos:])
    return [p for p in (p.strip() for p in paragraphs) if p]


def repair_previews(page: Page) -> Page:
    """Rejoin the chunks of document-share previews and re-split their paragraphs."""
    texts = [t for _, t in page.lines]
    runs = find_chunk_runs(texts)
    if not runs:
        return page
    page.layout = "preview"
    first_of_run = {run[0]: run for run in runs}
    inside = {k for run in runs for k in run}
    lines: list[tuple[int, str]] = []
    k = 0
    while k < len(page.lines):
        if k not in first_of_run:
            if k not in inside:
                lines.append(page.lines[k])
            k += 1
            continue
        run = first_of_run[k]
        pieces: list[tuple[int, str]] = []  # (source line, text) with markers removed
        for idx in run:
            lineno, text = page.lines[idx]
            marker = _CHUNK_MARKER.match(text).group()
            page.record(Edit("repair", "repair.chunk-marker", lineno, "delete_span", marker))
            body, numbers = drop_page_numbers(text[len(marker):], bound=max(10, 2 * len(run)))
            for number in numbers:
                page.record(Edit("repair", "repair.page-number", lineno, "delete_span", number))
            pieces.append((lineno, body))
        page.count("repair.chunk-join", len(run) - 1)
        joined = "".join(body for _, body in pieces)
        starts, offset = [], 0
        for lineno, body in pieces:
            starts.append((offset, lineno))
            offset += len(body)
        paragraphs = split_flattened(joined)
        page.count("repair.flattened-split", max(0, len(paragraphs) - len(run)))
        search_from = 0
        for para in paragraphs:
            at = joined.find(para, search_from)
            search_from = at + len(para) if at >= 0 else search_from
            lineno = max((ln for off, ln in starts if off <= max(at, 0)), default=starts[0][1])
            lines.append((lineno, para))
        k = run[-1] + 1
    page.lines = lines
    return page


# ---------------------------------------------------------------- broken lines

def is_blank_line_layout(texts: list[str]) -> bool:
    """True when many non-empty lines (:data:`BLANK_LAYOUT_SHARE`) are followed by a blank line.

    >>> is_blank_line_layout(["甲。", "", "乙;", "丙。", "", "丁。", ""])
    True
    >>> is_blank_line_layout(["甲。", "乙。", "丙。", "丁。", "", "戊。"])
    False
    """
    nonempty = [i for i, t in enumerate(texts) if t.strip()]
    if len(nonempty) < 4:
        return False
    followed = sum(1 for i in nonempty if i + 1 < len(texts) and not texts[i + 1].strip())
    return followed >= BLANK_LAYOUT_SHARE * len(nonempty)


def _starts_unit(text: str) -> bool:
    """A line that must begin its own paragraph: heading, salutation, piece marker."""
    text = text.strip()
    return (bool(_HEADING.match(text) or _ITEM.match(text)) or is_salutation(text)
            or piece_marker(text) is not None)


def _is_heading_line(text: str) -> bool:
    """A numbered heading on a line of its own: no sentence ends inside it.

    >>> _is_heading_line("一、认清形势,肯定成绩,正视差距"), _is_heading_line("1.优质均衡有进展。入学率达100%;")
    (True, False)
    """
    return (len(text) <= 60 and bool(_HEADING.match(text))
            and not any(c in _TERMINAL + "；;" for c in text[:-1]))


def _continues(prev: str, nxt: str, blank_layout: bool) -> bool:
    """Whether ``nxt`` continues the paragraph that ``prev`` broke off."""
    prev, nxt = prev.strip(), nxt.strip()
    if not prev or not nxt or _ends_sentence(prev) or _starts_unit(nxt):
        return False
    if is_salutation(prev) or piece_marker(prev) is not None:
        return False
    if not _SENTENCE_PUNCT.search(prev) or _is_heading_line(prev):
        return False  # a title or a heading line
    if blank_layout:
        return True
    # One paragraph per line: only a long line cut mid-sentence is a wrap.
    return len(prev) >= WRAP_MIN_CHARS and prev[-1] not in "；;：:"


def join_broken_lines(page: Page) -> Page:
    """Rejoin paragraphs broken inside a sentence (or, with blank lines between paragraphs, at a semicolon).

    In a blank-line layout, consecutive lines are one paragraph unless the
    first ends a sentence or the second starts a heading. In a one-line
    layout, lines are paragraphs; only a long line that stops mid-sentence is
    joined to the next.
    """
    if page.layout == "preview":
        return page  # the preview repair has cut its paragraphs already
    texts = [t for _, t in page.lines]
    blank = is_blank_line_layout(texts)
    if not page.layout:
        page.layout = "blank-line" if blank else "one-line"
    lines: list[tuple[int, str]] = []
    for lineno, text in page.lines:
        if lines and text.strip() and lines[-1][1].strip() and _continues(lines[-1][1], text, blank):
            prev_no, prev = lines[-1]
            glue = " " if prev.rstrip()[-1:].isascii() and text.lstrip()[:1].isascii() else ""
            lines[-1] = (prev_no, prev.rstrip() + glue + text.lstrip())
            page.count("repair.join-broken-line")
        else:
            lines.append((lineno, text))
    page.lines = lines
    return page


STEPS: tuple[tuple[str, Callable[[Page], Page]], ...] = (
    ("repair.preview", repair_previews),
    ("repair.join-broken-line", join_broken_lines),
)


def repair_page(page: Page) -> Page:
    """Run every layout repair on ``page`` (in place) and return it."""
    for _, step in STEPS:
        step(page)
    page.stages.append("repair")
    return page
