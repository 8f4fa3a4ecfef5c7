"""Human-readable outputs: ``report.md`` and ``duplicates.csv``."""
from __future__ import annotations

import csv
import io
from collections import Counter

from .dedup import Cluster, DedupSettings
from .model import Page


def render_csv(clusters: list[Cluster]) -> str:
    """One row per cluster member, for spreadsheets."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["cluster", "doc", "para", "original", "jaccard", "text"])
    for c in clusters:
        for m in c.members:
            writer.writerow([c.cluster, m.doc, m.para, "yes" if m.original else "", m.jaccard, m.text])
    return buf.getvalue()


def encoding_summary(pages: list[Page]) -> dict:
    """The encodings table shared by ``report.md`` and ``manifest.json``."""
    ok = [p for p in pages if p.error is None]
    return {
        "files": dict(sorted(Counter(p.encoding for p in ok).items())),
        "decided_by": dict(sorted(Counter(p.decided_by for p in ok).items())),
        "repaired": {p.source: p.repaired for p in ok if p.repaired},
        "guessed_bytes": {p.source: p.guessed for p in ok if p.guessed},
        "replaced_bytes": {p.source: p.replaced for p in ok if p.replaced},
        "damaged": {p.source: p.damaged for p in ok if p.damaged},
        "skipped": {p.source: p.error for p in pages if p.error is not None},
    }


def _encoding_section(pages: list[Page], summary: dict) -> list[str]:
    ok = [p for p in pages if p.error is None]
    enc = Counter((p.encoding, p.decided_by) for p in ok)
    out = ["## Encodings", "", "| encoding | decided by | files |", "|---|---|---|"]
    out += [f"| {e} | {how} | {n} |" for (e, how), n in sorted(enc.items())]
    out += ["", "| | files | detail |", "|---|---|---|"]
    rows = [
        ("mojibake repaired", summary["repaired"], "{}"),
        ("lost bytes guessed in repair", summary["guessed_bytes"], "{} bytes"),
        ("bytes replaced (U+FFFD)", summary["replaced_bytes"], "{} bytes"),
        ("damaged before decoding (U+FFFD, 锟斤拷)", summary["damaged"], "{} places"),
        ("skipped", summary["skipped"], "{}"),
    ]
    for label, found, fmt in rows:
        detail = "; ".join(f"{src}: {fmt.format(v)}" for src, v in found.items())
        out.append(f"| {label} | {len(found)} | {_clip(detail, 200) if detail else ''} |")
    out.append("")
    return out


def _clip(text: str, width: int = 60) -> str:
    text = text.replace("|", "\\|")
    return text if len(text) <= width else text[:width] + "…"


def render_report(pages: list[Page], records: list[dict], clusters: list[Cluster],
                  stats: dict, settings: DedupSettings, manifest: dict) -> str:
    ok = [p for p in pages if p.error is None]
    failed = [p for p in pages if p.error is not None]
    chars_in = sum(p.chars_in for p in ok)
    chars_out = sum(r["chars"] for r in records)
    removed_chars = sum(len(e.text) for p in ok for e in p.edits)
    out = ["# cleaner report", ""]
    out += [
        "## Summary", "",
        "| | |", "|---|---|",
        f"| files | {len(pages)} ({len(ok)} cleaned, {len(failed)} failed) |",
        f"| speeches | {len(records)} |",
        f"| paragraphs | {sum(r['paragraphs'] for r in records)} |",
        f"| characters in (decoded) | {chars_in} |",
        f"| characters out (speech text) | {chars_out} |",
        f"| characters removed by rules | {removed_chars} |",
        f"| duplicate clusters | {len(clusters)} |",
        f"| duplicate paragraphs (copies) | {stats['duplicate_paragraphs']} |",
        f"| rule set | `{str(manifest['rules_digest'])[:16]}` |",
        "",
    ]
    out += _encoding_section(pages, manifest["encodings"])
    if failed:
        out += ["## Failed inputs", "", "| file | reason |", "|---|---|"]
        out += [f"| {p.source} | {p.error} |" for p in failed]
        out.append("")
    out += ["## Files", "", "| file | encoding | layout | chars in | speeches | titles |",
            "|---|---|---|---|---|---|"]
    for p in ok:
        titles = "; ".join(_clip(s.title or "(untitled)", 30) for s in p.speeches or [])
        out.append(f"| {p.source} | {p.encoding} | {p.layout or '-'} | {p.chars_in} "
                   f"| {len(p.speeches or [])} | {titles} |")
    out.append("")
    counts: Counter[str] = Counter()
    for p in ok:
        counts.update(p.counts)
    out += ["## Changes per rule", "",
            "Strip rules count removed lines or spans (each is listed in `removed.jsonl`);",
            "normalize rules count characters or spans rewritten; `decode.*` counts",
            "characters tidied after decoding (entities, line endings, NFC, controls,",
            "zero-width characters).", "",
            "| rule | count |", "|---|---|"]
    out += [f"| {rule} | {n} |" for rule, n in sorted(counts.items())]
    out.append("")
    out += ["## Duplicate clusters", "",
            f"{stats['signed']} paragraphs signed, {stats['short']} shorter than "
            f"{settings.min_chars} characters not signed; {stats['candidate_pairs']} LSH candidate "
            f"pairs, {stats['verified_pairs']} confirmed by exact Jaccard.", ""]
    for c in sorted(clusters, key=lambda c: (-len(c.members), c.cluster)):
        out.append(f"### Cluster {c.cluster}: {len(c.members)} members, "
                   f"min Jaccard {c.min_jaccard:.3f}")
        out.append("")
        for m in c.members:
            role = "original" if m.original else f"copy (Jaccard {m.jaccard:.3f})"
            out.append(f"- `{m.doc}` ¶{m.para} {role}: {_clip(m.text)}")
        out.append("")
    if not clusters:
        out += ["No near-duplicate paragraphs across speeches.", ""]
    d = settings.describe()
    out += ["## MinHash settings", "", "| setting | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in d.items()]
    out += ["", "Shingles are character n-grams of each paragraph's key (width folded, "
            "lower case, punctuation and spaces removed).", ""]
    return "\n".join(out)
