"""A persistent store of paragraph signatures: a re-run signs only new paragraphs.

A MinHash signature depends only on the paragraph key and on
``DedupSettings.signature_id()``; signing is the costliest phase of dedup, so
the signatures of a run are kept in the cache folder and served to the next
run. :class:`SignatureStore` is the ``sign`` callable of
:func:`cleaner.dedup.find_duplicates`: it looks every key up, signs only the
misses (in one batch per call) and stores them.

Layout, under ``<cache root>/signatures/<settings>/`` (``<settings>``: the
first 16 hex digits of the SHA-1 of the signature id, so that a change of
shingle, num_perm, seed, hash or scheme is a different folder and a miss):

- ``index.json``: format, signature id, row dtype and width, a generation
  counter, and the shards in use;
- ``<name>.keys.npy``: ``(rows, 3)`` uint64, sorted: the key digest
  (BLAKE2b-128 of the key's UTF-8, two words) and a check of the row;
- ``<name>.sigs.npy``: ``(rows, num_perm)`` signature rows in the same order,
  read row by row with ``pread`` (see :func:`_read_rows`).

Why shards of ``.npy`` and not sqlite: a lookup is a ``searchsorted`` on
the sorted digests of each shard and a gather of the rows, a few numpy calls
for a whole batch; sqlite needs a Python round trip per key or a temporary
table join, and was 3 to 10 times slower to read and about 8 times slower to
write on a million signatures (docs/dedup.md has the figures).

Safety:

- writes are atomic: a shard is written to a temporary file, synced and
  renamed; the index is rewritten the same way, and only then are files it
  no longer lists deleted. A killed run leaves the previous index and its
  shards, plus at most some unlisted files that the next open deletes;
- a corrupt store is rebuilt, never a crash: an unreadable or inconsistent
  index empties the folder; a shard that does not load, has the wrong shape
  or unsorted keys is dropped; a row whose check does not match is a miss
  (re-signed) and the next compaction leaves it out;
- results are deterministic: a served row is the stored row, bit for bit,
  and the check makes sure it is the row that was stored under that key;
- growth is bounded (:meth:`SignatureStore.close`): at most ``MAX_SHARDS``
  shards (more are merged into one), and at most ``max_bytes`` for the whole
  ``signatures/`` folder: other settings' folders go first (least recently
  used first), then the rows this run did not use, oldest first. The rows a
  run used are always kept, so the next run over the same corpus is warm.

Memory: what the store holds while a run goes on is about 60 bytes per new
key (its digest, check and place in a sorted index) and 16 per key asked;
new rows wait in an unnamed temporary file in the folder until they are
written as a shard, shards are read and written a block at a time, never
through a memory map (whose pages would count as the process's memory).

One run at a time per cache folder: two runs writing the same folder at once
do not corrupt it (every write is a rename) but may delete each other's new
shards.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import IO

import numpy as np

from .dedup import DedupSettings, SignFn, paragraph_signatures
from .minhash import fmix64

__all__ = [
    "DEFAULT_MAX_BYTES",
    "STORE_DIR",
    "SignatureStore",
    "key_digests",
    "row_checks",
    "settings_folder",
]

STORE_DIR = "signatures"
FORMAT = 1
INDEX = "index.json"
DEFAULT_MAX_BYTES = 4 * 2**30  # about 8 million signatures at 128 permutations
FLUSH_ROWS = 1 << 18  # new rows held in memory before they are written as a shard
MAX_SHARDS = 8  # more after a run: merged into one
CHUNK_ROWS = 1 << 13  # rows checked or copied at once
READ_ROWS = 1 << 10  # rows read from a file at once
GAP_ROWS = 8  # rows between two wanted ones read rather than skipped (one read call instead of two)
CHECK_ROWS = 1 << 10  # rows widened at once to compute their checks
_SHARD_NAME = re.compile(r"[0-9]{8}-[0-9a-f]{12}")
_SETTINGS_NAME = re.compile(r"[0-9a-f]{16}")


def settings_folder(settings: DedupSettings) -> str:
    """The folder name of a signature id: 16 hex digits of its SHA-1.

    >>> settings_folder(DedupSettings()) != settings_folder(DedupSettings(shingle=4))
    True
    """
    return hashlib.sha1(settings.signature_id().encode("utf-8")).hexdigest()[:16]


def key_digests(keys: Sequence[str]) -> np.ndarray:
    """BLAKE2b-128 of each key's UTF-8 as ``(len(keys), 2)`` uint64.

    >>> d = key_digests(["教育", "教育", "会议"])
    >>> d.shape, bool((d[0] == d[1]).all()), bool((d[0] == d[2]).all())
    ((3, 2), True, False)
    """
    blake = hashlib.blake2b
    data = b"".join([blake(k.encode("utf-8", "surrogatepass"), digest_size=16).digest() for k in keys])
    return np.frombuffer(data, dtype="<u8").astype(np.uint64).reshape(-1, 2)


@lru_cache(maxsize=8)
def _check_weights(width: int) -> np.ndarray:
    """Odd 64-bit weights, one per column: changing one value always changes the sum."""
    weights = fmix64(np.arange(1, width + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    weights.setflags(write=False)
    return weights


def row_checks(rows: np.ndarray, digests: np.ndarray) -> np.ndarray:
    """A 64-bit check of each signature row bound to its key digest.

    A weighted sum of the row's values (mod 2**64, odd weights) mixed with
    the digest: a changed value, a row moved to another key, or garbage all
    change it.

    >>> rows = np.array([[1, 2, 3], [1, 2, 4]], dtype=np.uint32)
    >>> d = np.array([[5, 6], [5, 6]], dtype=np.uint64)
    >>> c = row_checks(rows, d)
    >>> bool(c[0] != c[1]), bool(row_checks(rows[:1], d[:1] + np.uint64(1))[0] != c[0])
    (True, True)
    """
    n = len(rows)
    out = np.empty(n, dtype=np.uint64)
    if n == 0:
        return out
    weights = _check_weights(rows.shape[1])
    for lo in range(0, n, CHECK_ROWS):  # small blocks: a widened copy of each
        hi = min(lo + CHECK_ROWS, n)
        block = np.asarray(rows[lo:hi]).astype(np.uint64)
        block *= weights
        total = block.sum(axis=1, dtype=np.uint64)
        h = fmix64(total ^ digests[lo:hi, 0])
        out[lo:hi] = fmix64(h ^ digests[lo:hi, 1])
    return out


@dataclass
class _Shard:
    name: str
    generation: int
    hi: np.ndarray  # first digest word, sorted (contiguous, for searchsorted)
    lo: np.ndarray  # second digest word
    check: np.ndarray
    path: Path  # the rows: an ``.npy`` of (rows, width)
    offset: int  # where its rows start
    dtype: np.dtype
    width: int

    @property
    def rows(self) -> int:
        return len(self.hi)

    def read(self, pos: np.ndarray) -> np.ndarray:
        """A copy of the rows at ``pos``; OSError if the file cannot be read."""
        with open(self.path, "rb", buffering=0) as fh:
            return _read_rows(fh.fileno(), self.offset, self.dtype, self.width, pos)


def _pread_fallback(fd: int, n: int, offset: int) -> bytes:
    """``os.pread`` where the system has none (Windows): seek, then read."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


