"""Punctuation and whitespace in Chinese text, one small pure function per fix.

Chinese prose takes full-width punctuation; numbers, times, ratios and Latin
text keep their ASCII forms (``1.54亿元``, ``100%``, ``14:13:01``, ``1:4``).
Each fixer returns the new text and how many changes it made, so the run can
count changes per rule. :func:`normalize_line` applies them all and is
idempotent: normalizing twice changes nothing more.
"""
from __future__ import annotations

import re

from .model import Edit, Page

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_PUNCT = "\u3001-\u3003\u3008-\u3011\u3014-\u301f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018\u2019\u201c\u201d\u2026\u2014\u00b7"
_CJK = re.compile(f"[{HAN}{CJK_PUNCT}]")
_HAN = re.compile(f"[{HAN}]")
_WS = " \t\u3000\u00a0\u2002\u2003\u2009\u200a\u202f\u205f"

HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}


def is_cjk(ch: str) -> bool:
    """True for a Han character or a CJK / full-width punctuation mark.

    >>> is_cjk("讲"), is_cjk("，"), is_cjk("a"), is_cjk("1")
    (True, True, False, False)
    """
    return bool(ch) and _CJK.match(ch) is not None


def unescape_quotes(text: str) -> tuple[str, int]:
    r"""Drop the backslashes scrapers leave before quote marks.

    >>> unescape_quotes('实践\\\\\\"三个代表\\\\\\"重要思想')
    ('实践"三个代表"重要思想', 2)
    """
    return re.subn(r"\\+([\"'])", r"\1", text)


_LINE_MARKER = re.compile(f"^[{_WS}]*(?:(?:>|&gt;|＞|#+(?![^#\n]{{1,30}}#)[、.．]?)[{_WS}]*)+")


def strip_line_markers(text: str) -> tuple[str, int]:
    """Remove stray quoting markers (``>``) at the start of a line.

    >>> strip_line_markers(">一、202_年工作回顾")
    ('一、202_年工作回顾', 1)
    >>> strip_line_markers("# 教育部2024年工作要点"), strip_line_markers("#话题# 教育")
    (('教育部2024年工作要点', 1), ('#话题# 教育', 0))
    >>> strip_line_markers("a > b")
    ('a > b', 0)
    """
    return _LINE_MARKER.subn("", text)


_STRAY_MARK = re.compile(f"(?<=[{HAN}])[`´]+(?=[{HAN}])")


def strip_stray_marks(text: str) -> tuple[str, int]:
    """Remove backticks stranded between two Chinese characters.

    >>> strip_stray_marks("拒腐防变的`能力")
    ('拒腐防变的能力', 1)
    >>> strip_stray_marks("run `make test` now")
    ('run `make test` now', 0)
    """
    return _STRAY_MARK.subn("", text)


def strip_indentation(text: str) -> tuple[str, int]:
    """Remove leading and trailing spaces, ideographic spaces included.

    >>> strip_indentation("\u3000\u3000同志们： ")
    ('同志们：', 1)
    """
    stripped = text.strip(_WS + "\n\r\f\v")
    return stripped, int(stripped != text)


def _neighbour(text: str, i: int, step: int) -> str:
    j = i + step
    while 0 <= j < len(text) and text[j] in _WS:
        j += step
    return text[j] if 0 <= j < len(text) else ""


def _chinese_context(text: str, i: int, has_han: bool) -> bool:
    before, after = _neighbour(text, i, -1), _neighbour(text, i, 1)
    if before.isascii() and before.isdigit() and after.isascii() and after.isdigit():
        return False  # 1,000  14:13  1:4
    if is_cjk(before) or is_cjk(after):
        return True
    if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
        return False  # Latin text: "e.g. a, b" / "http://"
    return has_han


def _paren_pairs(text: str) -> dict[int, int]:
    pairs, stack = {}, []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            pairs[stack.pop()] = i
    return pairs


def _widen_once(text: str) -> tuple[str, int]:
    """One left-to-right pass of :func:`widen_punctuation`."""
    if not any(ch in HALF_TO_FULL for ch in text):
        return text, 0
    has_han = _HAN.search(text) is not None
    chars = list(text)
    changed = 0
    for open_i, close_i in _paren_pairs(text).items():
        inside = text[open_i + 1:close_i]
        if (_HAN.search(inside) or _chinese_context(text, open_i, has_han)
                or _chinese_context(text, close_i, has_han)):
            chars[open_i], chars[close_i] = "（", "）"
            changed += 2
    for i, ch in enumerate(text):
        if ch in HALF_TO_FULL and chars[i] == ch and _chinese_context(text, i, has_han):
            chars[i] = HALF_TO_FULL[ch]
            changed += 1
    return "".join(chars), changed


def widen_punctuation(text: str) -> tuple[str, int]:
    """Half-width ``, : ; ! ? ( )`` become full-width where the text is Chinese.

    >>> widen_punctuation("同志们:今天,我们开会(一)")
    ('同志们：今天，我们开会（一）', 4)
    >>> widen_punctuation("时间:2023-11-29 14:13:01,比例1:4")[0]
    '时间：2023-11-29 14:13:01，比例1:4'
    >>> widen_punctuation("入学率达100%;")
    ('入学率达100%；', 1)
    >>> widen_punctuation("see http://a.b/?q=1, ok")[1]
    0
    """
    total = 0
    while True:  # a widened mark can put its neighbour in Chinese context
        text, changed = _widen_once(text)
        if not changed:
            return text, total
        total += changed


