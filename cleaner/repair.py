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
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate

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
# Salutations (split.is_salutation: at most 40 characters) and piece markers are
# short lines: text longer than this is not asked about them, so that a long
# paragraph is not copied out again at every space or line that may continue it.
SHORT_LINE_MAX_CHARS = 200


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
    # The longest chain ending at index i extends the longest one ending at an
    # earlier value 1 to PAGE_STEP_MAX below v, the earliest on a tie. Keeping
    # the best chain ending at each value so far makes that PAGE_STEP_MAX
    # look-ups instead of a scan of every earlier index (quadratic on long
    # previews); chains are kept as links back, rebuilt once at the end.
    ending: dict[int, tuple[int, int]] = {}  # value -> (length, earliest index) of its longest chain
    link: list[int] = []  # index -> the index before it in its chain, -1 for none
    end, longest = -1, 0
    for i, v in enumerate(values):
        length, before = max((ending[u] for u in range(v - PAGE_STEP_MAX, v) if u in ending),
                             key=lambda chain: (chain[0], -chain[1]), default=(0, -1))
        link.append(before)
        if length + 1 > ending.get(v, (0, -1))[0]:
            ending[v] = (length + 1, i)
        if length + 1 > longest:
            end, longest = i, length + 1
    chain = []
    while end >= 0:
        chain.append(end)
        end = link[end]
    return chain[::-1]


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


def _last_break(text: str) -> int:
    """Index of the last sentence or clause break (。！？；：) in ``text``, -1 when none.

    >>> _last_break("一、认清形势。肯定成绩；正视差距"), _last_break("正视差距")
    (11, -1)
    """
    return max(map(text.rfind, _BREAK_AFTER))


class _OpenParagraph:
    """The paragraph :func:`split_flattened` is building: ``text[start:end]``, which only grows.

    What :func:`_break_between` asks of it (its last clause, its last
    character, its length without the spaces around it) is updated from each
    added stretch of text, so no question rescans the whole paragraph:
    rescanning it at every space took quadratic time.
    """

    __slots__ = ("text", "start", "end", "clause", "first", "solid_end", "last")

    def __init__(self, text: str, start: int) -> None:
        self.text, self.start, self.end = text, start, start
        self.clause = start  # where its last clause starts: after its last 。！？；：
        self.first = -1  # offset of its first non-space character, -1 while none
        self.solid_end = start  # offset after its last non-space character
        self.last = ""  # its last character that is not a closing quote or bracket, "" while none

    def grow(self, end: int) -> None:
        """Extend the paragraph to ``text[start:end]``."""
        added = self.text[self.end:end]
        brk = _last_break(added)
        if brk >= 0:
            self.clause = self.end + brk + 1
        solid = added.rstrip()
        if solid:
            if self.first < 0:
                self.first = self.end + len(added) - len(added.lstrip())
            self.solid_end = self.end + len(solid)
        kept = added.rstrip(_CLOSERS)
        if kept:
            self.last = kept[-1]
        self.end = end

    def stripped(self, limit: int) -> str | None:
        """The paragraph without the spaces around it, or None when that is longer than ``limit``."""
        if self.first < 0:
            return ""
        return self.text[self.first:self.solid_end] if self.solid_end - self.first <= limit else None


# The end of a speech title, the start of a subtitle or date line: where title lines meet.
_TITLE_END = re.compile(r"(讲话|发言|致辞|讲话稿|发言稿|报告|总结|材料|讲稿)$")
_SUBTITLE_START = re.compile(r"^([—\-－]{1,3}|[（(]|在.{2,40}(讲话|发言|致辞)$)")


def _break_between(left: _OpenParagraph, right: str, head: bool) -> int | None:
    """Where the space between ``left`` and the next piece ``right`` of flattened text ends a paragraph.

    None when it does not; otherwise the offset in ``left`` where the last
    paragraph starts: 0 for all of it, more when a numbered heading ran on
    after the end of a sentence (``…三方面事情:一、认清形势`` / ``202X年…``).
    ``head``: the space is among the title lines at the top of the text.
    """
    text, start, end = left.text, left.start, left.end
    if start == end or not right:
        return None
    # left.last is "" when left is all closing quotes: that too counts as an end.
    if left.last in _BREAK_AFTER or text[end - 1] in _BREAK_AFTER:
        return 0
    alone = left.stripped(SHORT_LINE_MAX_CHARS)
    if (alone is not None and is_salutation(alone)) \
            or is_salutation(re.split("[:：]", right, maxsplit=1)[0] + "："):
        return 0
    if _HEADING.match(right) or _ITEM.match(right):
        return 0
    if end - left.clause <= HEADING_MAX_CHARS:  # a longer last clause is no heading: not copied out
        tail = text[left.clause:end]
        heading = _HEADING.match(tail)
        if heading and HEADING_MIN_CHARS <= len(tail) - heading.end() and not _GAP.search(tail):
            return left.clause - start  # a heading run into the text around it
    # Spaces in the title block are few and near the top, so searching all of left there is cheap.
    if head and (_TITLE_END.search(text, start, end) or text[end - 1] in "）)" or _SUBTITLE_START.match(right)):
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
    para = _OpenParagraph(text, 0)  # a paragraph is a span of text: cut out once, when it ends
    head_end = _title_block_end(text)
    for m in _GAP.finditer(text):
        para.grow(m.start())
        after = _GAP.search(text, m.end())
        right = text[m.end():after.start() if after else len(text)]
        cut = _break_between(para, right, m.start() < head_end)
        if cut is not None:
            paragraphs += [text[para.start:para.start + cut], text[para.start + cut:m.start()]]
            para = _OpenParagraph(text, m.end())
    paragraphs.append(text[para.start:])
    return [p for p in (p.strip() for p in paragraphs) if p]


