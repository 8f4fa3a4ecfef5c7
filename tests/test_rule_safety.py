"""Rules are safe to load from users.

A rule folder given with ``--rules`` is refused at load, with the file and the
rule named and exit code 2, when a rule has a bad regex, a duplicate id, a
wrong field, or a pattern that can backtrack catastrophically. The
backtracking check is tested on patterns as data: each dangerous one comes
with a line that really makes it hang, each safe one with a line of the same
kind that it gets through at once.
"""
from __future__ import annotations

import signal

import pytest
from typer.testing import CliRunner

from cleaner.cli import app
from cleaner.errors import RuleError
from cleaner.model import Page
from cleaner.rules import backtracking_problems, fold, load_rules, seconds_capped
from cleaner.strip import strip_boilerplate

runner = CliRunner()


def rule_toml(rid: str, pattern: str = "foo", match: str = "a foo", no_match: str = "bar",
              extra: str = "") -> str:
    return (f'[[rule]]\nid = "{rid}"\ndescription = "test rule"\naction = "drop_line"\n'
            f"pattern = '''{pattern}'''\nmatch = [{match!r}]\nno_match = [{no_match!r}]\n{extra}\n")


BAD_FOLDERS = {
    "bad-regex": ({"mine.toml": rule_toml("t.bad", pattern="(unclosed")}, "bad pattern"),
    "duplicate-id": ({"a.toml": rule_toml("t.same"), "mine.toml": rule_toml("t.ok") + rule_toml("t.same")},
                     "duplicate id"),
    "wrong-field": ({"mine.toml": rule_toml("t.bad", extra="colour = 'red'")}, "unknown fields"),
    "wrong-type": ({"mine.toml": rule_toml("t.bad", extra="max_chars = 'ten'")}, "max_chars"),
    "catastrophic": ({"mine.toml": rule_toml("t.bad", pattern=r"^(\s*[|/]?\s*\d+)+$", match="1 2",
                                             no_match="x")}, "backtrack catastrophically"),
}


