"""Per-path encoding overrides: ``encodings.toml`` in the rules folder.

For files whose bytes mislead any detector (a folder of short Big5 titles,
say), users name the codec by path::

    [[path]]
    glob = "archive/tw/*.txt"
    encoding = "big5"

Globs are matched against the path relative to RAW with ``/`` separators
(``fnmatch`` rules: ``*`` also crosses folders); the first matching entry
wins. The named codec is widened like a detected one (``gbk`` decodes as
``gb18030``), so a correct override never loses characters.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from .decode import text_codec
from .errors import RuleError
from .rules import ENCODING_MAP_FILE as FILE_NAME
from .rules import toml_tables


@dataclass(frozen=True)
class EncodingMap:
    entries: tuple[tuple[str, str], ...] = ()

    def lookup(self, source: str) -> str | None:
        """The codec for a source path, or None.

        >>> EncodingMap((("tw/*", "big5"), ("*.txt", "gbk"))).lookup("tw/a/b.txt")
        'big5'
        >>> EncodingMap((("tw/*", "big5"),)).lookup("cn/b.txt") is None
        True
        """
        for glob, encoding in self.entries:
            if fnmatchcase(source, glob):
                return encoding
        return None

    def __bool__(self) -> bool:
        return bool(self.entries)


def parse_encoding_map(name: str, raw: bytes) -> EncodingMap:
    """Validate the file's entries; a problem raises :class:`RuleError` naming the entry.

    >>> parse_encoding_map("e.toml", b'[[path]]\\nglob = "a/*"\\nencoding = "GBK"\\n')
    EncodingMap(entries=(('a/*', 'gbk'),))
    >>> parse_encoding_map("e.toml", b'[[path]]\\nglob = "a/*"\\nencoding = "nope"\\n')
    Traceback (most recent call last):
    cleaner.errors.RuleError: e.toml: path #1 ('a/*'): unknown encoding 'nope'
    """
    out = []
    for i, entry in enumerate(toml_tables(name, raw, "path"), 1):
        glob = entry.get("glob") if isinstance(entry, dict) else None
        where = f"{name}: path #{i}" + (f" ({glob!r})" if glob else "")
        if not isinstance(entry, dict) or set(entry) - {"glob", "encoding", "note"}:
            raise RuleError(f"{where}: fields are glob, encoding and an optional note")
        encoding, note = entry.get("encoding"), entry.get("note", "")
        if not isinstance(glob, str) or not glob:
            raise RuleError(f"{where}: 'glob' must be a non-empty string")
        if not isinstance(encoding, str):
            raise RuleError(f"{where}: 'encoding' must be a string")
        if not isinstance(note, str):
            raise RuleError(f"{where}: 'note' must be a string")
        try:
            out.append((glob, text_codec(encoding)))
        except LookupError:
            raise RuleError(f"{where}: unknown encoding {encoding!r}") from None
    return EncodingMap(tuple(out))


def load_encoding_map(directory: Path) -> EncodingMap:
    """Read ``encodings.toml`` from a rules folder; an absent file maps nothing."""
    path = Path(directory) / FILE_NAME
    if not path.is_file():
        return EncodingMap()
    return parse_encoding_map(path.name, path.read_bytes())
