"""Dirty test pages with their truth recorded, built from the seed files in raw/.

Real paragraphs from the seeds are assembled into speeches, rendered in one of
four layouts and wrapped in the boilerplate of one of eight site templates.
Every page comes with its truth: the speeches it carries (title and
paragraphs) and every boilerplate line and in-sentence span that was put
around or inside them, so a cleaner's output can be scored against it
(see ``benchmarks/eval_cleaning.py``).

Content. :func:`read_seed_runs` cuts the seeds into runs of body paragraphs
with a few explicit rules of its own (a paragraph has Han characters and ends
in sentence punctuation, or is a numbered section heading); it never uses the
cleaner, so the truth cannot inherit the cleaner's mistakes. A speech is a
title (generated), sometimes a subtitle (``——在…会议上的讲话``) or a date
line, usually a salutation, and a window of 8-30 consecutive paragraphs of
one run. The salutation is the first paragraph of the truth; subtitle and
date lines are recorded apart, as the speech's ``subtitles``.

Layouts:

- ``lines``: one paragraph per line;
- ``blank-lines``: paragraphs separated by blank lines, half-width ``,:;()!?``,
  some paragraphs broken after a semicolon or in mid-sentence;
- ``preview``: a document-share preview: title and paragraphs flattened into
  one text, cut into numbered chunks ``N、…`` of 300-600 characters, with page
  numbers dropped inside words (``水 2 平``) and stray spaces inside words;
- ``multi-piece``: two to four speeches, each opened by a marker line
  (``…篇一``, ``第二篇：标题``) or by its title followed by a salutation.

Templates: six "known" ones written from the boilerplate families the rules
target (document-share, two essay sites, news portal, forum, paywall) and two
"unseen" ones whose phrases no rule targets; only template learning over the
corpus can remove the latter. Digits, dates, names and titles vary from page
to page, so exact line repeats are not the only signal.

Everything is a function of the seed: the same seed gives byte-identical pages.
Run ``python -m benchmarks.synth OUT`` to write ``OUT/raw/*.txt`` and
``OUT/truth.jsonl``.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

RAW = Path(__file__).resolve().parent.parent / "raw"
DEFAULT_PAGES = 160
DEFAULT_SEED = 0
GB18030_SHARE = 0.08

# Line roles in a page's truth (one character per line, see GeneratedPage).
BLANK, BOILER, CONTENT, TITLE, SUBTITLE, PAGE_TITLE, MARKER = " ", "b", "c", "t", "s", "p", "m"

HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN = re.compile(f"[{HAN}]")
_WS = re.compile(r"\s+")

# ---------------------------------------------------------------------------
# The comparison key
# ---------------------------------------------------------------------------

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "〝": '"', "〞": '"',
                         "‘": "'", "’": "'", "‚": "'", "‛": "'"})


def text_key(text: str) -> str:
    """What must survive of a text: NFKC (width folded), quotes unified, no whitespace.

    Normalization may legitimately change punctuation width, quote style and
    spacing; the key ignores exactly that.

    >>> text_key("同志们: 今天,我们(一起)开会") == text_key("同志们：今天，我们（一起）开会")
    True
    >>> text_key('“双减” "工作"')
    '"双减""工作"'
    >>> text_key("深入研 究")
    '深入研究'
    """
    return _WS.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))


_HALF = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"})


def half_width_punctuation(text: str) -> str:
    """The half-width punctuation some sites print in Chinese text.

    >>> half_width_punctuation("同志们：今天，我们（一起）开会；好！")
    '同志们:今天,我们(一起)开会;好!'
    """
    return text.translate(_HALF)


_CN_DIGITS = "零一二三四五六七八九"


def cn_numeral(n: int) -> str:
    """Chinese numeral for 1-99, as in 篇十二 or 第二十一篇.

    >>> [cn_numeral(n) for n in (1, 9, 10, 12, 20, 35)]
    ['一', '九', '十', '十二', '二十', '三十五']
    """
    if not 1 <= n <= 99:
        raise ValueError(f"cn_numeral: {n} is out of 1-99")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


# ---------------------------------------------------------------------------
# Seed paragraphs
# ---------------------------------------------------------------------------

_SENTENCE_END = tuple("。！？；：!?;:”）)…")
_HEADING = re.compile(r"^(（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+、|\d{1,2}[、.．])")
_SEED_WATERMARK = re.compile(r"本资料权属\S{1,12}?放上鼠标按照提示查看\S{1,12}?网")
_SEED_ESCAPED_QUOTE = re.compile(r"\\+([\"'])")
_SEED_STRAY_MARK = re.compile(f"(?<=[{HAN}])[`´]+(?=[{HAN}])")
_SALUTATION = re.compile(r"(同志们|老师们|同学们|委员|来宾|校长们)[：:]?$")
# Seed lines that are site boilerplate, not speech text.
_SEED_BOILERPLATE = ("小编", "为大家整理", "看过", "推荐访问", "欢迎品鉴", "供大家参考", "来源:")
_PREVIEW_CHUNK = re.compile(r"^(\d+)、.{250,}")


def clean_seed_line(line: str) -> str:
    r"""A seed line without the damage scraping left in it: indentation, a
    quoting marker, an in-sentence watermark, backslashes before quotes,
    backticks between Han characters. The truth is the text without them.

    >>> clean_seed_line("　　>一、202_年工作回顾 ")
    '一、202_年工作回顾'
    >>> clean_seed_line("是基础本资料权属文秘资源网放上鼠标按照提示查看文秘资源网工作。")
    '是基础工作。'
    >>> clean_seed_line('江泽民同志\\\"三个代表\\\"重要思想，拒腐防变的`能力。')
    '江泽民同志"三个代表"重要思想，拒腐防变的能力。'
    """
    line = line.strip().lstrip(">").strip()
    line = _SEED_WATERMARK.sub("", line)
    line = _SEED_ESCAPED_QUOTE.sub(r"\1", line)
    return _SEED_STRAY_MARK.sub("", line)


def is_section_heading(text: str) -> bool:
    """A short numbered heading: 一、…, （一）…, (二)…, 1.…

    >>> is_section_heading("一、统一思想，提高站位"), is_section_heading("(三)师资水平不断提升")
    (True, True)
    >>> is_section_heading("教育局长在2024教育工作会议上的讲话")
    False
    """
    return len(text) <= 40 and _HEADING.match(text) is not None


def is_salutation_line(text: str) -> bool:
    """The line that addresses the audience: 同志们：, 各位来宾、同志们.

    >>> is_salutation_line("各位领导，各位校长、同志们："), is_salutation_line("同志们，今天开会。")
    (True, False)
    """
    return len(text) <= 40 and _SALUTATION.search(text) is not None


def is_body_paragraph(text: str) -> bool:
    """A seed line that is speech text: Han characters, and sentence punctuation
    at the end or a numbered heading; no site boilerplate, no damage.

    >>> is_body_paragraph("今天，我们召开全市教育工作会议。")
    True
    >>> is_body_paragraph("二、抢抓机遇提质量")
    True
    >>> is_body_paragraph("教育局长教育工作会讲话内容篇一")
    False
    >>> is_body_paragraph("下面是小编为大家整理的讲话,供大家参考。")
    False
    """
    if len(text) < 4 or not _HAN.search(text) or "\ufffd" in text:
        return False
    if text[0] in "#@-*" or text.endswith(("...", "…")) and len(text) > 60 and "……" not in text:
        return False
    if any(marker in text for marker in _SEED_BOILERPLATE) or is_salutation_line(text):
        return False
    return text.endswith(_SENTENCE_END) or is_section_heading(text)


def seed_units(text: str) -> list[str]:
    """The paragraphs of a seed text: blocks between blank lines when most lines
    are blank (a blank-line layout), otherwise lines.

    >>> seed_units("甲,乙;\\n丙。\\n\\n丁。\\n\\n戊。\\n\\n")
    ['甲,乙;丙。', '丁。', '戊。']
    >>> seed_units("甲。\\n乙。\\n")
    ['甲。', '乙。']
    """
    lines = [clean_seed_line(line) for line in text.split("\n")]
    blank = sum(1 for line in lines if not line)
    if blank * 5 < len(lines) * 2:
        return [line for line in lines if line]
    units, block = [], []
    for line in lines + [""]:
        if line:
            block.append(line)
        elif block:
            units.append("".join(block))
            block = []
    return units


@dataclass(frozen=True)
class SeedRun:
    """Consecutive body paragraphs of one seed file, with no boundary between them."""

    source: str
    paragraphs: tuple[str, ...]


MIN_RUN = 4


def runs_of(source: str, units: list[str]) -> list[SeedRun]:
    """Maximal runs of body paragraphs; any other line (a title, a marker, a
    salutation, boilerplate, a broken line) ends a run.

    >>> units = ["标题", "甲乙一。", "甲乙二。", "甲乙三。", "甲乙四。", "同志们：", "甲乙五。"]
    >>> [r.paragraphs for r in runs_of("s", units)]
    [('甲乙一。', '甲乙二。', '甲乙三。', '甲乙四。')]
    """
    runs, current = [], []
    for unit in units + [""]:
        if is_body_paragraph(unit):
            current.append(unit)
            continue
        if len(current) >= MIN_RUN:
            runs.append(SeedRun(source, tuple(current)))
        current = []
    return runs


def is_preview(text: str) -> bool:
    r"""True for a flattened document-share preview: long chunks numbered 1、 2、 3、 in order.

    >>> chunk = "讲" * 260
    >>> is_preview(f"标题\n\n1、{chunk}\n\n2、{chunk}\n\n3、{chunk}\n")
    True
    >>> is_preview(f"1、{chunk}\n3、{chunk}\n")
    False
    """
    numbers = [int(m.group(1)) for m in map(_PREVIEW_CHUNK.match, text.split("\n")) if m]
    return numbers[:3] == [1, 2, 3]


def read_seed_runs(raw_dir: Path = RAW) -> tuple[SeedRun, ...]:
    """Runs of body paragraphs from every UTF-8 seed, in file order.

    A seed that is itself a flattened preview (numbered chunks) is skipped:
    its paragraphs are not whole.
    """
    runs: list[SeedRun] = []
    for path in sorted(Path(raw_dir).glob("*.txt")):
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        if is_preview(text):
            continue
        runs.extend(runs_of(path.name, seed_units(text)))
    if not runs:
        raise ValueError(f"no seed paragraphs found in {raw_dir}")
    return tuple(runs)


def seed_salutations(raw_dir: Path = RAW) -> tuple[str, ...]:
    """The salutations the seeds use, in a stable order."""
    found = set()
    for path in sorted(Path(raw_dir).glob("*.txt")):
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        found.update(u for u in seed_units(text) if is_salutation_line(u))
    return tuple(sorted(found)) or ("同志们：",)


# ---------------------------------------------------------------------------
# Speeches
# ---------------------------------------------------------------------------

ORGS = ("教育局局长", "县教育局党组书记", "市教育局局长", "分管副县长", "教体局局长",
        "区教育局党委书记", "县委教育工委书记")
MEETINGS = ("全县教育工作会议", "全市教育工作会议", "春季开学工作会", "“双减”工作推进会",
            "教育系统党风廉政建设工作会议", "教学质量分析会", "全区教育系统安全工作会议",
            "秋季开学工作会议", "庆祝教师节表彰大会", "教育督导工作会议", "校长培训班开班仪式")
HEADLINES = ("凝心聚力 实干担当 奋力谱写教育高质量发展新篇章",
             "立足新起点 展现新作为 推动全县教育事业再上新台阶",
             "守正创新 真抓实干 办好人民满意的教育",
             "聚焦质量 深化改革 全面提升教育现代化水平",
             "坚定信心 攻坚克难 加快建设教育强县",
             "以党建引领教育发展 以实干推动质量提升")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳敏静丽强磊军洋勇艳杰娟涛明超霞平刚英"


@dataclass
class Speech:
    """A speech of the truth: its title, the subtitle or date lines under it,
    and its paragraphs (the salutation is the first paragraph).

    Sites append suffixes such as 范文 or 篇三 to a title; the truth's title
    is without them (``shown`` is what the page prints)."""

    title: str
    subtitles: list[str]
    paragraphs: list[str]
    shown: str = ""  # the title as the page prints it (sometimes with a site suffix)

    def __post_init__(self) -> None:
        self.shown = self.shown or self.title

    def to_dict(self) -> dict:
        return {"title": self.title, "subtitles": list(self.subtitles),
                "paragraphs": list(self.paragraphs)}


def speech_title(rng: random.Random, year: int) -> str:
    """A plausible speech title, e.g. 教育局局长在2021年全县教育工作会议上的讲话."""
    org, meeting = rng.choice(ORGS), rng.choice(MEETINGS)
    form = rng.randrange(4)
    if form == 0:
        return f"{org}在{year}年{meeting}上的讲话"
    if form == 1:
        return f"在{year}年{meeting}上的讲话"
    if form == 2:
        return f"{year}年{meeting}{org}讲话稿"
    return f"{org}在{meeting}上的讲话"


def make_speech(rng: random.Random, runs: tuple[SeedRun, ...], salutations: tuple[str, ...],
                used: set[str], year: int, subtitle: bool = True,
                salutation: bool = False) -> Speech:
    """One speech: title, sometimes a subtitle and/or a date line, a salutation
    (always when ``salutation``, else mostly), 8-30 seed paragraphs.

    Paragraphs whose key is in ``used`` are skipped, so a page never repeats one.
    """
    title = speech_title(rng, year)
    subtitles: list[str] = []
    roll = rng.random()
    if subtitle and roll < 0.2:
        title = rng.choice(HEADLINES)
        subtitles.append(f"——{rng.choice(ORGS)}在{year}年{rng.choice(MEETINGS)}上的讲话")
    if subtitle and (roll < 0.05 or 0.2 <= roll < 0.3):
        subtitles.append(f"（{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日）")
    head: list[str] = []
    if salutation or rng.random() < 0.85:
        head.append(rng.choice(salutations))
    weights = [len(r.paragraphs) for r in runs]
    body: list[str] = []
    for _ in range(6):  # a few tries when a run is mostly used already
        run = rng.choices(runs, weights)[0]
        size = min(len(run.paragraphs), rng.randint(8, 30))
        start = rng.randint(0, len(run.paragraphs) - size)
        body = [p for p in run.paragraphs[start:start + size] if text_key(p) not in used]
        if len(body) >= min(size, 4):
            break
    used.update(text_key(p) for p in body)
    shown = title + "范文" if not subtitles and rng.random() < 0.15 else title
    return Speech(title, subtitles, head + body, shown)


# ---------------------------------------------------------------------------
# Site templates
# ---------------------------------------------------------------------------

@dataclass
class PageContext:
    """What a template may print about its page."""

    rng: random.Random
    title: str            # the title as printed (single speech), or the page title (multi-piece)
    speeches: list[Speech]
    date: datetime
    layout: str
    others: list[str]     # titles of other speeches, for related-article lists
    style: str = ""       # how the pieces of a multi-piece page open
    body_texts: list[str] = field(default_factory=list)  # the rendered body lines

    @property
    def title_role(self) -> str:
        """A single speech's title line is its title; a multi-piece page's or a
        preview's first line is only the page's heading."""
        return TITLE if self.layout in ("lines", "blank-lines") else PAGE_TITLE

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.randint(1, 2)))

    def digits(self, n: int) -> str:
        return str(self.rng.randint(10 ** (n - 1), 10 ** n - 1))

    def day(self, fmt: str = "%Y-%m-%d") -> str:
        return self.date.strftime(fmt)

    def clock(self) -> str:
        return f"{self.rng.randint(7, 22):02d}:{self.rng.randint(0, 59):02d}:{self.rng.randint(0, 59):02d}"

    def pages(self) -> int:
        chars = sum(len(p) for s in self.speeches for p in s.paragraphs)
        return max(2, chars // 900 + 1)

    def keywords(self) -> str:
        words = re.findall(r"教育局|讲话|工作|会议|教育|双减|开学|安全|表彰|督导|党风廉政", self.title)
        return " ".join(dict.fromkeys(words)) or "讲话"


Item = tuple[str, str]  # (role, text)


def bp(*texts: str) -> list[Item]:
    return [(BOILER, t) if t else (BLANK, "") for t in texts]


class SiteTemplate:
    """A site's boilerplate: head and tail lines, lines between pieces, lines
    dropped between paragraphs, a block dropped once mid-page, spans dropped
    inside sentences. Subclasses fill in what their site prints."""

    name = ""
    family = ""
    known = True
    layouts: tuple[str, ...] = ("lines",)
    interlude_rate = 0.0            # chance of an interlude before each paragraph
    span_rate = 0.0                 # chance of a span in each paragraph (up to MAX_SPANS)
    span_after_punctuation = False  # spans go after a sentence mark, else between two Han characters
    has_midblock = False            # a block dropped once in the middle of the page

    def head(self, ctx: PageContext) -> list[Item]:
        return [(ctx.title_role, ctx.title)]

    def tail(self, ctx: PageContext) -> list[Item]:
        return []

    def between(self, ctx: PageContext) -> list[Item]:
        return []

    def interlude(self, ctx: PageContext) -> list[Item]:
        return []

    def midblock(self, ctx: PageContext) -> list[Item]:
        return []

    def span(self, ctx: PageContext) -> str:
        return ""


class DocShare(SiteTemplate):
    name, family = "docshare", "share"
    layouts = ("preview", "preview", "lines")
    interlude_rate = 0.12

    def head(self, ctx):
        n, title = ctx.pages(), ctx.title
        rng = ctx.rng
        items = [(PAGE_TITLE, title), (BLANK, "")]
        items += bp(f"上传人:{rng.choice(SURNAMES)}** 文档编号:{ctx.digits(9)} 上传时间:{ctx.day()} "
                    f"格式:{rng.choice(['DOC', 'DOCX', 'PDF'])} 页数:{n} "
                    f"大小:{rng.randint(12, 96)}.{ctx.digits(2)}KB",
                    "返回 下载 相关 举报")
        for k in range(1, min(n, 5) + 1):
            items += bp(f"{title}_第{k}页", f"第{k}页 / 共{n}页")
        items += bp("点击查看更多>>", "资源描述", "",
                    f"《{title}》由会员分享,可在线阅读,更多相关《{title}({n}页珍藏版)》请在金锄头文库上搜索。", "")
        if ctx.layout == "lines":
            items.append((TITLE, title))
        return items

    def interlude(self, ctx):
        n = ctx.pages()
        k = ctx.rng.randint(2, n)
        return bp(f"{ctx.title}_第{k}页", f"第{k}页 / 共{n}页")

    def tail(self, ctx):
        rng, n = ctx.rng, ctx.pages()
        items = [(BLANK, "")]
        if rng.random() < 0.6:
            items += bp(f"还剩{rng.randint(1, n)}页未读，继续阅读")
        if rng.random() < 0.5:
            items += bp("下载文档到电脑，查找使用更方便", f"{rng.randint(5, 40)} 积分", "下载")
        if rng.random() < 0.4:
            items += bp("本文档由用户上传，如有侵权请联系删除")
        items += bp("展开阅读全文", "相关资源")
        items += bp(*[f"{t}({rng.randint(2, 30)}页)" for t in ctx.others[:rng.randint(0, 3)]])
        items += bp("相关搜索", "", f"当前位置:首页 > {rng.choice(['行业资料', '办公文档', '党政司法'])} > "
                    f"{rng.choice(['国内外标准规范', '工作范文', '讲话致辞'])}", "",
                    "电脑版 |金锄头文库版权所有",
                    f"经营许可证:蜀ICP备{ctx.digits(8)}号 | 川公网安备 {ctx.digits(14)}号")
        return items


class EssayEditor(SiteTemplate):
    """An essay site like the seed 002: time and source, a 小编 intro, tag line."""

    name, family = "essay-editor", "essay"
    layouts = ("blank-lines", "blank-lines", "multi-piece")

    def head(self, ctx):
        rng = ctx.rng
        many = len(ctx.speeches)
        what = ctx.title if many == 1 else f"{ctx.title}{many}篇"
        items = [(PAGE_TITLE, ctx.title), (BLANK, "")]
        items += bp(f"时间:{ctx.day()} {ctx.clock()} 来源:{rng.choice(['网友投稿', '用户投稿', '会员上传'])}", "")
        intro = f"下面是小编为大家整理的{what},供大家参考。"
        if rng.random() < 0.3:
            intro = f"下面是小编为大家整理的{what},希望对大家有所帮助。欢迎阅读!"
        items += bp(intro, "")
        if rng.random() < 0.3:
            items += bp("以下内容仅供参考，欢迎阅读。", "")
        if many == 1:
            items.append((TITLE, ctx.title))
            items.append((BLANK, ""))
        return items

    def tail(self, ctx):
        return bp("", f"推荐访问:{ctx.keywords()} {ctx.title}")


class EssayPieces(SiteTemplate):
    """An essay site like the seeds 000 and 003: a cut-off echo of the page's
    start, an intro, 看过…的人还看了 between pieces, a watermark in sentences."""

    name, family = "essay-pieces", "essay"
    layouts = ("multi-piece", "multi-piece", "lines")
    span_rate = 0.05
    INTROS = (
        "无论是身处学校还是步入社会，大家都尝试过写作吧，借助写作也可以提高我们的语言组织能力。"
        "下面我给大家整理了一些优秀范文，希望能够帮助到大家，我们一起来看一看吧。",
        "说话就是说话声明谈话，或演讲和流行作品。 以下是为大家整理的关于{title}的文章{n}篇 ,欢迎品鉴！",
        "以下是本站为大家整理的{title}，仅供参考，欢迎阅读。",
    )

    def head(self, ctx):
        rng = ctx.rng
        intro = rng.choice(self.INTROS).format(title=ctx.title, n=len(ctx.speeches))
        title = [(TITLE, ctx.title)] if len(ctx.speeches) == 1 else []
        following = [intro] + [t for _, t in title] + ctx.body_texts[:4]
        echo = "".join(_WS.sub("", t) for t in following)[:len(intro) + rng.randint(6, 30)]
        return bp(" " + echo + rng.choice(["...", "…"]), intro) + title

    def between(self, ctx):
        rng = ctx.rng
        if rng.random() < 0.5:
            return []
        return bp(f"看过{ctx.title}的人还看了：", *ctx.others[:rng.randint(0, 2)])

    def tail(self, ctx):
        rng = ctx.rng
        items = bp(f"看过{ctx.title}的人还看了：", *ctx.others[:rng.randint(2, 4)])
        if rng.random() < 0.5:
            items += bp(f"标签：{ctx.keywords()}")
        return items

    def span(self, ctx):
        return "本资料权属文秘资源网放上鼠标按照提示查看文秘资源网"


class NewsPortal(SiteTemplate):
    """A county education news portal: breadcrumb, article meta, editor,
    disclaimer, previous/next links, related list, footer, licences."""

    name, family = "news-portal", "portal"
    layouts = ("lines", "lines", "blank-lines")
    span_rate = 0.06
    SITE, DOMAIN = "清河教育信息网", "www.qhjyxx.com"

    def head(self, ctx):
        rng = ctx.rng
        crumb = rng.choice(["当前位置:首页 > 新闻中心 > 领导讲话", "您的位置：首页 > 教育动态 > 讲话材料",
                            "当前位置：首页>工作动态>领导讲话"])
        meta = rng.choice([
            f"来源:{self.SITE} 作者:{ctx.name()} 发布时间:{ctx.day()} {ctx.clock()[:5]} 浏览次数:{ctx.digits(4)}",
            f"发布时间：{ctx.day()}　来源：县教育局办公室　浏览次数：{ctx.digits(3)}",
            f"作者:{ctx.name()}　　来源:{self.SITE}　　日期:{ctx.day()}",
        ])
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return bp(crumb) + sep + [(ctx.title_role, ctx.title)] + sep + bp(meta) + sep

    def tail(self, ctx):
        rng = ctx.rng
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        items = sep + bp(f"责任编辑:{ctx.name()}")
        if rng.random() < 0.7:
            items += bp("【免责声明】本站部分文章来源于网络，仅供学习交流，如有侵权请联系删除。")
        if rng.random() < 0.5:
            items += bp(f"转载请注明出处：{self.SITE}")
        prev_next = ctx.others[:2]
        if len(prev_next) == 2:
            items += bp(f"上一篇:{prev_next[0]}", f"下一篇:{prev_next[1]}")
        items += bp(rng.choice(["相关文章", "相关阅读", "热门推荐"]), *ctx.others[2:2 + rng.randint(2, 4)])
        items += bp("手机版|关于我们|联系我们|网站地图",
                    f"Copyright © 2012-{ctx.date.year} {self.DOMAIN} 版权所有",
                    f"冀ICP备{ctx.digits(8)}号-{rng.randint(1, 3)}　冀公网安备 {ctx.digits(14)}号")
        return items

    def span(self, ctx):
        return ctx.rng.choice([self.DOMAIN, f"本文来自{self.SITE}", f"（{self.DOMAIN}）"])


class Forum(SiteTemplate):
    """A Discuz-style forum thread: view counts, post times, the 本帖最后由 line,
    anti-scraping jammer strings between sentences, reply and login prompts."""

    name, family = "forum", "forum"
    layouts = ("lines", "lines", "blank-lines")
    span_rate = 0.3
    span_after_punctuation = True
    FORUM = "杏坛教师论坛"
    JAMMER = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789$^*#@%+-=~_"

    def head(self, ctx):
        date = f"{ctx.date.year}-{ctx.date.month}-{ctx.date.day}"
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return ([(ctx.title_role, ctx.title)] + sep
                + bp(f"查看: {ctx.digits(4)}|回复: {ctx.rng.randint(0, 60)}",
                     f"发表于 {date} {ctx.clock()[:5]} | 只看该作者",
                     f"本帖最后由 {ctx.rng.choice(['jyj', 'tea', 'xz'])}{ctx.digits(4)} 于 {date} "
                     f"{ctx.rng.randint(7, 22)}:{ctx.rng.randint(0, 59):02d} 编辑") + sep)

    def tail(self, ctx):
        rng = ctx.rng
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return sep + bp("回复 使用道具 举报", "您需要登录后才可以回帖 登录 | 立即注册",
                        f"手机版|小黑屋|{self.FORUM}",
                        f"GMT+8, {ctx.day()} {ctx.clock()[:5]} , Processed in 0.0{ctx.digits(5)} second(s), "
                        f"{rng.randint(20, 60)} queries .",
                        "Powered by Discuz! X3.4", f"© 2001-{ctx.date.year} Comsenz Inc.")

    def span(self, ctx):
        rng = ctx.rng
        tokens = ["".join(rng.choices(self.JAMMER, k=rng.randint(1, 2))) for _ in range(rng.randint(3, 5))]
        return " " + " ".join(tokens) + " "


class Paywall(SiteTemplate):
    """A paid-document site: reading meta, a pay-to-read block mid-page, VIP prompts."""

    name, family = "paywall", "paywall"
    layouts = ("lines", "multi-piece")
    has_midblock = True
    SITE = "公文易文库"

    def head(self, ctx):
        return [(ctx.title_role, ctx.title)] + bp(
            f"{ctx.name()} 发布于 {ctx.day('%Y年%m月%d日')} · 阅读 {ctx.digits(4)} · 付费阅读")

    def midblock(self, ctx):
        rng = ctx.rng
        items = bp(f"剩余{rng.randint(40, 85)}%未读，登录后查看全文")
        if rng.random() < 0.7:
            items += bp("开通VIP，免费阅读全文")
        items += bp(f"付费阅读 ¥{rng.randint(2, 19)}.{rng.choice(['00', '50', '90'])} 立即购买")
        return items

    def tail(self, ctx):
        return bp("本文为付费内容，开通VIP会员后可查看全部内容", "登录 | 注册 | 开通VIP",
                  f"{self.SITE}版权所有")


class InkGarden(SiteTemplate):
    """Unseen: an invented essay site, 墨香文苑, whose phrases no rule targets."""

    name, family, known = "ink-garden", "unseen", False
    layouts = ("lines", "blank-lines", "multi-piece")
    interlude_rate = 0.05

    def head(self, ctx):
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return (bp("★ 墨香文苑 · 每日精选 ★", "文苑首页 ｜ 公文荟萃 ｜ 演讲精编 ｜ 读书札记 ｜ 墨香书单") + sep
                + [(ctx.title_role, ctx.title)] + sep
                + bp(f"第{ctx.rng.randint(100, 999)}期 · {ctx.day('%Y.%m.%d')} · 墨香值班室") + sep)

    def interlude(self, ctx):
        return bp("— 墨香文苑 · 好文共赏 —")

    def between(self, ctx):
        return bp("❀ 续篇精选 ❀")

    def tail(self, ctx):
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return sep + bp("～ 全文完 ～", "扫码关注「墨香文苑」获取更多好文",
                        "墨香文苑 mxwy.cn · 让每一篇文字都有归处",
                        f"本期共收录{len(ctx.speeches) + ctx.rng.randint(2, 9)}篇 · 累计{ctx.digits(5)}人次翻看")


class BrushField(SiteTemplate):
    """Unseen: an invented writing-material site, 笔耕园."""

    name, family, known = "brush-field", "unseen", False
    layouts = ("lines", "multi-piece", "blank-lines")
    interlude_rate = 0.04

    def head(self, ctx):
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return (bp("【笔耕园】公文写作素材库", f"写作指南 › 范文宝库 › 会议讲话 › {ctx.title}",
                   f"编号 BG-{ctx.digits(5)} ｜ 入库 {ctx.day('%Y/%m/%d')} ｜ 字数 {ctx.digits(4)}") + sep
                + [(ctx.title_role, ctx.title)] + sep)

    def interlude(self, ctx):
        return bp("◆◇◆ 笔耕园 · 精品范文 ◆◇◆")

    def between(self, ctx):
        return bp("▲ 笔耕园 · 续读 ▲")

    def tail(self, ctx):
        sep = [(BLANK, "")] if ctx.layout == "blank-lines" else []
        return sep + bp("—— 笔耕不辍，园中有你 ——", f"想看更多同类讲话稿？在笔耕园搜索「{ctx.title}」",
                        "笔耕园 ｜ 合作投稿 ｜ 意见反馈 ｜ 隐私条款", f"bgy.net.cn 2015-{ctx.date.year}")


TEMPLATES: tuple[SiteTemplate, ...] = (DocShare(), EssayEditor(), EssayPieces(), NewsPortal(),
                                       Forum(), Paywall(), InkGarden(), BrushField())
LAYOUTS = ("lines", "blank-lines", "preview", "multi-piece")


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

CONTEXT = 4  # characters kept on each side of an insertion


@dataclass
class Line:
    """A line being built, with its role and what was dropped into it."""

    role: str
    text: str
    spans: list[dict] = field(default_factory=list)      # boilerplate inside the line
    artifacts: list[dict] = field(default_factory=list)  # layout damage (page numbers, spaces)
    taken: list[tuple[int, int]] = field(default_factory=list)  # where insertions are

    def free(self, gaps: list[int]) -> list[int]:
        """The gaps that are neither inside an earlier insertion nor in its recorded context."""
        return [g for g in gaps if all(g < a - CONTEXT or g > b + CONTEXT for a, b in self.taken)]

    def insert(self, pos: int, piece: str) -> dict:
        """Drop ``piece`` at ``pos``; the record to undo it."""
        self.text, record = drop_into(self.text, pos, piece, CONTEXT)
        self.taken = [(a + len(piece), b + len(piece)) if a >= pos else (a, b) for a, b in self.taken]
        self.taken.append((pos, pos + len(piece)))
        return record


def han_gaps(text: str) -> list[int]:
    """Positions between two Han characters (where a word can be cut).

    >>> han_gaps("教育,工作")
    [1, 4]
    """
    return [i for i in range(1, len(text)) if _HAN.match(text[i - 1]) and _HAN.match(text[i])]


def sentence_gaps(text: str) -> list[int]:
    """Positions right after a comma or full stop followed by a Han character.

    >>> sentence_gaps("今天，我们开会。大家好")
    [3, 8]
    """
    return [i for i in range(1, len(text)) if text[i - 1] in "，。,；;" and _HAN.match(text[i])]


def drop_into(text: str, pos: int, piece: str, context: int = 4) -> tuple[str, dict]:
    """Insert ``piece`` at ``pos``; the record keeps a little context on each side
    so that the insertion can be found and undone.

    >>> drop_into("教育工作", 2, " 2 ")
    ('教育 2 工作', {'text': ' 2 ', 'left': '教育', 'right': '工作'})
    """
    record = {"text": piece, "left": text[max(0, pos - context):pos], "right": text[pos:pos + context]}
    return text[:pos] + piece + text[pos:], record


def undo_drop(text: str, record: dict) -> str:
    """Remove one recorded insertion from ``text`` (the first place it occurs).

    >>> undo_drop("教育 2 工作", {"text": " 2 ", "left": "教育", "right": "工作"})
    '教育工作'
    """
    whole = record["left"] + record["text"] + record["right"]
    if whole not in text:
        raise ValueError(f"recorded insertion {record['text']!r} not found")
    return text.replace(whole, record["left"] + record["right"], 1)


MAX_SPANS = 3


def add_spans(ctx: PageContext, template: SiteTemplate, line: Line) -> None:
    """Maybe drop the template's in-sentence boilerplate into a content line
    (each of up to ``MAX_SPANS`` times with the template's ``span_rate``)."""
    if template.span_rate <= 0 or len(line.text) < 30:
        return
    for _ in range(MAX_SPANS):
        if ctx.rng.random() >= template.span_rate:
            return
        gaps = sentence_gaps(line.text) if template.span_after_punctuation else han_gaps(line.text)
        gaps = line.free([g for g in gaps if 4 <= g <= len(line.text) - 4])
        if not gaps:
            return
        line.spans.append(line.insert(ctx.rng.choice(gaps), template.span(ctx)))


def break_paragraph(rng: random.Random, text: str) -> list[str]:
    """Lines of a blank-line-layout paragraph: sometimes broken after a
    semicolon, sometimes in mid-sentence (then "" marks a blank line between)."""
    if ";" in text and rng.random() < 0.35:
        parts, current = [], ""
        for piece in re.split(r"(?<=;)", text):
            current += piece
            if piece.endswith(";") and rng.random() < 0.6:
                parts.append(current)
                current = ""
        if current:
            parts.append(current)
        return parts
    if len(text) >= 80 and rng.random() < 0.06:
        gaps = [g for g in han_gaps(text) if len(text) // 3 <= g <= 2 * len(text) // 3]
        if gaps:
            g = rng.choice(gaps)
            return [text[:g], "", text[g:]] if rng.random() < 0.5 else [text[:g], text[g:]]
    return [text]


def render_speech(ctx: PageContext, template: SiteTemplate, speech: Speech,
                  blank_lines: bool, indent: str, midblock_at: int | None) -> list[Line]:
    """Lines of one speech after its title: subtitles, then paragraphs with
    interludes, the mid-page block (before paragraph ``midblock_at``) and spans."""
    rng = ctx.rng
    out: list[Line] = []
    for sub in speech.subtitles:
        if blank_lines:
            out += [Line(BLANK, ""), Line(SUBTITLE, half_width_punctuation(sub))]
        else:
            out.append(Line(SUBTITLE, indent + sub))

    def boiler(items: list[Item]) -> None:
        if blank_lines:
            out.append(Line(BLANK, ""))
        out.extend(Line(role, text) for role, text in items)

    for i, para in enumerate(speech.paragraphs):
        if i == midblock_at:
            boiler(template.midblock(ctx))
        elif i > 1 and template.interlude_rate and rng.random() < template.interlude_rate:
            boiler(template.interlude(ctx))
        if blank_lines:
            if out:
                out.append(Line(BLANK, ""))
            for part in break_paragraph(rng, half_width_punctuation(para)):
                out.append(Line(BLANK, "") if part == "" else Line(CONTENT, part))
        else:
            out.append(Line(CONTENT, indent + para))
        add_spans(ctx, template, out[-1])
    return out


def preview_chunks(ctx: PageContext, speech: Speech) -> list[Line]:
    """A document-share preview: the flattened text cut into numbered chunks,
    with page numbers dropped inside words and stray spaces inside words."""
    rng = ctx.rng
    # A space in the flattened text marks a paragraph break, so spaces after a
    # sentence inside a seed paragraph are dropped: a preview could not show them.
    flat = " ".join([speech.shown] + speech.subtitles
                    + [re.sub(r"(?<=[。！？；!?;])\s+", "", p) for p in speech.paragraphs])
    if rng.random() < 0.5:
        flat = half_width_punctuation(flat)
    lines: list[Line] = []
    start, page, next_page = 0, rng.randint(1, 2), rng.randint(700, 1300)
    while start < len(flat):
        size = rng.randint(300, 600)
        text = flat[start:start + size]
        line = Line(CONTENT, text)
        end = start + len(text)
        if end >= next_page and end < len(flat):
            gaps = [g for g in han_gaps(line.text) if g >= len(line.text) // 2]
            if gaps:
                record = line.insert(rng.choice(gaps), f" {page} ")
                line.artifacts.append({"kind": "page-number", **record})
            page += rng.choice([1, 1, 1, 2])
            next_page = end + rng.randint(700, 1300)
        if rng.random() < 0.3:
            gaps = line.free(han_gaps(line.text))
            if gaps:
                record = line.insert(rng.choice(gaps), " ")
                line.artifacts.append({"kind": "space", **record})
        number = f"{len(lines) // 2 + 1}、"
        line.text = number + line.text
        line.artifacts.append({"kind": "chunk-marker", "text": number})
        lines += [line, Line(BLANK, "")]
        start = end
    return lines[:-1]


def marker_lines(ctx: PageContext, style: str, k: int, speech: Speech, base: str) -> list[Line]:
    """The line(s) that open piece ``k`` (from 1) of a multi-piece page."""
    if style == "suffix":
        return [Line(MARKER, f"{base}篇{cn_numeral(k)}")]
    if style == "prefix":
        sep = ctx.rng.choice([": ", "：", "："])
        return [Line(MARKER, f"第{cn_numeral(k)}篇{sep}{speech.shown}")]
    return [Line(TITLE, speech.shown)]


def render_body(ctx: PageContext, template: SiteTemplate) -> list[Line]:
    rng = ctx.rng
    if ctx.layout == "preview":
        return preview_chunks(ctx, ctx.speeches[0])
    blank_lines = ctx.layout == "blank-lines"
    indent = "　　" if ctx.layout == "lines" and rng.random() < 0.25 else ""
    paywall = template.has_midblock
    if ctx.layout != "multi-piece":
        speech = ctx.speeches[0]
        n = len(speech.paragraphs)
        mid = rng.randint(n * 2 // 5, n * 3 // 4) if paywall else None
        return render_speech(ctx, template, speech, blank_lines, indent, mid)
    lines: list[Line] = []
    mid_piece = rng.randrange(len(ctx.speeches)) if paywall else -1
    for k, speech in enumerate(ctx.speeches, 1):
        if k > 1:
            lines += [Line(role, text) for role, text in template.between(ctx)]
        lines += marker_lines(ctx, ctx.style, k, speech, ctx.title)
        mid = rng.randint(1, max(1, len(speech.paragraphs) - 1)) if k - 1 == mid_piece else None
        lines += render_speech(ctx, template, speech, False, indent, mid)
    return lines


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------

@dataclass
class GeneratedPage:
    """One generated file: its name, its bytes, and its truth (a JSON-ready dict).

    The truth holds the template (``template``, ``family``, ``known``), the
    ``layout``, the ``encoding``, the ``speeches`` (title, subtitles,
    paragraphs), every inserted boilerplate line (``kind`` "line": ``text``,
    ``line``) and span (``kind`` "span": ``text`` with ``left``/``right``
    context, ``line``), the layout damage in ``artifacts`` (page numbers,
    spaces inside words, chunk markers), and ``roles``: one character per line
    of the page (" " blank, "b" boilerplate, "c" content, "t" speech title,
    "s" subtitle or date line, "p" page heading, "m" piece marker).
    """

    name: str
    data: bytes
    truth: dict


def build_page(index: int, template: SiteTemplate, layout: str, seed: int,
               runs: tuple[SeedRun, ...], salutations: tuple[str, ...]) -> GeneratedPage:
    """One page of ``template`` in ``layout``; a pure function of its arguments."""
    rng = random.Random(f"synth:{seed}:{index}")
    date = datetime(2016, 1, 1) + timedelta(days=rng.randint(0, 8 * 365))
    used: set[str] = set()
    multi = layout == "multi-piece"
    style = rng.choice(["suffix", "prefix", "title"]) if multi else ""
    n = rng.randint(2, 4) if multi else 1
    # A piece opened by its title alone needs its salutation right below it.
    speeches = [make_speech(rng, runs, salutations, used, date.year,
                            subtitle=not multi or (k == 0 and style != "title"),
                            salutation=style == "title") for k in range(n)]
    title = speech_title(rng, date.year) if multi else speeches[0].shown
    if style == "suffix":  # the pieces have no titles of their own: 标题篇一, 标题篇二…
        for speech in speeches:
            speech.title = speech.shown = title
    own = {s.title for s in speeches} | {title}
    others: list[str] = []
    while len(others) < 6:
        other = f"{rng.choice(ORGS)}在{rng.randint(2015, 2024)}年{rng.choice(MEETINGS)}上的讲话"
        if other not in own and other not in others:
            others.append(other)
    ctx = PageContext(rng, title, speeches, date, layout, others, style)
    body = render_body(ctx, template)
    ctx.body_texts = [line.text for line in body if line.role != BLANK]
    lines = [Line(role, text) for role, text in template.head(ctx)] + body
    lines += [Line(role, text) for role, text in template.tail(ctx)]
    lines = [line for i, line in enumerate(lines)
             if not (line.role == BLANK and (i == 0 or lines[i - 1].role == BLANK))]
    return finish_page(index, template, layout, rng, speeches, lines)


def finish_page(index: int, template: SiteTemplate, layout: str, rng: random.Random,
                speeches: list[Speech], lines: list[Line]) -> GeneratedPage:
    """Number the lines, record the truth, encode."""
    boilerplate, artifacts, roles = [], [], []
    for number, line in enumerate(lines, 1):
        roles.append(line.role)
        if line.role == BOILER:
            boilerplate.append({"kind": "line", "text": line.text, "line": number})
        boilerplate += [{"kind": "span", **span, "line": number} for span in line.spans]
        artifacts += [{**a, "line": number} for a in line.artifacts]
    text = "\n".join(line.text for line in lines) + "\n"
    encoding = "gb18030" if rng.random() < GB18030_SHARE else "utf-8"
    name = f"page_{index:04d}.txt"
    truth = {
        "file": name,
        "template": template.name,
        "family": template.family,
        "known": template.known,
        "layout": layout,
        "encoding": encoding,
        "speeches": [s.to_dict() for s in speeches],
        "boilerplate": boilerplate,
        "artifacts": artifacts,
        "roles": "".join(roles),
    }
    return GeneratedPage(name, text.encode(encoding), truth)


def template_schedule(seed: int, count: int) -> list[tuple[SiteTemplate, str]]:
    """Which template and layout each page gets: every template equally often
    (in shuffled rounds), each cycling through its own layouts."""
    rng = random.Random(f"synth-schedule:{seed}")
    seen = {t.name: 0 for t in TEMPLATES}
    out: list[tuple[SiteTemplate, str]] = []
    while len(out) < count:
        round_ = list(TEMPLATES)
        rng.shuffle(round_)
        for template in round_[:count - len(out)]:
            out.append((template, template.layouts[seen[template.name] % len(template.layouts)]))
            seen[template.name] += 1
    return out


def build_pages(seed: int = DEFAULT_SEED, pages: int = DEFAULT_PAGES,
                target_bytes: int | None = None, raw_dir: Path = RAW) -> list[GeneratedPage]:
    """``pages`` generated pages, or as many as it takes to reach ``target_bytes``."""
    runs, salutations = read_seed_runs(raw_dir), seed_salutations(raw_dir)
    if target_bytes is None:
        return [build_page(i, t, layout, seed, runs, salutations)
                for i, (t, layout) in enumerate(template_schedule(seed, pages), 1)]
    out: list[GeneratedPage] = []
    size, batch = 0, len(TEMPLATES) * 4
    while size < target_bytes:
        schedule = template_schedule(seed, len(out) + batch)[len(out):]
        for i, (t, layout) in enumerate(schedule, len(out) + 1):
            page = build_page(i, t, layout, seed, runs, salutations)
            out.append(page)
            size += len(page.data)
            if size >= target_bytes:
                break
    return out


def write_corpus(pages: list[GeneratedPage], out: Path) -> tuple[Path, Path]:
    """Write ``out/raw/<name>`` for every page and ``out/truth.jsonl``; return both paths.

    The raw folder holds only the pages, so it can be fed to ``cleaner run``:
    ``.txt`` files left there by an earlier, bigger corpus are removed.
    """
    raw_dir, truth_path = Path(out) / "raw", Path(out) / "truth.jsonl"
    raw_dir.mkdir(parents=True, exist_ok=True)
    names = {page.name for page in pages}
    for stale in raw_dir.glob("*.txt"):
        if stale.name not in names:
            stale.unlink()
    for page in pages:
        (raw_dir / page.name).write_bytes(page.data)
    truth_path.write_text("".join(json.dumps(p.truth, ensure_ascii=False) + "\n" for p in pages),
                          encoding="utf-8")
    return raw_dir, truth_path


def read_truth(path: Path) -> list[dict]:
    """The truth records written by :func:`write_corpus`."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth",
                                     description="Write generated dirty pages and their truth.")
    parser.add_argument("out", type=Path, help="folder to write raw/ and truth.jsonl into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES)
    parser.add_argument("--megabytes", type=float, help="generate until this size instead of --pages")
    args = parser.parse_args(argv)
    target = None if args.megabytes is None else int(args.megabytes * 1_000_000)
    pages = build_pages(args.seed, args.pages, target)
    raw_dir, truth_path = write_corpus(pages, args.out)
    size = sum(len(p.data) for p in pages)
    print(f"{len(pages)} pages, {size / 1e6:.2f} MB → {raw_dir}; truth → {truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
