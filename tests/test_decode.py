"""Decoding: round trips through every common encoding, mojibake repair, hostile bytes."""
from __future__ import annotations

import codecs
import inspect
import random
import re
import sys
import unicodedata
from dataclasses import MISSING, FrozenInstanceError, fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.decode import decode_bytes, decode_counting
from cleaner.decode import SHARE_SAMPLE, Decoded, chinese_share
from cleaner.errors import InputError
from cleaner.mojibake import damage, plausibility
from cleaner.mojibake import (SCREEN_CHARS, everyday_big5, everyday_gb, looks_misread, punctuation,
                              utf8_lead_readings)
from cleaner.tidy import unify_line_endings
from cleaner.tidy import INERT, tidy, tidy_steps
from conftest import RAW, SEED_NAMES

# (name used to write, what the file is recorded as)
ROUND_TRIPS = [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("utf-16", "utf-16-le"),  # Python writes a little-endian BOM
    ("utf-16-le+bom", "utf-16-le"),
    ("utf-16-be+bom", "utf-16-be"),
    ("utf-32+bom", "utf-32-le"),
    ("gb18030", "gb18030"),
    ("gbk", "gb18030"),
]

# A traditional-Chinese text of our own, written for these tests.
BIG5_TEXT = (
    "在全縣教育工作會議上的講話\n"
    "同志們：\n"
    "今天，我們召開全縣教育工作會議，主要任務是總結過去一年的工作，分析當前面臨的形勢，"
    "部署新學年的重點任務。\n"
    "一、過去一年的主要成績\n"
    "這一年，全縣教育系統堅持立德樹人，辦學條件明顯改善，教師隊伍素質穩步提高，"
    "學生綜合素質全面發展。\n"
    "二、存在的問題\n"
    "我們也要清醒地看到，城鄉之間、學校之間的差距依然存在，部分學校的管理還不夠規範。\n"
    "三、下一步的工作\n"
    "希望大家振奮精神，真抓實幹，為辦好人民滿意的教育作出新的更大貢獻！\n"
    "謝謝大家！\n"
)

SIMPLIFIED_TITLES = ["教育局教育工作会议讲话稿", "讲话稿", "同志们：", "2023年度工作会议上讲话",
                     "在全县教育工作会议上的讲话"]
TRADITIONAL_TITLES = ["在全縣教育工作會議上的講話", "講話稿", "同志們：", "教育局長講話"]


def _seed(name: str) -> str:
    return (RAW / name).read_text(encoding="utf-8")


def _encode(text: str, how: str) -> bytes:
    if how == "utf-16-le+bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if how == "utf-16-be+bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    if how == "utf-32+bom":
        return text.encode("utf-32")
    return text.encode(how)


@pytest.mark.parametrize("how,recorded", ROUND_TRIPS)
@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_round_trip(name, how, recorded):
    text = _seed(name)
    try:
        data = _encode(text, how)
    except UnicodeEncodeError:
        pytest.skip(f"{name} has characters {how} cannot represent")
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.encoding == recorded
    assert (decoded.replaced, decoded.repaired) == (0, "")


