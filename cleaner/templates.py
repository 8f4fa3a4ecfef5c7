"""Corpus-learned site templates: lines that recur across many source files.

Rule files catch the boilerplate someone has already seen. A site nobody has
written rules for still gives itself away: its navigation, footers and promo
lines come back on every page it serves, with only the digits, the dates and
the page's own title changing. This module finds such lines from the corpus
itself, in two steps:

1. **Count.** :class:`TemplateCounter` reads pages one at a time and counts, for
   each *masked* line (:func:`mask_line`: width and case folded, whitespace
   removed, the page's title, dates, times, digit runs and starred user names
   replaced by placeholders), in how many files it occurs. It keeps compact
   data only: 64-bit hashes, counts, a few example lines per recurring key and
   small sketches, never the pages.
2. **Decide.** :func:`find_candidates` turns the counts into candidates and
   decides for each one whether it is site chrome. Lines also recur because
   they are speech content: salutations and closings (``同志们：``,
   ``谢谢大家！``), numbered headings (``一、统一思想，提高认识``), and every
   paragraph of a speech that many sites repost. Those are *protected*; the
   others are learned only when something marks them as chrome (see
   :class:`Candidate` and ``docs/templates.md`` for the signals and the
   measurements behind the defaults).

:func:`learn` keeps the learned candidates as :class:`Templates`, which
serialize to JSON; :func:`strip_templates` drops the matching lines of a page,
recording each one under the rule id ``template.<id>``; :func:`describe_candidates`
and :func:`suggest_rule` turn candidates into a table or ``[[rule]]`` snippets
for a rule file.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache

from .errors import CleanerError, UsageError
from .model import Edit, Page
from .rules import fold
from .split import is_salutation, piece_marker


class TemplateError(CleanerError):
    """A templates file cannot be read: wrong shape or missing fields."""


# --------------------------------------------------------------------------
# Masking: the key under which a line is counted.
# --------------------------------------------------------------------------

PLACEHOLDERS = ("title", "date", "time", "n", "user")

_CN_DIGITS = "〇零一二三四五六七八九十百千两"
# Alternatives are tried left to right at each position: a date is taken whole
# before its digit runs could be. The leading lookahead only lets positions
# that can start a variable part try the alternatives (a large speed-up).
_VARIABLE = re.compile(
    f"(?=[0-9a-z*{_CN_DIGITS}]|\\w{{1,3}}\\*)"
    r"(?:(?P<user>(?=\w{0,3}\*\*)\w{0,3}\*{2,}\w{0,3})"
    r"|(?P<date>\d{4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}"
    r"|\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号])"
    r"|(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
    r"|(?P<n>(?<![0-9a-z])(?=[a-z]*\d)[0-9a-z]+(?:[.,]\d+[0-9a-z]*)*"
    f"|(?<=[第共])[{_CN_DIGITS}]+(?=\\s*[页頁])))"
)
# Every variable part holds a digit, a star or a page counter's 页: lines
# without one (most speech text) skip the masking pattern.
_MAY_VARY = re.compile(r"[0-9*页頁]")
_SPACE = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\{(?:title|date|time|n|user)\}")


def _squeeze(text: str) -> str:
    return _SPACE.sub("", fold(text))


@lru_cache(maxsize=256)
def _title_pattern(squeezed_title: str) -> re.Pattern:
    return re.compile(r"\s*".join(re.escape(ch) for ch in squeezed_title))


def _segments(folded: str, squeezed: str, title: str) -> list[tuple[str, str]]:
    """:func:`mask_segments` on a line already folded (and squeezed), title squeezed."""
    spans: list[tuple[int, int]] = []
    if title and title in squeezed and squeezed != title:
        spans = [m.span() for m in _title_pattern(title).finditer(folded) if m.end() > m.start()]
    pieces: list[tuple[str, str]] = []
    pos = 0
    for start, end in spans + [(len(folded), len(folded))]:
        chunk = folded[pos:start]
        cursor = 0
        for m in _VARIABLE.finditer(chunk) if _MAY_VARY.search(chunk) else ():
            if m.end() == m.start():
                continue
            if m.start() > cursor:
                pieces.append(("text", chunk[cursor:m.start()]))
            pieces.append((m.lastgroup, m.group()))
            cursor = m.end()
        if cursor < len(chunk):
            pieces.append(("text", chunk[cursor:]))
        if end > start:
            pieces.append(("title", folded[start:end]))
        pos = end
    return pieces


def _key(pieces: list[tuple[str, str]]) -> str:
    return "".join(_SPACE.sub("", piece) if kind == "text" else "{" + kind + "}"
                   for kind, piece in pieces)


def mask_segments(text: str, title: str | None = None) -> list[tuple[str, str]]:
    """Cut a line into literal and variable pieces: ``(kind, folded text)`` pairs.

    ``kind`` is ``"text"`` for literal pieces and one of :data:`PLACEHOLDERS`
    for variable ones. The pieces are the folded line (see
    :func:`cleaner.rules.fold`) cut up, whitespace kept, so they always join
    back to ``fold(text)``. The page's title is masked only where it is *part*
    of a longer line (``《title》由会员分享``): the title line itself stays
    literal, so it is never counted as a template of its own.

    >>> mask_segments("时间：2023-11-29 14:13:01 来源：网友", None)
    [('text', '时间:'), ('date', '2023-11-29'), ('text', ' '), ('time', '14:13:01'), ('text', ' 来源:网友')]
    >>> mask_segments("下载《教育工作会议讲话》第三页", "教育工作会议讲话")
    [('text', '下载《'), ('title', '教育工作会议讲话'), ('text', '》第'), ('n', '三'), ('text', '页')]
    >>> "".join(piece for _, piece in mask_segments("上传人:新** 大小:24.50KB", None)) == fold("上传人:新** 大小:24.50KB")
    True
    """
    folded = fold(text)
    return _segments(folded, _SPACE.sub("", folded), _squeeze(title or ""))


def mask_line(text: str, title: str | None = None) -> str:
    """The key a line is counted under: folded, no whitespace, variable parts masked.

    Placeholders: ``{title}`` (the page's own title inside a longer line),
    ``{date}`` (``2023-11-29``, ``2023/1/5``, ``2023年11月29日``, ``11月29日``),
    ``{time}`` (``14:13:01``), ``{user}`` (a starred user name such as
    ``新**``) and ``{n}`` (any other run of Latin letters and digits that holds a
    digit, ``24.50kb`` included, and Chinese numerals in page counters such
    as ``第三页``). Chinese numerals elsewhere stay: ``一、`` opens a heading.

    >>> mask_line("时间:2023-11-29 14:13:01 来源:网友投稿")
    '时间:{date}{time}来源:网友投稿'
    >>> mask_line("第３页 / 共１０页") == mask_line("第1页/共2页") == "第{n}页/共{n}页"
    True
    >>> mask_line("《教育局讲话稿》由会员分享", "教育局讲话稿")
    '《{title}》由会员分享'
    >>> mask_line("教育局讲话稿", "教育局讲话稿")
    '教育局讲话稿'
    >>> mask_line("上传人:新** 文档编号:558910364 上传时间:2023-01-16 大小:24.50KB")
    '上传人:{user}文档编号:{n}上传时间:{date}大小:{n}'
    >>> mask_line("一、统一思想，提高认识")
    '一、统一思想,提高认识'
    """
    return _key(mask_segments(text, title))


def literal_text(key: str) -> str:
    """The letters, digits and Han characters a key keeps outside its placeholders.

    >>> literal_text("第{n}页/共{n}页")
    '第页共页'
    >>> literal_text("({date})")
    ''
    """
    return "".join(ch for ch in _PLACEHOLDER.sub("", key) if ch.isalnum())


# --------------------------------------------------------------------------
# The page's own title, found without the split stage.
# --------------------------------------------------------------------------

TITLE_SCAN = 10  # non-empty lines at the top of a page that may be its title
TITLE_MIN, TITLE_MAX = 5, 60  # title length bounds, whitespace not counted
_SENTENCE_END = tuple("。！？；：!?;:,，、")


def page_title(texts: Sequence[str]) -> str | None:
    """The line taken as the page's title, for masking; None when none fits.

    Among the first :data:`TITLE_SCAN` non-empty lines, those of
    :data:`TITLE_MIN` to :data:`TITLE_MAX` characters that do not end like a
    sentence are candidates; the one found inside the most other lines of the
    page wins (sites repeat the title: a second title line, ``《…》由会员分享``,
    ``…_第1页``), the earliest on a tie; with no repeat, the first candidate.
    A wrong pick does little harm: the picked line itself is never masked.

    >>> page_title(["首页 | 范文 | 讲话稿", "教育工作会议讲话稿", "下载《教育工作会议讲话稿》", "同志们："])
    '教育工作会议讲话稿'
    >>> page_title(["关于开展安全检查的通知", "各单位："])
    '关于开展安全检查的通知'
    >>> page_title(["同志们：", "谢谢！"]) is None
    True
    """
    nonempty = [t for t in texts if t.strip()]
    best = _title_index([_squeeze(t) for t in nonempty])
    return None if best is None else nonempty[best].strip()


def _title_index(squeezed: list[str]) -> int | None:
    """:func:`page_title` on the squeezed non-empty lines: the index of the title."""
    best, best_score = None, 0
    for i, line in enumerate(squeezed[:TITLE_SCAN]):
        if not (TITLE_MIN <= len(line) <= TITLE_MAX) or line.endswith(_SENTENCE_END):
            continue
        score = sum(1 for j, other in enumerate(squeezed) if j != i and line in other)
        if best is None or score > best_score:
            best, best_score = i, score
    return best


@dataclass
class _PageView:
    """A page's non-empty lines, each folded once, with its title and keys."""

    entries: list[tuple[int, str]]
    squeezed: list[str]
    title_index: int | None
    keys: list[str]

    @property
    def title(self) -> str | None:
        return None if self.title_index is None else self.entries[self.title_index][1].strip()

    @classmethod
    def of(cls, lines: Iterable[tuple[int, str]]) -> _PageView:
        entries = [(n, t) for n, t in lines if t.strip()]
        folded = [fold(t) for _, t in entries]
        squeezed = [_SPACE.sub("", f) for f in folded]
        best = _title_index(squeezed)
        title_sq = "" if best is None else squeezed[best]
        keys = [_key(_segments(f, q, title_sq)) for f, q in zip(folded, squeezed)]
        return cls(entries, squeezed, best, keys)


# --------------------------------------------------------------------------
# What a line says about itself: speech formula, paragraph, site vocabulary.
# --------------------------------------------------------------------------

_CLOSING = re.compile(
    r"^(谢谢(大家|各位|您们)?|感谢(大家|各位)(的(聆听|倾听))?|讲话完毕|我的讲话(完了|到此结束|就到这里)"
    r"|我就讲(这些|这么多|到这里)|就讲这些|祝(大家|各位|同志们|全体).{0,30})[!.。]*$"
)
_HEADING = re.compile(
    r"^(第?[一二三四五六七八九十百]+[、.,:是]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、.]"
    r"|[①-⑳]|第[一二三四五六七八九十百\d]+(章|节|条|部分))\s*\S"
)
# A speech's own title: ends with the name of its genre, perhaps with a site's
# suffix; no sentence marks and no menu separators.
_SPEECH_TITLE = re.compile(
    r"^[^,。;!?:|｜›>»·/]{2,60}?(讲话|讲话稿|发言|发言稿|致辞|讲稿|演讲|演讲稿|报告|主持词|贺词"
    r"|开幕词|闭幕词|欢迎词|答谢词|动员令|总结|心得体会)(范文|全文|稿)?(\([^)]{1,12}\))?$"
)


def speech_formula(text: str) -> str | None:
    """The kind of speech formula a line is, or None.

    Kinds: ``salutation`` (``同志们：``), ``closing`` (``谢谢大家！``),
    ``heading`` (``一、…``, ``（二）…``, ``3.…``), ``marker`` (a piece marker
    such as ``…讲话篇二`` or ``第二篇：…``) and ``title`` (a speech title such as
    ``在2023年全县教育工作会议上的讲话``). Formulas recur across unrelated
    speeches on unrelated sites, so recurrence says nothing about them; they
    are protected from learning.

    >>> [speech_formula(t) for t in ("同志们：", "各位领导、同志们：", "谢谢大家！", "一、统一思想，提高认识")]
    ['salutation', 'salutation', 'closing', 'heading']
    >>> speech_formula("（二）加强队伍建设"), speech_formula("祝大家新春愉快、工作顺利！")
    ('heading', 'closing')
    >>> speech_formula("教育局长工作会讲话篇三"), speech_formula("在2023年全县教育工作会议上的讲话范文")
    ('marker', 'title')
    >>> speech_formula("首页 | 范文 | 讲话稿") is None, speech_formula("谢谢您的支持，欢迎再来本站") is None
    (True, True)
    """
    line = text.strip()
    if not line or len(line) > 64:
        return None
    if is_salutation(line):
        return "salutation"
    folded = _squeeze(line)
    if _CLOSING.match(folded):
        return "closing"
    if piece_marker(line) is not None:
        return "marker"
    if _HEADING.match(folded):
        return "heading"
    if _SPEECH_TITLE.match(re.sub(r"篇[一二三四五六七八九十]+$", "", folded)):
        return "title"
    return None


# Words that belong to the site, not to a speech. Common speech words that
# sites also use (相关, 推荐, 阅读, 分享, 在线, 免费, 会员, 举报) are left out on
# purpose: a speech may say them.
SITE_WORDS = (
    "本站", "本网", "网站", "网友", "小编", "投稿", "转载", "出处", "原创", "版权", "侵权",
    "免责", "下载", "上传", "登录", "注册", "vip", "收藏", "点击", "扫码", "扫一扫", "二维码",
    "公众号", "微信", "客服", "首页", "栏目", "频道", "网址", "www", "http", ".com", ".cn",
    "文库", "范文", "文档", "浏览", "评论", "点赞", "上一篇", "下一篇", "返回顶部", "热门",
    "标签", "广告", "word", "pdf", "doc", "您",
)


def site_words(key: str) -> list[str]:
    """The site vocabulary a masked key contains.

    >>> site_words("更多范文请访问本站首页")
    ['本站', '首页', '范文']
    >>> site_words("同志们:")
    []
    """
    return [w for w in SITE_WORDS if w in key]


PARAGRAPH_MIN = 20  # literal characters a paragraph has at least
_CLAUSE = re.compile(r"[,。;!?]")


def written_in_sentences(key: str) -> bool:
    """True for a masked key of at least :data:`PARAGRAPH_MIN` literal characters
    that ends like a sentence or holds two clause marks.

    >>> written_in_sentences(mask_line("这次会议的主要任务是，学习贯彻全省教育工作会议精神，部署今年重点工作。"))
    True
    >>> written_in_sentences(mask_line("首页 范文大全 讲话稿 发言稿 心得体会 工作总结 工作计划 述职报告"))
    False
    """
    if len(literal_text(key)) < PARAGRAPH_MIN:
        return False
    return key.endswith(("。", "!", "?", ";")) or len(_CLAUSE.findall(key)) >= 2


def site_evidence(key: str) -> list[str]:
    """The site words that count as evidence of chrome in a key.

    One is enough in a short line; a line written in sentences needs two,
    because speeches mention websites, downloads and public accounts too.

    >>> site_evidence("扫码关注「墨香文苑」获取更多好文")
    ['扫码']
    >>> site_evidence(mask_line("依托融媒体、教育局公众号等平台全面落实教育工作宣传，主动接受群众监督。"))
    []
    >>> site_evidence(mask_line("本站部分文章来源于网络，仅供学习交流，如有侵权请联系删除。"))
    ['本站', '侵权']
    """
    words = site_words(key)
    return words if len(words) >= (2 if written_in_sentences(key) else 1) else []


def paragraph_like(key: str) -> bool:
    """True for a masked key that reads like a speech paragraph: written in
    sentences, without site evidence, not built around the page's title.

    >>> paragraph_like(mask_line("这次会议的主要任务是，学习贯彻全省教育工作会议精神，部署今年重点工作。"))
    True
    >>> paragraph_like(mask_line("本站部分内容来自网友投稿，如有侵权请联系删除，谢谢合作。"))
    False
    """
    return written_in_sentences(key) and "{title}" not in key and not site_evidence(key)


# --------------------------------------------------------------------------
# Counting: one streaming pass, compact data only.
# --------------------------------------------------------------------------

def _h64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _h32(text: str) -> int:
    return _h64(text) >> 32


def template_id(key: str) -> str:
    """A short stable id for a masked key: 8 hex digits of its BLAKE2b hash.

    >>> template_id("第{n}页/共{n}页")
    '69859c8e'
    >>> len(template_id("x")) == 8 and template_id("x") == template_id("x")
    True
    """
    return f"{_h32(key):08x}"


_EDGE = 0  # the neighbour of the first and last line of a page


@dataclass(frozen=True)
class Example:
    """A line that gave a key: where it was, its text, and the page's title
    when the key masks it (a rule written from the line needs it)."""

    source: str
    line: int
    text: str
    title: str | None = None

    def to_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "text": self.text, "title": self.title}

    @classmethod
    def from_dict(cls, d: dict) -> Example:
        title = d.get("title")
        if not isinstance(d["source"], str) or not isinstance(d["text"], str) or not (
                title is None or isinstance(title, str)):
            raise TypeError("example source, text and title must be strings")
        return cls(d["source"], int(d["line"]), d["text"], title)


