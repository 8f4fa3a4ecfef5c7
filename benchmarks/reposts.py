"""Speeches reposted across sites with realistic edits, and the truth of which
paragraphs are copies of which: the corpus the near-duplicate quality is
measured on (``benchmarks/bench_dedup.py``, ``tests/test_dedup.py``).

Content. :func:`seed_pool` takes the paragraphs of the seed files in raw/
with a few rules of its own (Han text, no site boilerplate, no preview
chunks) and keeps only paragraphs that share little with one kept before
(3-character shingles: Jaccard under 0.2, containment under 0.5), so two
different pool paragraphs are never copies of each other. Consecutive pool
paragraphs make a base speech; the pool is cut into disjoint windows, so base
speeches share no paragraph. Some windows are kept apart as paragraphs a site
adds (each used once).

Copies. A base speech is posted 2 to 6 times (a fifth of the bases once: the
unrelated speeches). Every posting is edited independently, as a site
template and its scraper would leave it:

- 1-3% of the Han characters changed: substitutions, deletions and
  insertions of characters drawn from the pool's text;
- half-width punctuation (``,:;()!?``) on some sites;
- years replaced by ``20xx`` (or ``20XX``) on some sites;
- paragraphs flattened by a document-share preview and repaired: some
  consecutive paragraphs merged, some cut at a sentence end;
- some paragraphs dropped, the speech sometimes truncated, one or two
  paragraphs added;
- formulaic lines that unrelated speeches share: a salutation (同志们：),
  section headings, a closing (谢谢大家！) and now and then a long standard
  paragraph.

Hard negatives: a third of the base paragraphs under 150 characters open
with one of a few long standard sentences (``OPENERS``: 以习近平新时代…为指导,
在市委、市政府的坚强领导下…), so different paragraphs share a third to a half
of their text.

Truth. Every paragraph keeps the spans of pool text it was made from
(``(source, start, end)``, before character edits). Two paragraphs are
*copies* when the spans they come from overlap by at least ``COPY_OVERLAP``
(Jaccard of source characters): an edited repost of a paragraph, or a
paragraph merged with a short heading. A paragraph cut in two and its whole
copy share half their source: such *partial* pairs count neither way in the
scores; pairs with no common source are *distinct*. Speech truth: two
postings of the same base are copies.

Everything is a function of the seed. ``python -m benchmarks.reposts OUT``
writes ``OUT/corpus.jsonl`` (one speech per line, with its truth).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

RAW = Path(__file__).resolve().parent.parent / "raw"
COPY_OVERLAP = 0.8
DEFAULT_SEED = 0
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"(?<=[。；！？])(?=.)")
_YEAR = re.compile(r"(?:19|20)\d\d(?=年)")
_WATERMARK = re.compile(r"本资料权属\S{1,12}?放上鼠标按照提示查看\S{1,12}?网")
_CHUNK = re.compile(r"^\d+、")
_BOILERPLATE = ("小编", "整理", "供大家参考", "范文", "点击", "资源描述", "会员分享", "下载",
                "相关推荐", "来源", "版权", "首页", "阅读全文", "|", ">", "_第")
_HEADING = re.compile(r"^(（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+、|\d{1,2}[、.．])")
_ENDS = tuple("。！？；：”）)!?;:")
_HALF = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"})
_FULL = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"})

SALUTATIONS = ("同志们：", "各位领导、同志们：", "老师们、同学们：", "各位代表、同志们：")
CLOSINGS = ("谢谢大家！", "谢谢！", "最后，祝大家工作顺利、身体健康！")
HEADINGS = ("一、提高政治站位", "二、突出工作重点", "三、强化工作保障", "下面，我讲几点意见。")
# Standard sentences that open many different paragraphs: sharing one does
# not make two paragraphs copies (the hard negatives of the corpus).
OPENERS = (
    "以习近平新时代中国特色社会主义思想为指导，全面贯彻落实党的二十大精神和全国教育大会精神，",
    "坚持以人民为中心的发展思想，坚持教育优先发展战略，坚持立德树人根本任务，",
    "在市委、市政府的坚强领导下，在上级教育行政部门的精心指导下，全系统上下团结一心、攻坚克难，",
    "我们要进一步统一思想、提高认识，切实增强责任感和使命感，以更加务实的作风抓好各项工作落实，",
    "按照“稳中求进、提质增效”的总体要求，紧紧围绕办好人民满意教育这一目标，",
    "各地各校要高度重视，加强组织领导，明确责任分工，细化工作措施，",
)
OPENER_SHARE = 0.3
LONG_FORMULA = ("以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，"
                "坚持稳中求进工作总基调，完整、准确、全面贯彻新发展理念，"
                "加快构建新发展格局，着力推动高质量发展。")


# ---------------------------------------------------------------------------
# Seed pool
# ---------------------------------------------------------------------------

def seed_line(line: str) -> str:
    """A seed line without indentation, quoting marker and watermark.

    >>> seed_line("　　>一、回顾工作 ")
    '一、回顾工作'
    """
    return _WATERMARK.sub("", line.strip().lstrip(">").strip())


def is_speech_text(line: str) -> bool:
    """A seed line that is speech text: mostly Han characters, ending a sentence
    (or a short numbered heading), no site boilerplate.

    >>> is_speech_text("今天，我们召开全市教育工作会议。"), is_speech_text("二、抢抓机遇提质量")
    (True, True)
    >>> is_speech_text("下面是小编为大家整理的讲话。"), is_speech_text("教育局教育工作会议讲话稿_第2页")
    (False, False)
    >>> is_speech_text("2、" + "切实增强教育事业跨越赶超的责任感和紧迫感。" * 12)  # a preview chunk
    False
    """
    if len(line) < 6 or "\ufffd" in line or (_CHUNK.match(line) and len(line) > 200):
        return False
    if any(marker in line for marker in _BOILERPLATE) or "篇" in line[-3:]:
        return False
    if len(HAN.findall(line)) < 0.6 * len(line):
        return False
    return line.endswith(_ENDS) or (len(line) <= 40 and _HEADING.match(line) is not None)


def _shingle_set(text: str, k: int = 3) -> frozenset[str]:
    han = "".join(HAN.findall(text))
    return frozenset(han[i:i + k] for i in range(max(len(han) - k + 1, 1)))


@lru_cache(maxsize=4)
def seed_pool(raw: Path = RAW) -> tuple[str, ...]:
    """Distinct speech paragraphs of the seed files, in file order."""
    kept: list[str] = []
    sets: list[frozenset[str]] = []
    owners: dict[str, list[int]] = {}  # shingle -> kept paragraphs holding it
    for path in sorted(Path(raw).glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = seed_line(line)
            if not is_speech_text(line):
                continue
            items = _shingle_set(line)
            shared: dict[int, int] = {}
            for s in items:
                for k in owners.get(s, ()):
                    shared[k] = shared.get(k, 0) + 1
            if any(n / len(items | sets[k]) >= 0.2 or n / min(len(items), len(sets[k])) >= 0.5
                   for k, n in shared.items()):
                continue
            for s in items:
                owners.setdefault(s, []).append(len(kept))
            kept.append(line)
            sets.append(items)
    return tuple(kept)


# ---------------------------------------------------------------------------
# Paragraphs with their sources
# ---------------------------------------------------------------------------

Span = tuple[str, int, int]


@dataclass
class Para:
    text: str
    spans: tuple[Span, ...]
    lead: int = 0  # characters at the start that come from no source (an opener)


def source_jaccard(a: Sequence[Span], b: Sequence[Span]) -> float:
    """Jaccard similarity of the source characters of two paragraphs.

    >>> source_jaccard([("p1", 0, 100)], [("p1", 0, 100)])
    1.0
    >>> source_jaccard([("p1", 0, 50)], [("p1", 0, 100)]), source_jaccard([("p1", 0, 9)], [("p2", 0, 9)])
    (0.5, 0.0)
    """
    inter = 0
    for src, lo, hi in a:
        for src2, lo2, hi2 in b:
            if src == src2:
                inter += max(0, min(hi, hi2) - max(lo, lo2))
    size = sum(hi - lo for _, lo, hi in a) + sum(hi - lo for _, lo, hi in b)
    return inter / (size - inter) if size - inter else 0.0


def merge(a: Para, b: Para) -> Para:
    return Para(a.text + b.text, a.spans + b.spans, a.lead)


def cut(p: Para, rng: random.Random) -> list[Para]:
    """A paragraph cut at one of its inner sentence ends, as a repaired preview
    may leave it; unchanged when it has none (or several sources).

    >>> [q.text for q in cut(Para("甲乙。丙丁。", (("p", 0, 6),)), random.Random(0))]
    ['甲乙。', '丙丁。']
    """
    ends = [m.start() for m in _SENTENCE_END.finditer(p.text) if m.start() > p.lead]
    if not ends or len(p.spans) != 1:
        return [p]
    at = rng.choice(ends)
    src, lo, hi = p.spans[0]
    mid = lo + at - p.lead
    return [Para(p.text[:at], ((src, lo, mid),), p.lead), Para(p.text[at:], ((src, mid, hi),))]


def edit_chars(text: str, rate: float, alphabet: str, rng: random.Random) -> str:
    """Each Han character changed with probability ``rate``: substituted,
    deleted or followed by an inserted character (1/2, 1/4, 1/4).

    >>> edit_chars("教育工作会议", 0.0, "甲", random.Random(0))
    '教育工作会议'
    >>> edit_chars("教育工作会议", 1.0, "甲", random.Random(0)) != "教育工作会议"
    True
    """
    out = []
    for ch in text:
        if not HAN.match(ch) or rng.random() >= rate:
            out.append(ch)
            continue
        roll = rng.random()
        if roll < 0.5:
            out.append(rng.choice(alphabet))
        elif roll < 0.75:
            continue
        else:
            out.append(ch + rng.choice(alphabet))
    return "".join(out)


def mask_years(text: str, mask: str) -> str:
    """
    >>> mask_years("2023年工作和2024年计划", "20xx")
    '20xx年工作和20xx年计划'
    """
    return _YEAR.sub(mask, text)


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------

@dataclass
class Posting:
    """One speech of the corpus with its truth."""

    id: str
    base: int  # the base speech it posts
    paragraphs: list[Para] = field(default_factory=list)
    boilerplate_chars: int = 0
    page_chars: int = 0

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.paragraphs]


@dataclass
class Corpus:
    postings: list[Posting]  # in corpus order (by id)

    @property
    def speeches(self) -> list[tuple[str, list[str]]]:
        return [(p.id, p.texts) for p in self.postings]


def _post(base: int, body: list[Para], extras: list[Para], alphabet: str,
          rng: random.Random) -> Posting:
    """One edited posting of a base speech (``extras`` are consumed)."""
    paras = [Para(p.text, p.spans, p.lead) for p in body]
    if rng.random() < 0.15:  # truncated
        paras = paras[:max(2, round(len(paras) * rng.uniform(0.5, 0.9)))]
    paras = [p for p in paras if rng.random() >= 0.05] or paras[:1]
    for _ in range(rng.choice((0, 0, 0, 1, 2))):
        if extras:
            paras.insert(rng.randint(0, len(paras)), extras.pop())
    if rng.random() < 0.2:
        paras.insert(rng.randint(0, len(paras)), Para(rng.choice(HEADINGS), (("heading", 0, 0),)))
    if rng.random() < 0.1:
        paras.insert(rng.randint(0, len(paras)), Para(LONG_FORMULA, (("formula", 0, len(LONG_FORMULA)),)))
    if rng.random() < 0.3:  # flattened in a preview, then repaired
        repaired: list[Para] = []
        for p in paras:
            if repaired and rng.random() < 0.15:
                repaired[-1] = merge(repaired[-1], p)
            elif rng.random() < 0.15:
                repaired.extend(cut(p, rng))
            else:
                repaired.append(p)
        paras = repaired
    rate = rng.uniform(0.01, 0.03)
    half = rng.random() < 0.4
    mask = rng.choice(("20xx", "20XX")) if rng.random() < 0.3 else None
    for p in paras:
        text = edit_chars(p.text, rate, alphabet, rng)
        text = text.translate(_HALF if half else _FULL)
        p.text = mask_years(text, mask) if mask else text
    if rng.random() < 0.8:
        paras.insert(0, Para(rng.choice(SALUTATIONS), (("salutation", 0, 0),)))
    if rng.random() < 0.5:
        paras.append(Para(rng.choice(CLOSINGS), (("closing", 0, 0),)))
    chars = sum(len(p.text) for p in paras)
    boilerplate = rng.randint(0, chars // 2)
    return Posting("", base, paras, boilerplate, chars + boilerplate)


def build_corpus(seed: int = DEFAULT_SEED, bases: int | None = None,
                 pool: Sequence[str] | None = None) -> Corpus:
    """Reposted speeches from the seed pool; the same seed gives the same corpus.

    ``bases`` caps the number of base speeches (default: as many as the pool
    allows).
    """
    rng = random.Random(seed)
    pool = list(pool if pool is not None else seed_pool())
    alphabet = "".join(HAN.findall("".join(pool)))
    start = rng.randrange(len(pool))
    order = pool[start:] + pool[:start]  # a different cut for every seed
    windows: list[list[Para]] = []
    i = 0
    while i < len(order):
        size = rng.randint(5, 12)
        window = []
        for j, text in zip(range(i, i + size), order[i:i + size]):
            para = Para(text, ((f"p{(start + j) % len(pool)}", 0, len(text)),))
            if 30 <= len(text) < 150 and rng.random() < OPENER_SHARE:
                opener = rng.choice(OPENERS)
                para = Para(opener + text, para.spans, len(opener))  # the opener is no source
            window.append(para)
        windows.append(window)
        i += size
    rng.shuffle(windows)
    extras = [p for w in windows[::5] for p in w]  # paragraphs a site adds
    bodies = [w for n, w in enumerate(windows) if n % 5 and len(w) >= 3]
    if bases is not None:
        bodies = bodies[:bases]
    postings = []
    for base, body in enumerate(bodies):
        copies = 1 if rng.random() < 0.2 else rng.randint(2, 6)
        postings.extend(_post(base, body, extras, alphabet, rng) for _ in range(copies))
    rng.shuffle(postings)
    for n, posting in enumerate(postings):
        posting.id = f"r{seed:02d}_{n:04d}#1"
    return Corpus(postings)


# ---------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PairScore:
    true_pairs: int  # copy pairs across speeches, both paragraphs long
    predicted: int  # pairs in the same cluster (partial ones left out)
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_pairs if self.true_pairs else 1.0

    def __add__(self, other: PairScore) -> PairScore:
        return PairScore(self.true_pairs + other.true_pairs, self.predicted + other.predicted,
                         self.correct + other.correct)


def _long(corpus: Corpus, key_len, min_chars: int) -> dict[tuple[str, int], Para]:
    return {(p.id, n): para for p in corpus.postings for n, para in enumerate(p.paragraphs)
            if key_len(para.text) >= min_chars}


def pair_score(corpus: Corpus, clusters: Iterable, min_chars: int, key_len) -> PairScore:
    """Pair precision and recall of paragraph clusters against the truth.

    A pair of paragraphs of different speeches, both with a key of at least
    ``min_chars``, is predicted when both are in one cluster; it is correct
    when the two are copies. Partial pairs count neither way.
    """
    long = _long(corpus, key_len, min_chars)
    by_source: dict[str, list[tuple[str, int]]] = {}
    for ref, para in long.items():
        for src in {s for s, lo, hi in para.spans if hi > lo}:
            by_source.setdefault(src, []).append(ref)
    truth: set[tuple] = set()
    partial: set[tuple] = set()
    for refs in by_source.values():
        for x in range(len(refs)):
            for y in range(x + 1, len(refs)):
                a, b = sorted((refs[x], refs[y]))
                if a[0] == b[0]:
                    continue
                sj = source_jaccard(long[a].spans, long[b].spans)
                (truth if sj >= COPY_OVERLAP else partial).add((a, b))
    predicted = correct = 0
    for cluster in clusters:
        refs = sorted((m.doc, m.para) for m in cluster.members)
        for x in range(len(refs)):
            for y in range(x + 1, len(refs)):
                pair = (refs[x], refs[y])
                if pair[0][0] == pair[1][0] or pair in partial:
                    continue
                predicted += 1
                correct += pair in truth
    return PairScore(len(truth), predicted, correct)


def speech_score(corpus: Corpus, duplicates: Iterable) -> PairScore:
    """Speech-level scores: a reported duplicate is correct when it posts the
    same base as the speech it names; a base posted n times owes n - 1."""
    base = {p.id: p.base for p in corpus.postings}
    counts: dict[int, int] = {}
    for p in corpus.postings:
        counts[p.base] = counts.get(p.base, 0) + 1
    owed = sum(n - 1 for n in counts.values())
    reported = list(duplicates)
    correct = sum(base[d.doc] == base[d.duplicate_of] for d in reported)
    return PairScore(owed, len(reported), correct)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reposts", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder to write corpus.jsonl into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    corpus = build_corpus(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for p in corpus.postings:
            fh.write(json.dumps({
                "id": p.id, "base": p.base, "boilerplate_chars": p.boilerplate_chars,
                "page_chars": p.page_chars,
                "paragraphs": [{"text": q.text, "spans": q.spans} for q in p.paragraphs],
            }, ensure_ascii=False) + "\n")
    print(f"{len(corpus.postings)} speeches → {args.out / 'corpus.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
