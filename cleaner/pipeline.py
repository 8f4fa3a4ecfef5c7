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
from .dedup import (DEDUP_RULE, DedupResult, DedupSettings, DropPlan, Member, SignFn, SpeechMeta,
                    find_duplicates, plan_drops)
from .encmap import EncodingMap
from .errors import InputError
from .html_report import SpeechInfo, render_html, speech_infos
from .model import Page
from .normalize import normalize_page
from .reference import ReferenceCorpus
from .repair import repair_page
from .report import encoding_summary, render_csv, render_report
from .rules import RuleSet
from .split import split_speeches
from .store import atomic_dir, doc_path, dump_jsonl, read_input, unique_stems
from .strip import strip_boilerplate
from .templates import Templates, TemplateCounter, TemplateSettings, learn, strip_templates
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


def decode_input(path: Path, source: str, encoding: str | None = None,
                 emap: EncodingMap | None = None) -> Page:
    """Decode one input: with ``encoding`` when given, else the per-path map's, else detected."""
    if encoding:
        return decode_file(path, source, encoding, "override")
    mapped = emap.lookup(source) if emap is not None else None
    return decode_file(path, source, mapped, "map") if mapped else decode_file(path, source)


def decode_item(item: tuple[Path, str], emap: EncodingMap | None = None,
                encoding: str | None = None) -> Page:
    """:func:`decode_input` for one ``(path, source)`` input (a picklable stage)."""
    return decode_input(item[0], item[1], encoding, emap)


def decode_and_strip(item: tuple[Path, str], ruleset: RuleSet, emap: EncodingMap | None = None,
                     encoding: str | None = None) -> Page:
    """Phase one of a run for one ``(path, source)`` input: decode, then the rules."""
    return strip_page(decode_item(item, emap, encoding), ruleset)


def strip_with(page: Page, ruleset: RuleSet, templates: Templates | None = None) -> Page:
    """The rules, then saved site templates if any (the ``strip`` stage command)."""
    page = strip_page(page, ruleset)
    return page if templates is None else strip_templates(page, templates)


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


def learn_templates(pages: Iterable[Page], settings: TemplateSettings | None = None,
                    ) -> tuple[Templates, dict[str, frozenset[int]]]:
    """Site templates learned from pages after the rules (in the order given),
    and each page's key hashes (by source), from which
    :meth:`Templates.matching` tells which templates a page holds."""
    counter, hashes = count_templates(pages)
    return learn(counter, settings), hashes


def count_templates(pages: Iterable[Page]) -> tuple[TemplateCounter, dict[str, frozenset[int]]]:
    """Every decoded page's lines counted for learning, and each page's key hashes."""
    counter = TemplateCounter()
    hashes = {page.source: counter.add(page, page.source) for page in pages if page.error is None}
    return counter, hashes


def finish_page(page: Page, templates: Templates | None = None) -> Page:
    """Every per-file stage after the rules: learned templates, repair, normalize, split."""
    if templates is not None:
        strip_templates(page, templates)
    return split(normalize(repair(page)))


def finish_for_output(page: Page, templates: Templates | None = None) -> Page:
    """:func:`finish_page` for a run that writes the output folder next: the
    page's lines are dropped once its speeches are cut (nothing after the
    split reads them), which halves what a run holds and caches per page."""
    page = finish_page(page, templates)
    if page.error is None:
        page.lines = []
    return page


def clean_page(page: Page, ruleset: RuleSet, templates: Templates | None = None) -> Page:
    """Every per-file stage after decoding, in order."""
    return finish_page(strip_page(page, ruleset), templates)


def speech_id(stem: str, n: int) -> str:
    return f"{stem}#{n}"