@dataclass
class KeyStats:
    """What the counter keeps about a key seen in at least two files.

    The first file is only counted (``files``, ``repeats``) and remembered in
    the sketch and ``forms``; examples and neighbours come from the later
    files (``observed`` of them).
    """

    key: str
    files: int = 1
    observed: int = 0
    repeats: int = 0  # files that hold the key more than once
    forms: list[int] = field(default_factory=list)  # up to 2 distinct raw forms
    prev: dict[int, int] = field(default_factory=dict)  # neighbour key hash -> files
    next: dict[int, int] = field(default_factory=dict)
    sketch: list[int] = field(default_factory=list)  # bottom-k of the file hashes
    examples: list[Example] = field(default_factory=list)


def _bump(counts: dict[int, int], item: int, capacity: int) -> None:
    """Misra-Gries step: a bounded count that keeps every frequent item.

    An item in more than 1/(capacity+1) of the updates is never dropped, and
    its count is low by at most that share.
    """
    if item in counts:
        counts[item] += 1
    elif len(counts) < capacity:
        counts[item] = 1
    else:
        for other in list(counts):
            counts[other] -= 1
            if not counts[other]:
                del counts[other]


def _sketch_add(sketch: list[int], value: int, size: int) -> None:
    if len(sketch) >= size and value >= sketch[-1]:
        return
    i = bisect.bisect_left(sketch, value)
    if i < len(sketch) and sketch[i] == value:
        return
    sketch.insert(i, value)
    del sketch[size:]


