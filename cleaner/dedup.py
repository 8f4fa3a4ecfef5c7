"""Near-duplicate paragraphs and speeches across a corpus, with MinHash.

The flow reads top to bottom as named phases (each timed in
``DedupResult.timings``):

1. keys: :func:`paragraph_keys` gives the hashing view of every paragraph
   (NFKC, lower case, letters and digits only); the stored text is not
   changed. A paragraph whose key is shorter than ``min_chars`` is *short*.
2. exact groups: paragraphs with identical keys are one *group*; a long
   group is signed once, however many times it is copied.
3. signatures: :func:`paragraph_signatures`, i.e. ``cleaner.minhash.signatures``
   on a batch of keys: bit for bit datasketch's ``MinHash`` with
   ``hashfunc=token_hash``. A signature cache can wrap it (``sign=``):
   :class:`cleaner.sigcache.SignatureStore` keeps signatures on disk.
4. candidates: the banding of datasketch's ``MinHashLSH`` (same number of
   bands and rows, from its own parameter choice; same consecutive bands):
   two groups are candidates when one band of their signatures is equal.
5. verify: exact Jaccard similarity of the shingle sets of every candidate
   pair; pairs at or above ``threshold`` are *linked*.
6. keep order: speeches ranked by the keep policy (``first``, ``longest``,
   ``cleanest``); ties go to corpus order.
7. speech duplicates: in keep order, a speech is compared with the kept
   speeches ranked before it that share a paragraph with it (equal, or with
   an exact Jaccard at least the LSH threshold); when at least
   ``speech_threshold`` of its shingles (over all its paragraphs) are in one
   of them, it is that speech's near-duplicate; otherwise it is kept.
8. paragraph clusters: stars. In keep order (paragraphs of kept speeches
   first), a paragraph not yet in a cluster becomes an original and takes
   every linked paragraph of another speech not yet in a cluster. Every copy
   is therefore at least ``threshold`` similar to its original, and no chain
   (A~B, B~C, A!~C) puts C with A.
9. short groups: short paragraphs repeated across speeches, by exact key,
   reported apart; they are formulas (同志们：, 谢谢大家！) far more often than
   copies, so dropping never touches them (see :func:`plan_drops`).

With ``reference=`` (a corpus cleaned earlier, ``cleaner dedup --against``),
the reference speeches come first in keep order and are kept without being
compared; pairs of their paragraphs are not verified, and only what
concerns the new speeches is reported.

:func:`plan_drops` turns a result into what ``--drop-duplicates`` removes,
each removal with its reason. docs/dedup.md explains the choices and the
quality table they come from.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from .minhash import _BASIS, _STEP, DEFAULT_SCHEME, fmix64, shingle_counts, signatures

__all__ = [
    "DEDUP_RULE",
    "KEEP_POLICIES",
    "Cluster",
    "DedupResult",
    "DedupSettings",
    "DropPlan",
    "Member",
    "ParagraphDrop",
    "ShortGroup",
    "SpeechDrop",
    "SpeechDuplicate",
    "SignFn",
    "SpeechMeta",
    "candidate_pairs",
    "find_duplicates",
    "jaccard",
    "keep_order",
    "lsh_params",
    "paragraph_key",
    "paragraph_keys",
    "paragraph_signatures",
    "plan_drops",
    "shingles",
    "signature_cache_key",
]

DEDUP_RULE = "dedup"
KEEP_POLICIES = ("first", "longest", "cleanest")
# A paragraph found in this many kept speeches is a formula (a salutation, a
# standard closing, a site disclaimer that survived stripping): it is no
# evidence that two particular speeches copy each other, and counting it for
# every pair would be quadratic.
FORMULA_SPREAD = 50
# An LSH bucket with more paragraphs than BUCKET_CAP (a paragraph reposted
# with small edits on many sites) pairs each of them with the bucket's first
# BUCKET_LEADS in keep order only, not with every other: all pairs would cost
# time quadratic in the number of copies. The first in keep order is the
# original that the others are reported as copies of.
BUCKET_CAP = 64
BUCKET_LEADS = 8
# Shingles whose exact Jaccard is computed per verification batch.
VERIFY_ELEMENTS = 1 << 20
SIGN_BATCH = 8192
KEY_BATCH_CHARS = 1 << 20

# Computes the signatures of a list of paragraph keys, one row per key.
SignFn = Callable[[list[str]], np.ndarray]


# ---------------------------------------------------------------------------
# Settings and results
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DedupSettings:
    min_chars: int = 50
    shingle: int = 3
    num_perm: int = 128
    threshold: float = 0.5
    seed: int = 1
    # LSH looks for candidates below the verification threshold so that a
    # pair just above ``threshold`` is found almost surely; exact Jaccard
    # keeps the precision. None: ``threshold - 0.2``.
    lsh_threshold: float | None = None
    speech_threshold: float = 0.6
    keep: str = "longest"

    def __post_init__(self) -> None:
        if self.min_chars < 1:
            raise ValueError(f"min_chars must be at least 1, got {self.min_chars}")
        if self.shingle < 1:
            raise ValueError(f"shingle must be at least 1, got {self.shingle}")
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be at least 2, got {self.num_perm}")
        for name in ("threshold", "speech_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.lsh_threshold is not None and not 0.0 < self.lsh_threshold <= 1.0:
            raise ValueError(f"lsh_threshold must be in (0, 1], got {self.lsh_threshold}")
        if self.keep not in KEEP_POLICIES:
            raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {self.keep!r}")

    @property
    def lsh_at(self) -> float:
        """The LSH threshold in use.

        >>> DedupSettings(threshold=0.7).lsh_at, DedupSettings(lsh_threshold=0.45).lsh_at
        (0.5, 0.45)
        """
        if self.lsh_threshold is not None:
            return self.lsh_threshold
        return round(max(0.1, self.threshold - 0.2), 4)

    def signature_id(self) -> str:
        """What a signature depends on, for cache keys.

        >>> DedupSettings(shingle=5).signature_id()
        'token_hash/affine32/shingle=5/num_perm=128/seed=1'
        """
        return (f"token_hash/{DEFAULT_SCHEME}/shingle={self.shingle}"
                f"/num_perm={self.num_perm}/seed={self.seed}")

    def describe(self) -> dict:
        bands, rows = lsh_params(self)
        d = asdict(self)
        d["lsh_threshold"] = self.lsh_at
        d.update({
            "lsh_bands": bands,
            "lsh_rows": rows,
            "key": "NFKC, lower case, letters and digits only",
            "hash": "cleaner.minhash.token_hash (UTF-32 code points, xor-multiply + fmix64, top 32 bits)",
            "scheme": DEFAULT_SCHEME,
            "verify": "exact Jaccard of shingle sets",
            "clusters": "star around the original",
            "datasketch": importlib.metadata.version("datasketch"),
        })
        return d


@dataclass(frozen=True)
class SpeechMeta:
    """What the ``cleanest`` policy needs about a speech's source page."""

    boilerplate_chars: int = 0  # characters removed as boilerplate from the page
    page_chars: int = 0  # characters of the decoded page

    @property
    def boilerplate_share(self) -> float:
        """
        >>> SpeechMeta(30, 1000).boilerplate_share, SpeechMeta().boilerplate_share
        (0.03, 0.0)
        """
        return self.boilerplate_chars / self.page_chars if self.page_chars else 0.0


