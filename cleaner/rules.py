"""Boilerplate rules as data: load TOML files, validate them, run their examples.

A rule file holds ``[[rule]]`` tables. Each rule has an ``id``, a
``description``, a ``pattern`` (a Python regular expression), an ``action``
(``drop_line``, ``delete_span`` or ``replace``) and examples that must match
(``match``) and must not match (``no_match``). Optional fields narrow where it
applies: ``max_chars`` (only lines at most this long), ``where`` (``anywhere``,
``head`` or ``tail``) with ``within`` (how many non-empty lines from that end),
``requires`` (a named check on the surrounding lines) and, for ``replace``,
``replacement``. ``[[rule.fix]]`` tables give ``before``/``after`` pairs that
the rule must turn one into the other.

Patterns match the *folded* view of a line (see :func:`fold`): full-width ASCII
is half-width and Latin letters are lower case, so one pattern written with
``:`` matches both ``来源:`` and ``来源：``. Folding keeps every character at its
offset, so a span found in the folded view is cut from the original text.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import RuleError

ACTIONS = ("drop_line", "delete_span", "replace")
WHERE = ("anywhere", "head", "tail")
FIELDS = {
    "id", "description", "pattern", "action", "replacement", "max_chars",
    "where", "within", "requires", "match", "no_match", "fix",
}

def _fold_table() -> dict[int, int]:
    table = {}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII block
        ch = cp - 0xFEE0
        table[cp] = ch + 32 if ord("A") <= ch <= ord("Z") else ch
    table.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
    table[0x3000] = 0x20  # ideographic space
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """The matching view of a line: width and case folded, same length.

    >>> fold("来源：ＩＣＰ备 Abc")
    '来源:icp备 abc'
    >>> len(fold("ＡＢＣ")) == 3
    True
    """
    return text.translate(_FOLD)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    action: str
    pattern: re.Pattern
    file: str
    replacement: str = ""
    max_chars: int | None = None
    where: str = "anywhere"
    within: int | None = None
    requires: str | None = None
    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    fixes: tuple[tuple[str, str], ...] = ()

    def applies_to_length(self, text: str) -> bool:
        return self.max_chars is None or len(text.strip()) <= self.max_chars

    def rewrite(self, text: str) -> tuple[str, list[str]]:
        """Apply a span rule to one line; return the new text and what was cut.

        Drop-line rules return the text unchanged (the caller drops the line).
        """
        if self.action == "drop_line":
            return text, []
        folded = fold(text)
        out, cut, pos = [], [], 0
        for m in self.pattern.finditer(folded):
            if m.end() == m.start():
                continue
            out.append(text[pos:m.start()])
            cut.append(text[m.start():m.end()])
            if self.action == "replace":
                out.append(_expand(self.replacement, m, text))
            pos = m.end()
        out.append(text[pos:])
        return "".join(out), cut


_GROUP_REF = re.compile(r"\\(\d+)|\\g<(\w+)>")


def _expand(template: str, m: re.Match, original: str) -> str:
    """Fill group references from the original (unfolded) text."""

    def group(ref: re.Match) -> str:
        key = ref.group(1) or ref.group(2)
        key = int(key) if key.isdigit() else key
        start, end = m.span(key)
        return "" if start < 0 else original[start:end]

    return _GROUP_REF.sub(group, template)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    digest: str
    files: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.rules)


# The per-path encoding map lives beside the rules (see cleaner.encmap).
ENCODING_MAP_FILE = "encodings.toml"


def default_rules_dir() -> Path:
    """The rule pack that ships with the tool.

    Installed wheels carry it inside the package; a source checkout (editable
    install) keeps it in ``rules/`` beside the package.
    """
    bundled = Path(str(resources.files("cleaner"))) / "rules"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "rules"


def load_rules(directory: Path | None = None) -> RuleSet:
    """Load and validate every ``*.toml`` rule file in ``directory``.

    Raises :class:`RuleError` naming the file and rule on the first problem.
    """
    directory = Path(directory) if directory else default_rules_dir()
    if not directory.is_dir():
        raise RuleError(f"{directory}: rules folder not found")
    paths = sorted(p for p in directory.glob("*.toml") if p.name != ENCODING_MAP_FILE)
    if not paths:
        raise RuleError(f"{directory}: no rule files (*.toml)")
    digest = hashlib.sha256()
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in paths:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        for rule in parse_rule_file(path.name, raw):
            if rule.id in seen:
                raise RuleError(
                    f"{path.name}: rule {rule.id!r}: duplicate id (also in {seen[rule.id]})")
            seen[rule.id] = path.name
            rules.append(rule)
    return RuleSet(tuple(rules), digest.hexdigest(), tuple(p.name for p in paths))


def toml_tables(name: str, raw: bytes, key: str) -> list:
    """The ``[[key]]`` array of a TOML file that may hold nothing else."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{name}: not valid TOML: {exc}") from None
    unknown = set(data) - {key}
    if unknown:
        raise RuleError(f"{name}: unknown top-level keys {sorted(unknown)}")
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise RuleError(f"{name}: '{key}' must be an array of tables ([[{key}]])")
    return entries


