"""Run the benchmarks: ``python -m benchmarks [WORD ...]`` from the project root.

Every module ``benchmarks/bench_*.py`` is imported in alphabetical order and
its ``main()`` is called. With words, only the modules whose name contains one
of them run. A benchmark fails when its ``main()`` raises or returns a non-zero
integer; the others still run.

Exit status: 0 all ran, 1 some benchmark failed, 2 no benchmark matched.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

PACKAGE = __package__ or "benchmarks"
HERE = Path(__file__).resolve().parent
PREFIX = "bench_"


def discover(words: list[str]) -> list[str]:
    """Names of the benchmark modules, sorted, kept if they contain any of ``words``."""
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(HERE)]) if info.name.startswith(PREFIX)
    )
    words = [word.lower() for word in words]
    return [name for name in names if not words or any(word in name for word in words)]


def run_one(name: str) -> bool:
    """Import one benchmark module and call its ``main()``; True when it succeeded."""
    print(f"\n=== {name} ===", flush=True)
    start = time.perf_counter()
    try:
        status = importlib.import_module(f"{PACKAGE}.{name}").main()
    except Exception:  # one broken benchmark must not hide the others
        traceback.print_exc()
        status = 1
    elapsed = time.perf_counter() - start
    ok = not status
    print(f"--- {name}: {'ok' if ok else 'FAILED'} in {elapsed:.1f} s", flush=True)
    return ok


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run benchmarks/bench_*.py in alphabetical order.",
    )
    parser.add_argument("words", nargs="*", help="run only modules whose name contains a word")
    parser.add_argument("--list", action="store_true", help="list the matching modules and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = discover(args.words)
    if not names:
        print(f"no benchmark matches {' '.join(args.words)!r}; available: "
              f"{', '.join(discover([])) or 'none'}", file=sys.stderr)
        return 2
    if args.list:
        print("\n".join(names))
        return 0
    failed = [name for name in names if not run_one(name)]
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