_pread = getattr(os, "pread", _pread_fallback)


def _read_rows(fd: int, offset: int, dtype: np.dtype, width: int, pos: np.ndarray) -> np.ndarray:
    """The rows at ``pos`` of a file of rows starting at ``offset``, read with ``pread``.

    Not through a memory map: a row read through a map brings its whole page
    cache folio (up to 2 MiB for a file just written) into this process, so a
    batch of scattered rows held the whole file. Rows close to one another
    (gaps up to ``GAP_ROWS``) are read in one call, ``READ_ROWS`` at a time.
    """
    n = len(pos)
    size = width * dtype.itemsize
    out = np.empty((n, width), dtype=dtype)
    order = np.argsort(pos, kind="stable")
    for start in range(0, n, READ_ROWS):
        at = order[start:start + READ_ROWS]
        q = np.asarray(pos[at], dtype=np.int64)
        new_run = np.ones(len(q), dtype=bool)
        new_run[1:] = np.diff(q) > GAP_ROWS
        starts = np.flatnonzero(new_run)
        first = q[starts]
        last = q[np.append(starts[1:], len(q)) - 1]
        spans = last - first + 1
        data = b"".join(map(_pread, repeat(fd, len(first)), (spans * size).tolist(),
                            (first * size + offset).tolist()))
        if len(data) != int(spans.sum()) * size:
            raise OSError("a file of signatures is shorter than its rows")
        run = np.cumsum(new_run) - 1
        where = (np.cumsum(spans) - spans)[run] + (q - first[run])
        out[at] = np.frombuffer(data, dtype=dtype).reshape(-1, width)[where]
    return out