def parse_rule_file(name: str, raw: bytes) -> list[Rule]:
    """Parse one rule file's bytes into validated rules (examples not run)."""
    return [_build_rule(name, i, entry) for i, entry in enumerate(toml_tables(name, raw, "rule"), 1)]


def _build_rule(name: str, index: int, entry: dict) -> Rule:
    rid = entry.get("id")
    where = f"{name}: rule {rid!r}" if rid else f"{name}: rule #{index}"
    if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9]+(?:[.-][a-z0-9]+)*", rid):
        raise RuleError(f"{where}: 'id' must be lower-case words joined by '.' or '-'")
    unknown = set(entry) - FIELDS
    if unknown:
        raise RuleError(f"{where}: unknown fields {sorted(unknown)}")
    for key in ("description", "pattern", "action"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise RuleError(f"{where}: '{key}' is required and must be a non-empty string")
    action = entry["action"]
    if action not in ACTIONS:
        raise RuleError(f"{where}: action {action!r} is not one of {', '.join(ACTIONS)}")
    pattern_text = entry["pattern"]
    if any(0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" for c in pattern_text):
        raise RuleError(f"{where}: write the pattern in folded form (half-width ASCII)")
    try:
        pattern = re.compile(pattern_text)
    except re.error as exc:
        raise RuleError(f"{where}: bad pattern: {exc}") from None
    place = entry.get("where", "anywhere")
    if place not in WHERE:
        raise RuleError(f"{where}: 'where' must be one of {', '.join(WHERE)}")
    within = entry.get("within")
    if place != "anywhere" and not (isinstance(within, int) and within > 0):
        raise RuleError(f"{where}: where = {place!r} needs 'within' (a positive number of lines)")
    if place == "anywhere" and within is not None:
        raise RuleError(f"{where}: 'within' only goes with where = 'head' or 'tail'")
    max_chars = entry.get("max_chars")
    if max_chars is not None and not (isinstance(max_chars, int) and max_chars > 0):
        raise RuleError(f"{where}: 'max_chars' must be a positive integer")
    requires = entry.get("requires")
    from .strip import CHECKS  # the named context checks live with the stripper

    if requires is not None and requires not in CHECKS:
        raise RuleError(f"{where}: 'requires' must be one of {', '.join(sorted(CHECKS))}")
    if requires is not None and action != "drop_line":
        raise RuleError(f"{where}: 'requires' only goes with action 'drop_line'")
    replacement = entry.get("replacement", "")
    if action == "replace" and "replacement" not in entry:
        raise RuleError(f"{where}: action 'replace' needs 'replacement'")
    if action != "replace" and "replacement" in entry:
        raise RuleError(f"{where}: 'replacement' only goes with action 'replace'")
    match = _strings(where, entry, "match")
    no_match = _strings(where, entry, "no_match")
    if not match:
        raise RuleError(f"{where}: needs at least one 'match' example")
    if not no_match:
        raise RuleError(f"{where}: needs at least one 'no_match' example")
    fixes = []
    for fix in entry.get("fix", []):
        if not isinstance(fix, dict) or set(fix) != {"before", "after"}:
            raise RuleError(f"{where}: each [[rule.fix]] needs exactly 'before' and 'after'")
        fixes.append((fix["before"], fix["after"]))
    if action != "drop_line" and not fixes:
        raise RuleError(f"{where}: span rules need at least one [[rule.fix]] example")
    return Rule(
        id=rid, description=entry["description"].strip(), action=action, pattern=pattern,
        file=name, replacement=replacement, max_chars=max_chars, where=place, within=within,
        requires=requires, match=tuple(match), no_match=tuple(no_match), fixes=tuple(fixes),
    )


def _strings(where: str, entry: dict, key: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: '{key}' must be a list of strings")
    return value


def example_failures(rule: Rule) -> list[str]:
    """Run a rule's own examples; return one message per misbehaving example.

    A ``match`` example must be hit by the pattern (and, for a length-limited
    rule, be short enough); a ``no_match`` example must not be removed or
    changed; each fix's ``before`` must become its ``after``.
    """
    problems = []
    for text in rule.match:
        if not (rule.pattern.search(fold(text)) and rule.applies_to_length(text)):
            problems.append(f"{rule.file}: rule {rule.id!r}: should match {text!r}")
    for text in rule.no_match:
        if rule.pattern.search(fold(text)) and rule.applies_to_length(text):
            problems.append(f"{rule.file}: rule {rule.id!r}: should not match {text!r}")
    for before, after in rule.fixes:
        got, _ = rule.rewrite(before)
        if got != after:
            problems.append(
                f"{rule.file}: rule {rule.id!r}: {before!r} gave {got!r}, expected {after!r}")
    return problems


def check_rules(directory: Path | None = None) -> tuple[RuleSet | None, list[str]]:
    """Load the rules and run every example; return the set and all problems."""
    try:
        ruleset = load_rules(directory)
    except RuleError as exc:
        return None, [str(exc)]
    problems = [p for rule in ruleset.rules for p in example_failures(rule)]
    return ruleset, problems