@dataclass(frozen=True)
class Member:
    doc: str
    para: int
    text: str
    original: bool
    jaccard: float  # exact Jaccard similarity to the cluster's original
    # True for a paragraph of the reference corpus (``find_duplicates(...,
    # reference=...)``, ``cleaner dedup --against``): its ``doc`` is an id of
    # that corpus, which may also be an id of the new one.
    reference: bool = False


@dataclass(frozen=True)
class Cluster:
    """Near-duplicate paragraphs: the original first, then its copies in corpus order."""

    cluster: int
    members: tuple[Member, ...]

    @property
    def original(self) -> Member:
        return self.members[0]

    @property
    def min_jaccard(self) -> float:
        return min(m.jaccard for m in self.members if not m.original)


@dataclass(frozen=True)
class ShortGroup:
    """A short paragraph repeated across speeches (same key): the original first."""

    group: int
    key: str
    members: tuple[Member, ...]

    @property
    def original(self) -> Member:
        return self.members[0]

    @property
    def speeches(self) -> int:
        return len({m.doc for m in self.members})


@dataclass(frozen=True)
class SpeechDuplicate:
    """A speech whose text is mostly copied from a speech kept before it."""

    doc: str
    duplicate_of: str
    # Share of doc's text found in duplicate_of: the part of its shingles
    # (over all its paragraphs) that duplicate_of holds, rounded to 4 places.
    share: float
    chars: int  # characters of doc's paragraphs
    reference: bool = False  # duplicate_of is a speech of the reference corpus


@dataclass
class DedupResult:
    settings: DedupSettings
    clusters: tuple[Cluster, ...]
    short_groups: tuple[ShortGroup, ...]
    speech_duplicates: tuple[SpeechDuplicate, ...]
    stats: dict
    speech_ids: tuple[str, ...] = ()  # every speech, in corpus order
    reference_ids: tuple[str, ...] = ()  # every speech of the reference corpus, in its order
    # Seconds per phase: not part of the result proper (never write it to
    # an output that must be byte-identical across runs).
    timings: dict = field(default_factory=dict, compare=False)

    def duplicate_paras(self) -> dict[str, list[int]]:
        """Per speech, the sorted paragraph indexes that are copies in a cluster."""
        out: dict[str, list[int]] = {}
        for c in self.clusters:
            for m in c.members[1:]:
                out.setdefault(m.doc, []).append(m.para)
        return {doc: sorted(paras) for doc, paras in out.items()}

    def duplicate_of(self) -> dict[str, SpeechDuplicate]:
        """Per near-duplicate speech, what it duplicates."""
        return {d.doc: d for d in self.speech_duplicates}

    def __iter__(self) -> Iterator:
        """Unpacks as ``(clusters, stats)``, the shape of the earlier API."""
        return iter((list(self.clusters), self.stats))


# ---------------------------------------------------------------------------
# 1. Keys
# ---------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[\W_]+")


def paragraph_key(text: str) -> str:
    """The view of a paragraph that hashing sees: letters and digits only.

    >>> paragraph_key("同志们：今天，我们召开２０２３年会议！")
    '同志们今天我们召开2023年会议'
    >>> paragraph_key("㈠ Ａbc_ 〇")
    '一abc〇'
    """
    # ``[\\W_]`` is exactly the complement of str.isalnum, i.e. of the
    # Unicode categories L* and N*.
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).lower())


_COMPLEX = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=1)
def _key_table() -> np.ndarray:
    """Per BMP code point: the one code point it becomes in a key, 0 if it
    disappears, or ``_COMPLEX`` when it cannot be mapped alone.

    A character is mapped alone only when the key of a text made of such
    characters is the concatenation of their keys: its compatibility
    decomposition holds no combining mark and no character that canonical
    composition could join to the one before (so NFKC changes nothing across
    character boundaries), and no capital sigma (whose lower case depends on
    its neighbours). Characters whose key is longer than one code point
    (``⑩``, ``™``) are complex too; texts with a complex character take the
    slow path. ``test_dedup`` checks the table on every BMP character.
    """
    second: set[str] = set()
    for code in range(0x110000):
        decomposition = unicodedata.decomposition(chr(code))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                second.add(chr(int(parts[1], 16)))
    table = np.zeros(0x10000, dtype=np.uint32)
    for code in range(0x10000):
        ch = chr(code)
        if 0xD800 <= code < 0xE000:
            table[code] = _COMPLEX
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        if any(unicodedata.combining(c) or c in second or c == "\u03a3" for c in decomposed):
            table[code] = _COMPLEX
            continue
        key = paragraph_key(ch)
        table[code] = ord(key) if len(key) == 1 else (0 if not key else _COMPLEX)
    table.setflags(write=False)
    return table


def _codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-32 code points of the texts, concatenated, and the length of each."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return codes, lengths


def _segments(lengths: np.ndarray) -> np.ndarray:
    """The index of the segment each position belongs to.

    >>> _segments(np.array([2, 0, 3])).tolist()
    [0, 0, 2, 2, 2]
    """
    return np.repeat(np.arange(len(lengths)), lengths)


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(c)`` for each count.

    >>> _ragged_arange(np.array([3, 0, 2])).tolist()
    [0, 1, 2, 0, 1]
    """
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def _fast_keys(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Keys through the lookup table, and which texts it could not map."""
    codes, lengths = _codes(texts)
    table = _key_table()
    mapped = np.where(codes < 0x10000, table[codes & 0xFFFF], _COMPLEX)
    segment = _segments(lengths)
    complex_ = np.zeros(len(texts), dtype=bool)
    complex_[segment[mapped == _COMPLEX]] = True
    keep = (mapped != 0) & (mapped != _COMPLEX)
    new_lengths = np.bincount(segment[keep], minlength=len(texts)).astype(np.int64)
    return _split_codes(mapped[keep], new_lengths), complex_


def _split_codes(codes: np.ndarray, lengths: np.ndarray) -> list[str]:
    text = codes.astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [text[a:b] for a, b in zip(starts, ends)]


