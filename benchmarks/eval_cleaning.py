"""Score a cleaner's output against the truth of generated pages.

The pages come from ``benchmarks/synth.py``; the output is what ``cleaner run``
wrote (``corpus.jsonl``, ``removed.jsonl``). The cleaner is a black box here:
only its output files are read.

Texts are compared by :func:`benchmarks.synth.text_key` (NFKC width folding,
quotes unified, whitespace removed), so normalization that only changes
punctuation width, quote style or spacing costs nothing.

Scores, per file, then summed over a group of files:

- boilerplate removed: inserted boilerplate lines and spans that are gone.
  A *line* survives when an output title or paragraph has the same key; or,
  when the line's key has at least ``MIN_CONTAINED`` characters, when it is
  inside an output paragraph (a line glued to content); or when an output
  paragraph that is not content of the truth is a piece of at least half the
  line (a line cut short). Short lines such as ``下载`` are thus only found as
  whole paragraphs, never inside content that happens to contain them. A
  *span* survives when its key (at least ``MIN_SPAN`` characters) is inside
  the output; a shorter span is looked for with the few characters recorded
  on each side of it.
- content kept: characters of the truth paragraphs found in the output, by
  alignment: paragraph keys are matched first, and the regions between exact
  matches are aligned character by character (``difflib.SequenceMatcher``).
- paragraphs whole: truth paragraphs whose key equals the key of one output
  paragraph of the same file.
- speech count: files whose output has exactly the truth's number of
  speeches; titles: files where, in addition, every title and subtitle
  (``subtitles`` in corpus.jsonl) matches.

Subtitle and date lines under a title are content but not paragraphs: they
count for boilerplate survival (an output unit that equals one is not a
surviving boilerplate piece) and in the alignment of kept characters only as
output text, never as truth characters.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

try:
    from benchmarks.synth import CONTENT, MARKER, SUBTITLE, TITLE, text_key
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from synth import CONTENT, MARKER, SUBTITLE, TITLE, text_key

MIN_CONTAINED = 8
MIN_SPAN = 6
MIN_PIECE = 4

# The bars, per template group: score name → least share.
BARS: dict[str, dict[str, float]] = {
    "known": {"boilerplate": 0.99, "content": 0.995, "paragraphs": 0.95, "speeches": 1.0},
    "unseen": {"boilerplate": 0.80, "content": 0.99},
}
SCORES = ("boilerplate", "content", "paragraphs", "speeches", "titles")
HEADINGS = {"boilerplate": "boilerplate removed", "content": "content kept",
            "paragraphs": "paragraphs whole", "speeches": "speech count", "titles": "titles"}


@dataclass
class FileScore:
    """The scores of one generated file, as counts."""

    file: str
    template: str
    known: bool
    layout: str
    boilerplate: int = 0
    removed: int = 0
    survivors: list[str] = field(default_factory=list)
    content: int = 0
    kept: int = 0
    paragraphs: int = 0
    whole: int = 0
    broken: list[str] = field(default_factory=list)
    speeches_truth: int = 0
    speeches_out: int = 0
    titles_ok: bool = False

    @property
    def group(self) -> str:
        return "known" if self.known else "unseen"

    @property
    def speeches_ok(self) -> bool:
        return self.speeches_truth == self.speeches_out


def line_survives(key: str, units: list[str], content: set[str]) -> bool:
    """True when a boilerplate line (by key) is still in the output units
    (titles and paragraphs, by key); ``content`` holds the truth's keys.

    >>> line_survives("下载", ["今天下载了文件。"], set())
    False
    >>> line_survives("下载", ["下载"], set())
    True
    >>> line_survives("推荐访问:教育局讲话工作", ["全文完。推荐访问:教育局讲话工作"], set())
    True
    >>> line_survives("本文档由用户上传,如有侵权请联系删除", ["如有侵权请联系删除"], set())
    True
    >>> line_survives("想看更多?在笔耕园搜索「在教育工作会议上的讲话」", ["在教育工作会议上的讲话"],
    ...               {"在教育工作会议上的讲话"})
    False
    """
    for unit in units:
        if unit == key or (len(key) >= MIN_CONTAINED and key in unit):
            return True
        if unit not in content and len(unit) >= MIN_PIECE and 2 * len(unit) >= len(key) and unit in key:
            return True
    return False


def span_survives(span: dict, joined: str) -> bool:
    """True when a recorded in-sentence span is still in the output (keys joined by newlines).

    >>> span = {"text": " 5 V$ ^7 ", "left": "好。", "right": "我们"}
    >>> span_survives(span, "今天好。5V$^7我们开会"), span_survives(span, "今天好。我们开会")
    (True, False)
    """
    key = text_key(span["text"])
    if len(key) < MIN_SPAN:
        key = text_key(span["left"] + span["text"] + span["right"])
    return key in joined


def kept_chars(truth: list[str], output: list[str]) -> int:
    """Characters of the truth keys found, in order, in the output keys.

    >>> kept_chars(["甲乙丙丁", "戊己庚"], ["甲乙丙丁", "戊己庚"])
    7
    >>> kept_chars(["甲乙丙丁", "戊己庚"], ["甲乙", "丙丁戊", "己庚"])
    7
    >>> kept_chars(["甲乙丙丁", "戊己庚"], ["甲乙丙丁"])
    4
    """
    kept = 0
    blocks = SequenceMatcher(None, truth, output, autojunk=False)
    for tag, i1, i2, j1, j2 in blocks.get_opcodes():
        if tag == "equal":
            kept += sum(len(k) for k in truth[i1:i2])
        elif tag == "replace":
            a, b = "".join(truth[i1:i2]), "".join(output[j1:j2])
            chars = SequenceMatcher(None, a, b, autojunk=False)
            kept += sum(m.size for m in chars.get_matching_blocks())
    return kept


def score_file(truth: dict, records: list[dict]) -> FileScore:
    """Score one generated file's output records (its lines of corpus.jsonl)."""
    score = FileScore(truth["file"], truth["template"], truth["known"], truth["layout"])
    paragraphs = [text_key(p) for s in truth["speeches"] for p in s["paragraphs"]]
    content = set(paragraphs) | {text_key(t) for s in truth["speeches"] for t in heads(s)}
    out_paragraphs = [text_key(p) for r in records for p in r["text"].split("\n") if p.strip()]
    units = [text_key(u) for r in records for u in heads(r) + r["text"].split("\n")]
    units = [u for u in units if u]
    joined = "\n".join(units)
    for item in truth["boilerplate"]:
        if item["kind"] == "line":
            key = text_key(item["text"])
            if not key:
                continue
            gone = not line_survives(key, units, content)
        else:
            gone = not span_survives(item, joined)
        score.boilerplate += 1
        score.removed += gone
        if not gone:
            score.survivors.append(item["text"])
    score.paragraphs = len(paragraphs)
    score.content = sum(len(k) for k in paragraphs)
    score.kept = kept_chars(paragraphs, units)
    available = Counter(out_paragraphs)
    for para, key in zip((p for s in truth["speeches"] for p in s["paragraphs"]), paragraphs):
        if available[key] > 0:
            available[key] -= 1
            score.whole += 1
        else:
            score.broken.append(para)
    score.speeches_truth, score.speeches_out = len(truth["speeches"]), len(records)
    score.titles_ok = score.speeches_ok and all(
        [text_key(t) for t in heads(s)] == [text_key(t) for t in heads(r)]
        for s, r in zip(truth["speeches"], records))
    return score


