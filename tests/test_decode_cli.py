"""Encoding intake end to end through the command line: mixed encodings, mojibake,
replaced and damaged bytes, binary inputs, tidy counts, the encodings table in
report.md and manifest.json, the per-path map and --encoding."""
from __future__ import annotations

import bisect
import codecs
import difflib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from cleaner.rules import default_rules_dir
from conftest import RAW, invoke, read_jsonl


SEED_NAME = "001_8397a770520427d1.txt"  # the smallest seed, for quick runs
SEED = (RAW / SEED_NAME).read_text(encoding="utf-8")

NBSP = "\u00a0"

# The tidy test file: raw text, the decoded text and the counts, worked out by hand.
ENTITY_RAW = ("&ldquo;教育&rdquo;工作会议讲话\r\n"
              "\r\n"
              "同志们&#65306;\r\n"
              "今天&nbsp;我们召开会议&#12290;会议\u200b很重要\x07。\r\n"
              "Cafe\u0301 &amp;nbsp;结束\r\n")
ENTITY_LINES = ["\u201c教育\u201d工作会议讲话", "", "同志们：",
                "今天\u00a0我们召开会议。会议很重要。", f"Caf\u00e9 {NBSP}结束", ""]
ENTITY_COUNTS = {"decode.html-entity": 7, "decode.line-ending": 5, "decode.nfc": 1,
                 "decode.control": 1, "decode.zero-width": 1}

# "領導講話" in Big5 is also valid, plausible-looking GB18030 ("烩旧量杠"):
# the kind of short file the per-path map exists for.
BIG5_TITLE = "領導講話"


def page_text(page: dict) -> str:
    return "\n".join(text for _, text in page["lines"])


def insert_at(text: str, *inserts: tuple[int, str]) -> str:
    """Insert strings at character offsets of ``text`` (offsets in the original)."""
    for offset, piece in sorted(inserts, reverse=True):
        text = text[:offset] + piece + text[offset:]
    return text


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("speech.txt", SEED)
    return buf.getvalue()


def lost_characters(data: bytes, misread_as: str) -> set[int]:
    """Indexes of the characters of ``data`` (UTF-8) that lost bytes when read as ``misread_as``."""
    text = data.decode("utf-8")
    starts, offset = [], 0
    for ch in text:
        starts.append(offset)
        offset += len(ch.encode("utf-8"))
    lost: set[int] = set()

    def record(exc: UnicodeError):
        for b in range(exc.start, exc.end):
            lost.add(bisect.bisect_right(starts, b) - 1)
        return "\ufffd", exc.end

    codecs.register_error("test.record-lost", record)
    data.decode(misread_as, "test.record-lost")
    return lost


# Offsets (characters) where the bad-bytes and damaged files get their insertions:
# inside the speech body, well after the header lines.
BAD_AT = (1500, 2500)
DAMAGE_AT = (1200, 2200)

FILES = {
    "a_utf8.txt": SEED.encode("utf-8"),
    "b_gb18030.txt": SEED.encode("gb18030"),
    "c_utf16.txt": SEED.encode("utf-16"),  # with a byte-order mark
    # UTF-8 bytes read as GBK (bytes that did not fit were lost), saved as UTF-8
    "d_utf8_as_gbk.txt": SEED.encode("utf-8").decode("gb18030", "replace").encode("utf-8"),
    # GBK bytes read as Latin-1, saved as UTF-8: nothing lost
    "e_gbk_as_latin1.txt": SEED.encode("gb18030").decode("latin-1").encode("utf-8"),
    # three bytes that are not UTF-8, at character boundaries: one, then two in a row
    "f_bad_bytes.txt": b"".join([
        SEED[:BAD_AT[0]].encode(), b"\xff", SEED[BAD_AT[0]:BAD_AT[1]].encode(), b"\xfe\xff",
        SEED[BAD_AT[1]:].encode()]),
    # damaged before it reached us: two places
    "g_kunkao.txt": insert_at(SEED, (DAMAGE_AT[0], "锟斤拷"),
                              (DAMAGE_AT[1], "锟斤拷锟斤拷")).encode("utf-8"),
    "h_image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    "i_archive.txt": zip_bytes(),
    "j_entities.txt": ENTITY_RAW.encode("utf-8"),
    "k_nul.txt": b"\x7fELF\x02\x01\x01" + b"\x00" * 200,  # odd length: not UTF-16
    # every other kind the docs list, by content, under text names
    "l_pdf.txt": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "m_jpeg.txt": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "n_gif.txt": b"GIF89a\x01\x00\x01\x00",
    "o_gzip.txt": b"\x1f\x8b\x08\x00" + SEED.encode()[:30],
    "p_doc.txt": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8,
    "q_rar.txt": b"Rar!\x1a\x07\x00",
    "r_7z.txt": b"7z\xbc\xaf\x27\x1c",
}
SKIPPED = {"h_image.txt": "PNG", "i_archive.txt": "zip", "k_nul.txt": "NUL", "l_pdf.txt": "PDF",
           "m_jpeg.txt": "JPEG", "n_gif.txt": "GIF", "o_gzip.txt": "gzip",
           "p_doc.txt": "legacy Office", "q_rar.txt": "RAR", "r_7z.txt": "7z"}
