"""MinHash signatures of many paragraphs at once, identical to datasketch's.

datasketch's ``MinHash.update`` hashes one token at a time in Python, which
makes signing a corpus paragraph by paragraph slow. This module computes the
signatures of a whole batch of paragraph keys with numpy and gives, bit for
bit, what ``datasketch.MinHash`` holds after being updated with every shingle
of each key, provided it uses :func:`token_hash` as its ``hashfunc`` and the
same ``num_perm``, ``seed`` and permutation scheme.

Pieces, top to bottom:

1. :func:`token_hash`: the token hash, defined on the code points of a
   shingle. datasketch calls it on each token given to ``update``; a token is
   the shingle encoded by :func:`encode_token` (UTF-32-LE).
2. :func:`shingle_hashes`: the same hash for every shingle of every key,
   computed over one array of code points of the whole batch.
3. :func:`signatures`: datasketch's pre-mix and permutations applied to those
   hashes block by block, with per-paragraph minima.
4. :func:`lean_minhash` and :func:`minhash`: a signature row as a datasketch
   object, ready for ``MinHashLSH.insert`` and ``query`` without rehashing.

Shingles follow ``cleaner.dedup.shingles``: the character ``k``-grams of a
key; a non-empty key shorter than ``k`` is its own single shingle, and an
empty key has no shingles, so its signature is that of an empty MinHash (every
value is the scheme's maximum hash).
"""
from __future__ import annotations

import struct
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import datasketch

__all__ = [
    "DEFAULT_SCHEME",
    "empty_value",
    "encode_token",
    "fmix64",
    "lean_minhash",
    "minhash",
    "permutations",
    "shingle_hashes",
    "signatures",
    "token_hash",
]

DEFAULT_SCHEME = "affine32"  # datasketch's default since 2.0
SCHEMES = ("affine32", "affine64", "legacy")

_MASK32 = (1 << 32) - 1
_MASK64 = (1 << 64) - 1
# Token hash: xor-multiply over the code points (FNV-1a's shape with a dense
# odd 64-bit multiplier), then the MurmurHash3 64-bit finalizer; the top 32
# bits are the hash.
_BASIS = 0xCBF29CE484222325
_STEP = 0x9E3779B97F4A7C15
_FMIX64 = (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33)
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
_MERSENNE_PRIME = (1 << 61) - 1
# Upper bound on the elements of one (num_perm × shingles) block: 8 MB of
# uint32, which keeps memory flat whatever the batch size.
BLOCK_ELEMENTS = 1 << 21
# Characters of keys hashed at once by signatures, and code points per
# numpy pass in the hashing itself.
GROUP_CHARS = 1 << 18
_HASH_BLOCK = 1 << 16


def encode_token(shingle: str) -> bytes:
    """The token datasketch is given for a shingle: its UTF-32-LE encoding.

    >>> encode_token("a教")
    b'a\\x00\\x00\\x00Ye\\x00\\x00'
    """
    return shingle.encode("utf-32-le", "surrogatepass")


def token_hash(token: bytes) -> int:
    """32-bit hash of a token made by :func:`encode_token`.

    Usable as ``datasketch.MinHash(hashfunc=token_hash)``; equal to what
    :func:`shingle_hashes` computes for the same shingle.

    >>> token_hash(encode_token("教育工作会"))
    3158161665
    >>> token_hash(encode_token("教育工作会")) != token_hash(encode_token("育工作会议"))
    True
    """
    if len(token) % 4:
        raise ValueError("a token is UTF-32-LE: its length must be a multiple of 4")
    h = _BASIS
    for code in struct.unpack(f"<{len(token) // 4}I", token):
        h = ((h ^ code) * _STEP) & _MASK64
    s1, m1, s2, m2, s3 = _FMIX64
    h ^= h >> s1
    h = (h * m1) & _MASK64
    h ^= h >> s2
    h = (h * m2) & _MASK64
    h ^= h >> s3
    return h >> 32


