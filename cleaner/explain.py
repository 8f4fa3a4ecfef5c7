"""Explain one file: every removed or changed span of the raw text, with the rule that did it.

``cleaner explain FILE`` runs the real per-file stages on a freshly decoded
page, one step at a time (strip, each repair step, each normalize fixer that
changes a line, split), and follows every character from the decoded raw text
to the output. Each step is compared before and after; what it deleted,
replaced or inserted is labelled with the step's rule id:

* strip: the rule ids of the edits recorded on the line; when several span
  rules cut one line, each rule's own ``rewrite`` is replayed to tell their
  cuts apart;
* repair: the id of each step in ``cleaner.repair.STEPS`` (when that module
  exists), or of the edit the step recorded for the deleted text;
* normalize: the fixers of ``cleaner.normalize.FIXERS``, run one by one;
* split: the edits it records (repeated titles, title suffixes, empty
  speeches); what it drops silently is labelled ``split.piece-marker`` (piece
  markers such as ``第二篇：``) or ``split.blank-line``.

Text that one step replaced and a later one removed is credited to the later
one; a removed line break stays credited to the join.

The cleaning itself is never re-implemented here: after each stage the traced
lines must equal what the stage returned. If they ever differ, the difference
is labelled ``<stage>.unattributed`` and counted in :attr:`Trace.unattributed`,
so the trace stays faithful even when attribution fails.

Decode-level tidying (entities, NFC, control characters, line endings) happens
before there are lines; the raw text shown is the tidied one and those changes
are reported as counts.
"""
from __future__ import annotations

import importlib
import importlib.util
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from . import pipeline
from .model import Edit, Page, Speech
from .normalize import FIXERS
from .pipeline import normalize, split, strip_page
from .rules import RuleSet
from .split import piece_marker
from .templates import Templates, strip_templates

Step = tuple[str, Callable[[Page], Page]]

# ---------------------------------------------------------------------------
# Character diff
# ---------------------------------------------------------------------------


# Work SequenceMatcher may do on what resync leaves over, in places its search
# visits (see _Budgeted), 0.05 to 0.1 µs each: 0.1 to 0.2 s. Lines where every
# other character is deleted (text with a space between every character)
# would cost it about the cube of their length; those are walked instead.
# Within the budget the regions are SequenceMatcher's, as they always were.
MATCHER_BUDGET = 2_000_000
_PER_CHARACTER = 4  # what the search spends per character of a, in visits


def diff_regions(a: str, b: str, sync: int = 8, window: int = 64,
                 budget: int = MATCHER_BUDGET) -> list[tuple[int, int, int, int]]:
    """The regions where ``a`` and ``b`` differ, as ``(i1, i2, j1, j2)``: ``a[i1:i2]`` became ``b[j1:j2]``.

    Pipeline steps change a few characters of long lines, so this walks both
    strings and, at each difference, looks for the nearest point where
    ``sync`` characters agree again (within ``window`` characters of edits).
    Cost grows with the length plus the number of changes, not their product.
    A region it cannot resynchronise is left to :class:`difflib.SequenceMatcher`,
    or, when that would take more than ``budget`` steps, to :func:`_walk_regions`.

    >>> diff_regions("今天,我们开会", "今天，我们开会")
    [(2, 3, 2, 3)]
    >>> diff_regions("同志们:  今天", "同志们：今天")
    [(3, 6, 3, 4)]
    >>> diff_regions("甲乙\\n丙丁\\n", "甲乙丙丁\\n")
    [(2, 3, 2, 2)]
    >>> diff_regions("abc", "abc")
    []
    >>> diff_regions("教 育 局 长", "教育局长", window=4, budget=0)
    [(1, 2, 1, 1), (3, 4, 2, 2), (5, 6, 3, 3)]
    """
    regions: list[tuple[int, int, int, int]] = []
    i = j = 0
    na, nb = len(a), len(b)
    while True:
        i, j = _skip_equal(a, b, i, j)
        if i == na and j == nb:
            return _slide_right(a, b, regions)
        found = _resync(a, b, i, j, sync, window)
        if found is None:
            rest = _matcher_regions(a, b, i, j, na, nb, budget)
            regions.extend(rest if rest is not None else _walk_regions(a, b, i, j, sync, window))
            return _slide_right(a, b, regions)
        di, dj = found
        regions.extend(_step(a, b, i, j, di, dj))
        i += di
        j += dj


def _skip_equal(a: str, b: str, i: int, j: int) -> tuple[int, int]:
    """The first positions from ``i`` and ``j`` on where ``a`` and ``b`` differ."""
    na, nb = len(a), len(b)
    while i < na and j < nb and a[i] == b[j]:
        i += 1
        j += 1
    return i, j


def _step(a: str, b: str, i: int, j: int, di: int, dj: int) -> list[tuple[int, int, int, int]]:
    """The regions of ``a[i:i + di]`` becoming ``b[j:j + dj]``, up to a resync point."""
    if di and dj:  # several edits close together: let the matcher take them apart
        return _matcher_regions(a, b, i, j, i + di, j + dj)
    return [(i, i + di, j, j + dj)]


