"""Decode stage against charset-normalizer, on a mixed-encoding corpus.

The corpus is cut deterministically (``random.Random(0)``) from the UTF-8 seed
files in raw/: chunks of whole lines, 300 bytes to 40 KB of UTF-8 (log-uniform,
so small files are the common case), written to a temporary folder. 80% of the
files are UTF-8; the rest are split evenly among GB18030, UTF-16 LE and BE with
a byte-order mark, and UTF-8 with a byte-order mark.

Five arms are timed in the same run, in ``REPEATS`` interleaved rounds: each
round runs every arm once (``timing.best_of_each``), so a busy moment on a
shared machine falls on all arms alike, and each arm's time is its best (min)
round. On bytes already in memory:

- ``decode_bytes``: ``cleaner.decode.decode_bytes(data)``: the encoding
  decision, the decode and the mojibake check;
- ``decode+tidy``: the same followed by ``cleaner.tidy.tidy`` (entities, line
  endings, NFC, controls): all the decode stage does to the text;
- ``charset-normalizer``: ``from_bytes(data).best()`` then ``str()`` of the
  match, the baseline for both.

On files, each reading its file:

- ``decode_file``: ``cleaner.pipeline.decode_file(path, name)``, the whole
  stage (read, hash, decode, tidy, split into numbered lines);
- ``charset-normalizer file``: ``from_path(path).best()`` then ``str()``.

A second table times ``decode_bytes`` and the baseline on each encoding's
files alone, interleaved the same way, to show where the time goes. Then the
texts are checked against the chunks they were made from. A file that
``decode_bytes`` does not give back exactly is a decoding bug: it is listed,
and ``main()`` returns 1.
"""
from __future__ import annotations

import codecs
import math
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from charset_normalizer import from_bytes, from_path

from cleaner.decode import Decoded, decode_bytes
from cleaner.model import Page
from cleaner.pipeline import decode_file
from cleaner.tidy import tidy

try:
    from benchmarks.timing import best_of_each
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from timing import best_of_each

RAW = Path(__file__).resolve().parent.parent / "raw"
SEED = 0
FILES = 400
MIN_BYTES, MAX_BYTES = 300, 40_000
UTF8_SHARE = 0.8
REPEATS = 15
TARGET_RATIO = 10.0
MAX_LISTED = 10

# Corpus encodings: label → how the chunk text becomes bytes.
ENCODERS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda text: text.encode("utf-8"),
    "gb18030": lambda text: text.encode("gb18030"),
    "utf-16-le+bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be+bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-8+bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
}
OTHER_LABELS = [label for label in ENCODERS if label != "utf-8"]


@dataclass(frozen=True)
class Sample:
    """One corpus file: the text it was made from, its bytes and where it lies."""

    name: str
    label: str
    text: str
    data: bytes
    path: Path


@dataclass(frozen=True)
class Timing:
    """Best total time of one arm over the whole corpus."""

    arm: str
    seconds: float


