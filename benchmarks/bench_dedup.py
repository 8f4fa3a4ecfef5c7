"""Near-duplicate detection: signatures, LSH, find_duplicates at scale, and quality.

Inputs are built deterministically from the seed files in raw/:

- *Markov paragraphs*: text drawn from a character bigram model of the seed
  paragraphs (each next character is the one following a random occurrence
  of the current one in the seeds), 60 to 300 characters, with commas and a
  full stop. They read like the seeds locally and no two are copies.
- a *scale corpus*: speeches of 20 Markov paragraphs; 15% of the speeches are
  reposts of an earlier one (10% of paragraphs dropped, 2% of characters
  substituted);
- the *repost corpora* of ``benchmarks/reposts.py`` (seeds 0-3) for quality.

Sections, each against a baseline timed in the same run:

1. signatures: datasketch's per-paragraph ``MinHash.update`` (its default SHA-1
   hash, and our ``token_hash``) against ``cleaner.minhash.signatures`` on the
   whole batch, with the default settings (shingle, num_perm, seed); ratio
   (target: at least 5×) and our characters/s against 8.3 M/s (a third of a
   compiled loop's 25 M/s per core). Our rows must equal datasketch's
   ``token_hash`` rows.
2. LSH: ``MinHashLSH`` (insert every signature as a ``LeanMinHash``, query
   every one) against our banding (``band_keys`` + ``candidate_pairs``), same
   bands and rows; the candidate pairs must be the same.
3. find_duplicates on the scale corpus: seconds per phase, paragraphs/s next
   to a naive datasketch loop (MinHash per paragraph, MinHashLSH, exact
   Jaccard of frozensets) on a slice, and the peak memory (tracemalloc)
   per million paragraphs, extrapolated from the measured size.
4. signature cache: ``cleaner.sigcache.SignatureStore`` on distinct Markov
   keys, against signing them without a cache: a cold run (sign and store
   everything), a warm run (everything served), an incremental run (10% of
   the keys new), and the lookup alone (digests, then rows). Rows served
   must equal fresh ones. Then the peak memory (VmHWM, Linux) that
   ``find_duplicates`` adds with a cold and a warm store against none, on
   speeches of 20 Markov paragraphs, each measured in a fresh process.
5. quality: pair precision and recall on the repost corpora for thresholds
   × shingle sizes (num_perm 128) with speech-level precision and recall,
   then the keep policies × speech thresholds at the default shingle and
   threshold. The defaults must meet pair precision ≥ 0.98 and recall ≥ 0.95.

``main()`` returns 1 when a signature or a candidate pair differs from
datasketch's, when the cache serves a row that differs, or when the defaults
miss the quality bar. ``python -m benchmarks.bench_dedup cache N`` runs only
the cache section, on N keys.
"""
from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from functools import partial

import numpy as np
from datasketch import MinHash, MinHashLSH

from cleaner.dedup import (
    SIGN_BATCH,
    DedupSettings,
    SpeechMeta,
    band_keys,
    candidate_pairs,
    find_duplicates,
    jaccard,
    lsh_params,
    paragraph_key,
    paragraph_keys,
    shingles,
)
from cleaner.minhash import encode_token, lean_minhash, signatures, token_hash
from cleaner.sigcache import SignatureStore, key_digests

try:
    from benchmarks import reposts
    from benchmarks.timing import best_of
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import reposts
    from timing import best_of

SEED = 0
DEFAULTS = DedupSettings()
SIGN_PARAGRAPHS, SLOW_PARAGRAPHS = 20_000, 1_000
LSH_PARAGRAPHS = 20_000
SCALE_PARAGRAPHS, NAIVE_PARAGRAPHS = 200_000, 3_000
SPEECH_PARAGRAPHS, REPOST_SHARE = 20, 0.15
CACHE_PARAGRAPHS, CACHE_NEW_SHARE = 100_000, 0.1
QUALITY_SEEDS = (0, 1, 2, 3)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
EXTRA_THRESHOLDS = (0.3, 0.4)  # where precision starts to fall
SHINGLES = (3, 4, 5)
SPEECH_THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
PRECISION_BAR, RECALL_BAR = 0.98, 0.95
TARGET_RATIO = 5.0
TARGET_CHARS_PER_S = 25e6 / 3


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def seed_codes() -> np.ndarray:
    """Code points of the seed pool's paragraph keys, joined."""
    keys = paragraph_keys(reposts.seed_pool())
    return np.frombuffer("".join(keys).encode("utf-32-le"), dtype="<u4")


