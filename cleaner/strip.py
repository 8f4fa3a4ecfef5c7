"""Strip scraper boilerplate from a page's lines, recording every removal.

Rules come from :mod:`cleaner.rules`. A ``drop_line`` rule removes the whole
line; ``delete_span`` and ``replace`` rules cut or rewrite the matched spans
and leave the rest of the line. Each removal becomes an :class:`Edit` naming
the rule, so ``removed.jsonl`` and the per-rule counts come from one record.

Two kinds of context narrow a rule beyond its own line: ``requires`` names a
check on the page's lines (:data:`CHECKS`), and ``follows`` keeps a rule to
the run of dropped lines right under a line that one of the named rules
dropped (the items of a "相关文章" list under its heading).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .model import Edit, Page
from .rules import Rule, RuleSet, fold
from .split import is_salutation, is_subtitle, piece_marker

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


_SENTENCE_END = tuple("。！？；…!?;")
_CLAUSE = re.compile(r"[，。；,;]")
SENTENCE_MIN_CHARS = 20


def _is_sentence(text: str) -> bool:
    """A line of running text: it ends a sentence, or it is long and has clauses."""
    return text.endswith(_SENTENCE_END) or (len(text) >= SENTENCE_MIN_CHARS and bool(_CLAUSE.search(text)))


def _next_nonempty(texts: list[str], j: int) -> int:
    while j < len(texts) and not texts[j].strip():
        j += 1
    return j


def not_speech_start(texts: list[str], i: int) -> bool:
    """True unless line ``i`` opens a speech: a salutation, a piece marker or a
    subtitle, or a title line over the text that follows it.

    A title is recognised by what comes next (past a repeat of the title and
    its subtitle lines): a salutation, or a sentence. A list of related titles
    is followed by more titles, a footer or nothing.

    >>> page = ["相关文章", "县长在全县教育工作会议上的讲话", "局长在开学工作会上的讲话", "同志们：", "今天开会。"]
    >>> [not_speech_start(page, i) for i in (1, 2, 3)]
    [True, False, False]
    >>> not_speech_start(["看过本文的人还看了：", "教育局长讲话内容篇三", "正文。"], 1)
    False
    >>> not_speech_start(["热门推荐", "局长在开学工作会上的讲话", "——在全县开学工作会议上", "各位校长："], 1)
    False
    >>> not_speech_start(["热门推荐", "局长在开学工作会上的讲话", "手机版|关于我们|联系我们"], 1)
    True
    """
    line = texts[i].strip()
    if is_salutation(line) or piece_marker(line) is not None or is_subtitle(line):
        return False
    j = _next_nonempty(texts, i + 1)
    if j < len(texts) and _SPACES.sub("", texts[j]) == _SPACES.sub("", line):
        j = _next_nonempty(texts, j + 1)
    while j < len(texts) and is_subtitle(texts[j].strip()):
        j = _next_nonempty(texts, j + 1)
    if j >= len(texts):
        return True
    following = texts[j].strip()
    return not (is_salutation(following) or _is_sentence(following))


CHECKS: dict[str, Callable[[list[str], int], bool]] = {
    "echoes_following": echoes_following,
    "not_speech_start": not_speech_start,
}


def _in_scope(rule: Rule, from_top: int, from_bottom: int, size: int) -> bool:
    """Whether a line (its rank among the non-empty lines from each end, and the
    length of its text without surrounding whitespace) is where ``rule`` applies."""
    if rule.max_chars is not None and size > rule.max_chars:
        return False
    if rule.where == "head":
        return from_top < rule.within
    if rule.where == "tail":
        return from_bottom < rule.within
    return True


def strip_boilerplate(page: Page, ruleset: RuleSet) -> Page:
    """Apply every rule to every line of ``page`` (in place) and return it.

    Rules run in file order, then in order within a file; the first drop-line
    rule that matches ends the line's turn. Patterns see each line without its
    surrounding whitespace, in the folded view each rule asks for.
    """
    texts = [text for _, text in page.lines]
    last = sum(1 for text in texts if text.strip()) - 1  # the rank of the last non-empty line
    from_top = -1
    # The rules that dropped the lines of the current run: the non-blank dropped
    # lines right above line i. A blank line or a line no rule dropped ends it.
    # A ``follows`` rule drops a line only inside a run that one of its rules
    # is in (a list right under its heading), checked without walking back.
    run: set[str] = set()
    kept: list[tuple[int, str]] = []
    for i, (lineno, text) in enumerate(page.lines):
        if not text.strip():
            kept.append((lineno, text))
            run.clear()
            continue
        from_top += 1
        dropped: str | None = None  # the rule that drops this line
        core = text.strip()  # what patterns see (before folding)
        views: dict[str, str] = {}  # per fold mode, made again only after a span rule cuts
        present: dict[str, frozenset[str]] = {}  # the characters of each view
        for rule in ruleset.rules:
            if not _in_scope(rule, from_top, last - from_top, len(core)):
                continue
            view = views.get(rule.fold)
            if view is None:
                view = views[rule.fold] = rule.view(core)
                present[rule.fold] = frozenset(view)
            required = rule.required
            if required is not None and required.isdisjoint(present[rule.fold]):
                continue  # the line lacks every character the pattern needs
            if not rule.pattern.search(view):
                continue
            if rule.action == "drop_line":
                if ((rule.requires is None or CHECKS[rule.requires](texts, i))
                        and (not rule.follows or not run.isdisjoint(rule.follows))):
                    page.record(Edit("strip", rule.id, lineno, "drop_line", text))
                    dropped = rule.id
                    break
                continue
            text, cut = rule.rewrite(text)
            for piece in cut:
                page.record(Edit("strip", rule.id, lineno, rule.action, piece))
            core = text.strip()
            views, present = {}, {}
        if dropped is None:
            run.clear()
            if text.strip():
                kept.append((lineno, text))
        else:
            run.add(dropped)
    page.lines = kept
    page.stages.append("strip")
    return page
