"""A corpus cleaned earlier, as the reference that a new batch is deduplicated against.

``cleaner dedup SOURCE OUT --against OLD_CLEAN`` reads ``OLD_CLEAN/corpus.jsonl``
(only ``id``, ``text`` and ``source`` of each line) and gives its speeches to
:func:`cleaner.dedup.find_duplicates` as ``reference``: they are the originals,
and only duplicates that involve the new batch are reported. docs/dedup.md
describes the semantics.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .dedup import DedupResult, DedupSettings, SignFn, SpeechMeta, find_duplicates
from .errors import UsageError

__all__ = ["CORPUS_FILE", "ReferenceCorpus", "find_duplicates_against", "read_reference"]

CORPUS_FILE = "corpus.jsonl"


@dataclass(frozen=True)
class ReferenceCorpus:
    """The speeches of an earlier output folder, in its corpus order."""

    folder: Path
    speeches: tuple[tuple[str, tuple[str, ...]], ...]  # (id, paragraphs): ``text`` split on "\n"
    sources: tuple[str, ...]  # per speech, its raw file relative to the earlier RAW

    def source_of(self) -> dict[str, str]:
        """Speech id → source file, for reports that say where an original came from."""
        return dict(zip((sid for sid, _ in self.speeches), self.sources))


def paragraphs_of(text: str) -> tuple[str, ...]:
    """The paragraphs of a ``corpus.jsonl`` text: one per line; none for an empty text.

    >>> paragraphs_of("第一段\\n第二段"), paragraphs_of("")
    (('第一段', '第二段'), ())
    """
    return tuple(text.split("\n")) if text else ()


def _speech(line: str) -> tuple[str, str, str]:
    """``(id, text, source)`` of one corpus line; ValueError saying what is wrong."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    fields = []
    for name in ("id", "text", "source"):
        value = record.get(name)
        if not isinstance(value, str):
            raise ValueError(f"field {name!r} missing or not a string")
        fields.append(value)
    if not fields[0]:
        raise ValueError("empty id")
    return fields[0], fields[1], fields[2]


def read_reference(folder: Path) -> ReferenceCorpus:
    """The speeches of ``folder/corpus.jsonl``, an output folder of an earlier run.

    Raises :class:`UsageError` naming the folder (and the line) when the file
    is missing or unreadable, a line is not a speech record (JSON object with
    string ``id``, ``text`` and ``source``), or an id repeats. Blank lines are
    skipped.
    """
    folder = Path(folder)
    path = folder / CORPUS_FILE
    if not path.is_file():
        raise UsageError(f"--against {folder}: no {CORPUS_FILE} in it; give the output folder "
                         "of an earlier 'cleaner run' or 'cleaner dedup'")
    speeches: list[tuple[str, tuple[str, ...]]] = []
    sources: list[str] = []
    seen: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    sid, text, source = _speech(line)
                except ValueError as exc:
                    raise UsageError(f"--against {folder}: {CORPUS_FILE} line {number}: {exc}") from None
                if sid in seen:
                    raise UsageError(f"--against {folder}: {CORPUS_FILE} line {number}: id {sid!r} "
                                     f"repeats line {seen[sid]}")
                seen[sid] = number
                speeches.append((sid, paragraphs_of(text)))
                sources.append(source)
    except UnicodeDecodeError as exc:
        raise UsageError(f"--against {folder}: {CORPUS_FILE} is not UTF-8 ({exc.reason} "
                         f"at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"--against {folder}: cannot read {CORPUS_FILE}: {exc.strerror or exc}") from None
    return ReferenceCorpus(folder, tuple(speeches), tuple(sources))


def find_duplicates_against(
    speeches: Sequence[tuple[str, Sequence[str]]],
    old_clean: Path | ReferenceCorpus,
    settings: DedupSettings = DedupSettings(),
    meta: Sequence[SpeechMeta] | None = None,
    sign: SignFn | None = None,
) -> DedupResult:
    """Duplicates of the new ``speeches`` in an earlier output folder and among themselves.

    The earlier corpus's speeches are the originals (``Member.reference`` and
    ``SpeechDuplicate.reference`` mark them); clusters, short groups and
    speech duplicates made only of them are not reported, and
    :func:`cleaner.dedup.plan_drops` never drops them.
    """
    reference = old_clean if isinstance(old_clean, ReferenceCorpus) else read_reference(old_clean)
    return find_duplicates(speeches, settings, meta, sign, reference=reference.speeches)