def _slide_right(a: str, b: str, regions: list[tuple[int, int, int, int]]
                 ) -> list[tuple[int, int, int, int]]:
    """Move each pure deletion or insertion as far right as the same text allows.

    Of ``"同志们：\\n\\n"`` becoming ``"同志们：\\n"``, either break can be the
    deleted one; the later one is, so the line keeps its own break and the
    blank line after it loses its. Of a title repeated below itself, the copy
    is deleted, not the original.

    >>> _slide_right("a\\n\\nb", "a\\nb", [(1, 2, 1, 1)])
    [(2, 3, 2, 2)]
    """
    out = []
    for k, (i1, i2, j1, j2) in enumerate(regions):
        limit_a = regions[k + 1][0] if k + 1 < len(regions) else len(a)
        limit_b = regions[k + 1][2] if k + 1 < len(regions) else len(b)
        if j1 == j2:
            while i2 < limit_a and a[i2] == a[i1]:
                i1, i2, j1, j2 = i1 + 1, i2 + 1, j1 + 1, j2 + 1
        elif i1 == i2:
            while j2 < limit_b and b[j2] == b[j1]:
                i1, i2, j1, j2 = i1 + 1, i2 + 1, j1 + 1, j2 + 1
        out.append((i1, i2, j1, j2))
    return out


def _resync(a: str, b: str, i: int, j: int, sync: int, window: int) -> tuple[int, int] | None:
    """The smallest (deleted, inserted) pair after which ``a`` and ``b`` agree again."""
    na, nb = len(a), len(b)
    for d in range(1, window + 1):
        for di in range(d + 1):
            dj = d - di
            if i + di > na or j + dj > nb:
                continue
            if a[i + di:i + di + sync] == b[j + dj:j + dj + sync]:
                return di, dj
    return None


class _TooCostly(Exception):
    pass


class _Budgeted(SequenceMatcher):
    """A SequenceMatcher that stops (raises :class:`_TooCostly`) before its work passes ``budget``.

    Each search for the longest match takes every character of
    ``a[alo:ahi]`` and visits its places in ``b`` below ``bhi``; that work is
    counted before the search runs, so a hopeless match costs little.
    """

    def __init__(self, a: str, b: str, budget: int):
        super().__init__(None, a, b, autojunk=False)
        self.left = budget
        # Visits up to each character of a when bhi is the end of b (so for the
        # first search and every one right of a match): a difference of two sums.
        self.upto = [0]
        for ch in a:
            self.upto.append(self.upto[-1] + _PER_CHARACTER + len(self.b2j.get(ch, ())))

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        if bhi == len(self.b):
            self.left -= self.upto[ahi] - self.upto[alo]
        else:
            places = self.b2j
            self.left -= (_PER_CHARACTER * (ahi - alo)
                          + sum(bisect_left(places.get(ch, ()), bhi) for ch in self.a[alo:ahi]))
        if self.left < 0:
            raise _TooCostly
        return super().find_longest_match(alo, ahi, blo, bhi)


def _matcher_regions(a: str, b: str, i: int, j: int, ea: int, eb: int,
                     budget: int | None = None) -> list[tuple[int, int, int, int]] | None:
    """The differences between ``a[i:ea]`` and ``b[j:eb]``, found by SequenceMatcher.

    None when that would cost more than ``budget`` (see :class:`_Budgeted`).
    """
    # Trim the common tail first: SequenceMatcher's cost grows with the product of lengths.
    while ea > i and eb > j and a[ea - 1] == b[eb - 1]:
        ea -= 1
        eb -= 1
    if budget is None:
        matcher = SequenceMatcher(None, a[i:ea], b[j:eb], autojunk=False)
    else:
        matcher = _Budgeted(a[i:ea], b[j:eb], budget)
    try:
        opcodes = matcher.get_opcodes()
    except _TooCostly:
        return None
    return [(i + i1, i + i2, j + j1, j + j2) for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]


def _walk_regions(a: str, b: str, i: int, j: int, sync: int, window: int
                  ) -> list[tuple[int, int, int, int]]:
    """The differences between ``a[i:]`` and ``b[j:]``, one step at a time, in about linear time.

    For what SequenceMatcher would take too long over: when a step deletes
    every other character (the spaces of ``教 育 局 长``) or changes it
    (``教,教,`` to ``教，教，``), no ``sync`` characters agree anywhere. Each
    step goes to the nearest point where ``sync`` characters agree within
    ``window`` edits, as :func:`diff_regions` does, or else to the nearest
    single character that agrees, so every removed space is a deletion of
    its own. Places in ``b`` are looked up in an index, not searched for.
    A block rewritten by more than ``window`` characters comes out in more
    and smaller pieces than SequenceMatcher would make (still exact).

    >>> _walk_regions("教,教,教,", "教，教，教，", 0, 0, 8, 4)
    [(1, 2, 1, 2), (3, 4, 3, 4), (5, 6, 5, 6)]
    """
    grams, chars = _places(b, j, sync), _places(b, j, 1)
    regions: list[tuple[int, int, int, int]] = []
    na, nb = len(a), len(b)
    while True:
        i, j = _skip_equal(a, b, i, j)
        if i == na and j == nb:
            return regions
        found = _nearest(a, grams, i, j, sync, window)
        if found is None:
            # No character of a[i:i + di] is in b[j:j + dj] (one would be nearer),
            # so the step is one region. The ends of both strings always agree.
            di, dj = _nearest(a, chars, i, j, 1, na - i + nb - j)
            regions.append((i, i + di, j, j + dj))
        else:
            di, dj = found  # as in diff_regions; the window keeps the matcher's part small
            regions.extend(_step(a, b, i, j, di, dj))
        i += di
        j += dj


