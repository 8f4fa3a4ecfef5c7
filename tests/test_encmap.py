"""Per-path encoding map (cleaner.encmap): parsing, validation errors, lookup order,
globs across folders, widening of the named codec, loading from a rules folder."""
from __future__ import annotations

import pytest

from cleaner.decode import decode_bytes, widest
from cleaner.encmap import FILE_NAME, EncodingMap, load_encoding_map, parse_encoding_map
from cleaner.errors import RuleError
from cleaner.pipeline import decode_file
from cleaner.rules import default_rules_dir, load_rules

NAME = "encodings.toml"


def toml(*entries: dict) -> bytes:
    """Write [[path]] tables; values are strings unless given as ints."""
    out = []
    for entry in entries:
        out.append("[[path]]")
        for key, value in entry.items():
            out.append(f"{key} = {value!r}" if isinstance(value, int) else f'{key} = "{value}"')
        out.append("")
    return "\n".join(out).encode("utf-8")


def test_file_name():
    assert FILE_NAME == NAME


# --------------------------------------------------------------------------
# Parsing and lookup
# --------------------------------------------------------------------------

def test_parse_keeps_order_and_canonical_codec_names():
    emap = parse_encoding_map(NAME, toml(
        {"glob": "tw/*.txt", "encoding": "BIG5", "note": "short titles"},
        {"glob": "cn/*", "encoding": "GBK"},
        {"glob": "*.u16", "encoding": "UTF-16"},
        {"glob": "*", "encoding": "utf8"},
    ))
    assert emap.entries == (("tw/*.txt", "big5"), ("cn/*", "gbk"), ("*.u16", "utf-16"),
                            ("*", "utf-8"))
    assert emap and not EncodingMap()


def test_first_match_wins():
    emap = parse_encoding_map(NAME, toml(
        {"glob": "tw/special.txt", "encoding": "utf-8"},
        {"glob": "tw/*", "encoding": "big5"},
        {"glob": "*.txt", "encoding": "gb18030"},
    ))
    assert emap.lookup("tw/special.txt") == "utf-8"
    assert emap.lookup("tw/other.txt") == "big5"
    assert emap.lookup("cn/a.txt") == "gb18030"
    assert emap.lookup("cn/a.md") is None
    # the same entries in another order decide otherwise
    flipped = EncodingMap(tuple(reversed(emap.entries)))
    assert flipped.lookup("tw/special.txt") == "gb18030"


def test_globs_cross_folders_and_match_whole_relative_paths():
    emap = parse_encoding_map(NAME, toml({"glob": "archive/tw/*.txt", "encoding": "big5"}))
    assert emap.lookup("archive/tw/a.txt") == "big5"
    assert emap.lookup("archive/tw/2019/05/a.txt") == "big5"  # * crosses "/"
    assert emap.lookup("archive/tw/a.TXT") is None  # case-sensitive
    assert emap.lookup("other/archive/tw/a.txt") is None  # anchored at RAW
    assert emap.lookup("archive/tw") is None
    star = parse_encoding_map(NAME, toml({"glob": "*big5*", "encoding": "big5"}))
    assert star.lookup("a/b/c_big5_d/e.txt") == "big5"
    chars = parse_encoding_map(NAME, toml({"glob": "tw/[ab]?.txt", "encoding": "big5"}))
    assert [chars.lookup(p) for p in ("tw/a1.txt", "tw/b2.txt", "tw/c1.txt", "tw/a12.txt")] == [
        "big5", "big5", None, None]


def test_glob_matches_posix_paths_only():
    emap = parse_encoding_map(NAME, toml({"glob": "tw/*", "encoding": "big5"}))
    assert emap.lookup("tw\\a.txt") is None


@pytest.mark.parametrize("given,decoded_as", [
    ("gbk", "gb18030"), ("GBK", "gb18030"), ("gb2312", "gb18030"), ("cp936", "gb18030"),
    ("gb18030", "gb18030"), ("big5", "big5hkscs"), ("Big5", "big5hkscs"),
    ("big5-hkscs", "big5hkscs"), ("cp950", "cp950"), ("utf8", "utf-8"),
])
def test_named_codecs_are_widened_when_decoding(given, decoded_as):
    emap = parse_encoding_map(NAME, toml({"glob": "*", "encoding": given}))
    assert widest(emap.lookup("x.txt")) == decoded_as


def test_widened_codec_keeps_characters_the_narrow_name_lacks(tmp_path):
    # 𠀀 is in GB18030 but not GBK; 嘅 is in Big5-HKSCS but not Big5.
    emap = parse_encoding_map(NAME, toml({"glob": "cn/*", "encoding": "gbk"},
                                         {"glob": "hk/*", "encoding": "big5"}))
    cn = "讲话\U00020000稿\n"
    hk = "講話嘅稿\n"
    with pytest.raises(UnicodeEncodeError):
        cn.encode("gbk")
    with pytest.raises(UnicodeEncodeError):
        hk.encode("big5")
    d = decode_bytes(cn.encode("gb18030"), emap.lookup("cn/a.txt"), "map")
    assert (d.text, d.encoding, d.decided_by, d.replaced) == (cn, "gb18030", "map", 0)
    d = decode_bytes(hk.encode("big5hkscs"), emap.lookup("hk/a.txt"), "map")
    assert (d.text, d.encoding, d.decided_by, d.replaced) == (hk, "big5hkscs", "map", 0)
    # the widened name is what the page records
    path = tmp_path / "a.txt"
    path.write_bytes(hk.encode("big5hkscs"))
    page = decode_file(path, "hk/a.txt", emap.lookup("hk/a.txt"), "map")
    assert (page.encoding, page.decided_by, page.replaced) == ("big5hkscs", "map", 0)
    assert [t for _, t in page.lines] == ["講話嘅稿", ""]


