"""The command line: parse options, call the library, print. Nothing else.

Exit codes: 0 success; 1 the run finished but some inputs failed (each named
on standard error); 2 bad usage, bad rules or bad configuration.
"""
from __future__ import annotations

import json
import sys
from functools import partial
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from tqdm import tqdm

from . import __version__
from .decode import text_codec
from .dedup import DedupSettings
from .errors import CleanerError, RuleError, UsageError
from .model import Page
from .cache import default_cache_dir
from .pipeline import (count_templates, decode_and_strip, decode_input, decode_item, normalize, repair,
                       split, strip_with)
from .reference import ReferenceCorpus, read_reference
from .batch import map_stream
from .runner import RunOptions, dedup_and_write, run_corpus
from .encmap import EncodingMap, load_encoding_map
from .explain import render, trace_page
from .rules import check_rules, default_rules_dir, load_rules
from .store import check_output, display_name, dump_jsonl, list_inputs, write_text_atomic
from .templates import (TemplateError, Templates, TemplateSettings,
                        describe_candidates, learn, render_candidates, render_toml)

app = typer.Typer(
    help="Turn a folder of scraped Chinese text into a clean, deduplicated corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Validate and test boilerplate rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
RulesDir = Annotated[Optional[Path], typer.Option(
    "--rules", help="Folder of rule files (*.toml). Default: the rules shipped with cleaner.")]
Encoding = Annotated[Optional[str], typer.Option(
    "--encoding", help="Decode every file with this codec instead of detecting it "
    "(beats the per-path map, encodings.toml in the rules folder).")]
OutDir = Annotated[Path, typer.Argument(help="Output folder (replaced atomically).")]
StreamIn = Annotated[str, typer.Argument(help="JSON Lines of pages from the previous stage, or - for standard input.")]
StreamOut = Annotated[str, typer.Argument(help="Where to write JSON Lines, or - for standard output.")]
MinChars = Annotated[int, typer.Option(min=1, help="Paragraphs shorter than this (in key characters) are not signed.")]
Shingle = Annotated[int, typer.Option(min=1, help="Character n-gram size for shingles.")]
NumPerm = Annotated[int, typer.Option(min=16, help="MinHash permutations.")]
Threshold = Annotated[float, typer.Option(min=0.0, max=1.0, help="Jaccard similarity that makes a duplicate.")]

Keep = Annotated[str, typer.Option(
    help="Which copy is the original: first (path order), longest, or cleanest "
    "(least boilerplate removed from its page).")]
Drop = Annotated[bool, typer.Option(
    "--drop-duplicates", help="Write the deduplicated corpus: near-duplicate speeches and copied "
    "paragraphs removed (each listed in removed.jsonl under rule dedup).")]
LearnTemplates = Annotated[bool, typer.Option(
    "--templates/--no-templates", help="Learn site templates (lines recurring across files) and "
    "strip them.")]
MinFiles = Annotated[int, typer.Option(
    "--template-min-files", min=2, help="A learned template recurs in at least this many files.")]

Against = Annotated[Optional[Path], typer.Option(
    help="An output folder cleaned earlier: its speeches are the originals of any copy found "
    "now (reported, and dropped with --drop-duplicates); they are not written again.")]
Jobs = Annotated[Optional[int], typer.Option(
    min=1, help="Worker processes. Default: the machine's cores. The output is the same for any N.")]
CacheDir = Annotated[Optional[Path], typer.Option(
    help="Cache folder for per-file results and paragraph signatures. Default: .cleaner-cache "
    "beside OUT.")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")]

_D = DedupSettings()
_T = TemplateSettings()


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"cleaner: {message}", err=True)
    return typer.Exit(code)


def _progress(items: Iterable, quiet: bool, desc: str) -> Iterable:
    return tqdm(items, desc=desc, disable=quiet or not sys.stderr.isatty(), file=sys.stderr,
                leave=False)


def _read_pages(source: str) -> Iterator[Page]:
    stream = sys.stdin if source == "-" else None
    try:
        handle = stream or open(source, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{source}: cannot read: {exc.strerror}")
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("expected a JSON object")
                yield Page.from_dict(record)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise _fail(f"{source} line {number}: not a page record ({exc})")


def _write_pages(pages: Iterable[Page], target: str) -> None:
    if target == "-":
        for page in pages:
            sys.stdout.write(json.dumps(page.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        write_text_atomic(Path(target), dump_jsonl(p.to_dict() for p in pages))


def _report_failures(pages: list[Page]) -> int:
    return _name_failures([(p.source, p.error) for p in pages if p.error is not None], len(pages))


def _name_failures(failed: list[tuple[str, str]], total: int) -> int:
    """One line per failed input on standard error, then the count; the exit code."""
    for source, reason in failed:
        typer.echo(f"cleaner: {display_name(source)}: {reason}", err=True)
    if failed:
        typer.echo(f"cleaner: {len(failed)} of {total} inputs failed", err=True)
    return 1 if failed else 0


def _summary(files: int, speeches: int, clusters: int, speech_duplicates: int, dropped: bool,
             out: Path, unchanged: bool = False) -> None:
    """The one line a run or a dedup prints on standard output."""
    typer.echo(f"{files} files, {speeches} speeches, {clusters} duplicate clusters, "
               f"{speech_duplicates} near-duplicate speeches{' (dropped)' if dropped else ''} → {out}"
               f"{' (unchanged)' if unchanged else ''}")


def _load(rules: Path | None):
    try:
        return load_rules(rules)
    except RuleError as exc:
        raise _fail(str(exc))


def _load_map(rules: Path | None) -> EncodingMap:
    try:
        return load_encoding_map(rules or default_rules_dir())
    except RuleError as exc:
        raise _fail(str(exc))


def _check_encoding(encoding: str | None) -> None:
    if encoding is not None:
        try:
            text_codec(encoding)
        except LookupError:
            raise _fail(f"--encoding {encoding}: unknown codec (try utf-8, gb18030, big5hkscs, utf-16)")


def _cache_dir(out: Path, cache: Path | None, no_cache: bool, raw: Path | None = None) -> Path | None:
    """The cache folder of a run writing OUT (from RAW).

    Refused: a path that exists and is not a folder, and a folder inside OUT
    (replaced by every run) or inside RAW (its files would be read as input).
    """
    if no_cache:
        return None
    folder = cache or default_cache_dir(out)
    if folder.exists() and not folder.is_dir():
        raise _fail(f"cache {folder} exists and is not a folder (use --cache DIR or --no-cache)")
    where = folder.resolve()
    for name, other in (("output", out), ("input", raw)):
        if other is not None and (where == other.resolve() or other.resolve() in where.parents):
            raise _fail(f"cache {folder} is inside {name} {other}: put it elsewhere with --cache DIR")
    return folder


def _reference(folder: Path | None) -> ReferenceCorpus | None:
    try:
        return None if folder is None else read_reference(folder)
    except UsageError as exc:
        raise _fail(str(exc))


def _finish(pages: list[Page], out: Path, settings: DedupSettings, quiet: bool,
            drop: bool = False, against: ReferenceCorpus | None = None,
            cache_dir: Path | None = None) -> None:
    """Write the output folder, name failed inputs, print the summary, exit."""
    try:
        result = dedup_and_write(pages, out, settings, lambda it: _progress(it, quiet, "writing"),
                                 drop, against, cache_dir)
    except UsageError as exc:
        raise _fail(str(exc))
    code = _report_failures(pages)
    if not quiet:
        _summary(len(pages), sum(len(p.speeches or []) for p in pages), len(result.clusters),
                 len(result.speech_duplicates), drop, out)
    raise typer.Exit(code)


def _settings(min_chars: int, shingle: int, num_perm: int, threshold: float,
              keep: str = _D.keep) -> DedupSettings:
    try:
        return DedupSettings(min_chars=min_chars, shingle=shingle, num_perm=num_perm,
                             threshold=threshold, keep=keep)
    except ValueError as exc:
        raise _fail(str(exc))


def _template_settings(min_files: int) -> TemplateSettings:
    try:
        return TemplateSettings(min_files=min_files)
    except UsageError as exc:
        raise _fail(str(exc))


def _stripped_pages(raw: Path, rules: Path | None, encoding: str | None, quiet: bool,
                    jobs: int | None = None) -> list[Page]:
    """Decode every input under RAW and strip its boilerplate by the rules."""
    _check_encoding(encoding)
    ruleset, emap = _load(rules), _load_map(rules)
    try:
        inputs = list_inputs(raw)
    except UsageError as exc:
        raise _fail(str(exc))
    stage = partial(decode_and_strip, ruleset=ruleset, emap=emap, encoding=encoding)
    return list(_progress(map_stream(stage, inputs, jobs), quiet, "decoding"))


@app.command()
def run(
    raw: Annotated[Path, typer.Argument(help="Folder of raw scraped files.")] = Path("raw"),
    out: OutDir = Path("clean"),
    rules: RulesDir = None,
    encoding: Encoding = None,
    templates: LearnTemplates = True,
    template_min_files: MinFiles = _T.min_files,
    min_chars: MinChars = _D.min_chars,
    shingle: Shingle = _D.shingle,
    num_perm: NumPerm = _D.num_perm,
    threshold: Threshold = _D.threshold,
    keep: Keep = _D.keep,
    drop_duplicates: Drop = False,
    against: Against = None,
    jobs: Jobs = None,
    cache: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
) -> None:
    """Run every stage on RAW and write the corpus and reports to OUT."""
    _check_encoding(encoding)
    options = RunOptions(
        ruleset=_load(rules), emap=_load_map(rules), encoding=encoding, templates=templates,
        template_settings=_template_settings(template_min_files),
        dedup=_settings(min_chars, shingle, num_perm, threshold, keep),
        drop_duplicates=drop_duplicates, against=_reference(against))
    cache_dir = _cache_dir(out, cache, no_cache, raw)
    try:
        outcome = run_corpus(raw, out, options, jobs, cache_dir,
                             lambda items, desc: _progress(items, quiet, desc))
    except UsageError as exc:
        raise _fail(str(exc))
    code = _name_failures(outcome.failures, outcome.files)
    if not quiet:
        _summary(outcome.files, outcome.speeches, outcome.clusters, outcome.speech_duplicates,
                 drop_duplicates, out, outcome.unchanged)
    raise typer.Exit(code)


@app.command()
def decode(
    raw: Annotated[Path, typer.Argument(help="Folder (or single file) of raw scraped files.")],
    out: StreamOut = "-",
    encoding: Encoding = None,
    rules: RulesDir = None,
    jobs: Jobs = None,
    quiet: Quiet = False,
) -> None:
    """Decode raw files into JSON Lines pages (one object per file)."""
    _check_encoding(encoding)
    emap = _load_map(rules)
    try:
        inputs = list_inputs(raw)
    except UsageError as exc:
        raise _fail(str(exc))
    pages = list(_progress(map_stream(partial(decode_item, emap=emap, encoding=encoding), inputs, jobs),
                           quiet, "decoding"))
    _write_pages(pages, out)
    raise typer.Exit(_report_failures(pages))


TemplatesFile = Annotated[Optional[Path], typer.Option(
    "--templates", help="Also strip the site templates saved by 'cleaner templates RAW --save FILE'.")]


def _load_templates(path: Path | None) -> Templates | None:
    if path is None:
        return None
    try:
        return Templates.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise _fail(f"{path}: cannot read: {exc.strerror or exc}")
    except (ValueError, TemplateError) as exc:
        raise _fail(f"{path}: {exc}")


@app.command()
def strip(source: StreamIn, out: StreamOut = "-", rules: RulesDir = None,
          templates: TemplatesFile = None, jobs: Jobs = None, quiet: Quiet = False) -> None:
    """Remove boilerplate lines and spans, recording each removal with its rule id."""
    ruleset, learned = _load(rules), _load_templates(templates)
    _stage(partial(strip_with, ruleset=ruleset, templates=learned), source, out, jobs, quiet, "strip")


def _stage(func, source: str, out: str, jobs: int | None, quiet: bool, desc: str) -> None:
    """A stage command: ``func`` on every page of the stream, in order, ``jobs`` at a time."""
    _write_pages(_progress(map_stream(func, _read_pages(source), jobs), quiet, desc), out)


@app.command("templates")
def templates_cmd(
    raw: Annotated[Path, typer.Argument(help="Folder of raw scraped files.")] = Path("raw"),
    rules: RulesDir = None,
    encoding: Encoding = None,
    min_files: Annotated[int, typer.Option(min=2, help="Recurring in at least this many files.")] = _T.min_files,
    show_all: Annotated[bool, typer.Option(
        "--all", help="List every candidate with its decision (learned, formula, content, "
        "no-evidence), not only the learned templates.")] = False,
    toml: Annotated[bool, typer.Option("--toml", help="Print the candidates as a rule file to edit.")] = False,
    save: Annotated[Optional[Path], typer.Option(
        help="Save the learned templates (JSON) for 'cleaner strip --templates FILE'.")] = None,
    jobs: Jobs = None,
    quiet: Quiet = False,
) -> None:
    """List lines that recur across RAW's files after the rules: site template candidates."""
    settings = _template_settings(min_files)
    pages = _stripped_pages(raw, rules, encoding, quiet, jobs)
    counter, _ = count_templates(pages)
    learned = learn(counter, settings)
    rows = describe_candidates(counter if show_all else learned, settings)
    if save is not None:
        write_text_atomic(save, json.dumps(learned.to_dict(), ensure_ascii=False, indent=1) + "\n")
    if toml:
        typer.echo(render_toml(rows))
    elif rows:
        typer.echo(render_candidates(rows))
        if not quiet:
            for row in rows:
                typer.echo(f"\n{row['id']}  {row['key']}")
                for example in row["examples"]:
                    typer.echo(f"    {example}")
                typer.echo(f"    files: {', '.join(display_name(f) for f in row['example_files'])}")
    if not quiet:
        typer.echo(f"{len(learned)} templates learned from {counter.files} files "
                   f"({len(rows)} listed)")
    raise typer.Exit(_report_failures(pages))


@app.command("repair")
def repair_cmd(source: StreamIn, out: StreamOut = "-", jobs: Jobs = None, quiet: Quiet = False) -> None:
    """Repair the layout: rejoin preview chunks and broken lines, re-split flattened paragraphs."""
    _stage(repair, source, out, jobs, quiet, "repair")


@app.command("normalize")
def normalize_cmd(source: StreamIn, out: StreamOut = "-", jobs: Jobs = None, quiet: Quiet = False) -> None:
    """Fix punctuation width, spacing, indentation, markers and escaped quotes.

    Repairs the layout first when the pages have not been through 'cleaner repair'.
    """
    _stage(normalize, source, out, jobs, quiet, "normalize")


@app.command("split")
def split_cmd(source: StreamIn, out: StreamOut = "-", jobs: Jobs = None, quiet: Quiet = False) -> None:
    """Cut each page into speeches with titles and paragraphs."""
    _stage(split, source, out, jobs, quiet, "split")


@app.command()
def dedup(
    source: StreamIn,
    out: OutDir = Path("clean"),
    min_chars: MinChars = _D.min_chars,
    shingle: Shingle = _D.shingle,
    num_perm: NumPerm = _D.num_perm,
    threshold: Threshold = _D.threshold,
    keep: Keep = _D.keep,
    drop_duplicates: Drop = False,
    against: Against = None,
    cache: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
) -> None:
    """Find near-duplicate paragraphs and speeches and write the output folder."""
    settings = _settings(min_chars, shingle, num_perm, threshold, keep)
    reference = _reference(against)
    try:
        check_output(out)
    except UsageError as exc:
        raise _fail(str(exc))
    pages = list(_read_pages(source))
    missing = [p.source for p in pages if p.error is None and p.speeches is None]
    if missing:
        raise _fail(f"{display_name(missing[0])}: page has not been split; run 'cleaner split' first")
    _finish(pages, out, settings, quiet, drop_duplicates, reference,
            _cache_dir(out, cache, no_cache))


@app.command()
def explain(
    file: Annotated[Path, typer.Argument(help="The raw file to explain.")],
    rules: RulesDir = None,
    encoding: Encoding = None,
    color: Annotated[Optional[bool], typer.Option(
        "--color/--no-color", help="Colour the changes. Default: when standard output is a terminal.")] = None,
    only_changed: Annotated[bool, typer.Option(
        "--only-changed", help="Print only the lines that changed.")] = False,
    context: Annotated[int, typer.Option(
        min=0, help="Print only changed lines and N lines around each (implies --only-changed).")] = 0,
    templates: TemplatesFile = None,
) -> None:
    """Show a raw file with every removed or changed span and the rule id that did it."""
    _check_encoding(encoding)
    ruleset, emap, learned = _load(rules), _load_map(rules), _load_templates(templates)
    page = decode_input(file, file.name, encoding, emap)
    if page.error is not None:
        raise _fail(f"{file}: {page.error}", 1)
    use_color = sys.stdout.isatty() if color is None else color
    trace = trace_page(page, ruleset, templates=learned)
    typer.echo("\n".join(render(trace, use_color, only_changed or context > 0, context)),
               color=use_color)


@rules_app.command("check")
def rules_check(rules: RulesDir = None, quiet: Quiet = False) -> None:
    """Validate every rule file and run the examples each rule carries."""
    ruleset, problems = check_rules(rules)
    try:
        emap = load_encoding_map(rules or default_rules_dir())
    except RuleError as exc:
        problems.append(str(exc))
        emap = EncodingMap()
    for problem in problems:
        typer.echo(f"cleaner: {problem}", err=True)
    if problems:
        raise typer.Exit(2)
    if not quiet:
        examples = sum(len(r.match) + len(r.no_match) + len(r.fixes) for r in ruleset.rules)
        typer.echo(f"{len(ruleset)} rules in {len(ruleset.files)} files, {examples} examples: all pass"
                   f"; {len(emap.entries)} per-path encodings")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cleaner {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Turn a folder of scraped Chinese text into a clean, deduplicated corpus."""


def main() -> None:
    try:
        app()
    except CleanerError as exc:  # a library error that escaped a command
        typer.echo(f"cleaner: {exc}", err=True)
        sys.exit(2)