@pytest.mark.parametrize("how", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_seed_without_bom_is_recognised_by_its_nul_bytes(how):
    text = _seed(SEED_NAMES[2])
    decoded = decode_bytes(text.encode(how))
    assert (decoded.text, decoded.encoding, decoded.decided_by) == (text, how, "nul-pattern")


@pytest.mark.parametrize("how", ["big5", "cp950", "big5hkscs", "utf-8", "utf-16", "utf-8-sig"])
def test_traditional_text_round_trip(how):
    decoded = decode_bytes(BIG5_TEXT.encode(how))
    assert decoded.text == BIG5_TEXT
    assert decoded.replaced == 0
    if how.startswith("big5") or how == "cp950":
        assert decoded.encoding in {"big5hkscs", "cp950"}


def test_hkscs_characters_survive():
    text = "香港的𨋢和㗎，" + BIG5_TEXT  # characters only Big5-HKSCS has
    decoded = decode_bytes(text.encode("big5hkscs"))
    assert (decoded.text, decoded.encoding) == (text, "big5hkscs")


@pytest.mark.parametrize("how", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be+bom", "gb18030", "gbk"])
@pytest.mark.parametrize("title", SIMPLIFIED_TITLES)
def test_short_simplified_title_only_files(title, how):
    assert decode_bytes(_encode(title + "\n", how)).text == title + "\n"


@pytest.mark.parametrize("how", ["utf-8", "utf-16", "big5", "big5hkscs"])
@pytest.mark.parametrize("title", TRADITIONAL_TITLES)
def test_short_traditional_title_only_files(title, how):
    assert decode_bytes(_encode(title + "\n", how)).text == title + "\n"


@pytest.mark.parametrize("encoding,expected", [("gbk", "gb18030"), ("GB2312", "gb18030"),
                                               ("big5", "big5hkscs"), ("utf-8", "utf-8")])
def test_override_is_widened_and_recorded(encoding, expected):
    text = "在全县教育工作会议上的讲话" if expected != "big5hkscs" else BIG5_TEXT
    decoded = decode_bytes(text.encode(expected), encoding)
    assert (decoded.text, decoded.encoding, decoded.decided_by) == (text, expected, "override")
    assert decode_bytes(text.encode(expected), encoding, "map").decided_by == "map"


def test_override_counts_replaced_bytes():
    decoded = decode_bytes("讲话".encode("gb18030") + b"\xff", "utf-8")
    assert decoded.replaced == 5  # 4 GB bytes that are not UTF-8, and 0xFF
    assert decoded.text.count("\ufffd") >= 1


def test_a_few_bad_bytes_in_utf8_keep_utf8_and_are_counted():
    text = _seed(SEED_NAMES[1])
    data = text.encode("utf-8")
    cut = data.index("教育".encode()) + 1  # the middle of a character
    broken = data[:cut] + data[cut + 1:]
    decoded = decode_bytes(broken)
    assert decoded.encoding == "utf-8"
    assert decoded.replaced in (1, 2)
    assert decoded.text.count("\ufffd") == 1
    assert len(decoded.text) == len(text)


def test_decode_counting_counts_bytes_not_characters():
    assert decode_counting(b"\xe6\x95ok\xff", "utf-8") == ("\ufffdok\ufffd", 3)


# --- Mojibake -----------------------------------------------------------------

def _cp1252_reader(data: bytes) -> str:
    """Read bytes as Windows-1252 the way browsers do (undefined bytes become C1 controls)."""
    return "".join(codecs.decode(bytes([b]), "cp1252", "ignore") or chr(b) for b in data)


def _gbk_reader(exc: UnicodeDecodeError):
    """Read bytes as GBK the way browsers and CP936 do: 0x80 is €, other bad bytes U+FFFD."""
    return ("\u20ac" if exc.object[exc.start] == 0x80 else "\ufffd", exc.start + 1)


codecs.register_error("test.gbk-reader", _gbk_reader)

LOSSLESS_MISREADINGS = {
    "gbk-as-latin-1": lambda t: t.encode("gb18030").decode("latin-1"),
    "gbk-as-cp1252": lambda t: _cp1252_reader(t.encode("gb18030")),
    "utf-8-as-latin-1": lambda t: t.encode("utf-8").decode("latin-1"),
    "utf-8-as-cp1252": lambda t: _cp1252_reader(t.encode("utf-8")),
}
REPAIR_NAMES = {"gbk-as-latin-1": "gbk-as-latin-1", "gbk-as-cp1252": "gbk-as-latin-1",
                "utf-8-as-latin-1": "utf-8-as-latin-1", "utf-8-as-cp1252": "utf-8-as-latin-1"}


@pytest.mark.parametrize("way", sorted(LOSSLESS_MISREADINGS))
@pytest.mark.parametrize("name", SEED_NAMES)
def test_lossless_mojibake_is_repaired_exactly(name, way):
    text = _seed(name)
    moji = LOSSLESS_MISREADINGS[way](text)
    assert plausibility(moji) < 0.5
    decoded = decode_bytes(moji.encode("utf-8"))
    assert decoded.repaired == REPAIR_NAMES[way]
    assert decoded.text == text


@pytest.mark.parametrize("reader", ["test.gbk-reader", "replace"])
@pytest.mark.parametrize("name", SEED_NAMES)
def test_utf8_read_as_gbk_is_repaired(name, reader):
    """GBK readers lose the UTF-8 bytes they cannot pair; those are guessed from context."""
    text = _seed(name)
    moji = text.encode("utf-8").decode("gb18030", reader)
    decoded = decode_bytes(moji.encode("utf-8"))
    assert decoded.repaired == "utf-8-as-gbk"
    assert len(decoded.text) == len(text)
    wrong = sum(a != b for a, b in zip(decoded.text, text))
    assert wrong <= decoded.guessed
    assert wrong / len(text) < 0.03  # measured: 0.2% to 2.0% of the characters
    assert "\ufffd" not in decoded.text


@pytest.mark.parametrize("how", ["utf-8", "gb18030", "utf-16", "big5"])
def test_correct_text_is_never_repaired(how):
    samples = [_seed(n) for n in SEED_NAMES] + SIMPLIFIED_TITLES + TRADITIONAL_TITLES + [BIG5_TEXT]
    for text in samples:
        try:
            data = text.encode(how)
        except UnicodeEncodeError:
            continue
        assert decode_bytes(data).repaired == ""


@pytest.mark.parametrize("text", [
    "Les élèves de l'école ont présenté leurs travaux à Zürich.",
    "Café, naïve, façade — déjà vu.",
    "日本語の文章です。ひらがなとカタカナ。",
    "Привет, как дела?",
    "价格：100元×3=300元，温度25°C，±0.5",
])
def test_other_languages_and_symbols_are_not_repaired(text):
    for how in ("utf-8", "utf-16"):
        decoded = decode_bytes(text.encode(how))
        assert (decoded.text, decoded.repaired) == (text, "")


def test_damage_beyond_repair_is_counted():
    assert damage("教育锟斤拷锟斤拷局\ufffd\ufffd，好\ufffd") == 3
    assert damage("教育局") == 0


# --- Hostile bytes -------------------------------------------------------------

@pytest.mark.parametrize("data", [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\x00", b"PK\x03\x04\x14\x00\x00",
                                  b"\x89PNG\r\n\x1a\n\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF",
                                  b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x1f\x8b\x08\x00",
                                  bytes(range(256)) * 4])
def test_binary_inputs_are_refused(data):
    with pytest.raises(InputError, match="not text"):
        decode_bytes(data)


def test_line_endings_are_unified():
    assert unify_line_endings("一\r\n二\r三\n") == ("一\n二\n三\n", 2)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data):
    try:
        decoded = decode_bytes(data)
    except InputError:
        return
    assert isinstance(decoded.text, str)
    assert decoded.replaced >= 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SEED_NAMES), st.integers(min_value=1, max_value=600),
       st.sampled_from(["utf-8", "gb18030", "utf-16", "big5hkscs"]))
