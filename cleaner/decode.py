"""Bytes to text: decide the encoding, record how it was decided, lose nothing.

Order of decisions (the first that holds wins), each recorded per file with
how it was decided and a confidence:

1. a user's override (``--encoding``, or the per-path map in the rules folder);
2. a byte-order mark (UTF-32, UTF-8, UTF-16);
3. content that is not text at all (PDF, images, archives, Office files,
   NUL-heavy bytes) is refused with the reason;
4. UTF-16/32 without a mark, recognised by NUL bytes (text in UTF-8 or a
   legacy codec never has them, so this comes before strict UTF-8);
5. strict UTF-8, the common case, which must not pay for detection;
6. GB18030 when it decodes cleanly into everyday characters (the common
   legacy case, also without the detector's cost);
7. charset-normalizer's guess against the Chinese codecs and UTF-8, legacy
   names widened to the superset that decodes the same bytes without loss
   (GB2312/GBK/CP936 → GB18030, Big5 → Big5-HKSCS or CP950). A decode that
   needs replacement characters is taken only when no candidate is clean,
   and the replaced bytes are counted.

The text is then checked for mojibake (:mod:`cleaner.mojibake`).
"""
from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass, replace
from functools import lru_cache

from charset_normalizer import from_bytes

from .errors import InputError
from .mojibake import char_class, damage, everyday_big5, everyday_gb, punctuation, repair

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_FIRST_BYTES = frozenset(bom[:1] for bom, _ in _BOMS)

# Canonical codec name (CP936 is "gbk") → the superset that decodes its bytes
# without loss.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}

# Signatures of files that are not text at all, by content, not by name.
_BINARY_MAGIC = (
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "zip archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "legacy Office document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7z archive"),
)


_MAGIC_BY_FIRST_BYTE: dict[bytes, list[tuple[bytes, str]]] = {}
for _magic, _kind in _BINARY_MAGIC:
    _MAGIC_BY_FIRST_BYTE.setdefault(_magic[:1], []).append((_magic, _kind))


@dataclass(frozen=True, init=False)
class Decoded:
    """Text and how it was obtained."""

    text: str
    encoding: str
    decided_by: str
    confidence: float
    replaced: int = 0  # bytes that no candidate could decode, now U+FFFD
    repaired: str = ""  # the mojibake repair applied, e.g. "utf-8-as-gbk"
    guessed: int = 0  # bytes the misreading had lost, restored from context
    damaged: int = 0  # places damaged before the bytes reached us (U+FFFD, 锟斤拷 runs)

    def __init__(self, text: str, encoding: str, decided_by: str, confidence: float,
                 replaced: int = 0, repaired: str = "", guessed: int = 0, damaged: int = 0) -> None:
        # The fields above, in order, with their defaults. One update of the
        # instance's dict instead of the frozen dataclass's setattr per field:
        # every file builds one, so this is a measurable share of the fast path.
        self.__dict__.update(text=text, encoding=encoding, decided_by=decided_by,
                             confidence=confidence, replaced=replaced, repaired=repaired,
                             guessed=guessed, damaged=damaged)


def sniff_binary(data: bytes) -> str | None:
    """Name the kind of a non-text input, or None for something that may be text.

    >>> sniff_binary(b"%PDF-1.4 ...")
    'PDF document'
    >>> sniff_binary("教育".encode("utf-8")) is None
    True
    """
    for magic, kind in _MAGIC_BY_FIRST_BYTE.get(data[:1], ()):
        if data.startswith(magic):
            return kind
    return None


def _textlike(text: str) -> float:
    """Share of characters that look like text: printable ASCII, whitespace, CJK."""
    if not text:
        return 0.0
    good = sum(
        1 for ch in text
        if (" " <= ch <= "~") or ch in "\n\t\r" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
        or "\u2010" <= ch <= "\u2027"
    )
    return good / len(text)


def _utf16_without_bom(data: bytes) -> str | None:
    r"""Guess UTF-32 or UTF-16 without a byte-order mark from where its NUL bytes sit.

    Chinese UTF-16 has NULs mostly beside ASCII characters (newlines, digits),
    so there may be few of them; every byte order is tried and the one that
    reads as text wins. UTF-32 is tried first: its text always has NULs.

    >>> _utf16_without_bom("abc讲话\n".encode("utf-16-le"))
    'utf-16-le'
    >>> _utf16_without_bom("一二三讲话\n第1页".encode("utf-16-be"))
    'utf-16-be'
    >>> _utf16_without_bom("讲话稿\n".encode("utf-32-le"))
    'utf-32-le'
    >>> _utf16_without_bom(b"plain ascii") is None
    True
    """
    if len(data) < 2 or len(data) % 2 or b"\x00" not in data:
        return None
    names = ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be") if len(data) % 4 == 0 else (
        "utf-16-le", "utf-16-be")
    best, best_score = None, 0.95
    for name in names:
        text = _strict(data, name)
        if text is not None and "\x00" not in text:
            score = _textlike(text)
            if score > best_score:
                best, best_score = name, score
    return best


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