def sketch_jaccard(a: Sequence[int], b: Sequence[int], size: int) -> float:
    """Estimated Jaccard similarity of two file sets from their bottom-k sketches.

    Exact while the union of both sets fits in ``size`` values.

    >>> sketch_jaccard([1, 2, 3], [2, 3, 4], 8)
    0.5
    >>> sketch_jaccard([], [], 8)
    0.0
    """
    union = sorted(set(a) | set(b))[:size]
    if not union:
        return 0.0
    both = set(a) & set(b)
    return sum(1 for v in union if v in both) / len(union)


def sketch_containment(a: list[int], b: list[int], size: int) -> float:
    """Estimated share of the first file set that is also in the second.

    >>> sketch_containment([1, 2], [1, 2, 3, 4], 8)
    1.0
    >>> sketch_containment([1, 2, 3, 4], [1, 2], 8)
    0.5
    """
    set_a, set_b = set(a), set(b)
    in_a = [v for v in sorted(set_a | set_b)[:size] if v in set_a]
    if not in_a:
        return 0.0
    return sum(1 for v in in_a if v in set_b) / len(in_a)


class TemplateCounter:
    """Counts masked lines over a corpus, once per file, in one streaming pass.

    Memory: one small entry per distinct masked line seen in a single file
    (its hash, the file and the line's form packed in one integer); a
    :class:`KeyStats` only for keys seen in two files or more, with at most
    ``examples`` example lines, ``neighbours`` neighbour counts per side and a
    ``sketch``-value sketch of its files.
    """

    def __init__(self, examples: int = 3, neighbours: int = 16, sketch: int = 32) -> None:
        self.examples = examples
        self.neighbours = neighbours
        self.sketch = sketch
        self.files = 0
        self._once: dict[int, int] = {}
        self.stats: dict[int, KeyStats] = {}

    def add(self, lines: Page | Iterable, source: str | None = None) -> frozenset[int]:
        """Count one file's lines: a :class:`Page`, ``(lineno, text)`` pairs or plain strings.

        Empty lines are skipped; a key is counted once per file however often
        the file repeats it. Pages that failed to decode are not counted.
        Returns the hashes of the file's keys, for :meth:`Templates.matching`.
        """
        if isinstance(lines, Page):
            if lines.error is not None:
                return frozenset()
            source = source if source is not None else lines.source
            lines = lines.lines
        if source is None:
            raise ValueError("add() needs the source of plain lines")
        view = _PageView.of(_numbered(lines))
        self.files += 1
        entries, keys, title = view.entries, view.keys, view.title
        title_key = None if view.title_index is None else keys[view.title_index]
        hashes = [_h64(k) for k in keys]
        file_hash = _h32(source)
        occurrences = Counter(hashes)
        seen: set[int] = set()
        for i, h in enumerate(hashes):
            if h in seen:
                continue
            seen.add(h)
            lineno, text = entries[i]
            form = _h32(view.squeezed[i])
            # A title printed twice is the page's title, not a sign of chrome.
            repeated = occurrences[h] > 1 and keys[i] != title_key
            stats = self.stats.get(h)
            if stats is None:
                packed = self._once.pop(h, None)
                if packed is None:
                    self._once[h] = (file_hash << 33) | (repeated << 32) | form
                    continue
                stats = KeyStats(keys[i], forms=[packed & 0xFFFFFFFF], repeats=(packed >> 32) & 1)
                _sketch_add(stats.sketch, packed >> 33, self.sketch)
                self.stats[h] = stats
            stats.files += 1
            stats.observed += 1
            stats.repeats += repeated
            if form not in stats.forms and len(stats.forms) < 2:
                stats.forms.append(form)
            j = i + 1
            while j < len(hashes) and hashes[j] == h:
                j += 1  # a line printed twice in a row has the same neighbours as once
            _bump(stats.prev, hashes[i - 1] if i else _EDGE, self.neighbours)
            _bump(stats.next, hashes[j] if j < len(hashes) else _EDGE, self.neighbours)
            _sketch_add(stats.sketch, file_hash, self.sketch)
            if len(stats.examples) < self.examples and all(
                    e.text != text.strip() for e in stats.examples):
                stats.examples.append(Example(source, lineno, text.strip(),
                                              title if "{title}" in keys[i] else None))
        return frozenset(seen)