def test_truncated_multibyte_sequences_never_crash(name, cut, encoding):
    text = _seed(name)[:300] if encoding != "big5hkscs" else BIG5_TEXT
    data = text.encode(encoding, "replace")[:cut]
    try:
        decoded = decode_bytes(data)
    except InputError:
        return
    # Whatever was cut, the intact prefix comes back.
    assert isinstance(decoded.text, str)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SEED_NAMES), st.integers(min_value=0, max_value=2**32 - 1),
       st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_mutated_seed_bytes_never_crash(name, seed, encoding):
    rng = random.Random(seed)
    data = bytearray(_seed(name)[:2000].encode(encoding, "replace"))
    for _ in range(rng.randint(1, 20)):
        op = rng.random()
        pos = rng.randrange(len(data))
        if op < 0.4:
            data[pos] = rng.randrange(256)
        elif op < 0.7:
            del data[pos]
        else:
            data.insert(pos, rng.randrange(256))
    try:
        decoded = decode_bytes(bytes(data))
    except InputError:
        return
    assert isinstance(decoded.text, str)


# --- Shortcuts: each gives the answer of the full check it stands in for ------

def _misread_by_the_full_look(text: str) -> bool:
    """The screen without its shortcut: the opening's GB18030 bytes, checked both ways."""
    sample = text[:SCREEN_CHARS]
    data = sample.encode("gb18030", "replace")
    if b"\x81\x30" in data and re.search("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]", sample):
        return True
    return re.search(rb"(?:[\xe4-\xe9][\x80-\xbf][\x80-\xbf]){3}", data) is not None


def _gbk_chars(leads, trails) -> list[str]:
    chars = []
    for lead in leads:
        for trail in trails:
            try:
                chars.append(bytes((lead, trail)).decode("gb18030"))
            except UnicodeDecodeError:
                pass
    return chars