def markov_paragraphs(count: int, seed: int = SEED, codes: np.ndarray | None = None) -> list[str]:
    """``count`` paragraphs of bigram text from the seeds, 60-300 characters."""
    codes = seed_codes() if codes is None else codes
    rng = np.random.default_rng(seed)
    chars, ids = np.unique(codes, return_inverse=True)
    ids = ids.ravel()
    following = np.roll(ids, -1)  # the text read as a loop: every character has a successor
    order = np.argsort(ids, kind="stable")  # positions grouped by character
    starts = np.searchsorted(ids[order], np.arange(len(chars)))
    counts = np.bincount(ids, minlength=len(chars))
    lengths = rng.integers(60, 301, size=count)
    out = np.empty((int(lengths.max()), count), dtype=np.int64)  # one row per position
    current = ids[rng.integers(0, len(ids), size=count)]
    for t in range(len(out)):
        out[t] = current
        pick = starts[current] + (rng.random(count) * counts[current]).astype(np.int64)
        current = following[order[pick]]
    out = np.ascontiguousarray(out.T)
    text = chars[out].astype("<u4").tobytes().decode("utf-32-le")
    width = out.shape[1]
    paragraphs = []
    for i, n in enumerate(lengths.tolist()):
        body = text[i * width:i * width + n]
        paragraphs.append("，".join(body[j:j + 17] for j in range(0, n, 17)) + "。")
    return paragraphs


def substitute(text: str, rate: float, alphabet: str, rng: random.Random) -> str:
    """Each character replaced by one of ``alphabet`` with probability ``rate``
    (the gaps between replaced characters are drawn, not every character)."""
    chars = list(text)
    gap = math.log(1.0 - rate)
    i = int(math.log(1.0 - rng.random()) / gap)
    while i < len(chars):
        chars[i] = rng.choice(alphabet)
        i += 1 + int(math.log(1.0 - rng.random()) / gap)
    return "".join(chars)


def scale_corpus(paragraphs: int = SCALE_PARAGRAPHS, seed: int = SEED) -> list[tuple[str, list[str]]]:
    """Speeches of Markov paragraphs, a share of them reposts with edits."""
    rng = random.Random(seed)
    codes = seed_codes()
    alphabet = codes[:5000].tobytes().decode("utf-32-le")
    fresh = markov_paragraphs(paragraphs, seed, codes)
    speeches: list[list[str]] = []
    used = 0
    while used < paragraphs:
        if speeches and rng.random() < REPOST_SHARE:
            source = rng.choice(speeches)
            copy = [substitute(p, 0.02, alphabet, rng) for p in source if rng.random() >= 0.1]
            speeches.append(copy)
            used += len(copy)
        else:
            speeches.append(fresh[used:used + SPEECH_PARAGRAPHS])
            used += SPEECH_PARAGRAPHS
    return [(f"s{n:06d}#1", paras) for n, paras in enumerate(speeches)]


# ---------------------------------------------------------------------------
# 1. Signatures
# ---------------------------------------------------------------------------

def datasketch_rows(keys: list[str], settings: DedupSettings, hashfunc=None) -> np.ndarray:
    """datasketch per paragraph: a MinHash updated one shingle at a time."""
    encode = encode_token if hashfunc else (lambda s: s.encode("utf-8"))
    rows = []
    for key in keys:
        mh = MinHash(num_perm=settings.num_perm, seed=settings.seed, hashfunc=hashfunc)
        for item in shingles(key, settings.shingle):
            mh.update(encode(item))
        rows.append(mh.hashvalues)
    return np.array(rows)