def corpus_records(pages: list[Page], stems: dict[str, str], result: DedupResult,
                   plan: DropPlan | None = None, reference: bool = False) -> list[dict]:
    """One record per speech kept, in corpus order.

    With a drop ``plan``, near-duplicate speeches are left out and copied
    paragraphs are removed from the text; ``dropped_paras`` then lists the
    indexes they had (in the speech as found, as in duplicates.jsonl).
    """
    dup_paras = result.duplicate_paras()
    dup_of = result.duplicate_of()
    gone = {d.doc for d in plan.speeches} if plan else set()
    dropped = plan.dropped_paras() if plan else {}
    records = []
    for page in pages:
        for sp in page.speeches or []:
            sid = speech_id(stems[page.source], sp.n)
            if sid in gone:
                continue
            drop = dropped.get(sid, frozenset())
            paragraphs = [p for i, p in enumerate(sp.paragraphs) if i not in drop]
            text = "\n".join(paragraphs)
            dup = dup_of.get(sid)
            record = {
                "id": sid,
                "source": page.source,
                "n": sp.n,
                "title": sp.title,
                "subtitles": sp.subtitles,
                "text": text,
                "encoding": page.encoding,
                "line": sp.line,
                "paragraphs": len(paragraphs),
                "chars": len(text),
                "duplicate_paras": dup_paras.get(sid, []),
                "duplicate_of": dup.duplicate_of if dup else None,
                "copied_share": dup.share if dup else None,
                "doc": doc_path(stems[page.source], sp.n),
            }
            if reference:  # with --against: whether duplicate_of is in the earlier corpus
                record["duplicate_of_reference"] = dup.reference if dup else None
            if plan is not None:
                record["dropped_paras"] = sorted(drop)
            records.append(record)
    return records


def _as_found(pages: list[Page], stems: dict[str, str], result: DedupResult,
              plan: DropPlan) -> list[dict]:
    """Records of every speech as found, for report.html; no doc link for a speech
    that ``plan`` changed (its file is gone or its lines moved)."""
    changed = {d.doc for d in plan.speeches} | set(plan.dropped_paras())
    return [{**r, "doc": "" if r["id"] in changed else r["doc"]}
            for r in corpus_records(pages, stems, result)]


def speech_meta(page: Page) -> SpeechMeta:
    """What ``--keep cleanest`` weighs: characters the rules and templates removed."""
    removed = sum(len(e.text) for e in page.edits if e.stage == "strip")
    return SpeechMeta(boilerplate_chars=removed, page_chars=page.chars_in)


def dedup_removals(pages: list[Page], stems: dict[str, str], plan: DropPlan) -> list[dict]:
    """The removed.jsonl entries of ``--drop-duplicates`` (rule ``dedup``)."""
    where = {speech_id(stems[p.source], sp.n): (p, sp) for p in pages for sp in p.speeches or []}
    out = []
    for d in plan.speeches:
        page, sp = where[d.doc]
        text = "\n".join(([sp.title] if sp.title else []) + sp.paragraphs)
        out.append({"source": page.source, "line": sp.line, "stage": "dedup", "rule": DEDUP_RULE,
                    "action": "drop_speech", "text": text, "doc": d.doc,
                    "duplicate_of": d.duplicate_of, "reason": d.reason})
    for d in plan.paragraphs:
        page, sp = where[d.doc]
        out.append({"source": page.source, "line": sp.line, "stage": "dedup", "rule": DEDUP_RULE,
                    "action": "drop_paragraph", "text": d.text, "doc": d.doc, "para": d.para,
                    "duplicate_of": f"{d.original_doc}:{d.original_para}",
                    "cluster": d.cluster, "reason": d.reason})
    return out


def _member(m: Member, reference: bool) -> dict:
    d = {"doc": m.doc, "para": m.para, "original": m.original, "jaccard": m.jaccard, "text": m.text}
    if reference:  # with --against: whether the member is in the earlier corpus
        d["reference"] = m.reference
    return d


def cluster_records(result: DedupResult, reference: bool = False) -> list[dict]:
    return [
        {
            "cluster": c.cluster,
            "size": len(c.members),
            "min_jaccard": c.min_jaccard,
            "threshold": result.settings.threshold,
            "members": [_member(m, reference) for m in c.members],
        }
        for c in result.clusters
    ]


def repeat_records(result: DedupResult) -> list[dict]:
    """Short paragraphs repeated across speeches (exact match of the key)."""
    return [
        {
            "group": g.group,
            "key": g.key,
            "size": len(g.members),
            "speeches": g.speeches,
            "members": [{"doc": m.doc, "para": m.para, "original": m.original, "text": m.text}
                        for m in g.members],
        }
        for g in result.short_groups
    ]