# Characters whose GB18030 bytes can make up a UTF-8-looking run, and others around them.
SCREEN_ALPHABET = sorted(
    set(_gbk_chars(range(0x81, 0xC0), range(0x80, 0xC0)))  # both bytes 80-BF
    | set(_gbk_chars(range(0x81, 0xFF, 7), range(0xE4, 0xEA)))  # a trail E4-E9
    | utf8_lead_readings()  # a lead E4-E9 and a trail 80-BF
    | set(map(chr, range(0x80, 0x100))) | set("ab1 \n，。讲话\u2002\ufffd\U0001f600")
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(SCREEN_ALPHABET), max_size=40).map("".join))
def test_mojibake_screen_shortcut_agrees_with_the_full_look(text):
    assert looks_misread(text) == _misread_by_the_full_look(text)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_mojibake_screen_shortcut_agrees_on_misread_seeds(name):
    text = _seed(name)
    flagged = 0
    for start in range(0, min(len(text), 3000), 37):
        window = text[start:start + 250]
        misread = [window, window.encode().decode("gb18030", "replace"),
                   window.encode().decode("latin-1"), window.encode("gb18030").decode("latin-1")]
        for sample in misread + [m[1:] for m in misread]:
            full = _misread_by_the_full_look(sample)
            assert looks_misread(sample) == full
            flagged += full
    assert flagged  # the misread windows are flagged, so both answers were exercised


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*SCREEN_ALPHABET, *sorted(punctuation()), *"的是了们講話"]),
                max_size=500).map("".join),
       st.sampled_from(["gb18030", "big5hkscs", "cp950", "utf-8"]))
def test_chinese_share_counts_every_everyday_character(text, encoding):
    script = everyday_big5() if encoding in ("big5hkscs", "cp950") else everyday_gb()
    everyday = script | punctuation()
    sample = text[:SHARE_SAMPLE]
    total = sum(not ch.isascii() for ch in sample)
    expected = sum(ch in everyday for ch in sample) / total if total else 0.0
    assert chinese_share(text, encoding) == expected


def test_decoded_takes_its_fields_in_order_with_their_defaults():
    params = [(p.name, p.default) for p in inspect.signature(Decoded).parameters.values()]
    expected = [(f.name, inspect.Parameter.empty if f.default is MISSING else f.default)
                for f in fields(Decoded)]
    assert params == expected
    decoded = Decoded("讲话", "utf-8", "strict-utf-8", 1.0)
    assert replace(decoded, damaged=2) == Decoded("讲话", "utf-8", "strict-utf-8", 1.0, damaged=2)
    with pytest.raises(FrozenInstanceError):
        decoded.text = "x"


@pytest.mark.parametrize("text", ["PKU 讲话", "%s 讲话", "GIF 讲话", "Rar 讲话", "7z 讲话", "，讲话",
                                  "\u00ff讲话", "\u00fe讲话", ""])
def test_text_starting_like_a_signature_or_mark_is_still_utf8(text):
    decoded = decode_bytes(text.encode("utf-8"))
    assert (decoded.text, decoded.decided_by) == (text, "strict-utf-8")


def _composes_with_previous() -> set[str]:
    """Characters NFC may combine with the one before: second parts of composites, Hangul jamo."""
    found = set(map(chr, [*range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]))
    for point in range(sys.maxunicode + 1):
        parts = unicodedata.decomposition(chr(point)).split()
        if len(parts) == 2 and not parts[0].startswith("<") \
                and unicodedata.normalize("NFC", chr(point)) == chr(point):
            found.add(chr(int(parts[1], 16)))
    return found


INERT_CHARS = [ch for ch in map(chr, range(0x10000)) if re.fullmatch(f"[{INERT}]", ch)]
# What some step changes: an entity, a line break, a zero-width character, a
# combining mark, a compatibility ideograph NFC replaces, a control.
TIDY_TARGETS = ["&amp;", "\r", "\u200b", "\u0301", "\uf900", "\x07"]


def test_inert_characters_are_left_alone_by_every_tidy_step():
    composing = _composes_with_previous()
    for ch in INERT_CHARS:
        assert tidy_steps(ch) == (ch, {}), repr(ch)
        assert unicodedata.combining(ch) == 0 and ch not in composing, repr(ch)
    assert {"讲", "，", "\u3000", "\n", "é", "Я", "①"} <= set(INERT_CHARS)
    assert not {target[0] for target in TIDY_TARGETS} & set(INERT_CHARS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(INERT_CHARS[::97] + TIDY_TARGETS), max_size=60).map("".join))
def test_tidy_shortcut_agrees_with_its_steps(text):
    assert tidy(text) == tidy_steps(text)
