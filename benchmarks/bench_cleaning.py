"""Cleaning quality on generated dirty pages, against the issue's bars.

Generates the default corpus of ``benchmarks/synth.py`` (seed 0, 160 pages,
eight site templates, four layouts) in a temporary folder, runs
``cleaner run RAW OUT --quiet`` on it as a user would, and scores the output
against the recorded truth (``benchmarks/eval_cleaning.py``). It prints the
score table (template groups with their bars, then each layout and each
template), then what fails: surviving boilerplate, files that lose content,
paragraphs not whole, wrong speech counts, and strip rules that removed speech
text.

This is a report: ``main()`` returns 0 even when a bar is not reached.

    python -m benchmarks cleaning                        # from the project root
    python -m benchmarks.bench_cleaning --out DIR        # keep the pages, truth and output in DIR
    python -m benchmarks.bench_cleaning --pages 400 --seed 3
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

try:
    from benchmarks import eval_cleaning as ev
    from benchmarks import synth
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import eval_cleaning as ev
    import synth

MAX_LISTED = 8


def cleaner_command() -> list[str] | None:
    """How to start the installed cleaner: ``python -m cleaner`` when the
    package has a ``__main__``, else the console script next to this Python or
    on PATH; None when there is none (then it runs in this process)."""
    if importlib.util.find_spec("cleaner.__main__") is not None:
        return [sys.executable, "-m", "cleaner"]
    for candidate in (Path(sys.executable).with_name("cleaner"), shutil.which("cleaner")):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    return None


def run_cleaner(raw_dir: Path, out_dir: Path) -> None:
    """``cleaner run RAW OUT --quiet``; raises when it exits with 2 or more.

    Exit status 1 (some inputs failed) is accepted: the scores show the loss.
    """
    args = ["run", str(raw_dir), str(out_dir), "--quiet"]
    command = cleaner_command()
    if command is None:
        from typer.testing import CliRunner

        from cleaner.cli import app
        result = CliRunner().invoke(app, args)
        code, errors = result.exit_code, result.output
    else:
        done = subprocess.run(command + args, capture_output=True, text=True)
        code, errors = done.returncode, done.stderr
    if code not in (0, 1):
        raise RuntimeError(f"cleaner run exited with {code}: {errors.strip()}")
    if code == 1:
        print(f"cleaner run: some inputs failed:\n{errors.strip()}")


def evaluate(work: Path, seed: int, pages: int, target_bytes: int | None) -> list[ev.FileScore]:
    """Generate, clean and score in ``work``; print the report; return the scores."""
    start = time.perf_counter()
    generated = synth.build_pages(seed, pages, target_bytes)
    raw_dir, truth_path = synth.write_corpus(generated, work / "gen")
    truths = [p.truth for p in generated]
    size = sum(len(p.data) for p in generated)
    made = time.perf_counter()
    out_dir = work / "out"
    run_cleaner(raw_dir, out_dir)
    cleaned = time.perf_counter()
    scores = ev.score_output(truths, out_dir)
    removals = ev.content_removals(truths, ev.read_jsonl(out_dir / "removed.jsonl"))
    scored = time.perf_counter()
    known = sum(1 for t in truths if t["known"])
    print(f"{len(generated)} pages ({known} known templates, {len(generated) - known} unseen), "
          f"{size / 1e6:.2f} MB, seed {seed}; generated in {made - start:.1f} s, "
          f"cleaned in {cleaned - made:.1f} s, scored in {scored - cleaned:.1f} s\n")
    print(ev.render_table(scores))
    print()
    results = ev.bar_results(scores)
    missed = [f"{group} {name}" for group, bars in results.items()
              for name, (_, _, ok) in bars.items() if not ok]
    print("bars: all reached" if not missed else f"bars not reached: {', '.join(missed)}")
    worst = ev.render_worst(scores, MAX_LISTED)
    if worst:
        print("\n" + worst)
    if removals:
        print("Strip rules that removed speech text (lines or spans):")
        for rule, n in removals.most_common(MAX_LISTED):
            print(f"  {n:4d}  {rule}")
    return scores


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cleaning",
                                     description="Score cleaning quality on generated pages.")
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    parser.add_argument("--pages", type=int, default=synth.DEFAULT_PAGES)
    parser.add_argument("--megabytes", type=float, help="generate until this size instead of --pages")
    parser.add_argument("--out", type=Path, help="keep pages (gen/raw), truth (gen/truth.jsonl) "
                        "and the cleaner's output (out/) in this folder")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation; ``argv`` None means the defaults (as ``python -m benchmarks`` calls it)."""
    args = parse_args(argv or [])
    target = None if args.megabytes is None else int(args.megabytes * 1_000_000)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        evaluate(args.out, args.seed, args.pages, target)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-cleaning-") as tmp:
        evaluate(Path(tmp), args.seed, args.pages, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
