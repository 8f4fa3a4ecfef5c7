"""Command-line tests through typer's CliRunner: help, every command, exit codes,
quiet mode, determinism and atomic output."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

import cleaner.pipeline
import cleaner.store
from cleaner.cli import app
from conftest import invoke, read_jsonl, tree

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"
RAW_FILES = sorted(RAW.glob("*.txt"))
SMALL = "001_8397a770520427d1.txt"  # the smallest raw file, for quick runs
OUTPUTS = ["corpus.jsonl", "docs", "duplicates.jsonl", "duplicates.csv", "repeats.jsonl",
           "removed.jsonl", "report.md", "report.html", "manifest.json"]


def copy_raw(dest: Path, names: list[str] | None = None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for path in RAW_FILES:
        if names is None or path.name in names:
            shutil.copyfile(path, dest / path.name)
    return dest


def assert_same_tree(a: Path, b: Path) -> None:
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb)
    for rel in ta:
        assert ta[rel] == tb[rel], f"{rel} differs between {a} and {b}"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One `cleaner run` on a copy of raw/, shared by the tests that only read it."""
    base = tmp_path_factory.mktemp("full")
    raw = copy_raw(base / "raw")
    out = base / "out"
    result = invoke("run", raw, out)
    return raw, out, result


# --------------------------------------------------------------------------
# 1. Help
# --------------------------------------------------------------------------

