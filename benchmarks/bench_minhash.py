"""Batch MinHash signatures against datasketch's per-paragraph MinHash.

The paragraphs are cut deterministically (``random.Random(0)``) from the seed
files in raw/: the paragraph keys (``cleaner.dedup.paragraph_key``) of the
lines of at least 50 characters are joined, and each paragraph is a window of
160 to 240 characters (about 200) from a random start, with about 3% of its
characters replaced by random common CJK characters so that no two are copies.

Arms timed in the same run, each the best (min) of a few passes, all with
5-character shingles, 128 permutations and seed 1:

- ``datasketch update sha1``: per paragraph, ``MinHash(128, 1)`` then
  ``update(shingle.encode("utf-8"))`` for each shingle (datasketch's default
  SHA-1 token hash);
- ``datasketch update token_hash``: the same with ``hashfunc=token_hash`` and
  ``encode_token`` (the signatures ours must equal);
- ``datasketch update_batch sha1`` and ``… token_hash``: per paragraph, one
  ``update_batch`` with every shingle, as ``cleaner.dedup`` signs today;
- ``datasketch bulk sha1``: ``MinHash.bulk`` over the paragraphs' shingle
  lists, which saves setting up each MinHash;
- ``ours signatures``: ``cleaner.minhash.signatures`` on the whole batch.

The datasketch arms run on the first ``SLOW_PARAGRAPHS`` paragraphs (they are
slow), ours on all of them; rates are per second, so they compare. The table
gives paragraphs/s and characters/s, then the ratio of ours to each datasketch
arm (target: at least 5× the per-paragraph update) and our characters/s
against 8.3 M/s (a third of what a compiled loop does per core). Then
``MinHashLSH`` insert and query rates with our signatures.

Our rows are compared with the ``token_hash`` arms' ``hashvalues``: a row that
differs is a bug, and ``main()`` returns 1.
"""
from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from cleaner.dedup import paragraph_key, shingles
from cleaner.minhash import encode_token, lean_minhash, shingle_hashes, signatures, token_hash

try:
    from benchmarks.timing import best_of
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from timing import best_of

RAW = Path(__file__).resolve().parent.parent / "raw"
SEED = 0
PARAGRAPHS = 20_000
SLOW_PARAGRAPHS = 1_000
MIN_LINE = 50
MIN_CHARS, MAX_CHARS = 160, 240
REPLACED = 0.03
SHINGLE, NUM_PERM, MINHASH_SEED = 5, 128, 1
LSH_THRESHOLD = 0.5
REPEATS, SLOW_REPEATS = 5, 2
TARGET_RATIO = 5.0
COMPILED_CHARS_PER_S = 25e6
TARGET_CHARS_PER_S = COMPILED_CHARS_PER_S / 3


@dataclass(frozen=True)
class Timing:
    arm: str
    paragraphs: int
    chars: int
    seconds: float

    @property
    def paragraphs_per_s(self) -> float:
        return self.paragraphs / self.seconds

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds


def seed_text(raw: Path = RAW) -> str:
    """The paragraph keys of the seed lines of at least ``MIN_LINE`` characters, joined."""
    return "".join(
        paragraph_key(line)
        for path in sorted(raw.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line) >= MIN_LINE
    )


def build_paragraphs(count: int = PARAGRAPHS, seed: int = SEED) -> list[str]:
    """``count`` paragraph keys of about 200 characters; the same seed gives the same ones."""
    rng = random.Random(seed)
    text = seed_text()
    paragraphs = []
    for _ in range(count):
        size = rng.randint(MIN_CHARS, MAX_CHARS)
        start = rng.randrange(len(text) - size)
        chars = list(text[start:start + size])
        for _ in range(round(size * REPLACED)):
            chars[rng.randrange(size)] = chr(rng.randint(0x4E00, 0x62FF))
        paragraphs.append("".join(chars))
    return paragraphs


def utf8(shingle: str) -> bytes:
    return shingle.encode("utf-8")


def datasketch_update(keys: list[str], hashfunc=None, encode=utf8) -> np.ndarray:
    """One MinHash per paragraph, updated one shingle at a time."""
    rows = []
    for key in keys:
        mh = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=hashfunc)
        for item in shingles(key, SHINGLE):
            mh.update(encode(item))
        rows.append(mh.hashvalues)
    return np.array(rows)


def datasketch_update_batch(keys: list[str], hashfunc=None, encode=utf8) -> np.ndarray:
    """One MinHash per paragraph, updated with all its shingles at once."""
    rows = []
    for key in keys:
        mh = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=hashfunc)
        mh.update_batch([encode(item) for item in shingles(key, SHINGLE)])
        rows.append(mh.hashvalues)
    return np.array(rows)


def datasketch_bulk(keys: list[str]) -> np.ndarray:
    """``MinHash.bulk``: update_batch per paragraph on copies of one initialized MinHash."""
    tokens = ([utf8(item) for item in shingles(key, SHINGLE)] for key in keys)
    return np.array([mh.hashvalues for mh in MinHash.bulk(tokens, num_perm=NUM_PERM, seed=MINHASH_SEED)])


def ours(keys: list[str]) -> np.ndarray:
    return signatures(keys, SHINGLE, NUM_PERM, MINHASH_SEED)


