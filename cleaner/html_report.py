"""``report.html``: the near-duplicates of a corpus on one page, for people to judge.

People judge a duplicate by looking at it, so the page shows every cluster
with its members side by side (the original first), the characters each copy
changes against the original highlighted, where each member comes from, and
its similarity. Near-duplicate speeches and short repeated lines have their
own tables. A filter box narrows everything to what matches typed text.

The page is one file: CSS and the small filter script are inline and nothing
is fetched, so it opens from disk (``file://``) and can be mailed. Without
script everything is visible; the filter box only appears when script runs.

:func:`render_html` is a pure function of the dedup result and the speeches'
metadata: the same input gives the same bytes (no timestamps, stable order).
Big corpora stay usable (see :class:`PageLimits`): the page holds the
largest clusters up to a number of clusters and a page weight, at most so
many members each. A character diff costs time quadratic in the length, so
long texts are lined up clause by clause first, and a copy that would still
be slow to compare is shown without highlighting. The page says what it
left out and where to find it (``duplicates.jsonl`` has every cluster).
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import quote

from .dedup import Cluster, DedupResult, Member, ShortGroup, SpeechDuplicate

__all__ = [
    "CHAR_DIFF_CHARS",
    "MEMBER_WEIGHT",
    "STRETCH_DIFF_CHARS",
    "PageLimits",
    "SpeechInfo",
    "clusters_to_show",
    "diff_segments",
    "render_diff",
    "render_html",
    "speech_infos",
]

# A doc file holds the title line and a blank line before paragraph 0.
DOC_LINE_OFFSET = 3
# What a member weighs on the page besides its text: its frame, badges and
# where it comes from, in characters of HTML (about).
MEMBER_WEIGHT = 300


@dataclass(frozen=True)
class PageLimits:
    """How much of a big result the page shows; the page says what it leaves out.

    The defaults keep the page under about 20 MB and its rendering within
    seconds, whatever the corpus.
    """

    clusters: int = 2000  # clusters shown, largest first
    members: int = 50  # members shown per cluster (and places per short line)
    rows: int = 5000  # rows of the near-duplicate speech and short line tables
    # Clusters stop once their members weigh this much: characters of text
    # plus MEMBER_WEIGHT each. The first cluster is always shown.
    page_chars: int = 6_000_000
    # A copy is highlighted only when it and its original are at most this
    # long (see CHAR_DIFF_CHARS for what a diff costs).
    diff_chars: int = 20000

    def __post_init__(self) -> None:
        for name in ("clusters", "members", "rows", "page_chars", "diff_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"PageLimits.{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class SpeechInfo:
    """Where a speech comes from, as the page shows it."""

    source: str  # the raw file, relative to the raw folder
    title: str | None  # the speech title, or None
    doc: str  # the speech's readable copy, relative to the output folder (docs/...txt)


def speech_infos(records: Iterable[Mapping]) -> dict[str, SpeechInfo]:
    """:class:`SpeechInfo` per speech id, from ``corpus.jsonl`` records.

    >>> speech_infos([{"id": "a#1", "source": "a.txt", "title": None, "doc": "docs/a.1.txt"}])
    {'a#1': SpeechInfo(source='a.txt', title=None, doc='docs/a.1.txt')}
    """
    return {r["id"]: SpeechInfo(r["source"], r.get("title"), r["doc"]) for r in records}


# ---------------------------------------------------------------------------
# Character differences
# ---------------------------------------------------------------------------

# SequenceMatcher on characters is quadratic: about 0.2 ms for two texts of
# 250 characters, 2 ms at 1,000, 9 ms at 2,000. Texts longer than
# CHAR_DIFF_CHARS (both together) are first lined up clause by clause, which
# is nearly linear for near-duplicates, and only the changed stretches are
# compared character by character; a changed stretch longer than
# STRETCH_DIFF_CHARS is not compared at all.
CHAR_DIFF_CHARS = 500
STRETCH_DIFF_CHARS = 2000
_CLAUSE_END = re.compile(r"(?<=[。！？；，、：!?;,:\n])")


def _clauses(text: str) -> list[str]:
    """The text cut after each clause mark, nothing lost.

    >>> _clauses("同志们：今天开会,好。")
    ['同志们：', '今天开会,', '好。']
    """
    return [c for c in _CLAUSE_END.split(text) if c]


def _char_segments(a: str, b: str) -> list[tuple[str, str]]:
    """Character by character; an empty side gives one delete and one insert."""
    segments = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(("equal", a[i1:i2]))
            continue
        segments += [("delete", a[i1:i2]), ("insert", b[j1:j2])]
    return segments


def _changed(a: str, b: str) -> list[tuple[str, str]] | None:
    """Segments for two texts, or None when a changed stretch is too long to compare."""
    if not (a and b) or len(a) + len(b) <= CHAR_DIFF_CHARS:
        return _char_segments(a, b)
    ca, cb = _clauses(a), _clauses(b)
    # Clauses are matched with their width folded, so that a copy that only
    # swaps ， for , still lines up; the characters are then compared.
    fa = [unicodedata.normalize("NFKC", c) for c in ca]
    fb = [unicodedata.normalize("NFKC", c) for c in cb]
    segments: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, fa, fb, autojunk=False).get_opcodes():
        if tag == "equal":
            for x, y in zip(ca[i1:i2], cb[j1:j2]):
                segments += [("equal", x)] if x == y else _char_segments(x, y)
            continue
        x, y = "".join(ca[i1:i2]), "".join(cb[j1:j2])
        if x and y and len(x) + len(y) > STRETCH_DIFF_CHARS:
            return None
        segments += _char_segments(x, y)
    return segments


def diff_segments(original: str, copy: str) -> list[tuple[str, str]] | None:
    """The copy against the original as ``(kind, text)`` segments, in order.

    ``kind`` is ``equal`` (in both), ``delete`` (in the original only) or
    ``insert`` (in the copy only); a changed span is a delete then an insert.
    Characters are compared one by one, with no junk heuristic (difflib's
    ``autojunk`` would ignore the commonest characters, such as 的 and ，).
    Long texts are lined up clause by clause first; None when they differ
    over a stretch longer than ``STRETCH_DIFF_CHARS``, which would be too
    slow to compare (a long run without punctuation, or a rewrite).

    >>> diff_segments("召开全县教育工作会议", "召开全市教育会议")
    [('equal', '召开全'), ('delete', '县'), ('insert', '市'), ('equal', '教育'), ('delete', '工作'), ('equal', '会议')]
    >>> diff_segments("同志们：", "同志们:")
    [('equal', '同志们'), ('delete', '：'), ('insert', ':')]
    >>> diff_segments("abc", "abc")
    [('equal', 'abc')]
    >>> diff_segments("甲" * 3000, "乙" * 3000) is None
    True
    """
    # A shared start and end cost nothing to find and are most of a near
    # duplicate; only the middle needs SequenceMatcher.
    limit = min(len(original), len(copy))
    head = 0
    while head < limit and original[head] == copy[head]:
        head += 1
    tail = 0
    while tail < limit - head and original[-1 - tail] == copy[-1 - tail]:
        tail += 1
    middle = _changed(original[head:len(original) - tail], copy[head:len(copy) - tail])
    if middle is None:
        return None
    segments: list[tuple[str, str]] = []
    for kind, text in [("equal", original[:head]), *middle, ("equal", original[len(original) - tail:])]:
        if not text:
            continue
        if segments and segments[-1][0] == kind:  # join neighbours of a kind
            segments[-1] = (kind, segments[-1][1] + text)
        else:
            segments.append((kind, text))
    return segments


def render_diff(original: str, copy: str) -> str | None:
    """The copy as HTML, with what differs from the original marked.

    Text only in the copy is in ``<ins>``; text of the original that the copy
    lacks is in ``<del>`` at the place it would be. Everything is escaped.
    None when :func:`diff_segments` cannot compare the two.

    >>> render_diff("召开<全县>会议", "召开<全市>会议")
    '召开&lt;全<del>县</del><ins>市</ins>&gt;会议'
    """
    segments = diff_segments(original, copy)
    if segments is None:
        return None
    parts = []
    for kind, text in segments:
        text = html.escape(text)
        if kind == "equal":
            parts.append(text)
        elif kind == "delete":
            parts.append(f"<del>{text}</del>")
        else:
            parts.append(f"<ins>{text}</ins>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------

_CSS = """
body{font:15px/1.6 system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
margin:0 auto;max-width:110em;padding:0 1.5em 3em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:1em 0 .3em}h2{font-size:1.2em;margin:1.8em 0 .5em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .5em;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.num{text-align:right;white-space:nowrap}
code{font-size:.9em}.note{background:#fff6d6;border:1px solid #e8d48a;padding:.4em .7em}
.muted{color:#666;font-size:.9em}
#filter-row{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd;z-index:1}
#filter{font-size:1em;width:28em;max-width:90%;padding:.2em .4em}
.cluster{margin:1.2em 0;padding-top:.2em}.cluster h3{font-size:1.05em;margin:.2em 0}
.members{display:grid;grid-template-columns:repeat(auto-fill,minmax(24em,1fr));gap:.6em}
.member{border:1px solid #ccc;border-radius:4px;padding:.4em .6em}
.member.original{border:2px solid #2a6ebb;background:#f3f8fe}
.where{font-size:.85em;color:#444;margin-bottom:.3em;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.8em;padding:0 .4em;border-radius:3px;background:#2a6ebb;color:#fff}
.badge.copy{background:#777}.badge.speech{background:#b5651d}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
ins{background:#c8f0c8;text-decoration:none}del{background:#f8c8c8;color:#8a1f1f}
"""

# Filters clusters and table rows by every whitespace-separated term, on the
# NFKC-folded, lower-cased text (so "," finds "，" as the keys do).
_SCRIPT = """
(function () {
  var row = document.getElementById("filter-row");
  var box = document.getElementById("filter");
  var count = document.getElementById("filter-count");
  if (!row || !box) { return; }
  row.hidden = false;
  function fold(s) { return (s.normalize ? s.normalize("NFKC") : s).toLowerCase(); }
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-filter]"));
  var texts = items.map(function (e) { return fold(e.textContent); });
  var clusters = items.filter(function (e) { return e.classList.contains("cluster"); }).length;
  function run() {
    var terms = fold(box.value).split(/\\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (e, i) {
      var ok = terms.every(function (t) { return texts[i].indexOf(t) >= 0; });
      e.hidden = !ok;
      if (ok && e.classList.contains("cluster")) { shown += 1; }
    });
    count.textContent = terms.length ? shown + " of " + clusters + " clusters match" : "";
  }
  box.addEventListener("input", run);
  run();
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _doc_href(doc: str) -> str | None:
    """A relative link to a doc file, or None for a path that is not relative.

    Every character that could start a scheme, a query or a fragment is
    percent-encoded (doc names may hold ``#`` and ``%``).

    >>> _doc_href("docs/a b/x#1.1.txt"), _doc_href("/etc/passwd"), _doc_href("http://x")
    ('docs/a%20b/x%231.1.txt', None, 'http%3A//x')
    """
    if not doc or doc.startswith(("/", "\\")):
        return None
    return quote(doc, safe="/")


def _title(info: SpeechInfo | None) -> str:
    if info is None:
        return "(unknown speech)"
    return info.title or "(untitled)"


def _speech_cell(doc: str, speeches: Mapping[str, SpeechInfo]) -> str:
    """A speech as a table cell's content: title, id, source, doc link."""
    info = speeches.get(doc)
    out = [f"<b>{_e(_title(info))}</b><br><code>{_e(doc)}</code>"]
    if info is not None:
        out.append(f' <span class="muted">from <code>{_e(info.source)}</code></span>')
        href = _doc_href(info.doc)
        if href is not None:
            out.append(f' <a href="{_e(href)}">{_e(info.doc)}</a>')
    return "".join(out)


def _jaccard(value: float) -> str:
    return f"{value:.3f}"


def _summary(result: DedupResult) -> list[str]:
    stats = result.stats
    rows = [
        ("speeches", len(result.speech_ids)),
        ("paragraphs", stats.get("paragraphs", 0)),
        ("paragraph clusters", len(result.clusters)),
        ("duplicate paragraphs (copies, originals not counted)",
         sum(len(c.members) - 1 for c in result.clusters)),
        ("near-duplicate speeches", len(result.speech_duplicates)),
        ("short repeated lines (groups)", len(result.short_groups)),
        ("short repeated lines (repeats, first occurrences not counted)",
         sum(len(g.members) - 1 for g in result.short_groups)),
        ("paragraphs signed (MinHash)", stats.get("signed", 0)),
        ("LSH candidate pairs", stats.get("candidate_pairs", 0)),
        ("pairs confirmed by exact Jaccard", stats.get("verified_pairs", 0)),
    ]
    out = ['<h2 id="summary">Summary</h2>', "<table>"]
    out += [f'<tr><th>{_e(k)}</th><td class="num">{_e(v)}</td></tr>' for k, v in rows]
    out.append("</table>")
    s = result.settings
    out.append(
        f"<p>A paragraph of at least {s.min_chars} characters (counting letters and digits) "
        f"is a copy when the exact Jaccard similarity of its {s.shingle}-character shingles to "
        f"the original is at least {s.threshold}; a speech is a near-duplicate when at least "
        f"{s.speech_threshold:.0%} of its text is in one speech kept before it. The original "
        f"of each cluster is chosen by the keep policy <code>{_e(s.keep)}</code>.</p>")
    out += ["<details open><summary>Settings</summary>", "<table>"]
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in s.describe().items()]
    out += ["</table>", "</details>"]
    return out


def _how_to_read(limits: PageLimits) -> list[str]:
    return [
        '<h2 id="reading">How to read this page</h2>',
        "<ul>",
        "<li>Each cluster shows its members side by side; the <b>original</b> (the member kept, "
        "in a blue frame) comes first, then the copies in corpus order.</li>",
        "<li>In a copy, <ins>green text</ins> is only in the copy and <del>red struck text</del> "
        "is in the original but missing from the copy; the rest is the same, character for "
        "character (punctuation width included). A copy that would be slow to compare (it "
        f"or its original longer than {limits.diff_chars} characters, or a changed stretch "
        f"longer than {STRETCH_DIFF_CHARS}) is shown without highlighting, and says so.</li>",
        "<li><i>para</i> is the paragraph's 0-based index in the speech text, as <code>para</code> "
        f"in <code>duplicates.jsonl</code>; in the speech's doc file it is on line "
        f"<i>para</i> + {DOC_LINE_OFFSET} (after the title and a blank line).</li>",
        "<li><i>Jaccard</i> is the exact similarity of the paragraph's character shingles to "
        "the original's (1.000: the same letters and digits).</li>",
        "</ul>",
    ]


def _speech_duplicates(result: DedupResult, speeches: Mapping[str, SpeechInfo],
                       limits: PageLimits) -> list[str]:
    max_rows = limits.rows
    dups: tuple[SpeechDuplicate, ...] = result.speech_duplicates
    out = ['<h2 id="speeches">Near-duplicate speeches</h2>']
    if not dups:
        return out + ["<p>No speech is a near-duplicate of another.</p>"]
    out.append("<table><tr><th>speech</th><th>near-duplicate of (kept)</th>"
               "<th>share copied</th><th>characters</th></tr>")
    for d in dups[:max_rows]:
        out.append(f"<tr data-filter><td>{_speech_cell(d.doc, speeches)}</td>"
                   f"<td>{_speech_cell(d.duplicate_of, speeches)}</td>"
                   f'<td class="num">{d.share:.1%}</td><td class="num">{d.chars}</td></tr>')
    out.append("</table>")
    if len(dups) > max_rows:
        out.append(f'<p class="note">{len(dups) - max_rows} more near-duplicate speeches are not '
                   f"shown here (first {max_rows} in corpus order); <code>corpus.jsonl</code> "
                   f"has <code>duplicate_of</code> for every speech.</p>")
    return out


def _member(m: Member, original: Member, speeches: Mapping[str, SpeechInfo],
            copied: Mapping[str, SpeechDuplicate], max_diff_chars: int,
            diffs: dict[str, str | None]) -> list[str]:
    info = speeches.get(m.doc)
    cls = "member original" if m.original else "member"
    badge = ('<span class="badge">original</span>' if m.original
             else f'<span class="badge copy">copy · Jaccard {_jaccard(m.jaccard)}</span>')
    if m.doc in copied:
        d = copied[m.doc]
        badge += (f' <span class="badge speech" title="{_e(f"{d.share:.1%} of this speech is in {d.duplicate_of}")}">'
                  f"speech is a near-duplicate of {_e(d.duplicate_of)}</span>")
    where = [f"<b>{_e(_title(info))}</b>", f"<code>{_e(m.doc)}</code> para {m.para}"]
    if info is not None:
        where.append(f"from <code>{_e(info.source)}</code>")
        href = _doc_href(info.doc)
        if href is not None:
            where.append(f'<a href="{_e(href)}">{_e(info.doc)}</a> line {m.para + DOC_LINE_OFFSET}')
    note = ""
    body = None
    if m.original:
        body = _e(m.text)
    elif len(m.text) > max_diff_chars or len(original.text) > max_diff_chars:
        note = f"Not highlighted: longer than {max_diff_chars} characters."
    else:
        # Exact copies are common; a cluster diffs each distinct text once.
        if m.text not in diffs:
            diffs[m.text] = render_diff(original.text, m.text)
        body = diffs[m.text]
        if body is None:
            note = (f"Not highlighted: it differs from the original over a stretch of more "
                    f"than {STRETCH_DIFF_CHARS} characters.")
    if body is None:
        body = _e(m.text)
    if note:
        note = f'<div class="muted">{_e(note)}</div>'
    return [f'<div class="{cls}">', f"<div>{badge}</div>",
            f'<div class="where">{" · ".join(where)}</div>',
            f'<div class="text">{body}</div>{note}', "</div>"]


def _cluster(c: Cluster, speeches: Mapping[str, SpeechInfo],
             copied: Mapping[str, SpeechDuplicate], limits: PageLimits) -> list[str]:
    original = c.original
    shown = c.members[:limits.members]
    head = (f"Cluster {c.cluster}: {len(c.members)} members, "
            f"min Jaccard {_jaccard(c.min_jaccard)}")
    out = [f'<section class="cluster" id="cluster-{c.cluster}" data-filter>',
           f'<h3><a href="#cluster-{c.cluster}">{_e(head)}</a></h3>', '<div class="members">']
    diffs: dict[str, str | None] = {}
    for m in shown:
        out += _member(m, original, speeches, copied, limits.diff_chars, diffs)
    out.append("</div>")
    if len(c.members) > len(shown):
        out.append(f'<p class="note">{len(c.members) - len(shown)} more members of this cluster '
                   f"are not shown; <code>duplicates.jsonl</code> (cluster {c.cluster}) "
                   f"lists them all.</p>")
    out.append("</section>")
    return out


def clusters_to_show(clusters: Iterable[Cluster], limits: PageLimits = PageLimits()) -> tuple[list[Cluster], int]:
    """The clusters the page shows, largest first (then by number), and how many there are.

    The shown clusters are always the first ones in that order, so that
    everything after them can be summed up in one note.

    >>> from cleaner.dedup import Member
    >>> def c(n, size, chars=60):
    ...     return Cluster(n, tuple(Member(f"d{k}", 0, "字" * chars, k == 0, 1.0) for k in range(size)))
    >>> shown, total = clusters_to_show([c(1, 2), c(2, 3), c(3, 2), c(4, 2)], PageLimits(clusters=3))
    >>> [x.cluster for x in shown], total
    ([2, 1, 3], 4)
    >>> heavy = PageLimits(page_chars=3 * (60 + MEMBER_WEIGHT))
    >>> [x.cluster for x in clusters_to_show([c(1, 2), c(2, 3), c(3, 2)], heavy)[0]]
    [2]
    """
    ordered = sorted(clusters, key=lambda c: (-len(c.members), c.cluster))
    shown: list[Cluster] = []
    weight = 0
    for c in ordered[:limits.clusters]:
        weight += sum(len(m.text) + MEMBER_WEIGHT for m in c.members[:limits.members])
        if shown and weight > limits.page_chars:
            break
        shown.append(c)
    return shown, len(ordered)


def _clusters(result: DedupResult, speeches: Mapping[str, SpeechInfo], limits: PageLimits) -> list[str]:
    out = ['<h2 id="clusters">Near-duplicate paragraphs</h2>']
    shown, total = clusters_to_show(result.clusters, limits)
    if not total:
        return out + ["<p>No near-duplicate paragraphs across speeches.</p>"]
    out.append("<p>Largest clusters first, then by cluster number.</p>")
    if total > len(shown):
        rest = sorted(result.clusters, key=lambda c: (-len(c.members), c.cluster))[len(shown):]
        out.append(
            f'<p class="note">Showing the {len(shown)} largest of {total} clusters (this page '
            f"holds at most {limits.clusters} clusters and about {limits.page_chars} characters "
            f"of paragraphs); the other {len(rest)} ({sum(len(c.members) - 1 for c in rest)} "
            f"copies, none in a cluster of more than {len(rest[0].members)} members) are in "
            f"<code>duplicates.jsonl</code>.</p>")
    capped = sum(1 for c in shown if len(c.members) > limits.members)
    if capped:
        out.append(f'<p class="note">{capped} shown clusters have more than {limits.members} '
                   f"members; each shows its first {limits.members} and says how many it "
                   f"leaves out.</p>")
    copied = result.duplicate_of()
    for c in shown:
        out += _cluster(c, speeches, copied, limits)
    return out


def _short_groups(result: DedupResult, limits: PageLimits) -> list[str]:
    max_rows, max_members = limits.rows, limits.members
    groups: tuple[ShortGroup, ...] = result.short_groups
    s = result.settings
    out = ['<h2 id="short">Short repeated lines</h2>',
           f"<p>Paragraphs under {s.min_chars} characters are not compared by similarity: "
           "those whose letters and digits are exactly the same are listed here. They are "
           "formulas (greetings, closings) more often than copies, and are never dropped.</p>"]
    if not groups:
        return out + ["<p>No short line is repeated across speeches.</p>"]
    out.append("<table><tr><th>group</th><th>text (first occurrence)</th>"
               "<th>speeches</th><th>where (speech id, para)</th></tr>")
    for g in groups[:max_rows]:
        places = [f"<code>{_e(m.doc)}</code> {m.para}" for m in g.members[:max_members]]
        if len(g.members) > max_members:
            places.append(f"and {len(g.members) - max_members} more")
        out.append(f'<tr data-filter id="short-{g.group}"><td class="num">{g.group}</td>'
                   f'<td class="text">{_e(g.original.text)}</td>'
                   f'<td class="num">{g.speeches}</td><td>{"; ".join(places)}</td></tr>')
    out.append("</table>")
    if len(groups) > max_rows:
        out.append(f'<p class="note">{len(groups) - max_rows} more groups are not shown '
                   f"(first {max_rows} in corpus order).</p>")
    return out


def render_html(result: DedupResult, speeches: Mapping[str, SpeechInfo],
                limits: PageLimits = PageLimits()) -> str:
    """The whole ``report.html`` page for a dedup result.

    ``speeches`` maps speech ids to their :class:`SpeechInfo` (see
    :func:`speech_infos`); a speech missing from it is shown by its id alone.
    ``limits`` bounds what a big result puts on the page.
    """
    nothing = not (result.clusters or result.speech_duplicates or result.short_groups)
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>cleaner: near-duplicates</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>Near-duplicates</h1>",
        '<p class="muted">The same result as <code>duplicates.jsonl</code> (every cluster) and '
        "<code>corpus.jsonl</code> (every speech, with <code>duplicate_of</code>), for reading.</p>",
    ]
    if nothing:
        out.append('<p class="note">No duplicates found: no near-duplicate paragraphs, no '
                   "near-duplicate speeches and no short repeated lines.</p>")
    out += _summary(result)
    out += _how_to_read(limits)
    out += ['<div id="filter-row" hidden>',
            '<label>Filter: <input id="filter" type="search" autocomplete="off" '
            'placeholder="source, title, speech id, paragraph text"></label> '
            '<span id="filter-count" class="muted"></span>', "</div>"]
    out += _speech_duplicates(result, speeches, limits)
    out += _clusters(result, speeches, limits)
    out += _short_groups(result, limits)
    out += [f"<script>{_SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(out)