def _places(b: str, j: int, size: int) -> dict[str, list[int]]:
    """Where each ``size``-character piece of ``b[j:]`` starts, in order.

    The pieces near the end are shorter, down to the empty one at ``len(b)``,
    as slices of ``b`` are, so looking up a slice of ``a`` finds what
    comparing the two slices would.

    >>> _places("甲乙甲", 0, 2)
    {'甲乙': [0], '乙甲': [1], '甲': [2], '': [3]}
    """
    found: dict[str, list[int]] = defaultdict(list)
    for q in range(j, len(b) + 1):
        found[b[q:q + size]].append(q)
    return dict(found)


def _nearest(a: str, places: dict[str, list[int]], i: int, j: int, size: int,
             window: int) -> tuple[int, int] | None:
    """What :func:`_resync` finds, with ``b``'s ``size``-character pieces looked up in ``places``.

    The smallest ``di + dj`` (then the smallest ``di``), at most ``window``,
    such that ``a[i + di:]`` and ``b[j + dj:]`` start with the same piece.

    >>> _nearest("x甲乙", _places("甲乙", 0, 2), 0, 0, 2, 8)
    (1, 0)
    """
    best: tuple[int, int] | None = None
    for di in range(min(window, len(a) - i) + 1):
        if best is not None and di >= best[0] + best[1]:
            break  # no nearer point further on
        found = places.get(a[i + di:i + di + size])
        if not found:
            continue
        k = bisect_left(found, j)
        if k == len(found) or found[k] - j + di > window or found[k] - j + di == 0:
            continue
        if best is None or found[k] - j + di < best[0] + best[1]:
            best = (di, found[k] - j)
    return best


# ---------------------------------------------------------------------------
# Provenance: where each character of the current lines came from
# ---------------------------------------------------------------------------


@dataclass
class _Line:
    """A line of the page as it is now.

    ``origin[k]`` is where character ``k`` came from: an offset into the raw
    text (the decoded lines joined with ``\\n``), or a negative number naming
    a character a step inserted. ``brk`` is the origin of the line break that
    ends the line, so joins (a raw break deleted) and splits (a break
    inserted) are followed like any other character.
    """

    number: int
    text: str
    origin: list[int]
    brk: int


class _Tracer:
    """The page's current lines with their origins, and what happened to every raw character."""

    def __init__(self, lines: Sequence[tuple[int, str]]):
        self.raw: list[tuple[int, str, int]] = []  # (line number, text, offset of its first character)
        self.lines: list[_Line] = []
        offset = 0
        for number, text in lines:
            self.raw.append((number, text, offset))
            end = offset + len(text)
            self.lines.append(_Line(number, text, list(range(offset, end)), end))
            offset = end + 1
        self.size = offset  # every raw character plus one break per line
        self.breaks = {line.brk for line in self.lines}
        self.deleted: dict[int, str] = {}  # raw offset → rule
        self.inserted: list[tuple[str, str]] = []  # (character, rule); id k is origin -(k + 1)
        # What each insertion replaced: the raw offsets it stands for, and how many
        # of its characters are still there. When the last one goes, the raw text
        # it replaced is credited to the rule that removed it.
        self.replaced: list[list] = []  # [raw offsets, characters alive]
        self.replacement_of: dict[int, int] = {}  # insertion id → index into replaced
        self.rules: dict[str, None] = {}  # rule ids in the order they first acted
        self.unattributed = 0

    def _remove(self, origin: int, rule: str) -> list[int]:
        """Delete one character; return the raw offsets this removes from the output."""
        self.rules.setdefault(rule)
        if origin >= 0:
            self.deleted[origin] = rule
            return [origin]
        index = self.replacement_of.get(-origin - 1)
        if index is None:
            return []
        entry = self.replaced[index]
        entry[1] -= 1
        if entry[1]:
            return []
        for o in entry[0]:  # the last stand-in for this raw text is gone
            if o not in self.breaks:  # a join stays the join's, whatever became of its glue
                self.deleted[o] = rule
        return entry[0]

    def _change(self, removed: Iterable[tuple[int, str]], added: str, rule: str) -> list[int]:
        """Delete ``removed`` (origin, rule each) and insert ``added`` by ``rule``; the new origins."""
        freed = [o for origin, by in removed for o in self._remove(origin, by)]
        if not added:
            return []
        self.rules.setdefault(rule)
        first = len(self.inserted)
        self.inserted.extend((ch, rule) for ch in added)
        ids = range(first, len(self.inserted))
        if freed:
            self.replaced.append([freed, len(added)])
            for i in ids:
                self.replacement_of[i] = len(self.replaced) - 1
        return [-(i + 1) for i in ids]

    def _carry(self, old: str, origins: list[int], new: str,
               rule_at: Callable[[int], str]) -> list[int]:
        """The origins of ``new`` after diffing it against ``old``; changes are recorded.

        ``rule_at(k)`` names the rule for a change at character ``k`` of ``old``.
        """
        out: list[int] = []
        pos = 0
        for i1, i2, j1, j2 in diff_regions(old, new):
            out.extend(origins[pos:i1])
            removed = [(origins[k], rule_at(k)) for k in range(i1, i2)]
            out.extend(self._change(removed, new[j1:j2], rule_at(min(i1, len(old) - 1))))
            pos = i2
        out.extend(origins[pos:])
        return out

    def rewrite(self, line: _Line, new: str, rule: str) -> _Line:
        """``line`` with its text changed to ``new`` by ``rule``."""
        if new == line.text:
            return line
        origin = self._carry(line.text, line.origin, new, lambda _k: rule)
        return _Line(line.number, new, origin, line.brk)

    def drop(self, line: _Line, rule: str) -> None:
        """Delete ``line`` entirely, its break included."""
        self._change([(o, rule) for o in (*line.origin, line.brk)], "", rule)

    def apply(self, new_lines: Sequence[tuple[int, str]], label: Labeller) -> None:
        """Move to ``new_lines`` (numbers and texts), diffing group by group.

        Lines are grouped by line number: a new line numbered n faces the old
        lines from number n up to the next new number, which covers joins
        (several old lines become one), splits (one old line becomes several
        with its number) and dropped lines. ``label`` names the rule for each
        character of an old line (its break is column ``len(text)``).
        """
        new_state: list[_Line] = []
        for old, new in _changed_runs(_groups(self.lines, new_lines)):
            if new is None:
                new_state.extend(old)  # unchanged
            elif not old:
                new_state.extend(self._invent(new, "unattributed"))
            else:
                new_state.extend(self._regroup(old, new, label))
        self.lines = new_state

    def _regroup(self, old: list[_Line], new: Sequence[tuple[int, str]],
                 label: Labeller) -> list[_Line]:
        origins: list[int] = []
        rule_of_char: list[Callable[[int], str]] = []  # per character of the flat text
        cols: list[int] = []
        for line in old:
            origins.extend(line.origin)
            origins.append(line.brk)
            rule_at = label(line)
            rule_of_char.extend([rule_at] * (len(line.text) + 1))
            cols.extend(range(len(line.text) + 1))
        flat_old = "".join(line.text + "\n" for line in old)
        flat_new = "".join(text + "\n" for _, text in new)
        carried = self._carry(flat_old, origins, flat_new, lambda k: rule_of_char[k](cols[k]))
        lines, pos = [], 0
        for number, text in new:
            end = pos + len(text)
            lines.append(_Line(number, text, carried[pos:end], carried[end]))
            pos = end + 1
        return lines

    def _invent(self, new: Sequence[tuple[int, str]], rule: str) -> list[_Line]:
        lines = []
        for n, t in new:
            origin = self._change([], t + "\n", rule)
            lines.append(_Line(n, t, origin[:-1], origin[-1]))
        return lines

    def settle(self, target: Sequence[tuple[int, str]], stage: str) -> None:
        """Make sure the traced lines are the stage's real output; label any difference."""
        if [(line.number, line.text) for line in self.lines] != list(target):
            self.unattributed += 1
            self.apply(target, constant(f"{stage}.unattributed"))