class _Counter(threading.local):
    replaced = 0


_COUNTER = _Counter()


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _COUNTER.replaced += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("cleaner.replace", _count_and_replace)


def decode_counting(data: bytes, encoding: str) -> tuple[str, int]:
    r"""Decode with U+FFFD for bytes that do not decode; return the text and how many bytes.

    >>> decode_counting(b"ok \xff\xfe", "utf-8")
    ('ok ��', 2)
    """
    _COUNTER.replaced = 0
    text = data.decode(encoding, "cleaner.replace")
    return text, _COUNTER.replaced


def text_codec(encoding: str) -> str:
    """The canonical name of a codec that decodes bytes to text; LookupError otherwise.

    >>> text_codec("GBK")
    'gbk'
    >>> text_codec("base64")
    Traceback (most recent call last):
    LookupError: 'base64' is not a text encoding
    """
    info = codecs.lookup(encoding)
    try:
        # A newline decodes in every text codec (UTF-16/32 need their width).
        usable = getattr(info, "_is_text_encoding", True) and "\n".encode(info.name).decode(info.name) == "\n"
    except UnicodeError:  # the "undefined" codec refuses everything
        usable = False
    if not usable:
        raise LookupError(f"{encoding!r} is not a text encoding")
    return info.name


def widest(encoding: str) -> str:
    """The codec that decodes ``encoding``'s bytes without loss.

    >>> widest("GBK"), widest("big5"), widest("utf8")
    ('gb18030', 'big5hkscs', 'utf-8')
    """
    name = text_codec(encoding)
    return _SUPERSETS.get(name, name)


def decode_bytes(data: bytes, encoding: str | None = None, how: str = "override") -> Decoded:
    """Decode raw bytes following the order in the module docstring, then repair mojibake.

    ``encoding`` forces a codec (the user knows better), widened to the
    superset that decodes the same bytes without loss; bytes it cannot decode
    are replaced and counted, never dropped silently. ``how`` records where
    the override came from (``override`` for ``--encoding``, ``map`` for the
    per-path map).

    >>> decode_bytes("同志们：".encode("gb18030")).encoding
    'gb18030'
    >>> decode_bytes(codecs.BOM_UTF8 + "讲话".encode()).text
    '讲话'
    >>> decode_bytes("讲话".encode()).decided_by
    'strict-utf-8'
    >>> moji = "全县教育工作会议上的讲话".encode().decode("gb18030")  # double-encoded
    >>> d = decode_bytes(moji.encode())
    >>> d.text, d.encoding, d.repaired
    ('全县教育工作会议上的讲话', 'utf-8', 'utf-8-as-gbk')
    """
    decoded = _decode(data, encoding, how)
    fix = repair(decoded.text)
    if fix is None:
        # U+FFFD that we put in for bad bytes is not damage found in the source.
        found = data.decode(decoded.encoding.replace("-sig", ""), "ignore") if decoded.replaced \
            else decoded.text
        damaged = damage(found)
        return replace(decoded, damaged=damaged) if damaged else decoded
    return replace(decoded, text=fix.text, repaired=fix.how, guessed=fix.guessed,
                   replaced=decoded.replaced + fix.unresolved,
                   damaged=max(0, damage(fix.text) - fix.unresolved))


