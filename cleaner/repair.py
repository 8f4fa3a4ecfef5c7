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
HEADING_MIN_CHARS = 6  # after its number: shorter, a space more likely cuts a word than ends it
_GAP = re.compile(r"[ \u3000\u00a0]+")
_FLATTENED = re.compile(r"[。！？；;!?][ \u3000]+\S")  # paragraphs joined by a space
_PAGE_NUMBER = re.compile(f"(?<=[{_HAN}])[ \u3000]+(\\d{{1,3}})[ \u3000]+(?=[{_HAN}])")
# Characters that follow a number that is content: measure words and units.
MEASURE_WORDS = frozenset(
    "个名人位项条次所家只台件套座辆间本册篇部门节课类种批期届轮级层岁年月日天周号时分秒"
    "元万亿千百倍成米克吨亩里户村镇县市省校班组支队团起例场份张幅首句字"
)
PREVIEW_MIN_CHUNKS = 2
SINGLE_CHUNK_MIN_GAPS = 3  # flattened paragraph breaks that make one "1、" line a preview
PREVIEW_MIN_MEDIAN_CHARS = 120
WRAP_MIN_CHARS = 40
BLANK_LAYOUT_SHARE = 0.4
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
    if len(chunks) == 1:  # a short document shown whole: only its flattening tells
        return len(_FLATTENED.findall(chunks[0])) >= SINGLE_CHUNK_MIN_GAPS
    if len(chunks) < PREVIEW_MIN_CHUNKS:
        return False
    if statistics.median(len(c) for c in chunks) < PREVIEW_MIN_MEDIAN_CHARS:
        return False
    cut = sum(not _ends_sentence(c) for c in chunks[:-1])
    flattened = sum(bool(_FLATTENED.search(c)) for c in chunks)
    return cut * 2 > len(chunks) - 1 or flattened * 2 >= len(chunks)


PAGE_STEP_MAX = 3  # consecutive page numbers a preview shows differ by at most this


def page_number_chain(values: list[int]) -> list[int]:
    """Indexes of the longest run of values rising by 1 to :data:`PAGE_STEP_MAX` at a time.

    Page numbers dropped into a preview rise through the text (2, 3, 6, …);
    a number that is content does not fit in that run. Ties keep the earliest.

    >>> page_number_chain([2, 153, 3, 5, 6, 19])
    [0, 2, 3, 4]
    >>> page_number_chain([])
    []
    """
    best: list[list[int]] = []
    for i, v in enumerate(values):
        chain = max((best[j] for j in range(i) if 0 < v - values[j] <= PAGE_STEP_MAX),
                    key=len, default=[])
        best.append(chain + [i])
    return max(best, key=len, default=[])


def drop_page_numbers(text: str, bound: int) -> tuple[str, list[tuple[int, str]]]:
    """Remove page numbers a preview dropped inside words; keep numbers that are content.

    Candidates stand alone between spaces, between two Chinese characters,
    and are at most ``bound``. Those in the longest rising chain
    (:func:`page_number_chain`) are page numbers; without such a chain, every
    candidate not followed by a measure word is. Returns the text and the removed spans with
    their offsets in ``text``.

    >>> drop_page_numbers("教育发展总体水 2 平还有待提高，形成整体创优的新 3 局面", 20)[0]
    '教育发展总体水平还有待提高，形成整体创优的新局面'
    >>> drop_page_numbers("凝聚素养 3 课堂建设智慧，推进区域性新 4 课程改革", 20)
    ('凝聚素养课堂建设智慧，推进区域性新课程改革', [(4, ' 3 '), (20, ' 4 ')])
    >>> drop_page_numbers("资助学生 19957 人次，建成 5 所学校", 20)[0]
    '资助学生 19957 人次，建成 5 所学校'
    """
    found = [m for m in _PAGE_NUMBER.finditer(text) if int(m.group(1)) <= bound]
    chain = page_number_chain([int(m.group(1)) for m in found])
    if len(chain) < 2:
        chain = [i for i, m in enumerate(found) if text[m.end():m.end() + 1] not in MEASURE_WORDS]
    removed = [(found[i].start(), found[i].group()) for i in chain]
    out, pos = [], 0
    for start, span in removed:
        out.append(text[pos:start])
        pos = start + len(span)
    out.append(text[pos:])
    return "".join(out), removed