Labeller = Callable[[_Line], Callable[[int], str]]


def constant(rule: str) -> Labeller:
    """A labeller that gives every character of every line to ``rule``."""
    return lambda _line: lambda _col: rule


def edit_labeller(edits: Iterable[Edit], default: Callable[[_Line], str],
                  from_end: bool = False) -> Labeller:
    """Label a step's changes with the edits it recorded, ``default(line)`` elsewhere.

    A dropped line takes the rule of its drop edit; a span edit's text is
    found in its line (the leftmost unused place, or the rightmost with
    ``from_end``) and those characters take the edit's rule.
    """
    drops: dict[tuple[int, str], str] = {}
    cuts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for e in edits:
        if e.action == "drop_line":
            drops.setdefault((e.line, e.text), e.rule)
        elif e.text:
            cuts[e.line].append((e.text, e.rule))

    def label(line: _Line) -> Callable[[int], str]:
        dropped = drops.get((line.number, line.text))
        if dropped:
            return lambda _col: dropped
        base = default(line)
        spots: dict[int, str] = {}
        pos = len(line.text) if from_end else 0
        for text, rule in (reversed(cuts.get(line.number, [])) if from_end
                           else cuts.get(line.number, [])):
            at = line.text.rfind(text, 0, pos) if from_end else line.text.find(text, pos)
            if at < 0:
                continue
            spots.update((c, rule) for c in range(at, at + len(text)))
            pos = at if from_end else at + len(text)
        return lambda col: spots.get(col, base)

    return label


def _changed_runs(groups: Iterable[tuple[list[_Line], Sequence[tuple[int, str]]]]
                  ) -> Iterator[tuple[list[_Line], Sequence[tuple[int, str]] | None]]:
    """Unchanged groups as they are (``new`` None); runs of changed groups merged into one.

    Text can move between neighbouring line numbers (a paragraph that a
    preview cut across two chunks), so changed groups are diffed together.
    """
    old_run: list[_Line] = []
    new_run: list[tuple[int, str]] = []
    for old, new in groups:
        if len(old) == len(new) and all(o.number == n and o.text == t for o, (n, t) in zip(old, new)):
            if old_run or new_run:
                yield old_run, new_run
                old_run, new_run = [], []
            yield old, None
        else:
            old_run.extend(old)
            new_run.extend(new)
    if old_run or new_run:
        yield old_run, new_run


