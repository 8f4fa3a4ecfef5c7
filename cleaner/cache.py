"""A folder of per-file results, keyed by content and settings, never by time.

A per-file stage is a pure function of (bytes or page, rules, settings), so
its result can be kept under a key built from exactly those: the raw file's
sha256, the rule-set digest, the settings and the stage's name
(:func:`digest` joins such parts into one key). A second run with nothing
changed then reads results instead of computing them.

Safety:

- Every entry is written to a temporary file in the cache folder and renamed
  into place, so a run killed at any moment leaves whole entries or none.
- An entry that cannot be read, has the wrong header, or whose checksum does
  not match is a miss (and is removed), never an error; a failed write is
  ignored. The cache can only make a run faster, never change its output.
- Entries are stored with :mod:`marshal` of plain data (``Page.to_dict()``),
  not :mod:`pickle`: loading an entry cannot run code. The names of the
  entries include the tool version, the cache format and the Python version
  (marshal's format belongs to the interpreter), so an upgrade starts afresh.
- Growth is bounded: :meth:`PageCache.prune`, called at the end of a run,
  removes every entry the run did not use, so the cache holds one run's
  results (about twice the raw corpus size when both phases are cached).

Reading is fast. Measured on 400 generated pages after the whole cleaning
(6 MB of entries): marshal plus ``Page.from_dict`` loads a page in about
50 µs, pickle of the ``Page`` objects in 100 µs, JSON plus ``from_dict`` in
75 µs with files twice as large; a run with every page cached spends its
time starting the interpreter, not reading (see ``benchmarks/bench_run.py``).
"""
from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from . import __version__
from .model import Page

# Bump when the layout of an entry changes.
CACHE_FORMAT = 1
DEFAULT_NAME = ".cleaner-cache"
_MAGIC = b"cleaner-cache\n"
_HEADER = len(_MAGIC) + 8  # magic, then payload length and crc32, 4 bytes each
_TEMP_PREFIX = ".tmp-"
_TAG = "CACHEDIR.TAG"
_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
             "# This folder holds cleaner's cache of per-file results; it can be deleted.\n")


