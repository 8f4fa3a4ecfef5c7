"""``cleaner run`` as a library call: the stages over a folder, parallel and cached.

The run has two per-file phases around one corpus-level step:

1. per file, in parallel: decode, then strip by the rules;
2. for the corpus: learn the site templates from every stripped page;
3. per file, in parallel: strip the learned templates, repair, normalize, split;
4. for the corpus: dedup, then write the output folder atomically.

Each per-file result is cached under a key made of everything it depends on
(see :func:`file_key` and :func:`finish_key`): a second run reprocesses only
the files whose bytes changed, and the corpus-level steps; an edited rule set
reprocesses every file. Paragraph signatures are cached too
(:class:`~cleaner.sigcache.SignatureStore`), so dedup signs only new
paragraphs. A run whose inputs, rules and settings are unchanged, and whose
output folder is still what the previous run wrote, does nothing at all and
leaves the folder untouched (modification times included).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import charset_normalizer

from . import __version__
from .batch import map_pages
from .cache import PageCache, digest, file_digest
from .dedup import DedupResult, DedupSettings
from .encmap import EncodingMap
from .model import Page
from .pipeline import decode_and_strip, finish_for_output, learn_templates, write_output
from .reference import ReferenceCorpus
from .rules import RuleSet
from .sigcache import SignatureStore
from .store import check_layout, list_inputs, output_snapshot
from .templates import Templates, TemplateSettings

Progress = Callable[[Iterable, str], Iterable]


@dataclass(frozen=True)
class RunOptions:
    """Everything a run's output depends on besides its input files."""

    ruleset: RuleSet
    emap: EncodingMap = field(default_factory=EncodingMap)
    encoding: str | None = None
    templates: bool = True
    template_settings: TemplateSettings = field(default_factory=TemplateSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    drop_duplicates: bool = False
    against: ReferenceCorpus | None = None

    def base_key(self) -> str:
        """What every per-file result of phase 1 depends on besides the file."""
        return digest(__version__, self.ruleset.digest, repr(self.emap), self.encoding,
                      charset_normalizer.__version__)

    def run_key(self, inputs: list[tuple[str, str | None]]) -> str:
        """What the whole output depends on: the options and every input's name and bytes."""
        against = None
        if self.against is not None:
            against = digest(*(f"{sid}\0{chr(10).join(ps)}" for sid, ps in self.against.speeches),
                             *self.against.sources)
        return digest("run", self.base_key(), self.templates, repr(asdict(self.template_settings)),
                      repr(asdict(self.dedup)), self.drop_duplicates, against,
                      *(f"{source}\0{sha}" for source, sha in inputs))


@dataclass
class RunOutcome:
    files: int
    speeches: int
    clusters: int
    speech_duplicates: int
    failures: list[tuple[str, str]]  # (source, reason) of the inputs that failed
    unchanged: bool = False  # nothing to do: the output folder was left as it was
    cache: dict = field(default_factory=dict)

    @property
    def code(self) -> int:
        return 1 if self.failures else 0


def file_key(base: str, source: str, sha: str | None) -> str | None:
    """The cache key of phase 1 (decode and strip) for one file; None: do not cache."""
    return None if sha is None else digest("strip", base, source, sha)


def finish_key(first: str | None, templates: Iterable[str]) -> str | None:
    """The cache key of phase 3 (templates, repair, normalize, split) for a page
    whose phase-1 key is ``first`` and that holds lines of ``templates`` (ids).

    The page's own lines are fixed by ``first``; the learned templates drop
    the lines of theirs it holds, so their ids say the rest. Adding a file
    changes the learned templates, rarely what each other page holds.
    """
    if first is None:
        return None
    return digest("finish", first, *templates)


def _no_progress(items: Iterable, desc: str) -> Iterable:
    return items


def run_corpus(raw: Path, out: Path, options: RunOptions, jobs: int | None = None,
               cache_dir: Path | None = None, progress: Progress = _no_progress) -> RunOutcome:
    """Clean every file under ``raw`` and write the output folder ``out``.

    ``cache_dir`` None runs without a cache. Raises :class:`UsageError` for a
    bad layout of RAW and OUT (before any work).
    """
    check_layout(raw, out)
    inputs = list_inputs(raw)
    cache = PageCache(cache_dir) if cache_dir is not None else None
    sha = {source: file_digest(path) for path, source in inputs}
    run_key = options.run_key([(source, sha[source]) for _, source in inputs])
    if cache is not None:
        record = cache.get_record(run_key)
        if record is not None and record.get("snapshot") == output_snapshot(out):
            cache.mark(record["keys"])
            cache.prune()
            return RunOutcome(**record["outcome"], unchanged=True)

    base = options.base_key()
    first = {source: file_key(base, source, sha[source]) for _, source in inputs}
    stage1 = partial(decode_and_strip, ruleset=options.ruleset, emap=options.emap,
                     encoding=options.encoding)
    pages = map_pages(stage1, inputs, key=lambda item: first[item[1]], jobs=jobs, cache=cache,
                      progress=lambda it: progress(it, "decoding"))
    learned: Templates | None = None
    matched: dict[str, list[str]] = {}
    if options.templates:
        learned, hashes = learn_templates(pages, options.template_settings)
        matched = {source: learned.matching(h) for source, h in hashes.items()}
    second = {p.source: finish_key(first[p.source], matched.get(p.source, ())) for p in pages}
    pages = map_pages(partial(finish_for_output, templates=learned), pages, key=lambda p: second[p.source],
                      jobs=jobs, cache=cache, progress=lambda it: progress(it, "cleaning"))
    # A page from the cache names the templates of the run that cached it
    # (or none): name this run's.
    for page in pages:
        if page.error is None:
            page.templates_digest = learned.digest if learned is not None else ""
    result = dedup_and_write(pages, out, options.dedup, partial(progress, desc="writing"),
                             options.drop_duplicates, options.against, cache_dir)
    outcome = RunOutcome(
        files=len(pages),
        speeches=sum(len(p.speeches or []) for p in pages),
        clusters=len(result.clusters),
        speech_duplicates=len(result.speech_duplicates),
        failures=[(p.source, p.error) for p in pages if p.error is not None],
    )
    if cache is not None:
        keys = [k for k in (*first.values(), *second.values()) if k is not None]
        outcome.cache = cache.stats()
        cache.put_record(run_key, {"snapshot": output_snapshot(out), "keys": keys,
                                   "outcome": {k: v for k, v in asdict(outcome).items()
                                               if k not in ("unchanged", "cache")}})
        cache.prune()
    return outcome


def dedup_and_write(pages: list[Page], out: Path, settings: DedupSettings,
                    progress: Callable[[Iterable], Iterable] = lambda it: it,
                    drop_duplicates: bool = False, against: ReferenceCorpus | None = None,
                    cache_dir: Path | None = None) -> DedupResult:
    """:func:`~cleaner.pipeline.write_output`, with signatures kept in ``cache_dir``'s
    signature store when there is one."""
    if cache_dir is None:
        return write_output(pages, out, settings, progress, drop_duplicates, against=against)
    with SignatureStore(cache_dir, settings) as sign:
        return write_output(pages, out, settings, progress, drop_duplicates, sign=sign,
                            against=against)
