"""Decoding: every seed survives a round trip through the common encodings."""
from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.decode import decode_bytes
from cleaner.tidy import unify_line_endings
from cleaner.errors import InputError
from conftest import RAW, SEED_NAMES

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "gbk"]


def _seed(name: str) -> str:
    return (RAW / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_round_trip(name, encoding):
    text = _seed(name)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        pytest.skip(f"{name} has characters {encoding} cannot represent")
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.replaced == 0


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-16", "utf-8-sig"])
def test_gbk_family_is_recorded_as_gb18030(encoding):
    decoded = decode_bytes("教育局长在全市教育工作会议上的讲话".encode(encoding))
    assert decoded.text == "教育局长在全市教育工作会议上的讲话"
    expected = {"gb18030": "gb18030", "gbk": "gb18030", "utf-16": "utf-16-le", "utf-8-sig": "utf-8-sig"}
    assert decoded.encoding == expected[encoding]


@pytest.mark.parametrize("title", ["教育局教育工作会议讲话稿", "讲话稿", "同志们：", "2023年度工作会议上讲话"])
def test_short_title_only_files_in_gb18030(title):
    assert decode_bytes(title.encode("gb18030")).text == title


def test_big5_traditional_text():
    text = "教育局長在全市教育工作會議上的講話\n同志們：\n今天，我們召開全市教育工作會議，總結過去一年的工作。\n"
    decoded = decode_bytes(text.encode("big5"))
    assert decoded.text == text
    assert decoded.encoding in {"big5hkscs", "cp950"}


def test_bom_is_recorded_and_removed():
    decoded = decode_bytes(codecs.BOM_UTF8 + "同志们".encode())
    assert (decoded.text, decoded.encoding, decoded.decided_by) == ("同志们", "utf-8-sig", "bom")


@pytest.mark.parametrize("data", [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\x00", b"PK\x03\x04\x14\x00\x00", b"\x89PNG\r\n\x1a\n\x00"])
def test_binary_inputs_are_refused(data):
    with pytest.raises(InputError, match="not text"):
        decode_bytes(data)


def test_line_endings_are_unified():
    assert unify_line_endings("一\r\n二\r三\n") == ("一\n二\n三\n", 2)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data):
    try:
        decoded = decode_bytes(data)
    except InputError:
        return
    assert isinstance(decoded.text, str)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SEED_NAMES), st.integers(min_value=1, max_value=400), st.sampled_from(["utf-8", "gb18030"]))
def test_truncated_multibyte_sequences_never_crash(name, cut, encoding):
    data = _seed(name)[:200].encode(encoding)[:cut]
    try:
        decode_bytes(data)
    except InputError:
        pass