def paragraph_keys(texts: Sequence[str]) -> list[str]:
    """:func:`paragraph_key` of many paragraphs at once, several times faster.

    A lookup table maps each character (see ``_key_table``); a text holding
    a character the table cannot map alone goes through :func:`paragraph_key`.

    >>> paragraph_keys(["同志们：", "2023年，好！", "……", "Ｏｋ ⑩"])
    ['同志们', '2023年好', '', 'ok10']
    """
    out: list[str] = []
    for lo, hi in _char_batches(texts, KEY_BATCH_CHARS):
        batch = texts[lo:hi]
        keys, complex_ = _fast_keys(batch)
        for i in np.flatnonzero(complex_).tolist():
            keys[i] = paragraph_key(batch[i])
        out.extend(keys)
    return out


def key_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The keys of many paragraphs as code points: ``(codes, lengths)``.

    >>> codes, lengths = key_codes(["同志们：", "Ｏｋ！"])
    >>> lengths.tolist(), codes.tobytes().decode("utf-32-le")
    ([3, 2], '同志们ok')
    """
    return _codes(paragraph_keys(texts))


def _char_batches(texts: Sequence[str], chars: int) -> Iterator[tuple[int, int]]:
    """Consecutive index ranges holding about ``chars`` characters each."""
    lo, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= chars:
            yield lo, i + 1
            lo, size = i + 1, 0
    if lo < len(texts):
        yield lo, len(texts)


def shingles(key: str, k: int) -> frozenset[str]:
    """Character k-grams of a key; a key shorter than k is its own shingle.

    >>> sorted(shingles("教育工作会", 3))
    ['工作会', '教育工', '育工作']
    """
    if len(key) <= k:
        return frozenset([key]) if key else frozenset()
    return frozenset(key[i:i + k] for i in range(len(key) - k + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    """Exact Jaccard similarity of two sets.

    >>> jaccard(frozenset("abc"), frozenset("bcd"))
    0.5
    """
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# ---------------------------------------------------------------------------
# 3. Signatures
# ---------------------------------------------------------------------------

def paragraph_signatures(keys: Sequence[str], settings: DedupSettings) -> np.ndarray:
    """MinHash signatures of paragraph keys, one uint32 row per key.

    Row ``i`` is the ``hashvalues`` of ``datasketch.MinHash(num_perm, seed,
    hashfunc=cleaner.minhash.token_hash)`` updated with every shingle of
    ``keys[i]``. Rows do not depend on the other keys of the batch, so a
    cache may serve some rows and compute the others.
    """
    return signatures(list(keys), settings.shingle, settings.num_perm, settings.seed)


def signature_cache_key(key: str, settings: DedupSettings) -> str:
    """SHA-1 naming the signature of one key under these settings.

    >>> signature_cache_key("教育", DedupSettings()) != signature_cache_key("教育", DedupSettings(seed=2))
    True
    """
    data = f"{settings.signature_id()}\n{key}".encode("utf-8", "surrogatepass")
    return hashlib.sha1(data).hexdigest()


# ---------------------------------------------------------------------------
# 4. Candidates
# ---------------------------------------------------------------------------

def lsh_params(settings: DedupSettings) -> tuple[int, int]:
    """(bands, rows): what ``MinHashLSH(threshold=settings.lsh_at, num_perm=...)`` uses.

    >>> lsh_params(DedupSettings(threshold=0.7, num_perm=128))
    (25, 5)
    """
    return _lsh_params(settings.lsh_at, settings.num_perm)


# What datasketch's _optimal_param gives for LSH thresholds 0.1 to 0.6 with 128
# permutations (the default and the quality table's settings): computing it
# imports scipy, a third of a second, a third of a run on a small corpus.
# tests/test_dedup.py checks every entry against datasketch.
KNOWN_LSH_PARAMS = {
    (0.1, 128): (64, 2), (0.2, 128): (28, 2), (0.3, 128): (37, 3),
    (0.4, 128): (32, 4), (0.5, 128): (25, 5), (0.6, 128): (18, 7),
}


@lru_cache(maxsize=64)
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    known = KNOWN_LSH_PARAMS.get((threshold, num_perm))
    if known is not None:
        return known
    from datasketch.lsh import _optimal_param  # imported when needed: it pulls in scipy

    return _optimal_param(threshold, num_perm, 0.5, 0.5)  # datasketch's default weights


# token_hash's xor-multiply: shingle_sets hashes a shingle as token_hash does.
_MASK_BASIS = np.uint64(_BASIS)
_MASK_STEP = np.uint64(_STEP)


def band_keys(rows: np.ndarray, bands: int, rows_per_band: int) -> np.ndarray:
    """A 64-bit key per band of each signature row: shape ``(len(rows), bands)``.

    Band ``b`` covers columns ``[b * r, (b + 1) * r)``, as in datasketch.
    Equal bands give equal keys; unequal bands collide with probability
    2**-64, which can only add a candidate that verification then judges.

    >>> rows = np.array([[1, 2, 3, 4], [1, 2, 3, 5]], dtype=np.uint32)
    >>> k = band_keys(rows, 2, 2)
    >>> bool(k[0, 0] == k[1, 0]), bool(k[0, 1] == k[1, 1])
    (True, False)
    """
    out = np.empty((len(rows), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            h = np.full(len(rows), _MASK_BASIS, dtype=np.uint64)
            for c in range(b * rows_per_band, (b + 1) * rows_per_band):
                h ^= rows[:, c].astype(np.uint64)
                h *= _MASK_STEP
            out[:, b] = fmix64(h)
    return out


def _bucket_pairs(column: np.ndarray, rank: np.ndarray, cap: int = BUCKET_CAP,
                  leads: int = BUCKET_LEADS) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows with the same value in ``column`` (lower index first).

    A bucket of at most ``cap`` rows gives every pair. In a larger one, only
    its first ``leads`` rows by ``rank`` are paired with the others (and with
    each other), so a bucket of m rows gives about ``leads * m`` pairs.

    >>> column, rank = np.array([5, 5, 5, 5, 1]), np.array([3, 2, 1, 0, 4])
    >>> sorted(zip(*(p.tolist() for p in _bucket_pairs(column, rank))))
    [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    >>> sorted(zip(*(p.tolist() for p in _bucket_pairs(column, rank, cap=3, leads=1))))
    [(0, 3), (1, 3), (2, 3)]
    >>> sorted(zip(*(p.tolist() for p in _bucket_pairs(column, rank, cap=4, leads=1))))  # row 3 ranks first
    [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    """
    order = np.lexsort((rank, column))
    values = column[order]
    n = len(values)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    run_id = np.cumsum(new) - 1
    run_start = np.flatnonzero(new)
    run_end = np.append(run_start[1:], n)
    at = np.arange(n)
    after = run_end[run_id] - at - 1  # later members of the same run
    # In a run over cap, rows after the leads are paired by the leads only.
    after[((run_end - run_start)[run_id] > cap) & (at - run_start[run_id] >= leads)] = 0
    first = np.repeat(at, after)
    second = first + 1 + _ragged_arange(after)
    a, b = order[first], order[second]
    return np.minimum(a, b), np.maximum(a, b)