def _tail_clause(text: str) -> str:
    """What follows the last sentence or clause break (。！？；：) in ``text``."""
    for i in range(len(text) - 1, -1, -1):
        if text[i] in _BREAK_AFTER:
            return text[i + 1:]
    return text


# The end of a speech title, the start of a subtitle or date line: where title lines meet.
_TITLE_END = re.compile(r"(讲话|发言|致辞|讲话稿|发言稿|报告|总结|材料|讲稿)$")
_SUBTITLE_START = re.compile(r"^([—\-－]{1,3}|[（(]|在.{2,40}(讲话|发言|致辞)$)")


def _break_between(left: str, right: str, head: bool) -> int | None:
    """Where the space between ``left`` and the next piece ``right`` of flattened text ends a paragraph.

    None when it does not; otherwise the offset in ``left`` where the last
    paragraph starts: 0 for all of it, more when a numbered heading ran on
    after the end of a sentence (``…三方面事情:一、认清形势`` / ``202X年…``).
    ``head``: the space is among the title lines at the top of the text.
    """
    if not left or not right:
        return None
    if left.rstrip(_CLOSERS)[-1:] in _BREAK_AFTER or left[-1] in _BREAK_AFTER:
        return 0
    if is_salutation(left.strip()) or is_salutation(re.split("[:：]", right, maxsplit=1)[0] + "："):
        return 0
    if _HEADING.match(right) or _ITEM.match(right):
        return 0
    tail = _tail_clause(left)
    heading = _HEADING.match(tail)
    if heading and HEADING_MIN_CHARS <= len(tail) - heading.end() and len(tail) <= HEADING_MAX_CHARS \
            and not _GAP.search(tail):
        return len(left) - len(tail)  # a heading run into the text around it
    if head and (_TITLE_END.search(left) or left[-1] in "）)" or _SUBTITLE_START.match(right)):
        return 0  # one title line ends and the next (subtitle, date, byline) begins
    return None


def _title_block_end(text: str) -> int:
    """Where the title lines flattened at the top of a preview end.

    They are the pieces (between spaces) before the first piece with
    punctuation or the salutation, within :data:`TITLE_BLOCK_MAX_CHARS`.

    >>> _title_block_end("讲话稿 加速实施教育振兴工程 同志们: 这次会议很重要。")
    15
    >>> _title_block_end("关于教育的讲话 我们要深入研 究，认真落实。")
    15
    """
    pos = 0
    for m in _GAP.finditer(text + " "):
        piece = text[pos:m.start()]
        if pos >= TITLE_BLOCK_MAX_CHARS or is_salutation(re.split("[:：]", piece)[0]) \
                or _SENTENCE_PUNCT.search(piece):
            return pos
        pos = m.end()
    return 0