def _numbered(lines: Iterable) -> Iterable[tuple[int, str]]:
    for i, item in enumerate(lines, 1):
        if isinstance(item, str):
            yield i, item
        else:
            n, t = item
            yield int(n), t


# --------------------------------------------------------------------------
# Deciding: which recurring keys are site chrome.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class TemplateSettings:
    """Thresholds for learning; the defaults and their measurements are in docs/templates.md.

    Impossible values raise :class:`~cleaner.errors.UsageError`.

    Which keys are candidates:

    * ``min_files``, ``min_share``: in at least this many files and this share
      of all files;
    * ``max_chars``: example lines at most this long;
    * ``min_literal``: at least this many letters, digits or Han characters
      outside the placeholders (``({date})`` alone is no template).

    How candidates are decided (see :class:`Candidate`):

    * ``neighbour_share``: two keys are in one block when each is the other's
      neighbour (next and previous line) in at least this share of its files;
    * ``sibling_jaccard``, ``min_siblings``: a candidate is in a site cluster
      when at least ``min_siblings`` other open candidates occur in nearly the
      same files (estimated Jaccard similarity at least ``sibling_jaccard``);
    * ``repeat_share``: a candidate is ``repeated`` when at least this share
      of its files (and two) print it more than once;
    * ``within_share``: a short candidate with no other evidence is chrome when
      at least this share of its files carry one learned template that is on
      at most half of all files (a site's template, not everybody's).
    """

    min_files: int = 3
    min_share: float = 0.0
    max_chars: int = 120
    min_literal: int = 2
    neighbour_share: float = 0.6
    sibling_jaccard: float = 0.6
    min_siblings: int = 2
    repeat_share: float = 0.25
    within_share: float = 0.9

    def __post_init__(self) -> None:
        if self.min_files < 2:
            raise UsageError("min_files must be at least 2: a template recurs across files")
        for name in ("min_share", "sibling_jaccard", "repeat_share", "within_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{name} must be between 0 and 1")
        if not 0.5 < self.neighbour_share <= 1.0:
            raise UsageError("neighbour_share must be above 0.5 (one neighbour per side) and at most 1")
        if self.max_chars < 1 or self.min_literal < 0 or self.min_siblings < 1:
            raise UsageError("max_chars and min_siblings must be positive, min_literal not negative")