def _rows_offset(path: Path, dtype: np.dtype, shape: tuple[int, int]) -> int:
    """Where the rows of an ``.npy`` file start; ValueError (or OSError) when
    it is not an ``.npy`` of that type and shape, or is shorter."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"npy version {version}")
        file_shape, fortran, file_dtype = header
        if file_dtype != dtype or tuple(file_shape) != tuple(shape) or fortran:
            raise ValueError(f"rows of shape {file_shape} and type {file_dtype}")
        offset = fh.tell()
        if os.fstat(fh.fileno()).st_size < offset + shape[0] * shape[1] * dtype.itemsize:
            raise ValueError("rows file shorter than its header says")
    return offset


def _sorted_digest_order(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order sorting (hi, lo) pairs (stable), and which of the sorted pairs
    is the first of its value: ``order[first]`` are the first occurrences."""
    order = np.lexsort((lo, hi))
    first = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        h, l = hi[order], lo[order]
        first[1:] = (h[1:] != h[:-1]) | (l[1:] != l[:-1])
    return order, first


def _sorted_by_digest(hi: np.ndarray, lo: np.ndarray) -> bool:
    """Strictly increasing (hi, lo) pairs."""
    if len(hi) < 2:
        return True
    return bool(((hi[1:] > hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] > lo[:-1]))).all())