def time_arms(keys: list[str]) -> tuple[list[Timing], dict[str, np.ndarray]]:
    """Time every arm; return the timings (ours last) and the rows to check."""
    slow = keys[:SLOW_PARAGRAPHS]
    arms: list[tuple[str, list[str], Callable[[list[str]], np.ndarray], int]] = [
        ("datasketch update sha1", slow, datasketch_update, SLOW_REPEATS),
        ("datasketch update token_hash", slow,
         partial(datasketch_update, hashfunc=token_hash, encode=encode_token), SLOW_REPEATS),
        ("datasketch update_batch sha1", slow, datasketch_update_batch, SLOW_REPEATS),
        ("datasketch update_batch token_hash", slow,
         partial(datasketch_update_batch, hashfunc=token_hash, encode=encode_token), SLOW_REPEATS),
        ("datasketch bulk sha1", slow, datasketch_bulk, SLOW_REPEATS),
        ("ours signatures", keys, ours, REPEATS),
    ]
    timings, rows = [], {}
    for name, batch, fn, repeats in arms:
        seconds, rows[name] = best_of(partial(fn, batch), repeats)
        timings.append(Timing(name, len(batch), sum(map(len, batch)), seconds))
    return timings, rows


def describe_paragraphs(keys: list[str]) -> None:
    chars = sum(map(len, keys))
    print(f"paragraphs: {len(keys):,}, {chars / 1e6:.2f} M characters "
          f"(mean {chars / len(keys):.0f}, {min(map(len, keys))} to {max(map(len, keys))}), "
          f"from {len(list(RAW.glob('*.txt')))} seed files, seed {SEED}; "
          f"shingle {SHINGLE}, num_perm {NUM_PERM}, seed {MINHASH_SEED}")


def print_table(timings: list[Timing]) -> None:
    print(f"\n{'arm':<36} {'paragraphs':>10} {'seconds':>9} {'para/s':>10} {'M chars/s':>10}")
    for t in timings:
        print(f"{t.arm:<36} {t.paragraphs:>10,} {t.seconds:>9.3f} "
              f"{t.paragraphs_per_s:>10,.0f} {t.chars_per_s / 1e6:>10.2f}")


def print_ratios(timings: list[Timing]) -> None:
    """Our characters/s as a multiple of each datasketch arm's, and against the bar."""
    mine = timings[-1]
    print(f"\nspeed ratio, ours / datasketch (characters/s; target ≥ {TARGET_RATIO:g}× "
          "the per-paragraph update):")
    for t in timings[:-1]:
        ratio = mine.chars_per_s / t.chars_per_s
        verdict = ("met" if ratio >= TARGET_RATIO else "NOT met") if " update " in f" {t.arm} " else ""
        print(f"  {t.arm:<34} {ratio:6.1f}×  {verdict}")
    share = mine.chars_per_s / COMPILED_CHARS_PER_S
    verdict = "met" if mine.chars_per_s >= TARGET_CHARS_PER_S else "NOT met"
    print(f"ours: {mine.chars_per_s / 1e6:.1f} M characters/s, {share:.2f} of a compiled loop's "
          f"{COMPILED_CHARS_PER_S / 1e6:g} M/s per core (bar {TARGET_CHARS_PER_S / 1e6:.1f} M/s: {verdict})")


def print_breakdown(keys: list[str], total: float) -> None:
    """How much of our time goes to hashing shingles, the rest being permutations."""
    seconds, _ = best_of(partial(shingle_hashes, keys, SHINGLE), REPEATS)
    print(f"  of which shingle hashing {seconds:.3f} s ({seconds / total:.0%}), "
          f"permutations and minima {total - seconds:.3f} s")


def time_lsh(rows: np.ndarray) -> None:
    """MinHashLSH insert and query rates with our signatures as LeanMinHash."""
    def build(objects: list) -> MinHashLSH:
        lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        for key, mh in enumerate(objects):
            lsh.insert(key, mh, check_duplication=False)
        return lsh

    n = len(rows)
    t_lean, objects = best_of(lambda: [lean_minhash(row, MINHASH_SEED) for row in rows], SLOW_REPEATS)
    t_insert, lsh = best_of(partial(build, objects), SLOW_REPEATS)
    t_query, found = best_of(lambda: [lsh.query(mh) for mh in objects], SLOW_REPEATS)
    mean = sum(map(len, found)) / n
    print(f"\nMinHashLSH (threshold {LSH_THRESHOLD}, {lsh.b} bands of {lsh.r}) with our signatures, "
          f"{n:,} paragraphs:")
    print(f"  rows to LeanMinHash {t_lean:.3f} s: {n / t_lean:>9,.0f} /s")
    print(f"  insert              {t_insert:.3f} s: {n / t_insert:>9,.0f} /s")
    print(f"  query               {t_query:.3f} s: {n / t_query:>9,.0f} /s, "
          f"{mean:.1f} candidates per query (itself included)")


def check(rows: dict[str, np.ndarray]) -> list[int]:
    """Indexes of the paragraphs where ours differs from datasketch's token_hash rows."""
    mine = rows["ours signatures"]
    bad: set[int] = set()
    for name in ("datasketch update token_hash", "datasketch update_batch token_hash"):
        theirs = rows[name]
        same = mine.dtype == theirs.dtype and mine[:len(theirs)].shape == theirs.shape
        differs = np.ones(len(theirs), bool) if not same else (mine[:len(theirs)] != theirs).any(axis=1)
        bad.update(np.flatnonzero(differs).tolist())
    checked = len(rows["datasketch update token_hash"])
    print(f"\nours vs datasketch with token_hash: {checked - len(bad)}/{checked} signatures identical")
    return sorted(bad)


def main() -> int:
    """Build the paragraphs, time the arms and LSH, check ours; 1 if a signature differs."""
    keys = build_paragraphs()
    describe_paragraphs(keys)
    timings, rows = time_arms(keys)
    print_table(timings)
    print_breakdown(keys, timings[-1].seconds)
    print_ratios(timings)
    time_lsh(rows["ours signatures"])
    bad = check(rows)
    for i in bad[:10]:
        print(f"  paragraph {i} differs: {keys[i][:30]!r}…")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