def split_flattened(text: str) -> list[str]:
    """Cut flattened preview text into paragraphs at the spaces that ended them.

    A space ends a paragraph after sentence-final punctuation or a colon,
    before or after a salutation, before a numbered heading, after a
    numbered heading (which is then cut from the sentence it ran on from),
    and between the title lines at the top where one ends (``…讲话``) or the
    next begins (``——在…``, ``（2023年3月15日）``); spaces between the phrases
    of a title stay. Other spaces are inside a paragraph and stay for
    :mod:`cleaner.normalize` to judge.

    >>> split_flattened("会议讲话稿 加速实施 教育振兴工程 同志们: 这次会议很重要。 二、振奋精神克难奋进 我们要努 力。")
    ['会议讲话稿', '加速实施 教育振兴工程', '同志们:', '这次会议很重要。', '二、振奋精神克难奋进', '我们要努 力。']
    >>> split_flattened("关于教育的讲话 我们要深入研 究，认真落实。")
    ['关于教育的讲话', '我们要深入研 究，认真落实。']
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
        after = _GAP.search(text, m.end())
        right = text[m.end():after.start() if after else len(text)]
        cut = _break_between(current, right, m.start() < head_end)
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
            pieces.append((lineno, text[len(marker):]))
        page.count("repair.chunk-join", len(run) - 1)
        starts, offset = [], 0
        for lineno, body in pieces:
            starts.append((offset, lineno))
            offset += len(body)

        def line_at(at: int) -> int:
            return max((ln for off, ln in starts if off <= max(at, 0)), default=starts[0][1])

        joined, numbers = drop_page_numbers("".join(body for _, body in pieces),
                                            bound=max(10, 2 * len(run)))
        for at, number in numbers:
            page.record(Edit("repair", "repair.page-number", line_at(at), "delete_span", number))
        starts, offset = [], 0  # offsets again, in the text without page numbers
        for lineno, body in pieces:
            starts.append((offset - sum(len(n) for at, n in numbers if at < offset), lineno))
            offset += len(body)
        paragraphs = split_flattened(joined)
        page.count("repair.flattened-split", max(0, len(paragraphs) - len(run)))
        search_from = 0
        for para in paragraphs:
            at = joined.find(para, search_from)
            search_from = at + len(para) if at >= 0 else search_from
            lines.append((line_at(at), para))
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


def _starts_unit(text: str, items: bool = True) -> bool:
    """A line that must begin its own paragraph: heading, salutation, piece marker.

    With ``items``, a numbered item (``二是…``, ``第三，…``) too.
    """
    text = text.strip()
    return (bool(_HEADING.match(text) or (items and _ITEM.match(text))) or is_salutation(text)
            or piece_marker(text) is not None)


def _is_heading_line(text: str) -> bool:
    """A numbered heading on a line of its own: no sentence ends inside it.

    >>> _is_heading_line("一、认清形势,肯定成绩,正视差距"), _is_heading_line("1.优质均衡有进展。入学率达100%;")
    (True, False)
    """
    return (len(text) <= 60 and bool(_HEADING.match(text))
            and not any(c in _TERMINAL + "；;" for c in text[:-1]) and text[-1] not in "；;，,、")


def _continues(prev: str, nxt: str, blank_layout: bool, across_blank: bool = False) -> bool:
    """Whether ``nxt`` continues the paragraph that ``prev`` broke off.

    ``across_blank``: blank lines stand between them (a page break, say).
    """
    prev, nxt = prev.strip(), nxt.strip()
    inside_block = blank_layout and not across_blank  # no blank line between them
    if not prev or not nxt or _ends_sentence(prev) or _starts_unit(nxt, items=not inside_block):
        return False
    if is_salutation(prev) or piece_marker(prev) is not None:
        return False
    if not _SENTENCE_PUNCT.search(prev) or _is_heading_line(prev):
        return False  # a title or a heading line
    if inside_block:
        return True
    # Otherwise only a long line cut mid-sentence is a wrap.
    return len(prev) >= WRAP_MIN_CHARS and prev[-1] not in "；;：:"


def join_broken_lines(page: Page) -> Page:
    """Rejoin paragraphs broken inside a sentence (or, with blank lines between paragraphs, at a semicolon).

    In a blank-line layout, consecutive lines are one paragraph unless the
    first ends a sentence or the second starts a heading. In a one-line
    layout, lines are paragraphs; only a long line that stops mid-sentence is
    joined to the next. Such a line is also joined across blank lines, in
    either layout: a paragraph does not end in the middle of a sentence.
    """
    if page.layout == "preview":
        return page  # the preview repair has cut its paragraphs already
    texts = [t for _, t in page.lines]
    blank = is_blank_line_layout(texts)
    if not page.layout:
        page.layout = "blank-line" if blank else "one-line"
    lines: list[tuple[int, str]] = []
    last = -1  # index in ``lines`` of the last non-empty line
    for lineno, text in page.lines:
        across = last >= 0 and last < len(lines) - 1
        if text.strip() and last >= 0 and _continues(lines[last][1], text, blank, across):
            prev_no, prev = lines[last]
            glue = " " if prev.rstrip()[-1:].isascii() and text.lstrip()[:1].isascii() else ""
            del lines[last + 1:]  # the blank lines of a break inside a paragraph
            lines[last] = (prev_no, prev.rstrip() + glue + text.lstrip())
            page.count("repair.join-broken-line")
            continue
        lines.append((lineno, text))
        if text.strip():
            last = len(lines) - 1
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
