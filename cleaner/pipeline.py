"""The order of the stages, from raw bytes to the output folder.

Per-file stages are pure functions of (bytes or page, rules, settings); only
:func:`write_output` sees the whole corpus. ``cleaner run`` and the chained
stage commands call the same functions, so both give the same output.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import charset_normalizer

from . import __version__
from .decode import decode_bytes
from .dedup import DedupSettings, find_duplicates
from .errors import InputError
from .model import Page
from .normalize import normalize_page
from .repair import repair_page
from .report import encoding_summary, render_csv, render_report
from .rules import RuleSet
from .split import split_speeches
from .store import atomic_dir, doc_path, dump_jsonl, read_input, unique_stems
from .strip import strip_boilerplate
from .tidy import tidy


# What the page keeps of how its bytes were decoded (every Decoded field but the text).
_DECODE_FIELDS = ("encoding", "decided_by", "confidence", "replaced", "repaired", "guessed", "damaged")


def decode_file(path: Path, source: str, encoding: str | None = None,
                how: str = "override") -> Page:
    """Read one raw file into a page of numbered lines; errors go in ``page.error``.

    ``encoding`` overrides detection (``how`` says whether the user gave it
    for the run or the per-path map did).
    """
    try:
        data = read_input(path)  # only regular files, within the size and line limits
    except OSError as exc:
        return Page(source=source, sha256="", size=0, error=f"cannot read: {exc.strerror or exc}")
    except InputError as exc:
        return Page(source=source, sha256="", size=0, error=str(exc))
    page = Page(source=source, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    try:
        decoded = decode_bytes(data, encoding, how)
    except InputError as exc:
        page.error = str(exc)
        return page
    text, counts = tidy(decoded.text)
    for name in _DECODE_FIELDS:
        setattr(page, name, getattr(decoded, name))
    for name, n in counts.items():
        page.count(name, n)
    page.chars_in = len(text)
    page.lines = [(i, line) for i, line in enumerate(text.split("\n"), 1)]
    page.stages.append("decode")
    return page


def strip_page(page: Page, ruleset: RuleSet) -> Page:
    if page.error is None:
        strip_boilerplate(page, ruleset)
        page.rules_digest = ruleset.digest
    return page


def repair(page: Page) -> Page:
    if page.error is not None or "repair" in page.stages:
        return page
    return repair_page(page)


def normalize(page: Page) -> Page:
    """Layout repair (unless done already), then punctuation and whitespace."""
    return page if page.error is not None else normalize_page(repair(page))


def split(page: Page) -> Page:
    return page if page.error is not None else split_speeches(page)


def clean_page(page: Page, ruleset: RuleSet) -> Page:
    """Every per-file stage after decoding, in order."""
    return split(normalize(repair(strip_page(page, ruleset))))


def corpus_records(pages: list[Page], stems: dict[str, str],
                   dup_paras: dict[str, list[int]]) -> list[dict]:
    records = []
    for page in pages:
        for sp in page.speeches or []:
            sid = f"{stems[page.source]}#{sp.n}"
            text = "\n".join(sp.paragraphs)
            records.append({
                "id": sid,
                "source": page.source,
                "n": sp.n,
                "title": sp.title,
                "subtitles": sp.subtitles,
                "text": text,
                "encoding": page.encoding,
                "line": sp.line,
                "paragraphs": len(sp.paragraphs),
                "chars": len(text),
                "duplicate_paras": dup_paras.get(sid, []),
                "doc": doc_path(stems[page.source], sp.n),
            })
    return records


def write_output(
    pages: list[Page], out: Path, settings: DedupSettings,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
) -> dict:
    """Dedup the corpus and write every output file atomically; return the stats."""
    pages = sorted(pages, key=lambda p: p.source)
    stems = unique_stems(p.source for p in pages)
    speeches = [
        (f"{stems[p.source]}#{sp.n}", sp.paragraphs) for p in pages for sp in (p.speeches or [])
    ]
    clusters, stats = find_duplicates(speeches, settings)
    dup_paras: dict[str, list[int]] = {}
    for cluster in clusters:
        for m in cluster.members:
            if not m.original:
                dup_paras.setdefault(m.doc, []).append(m.para)
    for paras in dup_paras.values():
        paras.sort()
    records = corpus_records(pages, stems, dup_paras)
    digests = sorted({p.rules_digest for p in pages if p.rules_digest})
    manifest = {
        "tool": "cleaner",
        "version": __version__,
        "rules_digest": "+".join(digests),
        "encodings": encoding_summary(pages),
        "settings": {
            "decode": {"charset_normalizer": charset_normalizer.__version__},
            "dedup": settings.describe(),
        },
        "inputs": [
            {"source": p.source, "sha256": p.sha256, "size": p.size,
             "encoding": p.encoding or None, "decided_by": p.decided_by or None,
             "layout": p.layout or None,
             "repaired": p.repaired or None, "error": p.error}
            for p in pages
        ],
        "outputs": ["corpus.jsonl", "docs/", "duplicates.jsonl", "duplicates.csv",
                    "removed.jsonl", "report.md", "manifest.json"],
    }
    with atomic_dir(out) as tmp:
        (tmp / "corpus.jsonl").write_text(dump_jsonl(records), encoding="utf-8")
        for rec in progress(records):
            path = tmp / rec["doc"]
            path.parent.mkdir(parents=True, exist_ok=True)
            title = rec["title"] or ""
            path.write_text(f"{title}\n\n{rec['text']}\n", encoding="utf-8")
        (tmp / "docs").mkdir(exist_ok=True)
        dup_records = [
            {
                "cluster": c.cluster,
                "size": len(c.members),
                "min_jaccard": c.min_jaccard,
                "threshold": settings.threshold,
                "members": [
                    {"doc": m.doc, "para": m.para, "original": m.original,
                     "jaccard": m.jaccard, "text": m.text}
                    for m in c.members
                ],
            }
            for c in clusters
        ]
        (tmp / "duplicates.jsonl").write_text(dump_jsonl(dup_records), encoding="utf-8")
        (tmp / "duplicates.csv").write_text(render_csv(clusters), encoding="utf-8", newline="")
        removed = (
            {"source": p.source, "line": e.line, "stage": e.stage, "rule": e.rule,
             "action": e.action, "text": e.text}
            for p in pages for e in p.edits
        )
        (tmp / "removed.jsonl").write_text(dump_jsonl(removed), encoding="utf-8")
        (tmp / "report.md").write_text(
            render_report(pages, records, clusters, stats, settings, manifest), encoding="utf-8")
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return stats