def _groups(old: list[_Line], new: Sequence[tuple[int, str]]
            ) -> Iterator[tuple[list[_Line], Sequence[tuple[int, str]]]]:
    numbers_new = [n for n, _ in new]
    numbers_old = [line.number for line in old]
    if numbers_new != sorted(numbers_new) or numbers_old != sorted(numbers_old):
        yield old, new  # order changed: one group, still exact, just slower
        return
    i = 0
    if new:
        while i < len(old) and old[i].number < new[0][0]:
            i += 1
        if i:
            yield old[:i], []
    j = 0
    while j < len(new):
        number = new[j][0]
        j2 = j
        while j2 < len(new) and new[j2][0] == number:
            j2 += 1
        upto = new[j2][0] if j2 < len(new) else None
        i2 = i
        while i2 < len(old) and (upto is None or old[i2].number < upto):
            i2 += 1
        yield old[i:i2], new[j:j2]
        i, j = i2, j2
    if not new and old:
        yield old, []


# ---------------------------------------------------------------------------
# Tracing the stages
# ---------------------------------------------------------------------------


def repair_steps() -> tuple[Step, ...]:
    """The layout repair steps, ``(rule id, step)``, or none when there is no repair stage."""
    if importlib.util.find_spec("cleaner.repair") is None:
        return ()
    return tuple(getattr(importlib.import_module("cleaner.repair"), "STEPS", ()))


def _copy(page: Page) -> Page:
    return replace(page, lines=list(page.lines), edits=list(page.edits), counts=dict(page.counts),
                   stages=list(page.stages))


def _trace_strip(tracer: _Tracer, page: Page, ruleset: RuleSet,
                 templates: Templates | None = None) -> None:
    first = len(page.edits)
    strip_page(page, ruleset)
    if templates is not None:
        strip_templates(page, templates)  # whole lines only, under template.<id>
    by_line: dict[int, list[Edit]] = defaultdict(list)
    for edit in page.edits[first:]:
        by_line[edit.line].append(edit)
    rules = {rule.id: rule for rule in ruleset.rules}
    kept_numbers = {n for n, _ in page.lines}
    state: list[_Line] = []
    for line in tracer.lines:
        edits = by_line.get(line.number)
        if not edits:
            state.append(line)
            continue
        last = None
        # Span rules ran in rule order, each on what the previous left: replay their rewrites.
        for rule_id in dict.fromkeys(e.rule for e in edits if e.action != "drop_line"):
            if rule_id in rules:
                text, _ = rules[rule_id].rewrite(line.text)
                line, last = tracer.rewrite(line, text, rule_id), rule_id
        drop = next((e.rule for e in edits if e.action == "drop_line"), None)
        if drop is None and not line.text.strip() and line.number not in kept_numbers:
            drop = last  # nothing but spaces left after the cuts: strip drops the line
        if drop is None:
            state.append(line)
        else:
            tracer.drop(line, drop)
    tracer.lines = state
    tracer.settle(page.lines, "strip")


def _trace_steps(tracer: _Tracer, page: Page, steps: Iterable[Step]) -> Page:
    """Run ``steps`` on ``page`` one by one, labelling each one's changes with its rule id
    (or, where the step recorded an edit, the edit's rule)."""
    for rule_id, step in steps:
        first = len(page.edits)
        page = step(page)
        tracer.apply(page.lines, edit_labeller(page.edits[first:], lambda _line, r=rule_id: r))
    return page


def _trace_repair(tracer: _Tracer, page: Page, steps: Iterable[Step] | None) -> Page:
    run = getattr(pipeline, "repair", None)
    if steps is not None or run is None:
        page = _trace_steps(tracer, page, repair_steps() if steps is None else steps)
        page.stages.append("repair")  # done: normalize must not repair again
        return page
    # The steps run on a copy to attribute; the pipeline's own call gives the result.
    _trace_steps(tracer, _copy(page), repair_steps())
    page = run(page)
    tracer.settle(page.lines, "repair")
    return page


def _trace_normalize(tracer: _Tracer, page: Page) -> Page:
    page = normalize(page)
    if len(page.lines) == len(tracer.lines):
        state = []
        for line, (number, target) in zip(tracer.lines, page.lines):
            if line.text != target and line.number == number:
                line = _replay_fixers(tracer, line)
            state.append(line)
        tracer.lines = state
    tracer.settle(page.lines, "normalize")
    return page


def _replay_fixers(tracer: _Tracer, line: _Line) -> _Line:
    """Run the normalize fixers one at a time, in the order and rounds normalize_line uses."""
    for _ in range(10):
        before = line.text
        for rule_id, fixer in FIXERS:
            text, _n = fixer(line.text)
            line = tracer.rewrite(line, text, rule_id)
        if line.text == before:
            break
    return line


def speech_lines(before: Sequence[tuple[int, str]], speeches: Sequence[Speech],
                 edits: Sequence[Edit]) -> list[tuple[int, str]] | None:
    """The lines a split page keeps (each speech's title, subtitles, paragraphs), numbered.

    Split keeps lines in order; it drops some and shortens titles. So the
    output is matched, in order, against the lines it came from, once the
    lines split recorded as dropped are taken out. None when they do not match.

    >>> before = [(1, "第一篇：标题"), (2, "同志们："), (3, ""), (4, "正文。")]
    >>> speech_lines(before, [Speech(1, "标题", ["同志们：", "正文。"], 1)], [])
    [(1, '标题'), (2, '同志们：'), (4, '正文。')]
    """
    removed = Counter((e.line, e.text) for e in edits if e.action == "drop_line")
    pool = []
    for number, text in before:
        if not text.strip():
            continue
        if removed[(number, text)]:
            removed[(number, text)] -= 1
            continue
        pool.append((number, text))
    out: list[tuple[int, str]] = []
    k = 0
    for speech in speeches:
        heads = ([speech.title] if speech.title is not None else []) + _subtitles(speech)
        wanted = [(t, True) for t in heads] + [(p, False) for p in speech.paragraphs]
        for text, shortened in wanted:
            while k < len(pool) and not (pool[k][1] == text or (shortened and text in pool[k][1])):
                k += 1
            if k == len(pool):
                return None
            out.append((pool[k][0], text))
            k += 1
    return out