def seed_lines(raw: Path = RAW) -> list[str]:
    """Every line of the seed files, in file order, each ending with a newline."""
    lines = []
    for path in sorted(raw.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            lines.append(line if line.endswith("\n") else line + "\n")
    return lines


def cut_chunk(lines: list[str], rng: random.Random) -> str:
    """Whole lines from a random start, wrapping around, until a random size is reached."""
    target = round(math.exp(rng.uniform(math.log(MIN_BYTES), math.log(MAX_BYTES))))
    start = rng.randrange(len(lines))
    chunk, size = [], 0
    while size < target:
        line = lines[(start + len(chunk)) % len(lines)]
        chunk.append(line)
        size += len(line.encode("utf-8"))
    return "".join(chunk)


def encoding_labels(count: int, rng: random.Random) -> list[str]:
    """``UTF8_SHARE`` of the labels are UTF-8, the rest spread evenly, in random order."""
    others = count - round(count * UTF8_SHARE)
    labels = ["utf-8"] * (count - others)
    labels += [OTHER_LABELS[i % len(OTHER_LABELS)] for i in range(others)]
    rng.shuffle(labels)
    return labels


def build_corpus(folder: Path, count: int = FILES, seed: int = SEED) -> list[Sample]:
    """Write ``count`` files into ``folder``; the same seed gives the same files."""
    rng = random.Random(seed)
    lines = seed_lines()
    samples = []
    for i, label in enumerate(encoding_labels(count, rng)):
        text = cut_chunk(lines, rng)
        data = ENCODERS[label](text)
        name = f"{i:04d}_{label}.txt"
        path = folder / name
        path.write_bytes(data)
        samples.append(Sample(name, label, text, data, path))
    return samples


def ours_bytes(samples: list[Sample]) -> list[Decoded]:
    """Our decoder on every file's bytes, already in memory."""
    return [decode_bytes(s.data) for s in samples]


def ours_tidy(samples: list[Sample]) -> list[str]:
    """Decode and tidy every file's bytes: the decode stage's work on the text."""
    return [tidy(decode_bytes(s.data).text)[0] for s in samples]


def baseline_file(samples: list[Sample]) -> list[str | None]:
    """charset-normalizer reading every file itself."""
    return [_text(from_path(s.path).best()) for s in samples]


def ours_file(samples: list[Sample]) -> list[Page]:
    """The whole decode stage on every file: read, hash, decode, split into lines."""
    return [decode_file(s.path, s.name) for s in samples]


def baseline(samples: list[Sample]) -> list[str | None]:
    """charset-normalizer's text for every file, None where it finds no match."""
    return [_text(from_bytes(s.data).best()) for s in samples]


def _text(best) -> str | None:
    return None if best is None else str(best)


def describe_corpus(samples: list[Sample]) -> None:
    """Print the corpus size, file sizes and how many files each encoding has."""
    total = sum(len(s.data) for s in samples)
    sizes = sorted(len(s.data) for s in samples)
    print(f"corpus: {len(samples)} files, {total / 1e6:.2f} MB, "
          f"{sizes[0]:,} to {sizes[-1]:,} bytes (median {sizes[len(sizes) // 2]:,}), "
          f"from {len(list(RAW.glob('*.txt')))} seed files, seed {SEED}")
    counts = Counter(s.label for s in samples)
    print("  " + ", ".join(f"{label} {counts[label]}" for label in ENCODERS))


def print_table(timings: list[Timing], samples: list[Sample]) -> None:
    """Print files, MB, seconds and MB/s for each arm."""
    files = len(samples)
    mb = sum(len(s.data) for s in samples) / 1e6
    print(f"\n{'arm':<20} {'files':>6} {'MB':>7} {'seconds':>9} {'MB/s':>9}")
    for t in timings:
        print(f"{t.arm:<20} {files:>6} {mb:>7.2f} {t.seconds:>9.3f} {mb / t.seconds:>9.1f}")


def print_ratios(pairs: list[tuple[Timing, Timing]]) -> None:
    """Speed of each of our arms as a multiple of its baseline's.

    The target applies to the first pair, the like-for-like one: both arms
    decide the encoding and decode, and give identical text. The other two
    do work the baseline does not (tidying; reading, hashing and splitting),
    so they are shown for scale, without a verdict.
    """
    print(f"\nspeed ratio, ours / baseline (best of {REPEATS}):")
    for i, (ours, base) in enumerate(pairs):
        ratio = base.seconds / ours.seconds
        if i == 0:
            verdict = f"target ≥ {TARGET_RATIO:g}×, " + ("met" if ratio >= TARGET_RATIO else "NOT met")
        else:
            verdict = "for scale"
        print(f"  {ours.arm:<14} / {base.arm:<26} {ratio:6.1f}×  {verdict}")
    print("  (decode+tidy also decodes entities, unifies line endings, NFC-normalizes and removes\n"
          "   controls; decode_file also reads, hashes and splits each file; the baseline does neither)")


def print_by_encoding(samples: list[Sample]) -> None:
    """Time decode_bytes and the baseline on each encoding's files alone."""
    print(f"\nby encoding (best of {REPEATS}):")
    print(f"{'encoding':<16} {'files':>6} {'MB':>7} {'ours s':>8} {'base s':>8} {'ratio':>7}  decided by")
    for label in ENCODERS:
        group = [s for s in samples if s.label == label]
        timed = best_of_each({"ours": partial(ours_bytes, group), "base": partial(baseline, group)},
                             REPEATS)
        (ours, decoded), (base, _) = timed["ours"], timed["base"]
        how = Counter(d.decided_by for d in decoded)
        print(f"{label:<16} {len(group):>6} {sum(len(s.data) for s in group) / 1e6:>7.2f} "
              f"{ours:>8.4f} {base:>8.4f} {base / ours:>6.1f}×  "
              + ", ".join(f"{k} {n}" for k, n in how.most_common()))


def first_difference(a: str, b: str) -> int:
    """Index of the first character where ``a`` and ``b`` differ."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def describe_mismatch(s: Sample, got: Decoded) -> str:
    """One line on a file our decoder got wrong: how it decided, and where it went wrong."""
    i = first_difference(got.text, s.text)
    return (f"  {s.name}: {len(s.data):,} bytes, decoded as {got.encoding} "
            f"by {got.decided_by} (confidence {got.confidence}, replaced {got.replaced}"
            f"{', repaired ' + got.repaired if got.repaired else ''}); "
            f"chars {len(got.text):,} vs {len(s.text):,}; first difference at {i}: "
            f"{got.text[i:i + 12]!r} instead of {s.text[i:i + 12]!r}")


def check_ours(samples: list[Sample], decoded: list[Decoded], pages: list[Page]) -> list[str]:
    """Print how many texts decode_bytes and decode_file give back; return the bad files."""
    bad = [(s, d) for s, d in zip(samples, decoded) if d.text != s.text]
    print(f"\ndecode_bytes: {len(samples) - len(bad)}/{len(samples)} files give back the original text")
    for s, d in bad[:MAX_LISTED]:
        print(describe_mismatch(s, d))
    if len(bad) > MAX_LISTED:
        print(f"  … and {len(bad) - MAX_LISTED} more")
    rejoined = sum(
        p.error is None and "\n".join(line for _, line in p.lines) == s.text
        for s, p in zip(samples, pages)
    )
    print(f"decode_file:  {rejoined}/{len(samples)} pages whose lines rejoin to the original text")
    return [s.name for s, _ in bad]


def check_baseline(samples: list[Sample], texts: list[str | None]) -> None:
    """Print how many texts charset-normalizer gives back, with or without a leading BOM."""
    exact = sum(t == s.text for s, t in zip(samples, texts))
    after_bom = sum(
        t is not None and t != s.text and t.startswith("\ufeff") and t[1:] == s.text
        for s, t in zip(samples, texts)
    )
    line = f"charset-normalizer: {exact + after_bom}/{len(samples)} files give back the original text"
    if after_bom:
        line += f" ({after_bom} only after stripping a leading U+FEFF from its text)"
    else:
        line += " (exact; no leading U+FEFF stripped)"
    print(line)
    wrong = Counter(s.label for s, t in zip(samples, texts)
                    if t is None or t.removeprefix("\ufeff") != s.text)
    if wrong:
        print("  differs: " + ", ".join(f"{label} {n}" for label, n in sorted(wrong.items())))


def main() -> int:
    """Build the corpus, time the five arms, check the texts; 1 if ours lost text."""
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as folder:
        samples = build_corpus(Path(folder))
        describe_corpus(samples)
        timed = best_of_each({
            "decode_bytes": partial(ours_bytes, samples),
            "decode+tidy": partial(ours_tidy, samples),
            "charset-normalizer": partial(baseline, samples),
            "decode_file": partial(ours_file, samples),
            "charset-normalizer file": partial(baseline_file, samples),
        }, REPEATS)
    timings = [Timing(arm, seconds) for arm, (seconds, _) in timed.items()]
    decoded, texts, pages = (timed[arm][1]
                             for arm in ("decode_bytes", "charset-normalizer", "decode_file"))
    print_table(timings, samples)
    print_ratios([(timings[0], timings[2]), (timings[1], timings[2]), (timings[3], timings[4])])
    print_by_encoding(samples)
    bad = check_ours(samples, decoded, pages)
    check_baseline(samples, texts)
    return 1 if bad else 0
