"""Human-readable outputs: ``report.md`` and ``duplicates.csv``."""
from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable

from .dedup import Cluster, DedupResult, DropPlan
from .model import Page


def render_csv(clusters: Iterable[Cluster], reference: bool = False) -> str:
    """One row per cluster member, for spreadsheets (with ``reference``: a last
    column saying whether the member is in the earlier corpus of ``--against``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["cluster", "doc", "para", "original", "jaccard", "text"]
                    + (["reference"] if reference else []))
    for c in clusters:
        for m in c.members:
            row = [c.cluster, m.doc, m.para, "yes" if m.original else "", m.jaccard, m.text]
            writer.writerow(row + (["yes" if m.reference else ""] if reference else []))
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
    text = _cell(text)
    return text if len(text) <= width else text[:width] + "…"


def _cell(text: object) -> str:
    """A table cell: pipes escaped, line breaks shown as ⏎ (a cell is one line)."""
    return str(text).replace("|", "\\|").replace("\r", "").replace("\n", " ⏎ ")


MAX_LISTED = 50  # clusters, speeches and repeated lines listed in report.md; the rest are in the JSON files
MAX_MEMBERS = 10  # members shown per cluster in report.md
MAX_FILES = 200  # rows of the Files table; every input is in manifest.json


def _dedup_section(result: DedupResult, plan: DropPlan | None) -> list[str]:
    stats, settings = result.stats, result.settings
    out = ["## Near-duplicate speeches", "",
           f"A speech is a near-duplicate when at least {settings.speech_threshold:.0%} of its text "
           f"is found in a speech kept before it (`--keep {settings.keep}`); "
           "see `duplicate_of` and `copied_share` in `corpus.jsonl`.", ""]
    if result.speech_duplicates:
        out += ["| speech | duplicate of | copied | characters |", "|---|---|---|---|"]
        for d in result.speech_duplicates[:MAX_LISTED]:
            out.append(f"| `{_cell(d.doc)}` | `{_cell(d.duplicate_of)}` | {d.share:.0%} | {d.chars} |")
        if len(result.speech_duplicates) > MAX_LISTED:
            out.append(f"\n{len(result.speech_duplicates) - MAX_LISTED} more in `corpus.jsonl`.")
    else:
        out.append("No near-duplicate speeches.")
    out.append("")
    if plan is not None:
        out += ["## Dropped as duplicates (`--drop-duplicates`)", "",
                f"{len(plan.speeches)} speeches dropped whole and {len(plan.paragraphs)} copied "
                "paragraphs removed from the speeches kept; each is in `removed.jsonl` "
                "under rule `dedup`.", ""]
    out += ["## Duplicate clusters", "",
            f"{stats['signed']} paragraphs signed, {stats['short']} shorter than "
            f"{settings.min_chars} characters not signed; {stats['candidate_pairs']} LSH candidate "
            f"pairs, {stats['verified_pairs']} confirmed by exact Jaccard. Largest first; "
            "every cluster is in `duplicates.jsonl`.", ""]
    clusters = sorted(result.clusters, key=lambda c: (-len(c.members), c.cluster))
    for c in clusters[:MAX_LISTED]:
        out.append(f"### Cluster {c.cluster}: {len(c.members)} members, "
                   f"min Jaccard {c.min_jaccard:.3f}")
        out.append("")
        for m in c.members[:MAX_MEMBERS]:
            role = "original" if m.original else f"copy (Jaccard {m.jaccard:.3f})"
            out.append(f"- `{m.doc}` ¶{m.para} {role}: {_clip(m.text)}")
        if len(c.members) > MAX_MEMBERS:
            out.append(f"- … {len(c.members) - MAX_MEMBERS} more copies in `duplicates.jsonl`")
        out.append("")
    if len(clusters) > MAX_LISTED:
        out += [f"{len(clusters) - MAX_LISTED} more clusters in `duplicates.jsonl`.", ""]
    if not clusters:
        out += ["No near-duplicate paragraphs across speeches.", ""]
    groups = sorted(result.short_groups, key=lambda g: (-len(g.members), g.group))
    out += ["## Short repeated lines", "",
            f"Paragraphs under {settings.min_chars} characters found in more than one speech "
            "(exact match of the key). Reported only, never dropped: most are formulas such "
            "as salutations. All are in `repeats.jsonl`.", ""]
    if groups:
        out += ["| line | copies | speeches |", "|---|---|---|"]
        out += [f"| {_clip(g.original.text)} | {len(g.members)} | {g.speeches} |"
                for g in groups[:MAX_LISTED]]
        if len(groups) > MAX_LISTED:
            out.append(f"\n{len(groups) - MAX_LISTED} more in `repeats.jsonl`.")
    else:
        out.append("None.")
    out.append("")
    return out


def render_report(pages: list[Page], records: list[dict], result: DedupResult, manifest: dict,
                  plan: DropPlan | None = None) -> str:
    stats, settings = result.stats, result.settings
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
        f"| duplicate clusters | {len(result.clusters)} |",
        f"| duplicate paragraphs (copies) | {stats['duplicate_paragraphs']} |",
        f"| near-duplicate speeches | {len(result.speech_duplicates)} |",
        f"| short lines repeated | {stats['short_groups']} |",
        f"| rule set | `{str(manifest['rules_digest'])[:16]}` |",
        "",
    ]
    out += _encoding_section(pages, manifest["encodings"])
    if failed:
        out += ["## Failed inputs", "", "| file | reason |", "|---|---|"]
        out += [f"| {_cell(p.source)} | {_cell(p.error)} |" for p in failed]
        out.append("")
    empty = [p for p in ok if not p.speeches]
    if empty:
        out += ["## Files that gave no speech", "",
                "Nothing of these files is in the corpus: they were empty, or everything in "
                "them was removed (see `removed.jsonl`).", "",
                "| file | chars in | characters removed |", "|---|---|---|"]
        out += [f"| {_cell(p.source)} | {p.chars_in} | {sum(len(e.text) for e in p.edits)} |"
                for p in empty]
        out.append("")
    out += ["## Files", "", "| file | encoding | layout | chars in | speeches | titles |",
            "|---|---|---|---|---|---|"]
    for p in ok[:MAX_FILES]:
        titles = "; ".join(_clip(s.title or "(untitled)", 30) for s in p.speeches or [])
        out.append(f"| {_cell(p.source)} | {p.encoding} | {p.layout or '-'} | {p.chars_in} "
                   f"| {len(p.speeches or [])} | {titles} |")
    if len(ok) > MAX_FILES:
        out.append(f"\n{len(ok) - MAX_FILES} more files: every input is in `manifest.json`, "
                   "every speech in `corpus.jsonl`.")
    out.append("")
    counts: Counter[str] = Counter()
    for p in ok:
        counts.update(p.counts)
    out += ["## Changes per rule", "",
            "Strip rules count removed lines or spans (each is listed in `removed.jsonl`);",
            "`template.<id>` counts lines dropped by a site template learned from the corpus;",
            "normalize rules count characters or spans rewritten; `decode.*` counts",
            "characters tidied after decoding (entities, line endings, NFC, controls,",
            "zero-width characters).", "",
            "| rule | count |", "|---|---|"]
    out += [f"| {rule} | {n} |" for rule, n in sorted(counts.items())]
    out.append("")
    templates = manifest["settings"].get("templates")
    if templates is not None:
        dropped = sum(n for rule, n in counts.items() if rule.startswith("template."))
        learned = len({rule for rule in counts if rule.startswith("template.")})
        out += ["## Learned site templates", "",
                f"Site templates learned from this corpus (`{templates}`): {dropped} lines dropped "
                f"by {learned} templates, the `template.<id>` rows above. "
                "`cleaner templates RAW` lists them with examples, ready to become rules.", ""]
    against = manifest["settings"].get("against")
    if against is not None:
        out += ["## Against an earlier corpus", "",
                f"Copies were also looked for in the {against['speeches']} speeches of "
                f"`{_cell(against['folder'])}` (`--against`). Those speeches are the originals "
                "of any copy found here and are not written again; in `duplicates.jsonl` their "
                "paragraphs have `reference: true`, and a speech reposting one of them has "
                "`duplicate_of_reference: true` in `corpus.jsonl`.", ""]
    out += _dedup_section(result, plan)
    d = settings.describe()
    out += ["## MinHash settings", "", "| setting | value |", "|---|---|"]
    out += [f"| {k} | {_cell(v)} |" for k, v in d.items()]
    out += ["", "Shingles are character n-grams of each paragraph's key (width folded, "
            "lower case, punctuation and spaces removed).", ""]
    return "\n".join(out)