DECISIONS = ("learned", "formula", "content", "no-evidence")


@dataclass
class Candidate:
    """A recurring key over the thresholds, and what was decided about it.

    ``decision`` is one of :data:`DECISIONS`:

    * ``formula``: a speech formula (:func:`speech_formula`, named in
      ``formula``); protected;
    * ``content``: in a block of keys that travel together (each the other's
      neighbour in most of their files) where speech paragraphs
      (:func:`paragraph_like`) outnumber lines with evidence of their own
      (``title``, ``varied``, ``site-words``): a reposted speech; protected;
    * ``learned``: site chrome, for the ``evidence`` listed: ``title`` (built
      around the page's title), ``varied`` (its lines differ in masked parts),
      ``site-words:…`` (site vocabulary, see :func:`site_evidence`),
      ``repeated`` (printed more than once per page), ``cluster:N`` (N other
      open candidates occur in nearly the same files), ``within:<id>`` (a
      short line found almost only where learned template ``<id>`` is, on
      pages of one site);
    * ``no-evidence``: recurs, but nothing marks it as chrome; kept.
    """

    id: str
    key: str
    files: int
    share: float
    examples: list[Example]
    decision: str
    evidence: list[str]
    formula: str | None = None

    @property
    def learned(self) -> bool:
        return self.decision == "learned"


