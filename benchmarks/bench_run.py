"""The whole run on a 20 MB corpus: first run, re-run with nothing changed, --jobs 1
against --jobs 2, one file added, and a naive datasketch loop over every line.

Everything goes through the command line as a subprocess, as a user or a
Makefile runs it: ``cleaner run RAW OUT --jobs N --cache DIR`` (or
``--no-cache``).

Ratios, not seconds, are the results (see benchmarks/README.md):

- no-change re-run / first run (target: under 0.10);
- --jobs 1 / --jobs 2, the speed-up of a second process;
- added one file / first run;
- the naive loop / the whole first run: datasketch ``MinHash`` per line of
  every raw file (one ``update`` per 5-character shingle) inserted into
  ``MinHashLSH``, with cleaner's default settings.

The outputs of every run must be byte-identical (first, re-run, --jobs 1,
--jobs 2): a difference is a wrong result and the benchmark fails.

    python -m benchmarks run                               # as part of the suite
    python -m benchmarks.bench_run --megabytes 5 --keep DIR  # smaller, keep the files
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEANER = [sys.executable, "-c", "from cleaner.cli import main; main()"]
SEED = 0
MEGABYTES = 20.0
TARGET_NO_CHANGE = 0.10


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

def command(raw: Path, out: Path, jobs: int | None, cache: Path | None) -> list[str]:
    """``cleaner run RAW OUT --quiet``, with ``--jobs`` and ``--cache DIR`` or ``--no-cache``."""
    args = [str(raw), str(out), "--quiet"]
    if jobs is not None:
        args += ["--jobs", str(jobs)]
    args += ["--cache", str(cache)] if cache is not None else ["--no-cache"]
    return [*CLEANER, "run", *args]


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds of one run, and its processor seconds (the run's and its workers')."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def naive_datasketch(raw: Path, shingle: int, num_perm: int, threshold: float,
                     every: int = 1) -> tuple[float, int, int]:
    """A MinHash per line of every raw file (one update per shingle), each inserted
    into MinHashLSH; with ``every`` > 1 only every n-th line. Returns (seconds, lines, chars)."""
    from datasketch import MinHash, MinHashLSH
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    lines = chars = n = 0
    for path in sorted(raw.iterdir()):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("gb18030", "replace")
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            n += 1
            if n % every:
                continue
            m = MinHash(num_perm=num_perm)
            for i in range(max(1, len(line) - shingle + 1)):
                m.update(line[i:i + shingle].encode("utf-8"))
            lsh.insert(f"{path.name}:{number}", m)
            lines += 1
            chars += len(line)
    return time.perf_counter() - start, lines, chars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_run", description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=MEGABYTES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--every", type=int, default=1,
                        help="time the datasketch loop on every n-th line only, and scale (default: every line)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args([] if argv is None else argv)  # None: the defaults, as `python -m benchmarks` calls it

    from benchmarks import synth
    from cleaner.batch import default_jobs
    from cleaner.dedup import DedupSettings
    from cleaner.store import output_snapshot

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_run-"))
    try:
        pages = synth.build_pages(args.seed, target_bytes=int(args.megabytes * 1_000_000))
        added = synth.build_pages(args.seed + 1, pages=1)[0]
        raw = work / "raw"
        shutil.rmtree(raw, ignore_errors=True)
        raw.mkdir(parents=True)
        for page in pages:
            (raw / page.name).write_bytes(page.data)
        size = sum(len(p.data) for p in pages)
        print(f"{len(pages)} files, {size / 1e6:.1f} MB (synth seed {args.seed}); "
              f"{default_jobs()} usable cores; runs through cleaner run", flush=True)

        cache = work / "cache"
        out = {name: work / name for name in ("out", "out-j1", "out-j2")}
        for folder in (cache, *out.values()):
            shutil.rmtree(folder, ignore_errors=True)

        t: dict[str, tuple[float, float]] = {}
        t["first"] = timed(command(raw, out["out"], None, cache))
        first_tree, first_snapshot = tree(out["out"]), output_snapshot(out["out"])
        t["no-change"] = min(timed(command(raw, out["out"], None, cache)) for _ in range(3))
        untouched = output_snapshot(out["out"]) == first_snapshot
        t["jobs 1"] = timed(command(raw, out["out-j1"], 1, None))
        t["jobs 2"] = timed(command(raw, out["out-j2"], 2, None))
        same = tree(out["out-j1"]) == tree(out["out-j2"]) == first_tree
        (raw / "zz_added.txt").write_bytes(added.data)
        t["one added"] = timed(command(raw, out["out"], None, cache))
        (raw / "zz_added.txt").unlink()

        d = DedupSettings()
        cpu_start = time.process_time()
        seconds, lines, chars = naive_datasketch(raw, d.shingle, d.num_perm, d.threshold, args.every)
        t["datasketch"] = (seconds * args.every, (time.process_time() - cpu_start) * args.every)

        c = {name: cpu for name, (_, cpu) in t.items()}
        t = {name: wall for name, (wall, _) in t.items()}
        print(f"\n{'run':<30}{'wall s':>8}{'cpu s':>8}  ratio (wall; cpu)")
        print(f"{'first run, cold cache':<30}{t['first']:>8.2f}{c['first']:>8.2f}")
        ratio = t["no-change"] / t["first"]
        verdict = "meets" if ratio < TARGET_NO_CHANGE else "MISSES"
        print(f"{'no change (best of 3)':<30}{t['no-change']:>8.2f}{c['no-change']:>8.2f}  "
              f"{ratio:.3f}; {c['no-change'] / c['first']:.3f} of the first run "
              f"({verdict} the < {TARGET_NO_CHANGE} target)")
        print(f"{'one file added':<30}{t['one added']:>8.2f}{c['one added']:>8.2f}  "
              f"{t['one added'] / t['first']:.3f}; {c['one added'] / c['first']:.3f} of the first run")
        print(f"{'--jobs 1, no cache':<30}{t['jobs 1']:>8.2f}{c['jobs 1']:>8.2f}")
        print(f"{'--jobs 2, no cache':<30}{t['jobs 2']:>8.2f}{c['jobs 2']:>8.2f}  "
              f"speed-up {t['jobs 1'] / t['jobs 2']:.2f}x; cpu {c['jobs 2'] / c['jobs 1']:.2f}x of --jobs 1")
        scaled = f", timed on 1/{args.every} of them and scaled" if args.every > 1 else ""
        print(f"{'naive datasketch loop':<30}{t['datasketch']:>8.2f}{c['datasketch']:>8.2f}  "
              f"{t['datasketch'] / t['first']:.1f}x the whole first run "
              f"({lines * args.every:,} lines, {chars * args.every / 1e6:.1f} M characters{scaled})")
        print("(wall times suffer from other load on the machine; cpu seconds, of the run and "
              "its workers, much less)")
        print(f"\noutput byte-identical across first run, re-runs, --jobs 1 and --jobs 2: {same}; "
              f"no-change re-runs left OUT untouched (names, sizes, mtimes): {untouched}")
        return 0 if same and untouched else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