def bench_signatures(keys: list[str], settings: DedupSettings) -> bool:
    chars = sum(map(len, keys))
    slow = keys[:SLOW_PARAGRAPHS]
    slow_chars = sum(map(len, slow))
    t_sha1, _ = best_of(partial(datasketch_rows, slow, settings), 1)
    t_token, theirs = best_of(partial(datasketch_rows, slow, settings, token_hash), 1)
    t_ours, ours = best_of(partial(signatures, keys, settings.shingle, settings.num_perm, settings.seed), 3)
    print(f"{len(keys):,} Markov paragraphs, {chars / 1e6:.2f} M characters (mean {chars / len(keys):.0f}); "
          f"shingle {settings.shingle}, num_perm {settings.num_perm}, seed {settings.seed}")
    print(f"\n{'arm':<34} {'paragraphs':>10} {'seconds':>8} {'para/s':>9} {'M chars/s':>10}")
    arms = [("datasketch update, sha1", len(slow), slow_chars, t_sha1),
            ("datasketch update, token_hash", len(slow), slow_chars, t_token),
            ("ours, signatures (batch)", len(keys), chars, t_ours)]
    for name, n, c, t in arms:
        print(f"{name:<34} {n:>10,} {t:>8.3f} {n / t:>9,.0f} {c / t / 1e6:>10.2f}")
    ours_rate = chars / t_ours
    for name, _, c, t in arms[:2]:
        ratio = ours_rate / (c / t)
        print(f"  ours / {name}: {ratio:,.1f}× (target ≥ {TARGET_RATIO:.0f}×: "
              f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    print(f"  ours: {ours_rate / 1e6:.1f} M characters/s (a third of a compiled loop: "
          f"{TARGET_CHARS_PER_S / 1e6:.1f} M/s: {'met' if ours_rate >= TARGET_CHARS_PER_S else 'NOT met'})")
    same = np.array_equal(ours[:len(slow)], theirs) and ours.dtype == theirs.dtype
    print(f"  ours vs datasketch with token_hash: {'identical' if same else 'DIFFERENT'} "
          f"on {len(slow):,} paragraphs")
    return same


# ---------------------------------------------------------------------------
# 2. LSH
# ---------------------------------------------------------------------------

def datasketch_lsh(rows: np.ndarray, settings: DedupSettings) -> tuple[float, float, set]:
    objects = [lean_minhash(row, settings.seed) for row in rows]
    lsh = MinHashLSH(threshold=settings.lsh_at, num_perm=settings.num_perm)
    start = time.perf_counter()
    for key, mh in enumerate(objects):
        lsh.insert(key, mh, check_duplication=False)
    t_insert = time.perf_counter() - start
    start = time.perf_counter()
    found = [lsh.query(mh) for mh in objects]
    t_query = time.perf_counter() - start
    pairs = {(min(i, j), max(i, j)) for i, hits in enumerate(found) for j in hits if j != i}
    return t_insert, t_query, pairs


def bench_lsh(keys: list[str], settings: DedupSettings) -> bool:
    bands, r = lsh_params(settings)
    rows = signatures(keys, settings.shingle, settings.num_perm, settings.seed)
    t_insert, t_query, theirs = datasketch_lsh(rows, settings)
    t_bands, keyed = best_of(partial(band_keys, rows, bands, r), 3)
    t_pairs, (i, j) = best_of(partial(candidate_pairs, keyed), 3)
    ours = set(zip(i.tolist(), j.tolist()))
    n = len(rows)
    print(f"\nLSH at {settings.lsh_at} ({bands} bands of {r}), {n:,} paragraphs:")
    print(f"  datasketch MinHashLSH insert {t_insert:7.3f} s {n / t_insert:>10,.0f} /s")
    print(f"  datasketch MinHashLSH query  {t_query:7.3f} s {n / t_query:>10,.0f} /s")
    print(f"  ours band keys (insert)      {t_bands:7.3f} s {n / t_bands:>10,.0f} /s")
    print(f"  ours candidate pairs (query) {t_pairs:7.3f} s {n / t_pairs:>10,.0f} /s")
    print(f"  ours / datasketch, insert + query: {(t_insert + t_query) / (t_bands + t_pairs):,.0f}×")
    same = ours == theirs
    print(f"  candidate pairs: {len(ours):,} ours, {len(theirs):,} datasketch: "
          f"{'identical' if same else 'DIFFERENT'}")
    return same


# ---------------------------------------------------------------------------
# 3. find_duplicates at scale
# ---------------------------------------------------------------------------

def naive(speeches: list[tuple[str, list[str]]], settings: DedupSettings) -> int:
    """The straightforward datasketch loop: MinHash (SHA-1) per paragraph,
    MinHashLSH, exact Jaccard of frozensets for the candidates."""
    refs, sets, objects = [], [], []
    lsh = MinHashLSH(threshold=settings.lsh_at, num_perm=settings.num_perm)
    for s, (_, paragraphs) in enumerate(speeches):
        for text in paragraphs:
            key = paragraph_key(text)
            if len(key) < settings.min_chars:
                continue
            items = shingles(key, settings.shingle)
            mh = MinHash(num_perm=settings.num_perm, seed=settings.seed)
            for item in items:
                mh.update(item.encode("utf-8"))
            lsh.insert(len(refs), mh, check_duplication=False)
            refs.append(s)
            sets.append(items)
            objects.append(mh)
    linked = 0
    for k, mh in enumerate(objects):
        for other in lsh.query(mh):
            if other > k and refs[other] != refs[k] and jaccard(sets[k], sets[other]) >= settings.threshold:
                linked += 1
    return linked


def bench_scale(corpus: list[tuple[str, list[str]]], settings: DedupSettings) -> None:
    n = sum(len(p) for _, p in corpus)
    chars = sum(len(t) for _, p in corpus for t in p)
    start = time.perf_counter()
    result = find_duplicates(corpus, settings)
    seconds = time.perf_counter() - start
    slice_ = []
    for sid, paras in corpus:
        if sum(len(p) for _, p in slice_) >= NAIVE_PARAGRAPHS:
            break
        slice_.append((sid, paras))
    m = sum(len(p) for _, p in slice_)
    t_naive, _ = best_of(partial(naive, slice_, settings), 1)
    t_small, _ = best_of(partial(find_duplicates, slice_, settings), 1)
    print(f"\nfind_duplicates, {len(corpus):,} speeches, {n:,} paragraphs, {chars / 1e6:.1f} M characters "
          f"({REPOST_SHARE:.0%} of speeches reposted):")
    print(f"  {seconds:.2f} s, {n / seconds:,.0f} paragraphs/s, {chars / seconds / 1e6:.2f} M characters/s")
    print("  phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
    s = result.stats
    print(f"  {s['signatures']:,} keys signed, {s['candidate_pairs']:,} candidate pairs, "
          f"{s['verified_pairs']:,} linked, {s['clusters']:,} clusters, "
          f"{s['duplicate_paragraphs']:,} copies, {s['speech_duplicates']:,} duplicate speeches")
    print(f"  on the first {m:,} paragraphs: naive datasketch loop {t_naive:.2f} s ({m / t_naive:,.0f} /s), "
          f"ours {t_small:.2f} s ({m / t_small:,.0f} /s): {t_naive / t_small:,.0f}×")
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    find_duplicates(corpus, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_million = (peak - base) * 1e6 / n
    print(f"  peak memory (tracemalloc, beyond the corpus): {(peak - base) / 2**20:,.0f} MB, "
          f"{per_million / 2**20:,.0f} MB per million paragraphs")


# ---------------------------------------------------------------------------
# 4. Signature cache
# ---------------------------------------------------------------------------

def cache_keys(count: int, seed: int = SEED + 1) -> list[str]:
    """``count`` distinct keys of Markov paragraphs."""
    keys = list(dict.fromkeys(paragraph_keys(markov_paragraphs(count + count // 50, seed))))
    return keys[:count]


def sign_through(store_root: str, keys: list[str], settings: DedupSettings) -> tuple[np.ndarray, dict]:
    """One run through the store: keys in find_duplicates' batches, the store closed."""
    with SignatureStore(store_root, settings) as store:
        rows = np.concatenate([store(keys[lo:lo + SIGN_BATCH]) for lo in range(0, len(keys), SIGN_BATCH)])
    return rows, store.stats


def bench_cache(keys: list[str], settings: DedupSettings) -> bool:
    n = len(keys)
    chars = sum(map(len, keys))
    fresh_count = int(n * CACHE_NEW_SHARE)
    known = keys[:n - fresh_count]
    print(f"\nsignature cache, {n:,} distinct keys ({chars / 1e6:.1f} M characters), "
          f"batches of {SIGN_BATCH:,} as find_duplicates asks:")
    with tempfile.TemporaryDirectory(prefix="bench-sigcache-") as root:
        t_plain, plain = best_of(lambda: np.concatenate([
            signatures(keys[lo:lo + SIGN_BATCH], settings.shingle, settings.num_perm, settings.seed)
            for lo in range(0, n, SIGN_BATCH)]), 1)
        t_cold, (cold, _) = best_of(partial(sign_through, root + "/cold", keys, settings), 1)
        t_warm, (warm, stats) = best_of(partial(sign_through, root + "/cold", keys, settings), 3)
        # Incremental: a store holding 90% of the keys, then all of them asked.
        sign_through(root + "/incremental", known, settings)
        t_incr, (incr, istats) = best_of(partial(sign_through, root + "/incremental", keys, settings), 1)
        t_digest, digests = best_of(partial(key_digests, keys), 3)
        store = SignatureStore(root + "/cold", settings)
        t_lookup, (_, found) = best_of(partial(store.lookup, digests), 3)
        size = sum(f.stat().st_size for f in store.folder.iterdir())
    print(f"  {'no cache (signatures)':<38} {t_plain:7.2f} s {n / t_plain:>11,.0f} keys/s")
    print(f"  {'cold store (sign everything, write)':<38} {t_cold:7.2f} s {n / t_cold:>11,.0f} keys/s"
          f"   {t_cold / t_plain:.2f}× the time without a cache")
    print(f"  {'warm store (everything served)':<38} {t_warm:7.2f} s {n / t_warm:>11,.0f} keys/s"
          f"   {t_plain / t_warm:,.1f}× faster than signing ({stats['hits']:,} hits)")
    print(f"  {'incremental ({:.0%} new)'.format(CACHE_NEW_SHARE):<38} {t_incr:7.2f} s "
          f"{n / t_incr:>11,.0f} keys/s   {t_plain / t_incr:,.1f}× faster than signing "
          f"({istats['signed']:,} signed)")
    print(f"  lookup alone: digests {n / t_digest:,.0f} keys/s, rows {n / t_lookup:,.0f} keys/s; "
          f"both {n / (t_digest + t_lookup):,.0f} keys/s, "
          f"{(t_digest + t_lookup) * 1e6 / n:.2f} s per million keys")
    print(f"  store: {size / 2**20:,.0f} MB, {size / n:,.0f} bytes per signature")
    same = (cold.tobytes() == plain.tobytes() and warm.tobytes() == plain.tobytes()
            and incr.tobytes() == plain.tobytes() and bool(found.all()))
    print(f"  rows from the store vs fresh: {'identical' if same else 'DIFFERENT'}")
    cache_peaks(n)
    return same


def _vm(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def cache_peak_child(mode: str, root: str, count: int) -> None:
    """In a fresh process: find_duplicates on ``count`` Markov paragraphs
    (speeches of 20), with no store (``none``) or through the store at
    ``root``; prints the peak resident memory it added, and the seconds."""
    paragraphs = markov_paragraphs(count)
    speeches = [(f"s{i}", paragraphs[i:i + 20]) for i in range(0, count, 20)]
    base = _vm("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")  # the peak starts again from here
    start = time.perf_counter()
    if mode == "none":
        find_duplicates(speeches, DEFAULTS)
    else:
        with SignatureStore(root, DEFAULTS) as store:
            find_duplicates(speeches, DEFAULTS, sign=store)
    print(_vm("VmHWM") - base, time.perf_counter() - start)


def cache_peaks(count: int) -> None:
    """Peak memory find_duplicates adds, with no store, a cold and a warm one (each in a new process)."""
    if not os.path.exists("/proc/self/clear_refs"):
        print("  peak memory: needs Linux's /proc, skipped")
        return
    with tempfile.TemporaryDirectory(prefix="bench-sigcache-peak-") as root:
        peaks = {}
        for mode in ("none", "cold", "warm"):
            out = subprocess.run([sys.executable, "-m", "benchmarks.bench_dedup", "cache-peak", mode, root,
                                  str(count)], capture_output=True, text=True, check=True).stdout.split()
            peaks[mode] = (int(out[0]), float(out[1]))
    none = peaks["none"][0]
    print(f"  find_duplicates on {count:,} paragraphs, peak memory added (a fresh process each):")
    for mode, label in (("none", "no store"), ("cold", "cold store"), ("warm", "warm store")):
        peak, seconds = peaks[mode]
        extra = "" if mode == "none" else f"   {(peak - none) / 2**20:+7.1f} MB against no store"
        print(f"    {label:<12} {peak / 2**20:7.1f} MB {seconds:6.2f} s{extra}")


# ---------------------------------------------------------------------------
# 5. Quality
# ---------------------------------------------------------------------------

def score(corpora: list, settings: DedupSettings) -> tuple[reposts.PairScore, reposts.PairScore]:
    pairs = speeches = reposts.PairScore(0, 0, 0)
    for corpus in corpora:
        meta = [SpeechMeta(p.boilerplate_chars, p.page_chars) for p in corpus.postings]
        result = find_duplicates(corpus.speeches, settings, meta)
        pairs += reposts.pair_score(corpus, result.clusters, settings.min_chars,
                                    lambda text: len(paragraph_key(text)))
        speeches += reposts.speech_score(corpus, result.speech_duplicates)
    return pairs, speeches


def quality_table(corpora: list, defaults: DedupSettings = DEFAULTS) -> bool:
    """Print the table (markdown) and return True when the defaults meet the bar."""
    n = sum(len(c.postings) for c in corpora)
    paragraphs = sum(len(p.paragraphs) for c in corpora for p in c.postings)
    print(f"\nQuality on {len(corpora)} repost corpora (seeds {', '.join(map(str, QUALITY_SEEDS))}): "
          f"{n:,} speeches, {paragraphs:,} paragraphs; keep={defaults.keep}, num_perm {defaults.num_perm}, "
          f"min_chars {defaults.min_chars}, speech_threshold {defaults.speech_threshold}")
    print("\n| shingle | threshold | pair precision | pair recall | true pairs | predicted | "
          "speech precision | speech recall |")
    print("|---|---|---|---|---|---|---|---|")
    met = False
    for k in SHINGLES:
        for t in EXTRA_THRESHOLDS + THRESHOLDS:
            settings = DedupSettings(min_chars=defaults.min_chars, shingle=k, num_perm=defaults.num_perm,
                                     threshold=t, seed=defaults.seed,
                                     speech_threshold=defaults.speech_threshold, keep=defaults.keep)
            pairs, speeches = score(corpora, settings)
            chosen = k == defaults.shingle and t == defaults.threshold
            if chosen:
                met = pairs.precision >= PRECISION_BAR and pairs.recall >= RECALL_BAR
            mark = "**" if chosen else ""
            print(f"| {mark}{k}{mark} | {mark}{t}{mark} | {pairs.precision:.4f} | {pairs.recall:.4f} | "
                  f"{pairs.true_pairs:,} | {pairs.predicted:,} | {speeches.precision:.3f} | "
                  f"{speeches.recall:.3f} |")
    print(f"\ndefaults (shingle {defaults.shingle}, threshold {defaults.threshold}): bar precision ≥ "
          f"{PRECISION_BAR}, recall ≥ {RECALL_BAR}: {'met' if met else 'NOT met'}")
    print("\n| keep | speech_threshold | pair precision | pair recall | speech precision | speech recall |")
    print("|---|---|---|---|---|---|")
    for keep in ("first", "longest", "cleanest"):
        for share in SPEECH_THRESHOLDS:
            settings = DedupSettings(**{**defaults.__dict__, "keep": keep, "speech_threshold": share})
            pairs, speeches = score(corpora, settings)
            mark = "**" if (keep, share) == (defaults.keep, defaults.speech_threshold) else ""
            print(f"| {mark}{keep}{mark} | {mark}{share}{mark} | {pairs.precision:.4f} | {pairs.recall:.4f} | "
                  f"{speeches.precision:.3f} | {speeches.recall:.3f} |")
    return met


def main() -> int:
    """Every section; 1 when ours differs from datasketch or the defaults miss the bar."""
    corpus = scale_corpus()
    texts = [t for _, paragraphs in corpus for t in paragraphs]
    keys = [k for k in paragraph_keys(texts[:SIGN_PARAGRAPHS * 2]) if len(k) >= DEFAULTS.min_chars]
    same_rows = bench_signatures(keys[:SIGN_PARAGRAPHS], DEFAULTS)
    same_pairs = bench_lsh(keys[:LSH_PARAGRAPHS], DEFAULTS)
    bench_scale(corpus, DEFAULTS)
    same_cache = bench_cache(cache_keys(CACHE_PARAGRAPHS), DEFAULTS)
    pool = reposts.seed_pool()
    corpora = [reposts.build_corpus(seed, pool=pool) for seed in QUALITY_SEEDS]
    met = quality_table(corpora)
    return 0 if same_rows and same_pairs and same_cache and met else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["cache-peak"]:
        cache_peak_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    if sys.argv[1:2] == ["cache"]:
        count = int(sys.argv[2]) if len(sys.argv) > 2 else CACHE_PARAGRAPHS
        sys.exit(0 if bench_cache(cache_keys(count), DEFAULTS) else 1)
    sys.exit(main())
