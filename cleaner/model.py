"""The records passed between stages: a page of lines, its edits, its speeches.

Every stage reads and returns a :class:`Page`. A page travels as one JSON object
per line between the stage commands, so ``to_dict``/``from_dict`` are the wire
format and must round-trip exactly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Edit:
    """One recorded change: which stage and rule removed or rewrote what, where.

    ``line`` is the 1-based line number in the decoded raw file.
    """

    stage: str
    rule: str
    line: int
    action: str
    text: str


@dataclass
class Speech:
    """One speech cut out of a page: its title (or None) and its paragraphs."""

    n: int
    title: str | None
    paragraphs: list[str]
    line: int  # source line where the speech starts
    subtitles: list[str] = field(default_factory=list)  # subtitle and byline lines under the title


@dataclass
class Page:
    """One raw file on its way through the stages.

    ``lines`` pairs each kept line with its 1-based source line number so that
    every later removal can still name the line it came from.
    """

    source: str
    sha256: str
    size: int
    encoding: str = ""
    decided_by: str = ""
    confidence: float = 0.0
    replaced: int = 0  # bytes no candidate codec could decode (now U+FFFD)
    repaired: str = ""  # the mojibake repair applied, if any
    guessed: int = 0  # bytes the misreading had lost, restored from context
    damaged: int = 0  # places damaged before us: runs of U+FFFD or 锟斤拷
    chars_in: int = 0
    layout: str = ""  # preview, blank-line or one-line: how the page laid out its paragraphs
    lines: list[tuple[int, str]] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    speeches: list[Speech] | None = None
    stages: list[str] = field(default_factory=list)
    rules_digest: str = ""
    templates_digest: str = ""  # the learned site templates applied, if any
    error: str | None = None

    def count(self, rule: str, n: int = 1) -> None:
        """Add ``n`` to the per-rule counter (zero adds nothing)."""
        if n:
            self.counts[rule] = self.counts.get(rule, 0) + n

    def record(self, edit: Edit) -> None:
        """Keep an edit for the audit trail and count it under its rule."""
        self.edits.append(edit)
        self.count(edit.rule)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lines"] = [[n, t] for n, t in self.lines]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Page:
        speeches = d.get("speeches")
        return cls(
            source=d["source"],
            sha256=d["sha256"],
            size=d["size"],
            encoding=d.get("encoding", ""),
            decided_by=d.get("decided_by", ""),
            confidence=d.get("confidence", 0.0),
            replaced=d.get("replaced", 0),
            repaired=d.get("repaired", ""),
            guessed=d.get("guessed", 0),
            damaged=d.get("damaged", 0),
            chars_in=d.get("chars_in", 0),
            layout=d.get("layout", ""),
            lines=[(int(n), t) for n, t in d.get("lines", [])],
            edits=[Edit(**e) for e in d.get("edits", [])],
            counts=dict(d.get("counts", {})),
            speeches=None if speeches is None else [Speech(**s) for s in speeches],
            stages=list(d.get("stages", [])),
            rules_digest=d.get("rules_digest", ""),
            templates_digest=d.get("templates_digest", ""),
            error=d.get("error"),
        )