def _fmix(h: np.ndarray, constants: tuple[int, ...]) -> np.ndarray:
    """MurmurHash3 finalizer, in place, on an unsigned array (wraps around)."""
    s1, m1, s2, m2, s3 = (h.dtype.type(c) for c in constants)
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, in place on a uint64 array: the last step of :func:`token_hash`.

    >>> fmix64(np.array([0, 1], dtype=np.uint64)).tolist()
    [0, 12994781566227106604]
    """
    return _fmix(h, _FMIX64)


def _window_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """:func:`token_hash` of every window of ``k`` code points, as uint32.

    ``codes`` is a uint32 array of code points; the result has
    ``len(codes) - k + 1`` entries, one per window start.
    """
    n = len(codes) - k + 1
    out = np.empty(max(n, 0), dtype=np.uint32)
    basis, step = np.uint64(_BASIS), np.uint64(_STEP)
    for start in range(0, n, _HASH_BLOCK):
        stop = min(start + _HASH_BLOCK, n)
        window = codes[start:stop + k - 1].astype(np.uint64)
        h = np.full(stop - start, basis, dtype=np.uint64)
        for t in range(k):
            h ^= window[t:t + stop - start]
            h *= step
        out[start:stop] = fmix64(h) >> np.uint64(32)
    return out


def shingle_counts(lengths: np.ndarray, k: int) -> np.ndarray:
    """Number of shingles of keys of the given lengths, as ``dedup.shingles`` makes them.

    >>> shingle_counts(np.array([0, 1, 4, 5, 7]), 5).tolist()
    [0, 1, 1, 1, 3]
    """
    return np.where(lengths >= k, lengths - k + 1, np.minimum(lengths, 1))


def shingle_hashes(keys: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`token_hash` of every shingle of every key, and shingles per key.

    Returns ``(hashes, counts)``: ``hashes`` (uint32) holds the shingles of
    the first key in order, then those of the second, and so on; ``counts[i]``
    is the number of shingles of ``keys[i]``. Repeated shingles are kept
    (a minimum does not care).

    >>> hashes, counts = shingle_hashes(["教育工作会议", "", "教育"], 5)
    >>> counts.tolist()
    [2, 0, 1]
    >>> hashes.tolist() == [token_hash(encode_token(s)) for s in ["教育工作会", "育工作会议", "教育"]]
    True
    """
    if k < 1:
        raise ValueError("the shingle size must be at least 1")
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    counts = shingle_counts(lengths, k)
    codes = np.frombuffer(encode_token("".join(keys)), dtype="<u4")
    starts = np.cumsum(lengths) - lengths  # where each key starts in ``codes``
    long = lengths >= k
    # The windows of a long key are the ``counts`` positions from its start;
    # mark them with +1 at the start and -1 after the last (no two long keys
    # share a start, nor an end), and a running sum.
    windows = max(len(codes) - k + 1, 0)
    edges = np.zeros(windows + 1, dtype=np.int8)
    edges[starts[long]] += 1
    edges[(starts + counts)[long]] -= 1
    inside = np.cumsum(edges[:-1], dtype=np.int8).astype(bool)
    hashes = np.empty(int(counts.sum()), dtype=np.uint32)
    first = np.cumsum(counts) - counts  # where each key's hashes start
    short = np.flatnonzero(~long & (lengths > 0))
    slot = np.ones(len(hashes), dtype=bool)
    slot[first[short]] = False
    hashes[slot] = _window_hashes(codes, k)[inside]
    for i in short:
        hashes[first[i]] = token_hash(encode_token(keys[i]))
    return hashes, counts


@lru_cache(maxsize=32)
def _datasketch_permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash  # imported when needed: it pulls in scipy

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
    dtype = np.uint32 if scheme == "affine32" else np.uint64
    a, b = np.array(a, dtype=dtype), np.array(b, dtype=dtype)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def permutations(num_perm: int, seed: int, scheme: str = DEFAULT_SCHEME) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters ``(a, b)``, drawn by datasketch itself.

    >>> from datasketch import MinHash
    >>> a, b = permutations(128, 1)
    >>> bool((a == MinHash(128, 1).permutations[0]).all())
    True
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    return _datasketch_permutations(num_perm, seed, scheme)


def empty_value(scheme: str = DEFAULT_SCHEME) -> int:
    """The hash value of an empty MinHash (also the largest one) in a scheme.

    >>> empty_value("legacy") == empty_value("affine32") == 2**32 - 1
    True
    """
    return _MASK64 if scheme == "affine64" else _MASK32


def _permuted(hashes: np.ndarray, a: np.ndarray, b: np.ndarray, scheme: str,
              out: np.ndarray) -> np.ndarray:
    """datasketch's pre-mix and permutations of token hashes into ``out``.

    ``out`` has shape ``(num_perm, len(hashes))``; row ``j`` is permutation
    ``j`` applied to every hash, exactly as ``MinHash.update`` computes it.
    """
    col_a, col_b = a[:, None], b[:, None]
    if scheme == "legacy":
        h = hashes.astype(np.uint64)
        np.multiply(col_a, h, out=out)
        out += col_b
        out %= np.uint64(_MERSENNE_PRIME)
        out &= np.uint64(_MASK32)
        return out
    h = _fmix(hashes.astype(out.dtype), _FMIX32 if scheme == "affine32" else _FMIX64)
    np.multiply(col_a, h, out=out)
    out += col_b
    return out


