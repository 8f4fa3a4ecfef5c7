"""Character-level tidying right after decoding, each change counted.

In order: HTML entities that scrapers left in the text are decoded; line
endings become ``\\n``; the text is NFC-normalized; control characters and
invisible format characters are removed, except those that carry meaning.
Text with nothing to do, the common case, is recognised in one scan; past
that, every step still has a fast path of its own.
"""
from __future__ import annotations

import html
import re
import unicodedata

# Counter names, as they appear in the report and in ``Page.counts``.
LINE_ENDING = "decode.line-ending"
ENTITY = "decode.html-entity"
NFC = "decode.nfc"
CONTROL = "decode.control"
INVISIBLE = "decode.zero-width"

_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85\x0b\x0c]")

# Named entities need their semicolon (so "AT&T" and "&copy2020" stay text),
# except ``&nbsp`` which scrapers often leave without one.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};|nbsp(?![A-Za-z0-9]))")

# C0 controls but tab and newline, DEL, C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")

# Invisible characters that carry nothing in Chinese text: zero-width space,
# word joiner, BOM used as a zero-width no-break space, soft hyphen,
# Mongolian vowel separator, invisible math operators, and the two joiners
# where no script around them uses joining (see ``_keeps_joiner``).
_INVISIBLE_CHARS = "\u200b\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064\u200c\u200d"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


def unify_line_endings(text: str) -> tuple[str, int]:
    r"""CRLF, CR, Unicode line and paragraph separators, NEL, VT and FF become ``\n``.

    >>> unify_line_endings("a\r\nb\rc\x0cd")
    ('a\nb\nc\nd', 3)
    """
    if not any(ch in text for ch in _BREAK_CHARS):
        return text, 0
    return _LINE_BREAKS.subn("\n", text)


_BREAK_CHARS = "\r\u2028\u2029\x85\x0b\x0c"


def _entity(match: re.Match[str]) -> str:
    raw = match.group()
    if raw == "&nbsp":
        return "\u00a0"
    return html.unescape(raw)


def decode_entities(text: str) -> tuple[str, int]:
    """Decode HTML entities, again while a round decoded some (scrapers escape ``&`` as ``&amp;``).

    Unknown names are left as they are and not counted.

    >>> decode_entities("&ldquo;教育&rdquo;&#12290;&amp;nbsp;R&D")
    ('“教育”。\\xa0R&D', 5)
    >>> decode_entities("AT&T &copy2020 &unknown;")
    ('AT&T &copy2020 &unknown;', 0)
    """
    if "&" not in text:
        return text, 0
    total = 0
    while True:
        changed = 0

        def one(match: re.Match[str]) -> str:
            nonlocal changed
            out = _entity(match)
            changed += out != match.group()
            return out

        text = _ENTITY.sub(one, text)
        total += changed
        if not changed or "&" not in text:
            break
    return text, total


def nfc(text: str) -> tuple[str, int]:
    """NFC-normalize; count the characters that changed (composed sequences count once).

    >>> nfc("cafe\\u0301 教育")
    ('café 教育', 1)
    """
    if unicodedata.is_normalized("NFC", text):
        return text, 0
    return unicodedata.normalize("NFC", text), _unnormalized_clusters(text)


# Hangul vowel and final jamo compose with what precedes them, like marks.
_JAMO = re.compile("[\u1160-\u11ff\ud7b0-\ud7ff]")


def _unnormalized_clusters(text: str) -> int:
    """Count base characters (with their combining marks) that NFC changes."""
    n, i = 0, 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (unicodedata.combining(text[j]) or _JAMO.match(text[j])):
            j += 1
        if not unicodedata.is_normalized("NFC", text[i:j]):
            n += 1
        i = j
    return n


def _keeps_joiner(text: str, i: int) -> bool:
    """ZWJ and ZWNJ stay between two characters of scripts that use them (emoji, Arabic, Indic...)."""
    if i == 0 or i + 1 >= len(text):
        return False
    return all(_joins(text[j]) for j in (i - 1, i + 1))