def _subtitles(speech: Speech) -> list[str]:
    return list(getattr(speech, "subtitles", None) or [])


def _split_default(line: _Line) -> str:
    """What split removed without recording it: a blank line or a piece marker."""
    if not line.text.strip():
        return "split.blank-line"
    return "split.piece-marker" if piece_marker(line.text) is not None else "split.unrecorded"


def _trace_split(tracer: _Tracer, page: Page) -> Page:
    before = list(page.lines)
    first = len(page.edits)
    page = split(page)
    edits = page.edits[first:]
    target = speech_lines(before, page.speeches or [], edits)
    if target is None:
        tracer.unattributed += 1
        number = before[0][0] if before else 1
        tracer.apply([(number, t) for t in output_lines(page)], constant("split.unattributed"))
    else:
        tracer.apply(target, edit_labeller(edits, _split_default, from_end=True))
    return page


def output_lines(page: Page) -> list[str]:
    """The text a split page keeps: each speech's title (if any), subtitles and paragraphs."""
    out: list[str] = []
    for speech in page.speeches or []:
        if speech.title is not None:
            out.append(speech.title)
        out.extend(_subtitles(speech))
        out.extend(speech.paragraphs)
    return out


# ---------------------------------------------------------------------------
# The trace
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of one raw line: kept (``rule`` None), or deleted, inserted or replaced by ``rule``.

    ``old`` is the raw text of the run, ``new`` what the output has instead.
    """

    old: str
    new: str
    rule: str | None = None

    @property
    def kind(self) -> str:
        if self.rule is None:
            return "keep"
        if not self.new:
            return "delete"
        return "insert" if not self.old else "replace"


@dataclass
class LineTrace:
    """One line of the decoded raw file and what became of it.

    ``eol`` is the rule that removed the break at the end of the line (a join
    when text of the line survives), or None when the break was kept.
    """

    number: int
    text: str
    pieces: list[Piece]
    eol: str | None = None

    @property
    def gone(self) -> bool:
        """True when the line had text and none of it survives."""
        return bool(self.text) and all(not p.new for p in self.pieces)

    @property
    def changed(self) -> bool:
        return any(p.rule for p in self.pieces) or (self.eol is not None and self.survives)

    @property
    def survives(self) -> bool:
        return any(p.new for p in self.pieces)

    def output(self) -> str:
        """What this line contributes to the output, break included."""
        return "".join(p.new for p in self.pieces) + ("" if self.eol else "\n")


@dataclass
class Trace:
    source: str
    encoding: str
    decided_by: str
    repaired: str
    lines: list[LineTrace]
    output: list[str]  # the pipeline's output lines for the file
    decode_counts: dict[str, int]
    rule_order: list[str]
    unattributed: int = 0
    reordered: int = 0


def _line_traces(tracer: _Tracer) -> tuple[list[LineTrace], int]:
    """Read the final lines back in raw order: what each raw line kept, lost and gained.

    Inserted characters go between the kept raw characters around them in
    the output; see :func:`_place` for where exactly.
    """
    kept = bytearray(tracer.size)
    inserts: dict[int, list[tuple[str, str]]] = defaultdict(list)  # raw offset → inserted before it
    pending: list[tuple[str, str]] = []
    prev, reordered = -1, 0
    for line in tracer.lines:
        for o in (*line.origin, line.brk):
            if o < 0:
                pending.append(tracer.inserted[-o - 1])
                continue
            reordered += o < prev
            kept[o] = 1
            if pending:
                _place(pending, prev + 1, o, tracer.deleted, inserts)
                pending = []
            prev = o
    if pending:  # inserted after the last kept character: right after it
        _place(pending, prev + 1, min(prev + 1, tracer.size - 1), tracer.deleted, inserts)
    traces = []
    for number, text, start in tracer.raw:
        pieces: list[Piece] = []
        keep: list[str] = []
        added: list[tuple[str, str]] = []
        lost: list[tuple[str, str]] = []
        for col, ch in enumerate(text):
            o = start + col
            added.extend(inserts.get(o, ()))
            if not kept[o]:
                lost.append((ch, tracer.deleted.get(o, "unattributed")))
                continue
            if added or lost:
                pieces.append(Piece("".join(keep), "".join(keep)))
                pieces.extend(change_pieces(added, lost))
                keep, added, lost = [], [], []
            keep.append(ch)
        end = start + len(text)
        added.extend(inserts.get(end, ()))
        if keep:
            pieces.append(Piece("".join(keep), "".join(keep)))
        pieces.extend(change_pieces(added, lost))
        eol = None if kept[end] else tracer.deleted.get(end, "unattributed")
        traces.append(LineTrace(number, text, [p for p in pieces if p.old or p.new], eol))
    return traces, reordered


def _place(added: list[tuple[str, str]], gap: int, after: int, deleted: dict[int, str],
           inserts: dict[int, list[tuple[str, str]]]) -> None:
    """Put inserted characters before a raw offset in ``gap..after`` (all deleted but ``after``).

    Each rule's insertion goes in front of the first character its rule
    deleted there, so ``;`` and its ``；`` stay together even when a join or a
    dropped blank line lies between the kept characters; otherwise in front
    of ``after``. Placements never go backwards, so the output order holds.
    """
    at = gap
    for text, rule in _runs(added):
        spot = next((x for x in range(at, after) if deleted.get(x) == rule), after)
        inserts[spot].extend((ch, rule) for ch in text)
        at = spot


def _runs(chars: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive characters of one rule as one run: ``(text, rule)``."""
    runs: list[tuple[str, str]] = []
    for ch, rule in chars:
        if runs and runs[-1][1] == rule:
            runs[-1] = (runs[-1][0] + ch, rule)
        else:
            runs.append((ch, rule))
    return runs