def heads(speech: dict) -> list[str]:
    """A speech's title and subtitles (truth or output record), in order.

    >>> heads({"title": "讲话", "subtitles": ["——在会上"], "text": ""}), heads({"title": None})
    (['讲话', '——在会上'], [])
    """
    title = [speech["title"]] if speech.get("title") else []
    return title + list(speech.get("subtitles") or [])


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def records_by_source(corpus: Iterable[dict]) -> dict[str, list[dict]]:
    """Output speeches grouped by source file, in their order."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for record in corpus:
        grouped[record["source"]].append(record)
    for records in grouped.values():
        records.sort(key=lambda r: r.get("n", 0))
    return grouped


def score_output(truths: list[dict], out_dir: Path) -> list[FileScore]:
    """Score every generated file against ``out_dir/corpus.jsonl``."""
    grouped = records_by_source(read_jsonl(Path(out_dir) / "corpus.jsonl"))
    return [score_file(t, grouped.get(t["file"], [])) for t in truths]


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------

@dataclass
class Summary:
    """Counts summed over a group of files, and the shares they give."""

    pages: int = 0
    counts: dict[str, list[int]] = field(default_factory=lambda: {s: [0, 0] for s in SCORES})

    def add(self, s: FileScore) -> None:
        self.pages += 1
        for name, (good, total) in (("boilerplate", (s.removed, s.boilerplate)),
                                    ("content", (s.kept, s.content)),
                                    ("paragraphs", (s.whole, s.paragraphs)),
                                    ("speeches", (int(s.speeches_ok), 1)),
                                    ("titles", (int(s.titles_ok), 1))):
            self.counts[name][0] += good
            self.counts[name][1] += total

    def share(self, name: str) -> float | None:
        good, total = self.counts[name]
        return good / total if total else None


def summarize(scores: Iterable[FileScore], key: Callable[[FileScore], str]) -> dict[str, Summary]:
    """One summary per value of ``key``, in order of first appearance."""
    out: dict[str, Summary] = {}
    for s in scores:
        out.setdefault(key(s), Summary()).add(s)
    return out


def bar_results(scores: list[FileScore]) -> dict[str, dict[str, tuple[float | None, float, bool]]]:
    """For each group with bars: score name → (share, bar, passed).

    A group with no files, or a score with nothing to count, does not pass.
    """
    groups = summarize(scores, lambda s: s.group)
    results = {}
    for group, bars in BARS.items():
        summary = groups.get(group, Summary())
        results[group] = {}
        for name, bar in bars.items():
            share = summary.share(name)
            results[group][name] = (share, bar, share is not None and share >= bar - 1e-12)
    return results


def _cell(share: float | None, bar: float | None = None) -> str:
    if share is None:
        return "-"
    text = f"{100 * share:.2f}%"
    if bar is None:
        return text
    return f"{text} {'pass' if share >= bar - 1e-12 else 'FAIL'} (bar {100 * bar:g}%)"


def render_table(scores: list[FileScore]) -> str:
    """The score table: template groups with their bars, then layouts, then templates."""
    rows: list[list[str]] = [["group", "pages"] + [HEADINGS[s] for s in SCORES]]
    sections = (
        ("", summarize(sorted(scores, key=lambda s: not s.known), lambda s: s.group), True),
        ("layout ", summarize(scores, lambda s: s.layout), False),
        ("", summarize(sorted(scores, key=lambda s: (not s.known, s.template)),
                       lambda s: f"{s.template} ({s.group})"), False),
    )
    for prefix, groups, with_bars in sections:
        for name, summary in groups.items():
            bars = BARS.get(name, {}) if with_bars else {}
            rows.append([prefix + name, str(summary.pages)]
                        + [_cell(summary.share(s), bars.get(s)) for s in SCORES])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


_DIGITS = re.compile(r"\d+")


def _short(text: str, width: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"


def render_worst(scores: list[FileScore], limit: int = 8) -> str:
    """What fails: surviving boilerplate (digits masked, most frequent first),
    files that lose the most content, paragraphs not whole, wrong speech counts."""
    out = []
    survivors = Counter((s.template, _DIGITS.sub("0", text).strip()) for s in scores for text in s.survivors)
    if survivors:
        out.append(f"Boilerplate that survives ({sum(survivors.values())}; most frequent, digits as 0):")
        out += [f"  {n:4d}  {template:13s} {_short(text)!r}"
                for (template, text), n in survivors.most_common(limit)]
    lossy = sorted((s for s in scores if s.content and s.kept < s.content), key=lambda s: s.kept / s.content)
    if lossy:
        out.append("Files that keep the least content:")
        out += [f"  {s.file}  {s.template:13s} {s.layout:12s} {100 * s.kept / s.content:6.2f}% "
                f"({s.content - s.kept} characters lost)" for s in lossy[:limit // 2 + 1]]
    broken = [(s, p) for s in scores for p in s.broken]
    if broken:
        by_layout = Counter(s.layout for s, _ in broken)
        out.append(f"Paragraphs not whole ({len(broken)}; by layout: "
                   + ", ".join(f"{k} {n}" for k, n in by_layout.most_common()) + "), e.g.:")
        seen_layouts = set()
        examples = []
        for s, p in broken:  # one example per layout first, then the rest
            if s.layout not in seen_layouts:
                seen_layouts.add(s.layout)
                examples.append((s, p))
        examples += [b for b in broken if b not in examples]
        out += [f"  {s.file}  {s.layout:12s} {_short(p)!r}" for s, p in examples[:limit // 2 + 1]]
    wrong = [s for s in scores if not s.speeches_ok]
    if wrong:
        out.append(f"Wrong speech counts ({len(wrong)} files), e.g.:")
        out += [f"  {s.file}  {s.template:13s} {s.layout:12s} "
                f"truth {s.speeches_truth}, output {s.speeches_out}"
                for s in wrong[:limit // 2 + 1]]
    return "\n".join(out)


def content_removals(truths: list[dict], removed: Iterable[dict]) -> Counter:
    """Strip-stage removals that hit speech text, by rule id: content,
    subtitle, title or marker lines dropped whole, and spans cut from them
    that are not recorded boilerplate or layout damage."""
    by_file = {t["file"]: t for t in truths}
    spans: dict[tuple[str, int], set[str]] = defaultdict(set)
    for t in truths:
        for item in t["boilerplate"] + t["artifacts"]:
            if item.get("kind") != "line":
                spans[(t["file"], item["line"])].add(text_key(item["text"]))
    hits: Counter = Counter()
    for r in removed:
        truth = by_file.get(r.get("source"))
        if truth is None or r.get("stage") != "strip" or not 1 <= r.get("line", 0) <= len(truth["roles"]):
            continue
        if truth["roles"][r["line"] - 1] not in (CONTENT, SUBTITLE, TITLE, MARKER):
            continue
        recorded = spans[(truth["file"], r["line"])]
        if r.get("action") == "drop_line" or text_key(r.get("text", "")) not in recorded:
            hits[r.get("rule", "?")] += 1
    return hits