def _decode(data: bytes, encoding: str | None, how: str) -> Decoded:
    # Each check looks at the first byte, or is one pass in C over the bytes:
    # strict UTF-8, the common case, costs little more than its decode.
    first = data[:1]
    if first in _MAGIC_BY_FIRST_BYTE:
        kind = sniff_binary(data)
        if kind:
            raise InputError(f"not text: {kind}")
    if encoding:
        name = widest(encoding)
        if name.startswith("utf-8") and data.startswith(codecs.BOM_UTF8):
            name, data = "utf-8-sig", data[len(codecs.BOM_UTF8):]
        text, replaced = decode_counting(data, name)
        return Decoded(text, name, how, 0.0 if replaced else 1.0, replaced)
    if first in _BOM_FIRST_BYTES:
        for bom, name in _BOMS:
            if data.startswith(bom):
                text, replaced = decode_counting(data[len(bom):], name.replace("-sig", ""))
                return Decoded(text, name, "bom", 0.0 if replaced else 1.0, replaced)
    if b"\x00" in data:
        # Text in UTF-8 or a legacy codec has no NULs; they mean UTF-16/32 or binary.
        name = _utf16_without_bom(data)
        if name:
            return Decoded(data.decode(name), name, "nul-pattern", 0.9)
        if data.count(0) > len(data) // 1000:
            raise InputError("not text: binary data (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _detect(data)
    return Decoded(text, "utf-8", "strict-utf-8", 1.0)


def chinese_share(text: str, encoding: str) -> float:
    """Share of non-ASCII characters that are everyday ones in the script ``encoding`` implies.

    Everyday means the common Han characters of that script (GB2312 level 1
    for GB18030, Big5's common characters for Big5) and CJK punctuation.
    Real simplified text read as GB18030 scores above 0.9; other bytes forced
    through GB18030 (Big5 text, for one) land on rare characters, box
    drawing, Cyrillic or private-use characters and score low, and the same
    holds the other way round.

    >>> chinese_share("同志们，今天我们召开教育工作会议。", "gb18030")
    1.0
    >>> big5 = "今天我們召開全市教育工作會議，總結過去一年的工作。".encode("big5")
    >>> chinese_share(big5.decode("gb18030", "replace"), "gb18030") < 0.8
    True
    >>> chinese_share(big5.decode("big5hkscs"), "big5hkscs")
    1.0
    """
    sample = text[:SHARE_SAMPLE]
    total = len(sample) - len(sample.encode("ascii", "ignore"))
    if not total:
        return 0.0
    return sum(map(len, _runs_of(_everyday(encoding)).findall(sample))) / total


def _everyday(encoding: str) -> frozenset[str]:
    return _everyday_big5() if encoding in ("big5hkscs", "cp950") else _everyday_gb()


@lru_cache(maxsize=2)
def _runs_of(chars: frozenset[str]) -> re.Pattern[str]:
    """Runs of ``chars``: counting their lengths beats a lookup per character.

    >>> _runs_of(_everyday("gb18030")).findall("第1章 讲话稿（鏁）")
    ['第', '章', '讲话稿（', '）']
    """
    return re.compile(f"[{char_class(chars)}]+")


@lru_cache(maxsize=1)
def _everyday_gb() -> frozenset[str]:
    return everyday_gb() | punctuation()


@lru_cache(maxsize=1)
def _everyday_big5() -> frozenset[str]:
    return everyday_big5() | punctuation()


# Enough characters to tell the scripts apart, few enough to stay cheap.
SHARE_SAMPLE = 400

# A legacy decode is accepted without asking charset-normalizer when this
# share of its non-ASCII characters is everyday in its script (chinese_share).
CONFIDENT_SHARE = 0.8
# Candidates always tried for bytes that are not UTF-8 (after the detector's).
_LEGACY = ("gb18030", "big5hkscs", "cp950")


def _detect(data: bytes) -> Decoded:
    """Decide among legacy codecs: plausible clean decodes first, then the detector.

    Most non-UTF-8 Chinese files are GB18030: when it decodes the bytes
    cleanly into everyday characters it is taken at once, without the
    detector's cost. Otherwise every candidate (the detector's guess, the
    Chinese codecs, and UTF-8 for files with a few bad bytes) is decoded
    with replacement counted; clean decodes beat replaced ones, and among
    equals the most plausible Chinese wins.
    """
    gb = _strict(data, "gb18030")
    known = {} if gb is None else {"gb18030": (gb, 0)}  # decoded once, reused below
    if gb is not None:
        share = chinese_share(gb, "gb18030")
        # Big5 text rarely reads as everyday GB characters; check below near-certainty.
        big5 = _strict(data, "big5hkscs") if CONFIDENT_SHARE <= share < 0.95 else None
        if share >= CONFIDENT_SHARE and (big5 is None or chinese_share(big5, "big5hkscs") < share):
            return Decoded(gb, "gb18030", "plausibility", round(share, 3))
    best = from_bytes(data).best()
    try:
        detected = widest(best.encoding) if best else ""
    except LookupError:
        detected = ""
    confidence = round(1.0 - best.chaos, 3) if best else 0.0
    names = dict.fromkeys(n for n in (detected, *_LEGACY, "utf-8") if n)
    cands = []
    for name in names:
        text, replaced = known.get(name) or decode_counting(data, name)
        cands.append(_Candidate(name, text, replaced, chinese_share(text, name)))
    chinese = [c for c in cands if c.share >= CONFIDENT_SHARE]
    pick = (
        max((c for c in chinese if not c.replaced), key=lambda c: c.share, default=None)
        # a few bad bytes in Chinese beat a clean decode into something else
        or min((c for c in chinese if c.replaced * 100 < len(data)),
               key=lambda c: (c.replaced, -c.share), default=None)
        or next((c for c in cands if c.name == detected and not c.replaced), None)
        or max((c for c in cands if not c.replaced), key=lambda c: c.share, default=None)
        or min(cands, key=lambda c: (c.replaced, -c.share))
    )
    if pick.name == detected:
        return Decoded(pick.text, pick.name, "charset-normalizer", confidence, pick.replaced)
    return Decoded(pick.text, pick.name, "plausibility", round(pick.share, 3), pick.replaced)


@dataclass(frozen=True)
class _Candidate:
    name: str
    text: str
    replaced: int
    share: float