def change_pieces(added: list[tuple[str, str]], lost: list[tuple[str, str]]) -> list[Piece]:
    """The pieces for what was inserted and deleted between two kept characters.

    A deletion and an insertion by the same rule make one replacement. The
    inserted text keeps its order (it is output); deleted runs keep theirs.

    >>> change_pieces([("：", "n.width"), ("\\n", "r.split")], [(":", "n.width"), (" ", "r.split")])
    [Piece(old=':', new='：', rule='n.width'), Piece(old=' ', new='\\n', rule='r.split')]
    >>> change_pieces([], [("1", "r.marker"), ("、", "r.marker")])
    [Piece(old='1、', new='', rule='r.marker')]
    """
    ins = _runs(added)
    pieces: list[Piece] = []
    k = 0  # insertions before k are placed
    for old, rule in _runs(lost):
        match = next((m for m in range(k, len(ins)) if ins[m][1] == rule), None)
        if match is None:
            pieces.append(Piece(old, "", rule))
            continue
        pieces.extend(Piece("", new, r) for new, r in ins[k:match])
        pieces.append(Piece(old, ins[match][0], rule))
        k = match + 1
    pieces.extend(Piece("", new, r) for new, r in ins[k:])
    return pieces


def trace_page(page: Page, ruleset: RuleSet, steps: Iterable[Step] | None = None,
               templates: Templates | None = None) -> Trace:
    """Run the per-file stages on a decoded ``page`` and trace every change.

    ``steps`` replace the repair stage (for trying out steps); by default the
    pipeline's own repair runs, attributed with ``cleaner.repair.STEPS``.
    ``templates`` are site templates learned from a corpus (one file alone
    teaches none), stripped after the rules as ``cleaner run`` does.
    """
    tracer = _Tracer(page.lines)
    decode_counts = {k: v for k, v in page.counts.items() if k.startswith("decode.")}
    if page.error is None:
        _trace_strip(tracer, page, ruleset, templates)
        page = _trace_repair(tracer, page, steps)
        page = _trace_normalize(tracer, page)
        page = _trace_split(tracer, page)
    lines, reordered = _line_traces(tracer)
    return Trace(page.source, page.encoding, page.decided_by, page.repaired, lines,
                 output_lines(page), decode_counts, list(tracer.rules), tracer.unattributed,
                 reordered)


def reconstruct(trace: Trace) -> list[str]:
    """The output lines rebuilt from the trace alone: what was kept, plus what was put in.

    For a faithful trace this equals :attr:`Trace.output`.
    """
    text = "".join(line.output() for line in trace.lines)
    return text.split("\n")[:-1] if text else []


# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------


@dataclass
class Tally:
    """What one rule did to the file: whole lines dropped, spans changed, characters out and in."""

    rule: str
    lines: int = 0
    spans: int = 0
    removed: int = 0
    added: int = 0


def tally(trace: Trace) -> list[Tally]:
    """Per-rule counts, in the order the rules first acted; rules that did nothing visible are left out.

    A line whose text is all gone counts as one line for the rule that removed
    most of it. Line breaks are not counted as characters.
    """
    found = {rule: Tally(rule) for rule in trace.rule_order}

    def get(rule: str) -> Tally:
        return found.setdefault(rule, Tally(rule))

    for line in trace.lines:
        owner = None
        if line.gone:
            share = Counter()
            for p in line.pieces:
                share[p.rule] += len(p.old)
            owner = max(share, key=lambda r: (share[r], r))
            get(owner).lines += 1
        for p in line.pieces:
            if p.rule is None:
                continue
            t = get(p.rule)
            t.removed += len(p.old)
            t.added += len(p.new.replace("\n", ""))
            if p.rule != owner:
                t.spans += 1
        if line.eol and line.survives:
            get(line.eol).spans += 1
    return [t for t in found.values() if t.lines or t.spans or t.removed or t.added]


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

_RED_STRIKE = "\x1b[31;9m"
_RED = "\x1b[31m"
_YELLOW = "\x1b[33m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"


def _visible(text: str) -> str:
    return text.replace("\n", "⏎")