def curl_double_quotes(text: str) -> tuple[str, int]:
    """Pair straight double quotes in a Chinese line into “ and ”.

    Lines with an odd number of quotes are left alone: there is no safe pairing.

    >>> curl_double_quotes('实践"三个代表"重要思想')
    ('实践“三个代表”重要思想', 2)
    >>> curl_double_quotes('say "hi"')
    ('say "hi"', 0)
    """
    count = text.count('"')
    if not count or count % 2 or not _HAN.search(text):
        return text, 0
    parts = text.split('"')
    out = [parts[0]]
    for k, part in enumerate(parts[1:]):
        out.append("“" if k % 2 == 0 else "”")
        out.append(part)
    return "".join(out), count


_ASCII_TOKEN = re.compile(r"[0-9A-Za-z.%+\-_]+")


def _token_has_digit(text: str, start: int, end: int) -> bool:
    return any(c.isdigit() for c in text[start:end])


_SPACE_RUN = re.compile(f"[{_WS}]+")
_SENTENCE_MARK = re.compile(r"[，,。；;！？!?：:、（）()]")
_HAN_WORD_END = re.compile(f"[{HAN}]{{2}}$")
_HAN_WORD_START = re.compile(f"[{HAN}]{{2}}")


def _is_phrase_line(text: str) -> bool:
    """A title-like line (short, no punctuation) whose spaces separate phrases.

    >>> _is_phrase_line("认清形势 科学发展"), _is_phrase_line("深入研 究，我们要")
    (True, False)
    """
    return len(text.strip()) <= 60 and not _SENTENCE_MARK.search(text)


def squeeze_spaces(text: str) -> tuple[str, int]:
    """Remove spaces next to Chinese text; fold other runs of spaces to one.

    A space between two Chinese characters, or between Chinese and a number,
    is an artefact of extraction; a space between Chinese and a Latin word is
    kept, as Chinese typesetting does.

    >>> squeeze_spaces("深入研 究，计划总投资1.54 亿元，学生 19957 人次")
    ('深入研究，计划总投资1.54亿元，学生19957人次', 4)
    >>> squeeze_spaces("占计划的103 %")
    ('占计划的103%', 1)
    >>> squeeze_spaces("使用 PPT 课件")
    ('使用 PPT 课件', 0)
    >>> squeeze_spaces("a    b")
    ('a b', 1)

    A title line keeps the spaces between its phrases:

    >>> squeeze_spaces("认清形势 科学发展 狠抓管理")
    ('认清形势 科学发展 狠抓管理', 0)
    """
    phrases = _is_phrase_line(text)
    out, pos, changed = [], 0, 0
    for m in _SPACE_RUN.finditer(text):
        start, end = m.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        drop = False
        if before and after:
            if before.isdigit() and after in "%％‰":
                drop = True  # 103 % → 103%
            elif is_cjk(before) and is_cjk(after):
                drop = not (phrases and _HAN_WORD_END.search(text, 0, start)
                            and _HAN_WORD_START.match(text, end))
            elif is_cjk(before) and after.isascii() and after.isalnum():
                t = _ASCII_TOKEN.match(text, end)
                drop = bool(t) and _token_has_digit(text, *t.span())
            elif is_cjk(after) and before.isascii() and before.isalnum():
                left = start
                while left > 0 and _ASCII_TOKEN.fullmatch(text[left - 1]):
                    left -= 1
                drop = _token_has_digit(text, left, start)
        out.append(text[pos:start])
        if drop:
            changed += 1
        elif m.group() != " ":
            out.append(" ")
            changed += 1
        else:
            out.append(" ")
        pos = end
    out.append(text[pos:])
    return "".join(out), changed


FIXERS = (
    ("normalize.escaped-quote", unescape_quotes),
    ("normalize.line-marker", strip_line_markers),
    ("normalize.stray-mark", strip_stray_marks),
    ("normalize.indent", strip_indentation),
    ("normalize.punct-width", widen_punctuation),
    ("normalize.curly-quote", curl_double_quotes),
    ("normalize.space", squeeze_spaces),
)


def normalize_line(text: str) -> tuple[str, dict[str, int]]:
    """Apply every fixer until the line stops changing; count changes per rule.

    >>> normalize_line("\u3000\u3000同志们: 今天 ,我们开会")
    ('同志们：今天，我们开会', {'normalize.indent': 1, 'normalize.punct-width': 2, 'normalize.space': 2})
    """
    counts: dict[str, int] = {}
    for _ in range(10):
        before = text
        for rule, fixer in FIXERS:
            text, n = fixer(text)
            if n:
                counts[rule] = counts.get(rule, 0) + n
        if text == before:
            break
    return text, counts


def normalize_page(page: Page) -> Page:
    """Normalize every line of ``page`` in place; blank lines stay blank.

    Removed line markers and stray marks are recorded as edits (they delete visible text);
    width and spacing changes are counted per rule.
    """
    lines = []
    for lineno, text in page.lines:
        marker = _LINE_MARKER.match(text)
        if marker and text[marker.end():].strip():
            page.edits.append(Edit("normalize", "normalize.line-marker", lineno,
                                   "delete_span", marker.group()))
        for mark in _STRAY_MARK.findall(text):
            page.edits.append(Edit("normalize", "normalize.stray-mark", lineno, "delete_span", mark))
        new, counts = normalize_line(text)
        for rule, n in counts.items():
            page.count(rule, n)
        lines.append((lineno, new))
    page.lines = lines
    page.stages.append("normalize")
    return page