def key_groups(lengths: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive ranges of keys holding about ``limit`` characters each.

    A range holds the keys that start within one stretch of ``limit``
    characters of the joined keys, so it has fewer than ``limit`` characters
    plus the length of its last key.

    >>> key_groups(np.array([3, 3, 3, 10, 1]), 5)
    [(0, 2), (2, 4), (4, 5)]
    """
    if not len(lengths):
        return []
    starts = np.cumsum(lengths) - lengths
    edges = [0, *(np.flatnonzero(np.diff(starts // limit)) + 1).tolist(), len(lengths)]
    return list(zip(edges[:-1], edges[1:]))


def _minima(hashes: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray, scheme: str,
            buffer: np.ndarray, out: np.ndarray) -> None:
    """Lower ``out[i]`` to the permuted minima of key ``i``'s shingle hashes.

    ``counts[i]`` hashes belong to key ``i``, in order; they are permuted
    ``buffer.shape[1]`` at a time, so a key's shingles may span blocks.
    """
    rows = np.flatnonzero(counts)  # keys with shingles, in order
    starts = (np.cumsum(counts) - counts)[rows]  # strictly increasing
    block = buffer.shape[1]
    for lo in range(0, len(hashes), block):
        hi = min(lo + block, len(hashes))
        # Keys with shingles in [lo, hi): the one holding ``lo``, then every
        # one that starts before ``hi``.
        first = np.searchsorted(starts, lo, side="right") - 1
        last = np.searchsorted(starts, hi, side="left")
        cuts = starts[first:last] - lo
        cuts[0] = 0
        permuted = _permuted(hashes[lo:hi], a, b, scheme, buffer[:, :hi - lo])
        minima = np.minimum.reduceat(permuted, cuts, axis=1).T
        np.minimum(out[rows[first:last]], minima, out=minima)
        out[rows[first:last]] = minima


def signatures(keys: list[str], shingle: int = 5, num_perm: int = 128, seed: int = 1,
               scheme: str = DEFAULT_SCHEME, block: int | None = None) -> np.ndarray:
    """MinHash signatures of paragraph keys, one row per key.

    Row ``i`` equals the ``hashvalues`` of
    ``MinHash(num_perm, seed, hashfunc=token_hash, scheme=scheme)`` updated
    with ``encode_token(s)`` for every shingle ``s`` of ``keys[i]`` (see
    ``cleaner.dedup.shingles``), dtype included: uint32 for ``"affine32"``,
    uint64 otherwise.

    Memory beyond the result stays flat: keys are hashed ``GROUP_CHARS``
    characters at a time, and ``block`` caps the shingles whose permutations
    are held at once (default: ``BLOCK_ELEMENTS // num_perm``). Neither
    changes the result.

    >>> from datasketch import MinHash
    >>> key = "今天我们召开教育工作会议"
    >>> mh = MinHash(16, 1, hashfunc=token_hash)
    >>> mh.update_batch([encode_token(key[i:i + 5]) for i in range(len(key) - 4)])
    >>> sig = signatures([key, ""], num_perm=16)
    >>> bool((sig[0] == mh.hashvalues).all()), bool((sig[1] == 2**32 - 1).all())
    (True, True)
    """
    if shingle < 1:
        raise ValueError("the shingle size must be at least 1")
    a, b = permutations(num_perm, seed, scheme)
    dtype = np.uint32 if scheme == "affine32" else np.uint64
    result = np.full((len(keys), num_perm), empty_value(scheme), dtype=dtype)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    block = block or max(1, BLOCK_ELEMENTS // num_perm)
    most = int(shingle_counts(lengths, shingle).sum())
    buffer = np.empty((num_perm, max(1, min(block, most))), dtype=dtype)
    for lo, hi in key_groups(lengths, GROUP_CHARS):
        hashes, counts = shingle_hashes(keys[lo:hi], shingle)
        _minima(hashes, counts, a, b, scheme, buffer, result[lo:hi])
    return result


def lean_minhash(row: np.ndarray, seed: int = 1, scheme: str = DEFAULT_SCHEME) -> datasketch.LeanMinHash:
    """A signature row as a ``LeanMinHash``, for ``MinHashLSH`` insert and query.

    >>> lean_minhash(signatures(["教育工作会议"], num_perm=8)[0]).jaccard(
    ...     lean_minhash(signatures(["教育工作会议"], num_perm=8)[0]))
    1.0
    """
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=row, scheme=scheme)


def minhash(row: np.ndarray, seed: int = 1, scheme: str = DEFAULT_SCHEME) -> datasketch.MinHash:
    """A signature row as a ``MinHash`` that further ``update`` calls extend.

    >>> m = minhash(signatures(["教育工作会"], num_perm=8)[0])
    >>> m.update(encode_token("育工作会议"))
    >>> bool((m.hashvalues == signatures(["教育工作会议"], num_perm=8)[0]).all())
    True
    """
    from datasketch import MinHash

    a, b = permutations(len(row), seed, scheme)
    return MinHash(seed=seed, hashfunc=token_hash, hashvalues=row,
                   permutations=(a, b), scheme=scheme)