class _Blocks:
    """Union-find over key hashes."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _intrinsic_evidence(stats: KeyStats) -> list[str]:
    """What a key says about itself: built on the title, varied, site words."""
    evidence = []
    if "{title}" in stats.key:
        evidence.append("title")
    if len(stats.forms) > 1:
        evidence.append("varied")
    words = site_evidence(stats.key)
    if words:
        evidence.append("site-words:" + ",".join(words))
    return evidence


def _example_text(stats: KeyStats) -> str:
    return stats.examples[0].text if stats.examples else stats.key


def _blocks(counter: TemplateCounter, share: float) -> _Blocks:
    """Join keys that travel together: each is the other's neighbour in most of its files."""
    blocks = _Blocks()
    for h, stats in counter.stats.items():
        for n, count in stats.next.items():
            other = counter.stats.get(n)
            if (n != _EDGE and n != h and other is not None and count >= share * stats.observed
                    and other.prev.get(h, 0) >= share * other.observed):
                blocks.union(h, n)
    return blocks


def find_candidates(counter: TemplateCounter, settings: TemplateSettings | None = None) -> list[Candidate]:
    """Every key over the frequency thresholds, with the decision taken about it.

    In order: speech formulas are protected; then keys in content blocks;
    the remaining (open) keys are learned when they carry evidence of
    chrome; last, short open keys without evidence that occur almost only
    beside one learned template join it. Sorted by files (most first), then
    key, so the same counts give the same list.
    """
    settings = settings or TemplateSettings()
    total = max(counter.files, 1)
    eligible = [
        (h, s) for h, s in sorted(counter.stats.items(), key=lambda item: (-item[1].files, item[1].key))
        if s.files >= settings.min_files and s.files / total >= settings.min_share
        and len(literal_text(s.key)) >= settings.min_literal
        and max((len(e.text) for e in s.examples), default=len(s.key)) <= settings.max_chars
    ]
    blocks = _blocks(counter, settings.neighbour_share)
    seeds: Counter[int] = Counter()
    chrome: Counter[int] = Counter()
    for h, stats in counter.stats.items():
        root = blocks.find(h)
        seeds[root] += paragraph_like(stats.key)
        chrome[root] += bool(_intrinsic_evidence(stats))
    decided: dict[int, Candidate] = {}
    open_keys = []
    for h, stats in eligible:
        candidate = Candidate(template_id(stats.key), stats.key, stats.files,
                              round(stats.files / total, 4), list(stats.examples), "", [])
        decided[h] = candidate
        candidate.formula = speech_formula(_example_text(stats))
        root = blocks.find(h)
        if candidate.formula:
            candidate.decision = "formula"
        elif seeds[root] > chrome[root]:
            candidate.decision = "content"
        else:
            open_keys.append(h)
    siblings = _siblings(counter, open_keys, settings)
    for h in open_keys:
        stats, candidate = counter.stats[h], decided[h]
        candidate.evidence = _intrinsic_evidence(stats)
        if stats.repeats >= max(2, settings.repeat_share * stats.files):
            candidate.evidence.append("repeated")
        if siblings[h]:
            candidate.evidence.append(f"cluster:{siblings[h]}")
        candidate.decision = "learned" if candidate.evidence else "no-evidence"
    # Only a site's own templates (on at most half of the files) can vouch for
    # a line: being beside a template that every page carries says nothing.
    learned = [h for h in open_keys
               if decided[h].learned and counter.stats[h].files <= total / 2]
    # The answer depends on the sketch alone: keys in the same files share it.
    within: dict[tuple[int, ...], int | None] = {}
    for h in open_keys:
        stats, candidate = counter.stats[h], decided[h]
        if candidate.learned or written_in_sentences(stats.key):
            continue
        sketch = tuple(stats.sketch)
        if sketch not in within:
            within[sketch] = next(
                (other for other in learned
                 if sketch_containment(stats.sketch, counter.stats[other].sketch,
                                       counter.sketch) >= settings.within_share), None)
        other = within[sketch]
        if other is not None:
            candidate.evidence.append(f"within:{decided[other].id}")
            candidate.decision = "learned"
    return [decided[h] for h, _ in eligible]


def _siblings(counter: TemplateCounter, keys: list[int], settings: TemplateSettings) -> dict[int, int]:
    """For each key, how many of the other keys occur in nearly the same files
    (zero unless at least ``min_siblings`` do).

    Keys in the same number of files with the same sketch are compared as
    one group: a site's template lines are often on exactly the same pages,
    and comparing them pair by pair would take time quadratic in their number.
    """
    size = counter.sketch
    groups: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    for h in keys:
        stats = counter.stats[h]
        groups.setdefault((stats.files, tuple(stats.sketch)), []).append(h)
    ordered = sorted(groups)  # by number of files first
    found = dict.fromkeys(range(len(ordered)), 0)
    for i, (fa, sa) in enumerate(ordered):
        if sketch_jaccard(sa, sa, size) >= settings.sibling_jaccard:
            found[i] += len(groups[fa, sa]) - 1
        for j in range(i + 1, len(ordered)):
            fb, sb = ordered[j]
            if fa < settings.sibling_jaccard * fb:
                break  # sets this much larger cannot be similar enough
            if sketch_jaccard(sa, sb, size) >= settings.sibling_jaccard:
                found[i] += len(groups[fb, sb])
                found[j] += len(groups[fa, sa])
    counts = {h: found[i] for i, group in enumerate(ordered) for h in groups[group]}
    return {h: counts[h] if counts[h] >= settings.min_siblings else 0 for h in keys}


