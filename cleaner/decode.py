"""Bytes to text: decide the encoding, record how it was decided, lose nothing.

Order of decisions (the first that holds wins):

1. a byte-order mark (UTF-32, UTF-8, UTF-16);
2. strict UTF-8, the common case, which must not pay for detection;
3. UTF-16 without a mark, recognised by NUL bytes on one side of each pair;
4. charset-normalizer, with the legacy Chinese encodings widened to the
   superset that decodes the same bytes without loss (GB2312/GBK → GB18030,
   Big5 → Big5-HKSCS or CP950).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from .errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Detected name → the codecs to try, widest first, so no character is lost.
_SUPERSETS = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "big5hkscs": ("big5hkscs", "cp950"),
}

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


@dataclass(frozen=True)
class Decoded:
    """Text and how it was obtained."""

    text: str
    encoding: str
    decided_by: str
    confidence: float
    replaced: int = 0


def sniff_binary(data: bytes) -> str | None:
    """Name the kind of a non-text input, or None for something that may be text.

    >>> sniff_binary(b"%PDF-1.4 ...")
    'PDF document'
    >>> sniff_binary("教育".encode("utf-8")) is None
    True
    """
    for magic, kind in _BINARY_MAGIC:
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
    r"""Guess UTF-16 without a byte-order mark from where its NUL bytes sit.

    Chinese UTF-16 has NULs mostly beside ASCII characters (newlines, digits),
    so there may be few of them; both byte orders are tried and the one that
    reads as text wins.

    >>> _utf16_without_bom("abc讲话\n".encode("utf-16-le"))
    'utf-16-le'
    >>> _utf16_without_bom("一二三讲话\n第1页".encode("utf-16-be"))
    'utf-16-be'
    >>> _utf16_without_bom(b"plain ascii") is None
    True
    """
    if len(data) < 2 or len(data) % 2 or b"\x00" not in data:
        return None
    best, best_score = None, 0.95
    for name in ("utf-16-le", "utf-16-be"):
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


def decode_bytes(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode raw bytes following the order in the module docstring.

    ``encoding`` forces a codec (the user knows better); bytes it cannot decode
    are replaced and counted, never dropped silently.

    >>> decode_bytes("同志们：".encode("gb18030")).encoding
    'gb18030'
    >>> decode_bytes(codecs.BOM_UTF8 + "讲话".encode()).text
    '讲话'
    >>> decode_bytes("讲话".encode()).decided_by
    'strict-utf-8'
    """
    if encoding:
        try:
            text = data.decode(encoding)
            return Decoded(text, encoding, "override", 1.0)
        except UnicodeDecodeError:
            text = data.decode(encoding, errors="replace")
            return Decoded(text, encoding, "override", 0.0, text.count("\ufffd"))
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = data[len(bom):].decode(name.replace("-sig", ""), errors="replace")
            return Decoded(text, name, "bom", 1.0, text.count("\ufffd"))
    kind = sniff_binary(data)
    if kind:
        raise InputError(f"not text: {kind}")
    if b"\x00" in data:
        # Valid UTF-8 never needs NULs in text; they mean UTF-16/32 or binary.
        name = _utf16_without_bom(data)
        if name:
            return Decoded(data.decode(name), name, "nul-pattern", 0.9)
        if data.count(0) > len(data) // 1000:
            raise InputError("not text: binary data (NUL bytes)")
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "strict-utf-8", 1.0)
    return _detect(data)


def _is_everyday_simplified(ch: str) -> bool:
    try:
        gb = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(gb) == 2 and 0xB0 <= gb[0] <= 0xD7  # GB2312 level 1


def simplified_share(text: str) -> float:
    """Share of Han characters that are among GB2312's 3,755 everyday characters.

    Real simplified Chinese scores above 0.9; other bytes forced through
    GB18030 (Big5 text, for one) land on rare characters and score low.

    >>> simplified_share("同志们，今天我们召开教育工作会议。") > 0.9
    True
    >>> big5 = "今天我們召開全市教育工作會議，總結過去一年的工作。".encode("big5")
    >>> simplified_share(big5.decode("gb18030", "replace")) < 0.8
    True
    """
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"]
    if not han:
        return 0.0
    return sum(map(_is_everyday_simplified, han)) / len(han)


def _detect(data: bytes) -> Decoded:
    best = from_bytes(data).best()
    try:
        detected = codecs.lookup(best.encoding).name if best else "gb18030"
    except LookupError:
        detected = "gb18030"
    confidence = round(1.0 - best.chaos, 3) if best else 0.0
    # Short simplified texts are often taken for Big5 or a Western codec:
    # GB18030 wins whenever it decodes cleanly into everyday characters.
    gb = _strict(data, "gb18030")
    if gb is not None and _SUPERSETS.get(detected, ("",))[0] != "gb18030":
        share = simplified_share(gb)
        if share >= 0.8:
            return Decoded(gb, "gb18030", "plausibility", round(share, 3))
    candidates = _SUPERSETS.get(detected, (detected,))
    for name in (*candidates, "gb18030", "big5hkscs"):
        text = _strict(data, name)
        if text is not None:
            return Decoded(text, name, "charset-normalizer", confidence)
    name = candidates[0]
    text = data.decode(name, errors="replace")
    return Decoded(text, name, "charset-normalizer", 0.0, text.count("\ufffd"))


_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def unify_line_endings(text: str) -> str:
    r"""Turn CRLF, CR and Unicode line separators into ``\n``.

    >>> unify_line_endings("a\r\nb\rc")
    'a\nb\nc'
    """
    return _LINE_BREAKS.sub("\n", text)