def render_piece(piece: Piece, color: bool = False) -> str:
    """One piece of a line, marked up.

    Plain: ``[-deleted-]{rule}``, ``[+inserted+]{rule}``, ``[old→new]{rule}``.
    Colour: deleted text red and struck through, new text yellow, rule ids dim.

    >>> render_piece(Piece(",", "，", "normalize.punct-width"))
    '[,→，]{normalize.punct-width}'
    >>> render_piece(Piece("  ", "", "normalize.indent"))
    '[-  -]{normalize.indent}'
    >>> render_piece(Piece("", "\\n", "repair.split"))
    '[+⏎+]{repair.split}'
    >>> render_piece(Piece("同志们", "同志们"))
    '同志们'
    >>> render_piece(Piece("x", "", "a.b"), color=True)
    '\\x1b[31;9mx\\x1b[0m\\x1b[2m{a.b}\\x1b[0m'
    """
    if piece.rule is None:
        return piece.old
    old, new = _visible(piece.old), _visible(piece.new)
    kind = piece.kind
    if not color:
        body = {"delete": f"[-{old}-]", "insert": f"[+{new}+]", "replace": f"[{old}→{new}]"}[kind]
        return f"{body}{{{piece.rule}}}"
    body = {"delete": f"{_RED_STRIKE}{old}{_RESET}",
            "insert": f"{_YELLOW}+{new}{_RESET}",
            "replace": f"{_YELLOW}{old}→{new}{_RESET}"}[kind]
    return f"{body}{_DIM}{{{piece.rule}}}{_RESET}"


def render_line(line: LineTrace, width: int, color: bool = False) -> str:
    """One raw line with its number, a margin flag and its marked-up pieces.

    The flag is ``-`` when none of the line's text survives, ``~`` when it
    changed, a space otherwise. A line removed by one rule shows that rule
    first, then its text. A removed line break (a join) shows as
    ``[-⏎-]{rule}`` at the end.

    >>> render_line(LineTrace(3, "上传人:新**", [Piece("上传人:新**", "", "share.upload-banner")]), 4)
    '   3 - {share.upload-banner} 上传人:新**'
    >>> render_line(LineTrace(7, "甲乙", [Piece("甲乙", "甲乙")], "repair.join"), 4)
    '   7 ~ 甲乙[-⏎-]{repair.join}'
    """
    if line.gone and len({p.rule for p in line.pieces}) == 1:
        rule = line.pieces[0].rule
        if color:
            return (f"{line.number:>{width}} {_RED}-{_RESET} {_DIM}{{{rule}}}{_RESET} "
                    f"{_RED_STRIKE}{line.text}{_RESET}")
        return f"{line.number:>{width}} - {{{rule}}} {line.text}"
    flag = "-" if line.gone else "~" if line.changed else " "
    body = "".join(render_piece(p, color) for p in line.pieces)
    if line.eol and line.survives:
        body += render_piece(Piece("\n", "", line.eol), color)
    if color and flag == "-":
        flag = f"{_RED}-{_RESET}"
    return f"{line.number:>{width}} {flag} {body}".rstrip()


def render(trace: Trace, color: bool = False, only_changed: bool = False,
           context: int = 0) -> Iterator[str]:
    """The whole explanation: a header, the raw lines marked up, a per-rule summary.

    With ``only_changed``, only changed lines and ``context`` lines around them
    are printed; ``--`` separates runs that are not adjacent.
    """
    yield f"== {trace.source}: {_decoding(trace)}, {len(trace.lines)} lines"
    width = max(4, len(str(trace.lines[-1].number))) if trace.lines else 4
    show = _shown(trace.lines, only_changed, context)
    last = None
    for k, line in enumerate(trace.lines):
        if not show[k]:
            continue
        if only_changed and last is not None and k != last + 1:
            yield "--"
        yield render_line(line, width, color)
        last = k
    yield from render_summary(trace)


def _decoding(trace: Trace) -> str:
    text = trace.encoding or "unknown encoding"
    if trace.decided_by:
        text += f" ({trace.decided_by})"
    if trace.repaired:
        text += f", mojibake repaired ({trace.repaired})"
    return text


def _shown(lines: list[LineTrace], only_changed: bool, context: int) -> list[bool]:
    if not only_changed:
        return [True] * len(lines)
    show = [False] * len(lines)
    for k, line in enumerate(lines):
        if line.changed:
            for m in range(max(0, k - context), min(len(lines), k + context + 1)):
                show[m] = True
    return show


def render_summary(trace: Trace) -> Iterator[str]:
    tallies = tally(trace)
    yield "== summary"
    width = max([len("rule")] + [len(t.rule) for t in tallies])
    yield f"{'rule':<{width}}  {'lines':>6}  {'spans':>6}  {'removed':>8}  {'added':>6}"
    for t in tallies:
        yield f"{t.rule:<{width}}  {t.lines:>6}  {t.spans:>6}  {t.removed:>8}  {t.added:>6}"
    if not tallies:
        yield "(nothing removed or changed)"
    if trace.decode_counts:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(trace.decode_counts.items()))
        yield f"decoding, before lines existed (counts only): {counts}"
    kept = sum(len(line) for line in trace.output)
    raw = sum(len(line.text) for line in trace.lines)
    yield f"{raw} characters in, {kept} out, {len(trace.output)} output lines"
    if trace.unattributed:
        yield f"warning: {trace.unattributed} stage(s) changed text that could not be attributed"
    if trace.reordered:
        yield f"warning: {trace.reordered} characters moved out of raw order"
