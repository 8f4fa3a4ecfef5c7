"""Character-level tidying after decoding (cleaner.tidy): every function on its own,
then tidy() as a whole, then properties (never raises, idempotent)."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cleaner.tidy import (CONTROL, ENTITY, INVISIBLE, LINE_ENDING, NFC, decode_entities, nfc,
                          remove_invisible, tidy, unify_line_endings)

NBSP = "\u00a0"
ZWSP, ZWNJ, ZWJ, WJ, BOM, SHY = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"
ACUTE = "\u0301"  # combining acute accent
PLAIN = "同志们：今天，我们召开2023年全县教育工作会议。\n\t一、回顾工作"


# --------------------------------------------------------------------------
# Counter names: they are the keys users see in report.md and page.counts.
# --------------------------------------------------------------------------

def test_counter_names_are_the_documented_keys():
    assert (ENTITY, LINE_ENDING, NFC, CONTROL, INVISIBLE) == (
        "decode.html-entity", "decode.line-ending", "decode.nfc", "decode.control",
        "decode.zero-width")


# --------------------------------------------------------------------------
# Fast paths: nothing to do → the very same string and zero counts.
# --------------------------------------------------------------------------

def test_fast_paths_return_the_same_object_and_zero():
    text = PLAIN
    out, n = unify_line_endings(text)
    assert out is text and n == 0
    out, n = decode_entities(text)
    assert out is text and n == 0
    out, n = nfc(text)
    assert out is text and n == 0
    out, controls, invisible = remove_invisible(text)
    assert out is text and (controls, invisible) == (0, 0)
    out, counts = tidy(text)
    assert out == text and counts == {}


@pytest.mark.parametrize("text", ["", "a", "教育", "\n", "\t", "AT&T R&D &copy2020"])
def test_noop_inputs_come_back_unchanged(text):
    assert tidy(text) == (text, {})


# --------------------------------------------------------------------------
# Line endings
# --------------------------------------------------------------------------

@pytest.mark.parametrize("brk", ["\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"],
                         ids=["CRLF", "CR", "LS", "PS", "NEL", "VT", "FF"])
def test_each_line_break_becomes_newline_and_counts_once(brk):
    assert unify_line_endings(f"教育{brk}局") == ("教育\n局", 1)
    assert unify_line_endings(f"a{brk}b{brk}c{brk}") == ("a\nb\nc\n", 3)


def test_crlf_is_one_ending_and_lf_cr_are_two():
    assert unify_line_endings("a\r\nb") == ("a\nb", 1)
    assert unify_line_endings("a\n\rb") == ("a\n\nb", 1)  # LF kept, lone CR converted
    assert unify_line_endings("a\r\r\nb") == ("a\n\nb", 2)
    assert unify_line_endings("a\nb\n") == ("a\nb\n", 0)


def test_mixed_line_endings():
    text = "一\r\n二\r三\u2028四\u2029五\x85六\x0b七\x0c八\n九"
    assert unify_line_endings(text) == ("一\n二\n三\n四\n五\n六\n七\n八\n九", 7)


# --------------------------------------------------------------------------
# HTML entities
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw,want", [
    ("&nbsp;", NBSP),
    ("&ldquo;", "\u201c"),
    ("&rdquo;", "\u201d"),
    ("&amp;", "&"),
    ("&lt;p&gt;", "<p>"),
    ("&copy;", "\u00a9"),
    ("&hellip;", "\u2026"),
    ("&mdash;", "\u2014"),
], ids=lambda v: repr(v))
def test_named_entities(raw, want):
    text, n = decode_entities(f"教育{raw}局")
    assert text == f"教育{want}局"
    assert n == raw.count("&")


@pytest.mark.parametrize("raw", ["&#12290;", "&#x3002;", "&#X3002;", "&#x3002", "&#12290"],
                         ids=repr)
def test_numeric_entities_decimal_and_hex(raw):
    assert decode_entities(f"会议{raw}") == ("会议\u3002", 1)


def test_numeric_entity_for_full_width_colon_and_quotes():
    assert decode_entities("同志们&#65306;&#8220;好&#8221;") == ("同志们：“好”", 3)


def test_nbsp_without_semicolon_is_decoded_before_space_punctuation_and_end():
    assert decode_entities("a&nbsp b") == (f"a{NBSP} b", 1)
    assert decode_entities("&nbsp&nbsp;") == (NBSP * 2, 2)
    assert decode_entities("教育&nbsp") == (f"教育{NBSP}", 1)
    assert decode_entities("&nbsp，") == (f"{NBSP}，", 1)


@pytest.mark.parametrize("raw", ["&copy2020", "&ldquo", "&amp", "&lt", "&hellip"], ids=repr)
def test_other_names_need_their_semicolon(raw):
    assert decode_entities(f"x {raw} y") == (f"x {raw} y", 0)


def test_nbsp_prefix_of_a_longer_word_is_left_alone():
    assert decode_entities("&nbspx &nbsp1") == ("&nbspx &nbsp1", 0)


# "&nbsp" without a semicolon is decoded right before Han characters too
# (Python's \b counts Han as word characters, so the pattern must not use it).
def test_nbsp_without_semicolon_before_chinese_is_decoded():
    assert decode_entities("&nbsp同志们") == (f"{NBSP}同志们", 1)
    assert decode_entities("&nbsp&nbsp同志们") == (f"{NBSP}{NBSP}同志们", 2)


def test_double_escaped_entities_are_decoded_and_each_round_counts():
    assert decode_entities("&amp;nbsp;") == (NBSP, 2)
    assert decode_entities("&amp;ldquo;教育&amp;rdquo;") == ("\u201c教育\u201d", 4)
    assert decode_entities("&amp;#12290;") == ("\u3002", 2)
    assert decode_entities("&amp;amp;") == ("&", 2)


@pytest.mark.parametrize("text", ["AT&T", "R&D", "&copy2020", "&unknown;", "&foo;bar",
                                  "a & b", "&", "&;", "&#;", "&#x;", "&&", "Q&A 问答"],
                         ids=repr)
def test_text_that_is_not_an_entity_is_left_alone_and_not_counted(text):
    assert decode_entities(text) == (text, 0)


def test_docstring_mix():
    assert decode_entities("&ldquo;教育&rdquo;&#12290;&amp;nbsp;R&D") == (
        "\u201c教育\u201d\u3002" + NBSP + "R&D", 5)


# --------------------------------------------------------------------------
# NFC
# --------------------------------------------------------------------------

def test_nfc_composes_and_counts_each_changed_cluster_once():
    assert nfc("cafe\u0301") == ("caf\u00e9", 1)
    assert nfc("e\u0301 a\u0300 o\u0308") == ("\u00e9 \u00e0 \u00f6", 3)
    # one base with two marks: one cluster; the second mark stays combining
    text, n = nfc("e\u0301\u0301")
    assert text == "\u00e9\u0301" and n == 1


def test_nfc_reorders_marks_and_maps_singletons():
    # canonical order: dot below (ccc 220) before acute (ccc 230)
    text, n = nfc("e\u0301\u0323")
    assert text == unicodedata.normalize("NFC", "e\u0301\u0323") and n == 1
    # a CJK compatibility ideograph maps to its unified ideograph
    assert nfc("\uf900教育") == ("\u8c48教育", 1)
    assert nfc("\u212b") == ("\u00c5", 1)  # ANGSTROM SIGN


def test_nfc_leaves_composed_text_and_isolated_marks_alone():
    assert nfc("caf\u00e9 教育") == ("caf\u00e9 教育", 0)
    assert nfc(ACUTE + "教") == (ACUTE + "教", 0)  # nothing to compose with


# Compositions whose second character has combining class 0 (conjoining
# Hangul jamo) change the text under NFC, so they are counted too.
def test_nfc_counts_compositions_with_class_zero_second_character():
    assert nfc("\u1100\u1161") == ("\uac00", 1)
    assert tidy("\u1100\u1161") == ("\uac00", {NFC: 1})


# --------------------------------------------------------------------------
# Controls and invisible characters
# --------------------------------------------------------------------------

def test_controls_removed_tab_and_newline_kept():
    text = "教\x00育\x07局\t工作\n会议\x1b[0m\x7f\x80\x9f"
    assert remove_invisible(text) == ("教育局\t工作\n会议[0m", 6, 0)


@pytest.mark.parametrize("ch", [chr(c) for c in [*range(0x00, 0x09), *range(0x0e, 0x20),
                                                 *range(0x7f, 0xa0)]],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_every_c0_c1_control_is_removed(ch):
    assert remove_invisible(f"a{ch}b") == ("ab", 1, 0)


@pytest.mark.parametrize("ch", [ZWSP, WJ, BOM, SHY, "\u180e", "\u2061", "\u2062", "\u2063",
                                "\u2064"],
                         ids=["ZWSP", "WJ", "BOM", "SHY", "MVS", "FA", "IT", "IS", "IP"])
def test_invisible_format_characters_are_removed(ch):
    assert remove_invisible(f"教{ch}育{ch}") == ("教育", 0, 2)


def test_in_text_bom_and_soft_hyphen():
    assert remove_invisible(f"{BOM}讲话{BOM}稿") == ("讲话稿", 0, 2)
    assert remove_invisible(f"edu{SHY}cation") == ("education", 0, 1)


def test_visible_spaces_are_not_invisible():
    text = f"教育 局{NBSP}长\u3000讲话"
    assert remove_invisible(text) == (text, 0, 0)


@pytest.mark.parametrize("seq", [
    f"\U0001f469{ZWJ}\U0001f4bb",                        # woman technologist
    f"\U0001f468{ZWJ}\U0001f469{ZWJ}\U0001f467",         # family
    f"\U0001f3f3\ufe0f{ZWJ}\U0001f308",                  # rainbow flag (after VS16)
    f"\U0001f469\U0001f3fd{ZWJ}\U0001f52c",               # skin tone, then ZWJ
    f"\u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645",  # Persian ZWNJ
    f"\u0915\u094d{ZWJ}\u0937",                          # Devanagari half form
])
def test_joiners_kept_inside_joining_sequences(seq):
    assert remove_invisible(seq) == (seq, 0, 0)
    assert tidy(f"表情{seq}。") == (f"表情{seq}。", {})


@pytest.mark.parametrize("text,want", [
    (f"教{ZWJ}育", "教育"),
    (f"教{ZWNJ}育", "教育"),
    (f"a{ZWJ}b", "ab"),
    (f"{ZWJ}\U0001f469", "\U0001f469"),           # at the start
    (f"\U0001f469{ZWJ}", "\U0001f469"),           # at the end
    (f"\U0001f469{ZWJ}教", "\U0001f469教"),        # emoji then Han
    (f"教{ZWJ}\U0001f469", "教\U0001f469"),
    (f"１{ZWJ}２", "１２"),                         # full-width forms
    (f"\U0001f469 {ZWJ}\U0001f4bb", "\U0001f469 \U0001f4bb"),
])
def test_joiners_removed_where_no_script_joins(text, want):
    assert remove_invisible(text) == (want, 0, 1)


# Han outside U+2E80-U+9FFF (compatibility ideographs, extensions beyond the
# BMP) does not join either: a ZWJ between such characters goes.
def test_zwj_removed_between_han_outside_the_basic_block():
    assert remove_invisible(f"\U00020000{ZWJ}\U00020001") == ("\U00020000\U00020001", 0, 1)
    assert remove_invisible(f"\U0002a6a5{ZWJ}教") == ("\U0002a6a5教", 0, 1)


@pytest.mark.parametrize("ch", ["\u200e", "\u200f", "\u061c", "\u202a", "\u202e", "\u2066",
                                "\u2069", "\ufe0e", "\ufe0f", "\U000e0100"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_bidi_marks_and_variation_selectors_are_kept(ch):
    """docs/decoding.md: they carry meaning."""
    text = f"教{ch}育"
    assert remove_invisible(text) == (text, 0, 0)
    assert tidy(text) == (text, {})


def test_controls_and_invisible_counted_separately():
    assert remove_invisible(f"\x07教{ZWSP}育\x00{WJ}局{ZWJ}长") == ("教育局长", 2, 3)


# --------------------------------------------------------------------------
# tidy(): every step in order, non-zero counts only
# --------------------------------------------------------------------------

def test_tidy_docstring_case():
    assert tidy("教育&nbsp;局\r\n") == (f"教育{NBSP}局\n", {ENTITY: 1, LINE_ENDING: 1})


def test_tidy_all_steps_with_counts():
    raw = ("&ldquo;教育&rdquo;工作\r\n"
           "同志们&#65306;\r"
           f"会议{ZWSP}很重要\x07。cafe\u0301\u2028"
           f"&amp;nbsp;结束{BOM}\n")
    text, counts = tidy(raw)
    assert text == f"\u201c教育\u201d工作\n同志们：\n会议很重要。caf\u00e9\n{NBSP}结束\n"
    assert counts == {ENTITY: 5, LINE_ENDING: 3, NFC: 1, CONTROL: 1, INVISIBLE: 2}


def test_tidy_entities_that_decode_to_special_characters_are_tidied_too():
    # entities come first, so what they produce goes through the later steps
    assert tidy("a&#13;&#10;b") == ("a\nb", {ENTITY: 2, LINE_ENDING: 1})
    assert tidy("a&#8232;b") == ("a\nb", {ENTITY: 1, LINE_ENDING: 1})
    assert tidy("e&#769;") == ("\u00e9", {ENTITY: 1, NFC: 1})
    assert tidy("教&#8203;育") == ("教育", {ENTITY: 1, INVISIBLE: 1})
    assert tidy("教&#xFEFF;育") == ("教育", {ENTITY: 1, INVISIBLE: 1})


def test_tidy_keeps_only_non_zero_counts():
    _, counts = tidy("教育\r\n")
    assert counts == {LINE_ENDING: 1}
    assert all(v > 0 for v in tidy(f"\x07{ZWSP}&amp;\r")[1].values())


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

SPECIAL = ["\r\n", "\r", "\n", "\t", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x00", "\x07",
           "\x1b", "\x7f", "\x9f", ZWSP, ZWNJ, ZWJ, WJ, BOM, SHY, "\u180e", NBSP, "\u3000",
           ACUTE, "\u0323", "\ufe0f", "\U0001f469", "\U0001f4bb", "\u0645", "\u062e", "\uf900"]
ALPHABET = st.one_of(
    st.sampled_from("教育局讲话同志们会议，。：“”"),
    st.characters(min_codepoint=0x4e00, max_codepoint=0x9fff),
    st.characters(min_codepoint=0x20, max_codepoint=0x7e),
    st.sampled_from("&;#x0123456789abcdefnsplmtquoAX"),
    st.sampled_from([s for s in SPECIAL if len(s) == 1]),
)
# Whole tokens make entities and CRLF likely, which single characters rarely spell.
TOKENS = st.lists(st.one_of(
    st.sampled_from(["&nbsp;", "&nbsp", "&amp;", "&amp;nbsp;", "&ldquo;", "&#12290;", "&#x3002;",
                     "&#38;", "&#38", "&#", "&", ";", "nbsp", "amp;", "#x", "#1", "AT&T", "R&D",
                     "&copy2020", "&unknown;", "e\u0301", "\r\n", *SPECIAL]),
    st.text(ALPHABET, max_size=3),
), max_size=25).map("".join)
ANY_TEXT = st.one_of(st.text(ALPHABET, max_size=60), TOKENS)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(ANY_TEXT)
def test_tidy_never_raises_and_its_output_is_clean(text):
    out, counts = tidy(text)
    assert isinstance(out, str)
    assert set(counts) <= {ENTITY, LINE_ENDING, NFC, CONTROL, INVISIBLE}
    assert all(isinstance(v, int) and v > 0 for v in counts.values())
    assert "\r" not in out and not any(b in out for b in "\u2028\u2029\x85\x0b\x0c")
    assert not any(ord(c) < 0x20 and c not in "\t\n" for c in out)
    assert not any(0x7f <= ord(c) <= 0x9f for c in out)
    assert not any(c in out for c in (ZWSP, WJ, BOM, SHY))
    if counts == {}:
        assert out == text


# tidy reaches a fixed point: a removal that completes an entity
# ("&\u200bamp;") or brings a mark back to its base ("e\u200b\u0301"), and
# entities escaped more than twice, are all handled in one call.
@settings(max_examples=400, deadline=None, derandomize=True)
@given(ANY_TEXT)
@example("&\u200bamp;")
@example("e\u200b\u0301")
def test_tidy_is_idempotent(text):
    once, _ = tidy(text)
    assert tidy(once) == (once, {})


@pytest.mark.parametrize("text", [
    "&\u200bamp;",           # invisible removal joins an entity
    "&nbs\x07p;",            # control removal joins an entity
    "e\u200b\u0301",         # invisible removal exposes an NFC composition
    "e\x07\u0301",           # control removal exposes an NFC composition
    "&amp;amp;nbsp;",        # third level of escaping
    "&#38#38#38",            # the same with numeric references
], ids=repr)
def test_tidy_is_idempotent_on_known_cases(text):
    once, _ = tidy(text)
    assert tidy(once) == (once, {})
