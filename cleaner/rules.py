"""Boilerplate rules as data: load TOML files, validate them, run their examples.

A rule file holds ``[[rule]]`` tables. Each rule has an ``id``, a
``description``, a ``pattern`` (a Python regular expression), an ``action``
(``drop_line``, ``delete_span`` or ``replace``) and examples that must match
(``match``) and must not match (``no_match``). Optional fields narrow where it
applies: ``max_chars`` (only lines at most this long), ``where`` (``anywhere``,
``head`` or ``tail``) with ``within`` (how many non-empty lines from that end),
``requires`` (a named check on the surrounding lines), ``follows`` (only in
the run of dropped lines right under a line another rule dropped: the items
of a list under its heading), ``fold`` (how much of the line is folded before
matching) and, for ``replace``, ``replacement``. ``[[rule.fix]]`` tables give
``before``/``after`` pairs that the rule must turn one into the other.

Loading refuses, naming the file and the rule, any malformed entry: a wrong
or missing field, a pattern that does not compile, a duplicate id, and a
pattern that can backtrack catastrophically (see :func:`backtracking_problems`).

Patterns match the *folded* view of a line (see :func:`fold`): full-width ASCII
is half-width and Latin letters are lower case, so one pattern written with
``:`` matches both ``来源:`` and ``来源：``. Folding keeps every character at its
offset, so a span found in the folded view is cut from the original text. A
rule with ``fold = "width"`` keeps letter case (junk strings are told from
abbreviations by their mixed case); ``fold = "none"`` matches the line as it is.
Patterns meet the line without its surrounding whitespace, so a line padded with
thousands of spaces costs no more than the bare line.
"""
from __future__ import annotations

import hashlib
import re
import signal
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from re import _parser as _sre  # the tree re compiles from: a private module, a stable tree

from charset_normalizer.constant import FREQUENCIES

from .errors import RuleError

ACTIONS = ("drop_line", "delete_span", "replace")
WHERE = ("anywhere", "head", "tail")
FOLDS = ("all", "width", "none")
FIELDS = {
    "id", "description", "pattern", "action", "replacement", "max_chars",
    "where", "within", "requires", "follows", "fold", "match", "no_match", "fix",
}
_ID = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")

def _fold_table(case: bool) -> dict[int, int]:
    table = {}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII block
        ch = cp - 0xFEE0
        table[cp] = ch + 32 if case and ord("A") <= ch <= ord("Z") else ch
    if case:
        table.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
    table[0x3000] = 0x20  # ideographic space
    return table


_FOLD = _fold_table(case=True)
_FOLD_WIDTH = _fold_table(case=False)


def fold(text: str) -> str:
    """The matching view of a line: width and case folded, same length.

    >>> fold("来源：ＩＣＰ备 Abc")
    '来源:icp备 abc'
    >>> len(fold("ＡＢＣ")) == 3
    True
    """
    return text.translate(_FOLD)


def fold_view(text: str, mode: str = "all") -> str:
    """The view of a line that a rule with ``fold = mode`` matches; same length.

    >>> [fold_view("ＱＱ：Ab", mode) for mode in FOLDS]
    ['qq:ab', 'QQ:Ab', 'ＱＱ：Ab']
    """
    if mode == "all":
        return text.translate(_FOLD)
    if mode == "width":
        return text.translate(_FOLD_WIDTH)
    return text