CLEAN_COPIES = ["b_gb18030.txt", "c_utf16.txt", "e_gbk_as_latin1.txt"]


def write_raw(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One `decode` and one `run` over the mixed folder, shared by the tests that read them."""
    base = tmp_path_factory.mktemp("mixed")
    raw = write_raw(base / "raw", FILES)
    pages_path = base / "pages.jsonl"
    decoded = invoke("decode", raw, pages_path)
    out = base / "out"
    ran = invoke("run", raw, out)
    pages = {p["source"]: p for p in read_jsonl(pages_path)} if pages_path.exists() else {}
    return {
        "decode": decoded, "run": ran, "pages": pages, "out": out,
        "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8")),
        "report": (out / "report.md").read_text(encoding="utf-8"),
        "corpus": read_jsonl(out / "corpus.jsonl"),
    }


def records_of(mixed, source: str) -> list[dict]:
    return [r for r in mixed["corpus"] if r["source"] == source]


def speech_view(records: list[dict]) -> list[tuple]:
    return [(r["n"], r["title"], r["text"], r["paragraphs"]) for r in records]


def test_seed_preconditions():
    """What the expected numbers below rely on: the seed needs no tidying and fits every codec."""
    assert not re.search("[&\r\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2028\u2029\u2060"
                         "\ufeff\u00ad\ufffd]", SEED)
    assert "锟斤拷" not in SEED
    assert SEED.encode("gb18030").decode("gb18030") == SEED
    assert FILES["d_utf8_as_gbk.txt"].decode().count("\ufffd") > 0  # bytes were lost


# --------------------------------------------------------------------------
# Exit codes and stderr
# --------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["decode", "run"])
def test_binary_inputs_skipped_with_one_line_each_and_exit_1(mixed, command):
    result = mixed[command]
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == len(SKIPPED) + 1
    for name, kind in SKIPPED.items():
        [line] = [ln for ln in lines if ln.startswith(f"cleaner: {name}: ")]
        assert "not text" in line and kind in line
    assert lines[-1] == f"cleaner: {len(SKIPPED)} of {len(FILES)} inputs failed"


def test_run_still_cleans_every_text_file(mixed):
    assert re.match(rf"{len(FILES)} files, \d+ speeches", mixed["run"].stdout)
    sources = {r["source"] for r in mixed["corpus"]}
    assert sources == set(FILES) - set(SKIPPED)
    for name in SKIPPED:
        page = mixed["pages"][name]
        assert page["error"].startswith("not text") and page["lines"] == []


# --------------------------------------------------------------------------
# Every text file decodes to the seed's text
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name,encoding", [
    ("a_utf8.txt", "utf-8"), ("b_gb18030.txt", "gb18030"), ("c_utf16.txt", "utf-16-le"),
    ("e_gbk_as_latin1.txt", "utf-8"),
])
def test_lossless_files_decode_to_the_seed(mixed, name, encoding):
    page = mixed["pages"][name]
    assert page_text(page) == SEED
    assert page["encoding"] == encoding
    assert (page["replaced"], page["damaged"], page["counts"]) == (0, 0, {})


@pytest.mark.parametrize("name", CLEAN_COPIES)
def test_lossless_files_give_the_same_speeches_as_the_utf8_seed(mixed, name):
    original = records_of(mixed, "a_utf8.txt")
    assert original
    assert speech_view(records_of(mixed, name)) == speech_view(original)
    for rec in records_of(mixed, name):
        doc = (mixed["out"] / rec["doc"]).read_text(encoding="utf-8")
        assert doc == f"{rec['title'] or ''}\n\n{rec['text']}\n"


def test_gbk_read_as_latin1_is_repaired_exactly(mixed):
    page = mixed["pages"]["e_gbk_as_latin1.txt"]
    assert page["repaired"] == "gbk-as-latin-1"
    assert (page["guessed"], page["replaced"]) == (0, 0)
    assert [r["encoding"] for r in records_of(mixed, "e_gbk_as_latin1.txt")] == ["utf-8"]


def test_utf8_read_as_gbk_is_repaired_where_no_byte_was_lost(mixed):
    """Bytes the GBK reader dropped are gone; only the characters they belonged to may differ."""
    page = mixed["pages"]["d_utf8_as_gbk.txt"]
    assert page["repaired"] == "utf-8-as-gbk"
    text = page_text(page)
    assert len(text) == len(SEED)
    lost = lost_characters(SEED.encode("utf-8"), "gb18030")
    wrong = {i for i, (a, b) in enumerate(zip(SEED, text)) if a != b}
    assert wrong <= lost  # every character that kept its bytes is exact
    assert len(wrong) < len(lost) / 2  # most lost bytes are guessed right (chance is 1/64)
    assert page["guessed"] > 0 and page["replaced"] == 0
    assert "\ufffd" not in text


def test_utf8_read_as_gbk_cleans_to_nearly_the_seed_speech(mixed):
    [original] = records_of(mixed, "a_utf8.txt")
    [repaired] = records_of(mixed, "d_utf8_as_gbk.txt")
    assert repaired["title"] == original["title"]
    matcher = difflib.SequenceMatcher(None, original["text"], repaired["text"], autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    assert same >= 0.95 * len(original["text"])
    mojibake = FILES["d_utf8_as_gbk.txt"].decode("utf-8")
    assert difflib.SequenceMatcher(None, original["text"], mojibake, autojunk=False).ratio() < 0.2


def test_invalid_bytes_are_replaced_and_counted(mixed):
    page = mixed["pages"]["f_bad_bytes.txt"]
    assert page["encoding"] == "utf-8"
    assert page["replaced"] == 3
    assert page_text(page) == insert_at(SEED, (BAD_AT[0], "\ufffd"), (BAD_AT[1], "\ufffd\ufffd"))
    assert page["decided_by"] in ("plausibility", "charset-normalizer")


def test_damaged_text_is_kept_and_counted(mixed):
    page = mixed["pages"]["g_kunkao.txt"]
    assert page_text(page) == FILES["g_kunkao.txt"].decode("utf-8")
    assert (page["encoding"], page["replaced"], page["damaged"]) == ("utf-8", 0, 2)


def test_entities_line_endings_and_invisibles_are_tidied_and_counted(mixed):
    page = mixed["pages"]["j_entities.txt"]
    assert [t for _, t in page["lines"]] == ENTITY_LINES
    assert [n for n, _ in page["lines"]] == list(range(1, len(ENTITY_LINES) + 1))
    assert page["counts"] == ENTITY_COUNTS
    assert page["chars_in"] == len("\n".join(ENTITY_LINES))


def test_report_rule_table_shows_the_decode_counts(mixed):
    section = mixed["report"].split("## Changes per rule", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (decode\.[\w.-]+) \| (\d+) \|$", section, re.M))
    # only j_entities.txt needs tidying (test_seed_preconditions)
    assert {k: int(v) for k, v in rows.items()} == ENTITY_COUNTS


# --------------------------------------------------------------------------
# The encodings table: manifest.json and report.md
# --------------------------------------------------------------------------

EXPECTED_FILES = {"gb18030": 1, "utf-16-le": 1, "utf-8": 6}
EXPECTED_REPAIRED = {"d_utf8_as_gbk.txt": "utf-8-as-gbk", "e_gbk_as_latin1.txt": "gbk-as-latin-1"}


def test_manifest_encodings(mixed):
    enc = mixed["manifest"]["encodings"]
    assert {"files", "decided_by", "repaired", "replaced_bytes", "damaged", "skipped"} <= set(enc)
    assert enc["files"] == EXPECTED_FILES
    assert sum(enc["decided_by"].values()) == len(FILES) - len(SKIPPED)
    assert enc["decided_by"]["strict-utf-8"] == 5  # a, d, e, g, j
    assert enc["decided_by"]["bom"] == 1  # c
    assert enc["repaired"] == EXPECTED_REPAIRED
    assert enc["replaced_bytes"] == {"f_bad_bytes.txt": 3}
    assert enc["damaged"]["g_kunkao.txt"] == 2
    assert set(enc["skipped"]) == set(SKIPPED)
    for name, kind in SKIPPED.items():
        assert enc["skipped"][name].startswith("not text") and kind in enc["skipped"][name]


def test_manifest_inputs_record_each_files_decision(mixed):
    # Encoding, how it was decided and the confidence, per file, as in the
    # page records; a skipped file has none.
    for entry in mixed["manifest"]["inputs"]:
        if entry["source"] in SKIPPED:
            assert (entry["encoding"], entry["decided_by"], entry["confidence"]) == (None, None, None)
            continue
        page = mixed["pages"][entry["source"]]
        assert (entry["encoding"], entry["decided_by"], entry["confidence"]) == (
            page["encoding"], page["decided_by"], page["confidence"])
        assert 0.0 <= entry["confidence"] <= 1.0
    assert mixed["manifest"]["inputs"][0]["confidence"] == 1.0


# U+FFFD that the decoder itself puts in for bad bytes is counted as bytes
# replaced, not as damage found in the source.
def test_replaced_bytes_are_not_counted_as_damaged_before_decoding(mixed):
    assert mixed["manifest"]["encodings"]["damaged"] == {"g_kunkao.txt": 2}
    assert mixed["pages"]["f_bad_bytes.txt"]["damaged"] == 0


def test_manifest_inputs(mixed):
    inputs = {i["source"]: i for i in mixed["manifest"]["inputs"]}
    assert sorted(inputs) == sorted(FILES)
    for name, data in FILES.items():
        item = inputs[name]
        assert item["size"] == len(data)
        if name in SKIPPED:
            assert item["error"].startswith("not text")
            assert (item["encoding"], item["decided_by"], item["repaired"]) == (None, None, None)
        else:
            assert item["error"] is None
            assert item["repaired"] == EXPECTED_REPAIRED.get(name)
    assert (inputs["b_gb18030.txt"]["encoding"], inputs["b_gb18030.txt"]["decided_by"]) == (
        "gb18030", "plausibility")
    assert (inputs["c_utf16.txt"]["encoding"], inputs["c_utf16.txt"]["decided_by"]) == (
        "utf-16-le", "bom")


def report_section(report: str, title: str) -> str:
    return report.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_report_encodings_section(mixed):
    section = report_section(mixed["report"], "Encodings")
    per_encoding: dict[str, int] = {}
    for enc, how, n in re.findall(r"^\| ([\w-]+) \| ([\w-]+) \| (\d+) \|$", section, re.M):
        per_encoding[enc] = per_encoding.get(enc, 0) + int(n)
    assert per_encoding == EXPECTED_FILES
    assert "| utf-16-le | bom | 1 |" in section
    assert "| gb18030 | plausibility | 1 |" in section
    rows = {label: (int(n), detail) for label, n, detail in
            re.findall(r"^\| ([^|]+?) \| (\d+) \| (.*) \|$", section, re.M)}
    assert rows["mojibake repaired"] == (
        2, "d_utf8_as_gbk.txt: utf-8-as-gbk; e_gbk_as_latin1.txt: gbk-as-latin-1")
    assert rows["bytes replaced (U+FFFD)"] == (1, "f_bad_bytes.txt: 3 bytes")
    damaged = rows["damaged before decoding (U+FFFD, 锟斤拷)"]
    assert "g_kunkao.txt: 2 places" in damaged[1]
    skipped_n, skipped = rows["skipped"]
    assert skipped_n == len(SKIPPED)
    assert skipped.startswith("h_image.txt: not text: PNG image; i_archive.txt: not text")
    # the detail is clipped to 200 characters; "Failed inputs" names every one
    failed = report_section(mixed["report"], "Failed inputs")
    assert all(f"| {name} | not text" in failed for name in SKIPPED)
    summary = report_section(mixed["report"], "Summary")
    ok, failed_n = len(FILES) - len(SKIPPED), len(SKIPPED)
    assert f"| files | {len(FILES)} ({ok} cleaned, {failed_n} failed) |" in summary


# The same, as report.md shows it.
def test_report_damaged_row_lists_only_damaged_sources(mixed):
    section = report_section(mixed["report"], "Encodings")
    assert "| damaged before decoding (U+FFFD, 锟斤拷) | 1 | g_kunkao.txt: 2 places |" in section


# --------------------------------------------------------------------------
# The per-path map and --encoding
# --------------------------------------------------------------------------

MAP_TOML = """\
[[path]]
glob = "tw/*.txt"
encoding = "big5"
note = "short Big5 titles that detection takes for GBK"

[[path]]
glob = "*.txt"
encoding = "utf-8"
"""

BIG5_SOURCE = "tw/2019/title.txt"  # "*" crosses folders
CN_SOURCE = "cn/a.txt"
CN_TEXT = "领导讲话\n\n同志们：今天我们召开全县教育工作会议，总结过去一年的工作。\n"


def rules_copy(folder: Path, encodings: str | None) -> Path:
    folder.mkdir(parents=True)
    for src in default_rules_dir().glob("*.toml"):
        if src.name != "encodings.toml":
            shutil.copyfile(src, folder / src.name)
    if encodings is not None:
        (folder / "encodings.toml").write_text(encodings, encoding="utf-8")
    return folder


@pytest.fixture
def map_case(tmp_path):
    raw = write_raw(tmp_path / "raw", {
        BIG5_SOURCE: f"{BIG5_TITLE}\n".encode("big5"),
        CN_SOURCE: CN_TEXT.encode("utf-8"),
    })
    return raw, rules_copy(tmp_path / "rules", MAP_TOML), tmp_path


def manifest_inputs(out: Path) -> dict[str, dict]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {i["source"]: i for i in manifest["inputs"]}


def test_map_decides_the_big5_file(map_case):
    raw, rules, tmp = map_case
    result = invoke("run", raw, tmp / "out", "--rules", rules)
    assert result.exit_code == 0, result.output
    inputs = manifest_inputs(tmp / "out")
    assert (inputs[BIG5_SOURCE]["encoding"], inputs[BIG5_SOURCE]["decided_by"]) == (
        "big5hkscs", "map")  # big5 widened
    # first match wins: cn/a.txt falls to the second entry
    assert (inputs[CN_SOURCE]["encoding"], inputs[CN_SOURCE]["decided_by"]) == ("utf-8", "map")
    titles = {r["source"]: r["title"] for r in read_jsonl(tmp / "out" / "corpus.jsonl")}
    assert titles == {CN_SOURCE: "领导讲话"}  # a title alone makes no speech
    report = (tmp / "out" / "report.md").read_text(encoding="utf-8")
    assert "| big5hkscs | map | 1 |" in report and "| utf-8 | map | 1 |" in report
    # the Files table: the title and its newline, decoded as five characters
    assert f"| {BIG5_SOURCE} | big5hkscs | one-line | {len(BIG5_TITLE) + 1} | 0 |" in report
    enc = json.loads((tmp / "out" / "manifest.json").read_text(encoding="utf-8"))["encodings"]
    assert enc["files"] == {"big5hkscs": 1, "utf-8": 1}
    assert enc["decided_by"] == {"map": 2}

    pages_path = tmp / "pages.jsonl"
    result = invoke("decode", raw, pages_path, "--rules", rules)
    assert result.exit_code == 0, result.output
    pages = {p["source"]: p for p in read_jsonl(pages_path)}
    assert page_text(pages[BIG5_SOURCE]) == f"{BIG5_TITLE}\n"
    assert (pages[BIG5_SOURCE]["encoding"], pages[BIG5_SOURCE]["decided_by"]) == (
        "big5hkscs", "map")
    assert page_text(pages[CN_SOURCE]) == CN_TEXT


def test_without_the_map_nothing_is_decided_by_map(map_case):
    raw, _, tmp = map_case
    result = invoke("decode", raw, tmp / "pages.jsonl")  # shipped rules: empty map
    assert result.exit_code == 0, result.output
    pages = {p["source"]: p for p in read_jsonl(tmp / "pages.jsonl")}
    assert pages[CN_SOURCE]["decided_by"] == "strict-utf-8"
    assert pages[BIG5_SOURCE]["decided_by"] != "map"


def test_encoding_option_beats_the_map(map_case):
    raw, rules, tmp = map_case
    result = invoke("run", raw, tmp / "out", "--rules", rules, "--encoding", "gbk")
    assert result.exit_code == 0, result.output
    inputs = manifest_inputs(tmp / "out")
    for source in (BIG5_SOURCE, CN_SOURCE):
        assert inputs[source]["decided_by"] == "override"
        assert inputs[source]["encoding"] == "gb18030"  # gbk widened
    result = invoke("decode", raw, tmp / "pages.jsonl", "--rules", rules, "--encoding", "gbk")
    assert result.exit_code == 0, result.output
    pages = {p["source"]: p for p in read_jsonl(tmp / "pages.jsonl")}
    assert page_text(pages[BIG5_SOURCE]) == f"{BIG5_TITLE}\n".encode("big5").decode("gb18030")
    assert pages[BIG5_SOURCE]["decided_by"] == "override"


BROKEN_MAPS = {
    "unknown-codec": ('[[path]]\nglob = "tw/*"\nencoding = "klingon"\n',
                      "encodings.toml: path #1 ('tw/*'): unknown encoding 'klingon'"),
    "wrong-field": ('[[path]]\nglob = "tw/*"\nencoding = "big5"\n\n'
                    '[[path]]\nglob = "hk/*"\ncodec = "big5"\n',
                    "encodings.toml: path #2 ('hk/*'): fields are glob, encoding"),
    "bad-toml": ('[[path]\nglob = "tw/*"\n', "encodings.toml: not valid TOML"),
}


@pytest.mark.parametrize("broken", list(BROKEN_MAPS), ids=list(BROKEN_MAPS))
@pytest.mark.parametrize("command", ["run", "decode", "rules check"])
def test_broken_map_is_exit_2_naming_file_and_entry(map_case, broken, command):
    raw, _, tmp = map_case
    text, message = BROKEN_MAPS[broken]
    rules = rules_copy(tmp / "broken-rules", text)
    out = tmp / ("out" if command == "run" else "pages.jsonl")
    args = {"run": ["run", raw, out], "decode": ["decode", raw, out],
            "rules check": ["rules", "check"]}[command]
    result = invoke(*args, "--rules", rules)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_broken_map_loses_to_nothing_even_with_encoding_option(map_case):
    raw, _, tmp = map_case
    rules = rules_copy(tmp / "broken-rules", BROKEN_MAPS["unknown-codec"][0])
    result = invoke("run", raw, tmp / "out", "--rules", rules, "--encoding", "utf-8")
    assert result.exit_code == 2
    assert "encodings.toml" in result.stderr


def test_rules_check_counts_the_map_entries(map_case):
    _, rules, _ = map_case
    result = invoke("rules", "check", "--rules", rules)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("; 2 per-path encodings")


def test_unknown_encoding_option_is_exit_2(map_case):
    raw, _, tmp = map_case
    for command in ("run", "decode"):
        result = invoke(command, raw, tmp / "x", "--encoding", "klingon")
        assert result.exit_code == 2
        assert "--encoding klingon" in result.stderr


# A forced codec (--encoding or the map) chooses the codec for text only:
# images, PDFs and archives are still skipped by their content.
@pytest.mark.parametrize("how", ["--encoding", "map"])
def test_binary_inputs_are_skipped_even_with_a_forced_codec(tmp_path, how):
    raw = write_raw(tmp_path / "raw", {
        "a.txt": CN_TEXT.encode("gb18030"),
        "image.txt": FILES["h_image.txt"],
        "archive.txt": FILES["i_archive.txt"],
    })
    if how == "map":
        rules = rules_copy(tmp_path / "rules", '[[path]]\nglob = "*"\nencoding = "gbk"\n')
        args = ["--rules", rules]
    else:
        args = ["--encoding", "gbk"]
    result = invoke("run", raw, tmp_path / "out", *args)
    assert result.exit_code == 1, result.output
    skipped = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))[
        "encodings"]["skipped"]
    assert set(skipped) == {"image.txt", "archive.txt"}


# A codec that does not decode bytes to text is bad usage or bad
# configuration: exit 2 naming it, never a traceback.
@pytest.mark.parametrize("where", ["--encoding", "map", "rules check"])
def test_non_text_codec_is_exit_2(tmp_path, where):
    raw = write_raw(tmp_path / "raw", {"a.txt": CN_TEXT.encode("utf-8")})
    if where == "--encoding":
        result = invoke("run", raw, tmp_path / "out", "--encoding", "base64")
    else:
        rules = rules_copy(tmp_path / "rules", '[[path]]\nglob = "*"\nencoding = "base64"\n')
        args = ["run", raw, tmp_path / "out"] if where == "map" else ["rules", "check"]
        result = invoke(*args, "--rules", rules)
    assert result.exit_code == 2, result.output
    assert "base64" in result.stderr
    assert not (tmp_path / "out").exists()
