"""Chinese plausibility, and repair of text decoded with the wrong codec.

Mojibake is text that decoded without error but from the wrong encoding's
point of view: UTF-8 bytes read as GBK (``鏁欒偛灞€`` for 教育局), GBK bytes
read as Latin-1 or CP1252 (``½ÌÓý¾Ö``), UTF-8 bytes read as CP1252
(``æ•™è‚²``). Each repair re-encodes the text the way it was misread and
decodes the bytes the way they were meant; it is accepted only when the
result is clearly more plausible Chinese than the input.

Plausibility is the share of non-ASCII characters that are everyday Chinese:
the 3,755 level-1 characters of GB2312, the 5,401 common characters of Big5,
and CJK and full-width punctuation. Real text scores above 0.9; mojibake
lands on rare characters, Latin-1 letters and symbols and scores far lower.
"""
from __future__ import annotations

import codecs
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from charset_normalizer.constant import FREQUENCIES

# A file whose sample scores at least this is left alone (the fast path).
SUSPECT_BELOW = 0.7
# A repair must reach this score and beat the input by GAIN to be accepted.
ACCEPT_AT = 0.9
GAIN = 0.2
# How much of a text the plausibility check reads: enough to decide, bounded.
SAMPLE_CHARS = 5_000

PUNCT = (
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\uff01-\uff5e"  # full-width forms
    "\u2010-\u2027\u2030-\u203b"  # dashes, quotes, ellipsis, per mille
    "\u00b7\u00d7\u00b0\u2103\u2116\u25cb\u25cf\u2605\u2606\u3220-\u3243\u2460-\u249b"
)
NON_ASCII = re.compile(r"[^\x00-\x7f\s]")


def table_chars(codec: str, leads: range, trails: range) -> set[str]:
    chars = set()
    for lead in leads:
        for trail in trails:
            try:
                chars.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                pass
    return chars