def core_span(text: str) -> tuple[int, int]:
    """Where a line's text starts and ends once surrounding whitespace is left out.

    >>> core_span("  下载 "), core_span("   ")
    ((2, 4), (3, 3))
    """
    start = len(text) - len(text.lstrip())
    return start, max(start, len(text.rstrip()))


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
    follows: tuple[str, ...] = ()
    fold: str = "all"
    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    fixes: tuple[tuple[str, str], ...] = ()

    def applies_to_length(self, text: str) -> bool:
        return self.max_chars is None or len(text.strip()) <= self.max_chars

    @cached_property
    def required(self) -> frozenset[str] | None:
        """Characters one of which the pattern cannot match without (see :func:`required_chars`)."""
        return required_chars(self.pattern)

    def view(self, text: str) -> str:
        """The line as this rule's pattern sees it (see :func:`fold_view`)."""
        return fold_view(text, self.fold)

    def finds(self, text: str) -> bool:
        """Whether the pattern is found in the line, within ``max_chars``.

        The pattern meets the line without its surrounding whitespace.
        """
        if not self.applies_to_length(text):
            return False
        start, end = core_span(text)
        return self.pattern.search(self.view(text[start:end])) is not None

    def rewrite(self, text: str) -> tuple[str, list[str]]:
        """Apply a span rule to one line; return the new text and what was cut.

        Spans are looked for in the line without its surrounding whitespace,
        which is kept as it is. Drop-line rules return the text unchanged (the
        caller drops the line).
        """
        if self.action == "drop_line":
            return text, []
        start, end = core_span(text)
        core = text[start:end]
        out, cut, pos = [text[:start]], [], 0
        for m in self.pattern.finditer(self.view(core)):
            if m.end() == m.start():
                continue
            out.append(core[pos:m.start()])
            cut.append(core[m.start():m.end()])
            if self.action == "replace":
                out.append(_expand(self.replacement, m, core))
            pos = m.end()
        out.append(core[pos:])
        out.append(text[end:])
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
    check_follows(rules)
    return RuleSet(tuple(rules), digest.hexdigest(), tuple(p.name for p in paths))


