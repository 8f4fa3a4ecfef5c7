"""Fuzzing the whole pipeline with random and mutated bytes.

Hypothesis feeds byte strings built from the seed pages (cut, mutated, spliced,
re-encoded) and from scratch through ``decode_file`` → ``clean_page``, and a
few small folders through ``cleaner run``. Whatever the bytes:

* no exception escapes: a file that cannot be cleaned becomes ``page.error``,
  a non-empty reason;
* everything written is valid UTF-8, and the corpus is valid JSON Lines;
* normalization is idempotent on the output: ``normalize_line`` changes no
  title, subtitle or paragraph;
* no character is invented: every output character is in the decoded input
  (the page lines right after decoding, entities and mojibake already
  resolved) or is the result of a documented normalization (:data:`MADE_FROM`).
"""
from __future__ import annotations

import codecs
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cleaner.cli import app
from cleaner.normalize import normalize_line
from cleaner.pipeline import clean_page, decode_file

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [p.read_bytes() for p in sorted((ROOT / "raw").glob("*.txt"))]

# The characters normalization may write that were not in the decoded text,
# each with the characters it makes them from. Nothing else may appear.
_WHITESPACE = " \t\n\r\u3000\u00a0\u2002\u2003\u2009\u200a\u202f\u205f\x0b\x0c"
MADE_FROM = {
    "，": ",", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(", "）": ")",  # widened in Chinese
    "“": '"', "”": '"',  # straight double quotes paired in a Chinese line
    " ": _WHITESPACE,  # runs of spaces folded to one; broken lines joined with a space
}

# Pieces of scraped pages: Chinese prose, boilerplate, markup debris, odd spacing.
_PIECES = [
    "同志们：", "今天我们召开全县教育工作会议。", "一、统一思想，提高认识", "（一）加强领导",
    "上一页 1 2 3 下一页", "责任编辑：张三", "版权所有 © 2023", "本文来源：网络", "点击查看全文>>",
    "&nbsp;", "&ldquo;", "&#20013;", "\u3000\u3000", "    ", "\t", "\r\n", "\n\n", "\\\"", '"',
    "1、", "第1页", "...", "……", ">", "#", "`", "(", ")", ",", ":", "!", "?", "Abc", "2023年11月29日",
    "\ufeff", "\u200b", "\x00", "\x1b", "锟斤拷", "\ufffd",
]
_ENCODINGS = ["utf-8", "gb18030", "big5hkscs", "utf-16", "utf-16-le", "utf-8-sig"]


@st.composite
def mutated_seed(draw) -> bytes:
    """A window of a seed page with a few byte-level mutations."""
    seed = draw(st.sampled_from(SEEDS))
    start = draw(st.integers(0, max(0, len(seed) - 1)))
    data = bytearray(seed[start:start + draw(st.integers(0, 3000))])
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "splice"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 200))]
        else:
            other = draw(st.sampled_from(SEEDS))
            begin = draw(st.integers(0, len(other) - 1))
            data[at:at] = other[begin:begin + draw(st.integers(1, 400))]
    return bytes(data)


@st.composite
def encoded_pieces(draw) -> bytes:
    """Scraped-page pieces joined at random and encoded in a codec Chinese pages use."""
    text = "".join(draw(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=8)),
                                 max_size=40)))
    encoding = draw(st.sampled_from(_ENCODINGS))
    data = text.encode(encoding, "replace")
    return data if encoding != "utf-16" else codecs.BOM_UTF16_LE + text.encode("utf-16-le", "replace")


INPUTS = st.one_of(mutated_seed(), encoded_pieces(), st.binary(max_size=600))


def _allowed(reference: set[str], ch: str) -> bool:
    return ch in reference or any(src in reference for src in MADE_FROM.get(ch, ""))


def _check_page(page, reference: set[str]) -> None:
    """The invariants on one cleaned page, given the characters of its decoded text."""
    if page.error is not None:
        assert isinstance(page.error, str) and page.error.strip()
        return
    for speech in page.speeches:
        texts = [speech.title or "", *speech.subtitles, *speech.paragraphs]
        for text in texts:
            text.encode("utf-8")  # no lone surrogates: valid UTF-8 when written
            assert "\n" not in text
            assert normalize_line(text)[0] == text, text
            invented = {ch for ch in text if not _allowed(reference, ch)}
            assert not invented, (invented, text)
        assert all(p.strip() for p in speech.paragraphs)  # no empty paragraph written


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=INPUTS)
def test_pipeline_never_raises_and_keeps_invariants(scratch, ruleset, data):
    path = scratch / "page.txt"
    path.write_bytes(data)
    page = decode_file(path, "page.txt")
    reference = {ch for _, line in page.lines for ch in line} | {"\n"}
    _check_page(clean_page(page, ruleset), reference)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(files=st.lists(INPUTS, min_size=1, max_size=3))
def test_cli_run_on_fuzzed_folder(scratch, files):
    raw, out = scratch / "raw", scratch / "out"
    raw.mkdir(exist_ok=True)
    for old in raw.iterdir():
        old.unlink()
    for i, data in enumerate(files):
        (raw / f"f{i}.txt").write_bytes(data)
    result = CliRunner().invoke(app, ["run", str(raw), str(out), "--quiet"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), result.output
    for written in out.rglob("*"):
        if written.is_file():
            written.read_bytes().decode("utf-8")  # strict: every output file is UTF-8
    records = [json.loads(line) for line in (out / "corpus.jsonl").read_text("utf-8").splitlines()]
    decoded = {}
    for record in records:
        source = record["source"]
        if source not in decoded:
            page = decode_file(raw / source, source)
            decoded[source] = {ch for _, line in page.lines for ch in line} | {"\n"}
        text = record["text"] + (record["title"] or "")
        assert not {ch for ch in text if ch != "\n" and not _allowed(decoded[source], ch)}
        assert (out / record["doc"]).read_text("utf-8") == f"{record['title'] or ''}\n\n{record['text']}\n"