# --------------------------------------------------------------------------
# Learned templates: match, strip, save.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    id: str
    key: str
    files: int
    share: float
    evidence: tuple[str, ...]
    examples: tuple[Example, ...]


class Templates:
    """The learned templates, looked up by masked key."""

    def __init__(self, templates: Iterable[Template], files: int = 0,
                 settings: TemplateSettings | None = None) -> None:
        self.templates = tuple(sorted(templates, key=lambda t: (-t.files, t.key)))
        self.files = files
        self.settings = settings or TemplateSettings()
        self._by_key = {t.key: t for t in self.templates}
        self._by_hash = {_h64(t.key): t.id for t in self.templates}

    def __len__(self) -> int:
        return len(self.templates)

    def __iter__(self):
        return iter(self.templates)

    def matching(self, hashes: frozenset[int]) -> list[str]:
        """The ids, sorted, of the templates among a file's key hashes (what
        :meth:`TemplateCounter.add` returned for it): the templates that
        :func:`strip_templates` will drop lines of."""
        return sorted(self._by_hash[h] for h in hashes if h in self._by_hash)

    def get(self, key: str) -> Template | None:
        """The template of a masked key (:func:`mask_line`), or None."""
        return self._by_key.get(key)

    def match(self, text: str, title: str | None = None) -> str | None:
        """The id of the template a line matches, or None.

        ``title`` is the page's title (:func:`page_title`), as when learning.
        """
        if not text.strip():
            return None
        template = self._by_key.get(mask_line(text, title))
        return template.id if template else None

    @cached_property
    def digest(self) -> str:
        """A short hash of the templates and their settings, recorded on each page they strip."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "settings": asdict(self.settings),
            "templates": [
                {"id": t.id, "key": t.key, "files": t.files, "share": t.share,
                 "evidence": list(t.evidence),
                 "examples": [e.to_dict() for e in t.examples]}
                for t in self.templates
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Templates:
        """Rebuild templates saved by :meth:`to_dict`; :class:`TemplateError` on a bad shape."""
        try:
            settings = TemplateSettings(**data.get("settings", {}))
            templates = []
            for t in data["templates"]:
                key = t["key"]
                if not isinstance(key, str) or not key:
                    raise TypeError("empty key")
                if t.get("id", template_id(key)) != template_id(key):
                    raise ValueError(f"id {t['id']!r} does not belong to key {key!r}")
                templates.append(Template(
                    id=template_id(key), key=key, files=int(t.get("files", 0)),
                    share=float(t.get("share", 0.0)), evidence=tuple(t.get("evidence", ())),
                    examples=tuple(Example.from_dict(e) for e in t.get("examples", ()))))
            return cls(templates, int(data.get("files", 0)), settings)
        except (KeyError, TypeError, ValueError, AttributeError, UsageError) as exc:
            raise TemplateError(f"not a templates file: {exc}") from None


def learn(counter: TemplateCounter, settings: TemplateSettings | None = None) -> Templates:
    """The candidates decided ``learned``, as :class:`Templates`."""
    settings = settings or TemplateSettings()
    return Templates(
        (Template(c.id, c.key, c.files, c.share, tuple(c.evidence), tuple(c.examples))
         for c in find_candidates(counter, settings) if c.learned),
        counter.files, settings)


def strip_templates(page: Page, templates: Templates) -> Page:
    """Drop the lines of ``page`` that match a learned template (in place) and return it.

    Each dropped line is recorded as ``Edit("strip", "template.<id>", ...)``.
    The page's title is found as when learning, from the same lines.
    """
    if page.error is not None:
        return page
    page.templates_digest = templates.digest
    if not len(templates):
        return page
    view = _PageView.of(page.lines)
    dropped = {}
    for (lineno, _), key in zip(view.entries, view.keys):
        template = templates.get(key)
        if template is not None:
            dropped[lineno] = template.id
    kept = []
    for lineno, text in page.lines:
        if lineno in dropped:
            page.record(Edit("strip", f"template.{dropped[lineno]}", lineno, "drop_line", text))
        else:
            kept.append((lineno, text))
    page.lines = kept
    return page


# --------------------------------------------------------------------------
# Turning candidates into rules.
# --------------------------------------------------------------------------

_CN_NUMERAL = f"[{_CN_DIGITS}]+"
_PLACEHOLDER_PATTERNS = {
    "title": r".+?",
    "date": r"(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?|\d{1,2}\s*月\s*\d{1,2}\s*[日号])",
    "time": r"\d{1,2}:\d{2}(?::\d{2})?",
    "n": r"[0-9a-z.,]+",
    "user": r"\S{0,3}\*+\S{0,3}",
}


_METACHARACTERS = re.compile(r"([.^$*+?{}\[\]\\|()])")


def _escape(text: str) -> str:
    r"""Escape regular-expression metacharacters only, for patterns people read.

    >>> print(_escape("gdy.net.cn ~(2015)-"))
    gdy\.net\.cn ~\(2015\)-
    """
    return _METACHARACTERS.sub(r"\\\1", text)


def rule_pattern(text: str, title: str | None = None) -> str:
    r"""A regular expression (for the folded view) that matches lines like ``text``.

    Literal words are escaped, placeholders become a pattern for their kind,
    and ``\s*`` goes wherever the line has whitespace and around each
    placeholder; the whole line is anchored.

    >>> print(rule_pattern("第1页 / 共10页"))
    ^\s*第\s*[0-9a-z.,]+\s*页\s*/\s*共\s*[0-9a-z.,]+\s*页\s*$
    >>> re.search(rule_pattern("发布时间：2023-11-29"), fold("发布时间: 2024/1/5")) is not None
    True
    >>> re.search(rule_pattern("第三页"), "第十二页") is not None
    True
    """
    tokens = []
    for kind, piece in mask_segments(text, title):
        if kind == "text":
            tokens.extend(_escape(word) for word in piece.split())
        elif kind == "n" and not piece[:1].isascii():
            tokens.append(_CN_NUMERAL)
        else:
            tokens.append(_PLACEHOLDER_PATTERNS[kind])
    return r"^\s*" + r"\s*".join(tokens) + r"\s*$"


def _toml_string(text: str) -> str:
    if "'" not in text and "\n" not in text and "\r" not in text:
        return f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def suggest_rule(candidate: Candidate) -> str:
    """A ``[[rule]]`` snippet that removes a candidate's lines, to paste into a rule file.

    The pattern comes from the first example (:func:`rule_pattern`); the
    examples become ``match`` lines. ``no_match`` holds the first example
    quoted inside a sentence, which the anchored pattern leaves alone; replace
    it with a real line of content that looks like the template.
    Placeholders ``{title}`` are written as ``.+?``: check them.
    """
    examples = [e.text for e in candidate.examples] or [candidate.key]
    title = candidate.examples[0].title if candidate.examples else None
    pattern = rule_pattern(examples[0], title)
    # Room for longer numbers, and for longer titles where the title is masked.
    longest = max(len(t) for t in examples) + (60 if "{title}" in candidate.key else 20)
    lines = [
        "[[rule]]",
        f"id = {_toml_string('template.' + candidate.id)}",
        f"description = {_toml_string(f'Learned site template, {candidate.files} files ({candidate.share:.1%}): {candidate.key}')}",
        'action = "drop_line"',
        f"pattern = {_toml_string(pattern)}",
        f"max_chars = {longest}",
        "match = [" + ", ".join(_toml_string(t) for t in examples) + "]",
        f"no_match = [{_toml_string('正文中引用“' + examples[0] + '”时保留。')}]",
    ]
    return "\n".join(lines) + "\n"


def describe_candidates(source: Templates | TemplateCounter | Iterable[Candidate],
                        settings: TemplateSettings | None = None,
                        decisions: Iterable[str] | None = None,
                        limit: int | None = None) -> list[dict]:
    """One plain dict per candidate, ready to print as a table or as TOML.

    ``source`` is learned :class:`Templates`, a :class:`TemplateCounter`
    (every candidate over ``settings``' thresholds, protected ones included)
    or candidates from :func:`find_candidates`. ``decisions`` keeps only
    those decisions; ``limit`` the first so many.
    """
    if isinstance(source, Templates):
        candidates = [Candidate(t.id, t.key, t.files, t.share, list(t.examples), "learned",
                                list(t.evidence)) for t in source]
    elif isinstance(source, TemplateCounter):
        candidates = find_candidates(source, settings)
    else:
        candidates = list(source)
    if decisions is not None:
        wanted = set(decisions)
        candidates = [c for c in candidates if c.decision in wanted]
    rows = []
    for c in candidates[:limit]:
        rows.append({
            "id": c.id,
            "key": c.key,
            "files": c.files,
            "share": c.share,
            "decision": c.decision,
            "evidence": list(c.evidence) + ([c.formula] if c.formula else []),
            "examples": [e.text for e in c.examples],
            "example_files": sorted({e.source for e in c.examples}),
            "rule": suggest_rule(c),
        })
    return rows


def render_candidates(rows: list[dict], width: int = 60) -> str:
    """A plain-text table of :func:`describe_candidates` rows.

    >>> print(render_candidates([{"id": "0a1b2c3d", "files": 12, "share": 0.4,
    ...     "decision": "learned", "evidence": ["varied"], "key": "第{n}页/共{n}页"}]))
    id        files  share  decision  evidence  key
    0a1b2c3d     12  40.0%  learned   varied    第{n}页/共{n}页
    """
    header = ("id", "files", "share", "decision", "evidence", "key")
    table = [header] + [
        (r["id"], str(r["files"]), f"{r['share']:.1%}", r["decision"],
         ",".join(r["evidence"]) or "-", r["key"] if len(r["key"]) <= width else r["key"][:width - 1] + "…")
        for r in rows
    ]
    widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
    out = []
    for row in table:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            cells.append(pad + cell if i in (1, 2) else cell + pad)
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uff60" or "\u3000" <= ch <= "\u303f"
               else 1 for ch in text)


def render_toml(rows: list[dict]) -> str:
    """The suggested rules of :func:`describe_candidates` rows, as one rule file."""
    return "\n".join(row["rule"] for row in rows)