COMMANDS = [[], ["run"], ["decode"], ["strip"], ["repair"], ["normalize"], ["split"], ["dedup"],
            ["explain"], ["templates"], ["rules"], ["rules", "check"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    usage = re.search(r"Usage: \S+(.*)", result.stdout)
    assert usage, result.stdout
    assert usage.group(1).split()[:len(command)] == command
    assert result.stderr == ""


def test_every_command_has_help_text():
    root = get_command(app)
    assert root.help and root.help.strip()
    assert set(root.commands) == {"run", "decode", "strip", "repair", "normalize", "split", "dedup",
                                  "explain", "templates", "rules"}
    seen = []

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            seen.append(prefix + [name])
            assert cmd.help and cmd.help.strip(), f"{' '.join(prefix + [name])} has no help"
            if hasattr(cmd, "commands"):
                walk(cmd, prefix + [name])

    walk(root, [])
    assert sorted(seen) == sorted(c for c in COMMANDS if c)  # every command is in test_help
    for info in app.registered_commands:
        assert info.callback.__doc__ and info.callback.__doc__.strip(), info.callback.__name__


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert re.fullmatch(r"cleaner \d+\.\d+\.\d+\S*\n", result.stdout)


# --------------------------------------------------------------------------
# 2. One test per command
# --------------------------------------------------------------------------

def test_run_writes_every_contract_output(full_run):
    raw, out, result = full_run
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # results never go to stderr; no progress bars off a terminal
    assert re.match(rf"{len(RAW_FILES)} files, \d+ speeches", result.stdout)
    for name in OUTPUTS:
        assert (out / name).exists(), name
    records = read_jsonl(out / "corpus.jsonl")
    assert records
    sources = sorted({r["source"] for r in records})
    assert set(sources) <= {p.name for p in RAW_FILES}
    for r in records:
        assert r["id"] == f"{r['source'].rsplit('.', 1)[0]}#{r['n']}"
        assert r["text"] and "\n\n" not in r["text"]
        assert r["encoding"]
        assert "title" in r
        doc = out / r["doc"]
        assert doc.is_file() and doc.parent == out / "docs"
        assert doc.read_text(encoding="utf-8") == f"{r['title'] or ''}\n\n{r['text']}\n"
    # Stable order: raw path, then position in the file.
    assert [(r["source"], r["n"]) for r in records] == sorted((r["source"], r["n"]) for r in records)
    assert len({r["id"] for r in records}) == len(records)
    assert len(list((out / "docs").glob("*.txt"))) == len(records)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [i["source"] for i in manifest["inputs"]] == [p.name for p in RAW_FILES]
    for entry, path in zip(manifest["inputs"], RAW_FILES):
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["rules_digest"] and manifest["version"]
    removed = read_jsonl(out / "removed.jsonl")
    assert removed
    for e in removed:
        assert {"source", "line", "rule", "text"} <= set(e)
    assert (out / "duplicates.csv").read_text(encoding="utf-8").startswith("cluster,")
    for d in read_jsonl(out / "duplicates.jsonl"):
        assert {"cluster", "members"} <= set(d)
    assert "# cleaner report" in (out / "report.md").read_text(encoding="utf-8")
    # Nothing is left beside OUT and nothing is written into RAW.
    assert sorted(p.name for p in out.parent.iterdir()) == [".cleaner-cache", "out", "raw"]
    assert sorted(p.name for p in raw.iterdir()) == [p.name for p in RAW_FILES]


def test_output_folder_permissions_follow_umask(full_run, tmp_path):
    """OUT is a normal folder: readable like any folder mkdir makes, not private 0700."""
    _, out, result = full_run
    assert result.exit_code == 0
    probe = tmp_path / "probe"
    probe.mkdir()
    expected = stat.S_IMODE(probe.stat().st_mode)
    assert oct(stat.S_IMODE(out.stat().st_mode)) == oct(expected)
    assert oct(stat.S_IMODE((out / "docs").stat().st_mode)) == oct(expected)


def test_decode_writes_one_object_per_file(tmp_path):
    raw = copy_raw(tmp_path / "raw")
    target = tmp_path / "pages.jsonl"
    result = invoke("decode", raw, target)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    pages = read_jsonl(target)
    assert [p["source"] for p in pages] == [p.name for p in RAW_FILES]
    for page, path in zip(pages, RAW_FILES):
        assert page["stages"] == ["decode"]
        assert page["encoding"] and page["error"] is None
        assert page["size"] == path.stat().st_size
        assert [n for n, _ in page["lines"]] == list(range(1, len(page["lines"]) + 1))


def test_decode_to_stdout(tmp_path):
    raw = copy_raw(tmp_path / "raw", [SMALL])
    result = invoke("decode", raw)
    assert result.exit_code == 0, result.output
    pages = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["source"] for p in pages] == [SMALL]


@pytest.fixture(scope="module")
def decoded(tmp_path_factory):
    base = tmp_path_factory.mktemp("decoded")
    raw = copy_raw(base / "raw")
    target = base / "decoded.jsonl"
    assert invoke("decode", raw, target).exit_code == 0
    return target


@pytest.mark.parametrize("stage", ["strip", "repair", "normalize", "split"])
def test_jsonl_stage_reads_and_writes_jsonl(tmp_path, decoded, stage):
    target = tmp_path / f"{stage}.jsonl"
    result = invoke(stage, decoded, target)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    before = read_jsonl(decoded)
    after = read_jsonl(target)
    assert [p["source"] for p in after] == [p["source"] for p in before]
    added = {"normalize": ["repair", "normalize"]}.get(stage, [stage])  # normalize repairs the layout first
    for old, new in zip(before, after):
        assert new["stages"] == old["stages"] + added
    if stage == "strip":
        assert any(p["edits"] for p in after)
        assert all(p["rules_digest"] for p in after)
    if stage == "split":
        assert all(p["speeches"] for p in after)
    else:
        assert all(p["speeches"] is None for p in after)


def test_strip_stdin_to_stdout(decoded):
    first = decoded.read_text(encoding="utf-8").splitlines()[1] + "\n"
    result = invoke("strip", "-", "-", input=first)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    page = json.loads(lines[0])
    assert page["source"] == json.loads(first)["source"]
    assert page["stages"] == ["decode", "strip"]


def test_dedup_writes_output_folder(tmp_path, decoded):
    split_file = tmp_path / "split.jsonl"
    stream = decoded
    for stage in ("strip", "normalize", "split"):
        target = tmp_path / f"{stage}.jsonl"
        assert invoke(stage, stream, target).exit_code == 0
        stream = target
    out = tmp_path / "out"
    result = invoke("dedup", split_file, out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    for name in OUTPUTS:
        assert (out / name).exists(), name
    assert read_jsonl(out / "corpus.jsonl")


@pytest.mark.parametrize("stages", [("strip", "normalize", "split"),
                                    ("strip", "repair", "normalize", "split")])
def test_stage_chain_equals_run(tmp_path, full_run, stages):
    raw, run_out, run_result = full_run
    assert run_result.exit_code == 0
    learned = tmp_path / "templates.json"
    assert invoke("templates", raw, "--save", learned, "--quiet").exit_code == 0
    stream = tmp_path / "decode.jsonl"
    assert invoke("decode", raw, stream).exit_code == 0
    for stage in stages:
        target = tmp_path / f"{stage}.jsonl"
        extra = ["--templates", learned] if stage == "strip" else []
        result = invoke(stage, stream, target, *extra)
        assert result.exit_code == 0, result.output
        stream = target
    chain_out = tmp_path / "chain"
    result = invoke("dedup", stream, chain_out)
    assert result.exit_code == 0, result.output
    assert_same_tree(run_out, chain_out)


# --------------------------------------------------------------------------
# 3. Exit codes
# --------------------------------------------------------------------------

def test_out_inside_raw_is_refused(tmp_path):
    raw = copy_raw(tmp_path / "raw", [SMALL])
    result = invoke("run", raw, raw / "clean")
    assert result.exit_code == 2
    assert "inside" in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in raw.iterdir()) == [SMALL]  # nothing written into RAW
    result = invoke("run", raw, raw)
    assert result.exit_code == 2
    assert sorted(p.name for p in raw.iterdir()) == [SMALL]


def test_raw_inside_out_is_refused(tmp_path):
    raw = copy_raw(tmp_path / "out" / "raw", [SMALL])
    result = invoke("run", raw, tmp_path / "out")
    assert result.exit_code == 2
    assert "inside" in result.stderr
    assert (raw / SMALL).is_file()


def test_missing_raw_is_usage_error(tmp_path):
    missing = tmp_path / "no-such-raw"
    result = invoke("run", missing, tmp_path / "out")
    assert result.exit_code == 2
    assert "no-such-raw" in result.stderr
    assert not (tmp_path / "out").exists()
    result = invoke("decode", missing, tmp_path / "d.jsonl")
    assert result.exit_code == 2
    assert not (tmp_path / "d.jsonl").exists()


def test_bad_rules_folder_is_usage_error(tmp_path):
    raw = copy_raw(tmp_path / "raw", [SMALL])
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.toml").write_text('[[rule]]\nid = "t.x"\nfoo = 1\n', encoding="utf-8")
    result = invoke("run", raw, tmp_path / "out", "--rules", rules)
    assert result.exit_code == 2
    assert "x.toml" in result.stderr and "t.x" in result.stderr
    assert not (tmp_path / "out").exists()


BINARIES = {
    # Magic bytes then NULs: the brief's case. Every byte here is valid UTF-8.
    "pdf-magic-nuls": b"%PDF-1.4\n" + b"\x00" * 512,
    # A PDF header as real writers emit it, with a high-byte comment line.
    "pdf-binary-comment": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"\x00\x01\x02\xff" * 128,
    "png": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64,
}


@pytest.mark.parametrize("payload", list(BINARIES.values()), ids=list(BINARIES))
def test_binary_input_fails_but_run_finishes(tmp_path, payload):
    raw = copy_raw(tmp_path / "raw", [SMALL])
    (raw / "broken.pdf").write_bytes(payload)
    out = tmp_path / "out"
    result = invoke("run", raw, out)
    assert result.exit_code == 1, result.output
    assert "broken.pdf" in result.stderr
    assert "broken.pdf" not in result.stdout
    records = read_jsonl(out / "corpus.jsonl")
    assert records and {r["source"] for r in records} == {SMALL}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    errors = {i["source"]: i["error"] for i in manifest["inputs"]}
    assert errors[SMALL] is None and errors["broken.pdf"]


def test_dedup_on_unsplit_pages_is_usage_error(tmp_path, decoded):
    out = tmp_path / "out"
    result = invoke("dedup", decoded, out)
    assert result.exit_code == 2
    assert "split" in result.stderr
    assert result.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("bad", ["{not json\n", '{"source": "x"}\n', "[1, 2]\n"],
                         ids=["not-json", "missing-fields", "not-an-object"])
def test_invalid_json_input_to_strip_is_usage_error(tmp_path, bad):
    source = tmp_path / "in.jsonl"
    source.write_text(bad, encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = invoke("strip", source, target)
    assert result.exit_code == 2, result.output
    assert "line 1" in result.stderr
    assert result.stdout == ""
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no temp file left


def test_missing_stream_file_is_usage_error(tmp_path):
    result = invoke("normalize", tmp_path / "absent.jsonl", tmp_path / "o.jsonl")
    assert result.exit_code == 2
    assert "absent.jsonl" in result.stderr


# --------------------------------------------------------------------------
# 4. Quiet, and nothing but errors on stderr
# --------------------------------------------------------------------------

def test_quiet_run_prints_nothing(tmp_path):
    raw = copy_raw(tmp_path / "raw", [SMALL])
    out = tmp_path / "out"
    result = invoke("run", raw, out, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == ""
    assert (out / "corpus.jsonl").stat().st_size > 0
    loud = invoke("run", raw, tmp_path / "out2")
    assert loud.exit_code == 0
    assert loud.stdout.strip()  # the summary that --quiet suppressed
    assert loud.stderr == ""


# --------------------------------------------------------------------------
# 5. Determinism
# --------------------------------------------------------------------------

def test_two_runs_are_byte_identical(tmp_path, full_run):
    raw, first, result = full_run
    assert result.exit_code == 0
    second = tmp_path / "second"
    # A separate interpreter with a fixed, different hash seed: set or dict order
    # that leaks into the output would show up here.
    env = dict(os.environ, PYTHONHASHSEED="12345")
    # Import the same cleaner package as this process does.
    package_parent = str(Path(cleaner.pipeline.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", "from cleaner.cli import main; main()", "run", str(raw),
         str(second), "--quiet"],
        env=env, capture_output=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"" and proc.stderr == b""
    assert_same_tree(first, second)


# --------------------------------------------------------------------------
# 6. Atomic output
# --------------------------------------------------------------------------

def _previous_output(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    raw = copy_raw(tmp_path / "raw", [SMALL])
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    assert invoke("run", raw, out, "--quiet").exit_code == 0
    snapshot = tree(out)
    assert "corpus.jsonl" in snapshot and "manifest.json" in snapshot
    # The next run sees all inputs, so its output would differ from the snapshot.
    copy_raw(raw)
    return raw, out, snapshot


def test_failed_write_keeps_previous_output(tmp_path, monkeypatch):
    raw, out, snapshot = _previous_output(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full while writing the report")

    monkeypatch.setattr(cleaner.pipeline, "render_report", boom)
    result = invoke("run", raw, out, "--quiet")
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert tree(out) == snapshot
    assert sorted(p.name for p in out.parent.iterdir()) == [".cleaner-cache", "out"]  # no temp folders


def test_failed_swap_keeps_previous_output(tmp_path, monkeypatch):
    """Failure at the very last step (renaming the new folder into place)."""
    raw, out, snapshot = _previous_output(tmp_path)
    real_replace = os.replace
    # The two-rename swap (where one atomic exchange is not available).
    monkeypatch.setattr(cleaner.store, "exchange_dirs", lambda a, b: False)

    def failing_replace(src, dst, *args, **kwargs):
        if Path(src).name.startswith(".out.tmp-") and Path(dst) == out:
            raise OSError("rename failed")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    result = invoke("run", raw, out, "--quiet")
    monkeypatch.undo()
    assert result.exit_code != 0
    assert out.is_dir(), "the previous output was moved away and not restored"
    assert tree(out) == snapshot
    assert sorted(p.name for p in out.parent.iterdir()) == [".cleaner-cache", "out"]  # no temp folders


def test_successful_rerun_replaces_output_completely(tmp_path):
    raw, out, snapshot = _previous_output(tmp_path)
    (out / "stale.txt").write_text("left over from an older run", encoding="utf-8")
    result = invoke("run", raw, out, "--quiet")
    assert result.exit_code == 0
    assert not (out / "stale.txt").exists()
    assert tree(out) != snapshot  # the new run saw more inputs
    assert len({r["source"] for r in read_jsonl(out / "corpus.jsonl")}) > 1
    assert sorted(p.name for p in out.parent.iterdir()) == [".cleaner-cache", "out"]
