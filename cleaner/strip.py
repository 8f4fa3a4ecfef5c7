"""Strip scraper boilerplate from a page's lines, recording every removal.

Rules come from :mod:`cleaner.rules`. A ``drop_line`` rule removes the whole
line; ``delete_span`` and ``replace`` rules cut or rewrite the matched spans
and leave the rest of the line. Each removal becomes an :class:`Edit` naming
the rule, so ``removed.jsonl`` and the per-rule counts come from one record.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .model import Edit, Page
from .rules import Rule, RuleSet, fold

_ELLIPSIS_TAIL = re.compile(r"(?:\.{2,}|…+|。{3,})\s*$")
_SPACES = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    return _SPACES.sub("", fold(text))


def echoes_following(texts: list[str], i: int) -> bool:
    """True when line ``i`` is a cut-off preview of the lines that follow it.

    Essay sites print the start of the page again as one line ending in an
    ellipsis (the text of the page's meta description). Whitespace is ignored.

    >>> page = ["下面是整理的范文。讲话稿篇一同...", "下面是整理的范文。", "讲话稿篇一", "同志们："]
    >>> echoes_following(page, 0)
    True
    >>> echoes_following(["这是另外一段完全不同的话...", "下面是整理的范文。", "讲话稿"], 0)
    False
    """
    head = _squeeze(_ELLIPSIS_TAIL.sub("", texts[i]))
    if len(head) < 10:
        return False
    following = []
    size = 0
    for text in texts[i + 1:]:
        piece = _squeeze(text)
        following.append(piece)
        size += len(piece)
        if size >= len(head):
            break
    return "".join(following).startswith(head)


CHECKS: dict[str, Callable[[list[str], int], bool]] = {
    "echoes_following": echoes_following,
}


def _in_scope(rule: Rule, rank_top: int, rank_bottom: int) -> bool:
    if rule.where == "head":
        return rank_top < rule.within
    if rule.where == "tail":
        return rank_bottom < rule.within
    return True


def strip_boilerplate(page: Page, ruleset: RuleSet) -> Page:
    """Apply every rule to every line of ``page`` (in place) and return it.

    Rules run in file order, then in order within a file; the first drop-line
    rule that matches ends the line's turn.
    """
    texts = [text for _, text in page.lines]
    nonempty = [i for i, text in enumerate(texts) if text.strip()]
    rank_top = {i: r for r, i in enumerate(nonempty)}
    rank_bottom = {i: len(nonempty) - 1 - r for r, i in enumerate(nonempty)}
    kept: list[tuple[int, str]] = []
    for i, (lineno, text) in enumerate(page.lines):
        if i not in rank_top:
            kept.append((lineno, text))
            continue
        dropped = False
        folded = fold(text)  # folded once per line, again only after a span rule cuts
        for rule in ruleset.rules:
            if not (_in_scope(rule, rank_top[i], rank_bottom[i])
                    and rule.applies_to_length(text) and rule.pattern.search(folded)):
                continue
            if rule.action == "drop_line":
                if rule.requires is None or CHECKS[rule.requires](texts, i):
                    page.record(Edit("strip", rule.id, lineno, "drop_line", text))
                    dropped = True
                    break
                continue
            text, cut = rule.rewrite(text)
            for piece in cut:
                page.record(Edit("strip", rule.id, lineno, rule.action, piece))
            folded = fold(text)
        if not dropped and text.strip():
            kept.append((lineno, text))
    page.lines = kept
    page.stages.append("strip")
    return page