@lru_cache(maxsize=1)
def everyday_gb() -> frozenset[str]:
    """GB2312's 3,755 level-1 characters, the everyday ones of simplified text."""
    return frozenset(table_chars("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)))


@lru_cache(maxsize=1)
def everyday_big5() -> frozenset[str]:
    """Big5's 5,401 common characters, the everyday ones of traditional text."""
    big5 = table_chars("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
    return frozenset(ch for ch in big5 if "\u4e00" <= ch <= "\u9fff")  # row C6 also holds symbols


@lru_cache(maxsize=1)
def common_chars() -> frozenset[str]:
    """Everyday Han characters of both scripts (GB2312 level 1 ∪ Big5 common).

    >>> {"的", "們", "讲", "講"} <= common_chars()
    True
    >>> "鏁" in common_chars()
    False
    """
    return everyday_gb() | everyday_big5()


@lru_cache(maxsize=1)
def punctuation() -> frozenset[str]:
    """CJK and full-width punctuation, and the spaces Chinese text uses."""
    return frozenset(re.findall(f"[{PUNCT}]", "".join(map(chr, range(0x80, 0x10000))))) | {
        "\u3000", "\u00a0"}


@lru_cache(maxsize=1)
def _plausible() -> frozenset[str]:
    return frozenset(ch for ch in common_chars() | punctuation() if not ch.isspace())


def plausibility(text: str, limit: int | None = SAMPLE_CHARS) -> float:
    """Share of non-ASCII, non-space characters that are everyday Chinese.

    Text with no such characters scores 1.0: there is nothing to repair.

    >>> plausibility("同志们：今天我们召开全县教育工作会议。")
    1.0
    >>> plausibility("鏁欒偛灞€") < 0.5
    True
    >>> plausibility("½ÌÓý¾Ö")
    0.0
    >>> plausibility("plain ASCII")
    1.0
    """
    if limit is not None and len(text) > limit:
        text = text[:limit]
    total = len(NON_ASCII.findall(text))
    if not total:
        return 1.0
    return sum(map(_plausible().__contains__, text)) / total


def damage(text: str) -> int:
    """Count places damaged beyond repair: runs of U+FFFD and of ``锟斤拷``.

    ``锟斤拷`` is what U+FFFD's UTF-8 bytes look like read as GBK: the bytes
    were replaced before the text reached us.

    >>> damage("教育\\ufffd\\ufffd局，锟斤拷锟斤拷。\\ufffd")
    3
    """
    if "\ufffd" not in text and "锟" not in text:  # one-character searches are the fastest
        return 0
    return len(_DAMAGE.findall(text))


_DAMAGE = re.compile("(?:\ufffd)+|(?:锟斤拷)+")


# --- Repairs -----------------------------------------------------------------

# The byte a Latin-1/CP1252 reader turned into each character: Latin-1
# characters are their own byte; CP1252 puts other characters in 0x80-0x9F.
_BYTE_OF = {chr(b): b for b in range(0x100)} | {
    bytes([b]).decode("cp1252"): b
    for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


def _misread_single_byte(text: str) -> bytes:
    """Re-encode Latin-1/CP1252 characters to their bytes; keep other text as GB18030.

    Text that was never misread (real Chinese among the mojibake) survives
    the GB18030 round trip unchanged.
    """
    out = bytearray()
    for ch in text:
        b = _BYTE_OF.get(ch)
        if b is None:
            out += ch.encode("gb18030")
        else:
            out.append(b)
    return bytes(out)


_HOLE = 0xFF  # never valid in UTF-8: stands for a byte the misreading lost


def _misread_gbk(text: str) -> bytes:
    """Re-encode text that UTF-8 bytes became when read as GBK.

    U+FFFD marks one byte the GBK reader could not place (a UTF-8
    continuation byte), written as a hole. ``€`` is ambiguous: GB18030 reads
    it from A2 E3, CP936 and browsers also from a lone 0x80; the UTF-8
    around it decides which.
    """
    out = bytearray()
    parts = _GBK_SPECIAL.split(text)
    for i, part in enumerate(parts):
        if part == "\ufffd":
            out.append(_HOLE)
        elif part == "\u20ac":
            out += b"\xa2\xe3" if _pending(out) == 1 and _continues(parts, i + 1) else b"\x80"
        else:
            out += part.encode("gb18030")
    return bytes(out)


def _continues(parts: list[str], start: int) -> bool:
    """Whether the parts from ``start`` on begin with a UTF-8 continuation byte."""
    for part in parts[start:]:
        if part in ("\ufffd", "\u20ac"):
            return True  # a hole or a misread 0x80/A2: continuation bytes either way
        if part:
            return 0x80 <= part.encode("gb18030")[0] <= 0xBF
    return False


def _pending(data: bytearray) -> int:
    """How many continuation bytes the UTF-8 sequence at the end of ``data`` still needs."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b == _HOLE or 0x80 <= b <= 0xBF:
            continue
        return max(0, _seq_len(b) - back)
    return 0


_GBK_SPECIAL = re.compile("([\ufffd\u20ac])")


@dataclass
class _Holes:
    """Fills lost continuation bytes with the likeliest character in context."""

    pairs: Counter
    chars: Counter
    filled: int = 0
    failed: int = 0

    def fill(self, data: bytes, start: int, end: int) -> tuple[str, int]:
        """Decode the sequence at ``start`` whose lost bytes are marked as holes."""
        size = _seq_len(data[start])
        body = data[start + 1:start + size]
        if (size == 0 or len(body) < size - 1 or _HOLE not in body
                or any(b != _HOLE and not 0x80 <= b <= 0xBF for b in body)):
            self.failed += 1
            return "\ufffd", end
        best = self._best(data, start, start + size)
        if best is None:
            self.failed += 1
            return "\ufffd", end
        self.filled += 1
        return best, start + size

    def _best(self, data: bytes, start: int, stop: int) -> str | None:
        seq = data[start:stop]
        slots = [i for i, b in enumerate(seq) if b == _HOLE]
        prev = _char_before(data, start)
        nxt = _char_after(data, stop)
        # Line-final punctuation is told apart by position, not by counts:
        # the bytes it loses before a newline make it rare among the clean pairs.
        at_end = _PRIOR_END if nxt.isspace() else {}
        line = data[data.rfind(b"\n", 0, start) + 1:start].decode("utf-8", "ignore")
        open_quote = line.count("\u201c") > line.count("\u201d")
        best, best_key = None, None
        for tail in _tails(len(slots)):
            filled = bytearray(seq)
            for i, b in zip(slots, tail):
                filled[i] = b
            try:
                ch = filled.decode("utf-8")
            except UnicodeDecodeError:
                continue
            quote = ch == ("\u201d" if open_quote else "\u201c")
            key = (at_end.get(ch, 0), quote, self.pairs[prev + ch] + self.pairs[ch + nxt],
                   self.chars[ch], _PRIOR.get(ch, 0), ch in common_chars(), -ord(ch))
            if best_key is None or key > best_key:
                best, best_key = ch, key
        return best


# General knowledge for ties the document cannot break: the most frequent
# Chinese characters (charset-normalizer's list, most frequent first), and
# the punctuation that ends a line.
def _ranked(chars: str) -> dict[str, int]:
    return {ch: len(chars) - i for i, ch in enumerate(chars)}


_PRIOR = _ranked("，。、：；“”！？（）《》" + "".join(FREQUENCIES["Chinese"]))
_PRIOR_END = _ranked("。：！？；”）》，、")


def _seq_len(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


@lru_cache(maxsize=4)
def _tails(holes: int) -> list[bytes]:
    if holes == 1:
        return [bytes([b]) for b in range(0x80, 0xC0)]
    return [bytes([a]) + rest for a in range(0x80, 0xC0) for rest in _tails(holes - 1)]


def _char_before(data: bytes, pos: int) -> str:
    return data[max(0, pos - 4):pos].decode("utf-8", "ignore")[-1:] or "\n"


def _char_after(data: bytes, pos: int) -> str:
    return data[pos:pos + 4].decode("utf-8", "ignore")[:1] or "\n"


def _utf8_with_holes(data: bytes) -> tuple[str, int, int]:
    """Decode UTF-8 whose lost bytes are marked; return text, filled and failed holes.

    Each hole is filled with the character, among those its known bytes
    allow, that best fits the document's own statistics (its neighbours,
    then its frequency). A second pass refits with the first pass's fills
    counted, since characters that lose bytes often are undercounted at first.
    """
    text = data.decode("utf-8", "replace")
    holes = None
    for _ in range(2):
        holes = _Holes(Counter(a + b for a, b in zip(text, text[1:])), Counter(text))
        _ACTIVE.holes = holes
        text = data.decode("utf-8", "cleaner.holes")
    return text, holes.filled, holes.failed


_ACTIVE = threading.local()


def _fill_error(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _ACTIVE.holes.fill(exc.object, exc.start, exc.end)


codecs.register_error("cleaner.holes", _fill_error)


def _repair_utf8_as_gbk(text: str) -> tuple[str, int, int]:
    """Return the repaired text, bytes left unresolved and lost bytes guessed."""
    data = _misread_gbk(text)
    try:
        return data.decode("utf-8"), 0, 0
    except UnicodeDecodeError:
        fixed, filled, failed = _utf8_with_holes(data)
        return fixed, failed, filled


def _repair_single_byte(text: str, codec: str) -> tuple[str, int, int]:
    data = _misread_single_byte(text)
    fixed = data.decode(codec, "replace")
    return fixed, fixed.count("\ufffd") - text.count("\ufffd"), 0


# Misreadings into Latin-1/CP1252 leave Latin letters; misreadings into GBK do not.
LATIN_REPAIRS = {
    "gbk-as-latin-1": lambda t: _repair_single_byte(t, "gb18030"),
    "big5-as-latin-1": lambda t: _repair_single_byte(t, "big5hkscs"),
    "utf-8-as-latin-1": lambda t: _repair_single_byte(t, "utf-8"),
}
GBK_REPAIRS = {"utf-8-as-gbk": _repair_utf8_as_gbk}


@dataclass(frozen=True)
class Repair:
    text: str
    how: str
    before: float
    after: float
    unresolved: int  # bytes the repair could not place, left as U+FFFD
    guessed: int = 0  # bytes the misreading lost, restored by context (utf-8-as-gbk)


# Latin-1 letters (not × and ÷, which Chinese text uses).
_LATIN_LETTERS = re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]")
_LATIN_CHARS = frozenset(filter(_LATIN_LETTERS.match, map(chr, range(0x100))))
SCREEN_CHARS = 200
# Three Chinese characters in a row as UTF-8 (lead E4-E9): what GBK mojibake
# re-encodes to, and what real text in GBK almost never contains.
_UTF8_HAN_RUN = re.compile(rb"[\xe4-\xe9][\x80-\xbf][\x80-\xbf]" * 3)


def char_class(chars: Iterable[str], *, others: bool = False) -> str:
    r"""A regular-expression character class body for ``chars``, as escaped ranges.

    With ``others``, the class of every other character instead: checking
    that a text is one run of allowed characters is faster than searching it
    for a character that is not allowed.

    >>> char_class("abcx教")
    '\\u0061-\\u0063\\u0078\\u6559'
    >>> char_class("b", others=True)
    '\\u0000-\\u0061\\u0063-\\U0010ffff'
    >>> re.fullmatch(f"[{char_class('a-]^')}]+", "]^-a") is not None
    True
    """
    runs, i = [], 0
    points = sorted(set(map(ord, chars)))
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        runs.append((points[i], points[j]))
        i = j + 1
    if others:
        edges = [-1] + [p for run in runs for p in run] + [sys.maxunicode + 1]
        runs = [(a + 1, b - 1) for a, b in zip(edges[::2], edges[1::2]) if a + 1 <= b - 1]
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in runs)


def _escape(point: int) -> str:
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def utf8_lead_readings() -> frozenset[str]:
    """Characters GB18030 writes as a byte E4-E9 then a byte 80-BF.

    A UTF-8 lead byte of a Chinese character and the continuation byte after
    it, read together as GBK, give one of these (``鏁`` is E9 8F).

    >>> len(utf8_lead_readings()), "鏁" in utf8_lead_readings(), "教" in utf8_lead_readings()
    (384, True, False)
    """
    return frozenset(table_chars("gb18030", range(0xE4, 0xEA), range(0x80, 0xC0)))


# Text the screen below can flag holds a Latin-1 letter or a character of
# utf8_lead_readings(). The bytes of a _UTF8_HAN_RUN match are all 80 or
# above; in GB18030 ASCII is below 0x80 and a four-byte character has bytes
# 30-39 in second and fourth place, so the match's first eight bytes are whole
# two-byte characters or the trail of one. Starting on a lead (E4-E9, 80-BF)
# or on a trail (then 80-BF, 80-BF, then E4-E9, 80-BF), one of them is such a
# character. Text made only of other characters is cleared at once.
_CLEAR = re.compile(
    f"[{char_class(_LATIN_CHARS | utf8_lead_readings(), others=True)}]*")


def looks_misread(text: str) -> bool:
    """A cheap first look: could this text be mojibake at all?

    True when the opening characters contain Latin-1 letters (what GBK or
    UTF-8 bytes become when read as Latin-1/CP1252), or when they re-encode
    from GBK into a run of Chinese characters in UTF-8. Only texts that pass
    this look are measured fully. Opening characters with none of those
    either look needs (the common case) are cleared in one pass.

    >>> looks_misread("同志们：今天我们召开会议。"), looks_misread("½ÌÓý¾Ö")
    (False, True)
    >>> looks_misread("全县教育工作会议".encode().decode("gb18030"))
    True
    """
    if _CLEAR.fullmatch(text, 0, SCREEN_CHARS):
        return False
    sample = text[:SCREEN_CHARS]
    data = sample.encode("gb18030", "replace")
    # GB18030 writes Latin-1 letters (and other rare symbols) as 81 30 xx xx.
    if b"\x81\x30" in data and _LATIN_LETTERS.search(sample):
        return True
    return _UTF8_HAN_RUN.search(data) is not None


def repair(text: str) -> Repair | None:
    """Undo mojibake when a repair is clearly better; None leaves the text alone.

    >>> repair("鏁欒偛灞€").text  # UTF-8 bytes read as CP936, 0x80 as €
    '教育局'
    >>> fix = repair("全县教育局长".encode().decode("gb18030", "replace"))  # bytes lost
    >>> fix.text[:5], fix.how, fix.guessed  # the last character is a guess
    ('全县教育局', 'utf-8-as-gbk', 2)
    >>> repair("½ÌÓý¾Ö³¤ÔÚÈ«ÏØ½ÌÓý¹¤×÷»áÒéÉÏµÄ½²»°").how
    'gbk-as-latin-1'
    >>> repair("同志们：今天我们召开全县教育工作会议。") is None
    True
    """
    if not looks_misread(text):
        return None
    before = plausibility(text)
    if before >= SUSPECT_BELOW:
        return None
    latin = _LATIN_LETTERS.search(text[:SAMPLE_CHARS]) is not None
    best = None
    for how, fn in (LATIN_REPAIRS if latin else GBK_REPAIRS).items():
        fixed, unresolved, guessed = fn(text)
        after = plausibility(fixed)
        if best is None or after > best.after:
            best = Repair(fixed, how, before, after, unresolved, guessed)
    if best is None or best.after < ACCEPT_AT or best.after - before < GAIN:
        return None
    if best.unresolved > max(2, len(NON_ASCII.findall(best.text)) // 100):
        return None
    return best