def _line_lookup(starts: list[tuple[int, int]]) -> Callable[[int], int]:
    """From ``(offset, line)`` of each piece of a joined text to a function: offset → source line.

    The line for an offset is the greatest among the pieces starting at or
    before it (offsets below 0 count as 0), else the first piece's line.
    Sorted offsets and a running maximum answer each offset by bisection,
    not by a pass over every piece.

    >>> line_at = _line_lookup([(0, 3), (5, 4), (5, 2), (9, 6)])
    >>> [line_at(at) for at in (-2, 0, 4, 5, 8, 9, 100)]
    [3, 3, 3, 4, 4, 6, 6]
    """
    ordered = sorted(starts)
    offsets = [off for off, _ in ordered]
    greatest = list(accumulate((ln for _, ln in ordered), max))

    def line_at(at: int) -> int:
        k = bisect_right(offsets, max(at, 0))
        return greatest[k - 1] if k else starts[0][1]

    return line_at


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
        line_at = _line_lookup(starts)
        joined, numbers = drop_page_numbers("".join(body for _, body in pieces),
                                            bound=max(10, 2 * len(run)))
        for at, number in numbers:
            page.record(Edit("repair", "repair.page-number", line_at(at), "delete_span", number))
        # Offsets again, in the text without page numbers. The numbers come in
        # text order, so those before an offset are a prefix: bisect, then a prefix sum.
        number_at = [at for at, _ in numbers]
        removed_before = list(accumulate((len(n) for _, n in numbers), initial=0))
        starts, offset = [], 0
        for lineno, body in pieces:
            starts.append((offset - removed_before[bisect_left(number_at, offset)], lineno))
            offset += len(body)
        line_at = _line_lookup(starts)
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


class _OpenLine:
    """A non-empty line in :func:`join_broken_lines`, with the lines joined onto it so far.

    Its text is kept in pieces and joined once, when it is complete, and what
    :func:`_continues` asks of it is updated from each joined line: rebuilding
    and rescanning the growing paragraph at every join took quadratic time.
    The text is ``lead + "".join(parts) + trail``: the spaces of its first
    line's start and last line's end stay, those at each join go.
    """

    __slots__ = ("lead", "parts", "trail", "size", "punct", "last")

    def __init__(self, text: str) -> None:
        body = text.strip()
        self.lead, self.trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
        self.parts = [body]
        self.size = len(body)  # without lead and trail
        self.punct = bool(_SENTENCE_PUNCT.search(body))
        self.last = body.rstrip(_CLOSERS)[-1:]  # last character but closing quotes, "" when none

    def add(self, text: str) -> None:
        """Join the (non-empty) line ``text``: with a space between two ASCII characters."""
        body = text.strip()
        glue = " " if self.parts[-1][-1:].isascii() and body[:1].isascii() else ""
        self.parts += [glue, body]
        self.trail = text[len(text.rstrip()):]
        self.size += len(glue) + len(body)
        self.punct = self.punct or bool(_SENTENCE_PUNCT.search(body))
        kept = (glue + body).rstrip(_CLOSERS)
        if kept:
            self.last = kept[-1]

    def short(self) -> str | None:
        """The text without the spaces around it; None when joined and over :data:`SHORT_LINE_MAX_CHARS`.

        A line on its own is its own text; a joined one is copied out only while short.
        """
        if len(self.parts) == 1:
            return self.parts[0]
        return "".join(self.parts) if self.size <= SHORT_LINE_MAX_CHARS else None

    def text(self) -> str:
        """The paragraph as it goes into the page: its pieces joined, once."""
        return self.lead + "".join(self.parts) + self.trail


def _continues(prev: _OpenLine, nxt: str, blank_layout: bool, across_blank: bool = False) -> bool:
    """Whether ``nxt`` continues the paragraph that ``prev`` broke off.

    ``across_blank``: blank lines stand between them (a page break, say).
    """
    nxt = nxt.strip()
    inside_block = blank_layout and not across_blank  # no blank line between them
    ends_sentence = bool(prev.last) and prev.last in _TERMINAL  # _ends_sentence, kept up to date
    if not prev.size or not nxt or ends_sentence or _starts_unit(nxt, items=not inside_block):
        return False
    # A joined paragraph too long to copy out is no salutation and no piece marker (short
    # lines; a line opening with a 第N篇 marker is never continued), nor a heading line.
    alone = prev.short()
    if alone is not None and (is_salutation(alone) or piece_marker(alone) is not None):
        return False
    if not prev.punct or (alone is not None and _is_heading_line(alone)):
        return False  # a title or a heading line
    if inside_block:
        return True
    # Otherwise only a long line cut mid-sentence is a wrap.
    return prev.size >= WRAP_MIN_CHARS and prev.parts[-1][-1] not in "；;：:"


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
    para: _OpenLine | None = None  # that line with the lines joined onto it; its text goes in when complete

    def close() -> None:
        if para is not None and len(para.parts) > 1:
            lines[last] = (lines[last][0], para.text())

    for lineno, text in page.lines:
        across = last >= 0 and last < len(lines) - 1
        if text.strip() and para is not None and _continues(para, text, blank, across):
            del lines[last + 1:]  # the blank lines of a break inside a paragraph
            para.add(text)
            page.count("repair.join-broken-line")
            continue
        lines.append((lineno, text))
        if text.strip():
            close()
            last, para = len(lines) - 1, _OpenLine(text)
    close()
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