def candidate_pairs(bands: np.ndarray, rank: np.ndarray | None = None, cap: int = BUCKET_CAP,
                    leads: int = BUCKET_LEADS) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of rows equal in at least one band, sorted.

    The pairs datasketch's ``MinHashLSH`` gives when every row is inserted
    and queried (``test_dedup`` checks it), as long as no bucket holds more
    than ``cap`` rows; a larger bucket pairs its rows with its first ``leads``
    by ``rank`` (default: row order) only (see :func:`_bucket_pairs`).

    >>> bands = np.array([[1, 9], [1, 8], [2, 8], [3, 7]], dtype=np.uint64)
    >>> [p.tolist() for p in candidate_pairs(bands)]
    [[0, 1], [1, 2]]
    """
    n = len(bands)
    rank = np.arange(n) if rank is None else rank
    codes = [np.empty(0, np.int64)]
    for b in range(bands.shape[1]):
        i, j = _bucket_pairs(bands[:, b], rank, cap, leads)
        codes.append(np.unique(i * n + j))
    merged = np.unique(np.concatenate(codes))
    return merged // max(n, 1), merged % max(n, 1)


# ---------------------------------------------------------------------------
# 5. Verify
# ---------------------------------------------------------------------------

def _shingle_hashes64(codes: np.ndarray, lengths: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hash of every shingle of every key (repeats kept), and shingles per key."""
    counts = shingle_counts(lengths, k)
    starts = np.cumsum(lengths) - lengths
    windows = max(len(codes) - k + 1, 0)
    h = np.full(windows, _MASK_BASIS, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for t in range(k):
            h ^= codes[t:t + windows].astype(np.uint64)
            h *= _MASK_STEP
        h = fmix64(h)
        long = lengths >= k
        picks = np.repeat(starts[long], counts[long]) + _ragged_arange(counts[long])
        values = np.empty(int(counts.sum()), dtype=np.uint64)
        slot = np.ones(len(values), dtype=bool)
        first = np.cumsum(counts) - counts
        short = np.flatnonzero(~long & (lengths > 0))
        slot[first[short]] = False
        values[slot] = h[picks]
        # A key shorter than k is its own shingle.
        s = np.full(len(short), _MASK_BASIS, dtype=np.uint64)
        for t in range(k - 1):
            inside = t < lengths[short]
            s[inside] ^= codes[starts[short[inside]] + t].astype(np.uint64)
            s[inside] *= _MASK_STEP
        values[first[short]] = fmix64(s)
    return values, counts


def _distinct_per(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of each consecutive run of ``counts[i]`` values: ``(values, offsets)``.

    ``values`` is sorted in place, run by run.

    >>> v, o = _distinct_per(np.array([3, 1, 3, 2, 2], dtype=np.uint64), np.array([3, 0, 2]))
    >>> v.tolist(), o.tolist()
    ([1, 3, 2], [0, 2, 2, 3])
    """
    ends = np.cumsum(counts)
    starts = ends - counts
    for lo, hi in zip(starts.tolist(), ends.tolist()):
        if hi - lo > 1:
            values[lo:hi].sort()
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    keep[starts[counts > 0]] = True
    segment = _segments(counts)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(segment[keep], minlength=len(counts)), out=offsets[1:])
    return values[keep], offsets


def shingle_sets(codes: np.ndarray, lengths: np.ndarray, k: int,
                 owner: np.ndarray | None = None, owners: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct 64-bit hashes of each key's shingles: ``(values, offsets)``.

    Key ``i``'s set is ``values[offsets[i]:offsets[i + 1]]``; with ``owner``,
    set ``o`` is the union of the sets of the keys ``i`` with ``owner[i] == o``
    (``owners`` sets in all; the keys of an owner are consecutive). The hash of a shingle is
    :func:`cleaner.minhash.token_hash` before its truncation to 32 bits, so
    two distinct shingles of a pair collide with probability about 2**-64
    and the Jaccard similarity computed is exact in practice.

    >>> codes, lengths = key_codes(["教育教育教", "教育", "教育"])
    >>> values, offsets = shingle_sets(codes, lengths, 2)
    >>> np.diff(offsets).tolist()
    [2, 1, 1]
    >>> np.diff(shingle_sets(codes, lengths, 2, np.array([0, 1, 0]), 2)[1]).tolist()
    [2, 1]
    """
    values, counts = _shingle_hashes64(codes, lengths, k)
    if owner is None:
        return _distinct_per(values, counts)
    # The keys of one owner are consecutive.
    return _distinct_per(values, np.bincount(owner, weights=counts, minlength=owners).astype(np.int64))


def pair_overlap(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Size of the intersection of sets ``a[t]`` and ``b[t]`` of a :func:`shingle_sets` result.

    >>> codes, lengths = key_codes(["abcd", "abce", "xyz"])
    >>> values, offsets = shingle_sets(codes, lengths, 2)
    >>> pair_overlap(values, offsets, np.array([0, 0]), np.array([1, 2])).tolist()
    [2, 0]
    """
    bounds = offsets.tolist()
    return np.array([_contained(values[bounds[x]:bounds[x + 1]], values[bounds[y]:bounds[y + 1]])
                     for x, y in zip(a.tolist(), b.tolist())], dtype=np.int64)


def _contained(a: np.ndarray, b: np.ndarray) -> int:
    """How many values of sorted ``a`` are in sorted ``b``.

    >>> _contained(np.array([1, 3, 5]), np.array([3, 4, 5, 9]))
    2
    """
    if not len(a) or not len(b):
        return 0
    if len(a) > len(b):
        a, b = b, a
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    return int(np.count_nonzero(b[pos] == a))


def pair_jaccard(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of sets ``a[t]`` and ``b[t]`` of a :func:`shingle_sets` result.

    >>> codes, lengths = key_codes(["abcd", "abce", "xyz"])
    >>> values, offsets = shingle_sets(codes, lengths, 2)
    >>> pair_jaccard(values, offsets, np.array([0, 0]), np.array([1, 2])).tolist()
    [0.5, 0.0]
    """
    sizes = np.diff(offsets)
    inter = pair_overlap(values, offsets, a, b)
    union = sizes[a] + sizes[b] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


# ---------------------------------------------------------------------------
# 6. Keep order
# ---------------------------------------------------------------------------

def keep_order(chars: Sequence[int], policy: str, meta: Sequence[SpeechMeta] | None = None) -> list[int]:
    """Speech indexes, the one to keep first; ties go to corpus order.

    ``first``: corpus order (raw path, then position in the file).
    ``longest``: most characters first. ``cleanest``: smallest share of
    the source page removed as boilerplate first (needs ``meta``).

    >>> keep_order([10, 30, 30], "longest"), keep_order([10, 30, 30], "first")
    ([1, 2, 0], [0, 1, 2])
    >>> keep_order([1, 1], "cleanest", [SpeechMeta(50, 100), SpeechMeta(5, 100)])
    [1, 0]
    """
    n = len(chars)
    if policy == "first":
        return list(range(n))
    if policy == "longest":
        return sorted(range(n), key=lambda s: (-chars[s], s))
    if policy == "cleanest":
        if meta is None or len(meta) != n:
            raise ValueError("keep='cleanest' needs one SpeechMeta per speech")
        return sorted(range(n), key=lambda s: (meta[s].boilerplate_share, s))
    raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {policy!r}")


# ---------------------------------------------------------------------------
# The corpus index: one row per paragraph, in corpus order
# ---------------------------------------------------------------------------

EMPTY, SHORT, LONG = 0, 1, 2


@dataclass
class _Index:
    speech: np.ndarray  # int32, per paragraph
    para: np.ndarray  # int32
    chars: np.ndarray  # int32: characters of the paragraph text
    kind: np.ndarray  # int8: EMPTY, SHORT or LONG
    group: np.ndarray  # int32: long group or short group id, -1 for empty keys
    key_len: np.ndarray  # int32
    long_first: np.ndarray  # per long group, its first paragraph
    short_first: np.ndarray  # per short group, its first paragraph
    speech_start: np.ndarray  # per speech, its first paragraph row (+ total at the end)


class _Texts:
    """The corpus's paragraphs as one flat list of references (8 bytes each)."""

    def __init__(self, speeches: Sequence[tuple[str, Sequence[str]]]):
        self.flat = [p for _, paragraphs in speeches for p in paragraphs]

    def rows(self, rows: np.ndarray) -> list[str]:
        flat = self.flat
        return [flat[r] for r in rows.tolist()]


def _digest(key: str) -> int:
    """A 64-bit BLAKE2b digest of a key: identical keys, identical digests."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


def _number_groups(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group ids of equal digests, numbered by first occurrence; and each first occurrence.

    >>> ids, first = _number_groups(np.array([7, 3, 7, 5], dtype=np.uint64))
    >>> ids.tolist(), first.tolist()
    ([0, 1, 0, 2], [0, 1, 3])
    """
    _, first, inverse = np.unique(digests, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rename = np.empty(len(first), dtype=np.int64)
    rename[order] = np.arange(len(first))
    return rename[inverse.ravel()], first[order]


def _index(speeches: Sequence[tuple[str, Sequence[str]]], texts: _Texts, min_chars: int) -> _Index:
    counts = np.fromiter((len(p) for _, p in speeches), dtype=np.int64, count=len(speeches))
    total = int(counts.sum())
    speech_start = np.zeros(len(speeches) + 1, dtype=np.int64)
    np.cumsum(counts, out=speech_start[1:])
    speech = _segments(counts).astype(np.int32)
    para = _ragged_arange(counts).astype(np.int32)
    chars = np.empty(total, dtype=np.int32)
    key_len = np.empty(total, dtype=np.int32)
    digests = np.empty(total, dtype=np.uint64)
    flat = texts.flat
    for lo, hi in _char_batches(flat, KEY_BATCH_CHARS):
        batch = flat[lo:hi]
        chars[lo:hi] = np.fromiter(map(len, batch), dtype=np.int32, count=hi - lo)
        keys = paragraph_keys(batch)
        key_len[lo:hi] = np.fromiter(map(len, keys), dtype=np.int32, count=hi - lo)
        digests[lo:hi] = np.fromiter(map(_digest, keys), dtype=np.uint64, count=hi - lo)
    kind = np.where(key_len >= min_chars, LONG, np.where(key_len > 0, SHORT, EMPTY)).astype(np.int8)
    group = np.full(total, -1, dtype=np.int32)
    firsts = {}
    for k in (LONG, SHORT):
        rows = np.flatnonzero(kind == k)
        ids, first = _number_groups(digests[rows])
        group[rows] = ids
        firsts[k] = rows[first]
    return _Index(speech, para, chars, kind, group, key_len, firsts[LONG], firsts[SHORT], speech_start)


# ---------------------------------------------------------------------------
# The whole flow
# ---------------------------------------------------------------------------

class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str):
        start = time.perf_counter()
        yield
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start


def _sign_groups(texts: _Texts, index: _Index, settings: DedupSettings,
                 sign: SignFn) -> np.ndarray:
    """Band keys of every long group's signature, signing ``SIGN_BATCH`` keys at a time."""
    bands, rows = lsh_params(settings)
    n = len(index.long_first)
    out = np.empty((n, bands), dtype=np.uint64)
    for lo in range(0, n, SIGN_BATCH):
        hi = min(lo + SIGN_BATCH, n)
        keys = paragraph_keys(texts.rows(index.long_first[lo:hi]))
        sig = np.asarray(sign(keys))
        if sig.shape != (hi - lo, settings.num_perm):
            raise ValueError(f"sign() returned shape {sig.shape}, expected {(hi - lo, settings.num_perm)}")
        out[lo:hi] = band_keys(sig, bands, rows)
    return out


def _group_rank(index: _Index, speech_rank: np.ndarray, width: int) -> np.ndarray:
    """Per long group, the keep-order position of its first paragraph in keep order."""
    rows = np.flatnonzero(index.kind == LONG)
    rank = np.full(len(index.long_first), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(rank, index.group[rows], speech_rank[index.speech[rows]] * width + index.para[rows])
    return rank


def _group_speeches(index: _Index) -> tuple[np.ndarray, np.ndarray]:
    """Per long group: the speech of its first paragraph, and whether it spans speeches."""
    n = len(index.long_first)
    rows = np.flatnonzero(index.kind == LONG)
    groups, speech = index.group[rows], index.speech[rows]
    first_speech = index.speech[index.long_first].astype(np.int64)
    multi = np.zeros(n, dtype=bool)
    multi[groups[speech != first_speech[groups]]] = True
    return first_speech, multi


def _verify(texts: _Texts, index: _Index, i: np.ndarray, j: np.ndarray,
            k: int) -> np.ndarray:
    """Exact Jaccard similarity of each candidate pair of long groups."""
    out = np.empty(len(i), dtype=np.float64)
    per_group = shingle_counts(index.key_len[index.long_first], k)
    cost = np.cumsum(per_group[i] + per_group[j])
    lo = 0
    while lo < len(i):
        hi = int(np.searchsorted(cost, (cost[lo - 1] if lo else 0) + VERIFY_ELEMENTS, side="right"))
        hi = max(hi, lo + 1)
        members = np.unique(np.concatenate([i[lo:hi], j[lo:hi]]))
        codes, lengths = key_codes(texts.rows(index.long_first[members]))
        values, offsets = shingle_sets(codes, lengths, k)
        a = np.searchsorted(members, i[lo:hi])
        b = np.searchsorted(members, j[lo:hi])
        out[lo:hi] = pair_jaccard(values, offsets, a, b)
        lo = hi
    return out


@dataclass
class _Graph:
    """Undirected edges between long groups, as compressed rows (both directions)."""

    ptr: np.ndarray  # edges of group g: [ptr[g], ptr[g + 1])
    nbr: np.ndarray
    sim: np.ndarray

    @classmethod
    def of(cls, n: int, i: np.ndarray, j: np.ndarray, sim: np.ndarray) -> _Graph:
        src = np.concatenate([i, j])
        dst = np.concatenate([j, i])
        order = np.lexsort((dst, src))
        ptr = np.searchsorted(src[order], np.arange(n + 1))
        return cls(ptr, dst[order], np.concatenate([sim, sim])[order])

    def neighbours(self, g: int) -> tuple[list[int], list[float]]:
        lo, hi = self.ptr[g], self.ptr[g + 1]
        return self.nbr[lo:hi].tolist(), self.sim[lo:hi].tolist()


class _SpeechSets:
    """Shingle sets of whole speeches (the union over their paragraphs), computed
    ``batch`` speeches at a time in keep order and kept while they fit in
    ``budget`` bytes (least recently used first out)."""

    def __init__(self, texts: _Texts, index: _Index, order: list[int], wanted: np.ndarray,
                 k: int, batch: int = 256, budget: int = 1 << 25):
        self.texts, self.index, self.k = texts, index, k
        self.queue = [s for s in order if wanted[s]]
        self.position = {s: n for n, s in enumerate(self.queue)}
        self.batch, self.budget = batch, budget
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.size = 0
        self.frontier = 0  # queue positions before it have been computed once

    def __getitem__(self, s: int) -> np.ndarray:
        if s in self.cache:
            self.cache.move_to_end(s)
            return self.cache[s]
        n = self.position.get(s)
        if n is not None and n >= self.frontier:  # ahead: compute the next batch in keep order
            wanted = [t for t in self.queue[n:n + self.batch] if t not in self.cache]
            self.frontier = n + self.batch
        else:  # evicted earlier: that one alone
            wanted = [s]
        for t, values in zip(wanted, self._compute(wanted)):
            self.cache[t] = values
            self.size += values.nbytes
        found = self.cache[s]
        self.cache.move_to_end(s)
        while self.size > self.budget and len(self.cache) > 1:
            _, values = self.cache.popitem(last=False)
            self.size -= values.nbytes
        return found

    def _compute(self, speeches: list[int]) -> list[np.ndarray]:
        starts = self.index.speech_start
        rows = [np.arange(starts[s], starts[s + 1]) for s in speeches]
        owner = np.repeat(np.arange(len(speeches)), [len(r) for r in rows])
        codes, lengths = key_codes(self.texts.rows(np.concatenate(rows)))
        values, offsets = shingle_sets(codes, lengths, self.k, owner, len(speeches))
        return [values[offsets[n]:offsets[n + 1]].copy() for n in range(len(speeches))]


def _speech_duplicates(texts: _Texts, index: _Index, order: list[int], candidates: _Graph,
                       settings: DedupSettings, reference: int = 0,
                       ) -> tuple[dict[int, tuple[int, float]], int]:
    """In keep order: ``{speech: (duplicate_of, share)}``, and the formula groups skipped.

    A speech S is compared with the kept speeches ranked before it that hold
    a long paragraph equal to one of S's or near it (``candidates``: exact
    Jaccard at least the LSH threshold); its share in T is the part of S's
    shingles (over all its paragraphs) found in T. The first ``reference``
    speeches (a corpus cleaned earlier) are kept without being compared.
    """
    long_rows = np.flatnonzero(index.kind == LONG)
    groups_of: list[list[int]] = [[] for _ in range(len(order))]
    for row, g in zip(long_rows.tolist(), index.group[long_rows].tolist()):
        groups_of[int(index.speech[row])].append(g)
    # Speeches that may be compared with another: a group in several
    # speeches, or a group with a candidate.
    spread = np.bincount(index.group[long_rows], minlength=len(index.long_first))
    degree = np.diff(candidates.ptr)
    wanted = np.zeros(len(order), dtype=bool)
    linked = (spread[index.group[long_rows]] > 1) | (degree[index.group[long_rows]] > 0)
    if reference:
        # A reference speech is only ever compared with: it is wanted when it
        # shares a group with a new speech or is near one.
        is_new = index.speech[long_rows] >= reference
        new_group = np.zeros(len(index.long_first), dtype=bool)
        new_group[index.group[long_rows[is_new]]] = True
        linked &= is_new | new_group[index.group[long_rows]] | (degree[index.group[long_rows]] > 0)
    wanted[index.speech[long_rows[linked]]] = True
    sets = _SpeechSets(texts, index, order, wanted, settings.shingle)
    kept_by_group: dict[int, list[int]] = {}
    rank = {s: r for r, s in enumerate(order)}
    duplicates: dict[int, tuple[int, float]] = {}
    formulas: set[int] = set()
    has_candidates = (degree > 0).tolist()
    crowded = [False] * len(index.long_first)
    for s in order:
        groups = sorted(set(groups_of[s]))
        if s < reference:
            for g in groups:
                kept_by_group.setdefault(g, []).append(s)
            continue
        found: set[int] = set()
        for g in groups:
            if crowded[g]:
                continue
            near: set[int] = set()
            for h in (g, *candidates.neighbours(g)[0]) if has_candidates[g] else (g,):
                kept = kept_by_group.get(h, ())
                if len(kept) >= FORMULA_SPREAD:
                    formulas.add(h)
                else:
                    near.update(kept)
            if len(near) >= FORMULA_SPREAD:
                # Near copies of one paragraph, each in a few kept speeches but
                # together in this many, are a formula too; kept lists only
                # grow, so the group is passed over from now on.
                crowded[g] = True
                formulas.add(g)
                continue
            found.update(near)
        found.discard(s)
        if found:
            mine = sets[s]
            best, best_share = -1, -1.0
            for t in sorted(found, key=rank.__getitem__):
                share = _contained(mine, sets[t]) / len(mine) if len(mine) else 0.0
                if share > best_share:
                    best, best_share = t, share
            if best_share >= settings.speech_threshold:
                duplicates[s] = (best, best_share)
                continue
        for g in groups:
            kept_by_group.setdefault(g, []).append(s)
    return duplicates, len(formulas)


def _stars(index: _Index, priority: np.ndarray, links: _Graph) -> list[tuple[int, list[tuple[int, float]]]]:
    """Star clusters of long paragraphs: ``[(original row, [(copy row, jaccard), ...])]``."""
    rows = np.flatnonzero(index.kind == LONG)
    by_group = rows[np.argsort(index.group[rows], kind="stable")]
    ptr = np.searchsorted(index.group[by_group], np.arange(len(index.long_first) + 1))
    single = (np.diff(ptr) == 1) & (np.diff(links.ptr) == 0)  # nothing to claim
    assigned = np.zeros(len(index.kind), dtype=bool)
    speech, group = index.speech, index.group
    clusters = []
    for x in rows[np.argsort(priority[rows], kind="stable")].tolist():
        g = int(group[x])
        if assigned[x] or single[g]:
            continue
        s = speech[x]
        nbrs, sims = links.neighbours(g)
        members: list[tuple[int, float]] = []
        for h, sim in zip([g, *nbrs], [1.0, *sims]):
            ys = by_group[ptr[h]:ptr[h + 1]]
            ys = ys[~assigned[ys] & (speech[ys] != s)]
            members.extend((y, sim) for y in ys.tolist())
        if members:
            assigned[x] = True
            for y, _ in members:
                assigned[y] = True
            clusters.append((x, members))
    return clusters


def _short_groups(index: _Index, priority: np.ndarray) -> list[tuple[int, list[int]]]:
    """Short paragraphs with the same key in several speeches: ``[(original row, [copy rows])]``."""
    rows = np.flatnonzero(index.kind == SHORT)
    rows = rows[np.lexsort((priority[rows], index.group[rows]))]
    groups = index.group[rows]
    bounds = np.flatnonzero(np.diff(groups)) + 1
    out = []
    for members in np.split(rows, bounds):
        if len(members) < 2:
            continue
        original = int(members[0])
        s = index.speech[original]
        copies = [int(y) for y in members[1:] if index.speech[y] != s]
        if copies:
            out.append((original, copies))
    return out


def find_duplicates(
    speeches: Sequence[tuple[str, Sequence[str]]],
    settings: DedupSettings = DedupSettings(),
    meta: Sequence[SpeechMeta] | None = None,
    sign: SignFn | None = None,
    *,
    reference: Sequence[tuple[str, Sequence[str]]] = (),
) -> DedupResult:
    """Near-duplicate paragraphs, short repeats and near-duplicate speeches.

    ``speeches`` is a sequence of (speech id, paragraphs) in corpus order
    (raw path, then position in the file). ``meta`` gives one
    :class:`SpeechMeta` per speech (needed by ``keep="cleanest"``).
    ``sign`` computes the signatures of a list of keys (default:
    :func:`paragraph_signatures` with these settings); a cache wraps it
    (:class:`cleaner.sigcache.SignatureStore`).

    ``reference`` is a corpus cleaned earlier, in the same shape
    (``cleaner.reference.read_reference(folder).speeches``): its speeches are always the
    originals, are never compared with one another, and what concerns only
    them is not reported; their members carry ``reference=True``.

    >>> a = "今天我们召开全县教育工作会议，主要任务是总结去年工作，安排部署今年的教育重点工作，动员全县上下团结一心、奋发进取、再创佳绩。"
    >>> b = a.replace("团结一心", "团结一致")
    >>> result = find_duplicates([("x#1", [a]), ("y#1", [b, "谢谢大家！"])], DedupSettings(keep="first"))
    >>> [(m.doc, m.original) for m in result.clusters[0].members]
    [('x#1', True), ('y#1', False)]
    >>> against = find_duplicates([("x#1", [b])], reference=[("x#1", [a]), ("z#1", [a])])
    >>> [(m.doc, m.original, m.reference) for m in against.clusters[0].members]
    [('x#1', True, True), ('x#1', False, False)]
    """
    timer = _Timer()
    sign = sign or (lambda keys: paragraph_signatures(keys, settings))
    k = settings.shingle
    n_ref = len(reference)
    corpus = [*reference, *speeches] if n_ref else speeches
    with timer("keys"):
        texts = _Texts(corpus)
        index = _index(corpus, texts, settings.min_chars)
        new_row = index.speech >= n_ref
    n_groups = len(index.long_first)
    with timer("signatures"):
        bands = _sign_groups(texts, index, settings, sign)
    with timer("candidates"):
        speech_chars = np.bincount(index.speech, weights=index.chars,
                                   minlength=len(corpus)).astype(np.int64)
        chars = speech_chars.tolist()
        # Reference speeches first: they are the originals. Without meta they
        # cannot be ranked by cleanliness and keep their corpus order.
        ref_policy = "first" if settings.keep == "cleanest" else settings.keep
        order = keep_order(chars[:n_ref], ref_policy) + [
            n_ref + s for s in keep_order(chars[n_ref:], settings.keep, meta)]
        width = int(np.diff(index.speech_start).max(initial=0)) + 1
        speech_rank = np.empty(len(corpus), dtype=np.int64)
        speech_rank[order] = np.arange(len(corpus))
        i, j = candidate_pairs(bands, _group_rank(index, speech_rank, width))
        del bands
        first_speech, multi = _group_speeches(index)
        cross = multi[i] | multi[j] | (first_speech[i] != first_speech[j])
        if n_ref:  # pairs of reference paragraphs are not the question
            long_new = np.flatnonzero((index.kind == LONG) & new_row)
            new_group = np.zeros(n_groups, dtype=bool)
            new_group[index.group[long_new]] = True
            cross &= new_group[i] | new_group[j]
        i, j = i[cross], j[cross]
    with timer("verify"):
        sim = _verify(texts, index, i, j, k)
        linked = sim >= settings.threshold
        links = _Graph.of(n_groups, i[linked], j[linked], sim[linked])
        # Speeches are compared through nearer pairs too: a paragraph merged
        # with its neighbour, or cut in two, is below ``threshold`` but its
        # text is still there.
        near = sim >= settings.lsh_at
        candidates = _Graph.of(n_groups, i[near], j[near], sim[near])
    with timer("speeches"):
        dups, formulas = _speech_duplicates(texts, index, order, candidates, settings, n_ref)
        # Paragraphs of kept speeches come first, each set in keep order.
        speech_priority = np.empty(len(corpus), dtype=np.int64)
        for r, s in enumerate(order):
            speech_priority[s] = r + (len(corpus) if s in dups else 0)
        priority = speech_priority[index.speech] * width + index.para
    with timer("clusters"):
        stars = _stars(index, priority, links)
    with timer("short"):
        repeats = _short_groups(index, priority)
    ids = [sid for sid, _ in corpus]

    def member(row: int, original: bool, sim: float) -> Member:
        s, p = int(index.speech[row]), int(index.para[row])
        return Member(ids[s], p, corpus[s][1][p], original, round(sim, 4), s < n_ref)

    def position(row: int) -> tuple[int, int]:
        return int(index.speech[row]), int(index.para[row])

    # Only copies in the new corpus are reported: with a reference corpus, its
    # own repeats are not the question (and its members are never copies).
    clusters = []
    for x, members in sorted(stars, key=lambda c: position(c[0])):
        copies = sorted((m for m in members if new_row[m[0]]), key=lambda m: position(m[0]))
        if copies:
            clusters.append(Cluster(len(clusters) + 1, (member(x, True, 1.0),
                                                        *(member(y, False, s) for y, s in copies))))
    short_groups = []
    for x, members in sorted(repeats, key=lambda c: position(c[0])):
        copies = sorted((y for y in members if new_row[y]), key=position)
        if copies:
            key = paragraph_key(texts.rows(np.array([x]))[0])
            short_groups.append(ShortGroup(len(short_groups) + 1, key, (
                member(x, True, 1.0), *(member(y, False, 1.0) for y in copies))))
    speech_duplicates = tuple(
        SpeechDuplicate(ids[s], ids[t], round(share, 4), int(speech_chars[s]), t < n_ref)
        for s, (t, share) in sorted(dups.items())
    )
    kind = index.kind[new_row]
    stats = {
        "paragraphs": len(kind),
        "signed": int((kind == LONG).sum()),
        "signatures": n_groups,
        "short": int((kind == SHORT).sum()),
        "empty": int((kind == EMPTY).sum()),
        # Pairs of distinct long keys (an exact copy is one key).
        "candidate_pairs": len(i),
        "verified_pairs": int(linked.sum()),
        "clusters": len(clusters),
        "duplicate_paragraphs": sum(len(c.members) - 1 for c in clusters),
        "short_groups": len(short_groups),
        "short_repeats": sum(len(g.members) - 1 for g in short_groups),
        "speech_duplicates": len(speech_duplicates),
        "formulas": formulas,
    }
    if n_ref:
        stats["reference_speeches"] = n_ref
        stats["reference_paragraphs"] = int(len(index.kind) - len(kind))
    return DedupResult(settings, tuple(clusters), tuple(short_groups), speech_duplicates, stats,
                       tuple(ids[n_ref:]), tuple(ids[:n_ref]), dict(timer.seconds))


# ---------------------------------------------------------------------------
# --drop-duplicates
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SpeechDrop:
    doc: str
    duplicate_of: str
    share: float
    reason: str
    reference: bool = False  # duplicate_of is a speech of the reference corpus


@dataclass(frozen=True)
class ParagraphDrop:
    doc: str
    para: int
    text: str
    cluster: int
    original_doc: str
    original_para: int
    jaccard: float
    reason: str
    original_reference: bool = False  # the original is in the reference corpus


@dataclass(frozen=True)
class DropPlan:
    """What ``--drop-duplicates`` removes; every removal is under rule ``dedup``."""

    speeches: tuple[SpeechDrop, ...]
    paragraphs: tuple[ParagraphDrop, ...]

    def dropped_paras(self) -> dict[str, frozenset[int]]:
        out: dict[str, set[int]] = {}
        for d in self.paragraphs:
            out.setdefault(d.doc, set()).add(d.para)
        return {doc: frozenset(paras) for doc, paras in out.items()}

    def apply(self, speeches: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[str, list[str]]]:
        """The deduplicated corpus: dropped speeches left out, dropped paragraphs removed.

        >>> plan = DropPlan((SpeechDrop("b#1", "a#1", 1.0, ""),),
        ...                 (ParagraphDrop("c#1", 0, "x", 1, "a#1", 0, 0.9, ""),))
        >>> plan.apply([("a#1", ["x"]), ("b#1", ["x"]), ("c#1", ["x", "y"])])
        [('a#1', ['x']), ('c#1', ['y'])]
        """
        gone = {d.doc for d in self.speeches}
        paras = self.dropped_paras()
        return [(sid, [p for n, p in enumerate(ps) if n not in paras.get(sid, ())])
                for sid, ps in speeches if sid not in gone]


def plan_drops(result: DedupResult) -> DropPlan:
    """What ``--drop-duplicates`` removes from a result.

    - every near-duplicate speech, whole (its original is kept: a speech is
      a duplicate only of a speech that is kept);
    - in the speeches that stay, every copy of a cluster (its original is
      in a kept speech and is never dropped);
    - nothing of the short groups: a short line repeated across speeches is
      a formula far more often than a copy, and removing 同志们： from every
      speech but one would damage the speeches that stay. They are reported
      (``result.short_groups``), and they go with their speech when it is
      removed whole;
    - nothing of a reference corpus (``find_duplicates(..., reference=...)``):
      its speeches are the originals, and the plan only names them.
    """
    def where(reference: bool) -> str:
        return " in the reference corpus" if reference else ""

    whole = result.duplicate_of()
    speeches = tuple(
        SpeechDrop(d.doc, d.duplicate_of, d.share,
                   f"near-duplicate of {d.duplicate_of}{where(d.reference)}: "
                   f"{d.share:.0%} of its text copied", d.reference)
        for d in result.speech_duplicates
    )
    paragraphs = []
    for c in result.clusters:
        o = c.original
        for m in c.members[1:]:
            if m.doc not in whole and not m.reference:
                paragraphs.append(ParagraphDrop(
                    m.doc, m.para, m.text, c.cluster, o.doc, o.para, m.jaccard,
                    f"copy of {o.doc} paragraph {o.para}{where(o.reference)} "
                    f"(Jaccard {m.jaccard:.3f})", o.reference))
    position = {doc: n for n, doc in enumerate(result.speech_ids)}
    paragraphs.sort(key=lambda d: (position.get(d.doc, -1), d.para))
    return DropPlan(speeches, tuple(paragraphs))