def digest(*parts: object) -> str:
    """One key from several parts: the sha256 of their ``str`` forms, each length-prefixed.

    Length prefixes keep ``("ab", "c")`` and ``("a", "bc")`` apart.

    >>> digest("ab", "c") == digest("a", "bc")
    False
    >>> digest("x", 1) == digest("x", "1")
    True
    >>> len(digest())
    64
    """
    h = hashlib.sha256()
    for part in parts:
        data = str(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def file_digest(path: Path) -> str | None:
    """The sha256 of a file's bytes, or None when it cannot be read as a regular file.

    None means "do not cache": reading the file in the stage itself then
    fails with the reason.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        regular = False
    if not regular:  # checked before fdopen, which refuses a folder
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            return hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError:
            return None


def page_digest(page: Page) -> str:
    """A key for a page's whole content (lines, edits, counts, everything it carries).

    For a stage whose input is a page rather than a file: two pages with the
    same digest give the same result.
    """
    return hashlib.sha256(marshal.dumps(page.to_dict())).hexdigest()


def pack(data: object) -> bytes:
    """An entry's bytes: header (magic, length, crc32), then ``marshal`` of ``data``.

    >>> unpack(pack({"a": [1, "二"]}))
    {'a': [1, '二']}
    """
    return b"".join(pack_parts(data))


def pack_parts(data: object) -> tuple[bytes, bytes]:
    """:func:`pack` as (header, payload), so that a big entry can be written
    without joining the two into one more copy of it."""
    payload = marshal.dumps(data)
    return (_MAGIC + len(payload).to_bytes(4, "little")
            + zlib.crc32(payload).to_bytes(4, "little")), payload


def unpack(blob: bytes) -> object:
    """The data of an entry made by :func:`pack`; :class:`ValueError` when it is damaged.

    >>> unpack(pack([1, 2])[:-1])
    Traceback (most recent call last):
    ...
    ValueError: damaged cache entry
    """
    if len(blob) < _HEADER or not blob.startswith(_MAGIC):
        raise ValueError("damaged cache entry")
    size = int.from_bytes(blob[len(_MAGIC):len(_MAGIC) + 4], "little")
    crc = int.from_bytes(blob[len(_MAGIC) + 4:_HEADER], "little")
    payload = memoryview(blob)[_HEADER:]
    if len(payload) != size or zlib.crc32(payload) != crc:
        raise ValueError("damaged cache entry")
    return marshal.loads(payload)


class PageCache:
    """Results stored by key in ``folder``: pages (:meth:`get`, :meth:`put`) and
    small records of plain data (:meth:`get_record`, :meth:`put_record`).

    The object remembers which entries it read or wrote, so that
    :meth:`prune` at the end of a run keeps exactly those. It is picklable
    (the folder and the namespace only), so worker processes can write
    entries; the process that prunes must :meth:`mark` the keys they used.
    """

    def __init__(self, folder: Path, version: str = __version__) -> None:
        self.folder = Path(folder)
        # Everything that makes an old entry unreadable or wrong goes in the names.
        self.namespace = digest("cleaner", version, CACHE_FORMAT, marshal.version,
                                sys.implementation.cache_tag)
        self.hits = self.misses = self.writes = self.failed_writes = 0
        self._used: set[str] = set()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_used"] = set()  # a worker reports nothing back; the caller marks keys
        return state

    # -- names ---------------------------------------------------------------

    def _name(self, key: str) -> str:
        return digest(self.namespace, key)

    def _path(self, name: str) -> Path:
        return self.folder / name[:2] / name[2:]

    def mark(self, keys: Iterable[str | None]) -> None:
        """Count ``keys`` as used by this run, so :meth:`prune` keeps their entries."""
        self._used.update(self._name(k) for k in keys if k is not None)

    # -- raw entries -----------------------------------------------------------

    def _load(self, key: str) -> object | None:
        name = self._name(key)
        path = self._path(name)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError:
            self.misses += 1
            return None
        try:
            data = unpack(blob)
        except (ValueError, EOFError, TypeError):
            self.misses += 1
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        self._used.add(name)
        return data

    def _store(self, key: str, data: object) -> None:
        try:
            parts = pack_parts(data)
        except ValueError:  # not plain data
            self.failed_writes += 1
            return
        self.put_packed(key, *parts)

    def put_packed(self, key: str, *blob: bytes) -> None:
        """Store an entry already made by :func:`pack` (a worker packs a page once,
        for the cache and for the trip back to the caller), whole or in parts."""
        name = self._name(key)
        self._used.add(name)
        try:
            self._write(self._path(name), *blob)
            self.writes += 1
        except OSError:  # a full disk or an odd folder must not fail the run
            self.failed_writes += 1

    def _write(self, path: Path, *blob: bytes) -> None:
        try:
            fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        except FileNotFoundError:
            self._create()
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                for part in blob:
                    fh.write(part)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _create(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
        tag = self.folder / _TAG
        if not tag.exists():
            tag.write_text(_TAG_TEXT, encoding="utf-8")

    # -- pages and records -----------------------------------------------------

    def get(self, key: str) -> Page | None:
        """The page stored under ``key``, or None (never stored, or unreadable)."""
        data = self._load(key)
        if data is None:
            return None
        try:
            return Page.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.hits -= 1
            self.misses += 1
            self._path(self._name(key)).unlink(missing_ok=True)
            return None

    def put(self, key: str, page: Page) -> None:
        """Store ``page`` under ``key`` (atomically; failures are ignored and counted)."""
        self._store(key, page.to_dict())

    def get_record(self, key: str) -> dict | None:
        """A record stored with :meth:`put_record`, or None."""
        data = self._load(key)
        return data if isinstance(data, dict) else None

    def put_record(self, key: str, record: dict) -> None:
        """Store a record of plain data (dicts, lists, str, int, float, bool, None)."""
        self._store(key, record)

    # -- bounded growth ----------------------------------------------------------

    def prune(self) -> int:
        """Remove every entry this run did not read or write, and stray temporary
        files; return how many files were removed.

        Call it once, at the end of a run that completed. A run on another
        corpus sharing the folder loses its entries (they are rebuilt when
        needed: a miss, never a wrong result).
        """
        removed = 0
        try:
            shards = list(os.scandir(self.folder))
        except OSError:
            return 0
        for shard in shards:
            if not shard.is_dir(follow_symlinks=False) or len(shard.name) != 2:
                continue
            try:
                entries = list(os.scandir(shard.path))
            except OSError:
                continue
            for entry in entries:
                if shard.name + entry.name not in self._used:
                    try:
                        os.unlink(entry.path)
                        removed += 1
                    except OSError:
                        pass
            try:
                os.rmdir(shard.path)  # only when it is empty
            except OSError:
                pass
        return removed

    def stats(self) -> dict[str, int]:
        """Hits, misses and writes seen by this object (not by worker processes)."""
        return {"hits": self.hits, "misses": self.misses, "writes": self.writes,
                "failed_writes": self.failed_writes}


def default_cache_dir(out: Path) -> Path:
    """Where a run writing ``out`` keeps its cache: ``.cleaner-cache`` beside ``out``.

    Beside, not inside: OUT is replaced as a whole on every run, and nothing is
    ever written inside RAW.

    >>> default_cache_dir(Path("data/clean")).as_posix()
    'data/.cleaner-cache'
    """
    return Path(out).parent / DEFAULT_NAME