OUTPUTS = ("corpus.jsonl", "docs/", "duplicates.jsonl", "duplicates.csv", "repeats.jsonl",
           "removed.jsonl", "report.md", "report.html", "manifest.json")


def write_output(
    pages: list[Page], out: Path, settings: DedupSettings,
    progress: Callable[[Iterable], Iterable] = lambda it: it,
    drop_duplicates: bool = False,
    sign: SignFn | None = None,
    against: ReferenceCorpus | None = None,
) -> DedupResult:
    """Dedup the corpus and write every output file atomically; return the dedup result.

    ``sign`` computes paragraph signatures (a :class:`~cleaner.sigcache.SignatureStore`
    caches them); ``against`` is an earlier output whose speeches are the
    originals of any copy found in this corpus (they are never written here).
    """
    pages = sorted(pages, key=lambda p: p.source)
    stems = unique_stems(p.source for p in pages)
    speeches, meta = [], []
    for p in pages:
        page_meta = speech_meta(p)  # one per page, shared by its speeches
        for sp in p.speeches or []:
            speeches.append((speech_id(stems[p.source], sp.n), sp.paragraphs))
            meta.append(page_meta)
    result = find_duplicates(speeches, settings, meta, sign,
                             reference=against.speeches if against is not None else ())
    plan = plan_drops(result) if drop_duplicates else None
    records = corpus_records(pages, stems, result, plan, against is not None)
    infos = speech_infos(records if plan is None else _as_found(pages, stems, result, plan))
    if against is not None:
        for sid, source in against.source_of().items():
            infos.setdefault(sid, SpeechInfo(f"{source} (earlier corpus)", None, ""))
    digests = sorted({p.rules_digest for p in pages if p.rules_digest})
    manifest = {
        "tool": "cleaner",
        "version": __version__,
        "rules_digest": "+".join(digests),
        "encodings": encoding_summary(pages),
        "settings": {
            "decode": {"charset_normalizer": charset_normalizer.__version__},
            "templates": "+".join(sorted({p.templates_digest for p in pages if p.templates_digest}))
                         or None,
            "dedup": {**settings.describe(), "drop_duplicates": drop_duplicates},
            "against": None if against is None else {
                "folder": str(against.folder), "speeches": len(against.speeches)},
        },
        "inputs": [
            {"source": p.source, "sha256": p.sha256, "size": p.size,
             "encoding": p.encoding or None, "decided_by": p.decided_by or None,
             "confidence": None if p.error is not None else p.confidence,
             "layout": p.layout or None,
             "repaired": p.repaired or None, "error": p.error}
            for p in pages
        ],
        "outputs": list(OUTPUTS),
    }
    with atomic_dir(out) as tmp:
        (tmp / "corpus.jsonl").write_text(dump_jsonl(records), encoding="utf-8")
        for rec in progress(records):
            path = tmp / rec["doc"]
            path.parent.mkdir(parents=True, exist_ok=True)
            title = rec["title"] or ""
            path.write_text(f"{title}\n\n{rec['text']}\n", encoding="utf-8")
        (tmp / "docs").mkdir(exist_ok=True)
        (tmp / "duplicates.jsonl").write_text(
            dump_jsonl(cluster_records(result, against is not None)), encoding="utf-8")
        (tmp / "duplicates.csv").write_text(render_csv(result.clusters, against is not None),
                                            encoding="utf-8", newline="")
        (tmp / "repeats.jsonl").write_text(dump_jsonl(repeat_records(result)), encoding="utf-8")
        removed = [
            {"source": p.source, "line": e.line, "stage": e.stage, "rule": e.rule,
             "action": e.action, "text": e.text}
            for p in pages for e in p.edits
        ]
        if plan is not None:
            removed += dedup_removals(pages, stems, plan)
        (tmp / "removed.jsonl").write_text(dump_jsonl(removed), encoding="utf-8")
        (tmp / "report.md").write_text(
            render_report(pages, records, result, manifest, plan), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(result, infos),
                                         encoding="utf-8")
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result