def test_note_is_optional_and_ignored():
    with_note = parse_encoding_map(NAME, toml({"glob": "a/*", "encoding": "big5", "note": "x"}))
    without = parse_encoding_map(NAME, toml({"glob": "a/*", "encoding": "big5"}))
    assert with_note == without


@pytest.mark.parametrize("raw", [b"", b"# only comments\n", b"path = []\n"], ids=repr)
def test_empty_files_map_nothing(raw):
    emap = parse_encoding_map(NAME, raw)
    assert emap == EncodingMap() and not emap
    assert emap.lookup("a.txt") is None


# --------------------------------------------------------------------------
# Validation: every error names the file, and the entry when there is one.
# --------------------------------------------------------------------------

def error_of(raw: bytes, name: str = "my-encodings.toml") -> str:
    with pytest.raises(RuleError) as info:
        parse_encoding_map(name, raw)
    return str(info.value)


@pytest.mark.parametrize("entry,where,what", [
    ({"glob": "tw/*", "encoding": "nope"}, "path #2 ('tw/*')", "unknown encoding 'nope'"),
    ({"glob": "tw/*", "encoding": "big5", "codec": "x"}, "path #2 ('tw/*')",
     "fields are glob, encoding and an optional note"),
    ({"glob": "tw/*", "encodings": "big5"}, "path #2 ('tw/*')",
     "fields are glob, encoding and an optional note"),
    ({"glob": "tw/*"}, "path #2 ('tw/*')", "'encoding' must be a string"),
    ({"glob": "tw/*", "encoding": 5}, "path #2 ('tw/*')", "'encoding' must be a string"),
    ({"encoding": "big5"}, "path #2", "'glob' must be a non-empty string"),
    ({"glob": "", "encoding": "big5"}, "path #2", "'glob' must be a non-empty string"),
    ({"glob": 7, "encoding": "big5"}, "path #2 (7)", "'glob' must be a non-empty string"),
], ids=["unknown-codec", "extra-field", "misspelt-field", "no-encoding", "int-encoding",
        "no-glob", "empty-glob", "int-glob"])
def test_entry_errors_name_file_and_entry(entry, where, what):
    good = {"glob": "cn/*", "encoding": "gbk"}
    message = error_of(toml(good, entry))
    assert message == f"my-encodings.toml: {where}: {what}"


def test_non_table_entry():
    assert error_of(b"path = [1]\n") == (
        "my-encodings.toml: path #1: fields are glob, encoding and an optional note")


@pytest.mark.parametrize("raw,what", [
    (b"[[path]\nglob = 'a'\n", "not valid TOML"),
    (b'[[path]]\nglob = "a"\nencoding = \n', "not valid TOML"),
    (b"\xff\xfe[[path]]", "not valid TOML"),
    (b'path = "tw/*"\n', "'path' must be an array of tables"),
    (b'[[paths]]\nglob = "a"\nencoding = "big5"\n', "unknown top-level keys ['paths']"),
    (b'[[rule]]\nid = "x"\n', "unknown top-level keys ['rule']"),
], ids=["bad-header", "missing-value", "not-utf8", "not-array", "misspelt-table", "rule-table"])
def test_file_errors_name_the_file(raw, what):
    message = error_of(raw)
    assert message.startswith("my-encodings.toml: ")
    assert what in message


# Codecs that codecs.lookup() knows but that do not decode bytes to text
# (base64, hex, zlib, rot13, "undefined"...) are rejected when the map loads.
@pytest.mark.parametrize("codec", ["base64", "hex", "rot13", "zlib", "undefined"])
def test_codecs_that_cannot_decode_text_are_rejected(codec):
    message = error_of(toml({"glob": "tw/*", "encoding": codec}))
    assert message.startswith("my-encodings.toml: path #1 ('tw/*'): ")


# --------------------------------------------------------------------------
# Loading from a rules folder
# --------------------------------------------------------------------------

def test_folder_without_the_file_maps_nothing(tmp_path):
    emap = load_encoding_map(tmp_path)
    assert emap == EncodingMap() and not emap


def test_folder_with_a_directory_of_that_name_maps_nothing(tmp_path):
    (tmp_path / NAME).mkdir()
    assert load_encoding_map(tmp_path) == EncodingMap()


def test_load_reads_the_file_and_errors_name_it(tmp_path):
    (tmp_path / NAME).write_bytes(toml({"glob": "tw/*", "encoding": "big5"}))
    assert load_encoding_map(tmp_path).lookup("tw/a/b.txt") == "big5"
    (tmp_path / NAME).write_bytes(toml({"glob": "tw/*", "encoding": "big5"},
                                       {"glob": "hk/*", "encoding": "klingon"}))
    with pytest.raises(RuleError) as info:
        load_encoding_map(tmp_path)
    assert str(info.value) == "encodings.toml: path #2 ('hk/*'): unknown encoding 'klingon'"


def test_shipped_map_is_valid_and_empty():
    assert load_encoding_map(default_rules_dir()) == EncodingMap()


def test_the_map_is_not_read_as_a_rule_file(tmp_path):
    for src in default_rules_dir().glob("*.toml"):
        (tmp_path / src.name).write_bytes(src.read_bytes())
    before = load_rules(tmp_path)
    (tmp_path / NAME).write_bytes(toml({"glob": "tw/*", "encoding": "big5"}))
    after = load_rules(tmp_path)
    assert NAME not in after.files
    assert (after.digest, len(after)) == (before.digest, len(before))