@pytest.mark.parametrize(("files", "reason"), list(BAD_FOLDERS.values()), ids=list(BAD_FOLDERS))
@pytest.mark.parametrize("command", ["run", "rules check"])
def test_bad_rule_folder_is_refused_naming_file_and_rule(tmp_path, files, reason, command):
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in files.items():
        (rules / name).write_text(text, encoding="utf-8")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("同志们：今天开会。\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(raw), str(out)] if command == "run" else ["rules", "check"]
    result = runner.invoke(app, [*args, "--rules", str(rules)])
    assert result.exit_code == 2, result.output
    assert "mine.toml" in result.stderr
    assert "t.bad" in result.stderr or "t.same" in result.stderr
    assert reason in result.stderr
    assert not out.exists()


# --------------------------------------------------------------------------
# The backtracking check, as data
# --------------------------------------------------------------------------

# (pattern, a line that makes it hang when the check is right to refuse it)
DANGEROUS = [
    (r"^(a+)+$", "a" * 40 + "!"),
    (r"(\d{1,4})+$", "1" * 40 + "x"),
    (r"^(\s*[|/]?\s*(首页|\d{1,4}))+\s*$", "首页" + " 1" * 30 + "x"),
    (r"^(\s*x\s*)+$", "x  " * 30 + "!"),
    (r"^(a*)*$", "a" * 40 + "!"),
    (r"^(a|a)+$", "a" * 40 + "!"),
    (r"^((主题|帖子)\s*:?\s*\d+\s*(个|次)?\s*[|/]?\s*){2,}$", "主题 1    " * 8 + "x"),
    (r"^(\w+\s?)+$", "abcdefghij" * 4 + "!"),
    (r"^(?:[^\s|/]{1,12}(?:网|论坛))+$", "首页" + "网" * 60 + "x"),
    (r"^(?:(?:返回|下载|下载文档|文档下载)\s*)+$", "下载文档下载" * 30 + "x"),  # [下载文档][下载] = [下载][文档下载]
]

# (pattern, a line of the same kind that it gets through at once)
SAFE = [
    (r"^\s*(第\s*\d+\s*页)+\s*$", "第1页" * 20 + "x"),
    (r"(?:\d+,)+$", "1," * 40 + "x"),
    (r"^(?>(\s*[|/]?\s*(首页|\d{1,4}))+)\s*$", "首页" + " 1" * 30 + "x"),
    (r"^(\s*+[|/]?\s*+(首页|\d{1,4}))++\s*$", "首页" + " 1" * 30 + "x"),
    (r"^(a+){1,3}$", "a" * 40 + "!"),
    (r"^(a+)+", "a" * 40 + "!"),  # nothing follows the repeat: the first way wins
    (r"(?=.*(上一页|下一页))", "上" * 40),
    (r"^\s*[\[【]?\s*(来源|出处)\s*:\s*\S{1,24}\s*[\]】]?\s*$", "来源:" + " " * 40 + "x"),
    (r"^(?:(?:返回|下载|文档)\s*[|/]?){2,}$", "下载文档" * 20 + "x"),
]


def _seconds(pattern: str, text: str, cap: float) -> float:
    """How long ``re.search`` takes, stopped by an alarm after ``cap`` seconds."""
    import re

    compiled = re.compile(pattern)
    folded = fold(text)
    return seconds_capped(lambda: compiled.search(folded), cap)


@pytest.mark.parametrize(("pattern", "attack"), DANGEROUS, ids=[p for p, _ in DANGEROUS])
def test_dangerous_pattern_is_refused(pattern, attack):
    assert backtracking_problems(pattern)


@pytest.mark.parametrize(("pattern", "attack"), SAFE, ids=[p for p, _ in SAFE])
def test_safe_pattern_is_accepted(pattern, attack):
    assert backtracking_problems(pattern) == []


ALARM = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")


@ALARM
def test_dangerous_patterns_really_hang_and_safe_ones_do_not():
    # The data above is only worth something if it is true: every refused
    # pattern takes longer than a short cap on its line, every accepted one
    # finishes far below it.
    slow_enough = [p for p, text in DANGEROUS if _seconds(p, text, 0.25) < 0.2]
    fast = [p for p, text in SAFE if _seconds(p, text, 1.0) > 0.1]
    assert slow_enough == [] and fast == []


def test_refusal_names_file_rule_and_shape(tmp_path):
    (tmp_path / "mine.toml").write_text(rule_toml("t.nested", pattern=r"(\d+)+$", match="12",
                                                  no_match="x"), encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(tmp_path)
    message = str(info.value)
    assert message.startswith("mine.toml: rule 't.nested': pattern can backtrack catastrophically")
    assert "repeated group" in message and "possessive" in message


def test_shipped_rules_pass_the_backtracking_check():
    flagged = {r.id: backtracking_problems(r.pattern.pattern) for r in load_rules().rules}
    assert {rid: why for rid, why in flagged.items() if why} == {}


# --------------------------------------------------------------------------
# Lines padded with whitespace: patterns see the line without its padding
# --------------------------------------------------------------------------

@ALARM
def test_whitespace_padded_line_is_stripped_quickly():
    ruleset = load_rules()
    page = Page(source="x", sha256="", size=0, lines=[(1, " " * 2000 + "下载"), (2, "同志们：")])
    assert seconds_capped(lambda: strip_boilerplate(page, ruleset), 2.0) < 2.0


@ALARM
def test_rules_check_reports_a_quadratic_user_rule(tmp_path):
    # Two quantifiers over spaces with an optional item between them: a line
    # of spaces is split between them every possible way.
    (tmp_path / "mine.toml").write_text(rule_toml(
        "mine.heading", pattern=r"^\s*[【]?\s*相关推荐\s*$", match="相关推荐", no_match="推荐相关文章"),
        encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", "--rules", str(tmp_path)])
    assert result.exit_code == 2
    assert "mine.toml: rule 'mine.heading': time grows quadratically or worse" in result.output
