"""Tests of corpus-learned site templates: masking, counting, deciding, stripping, rules.

The three constructed corpora are the traps of template learning:

1. one speech reposted on 20 sites, each with its own chrome: none of the
   speech's lines may be learned;
2. forty speeches on ten sites, all opening with a salutation and closing with
   谢谢大家！, sharing numbered headings: those lines may not be learned;
3. two invented sites of 16 pages each, with navigation, breadcrumbs, meta
   lines, promos and footers that carry varying digits, dates and the page's
   title: their chrome must be learned.

Speech text comes from the seed files in ``raw/``: their long sentences are
real paragraphs. Everything else is invented here, with fixed random seeds.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import pytest

from cleaner.errors import UsageError
from cleaner.model import Page
from cleaner.pipeline import decode_file, strip_page
from cleaner.rules import example_failures, fold, load_rules, parse_rule_file
from cleaner.store import list_inputs
from cleaner.templates import (
    TemplateCounter,
    TemplateError,
    Templates,
    TemplateSettings,
    describe_candidates,
    find_candidates,
    learn,
    mask_line,
    page_title,
    render_candidates,
    render_toml,
    rule_pattern,
    speech_formula,
    strip_templates,
    template_id,
)

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"


# --------------------------------------------------------------------------
# Material: real paragraphs, invented sites, speeches.
# --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def seed_paragraphs() -> tuple[str, ...]:
    """Long sentences of the seed speeches, each once, in file order."""
    seen: dict[str, None] = {}
    for path, source in list_inputs(RAW):
        for _, text in decode_file(path, source).lines:
            text = text.strip()
            if 30 <= len(text) <= 300 and text.endswith("。") and "整理" not in text:
                seen.setdefault(text)
    return tuple(seen)


def test_seed_paragraphs_are_enough():
    # Guards the corpora below: they draw a few hundred distinct paragraphs.
    assert len(seed_paragraphs()) >= 250


NAMES = ("青松", "明德", "博雅", "致远", "清风", "笃行", "弘文", "立言", "书香", "修远",
         "知行", "崇文", "怀瑾", "慎思", "启航", "拾光", "映雪", "采薇", "鸿儒", "行知")
PLACES = ("文苑", "书屋", "学堂", "文库", "资料站", "范文网", "公文馆", "写作坊", "文摘", "讲坛")
ORGS = ("县教育局局长", "市教育局党组书记", "分管副县长", "区教体局局长", "县委教育工委书记")
MEETINGS = ("全县教育工作会议", "春季开学工作会", "教学质量分析会", "安全工作会议", "教师节表彰大会",
            "党风廉政建设工作会议", "校长培训班开班仪式", "教育督导工作会议")


@dataclass
class Site:
    """An invented site: its name, domain and a few chrome lines in its own words."""

    name: str
    domain: str
    motto: str

    def head(self, rng: random.Random, title: str, day: date) -> list[str]:
        return [
            f"{self.name}首页 | 讲话稿 | 发言稿 | 工作总结 | 心得体会",
            f"{self.name} > 会议讲话 > {title}",
            f"发布日期：{day:%Y-%m-%d} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}  "
            f"热度：{rng.randint(100, 9999)}",
        ]

    def tail(self, rng: random.Random, title: str, day: date) -> list[str]:
        return [
            f"—— {self.motto} ——",
            f"《{title}》由{self.name}收集，转载请保留出处。",
            f"{self.name}（{self.domain}）已收录文章{rng.randint(1000, 99999)}篇",
            f"© 2012-{day.year} {self.domain}",
        ]


def make_sites(rng: random.Random, count: int) -> list[Site]:
    sites = []
    for k in range(count):
        name = NAMES[k % len(NAMES)] + PLACES[k % len(PLACES)]
        domain = f"www.{''.join(rng.choices('abcdefghjkmnpqrstuvwxyz', k=5))}.com"
        sites.append(Site(name, domain, rng.choice(("用心做好每一篇", "与文字同行", "读好文，写好文"))))
    return sites


def speech_title(rng: random.Random) -> str:
    return f"{rng.choice(ORGS)}在{rng.randint(2016, 2024)}年{rng.choice(MEETINGS)}上的讲话"


@dataclass
class Corpus:
    """Pages with, for every line, whether it is chrome (``True``) or content."""

    pages: list[Page] = field(default_factory=list)
    chrome: dict[str, set[int]] = field(default_factory=dict)

    def add(self, source: str, lines: list[tuple[bool, str]]) -> None:
        page = Page(source=source, sha256="", size=0)
        page.lines = [(i, text) for i, (_, text) in enumerate(lines, 1)]
        self.pages.append(page)
        self.chrome[source] = {i for i, (is_chrome, _) in enumerate(lines, 1) if is_chrome}


def site_page(site: Site, rng: random.Random, title: str, body: list[str],
              promo_every: int = 0, promo: str = "") -> list[tuple[bool, str]]:
    """A page of ``site``: its head, the title, the body, its tail (promos inside the body)."""
    day = date(2016, 1, 1) + timedelta(days=rng.randint(0, 3000))
    lines = [(True, t) for t in site.head(rng, title, day)] + [(False, title)]
    for i, text in enumerate(body):
        if promo_every and i and i % promo_every == 0:
            lines.append((True, promo.format(title=title, n=rng.randint(2, 99))))
        lines.append((False, text))
    return lines + [(True, t) for t in site.tail(rng, title, day)]


@dataclass
class Outcome:
    templates: Templates
    chrome_lines: int = 0
    chrome_removed: int = 0
    content_chars: int = 0
    content_removed: list[str] = field(default_factory=list)

    @property
    def chrome_share(self) -> float:
        return self.chrome_removed / self.chrome_lines

    @property
    def content_kept(self) -> float:
        return 1 - sum(len(t) for t in self.content_removed) / self.content_chars


def learn_and_strip(corpus: Corpus, settings: TemplateSettings | None = None) -> Outcome:
    """Count the corpus, learn, strip every page; score against the chrome marks."""
    counter = TemplateCounter()
    for page in corpus.pages:
        counter.add(page)
    outcome = Outcome(learn(counter, settings))
    for page in corpus.pages:
        before = list(page.lines)
        strip_templates(page, outcome.templates)
        dropped = {e.line for e in page.edits}
        for lineno, text in before:
            if lineno in corpus.chrome[page.source]:
                outcome.chrome_lines += 1
                outcome.chrome_removed += lineno in dropped
            else:
                outcome.content_chars += len(text)
                if lineno in dropped:
                    outcome.content_removed.append(text)
    return outcome


# --------------------------------------------------------------------------
# The three constructed corpora.
# --------------------------------------------------------------------------

REPOSTED = (
    "凝心聚力 真抓实干 奋力开创教育工作新局面",
    "——在2023年全市教育工作会议上的讲话",
    "（2023年2月15日）",
    "同志们：",
)


def reposted_corpus(sites: int = 20, others: int = 2) -> tuple[Corpus, list[str]]:
    """One speech on ``sites`` sites, each site with ``others`` speeches of its own."""
    rng = random.Random("reposted")
    pool = list(seed_paragraphs())
    rng.shuffle(pool)
    # Short lines that are neither formulas nor paragraphs travel with the rest.
    speech = list(REPOSTED[1:]) + pool[:6] + ["一、统一思想，提高认识"] + pool[6:12] \
        + ["百年大计 教育为本", "二、突出重点，狠抓落实"] + pool[12:18] \
        + ["不忘初心，方得始终", "谢谢大家！"]
    rest = iter(pool[18:])
    corpus = Corpus()
    for k, site in enumerate(make_sites(rng, sites)):
        body = speech
        if k % 4 == 1:  # some sites print half-width punctuation
            body = [t.replace("，", ",").replace("：", ":") for t in speech]
        if k % 5 == 2:  # and some drop a promo line into the speech
            body = body[:9] + [f"（{site.name}编辑推荐）"] + body[9:]
        lines = site_page(site, rng, REPOSTED[0], body)
        if k % 5 == 2:
            lines = [(True, t) if t == f"（{site.name}编辑推荐）" else (c, t) for c, t in lines]
        corpus.add(f"site{k:02d}/repost.txt", lines)
        for j in range(others):
            own = [next(rest) for _ in range(4)]
            corpus.add(f"site{k:02d}/page{j}.txt", site_page(site, rng, speech_title(rng), own))
    return corpus, [REPOSTED[0]] + speech


HEADINGS = ("一、统一思想，提高认识", "二、突出重点，狠抓落实", "三、加强领导，确保实效")
UNLISTED = "（根据录音整理）"  # a recurring speech line that no formula names


def formula_corpus(sites: int = 10, per_site: int = 4) -> Corpus:
    """Speeches that all open with a salutation, share headings and close with thanks."""
    rng = random.Random("formulas")
    pool = list(seed_paragraphs())
    rng.shuffle(pool)
    rest = iter(pool)
    corpus = Corpus()
    for k, site in enumerate(make_sites(rng, sites)):
        for j in range(per_site):
            body = [rng.choice(("同志们：", "各位领导、同志们：")), next(rest)]
            for heading in HEADINGS:
                body += [heading, next(rest), next(rest)]
            body += ["谢谢大家！", UNLISTED]
            corpus.add(f"site{k:02d}/page{j}.txt", site_page(site, rng, speech_title(rng), body))
    return corpus


class InkSite:
    """Invented site one: a literary-magazine look."""

    def lines(self, rng: random.Random, title: str, day: date, body: list[str]) -> list[tuple[bool, str]]:
        head = ["☆ 砚池文汇 · 每周精选 ☆",
                "文汇首页 ｜ 公文荟萃 ｜ 演讲精编 ｜ 读书札记",
                f"第{rng.randint(100, 999)}期 · {day:%Y.%m.%d} · 值班编辑 {rng.choice('甲乙丙丁')}"]
        tail = ["～ 全文完 ～",
                "扫码关注「砚池文汇」获取更多好文",
                f"本期共收录{rng.randint(3, 12)}篇 · 累计{rng.randint(10000, 99999)}人次翻看",
                f"喜欢《{title}》？请分享给同事"]
        out = [(True, t) for t in head] + [(False, title)]
        for i, text in enumerate(body):
            if i and i % 4 == 0:
                out.append((True, "— 砚池文汇 · 好文共赏 —"))
            out.append((False, text))
        return out + [(True, t) for t in tail]


class FieldSite:
    """Invented site two: a writing-material library."""

    def lines(self, rng: random.Random, title: str, day: date, body: list[str]) -> list[tuple[bool, str]]:
        head = ["【耕读园】公文写作素材库",
                f"写作指南 › 范文宝库 › 会议讲话 › {title}",
                f"编号 GD-{rng.randint(10000, 99999)} ｜ 入库 {day:%Y/%m/%d} ｜ 字数 {rng.randint(1000, 9999)}"]
        tail = ["—— 笔耕不辍，园中有你 ——",
                f"想看更多同类讲话稿？在耕读园搜索「{title}」",
                "耕读园 ｜ 合作投稿 ｜ 意见反馈 ｜ 隐私条款",
                f"gdy.net.cn 2015-{day.year}"]
        out = [(True, t) for t in head] + [(False, title)]
        for i, text in enumerate(body):
            if i and i % 5 == 0:
                out.append((True, f"◆ 耕读园 · 第{i // 5 + 1}页 ◆"))
            out.append((False, text))
        return out + [(True, t) for t in tail]


def invented_sites_corpus(pages: int = 16) -> Corpus:
    """Two invented sites, ``pages`` pages each, with speeches of their own."""
    rng = random.Random("invented")
    pool = list(seed_paragraphs())
    rng.shuffle(pool)
    rest = iter(pool)
    corpus = Corpus()
    for name, site in (("ink", InkSite()), ("field", FieldSite())):
        for j in range(pages):
            day = date(2018, 1, 1) + timedelta(days=rng.randint(0, 2000))
            body = [rng.choice(("同志们：", "各位校长、同志们："))] + [next(rest) for _ in range(9)]
            corpus.add(f"{name}/{j:02d}.txt", site.lines(rng, speech_title(rng), day, body))
    return corpus


def test_reposted_speech_is_never_learned():
    corpus, speech = reposted_corpus()
    counter = TemplateCounter()
    for page in corpus.pages:
        counter.add(page)
    decisions = {c.key: c.decision for c in find_candidates(counter)}
    for line in speech:
        key = mask_line(line, REPOSTED[0])
        assert decisions.get(key, "not a candidate") != "learned", line
    outcome = learn_and_strip(corpus)
    assert outcome.content_removed == []
    # Each site has three pages, so its own chrome is learned all the same.
    assert outcome.chrome_share >= 0.8


def test_speech_formulas_are_never_learned():
    outcome = learn_and_strip(formula_corpus())
    assert outcome.content_removed == []
    assert outcome.content_kept == 1.0
    assert outcome.chrome_share >= 0.8


def test_formula_corpus_candidates_say_why_they_are_kept():
    counter = TemplateCounter()
    for page in formula_corpus().pages:
        counter.add(page)
    by_key = {c.key: c for c in find_candidates(counter)}
    for line in ("同志们：", "各位领导、同志们：", "谢谢大家！") + HEADINGS:
        assert by_key[mask_line(line)].decision == "formula", line
    # No formula names it, and nothing marks it as chrome: it stays.
    assert by_key[mask_line(UNLISTED)].decision == "no-evidence"


def test_invented_sites_chrome_is_learned():
    outcome = learn_and_strip(invented_sites_corpus())
    assert outcome.chrome_share >= 0.95
    assert outcome.content_removed == []


def test_invented_sites_need_enough_pages():
    # Two pages per site are below min_files: nothing is learned.
    outcome = learn_and_strip(invented_sites_corpus(pages=2))
    assert len(outcome.templates) == 0


# --------------------------------------------------------------------------
# The generated benchmark pages (benchmarks/synth.py), when present: the two
# unseen templates must lose at least 80% of their boilerplate, content 99% kept.
# --------------------------------------------------------------------------

def test_unseen_templates_of_the_generated_pages():
    synth = pytest.importorskip("benchmarks.synth")
    from cleaner.decode import decode_bytes
    from cleaner.tidy import tidy

    ruleset = load_rules()
    generated = synth.build_pages(seed=7, pages=96)
    pages, roles = [], {}
    for g in generated:
        text, _ = tidy(decode_bytes(g.data).text)
        page = Page(source=g.name, sha256="", size=len(g.data))
        page.lines = list(enumerate(text.split("\n"), 1))
        pages.append(strip_page(page, ruleset))
        roles[g.name] = (g.truth["roles"], g.truth["known"])
    counter = TemplateCounter()
    for page in pages:
        counter.add(page)
    templates = learn(counter)
    boiler = removed = content = content_removed = 0
    for page in pages:
        role, known = roles[page.source]
        before = list(page.lines)
        strip_templates(page, templates)
        dropped = {e.line for e in page.edits if e.rule.startswith("template.")}
        for lineno, text in before:
            if not text.strip():
                continue
            if role[lineno - 1] == "b":
                if not known:
                    boiler += 1
                    removed += lineno in dropped
            else:
                content += len(text)
                content_removed += len(text) if lineno in dropped else 0
    assert boiler > 100
    assert removed / boiler >= 0.8
    assert 1 - content_removed / content >= 0.99


# --------------------------------------------------------------------------
# The seeds: five files from five sites, nothing recurs, nothing is learned.
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_counter():
    ruleset = load_rules()
    counter = TemplateCounter()
    for path, source in list_inputs(RAW):
        counter.add(strip_page(decode_file(path, source), ruleset))
    return counter


def test_nothing_is_learned_from_the_seeds(seed_counter):
    assert seed_counter.files == 5
    assert len(learn(seed_counter)) == 0


def test_seed_candidates_with_lower_thresholds_are_formulas(seed_counter):
    rows = describe_candidates(seed_counter, TemplateSettings(min_files=2))
    assert rows, "同志们： recurs in the seeds"
    assert {r["decision"] for r in rows} == {"formula"}


# --------------------------------------------------------------------------
# Masking and titles.
# --------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("时间:2023-11-29 14:13:01 来源:网友投稿", "时间：2024-1-5 08:00 来源：网友投稿"),
    ("第1页 / 共10页", "第３页／共１２页"),
    ("第三页", "第十二页"),
    ("上传人:新** 大小:24.50KB", "上传人:王** 大小:3.1KB"),
    ("发布日期：2023年11月29日", "发布日期: 2021年3月2日"),
    ("2023/1/5 阅读 120", "2024/12/25 阅读 9"),
])
def test_masking_makes_variants_one_key(a, b):
    assert mask_line(a) == mask_line(b)


@pytest.mark.parametrize("a, b", [
    ("一、统一思想，提高认识", "二、统一思想，提高认识"),
    ("同志们：", "同学们："),
    ("返回首页", "返回顶部"),
])
def test_masking_keeps_words_apart(a, b):
    assert mask_line(a) != mask_line(b)


def test_title_is_masked_inside_lines_not_alone():
    title = "教育局长在全县教育工作会议上的讲话"
    assert mask_line(f"下载《{title}》Word版", title) == "下载《{title}》word版"
    assert mask_line(f"下载《{title}》Word版", title) == mask_line(
        "下载《另一篇讲话稿》Word版", "另一篇讲话稿")
    assert mask_line(title, title) == fold(title)


def test_page_title_prefers_the_line_the_page_repeats():
    lines = ["★ 墨香 · 每日精选 ★", "关于开展安全检查的通知", "同志们：", "下载《关于开展安全检查的通知》"]
    assert page_title(lines) == "关于开展安全检查的通知"
    assert page_title(["同志们：", "一、", ""]) is None


@pytest.mark.parametrize("text, kind", [
    ("同志们：", "salutation"), ("各位领导、同志们：", "salutation"), ("谢谢大家！", "closing"),
    ("我的讲话完了。", "closing"), ("一、统一思想，提高认识", "heading"), ("（三）强化督导", "heading"),
    ("2.提升舆情处置能力", "heading"), ("第二篇：在开学典礼上的讲话", "marker"),
    ("在2023年教师节表彰大会上的讲话", "title"), ("校长开学典礼讲话稿(精选5篇)", "title"),
])
def test_speech_formulas(text, kind):
    assert speech_formula(text) == kind


@pytest.mark.parametrize("text", [
    "文苑首页 ｜ 公文荟萃 ｜ 演讲精编", "扫码关注「墨香文苑」获取更多好文", "～ 全文完 ～",
    "首页 > 会议讲话", "第356期 · 2023.05.06 · 墨香值班室",
])
def test_chrome_is_no_speech_formula(text):
    assert speech_formula(text) is None


# --------------------------------------------------------------------------
# Counting, learning, stripping, saving.
# --------------------------------------------------------------------------

def _chrome_pages(n: int, repeat: int = 1) -> list[list[str]]:
    rng = random.Random("chrome")
    pool = list(seed_paragraphs())
    return [["青松文苑首页 | 讲话稿", f"发布日期：2023-0{1 + i % 9}-1{i % 10} 热度：{rng.randint(10, 999)}"]
            + [pool[3 * i], pool[3 * i + 1]] + ["青松文苑 版权所有"] * repeat for i in range(n)]


def test_a_line_counts_once_per_file():
    counter = TemplateCounter()
    for i, lines in enumerate(_chrome_pages(4, repeat=5)):
        counter.add(lines, f"p{i}.txt")
    stats = {s.key: s for s in counter.stats.values()}
    assert stats[mask_line("青松文苑 版权所有")].files == 4
    assert counter.files == 4


def test_lines_in_the_same_files_are_compared_as_one_group(monkeypatch):
    # A site whose pages share 1,500 chrome lines: comparing every pair of
    # them (1,124,250 sketch comparisons) would take time quadratic in the
    # lines; lines in the same files are one group, and each line still
    # counts all the others as its cluster.
    import cleaner.templates as templates

    rng = random.Random("menu")
    menu = ["".join(rng.choice("导航栏目频道专题首页资讯服务互动下载排行") for _ in range(6)) + f" {n}"
            for n in range(1_500)]
    counter = TemplateCounter()
    for i in range(4):
        counter.add(["同志们：", *menu, "谢谢大家！"], f"p{i}.txt")
    calls = []
    compare = templates.sketch_jaccard
    monkeypatch.setattr(templates, "sketch_jaccard", lambda *a: calls.append(1) or compare(*a))
    candidates = find_candidates(counter)
    assert len(calls) < 100
    keys = len(set(map(mask_line, menu)))
    clustered = [c for c in candidates if f"cluster:{keys - 1}" in c.evidence]
    assert len(clustered) == keys > 1_000


def test_add_takes_pages_pairs_and_strings_alike():
    pages = _chrome_pages(4)
    counters = [TemplateCounter() for _ in range(3)]
    for i, lines in enumerate(pages):
        counters[0].add(lines, f"p{i}.txt")
        counters[1].add(list(enumerate(lines, 1)), f"p{i}.txt")
        page = Page(source=f"p{i}.txt", sha256="", size=0)
        page.lines = list(enumerate(lines, 1))
        counters[2].add(page)
    dumps = [json.dumps(learn(c).to_dict(), ensure_ascii=False) for c in counters]
    assert dumps[0] == dumps[1] == dumps[2]
    assert len(learn(counters[0])) == 3


def test_plain_lines_need_a_source():
    with pytest.raises(ValueError):
        TemplateCounter().add(["一行"])


def test_learning_is_deterministic():
    def run() -> str:
        counter = TemplateCounter()
        for page in invented_sites_corpus().pages:
            counter.add(page)
        return json.dumps(learn(counter).to_dict(), ensure_ascii=False, sort_keys=True)
    assert run() == run()


def test_strip_records_each_dropped_line_with_the_template_id():
    counter = TemplateCounter()
    pages = _chrome_pages(5)
    for i, lines in enumerate(pages):
        counter.add(lines, f"p{i}.txt")
    templates = learn(counter)
    page = Page(source="new.txt", sha256="", size=0)
    page.lines = [(10, "青松文苑首页 | 讲话稿"), (11, ""), (12, pages[0][2]),
                  (13, "发布日期：2025-12-31 热度：5"), (14, "青松文苑 版权所有")]
    strip_templates(page, templates)
    assert [n for n, _ in page.lines] == [11, 12]
    assert [(e.stage, e.line, e.action) for e in page.edits] == [
        ("strip", 10, "drop_line"), ("strip", 13, "drop_line"), ("strip", 14, "drop_line")]
    for edit in page.edits:
        assert edit.rule == "template." + templates.match(edit.text)
        assert edit.rule == "template." + template_id(mask_line(edit.text))
    assert page.counts == {e.rule: 1 for e in page.edits}


def test_strip_leaves_failed_pages_alone():
    counter = TemplateCounter()
    for i, lines in enumerate(_chrome_pages(5)):
        counter.add(lines, f"p{i}.txt")
    page = Page(source="bad.txt", sha256="", size=0, error="cannot read")
    page.lines = [(1, "青松文苑 版权所有")]
    assert strip_templates(page, learn(counter)).lines == [(1, "青松文苑 版权所有")]


def test_templates_round_trip_through_json():
    counter = TemplateCounter()
    for page in invented_sites_corpus().pages:
        counter.add(page)
    templates = learn(counter)
    data = json.loads(json.dumps(templates.to_dict(), ensure_ascii=False))
    again = Templates.from_dict(data)
    assert again.to_dict() == templates.to_dict()
    line = "编号 GD-12345 ｜ 入库 2030/01/02 ｜ 字数 5555"
    assert again.match(line) == templates.match(line) is not None


@pytest.mark.parametrize("data", [
    {}, {"templates": [{"key": ""}]}, {"templates": [{"key": "x", "id": "00000000"}]},
    {"templates": [], "settings": {"min_files": 1}}, {"templates": "no"},
])
def test_bad_templates_files_are_refused(data):
    with pytest.raises(TemplateError):
        Templates.from_dict(data)


@pytest.mark.parametrize("kwargs", [
    {"min_files": 1}, {"min_share": 1.5}, {"neighbour_share": 0.5}, {"max_chars": 0},
    {"min_siblings": 0},
])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(UsageError):
        TemplateSettings(**kwargs)


# --------------------------------------------------------------------------
# Candidates as a table and as rules.
# --------------------------------------------------------------------------

def test_suggested_rules_load_and_pass_their_own_examples():
    counter = TemplateCounter()
    for page in invented_sites_corpus().pages:
        counter.add(page)
    rows = describe_candidates(counter, decisions=["learned"])
    assert len(rows) >= 10
    rules = parse_rule_file("learned.toml", render_toml(rows).encode("utf-8"))
    assert len(rules) == len(rows)
    for rule in rules:
        assert example_failures(rule) == [], rule.id


def test_describe_candidates_rows():
    counter = TemplateCounter()
    for page in formula_corpus().pages:
        counter.add(page)
    rows = describe_candidates(counter)
    assert {"id", "key", "files", "share", "decision", "evidence", "examples",
            "example_files", "rule"} <= set(rows[0])
    assert rows == sorted(rows, key=lambda r: (-r["files"], r["key"]))
    learned = describe_candidates(learn(counter))
    assert {r["id"] for r in learned} == {r["id"] for r in rows if r["decision"] == "learned"}
    table = render_candidates(rows[:3])
    assert table.splitlines()[0].split() == ["id", "files", "share", "decision", "evidence", "key"]
    assert len(table.splitlines()) == 4


def test_rule_pattern_matches_other_pages_of_the_template():
    import re
    pattern = re.compile(rule_pattern("编号 GD-12345 ｜ 入库 2020/01/02 ｜ 字数 4821"))
    assert pattern.search(fold("编号 GD-9 ｜ 入库 2031/12/30 ｜ 字数 12"))
    assert not pattern.search(fold("本文编号 GD-9 ｜ 入库 2031/12/30 ｜ 字数 12，正文继续。"))