def _find_digests(hi: np.ndarray, lo: np.ndarray, q_hi: np.ndarray, q_lo: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Where each queried pair ``(q_hi, q_lo)`` is among the (non-empty) pairs
    ``(hi, lo)`` sorted by ``hi``, and whether it is there."""
    pos = np.minimum(np.searchsorted(hi, q_hi), len(hi) - 1)
    return pos, (hi[pos] == q_hi) & (lo[pos] == q_lo)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every system; the renames are atomic anyway
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _new_file_mode() -> int:
    """What a new file gets under the umask (mkstemp makes files private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def _replacing(path: Path, suffix: str) -> Iterator[IO[bytes]]:
    """A temporary sibling of ``path`` to write: synced and renamed to ``path``
    when the block ends, removed if it fails."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, _new_file_mode())
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_array(path: Path, shape: tuple[int, ...], dtype: np.dtype, blocks: Iterable[np.ndarray]) -> None:
    """Write an ``.npy`` atomically: ``blocks`` (consecutive rows) written one
    after the other. Written with plain writes, not a map, so that the file's
    pages are not counted in this process."""
    dtype = np.dtype(dtype)
    with _replacing(path, ".npy") as fh:
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(fh, header)
        written = 0
        for block in blocks:
            block = np.ascontiguousarray(block, dtype=dtype)
            fh.write(block.data)
            written += len(block)
        if written != shape[0]:
            raise ValueError(f"{written} rows written, expected {shape[0]}")


def _write_text(path: Path, text: str) -> None:
    with _replacing(path, ".json") as fh:
        fh.write(text.encode("utf-8"))
    _fsync_dir(path.parent)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            total += entry.stat(follow_symlinks=False).st_size
    return total


class SignatureStore:
    """Signatures of paragraph keys kept under ``root``, for one signature id.

    Use it as the ``sign`` of :func:`cleaner.dedup.find_duplicates`, and
    close it (or use ``with``) so that the new signatures are written and
    the store pruned::

        with SignatureStore(cache_root, settings) as sign:
            result = find_duplicates(speeches, settings, sign=sign)

    ``sign`` computes what the store does not hold (default:
    :func:`cleaner.dedup.paragraph_signatures` with ``settings``).
    ``stats`` counts ``keys`` looked up, ``hits``, ``signed`` keys (distinct
    misses), ``stored`` rows and ``shards`` after closing; ``recovered``
    lists what was found damaged and discarded, ``write_errors`` what could
    not be written (the run goes on: a cache never fails a run).
    """

    def __init__(self, root: Path | str, settings: DedupSettings, sign: SignFn | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self.settings = settings
        self.root = Path(root) / STORE_DIR
        self.folder = self.root / settings_folder(settings)
        self.max_bytes = max_bytes
        self.width = settings.num_perm
        self._sign = sign or (lambda keys: paragraph_signatures(keys, settings))
        self.stats: dict = {"keys": 0, "hits": 0, "signed": 0, "stored": 0, "shards": 0}
        self.recovered: list[str] = []
        self.write_errors: list[str] = []
        self._dtype: np.dtype | None = None
        self._generation = 0
        self._shards: list[_Shard] = []
        # New rows, not written as a shard yet: the rows in ``_spill`` (an
        # unnamed temporary file in the folder, so that they do not stay in
        # memory), in the order signed; their digests and checks in memory;
        # ``_pending_hi``/``_pending_lo``/``_pending_at``: every pending
        # digest, sorted, and its row number in the spill.
        self._spill: IO[bytes] | None = None
        self._spill_failed = False
        self._pending_digests: list[np.ndarray] = []
        self._pending_checks: list[np.ndarray] = []
        self._pending_count = 0
        self._pending_hi = np.empty(0, dtype=np.uint64)
        self._pending_lo = np.empty(0, dtype=np.uint64)
        self._pending_at = np.empty(0, dtype=np.int64)
        self._used: list[np.ndarray] = []
        self._index_stale = False  # the index lists a shard that was dropped
        self._damaged = False  # a row failed its check: compact at close
        self._closed = False
        self._load()

    # -- reading -----------------------------------------------------------

    def _load(self) -> None:
        if not self.folder.is_dir():
            return
        try:
            index = json.loads((self.folder / INDEX).read_text(encoding="utf-8"))
        except FileNotFoundError:
            if any(self.folder.iterdir()):
                self._wipe("no index")
            return
        except (OSError, ValueError) as exc:
            self._wipe(f"unreadable index ({exc})")
            return
        problem = self._index_problem(index)
        if problem:
            self._wipe(problem)
            return
        self._dtype = np.dtype(index["dtype"])
        self._generation = index["generation"]
        for entry in index["shards"]:
            try:
                self._shards.append(self._open_shard(entry["name"], entry["generation"], entry["rows"]))
            except (OSError, ValueError, EOFError) as exc:
                self.recovered.append(f"shard {entry['name']} dropped: {exc}")
                self._index_stale = True
        self._shards.sort(key=lambda s: s.generation)
        self._delete_unlisted()

    def _index_problem(self, index: object) -> str | None:
        """Why an index cannot be used, or None."""
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            return "index of another format"
        if index.get("signature_id") != self.settings.signature_id():
            return "index of other settings"
        if index.get("width") != self.width or index.get("dtype") not in ("uint32", "uint64"):
            return "index with another row shape"
        shards = index.get("shards")
        if not isinstance(index.get("generation"), int) or not isinstance(shards, list):
            return "index without generation or shards"
        for entry in shards:
            if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                    and _SHARD_NAME.fullmatch(entry["name"])
                    and isinstance(entry.get("rows"), int) and isinstance(entry.get("generation"), int)):
                return "index with a bad shard entry"
        return None

    def _open_shard(self, name: str, generation: int, rows: int) -> _Shard:
        keys = np.load(self.folder / f"{name}.keys.npy", allow_pickle=False)
        if keys.dtype != np.uint64 or keys.shape != (rows, 3) or rows == 0:
            raise ValueError(f"keys of shape {keys.shape} and type {keys.dtype}, expected ({rows}, 3) uint64")
        hi, lo = np.ascontiguousarray(keys[:, 0]), np.ascontiguousarray(keys[:, 1])
        if not _sorted_by_digest(hi, lo):
            raise ValueError("keys not sorted")
        path = self.folder / f"{name}.sigs.npy"
        offset = _rows_offset(path, self._dtype, (rows, self.width))
        return _Shard(name, generation, hi, lo, np.ascontiguousarray(keys[:, 2]), path, offset,
                      self._dtype, self.width)

    def _wipe(self, reason: str) -> None:
        self.recovered.append(f"store emptied: {reason}")
        shutil.rmtree(self.folder, ignore_errors=True)
        self._shards, self._dtype, self._generation = [], None, 0

    def _delete_unlisted(self) -> None:
        """Remove files the index does not list: leftovers of a killed run or a merge."""
        listed = {INDEX} | {f"{s.name}.{part}.npy" for s in self._shards for part in ("keys", "sigs")}
        for entry in os.scandir(self.folder):
            if entry.name not in listed and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)

    def lookup(self, digests: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Rows stored under the key digests, and which were found.

        ``rows`` is None when the store holds nothing yet (its type is not
        known); rows not found are left undefined.
        """
        n = len(digests)
        found = np.zeros(n, dtype=bool)
        if self._dtype is None:
            return None, found
        rows = np.empty((n, self.width), dtype=self._dtype)
        for shard in reversed(self._shards):  # newest first
            todo = np.flatnonzero(~found)
            if not len(todo):
                break
            pos, hit = _find_digests(shard.hi, shard.lo, digests[todo, 0], digests[todo, 1])
            where, pos = todo[hit], pos[hit]
            try:
                got = shard.read(pos)
            except OSError as exc:  # gone or cut since it was opened: its rows are misses
                self.recovered.append(f"shard {shard.name} unreadable: {exc}")
                self._damaged = True
                continue
            good = row_checks(got, digests[where]) == shard.check[pos]
            if not good.all():
                self._damaged = True
                self.recovered.append(f"shard {shard.name}: {int((~good).sum())} rows failed their check")
                where, got = where[good], got[good]
            rows[where] = got
            found[where] = True
        if self._pending_count:
            todo = np.flatnonzero(~found)
            pos, hit = _find_digests(self._pending_hi, self._pending_lo, digests[todo, 0], digests[todo, 1])
            if hit.any():
                try:
                    rows[todo[hit]] = self._spilled(self._pending_at[pos[hit]])
                    found[todo[hit]] = True
                except OSError as exc:  # they are signed again; the new rows of this run are not kept
                    self.write_errors.append(f"{self.folder}: {exc.strerror or exc}")
                    self._spill_failed = True
                    self._clear_pending()
        return rows, found

    def _spilled(self, at: np.ndarray) -> np.ndarray:
        """The pending rows numbered ``at``, read from the spill."""
        return _read_rows(self._spill.fileno(), 0, self._dtype, self.width, at)

    # -- signing -----------------------------------------------------------

    def __call__(self, keys: list[str]) -> np.ndarray:
        """Signatures of ``keys``, one row per key: stored rows, the misses signed in one batch."""
        if self._closed:
            raise ValueError("the signature store is closed")
        n = len(keys)
        digests = key_digests(keys)
        self._used.append(digests)
        rows, found = self.lookup(digests)
        miss = np.flatnonzero(~found)
        self.stats["keys"] += n
        self.stats["hits"] += n - len(miss)
        if len(miss) or rows is None:
            # Distinct misses, signed in the order they were asked.
            _, first, inverse = np.unique(digests[miss], axis=0, return_index=True, return_inverse=True)
            order = np.argsort(first)
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            signed = self._signed([keys[i] for i in miss[first[order]].tolist()])
            if rows is None:
                rows = np.empty((n, self.width), dtype=signed.dtype)
            rows[miss] = signed[rank[inverse.ravel()]]
            self._add_pending(digests[miss[first[order]]], signed)
        return rows

    def _signed(self, keys: list[str]) -> np.ndarray:
        signed = np.asarray(self._sign(keys))
        if signed.shape != (len(keys), self.width):
            raise ValueError(f"sign() returned shape {signed.shape}, expected {(len(keys), self.width)}")
        expected = (self._dtype,) if self._dtype is not None else (np.dtype(np.uint32), np.dtype(np.uint64))
        if signed.dtype not in expected:
            raise ValueError(f"sign() returned {signed.dtype} rows, expected {' or '.join(map(str, expected))}")
        self._dtype = signed.dtype
        self.stats["signed"] += len(keys)
        return signed

    def _add_pending(self, digests: np.ndarray, rows: np.ndarray) -> None:
        """Keep new rows (of distinct digests, none pending) until the next flush:
        appended to the spill. Rows that cannot be written are not kept."""
        n = len(rows)
        if not n or self._spill_failed:
            return
        try:
            if self._spill is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._spill = tempfile.TemporaryFile(prefix=".tmp-", dir=self.folder)
            size = self.width * rows.dtype.itemsize
            self._spill.seek(self._pending_count * size)
            self._spill.write(np.ascontiguousarray(rows).data)
            self._spill.flush()
        except OSError as exc:
            self.write_errors.append(f"{self.folder}: {exc.strerror or exc}")
            self._spill_failed = True  # the run goes on without storing its new rows
            return
        self._pending_digests.append(digests)
        self._pending_checks.append(row_checks(rows, digests))
        order = np.argsort(digests[:, 0], kind="stable")
        hi = digests[order, 0]
        at = np.searchsorted(self._pending_hi, hi)
        self._pending_hi = np.insert(self._pending_hi, at, hi)
        self._pending_lo = np.insert(self._pending_lo, at, digests[order, 1])
        self._pending_at = np.insert(self._pending_at, at, order + self._pending_count)
        self._pending_count += n
        if self._pending_count >= FLUSH_ROWS:
            self.flush()

    def _clear_pending(self) -> None:
        if self._spill is not None:
            self._spill.close()  # deleted: it has no name
            self._spill = None
        self._pending_digests, self._pending_checks = [], []
        self._pending_count = 0
        self._pending_hi = np.empty(0, dtype=np.uint64)
        self._pending_lo = np.empty(0, dtype=np.uint64)
        self._pending_at = np.empty(0, dtype=np.int64)

    # -- writing -----------------------------------------------------------

    def flush(self) -> None:
        """Write the new signatures as a shard, and the index."""
        try:
            if self._pending_count:
                try:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    self._generation += 1
                    self._shards.append(self._write_pending(self._generation))
                    self._index_stale = True
                finally:
                    self._clear_pending()
            if self._index_stale:
                self._write_index()
        except OSError as exc:
            self.write_errors.append(f"{self.folder}: {exc.strerror or exc}")

    def _write_pending(self, generation: int) -> _Shard:
        """The pending rows as a shard, sorted by digest, read back from the spill a block at a time."""
        digests = np.concatenate(self._pending_digests)
        n = len(digests)
        order = np.lexsort((digests[:, 1], digests[:, 0]))
        keys = np.empty((n, 3), dtype=np.uint64)
        keys[:, :2] = digests[order]
        del digests
        keys[:, 2] = np.concatenate(self._pending_checks)[order]

        def blocks() -> Iterator[np.ndarray]:
            for start in range(0, n, CHUNK_ROWS):
                yield self._spilled(order[start:start + CHUNK_ROWS])

        return self._save_shard(generation, keys, (n, self.width), self._dtype, blocks())

    def _save_shard(self, generation: int, keys: np.ndarray, shape: tuple[int, int], dtype: np.dtype,
                    blocks: Iterable[np.ndarray]) -> _Shard:
        name = f"{generation:08d}-{hashlib.blake2b(keys.tobytes(), digest_size=6).hexdigest()}"
        _write_array(self.folder / f"{name}.sigs.npy", shape, dtype, blocks)
        _write_array(self.folder / f"{name}.keys.npy", keys.shape, keys.dtype, (keys,))
        _fsync_dir(self.folder)
        return self._open_shard(name, generation, len(keys))

    def _write_index(self) -> None:
        index = {
            "format": FORMAT,
            "signature_id": self.settings.signature_id(),
            "dtype": str(self._dtype) if self._dtype is not None else "uint32",
            "width": self.width,
            "generation": self._generation,
            "shards": [{"name": s.name, "generation": s.generation, "rows": s.rows} for s in self._shards],
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_text(self.folder / INDEX, json.dumps(index, indent=1) + "\n")
        self._index_stale = False
        self._delete_unlisted()

    # -- bounds ------------------------------------------------------------

    def close(self) -> None:
        """Write what is new, then keep the store within its bounds (see the module)."""
        if self._closed:
            return
        self.flush()
        try:
            self._prune_other_settings()
            if self._shards and self._needs_merge():
                self._merge()
        except OSError as exc:
            self.write_errors.append(f"{self.folder}: {exc.strerror or exc}")
        self.stats["stored"] = sum(s.rows for s in self._shards)
        self.stats["shards"] = len(self._shards)
        self._closed = True

    def __enter__(self) -> SignatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row_bytes(self) -> int:
        itemsize = self._dtype.itemsize if self._dtype is not None else 4
        return self.width * itemsize + 24

    def _prune_other_settings(self) -> None:
        """Delete other settings' folders, least recently written first, while over the bound."""
        if not self.root.is_dir():
            return
        sizes = {}
        for entry in os.scandir(self.root):
            if entry.is_dir(follow_symlinks=False) and _SETTINGS_NAME.fullmatch(entry.name):
                sizes[Path(entry.path)] = _folder_bytes(Path(entry.path))
        total = sum(sizes.values())
        others = [f for f in sizes if f != self.folder]

        def last_written(folder: Path) -> tuple[float, str]:
            try:
                return (folder / INDEX).stat().st_mtime, folder.name
            except OSError:
                return 0.0, folder.name

        for folder in sorted(others, key=last_written):
            if total <= self.max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= sizes[folder]

    def _used_digests(self) -> np.ndarray:
        """Every digest this run asked for, once each, sorted."""
        if not self._used:
            return np.empty((0, 2), dtype=np.uint64)
        used = np.concatenate(self._used)
        order, first = _sorted_digest_order(used[:, 0], used[:, 1])
        return used[order[first]]

    def _needs_merge(self) -> bool:
        if len(self._shards) > MAX_SHARDS or self._damaged:
            return True
        stored = sum(s.rows for s in self._shards)
        # Over the bound, and some rows were not used by this run: they can go.
        return stored * self._row_bytes() > self.max_bytes and stored > len(self._used_digests())

    def _merge(self) -> None:
        """Rewrite every shard as one: repeats and rows failing their check left out;
        over the bound, rows this run did not use go, oldest shard first."""
        # Every row, newest shard first, so that the first of repeated keys is the newest.
        newest = self._shards[::-1]
        hi = np.concatenate([s.hi for s in newest])
        lo = np.concatenate([s.lo for s in newest])
        source = np.concatenate([np.full(s.rows, k, dtype=np.int32) for k, s in enumerate(newest)])
        pos = np.concatenate([np.arange(s.rows, dtype=np.int64) for s in newest])
        order, is_first = _sorted_digest_order(hi, lo)  # stable: the first of a digest is the newest
        first = np.sort(order[is_first])
        del order, is_first
        good = np.zeros(len(hi), dtype=bool)
        for k, shard in enumerate(newest):
            rows_k = first[source[first] == k]
            p = pos[rows_k]
            for lo_ in range(0, len(p), CHUNK_ROWS):
                part = p[lo_:lo_ + CHUNK_ROWS]
                at = rows_k[lo_:lo_ + CHUNK_ROWS]
                got = shard.read(part)
                ok = row_checks(got, np.stack([hi[at], lo[at]], axis=1)) == shard.check[part]
                good[at] = ok
        keep = first[good[first]]
        budget = self.max_bytes // self._row_bytes()
        if len(keep) > budget:
            used = self._used_digests()
            is_used = np.zeros(len(keep), dtype=bool)
            if len(used):
                _, is_used = _find_digests(used[:, 0], used[:, 1], hi[keep], lo[keep])
            # Used rows first, then the others newest first (``keep`` is in that order).
            ranked = np.concatenate([keep[is_used], keep[~is_used]])
            keep = ranked[:max(budget, int(is_used.sum()))]
        keep = keep[np.lexsort((lo[keep], hi[keep]))]
        keys = np.stack([hi[keep], lo[keep], np.zeros(len(keep), dtype=np.uint64)], axis=1)
        for k, shard in enumerate(newest):
            mine = source[keep] == k
            keys[mine, 2] = shard.check[pos[keep[mine]]]
        if not len(keep):
            self._shards = []
            self._write_index()
            return

        def blocks() -> Iterator[np.ndarray]:
            for start in range(0, len(keep), CHUNK_ROWS):
                part = keep[start:start + CHUNK_ROWS]
                block = np.empty((len(part), self.width), dtype=self._dtype)
                for k, shard in enumerate(newest):
                    mine = source[part] == k
                    if mine.any():
                        block[mine] = shard.read(pos[part[mine]])
                yield block

        self._generation += 1
        merged = self._save_shard(self._generation, keys, (len(keep), self.width), self._dtype, blocks())
        self._shards = [merged]
        self._damaged = False
        self._write_index()