_HAN_OR_WIDE = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]")


def _joins(ch: str) -> bool:
    if ch.isspace() or ch.isascii() or _HAN_OR_WIDE.match(ch):
        return False
    return unicodedata.category(ch)[0] in "LMS"


def remove_invisible(text: str) -> tuple[str, int, int]:
    """Remove control characters (not tab or newline) and invisible format characters.

    Returns the text, the controls removed and the invisible characters removed.

    >>> remove_invisible("教\\u200b育\\x07局\\ufeff")
    ('教育局', 1, 2)
    >>> remove_invisible("👩\\u200d💻")[1:]  # an emoji sequence keeps its joiner
    (0, 0)
    """
    controls = 0
    if _CONTROL.search(text):
        text, controls = _CONTROL.subn("", text)
    if not any(ch in text for ch in _INVISIBLE_CHARS):
        return text, controls, 0
    out, removed, last = [], 0, 0
    for match in _INVISIBLE.finditer(text):
        i = match.start()
        if match.group() in "\u200c\u200d" and _keeps_joiner(text, i):
            continue
        out.append(text[last:i])
        last = i + 1
        removed += 1
    out.append(text[last:])
    return "".join(out), controls, removed


# Characters no step changes: not "&", no line break but "\n", no control but
# tab and newline, nothing removed as invisible, and for NFC none that composes
# with its neighbour or is replaced (combining class 0 and quick check Yes).
# Text made only of these is already tidy (the decode tests check every one
# of them against the steps and the Unicode data). The ranges cover what Chinese
# text is written in: ASCII, Latin, Greek and Cyrillic letters, general
# punctuation and symbols, CJK punctuation, kana and ideographs, and the
# full-width forms.
INERT = (
    "\t\n\x20-\x25\x27-\x7e\xa0-\xac\xae-\u02ff\u0388-\u0482"
    "\u2002-\u200a\u2010-\u2027\u2030-\u205e"
    "\u2100-\u2125\u2127-\u2129\u212c-\u2328\u232b-\u27ff\u2e80-\u2fdf"
    "\u3000-\u3029\u3030-\u3098\u309b-\u9fff\ufe30-\ufe4f\uff00-\uffef"
)
_INERT_TEXT = re.compile(f"[{INERT}]*")


def tidy(text: str) -> tuple[str, dict[str, int]]:
    r"""Every step in order; return the text and the non-zero counts by name.

    Text made only of characters no step changes (``INERT``, the common
    case) is returned after one pass over it.

    >>> tidy("教育&nbsp;局\r\n")
    ('教育\xa0局\n', {'decode.html-entity': 1, 'decode.line-ending': 1})
    >>> tidy("同志们：\n\u3000\u3000今天召开会议。\n")
    ('同志们：\n\u3000\u3000今天召开会议。\n', {})
    """
    if _INERT_TEXT.fullmatch(text):
        return text, {}
    return tidy_steps(text)


def tidy_steps(text: str) -> tuple[str, dict[str, int]]:
    r"""The steps of :func:`tidy` without its shortcut for text that is already tidy.

    >>> tidy_steps("cafe\u0301\u200b")
    ('café', {'decode.nfc': 1, 'decode.zero-width': 1})
    """
    counts = dict.fromkeys((ENTITY, LINE_ENDING, NFC, CONTROL, INVISIBLE), 0)
    # A removal can complete an entity (``&\u200bamp;``) or bring a mark back
    # to its base, so the steps repeat until a round changes nothing.
    for _ in range(_ROUNDS):
        text, entity = decode_entities(text)
        text, ending = unify_line_endings(text)
        text, composed = nfc(text)
        text, control, invisible = remove_invisible(text)
        for name, n in zip(counts, (entity, ending, composed, control, invisible)):
            counts[name] += n
        if not (entity or ending or composed or control or invisible):
            break
    return text, {k: v for k, v in counts.items() if v}


_ROUNDS = 8