def check_follows(rules: list[Rule]) -> None:
    """Refuse a ``follows`` that names a rule not in the set, or not a drop-line rule."""
    actions = {rule.id: rule.action for rule in rules}
    for rule in rules:
        for heading in rule.follows:
            if heading not in actions:
                raise RuleError(f"{rule.file}: rule {rule.id!r}: 'follows' names {heading!r}, "
                                "which is not a rule of this set")
            if actions[heading] != "drop_line":
                raise RuleError(f"{rule.file}: rule {rule.id!r}: 'follows' names {heading!r}, "
                                "which does not drop lines")


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
    if not isinstance(rid, str) or not _ID.fullmatch(rid):
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
    folding = entry.get("fold", "all")
    if folding not in FOLDS:
        raise RuleError(f"{where}: 'fold' must be one of {', '.join(FOLDS)}")
    if folding != "none" and any(0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" for c in pattern_text):
        raise RuleError(f"{where}: write the pattern in folded form (half-width ASCII)")
    try:
        pattern = re.compile(pattern_text)
    except re.error as exc:
        raise RuleError(f"{where}: bad pattern: {exc}") from None
    slow = backtracking_problems(pattern_text)
    if slow:
        raise RuleError(f"{where}: pattern can backtrack catastrophically: {slow[0]}; make the "
                        "repeated part possessive (*+, ++) or atomic ((?>...)), or remove the overlap")
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
    follows = entry.get("follows", [])
    if "follows" in entry and not (isinstance(follows, list) and follows
                                   and all(isinstance(f, str) and _ID.fullmatch(f) for f in follows)):
        raise RuleError(f"{where}: 'follows' must be a non-empty list of rule ids")
    if follows and action != "drop_line":
        raise RuleError(f"{where}: 'follows' only goes with action 'drop_line'")
    if rid in follows:
        raise RuleError(f"{where}: 'follows' names the rule itself")
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
        requires=requires, follows=tuple(follows), fold=folding, match=tuple(match),
        no_match=tuple(no_match), fixes=tuple(fixes),
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
        if not rule.finds(text):
            problems.append(f"{rule.file}: rule {rule.id!r}: should match {text!r}")
    for text in rule.no_match:
        if rule.finds(text):
            problems.append(f"{rule.file}: rule {rule.id!r}: should not match {text!r}")
    for before, after in rule.fixes:
        got, _ = rule.rewrite(before)
        if got != after:
            problems.append(
                f"{rule.file}: rule {rule.id!r}: {before!r} gave {got!r}, expected {after!r}")
    return problems


def check_rules(directory: Path | None = None) -> tuple[RuleSet | None, list[str]]:
    """Load the rules, run every example and time every rule on long lines;
    return the set and all problems."""
    try:
        ruleset = load_rules(directory)
    except RuleError as exc:
        return None, [str(exc)]
    problems = [p for rule in ruleset.rules for p in example_failures(rule)]
    return ruleset, problems + slow_rules(ruleset)


# --------------------------------------------------------------------------
# Polynomial backtracking, found by timing
#
# A pattern that retries a run of spaces from every position, or splits a run
# between two quantifiers over the same characters, takes time quadratic in
# the line, and lines can be 1 MiB long. Such shapes are too many and too
# varied to refuse from the parse tree, so ``rules check`` times each rule on
# long lines built to trigger them: a run of one piece after a head, failing
# at its last character.
# --------------------------------------------------------------------------

LONG_LINE_PIECES = (
    "1", " ", "12 ", "可以", "下载 ", "回复 ", "% [", "a@ ", "本文", "…", "+ v", "; u", "a, ",
    ": a ", "A ", "1 2", ". ", "- ", "_ ", "\u00a0 ", "\u00a0", "\u3000", "\t", "。", ".", "文 ",
    "，", "第", "页 ", "编辑", "@", "|", "/", "【", "[", "(", "http://",
)
LONG_LINE_HEADS = ("", "登录", "付费", "vip", "上一页 ", "只看该作者 ", "发表于 2023-11-29 ",
                   "【", "第1页", "本帖最后由 a 于 2023-11-29", "(责任编辑:", "http://")
# A search is stopped after this long: a cubic pattern would take hours.
SEARCH_CAP_SECONDS = 2.0


def long_line(head: str, piece: str, size: int) -> str:
    """About ``size`` characters: ``head``, then ``piece`` repeated, then ``x``.

    >>> long_line("登录", "% [", 10)
    '登录% [% [x'
    """
    return head + piece * max(1, (size - len(head) - 1) // len(piece)) + "x"


def seconds_capped(fn: Callable[[], object], cap: float) -> float:
    """How long ``fn()`` takes, stopped by an alarm after ``cap`` seconds (then ``cap``).

    For regexes that may backtrack for hours: the alarm interrupts the search
    between two steps of the engine. Needs SIGALRM, in the main thread.
    """
    def stop(*_):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    start = time.perf_counter()
    try:
        signal.setitimer(signal.ITIMER_REAL, cap)
        fn()
    except TimeoutError:
        return cap
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return time.perf_counter() - start


def _search_seconds(rule: Rule, text: str, repeats: int = 1) -> float:
    """The best of ``repeats`` searches of the line; one stopped at the cap counts as the cap."""
    view = rule.view(text)
    return min(seconds_capped(lambda: rule.pattern.search(view), SEARCH_CAP_SECONDS)
               for _ in range(repeats))


def slow_rules(ruleset: RuleSet) -> list[str]:
    """Rules whose time grows quadratically or worse with the line, one problem each.

    For each rule, the piece and head it finds hardest at 600 characters are
    timed again at 1,000 and 16,000 (best of three): linear time grows 16
    times, quadratic 256 times. A rule is slow when it both grows more than
    64 times and takes over 0.1 s on the long line, so a busy machine does
    not make a linear rule slow. Rules with ``max_chars`` under 2,000 never
    see long lines. Timing needs SIGALRM in the main thread (not on Windows);
    without it nothing is reported.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return []
    problems = []
    for rule in ruleset.rules:
        if rule.max_chars is not None and rule.max_chars < 2_000:
            continue
        head, piece = max(((h, p) for h in LONG_LINE_HEADS for p in LONG_LINE_PIECES),
                          key=lambda hp: _search_seconds(rule, long_line(*hp, 600)))
        short = _search_seconds(rule, long_line(head, piece, 1_000), repeats=3)
        long = _search_seconds(rule, long_line(head, piece, 16_000), repeats=3)
        if long > 0.1 and long > 64 * short:
            problems.append(
                f"{rule.file}: rule {rule.id!r}: time grows quadratically or worse with the line: "
                f"{piece!r} repeated after {head!r} takes {short:.4f} s at 1,000 characters and "
                f"{long:.2f} s at 16,000 (see docs/rules.md on linear patterns)")
    return problems


# --------------------------------------------------------------------------
# Catastrophic backtracking, found at load
#
# Python's ``re`` backtracks: a quantified group whose repetitions can share
# out the same text in many ways tries every way before it gives up, and one
# short line can then take hours. Rule files come from users, so each pattern
# is checked when it is loaded, on the parse tree ``re`` itself compiles. The
# check looks for the shapes that make the number of ways grow exponentially
# with the length of the line, inside a group repeated without a small bound:
#
# - the group can match the empty string: ``(a*)*``, ``(a?b?)+``;
# - the group can match one text in two ways, because two quantifiers that
#   can take the same character meet with only optional items between them
#   (``(\s*,?\s*x)+``), or two alternatives can start alike (``(\d+|1x)+``),
#   or its words can be joined up in two ways (``(a|ab|b)+``);
# - the group can end and start with the same character, so that a run of
#   it can be cut between repetitions anywhere: ``(a+)+``, ``(\d{1,4})+``,
#   ``(\s*x\s*)+``.
#
# A possessive quantifier (``a++``) or an atomic group (``(?>...)``) never
# gives characters back, which is the usual way out. Shapes that cost
# polynomial time (``\s*,?\s*`` outside a repeat, a leading ``\s*`` retried
# from every position of a run) are not refused here: ``rules check`` times
# every rule on long lines built to trigger them (:func:`slow_rules`), and
# the shipped rules avoid them (docs/rules.md). Character sets are compared on probe characters:
# ASCII, common Chinese text and punctuation, and every literal and range end
# of the pattern itself.
# --------------------------------------------------------------------------


# A group repeated at most this many times cannot blow up far.
FEW_ROUNDS = 8
_PROBES = frozenset(
    "".join(map(chr, range(0x20, 0x7F))) + "\t\n\r\x0b\x0c\x00\x7f\xa0\u3000\u2028\u200b\ufeff"
    "教中一二龥，。：；！？、（）《》【】“”‘’—…·１Ａａéßαя😀"
)
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W",
}


def _class_item(op, av) -> str:
    """One member of a character class, written back as regex text."""
    if op is _sre.LITERAL:
        return re.escape(chr(av))
    if op in (_sre.RANGE, _sre.RANGE_UNI_IGNORE):
        return f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}"
    if op is _sre.CATEGORY:
        return _CATEGORIES.get(str(av), r"\s\S")
    return r"\s\S"  # something new: it may match anything


@lru_cache(maxsize=1024)
def _class_regex(text: str, flags: int) -> re.Pattern:
    return re.compile(text, flags)


def _char_class(op, av, flags: int) -> re.Pattern:
    """A single-character node of a parse tree as a compiled regex of its own."""
    if op is _sre.IN:
        negate = bool(av) and av[0][0] is _sre.NEGATE
        text = "[" + "^" * negate + "".join(_class_item(o, a) for o, a in av[negate:]) + "]"
        if text == "[]":
            text = "[^\\s\\S]"
    elif op is _sre.NOT_LITERAL:
        text = f"[^{re.escape(chr(av))}]"
    elif op is _sre.ANY:
        text = "."
    else:
        text = "[" + _class_item(op, av) + "]"
    return _class_regex(text, flags)


_SINGLE = frozenset({_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN, _sre.CATEGORY})
_BACKTRACKING_REPEATS = frozenset({_sre.MAX_REPEAT, _sre.MIN_REPEAT})
_EMPTY: frozenset = frozenset()
_MAX_WORDS = 64


@dataclass(frozen=True)
class _Shape:
    """What a piece of pattern can match, with characters as sets of probes.

    ``heads`` and ``tails``: characters a quantifier at the very start or end
    of the piece can take, and give back when backtracking. ``words``: a few
    texts the piece surely matches (None when none is known), all of them
    when ``exact``; two ways of joining them up are two real ways of matching.
    """

    nullable: bool
    first: frozenset
    last: frozenset
    heads: frozenset
    tails: frozenset
    words: tuple[str, ...] | None
    exact: bool = False


_ZERO_WIDTH = _Shape(True, _EMPTY, _EMPTY, _EMPTY, _EMPTY, None)


def _joined(parts) -> tuple[str, ...] | None:
    """Texts made of one choice from each part, at most :data:`_MAX_WORDS` of them."""
    words: tuple[str, ...] = ("",)
    for part in parts:
        if part is None:
            return None
        words = tuple(a + b for a in words for b in part)[:_MAX_WORDS]
    return words


def _union(shapes, field: str) -> frozenset:
    return frozenset().union(*(getattr(s, field) for s in shapes))


class _Backtracking:
    """One parsed pattern: the shapes of its pieces and the problems found in them."""

    def __init__(self, parsed, probes: frozenset) -> None:
        self.flags = parsed.state.flags & (re.ASCII | re.IGNORECASE | re.DOTALL)
        self.ignorecase = bool(self.flags & re.IGNORECASE)
        self.probes = probes
        self.probe_text = "".join(sorted(probes))
        self.charsets: dict[tuple, frozenset] = {}
        self.shapes: dict[int, _Shape] = {}  # by id() of the parsed node, alive while we walk
        self.problems: list[str] = []

    # Characters -------------------------------------------------------------

    def charset(self, op, av) -> frozenset:
        """The probe characters one single-character node matches."""
        if op is _sre.LITERAL and not self.ignorecase:
            return frozenset(chr(av))
        key = (op, repr(av))
        if key not in self.charsets:
            found = _char_class(op, av, self.flags).findall(self.probe_text)
            self.charsets[key] = frozenset(found)
        return self.charsets[key]

    # Shapes -------------------------------------------------------------------

    def sequence(self, items) -> _Shape:
        key = id(items)
        if key not in self.shapes:
            self.shapes[key] = self._sequence(items)
        return self.shapes[key]

    def _sequence(self, items) -> _Shape:
        shapes = [self.item(op, av) for op, av in items]
        first, heads, last, tails = set(), set(), set(), set()
        for s in shapes:
            first |= s.first
            heads |= s.heads
            if not s.nullable:
                break
        for s in reversed(shapes):
            last |= s.last
            tails |= s.tails
            if not s.nullable:
                break
        words = _joined(s.words for s in shapes)
        exact = all(s.exact for s in shapes) and words is not None and len(words) < _MAX_WORDS
        return _Shape(all(s.nullable for s in shapes), frozenset(first), frozenset(last),
                      frozenset(heads), frozenset(tails), words, exact)

    def item(self, op, av) -> _Shape:
        key = id(av) if isinstance(av, (list, tuple)) else None
        if key is not None and key in self.shapes:
            return self.shapes[key]
        shape = self._item(op, av)
        if key is not None:
            self.shapes[key] = shape
        return shape

    def _item(self, op, av) -> _Shape:
        if op in _SINGLE:
            chars = self.charset(op, av)
            literal = op is _sre.LITERAL or op is _sre.IN and all(o is _sre.LITERAL for o, _ in av)
            words = tuple(sorted(chars)) if literal and not self.ignorecase else None
            return _Shape(False, chars, chars, _EMPTY, _EMPTY, words, words is not None)
        if op is _sre.SUBPATTERN:
            return self.sequence(av[-1])
        if op is _sre.BRANCH:
            shapes = [self.sequence(b) for b in av[1]]
            known = [w for s in shapes if s.words is not None for w in s.words]
            exact = all(s.exact for s in shapes) and len(known) < _MAX_WORDS
            return _Shape(any(s.nullable for s in shapes), _union(shapes, "first"),
                          _union(shapes, "last"), _union(shapes, "heads"), _union(shapes, "tails"),
                          tuple(dict.fromkeys(known))[:_MAX_WORDS] if known else None, exact)
        if op in _BACKTRACKING_REPEATS:
            low, high, body = av
            shape = self.sequence(body)
            varies = high != low
            # A few of its texts: the body taken the fewest times, and once more.
            counts = [k for k in (low, low + 1) if k <= high]
            words = None
            if shape.words is not None:
                words = tuple(dict.fromkeys(w for k in counts for w in _joined([shape.words] * k)))
            elif low == 0:
                words = ("",)
            exact = shape.exact and (low, high) in ((1, 1), (0, 1))
            return _Shape(low == 0 or shape.nullable, shape.first, shape.last,
                          shape.heads | (shape.first if varies else _EMPTY),
                          shape.tails | (shape.last if varies else _EMPTY), words, exact)
        if op in (_sre.POSSESSIVE_REPEAT, _sre.ATOMIC_GROUP):
            # Never gives characters back: nothing inside can be shared out again.
            shape = self.sequence(av[2] if op is _sre.POSSESSIVE_REPEAT else av)
            nullable = shape.nullable or (op is _sre.POSSESSIVE_REPEAT and av[0] == 0)
            return _Shape(nullable, shape.first, shape.last, _EMPTY, _EMPTY, None)
        if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
            return _ZERO_WIDTH
        if op is _sre.GROUPREF_EXISTS:
            shapes = [self.sequence(b) for b in av[1:] if b is not None]
            return _Shape(len(shapes) < 2 or any(s.nullable for s in shapes),
                          _union(shapes, "first"), _union(shapes, "last"),
                          _union(shapes, "heads"), _union(shapes, "tails"), None)
        # A back reference (or anything new) may match any text of any length.
        every = self.probes
        return _Shape(True, every, every, every, every, None)

    # Problems -----------------------------------------------------------------

    def check(self, items, tail: bool) -> None:
        """Walk every node once; record a problem for each risky repeated group.

        ``tail``: nothing that can fail follows these items (the end of the
        pattern, of an atomic group or of a lookaround). A repeat there never
        backtracks: when a further repetition fails, the match is already made.
        """
        for i, (op, av) in enumerate(items):
            last = tail and i == len(items) - 1
            if op in _BACKTRACKING_REPEATS and not last:
                low, high, body = av
                if high == _sre.MAXREPEAT or high > FEW_ROUNDS:
                    why = self.repeat_problem(body)
                    if why:
                        self.problems.append(why)
            atomic = op in (_sre.ATOMIC_GROUP, _sre.POSSESSIVE_REPEAT, _sre.ASSERT, _sre.ASSERT_NOT)
            for part in _children(op, av):
                self.check(part, atomic or last)

    def repeat_problem(self, body) -> str | None:
        shape = self.sequence(body)
        if not (shape.first or shape.heads):
            return None  # only zero-width items: nothing to share out
        if shape.nullable:
            return "a repeated group can match the empty string"
        why = self.ambiguous(body)
        if why:
            return f"in a repeated group, {why}"
        shared = (shape.tails & shape.first) | (shape.heads & shape.last)
        if shared:
            return (f"a repeated group can end and start with {_show(shared)}, "
                    "so a run of it can be cut between repetitions in many ways")
        if shape.words is not None and not _uniquely_decodable(shape.words):
            return (f"a repeated group's texts ({_show_words(shape.words)}) "
                    "can be joined up in more than one way")
        return None

    def ambiguous(self, items) -> str | None:
        """Why a row of items can match one text in two ways, or None."""
        open_tails: frozenset = _EMPTY  # what quantifiers not yet closed off can still take
        for op, av in items:
            shape = self.item(op, av)
            shared = open_tails & shape.heads
            if shared:
                return f"two quantifiers in a row can both take {_show(shared)}"
            why = self.inner_ambiguity(op, av)
            if why:
                return why
            open_tails = (open_tails | shape.tails) if shape.nullable else shape.tails
        return None

    def inner_ambiguity(self, op, av) -> str | None:
        if op is _sre.BRANCH:
            shapes = [self.sequence(b) for b in av[1]]
            for i, a in enumerate(shapes):
                for b in shapes[i + 1:]:
                    if a.words and b.words and set(a.words) & set(b.words):
                        return "two alternatives match the same text"
                    if not (a.exact and b.exact) and (a.first & b.first or a.nullable and b.nullable):
                        return f"two alternatives can both start with {_show(a.first & b.first)}"
        if op in (_sre.POSSESSIVE_REPEAT, _sre.ATOMIC_GROUP, _sre.ASSERT, _sre.ASSERT_NOT):
            return None
        for part in _children(op, av):
            why = self.ambiguous(part)
            if why:
                return why
        return None


def _children(op, av) -> list:
    """The sub-patterns directly inside one node."""
    if op is _sre.SUBPATTERN:
        return [av[-1]]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        return [av[2]]
    if op is _sre.ATOMIC_GROUP:
        return [av]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _sre.GROUPREF_EXISTS:
        return [b for b in av[1:] if b is not None]
    return []


def _literal_chars(items) -> set[str]:
    found: set[str] = set()
    for op, av in items:
        if op in (_sre.LITERAL, _sre.NOT_LITERAL):
            found.add(chr(av))
        elif op is _sre.IN:
            for sub_op, sub_av in av:
                if sub_op in (_sre.LITERAL, _sre.NOT_LITERAL):
                    found.add(chr(sub_av))
                elif sub_op in (_sre.RANGE, _sre.RANGE_UNI_IGNORE):
                    found.update((chr(sub_av[0]), chr(sub_av[1])))
        for part in _children(op, av):
            found |= _literal_chars(part)
    return found


def _show(chars) -> str:
    """A few of ``chars`` for a message, letters and digits first."""
    ordered = sorted(chars, key=lambda c: (not c.isalnum(), not c.isprintable(), c))
    return ", ".join(repr(c) for c in ordered[:3]) + (" ..." if len(ordered) > 3 else "")


def _show_words(words) -> str:
    distinct = sorted(set(words))
    return ", ".join(repr(w) for w in distinct[:4]) + (" ..." if len(distinct) > 4 else "")


def _uniquely_decodable(words) -> bool:
    """Whether every text joined from ``words`` splits back into them in one way only.

    The Sardinas-Patterson test: follow what is left over when one word is a
    prefix of another (or of a leftover); the words are ambiguous as soon as a
    leftover is itself a word.

    >>> _uniquely_decodable(["上一页", "下一页", "首页"]), _uniquely_decodable(["a", "ab", "b"])
    (True, False)
    """
    code = set(words)
    if "" in code or len(code) < len(words):
        return False

    def leftovers(prefixes, texts):
        return {t[len(p):] for p in prefixes for t in texts if len(t) > len(p) and t.startswith(p)}

    current, seen = leftovers(code, code), set()
    while current:
        if current & code:
            return False
        key = frozenset(current)
        if key in seen:
            return True
        seen.add(key)
        current = leftovers(code, current) | leftovers(current, code)
    return True


def backtracking_problems(pattern: str, flags: int = 0) -> list[str]:
    r"""Shapes in ``pattern`` that make Python's ``re`` backtrack exponentially.

    An empty list means none was found; the pattern must compile.

    >>> backtracking_problems(r"(a+)+$")
    ["a repeated group can end and start with 'a', so a run of it can be cut between repetitions in many ways"]
    >>> backtracking_problems(r"^(\s*[|/]?\s*(首页|\d{1,4}))+$")
    ["in a repeated group, two quantifiers in a row can both take ' ', '\\t', '\\n' ..."]
    >>> backtracking_problems(r"(a*)*$"), backtracking_problems(r"(a|ab|b)+$")[0][:40]
    (['a repeated group can match the empty string'], "a repeated group's texts ('a', 'ab', 'b'")

    Repetitions that something fixed keeps apart pass, and so do bounded
    ones, possessive or atomic ones, and ones that nothing follows:

    >>> [backtracking_problems(p) for p in
    ...  (r"^\s*(第\s*\d+\s*页)+\s*$", r"(?:\d+,)+$", r"(?:a+){1,3}$", r"(?:a+)++$", r"(?>(a+)+)$", r"x(a+)+")]
    [[], [], [], [], [], []]
    """
    return list(_backtracking_problems(pattern, flags))


@lru_cache(maxsize=1024)  # a run loads the same rules in every stage command
def _backtracking_problems(pattern: str, flags: int) -> tuple[str, ...]:
    parsed = _sre.parse(pattern, flags)
    walker = _Backtracking(parsed, _PROBES | _literal_chars(parsed.data))
    walker.check(parsed.data, tail=True)
    return tuple(dict.fromkeys(walker.problems))


# ---------------------------------------------------------------------------
# Characters a match cannot do without
# ---------------------------------------------------------------------------

REQUIRED_LIMIT = 64  # a larger set of characters says too little to be worth checking


def required_chars(pattern: re.Pattern) -> frozenset[str] | None:
    """A small set of characters one of which every match of ``pattern`` contains,
    or None when the pattern gives none (it may match without any given character).

    Strip tries every rule on every line. Most lines are speech text, and a
    line that holds none of a rule's required characters cannot match it,
    so a set lookup spares the search. The set comes from the pattern's parse
    tree: a literal requires itself, a small class its characters, a
    sequence the smallest set among its parts, an alternation the union of
    its branches, a repeat its item when it repeats at least once. Anything
    else (``.``, categories, negated classes, lookarounds, back references,
    case-insensitive parts) requires nothing known.

    >>> sorted(required_chars(re.compile(r"^\\s*(?:展开|点击)的全文")))  # 的 is too common
    ['全']
    >>> sorted(required_chars(re.compile(r"小编|本站")))  # the rarer character of each branch
    ['站', '编']
    >>> required_chars(re.compile(r"\\d+页")), required_chars(re.compile(r"(?i)abc|x?"))
    (frozenset({'页'}), None)
    """
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        found = _required(_sre.parse(pattern.pattern, pattern.flags))
    except (re.error, RecursionError):
        return None
    return None if found is None else frozenset(found)


@lru_cache(maxsize=1)
def _commonness() -> dict[str, int]:
    """How common a character is in Chinese text (higher: more common; ASCII
    punctuation and spaces above all): of two required parts, the rarer is
    the better screen."""
    ranked = "".join(FREQUENCIES["Chinese"])
    common = {ch: len(ranked) - i for i, ch in enumerate(ranked)}
    for ch in " ,.:;!?()-/0123456789" + "".join(map(chr, range(0x61, 0x7b))):
        common[ch] = len(ranked) + 1
    return common


def _cost(chars: set[str]) -> tuple[int, int]:
    common = _commonness()
    return len(chars), sum(common.get(ch, 0) for ch in chars)


def _required(items) -> set[str] | None:
    best = None
    for op, av in items:
        need = _required_item(op, av)
        if need is not None and (best is None or _cost(need) < _cost(best)):
            best = need
    return best


def _required_item(op, av) -> set[str] | None:
    if op is _sre.LITERAL:
        return {chr(av)}
    if op is _sre.IN:
        chars: set[str] = set()
        for o, a in av:
            if o is _sre.LITERAL:
                chars.add(chr(a))
            elif o is _sre.RANGE and a[1] - a[0] < REQUIRED_LIMIT:
                chars.update(map(chr, range(a[0], a[1] + 1)))
            else:  # a negated class, a category, a wide range
                return None
        return chars if 0 < len(chars) <= REQUIRED_LIMIT else None
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        return None if add_flags & re.IGNORECASE else _required(sub)
    if op is _sre.ATOMIC_GROUP:
        return _required(av)
    if op is _sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            need = _required(branch)
            if need is None:
                return None
            union |= need
        return union if len(union) <= REQUIRED_LIMIT else None
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, _high, item = av
        return _required(item) if low >= 1 else None
    return None
