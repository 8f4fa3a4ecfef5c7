"""report.html: one self-contained page, everything escaped, differences
highlighted exactly where the texts differ, caps announced, same bytes twice."""
from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.dedup import DedupSettings, find_duplicates
from cleaner.html_report import (
    CHAR_DIFF_CHARS,
    MEMBER_WEIGHT,
    STRETCH_DIFF_CHARS,
    PageLimits,
    SpeechInfo,
    clusters_to_show,
    diff_segments,
    render_diff,
    render_html,
    speech_infos,
)

FIRST = DedupSettings(keep="first")
BASES = [
    "今天，我们召开全县教育工作会议，主要任务是学习贯彻党的二十大精神，总结去年工作所得成绩，谋划部署今年全县教育重点工作，动员全县上下奋发进取。",
    "办学条件进一步改善。完成两所幼儿园改扩建工程，四所学校校园硬化工程，七所学校校园消防改造工程全部完工，第三幼儿园扩建项目已完成，待竣工验收。",
    "教师队伍建设不断加强。全年招聘新教师一百二十名，组织各级各类培训三千余人次，评选表彰优秀教师和优秀班主任各五十名，尊师重教的氛围日益浓厚。",
    "安全稳定形势持续向好。深入开展校园安全专项整治行动，排查整改隐患一百余处，健全学校安全风险防控体系，全年未发生重大安全责任事故，师生平安。",
    "教育教学质量稳步提升。高考本科上线率创历史新高，义务教育质量监测成绩位居全市前列，职业教育技能大赛获得省级奖项十二个，群众满意度明显提高。",
]
# Paragraphs of their own, so that copies do not make whole speeches
# duplicates: characters drawn at random (fixed seed), unlike one another.
_HAN = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定"
        "行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些"
        "然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月")
OWN = ["".join(random.Random(n).choices(_HAN, k=70)) + "。" for n in range(30)]


def speech(sid: str, paras: list[str]) -> tuple[str, list[str]]:
    return sid, paras


def infos(ids) -> dict[str, SpeechInfo]:
    return {sid: SpeechInfo(f"{sid.split('#')[0]}.txt", f"标题 {sid}", f"docs/{sid.replace('#', '.')}.txt")
            for sid in ids}


def corpus(sizes: list[int]) -> list[tuple[str, list[str]]]:
    """Base paragraph n copied into sizes[n] speeches (the first is the original),
    each copy with one character changed; every speech has a paragraph of its own."""
    out = []
    k = 0
    for n, size in enumerate(sizes):
        for copy in range(size):
            text = BASES[n] if copy == 0 else BASES[n][:20] + "甲乙丙丁戊己"[copy % 6] + BASES[n][21:]
            out.append(speech(f"s{k:02d}#1", [OWN[k], text]))
            k += 1
    return out


def render(speeches, settings=FIRST, limits=PageLimits()) -> str:
    result = find_duplicates(speeches, settings)
    return render_html(result, infos(sid for sid, _ in speeches), limits)


class Page(HTMLParser):
    """Tags with their attributes, and the text inside each class of element."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.script_text = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def member_bodies(page: str) -> list[str]:
    """The inner HTML of every member's text, in page order."""
    return re.findall(r'<div class="text">(.*?)</div>', page, flags=re.S)


def member_blocks(cluster: str) -> list[str]:
    """Each member of a cluster's HTML, from its opening tag."""
    starts = [m.start() for m in re.finditer(r'<div class="member( original)?">', cluster)]
    return [cluster[a:b] for a, b in zip(starts, [*starts[1:], len(cluster)])]


def strip_marks(body: str, keep: str) -> str:
    """The text of a highlighted body with one kind of mark removed and the other unwrapped."""
    drop = "del" if keep == "ins" else "ins"
    body = re.sub(rf"<{drop}>.*?</{drop}>", "", body, flags=re.S)
    return html.unescape(re.sub(rf"</?{keep}>", "", body))


# ---------------------------------------------------------------------------
# Differences
# ---------------------------------------------------------------------------

def test_changed_characters_are_inside_the_marks_and_the_rest_is_not():
    original = BASES[0]
    copy = original.replace("全县教育", "全市教育").replace("奋发进取", "团结奋进")
    page = render([speech("a#1", [OWN[0], original]), speech("b#1", [OWN[1], copy])])
    bodies = member_bodies(page)
    assert html.unescape(bodies[0]) == original  # the original is plain text
    body = bodies[1]
    assert re.findall(r"<ins>(.*?)</ins>", body) == ["市", "市", "团结"]
    assert re.findall(r"<del>(.*?)</del>", body) == ["县", "县", "发", "取"]
    unmarked = re.sub(r"<(ins|del)>.*?</\1>", "", body)
    assert unmarked == ("今天，我们召开全教育工作会议，主要任务是学习贯彻党的二十大精神，总结去年工作所得成绩，"
                        "谋划部署今年全教育重点工作，动员全县上下奋进。")
    # Unwrapping one kind of mark and removing the other gives back each text.
    assert strip_marks(body, keep="ins") == copy
    assert strip_marks(body, keep="del") == original


def test_width_changes_are_differences():
    assert diff_segments("同志们：大家好", "同志们:大家好") == [
        ("equal", "同志们"), ("delete", "："), ("insert", ":"), ("equal", "大家好")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab会议，<&\"'", max_size=30), st.text(alphabet="ab会议，<&\"'", max_size=30))
def test_diff_rebuilds_both_texts(a, b):
    segments = diff_segments(a, b)
    assert "".join(t for k, t in segments if k != "insert") == a
    assert "".join(t for k, t in segments if k != "delete") == b
    assert all(t for _, t in segments)
    body = render_diff(a, b)
    assert strip_marks(body, keep="ins") == b and strip_marks(body, keep="del") == a
    assert "<" not in re.sub(r"</?(ins|del)>", "", body)


def test_long_texts_line_up_clause_by_clause():
    original = "".join(BASES) * 3  # 1,000 characters: compared clause by clause first
    copy = original.replace("全县教育工作会议", "全市教育工作会议").replace("，", ",")
    assert len(original) + len(copy) > CHAR_DIFF_CHARS
    segments = diff_segments(original, copy)
    changed = [(k, t) for k, t in segments if k != "equal"]
    assert all(len(t) == 1 for _, t in changed)  # just the changed characters
    commas = original.count("，")
    assert Counter(t for k, t in changed if k == "delete") == Counter({"县": 3, "，": commas})
    assert Counter(t for k, t in changed if k == "insert") == Counter({"市": 3, ",": commas})
    assert "".join(t for k, t in segments if k != "insert") == original
    assert "".join(t for k, t in segments if k != "delete") == copy


def test_a_long_stretch_without_punctuation_is_not_highlighted():
    a = "".join(random.Random(1).choices(_HAN, k=STRETCH_DIFF_CHARS))
    b = a[:100] + "变" + a[101:]
    assert diff_segments(a, b) == [("equal", a[:100]), ("delete", a[100]), ("insert", "变"),
                                   ("equal", a[101:])]  # one change: the ends are trimmed
    b = "变" + a[1:-1] + "变"
    assert diff_segments(a, b) is None and render_diff(a, b) is None
    page = render([speech("a#1", [OWN[0], a]), speech("b#1", [OWN[1], b])])
    assert html.unescape(member_bodies(page)[1]) == b
    assert f"Not highlighted: it differs from the original over a stretch of more than {STRETCH_DIFF_CHARS}" in page


_CLAUSE = st.text(alphabet="ab会议的是<&", min_size=1, max_size=40).map(lambda t: t + "，")


@settings(max_examples=100, deadline=None)
@given(st.lists(_CLAUSE, min_size=10, max_size=40), st.data())
def test_long_diffs_rebuild_both_texts(clauses, data):
    original = "".join(clauses)
    edited = list(clauses)
    for _ in range(data.draw(st.integers(0, 5))):
        i = data.draw(st.integers(0, len(edited) - 1))
        edited[i] = data.draw(st.sampled_from([edited[i].replace("，", ","), "", edited[i] + "新"]))
    copy = "".join(edited)
    segments = diff_segments(original, copy)
    assert segments is not None
    assert "".join(t for k, t in segments if k != "insert") == original
    assert "".join(t for k, t in segments if k != "delete") == copy
    assert all(t for _, t in segments) and all(x[0] != y[0] for x, y in zip(segments, segments[1:]))


# ---------------------------------------------------------------------------
# Escaping and no network
# ---------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> & \'q\' <img src=x onerror=alert(1)> '


def test_everything_is_escaped():
    original = HOSTILE + BASES[0]
    copy = HOSTILE + BASES[0].replace("全县", "全市")
    speeches = [speech('a"<b>#1', [original]), speech("c&d#1", [copy, HOSTILE])]
    result = find_duplicates(speeches, FIRST)
    meta = {'a"<b>#1': SpeechInfo('raw/<x>"&.txt', HOSTILE, 'docs/a"<b>.1.txt'),
            "c&d#1": SpeechInfo("c&d.txt", None, "docs/c&d.1.txt")}
    page = render_html(result, meta)
    parsed = Page(page)
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert not any(t == "img" for t, _ in parsed.tags)
    assert not any(k.startswith("on") for _, attrs in parsed.tags for k in attrs)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "c&amp;d#1" in page and "raw/&lt;x&gt;&quot;&amp;.txt" in page
    # The copy's text survives escaping and highlighting intact.
    assert strip_marks(member_bodies(page)[1], keep="ins") == copy


def test_no_network_references():
    speeches = corpus([3, 2])
    speeches.append(speech("u#1", ["见 http://example.com/a.js 与 //cdn.example.com/x.css，" + BASES[4]]))
    meta = infos(sid for sid, _ in speeches)
    meta["s00#1"] = SpeechInfo("s00.txt", "t", "http://evil.example/x")
    meta["s01#1"] = SpeechInfo("s01.txt", "t", "//evil.example/x")
    page = render_html(find_duplicates(speeches, FIRST), meta)
    parsed = Page(page)
    assert not any(t in ("link", "iframe", "img", "object", "embed", "base") for t, _ in parsed.tags)
    assert all("src" not in attrs for _, attrs in parsed.tags)
    for tag, attrs in parsed.tags:
        for name in ("href", "src", "action", "data"):
            value = attrs.get(name)
            if value is not None:
                assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//|\\\\)", value, re.I), (tag, value)
    assert "url(" not in page and "@import" not in page
    script = "".join(parsed.script_text)
    assert "http" not in script and "fetch" not in script and "XMLHttpRequest" not in script


def test_doc_links_are_relative_and_encoded():
    speeches = [speech("a/b#1", [OWN[0], BASES[0]]), speech("c#1", [OWN[1], BASES[0]])]
    meta = {"a/b#1": SpeechInfo("a/b.txt", "甲", "docs/a/b 1#.1.txt"),
            "c#1": SpeechInfo("c.txt", "乙", "docs/c.1.txt")}
    page = render_html(find_duplicates(speeches, FIRST), meta)
    hrefs = [a["href"] for t, a in Page(page).tags if t == "a" and not a["href"].startswith("#")]
    assert "docs/a/b%201%23.1.txt" in hrefs and "docs/c.1.txt" in hrefs


# ---------------------------------------------------------------------------
# What the page shows
# ---------------------------------------------------------------------------

def test_members_with_where_they_come_from():
    speeches = [speech("x/a#1", [OWN[0], BASES[0]]), speech("x/b#2", [OWN[1], OWN[2], BASES[0][:30] + "市" + BASES[0][31:]])]
    result = find_duplicates(speeches, FIRST)
    copy = result.clusters[0].members[1]
    meta = {"x/a#1": SpeechInfo("x/a.txt", "原稿标题", "docs/x/a.1.txt"),
            "x/b#2": SpeechInfo("x/b.txt", None, "docs/x/b.2.txt")}
    page = render_html(result, meta)
    cluster = page.split('id="cluster-1"')[1].split("</section>")[0]
    first, second = member_blocks(cluster)
    assert first.startswith('<div class="member original">') and "original</span>" in first
    assert "原稿标题" in first and "x/a.txt" in first and "<code>x/a#1</code> para 1" in first
    assert 'href="docs/x/a.1.txt"' in first and "line 4" in first
    assert "(untitled)" in second and "<code>x/b#2</code> para 2" in second and "line 5" in second
    assert f"Jaccard {copy.jaccard:.3f}" in second
    assert "0-based" in page and "duplicates.jsonl" in page


def test_clusters_largest_first_then_by_number():
    speeches = corpus([2, 3, 2, 4])
    result = find_duplicates(speeches, FIRST)
    page = render_html(result, infos(sid for sid, _ in speeches))
    shown = [int(n) for n in re.findall(r'<section class="cluster" id="cluster-(\d+)"', page)]
    expected = [c.cluster for c in sorted(result.clusters, key=lambda c: (-len(c.members), c.cluster))]
    assert shown == expected and len(shown) == 4
    assert [len(result.clusters[n - 1].members) for n in shown] == [4, 3, 2, 2]


def test_summary_speech_duplicates_and_short_lines():
    text = BASES[1] + BASES[2]
    speeches = [
        speech("a#1", ["同志们：", BASES[1], BASES[2], "谢谢大家！"]),
        speech("b#1", ["同志们:", BASES[1], BASES[2].replace("五十名", "六十名")]),
        speech("c#1", [OWN[0], "谢谢大家！"]),
    ]
    result = find_duplicates(speeches, FIRST)
    assert result.speech_duplicates and result.short_groups and text
    page = render_html(result, infos(sid for sid, _ in speeches))
    summary = page.split('id="summary"')[1].split("</table>")[0]
    assert re.search(r"near-duplicate speeches</th><td class=\"num\">1<", summary)
    assert re.search(rf"paragraph clusters</th><td class=\"num\">{len(result.clusters)}<", summary)
    d = result.speech_duplicates[0]
    section = page.split('id="speeches"')[1].split("</table>")[0]
    assert f"<code>{d.doc}</code>" in section and f"<code>{d.duplicate_of}</code>" in section
    assert f"{d.share:.1%}" in section and "标题 b#1" in section and "a.txt" in section
    short = page.split('id="short"')[1]
    assert "同志们：" in short and "谢谢大家！" in short
    assert "<code>b#1</code> 0" in short and "<code>c#1</code> 1" in short
    assert "speech is a near-duplicate of a#1" in page
    assert f"threshold</th><td>{result.settings.threshold}<" in page


def test_empty_result_says_no_duplicates():
    speeches = [speech("a#1", [BASES[0]]), speech("b#1", [BASES[1]])]
    result = find_duplicates(speeches, FIRST)
    assert not result.clusters
    page = render_html(result, infos(["a#1", "b#1"]))
    assert "No duplicates found" in page and "No near-duplicate paragraphs" in page
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<section" not in page
    assert render_html(find_duplicates([], FIRST), {}).count("No duplicates found") == 1


def test_filter_box_appears_only_with_script():
    page = render(corpus([2, 2]))
    assert '<div id="filter-row" hidden>' in page and 'id="filter"' in page
    assert page.count(" data-filter>") == 2  # each cluster is filterable
    assert page.index("<script>") > page.rindex("</section>")  # runs after the content exists


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_filter_script_hides_what_does_not_match():
    page = render(corpus([2, 3, 2]))
    script = "".join(Page(page).script_text)
    clusters = re.findall(r'<section class="cluster" id="cluster-(\d+)" data-filter>(.*?)</section>', page, re.S)
    items = [{"id": n, "text": html.unescape(re.sub(r"<[^>]+>", "", body)), "cluster": True}
             for n, body in clusters]
    # A minimal DOM: just what the script touches.
    harness = """
const items = %s.map(d => ({id: d.id, textContent: d.text, hidden: false,
  classList: {contains: c => c === "cluster" && d.cluster}}));
const row = {hidden: true}, box = {value: "", handlers: [], addEventListener(e, f) { this.handlers.push(f); }};
const count = {textContent: ""};
global.document = {getElementById: id => ({"filter-row": row, filter: box, "filter-count": count})[id],
                   querySelectorAll: () => items};
%s
const out = {row: row.hidden};
for (const q of %s) { box.value = q; box.handlers.forEach(f => f());
  out[q] = [items.filter(i => !i.hidden).map(i => i.id), count.textContent]; }
console.log(JSON.stringify(out));
""" % (json.dumps(items), script, json.dumps(["", "教师队伍", "Ｓ０１", "s05#1   建设", "s05#1 办学", "不存在的话"]))
    done = subprocess.run(["node", "-e", harness], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    teachers = [n for n, body in clusters if "教师队伍" in body]
    assert out["row"] is False  # the box shows once the script runs
    assert out[""] == [[n for n, _ in clusters], ""]
    assert out["教师队伍"] == [teachers, f"1 of {len(clusters)} clusters match"]
    assert out["Ｓ０１"][0] == [n for n, body in clusters if "s01" in body]  # width and case folded
    assert out["s05#1   建设"][0] == teachers  # every term must match
    assert out["s05#1 办学"][0] == []
    assert out["不存在的话"] == [[], f"0 of {len(clusters)} clusters match"]


# ---------------------------------------------------------------------------
# Caps, determinism
# ---------------------------------------------------------------------------

def test_cluster_and_member_caps_are_announced():
    speeches = corpus([2, 5, 3, 2, 2])
    result = find_duplicates(speeches, FIRST)
    assert len(result.clusters) == 5
    page = render_html(result, infos(sid for sid, _ in speeches), PageLimits(clusters=2, members=3))
    shown = re.findall(r'<section class="cluster" id="cluster-(\d+)"', page)
    assert len(shown) == 2
    assert [len(result.clusters[int(n) - 1].members) for n in shown] == [5, 3]
    assert "Showing the 2 largest of 5 clusters (this page holds at most 2 clusters" in page
    assert "the other 3 (3 copies, none in a cluster of more than 2 members)" in page
    assert "duplicates.jsonl" in page
    big = page.split(f'id="cluster-{shown[0]}"')[1].split("</section>")[0]
    assert len(member_blocks(big)) == 3
    assert "2 more members of this cluster are not shown" in big
    small = page.split(f'id="cluster-{shown[1]}"')[1].split("</section>")[0]
    assert len(member_blocks(small)) == 3 and "more members" not in small
    full = render_html(result, infos(sid for sid, _ in speeches))
    assert "Showing the" not in full and "more members" not in full


def test_long_paragraphs_are_not_highlighted():
    speeches = corpus([2])
    result = find_duplicates(speeches, FIRST)
    n = len(BASES[0])
    capped = render_html(result, infos(sid for sid, _ in speeches), PageLimits(diff_chars=n - 1))
    assert "<ins>" not in "".join(member_bodies(capped))
    assert f"Not highlighted: longer than {n - 1} characters" in capped
    assert html.unescape(member_bodies(capped)[1]) == result.clusters[0].members[1].text
    full = render_html(result, infos(sid for sid, _ in speeches), PageLimits(diff_chars=n))
    assert "<ins>" in "".join(member_bodies(full)) and "Not highlighted" not in full


def test_bad_caps_are_rejected():
    for name in ("clusters", "members", "rows", "page_chars", "diff_chars"):
        with pytest.raises(ValueError, match=f"PageLimits.{name} must be a positive integer"):
            PageLimits(**{name: 0})


def test_same_input_same_bytes():
    speeches = corpus([3, 2, 4])
    first = render(speeches)
    assert render(speeches) == first
    assert render(list(speeches)) == first
    assert render(speeches, limits=PageLimits(clusters=1)) != first


def test_speech_infos_from_corpus_records():
    records = [{"id": "a#1", "source": "a.txt", "title": "甲", "doc": "docs/a.1.txt", "text": "x"},
               {"id": "a#2", "source": "a.txt", "title": None, "doc": "docs/a.2.txt", "text": "y"}]
    assert speech_infos(records) == {"a#1": SpeechInfo("a.txt", "甲", "docs/a.1.txt"),
                                     "a#2": SpeechInfo("a.txt", None, "docs/a.2.txt")}


def test_page_weight_stops_the_clusters_and_says_so():
    speeches = corpus([4, 3, 2])
    result = find_duplicates(speeches, FIRST)
    ordered = sorted(result.clusters, key=lambda c: (-len(c.members), c.cluster))
    weights = [sum(len(m.text) + MEMBER_WEIGHT for m in c.members) for c in ordered]
    limits = PageLimits(page_chars=weights[0] + weights[1])
    shown, total = clusters_to_show(result.clusters, limits)
    assert shown == ordered[:2] and total == 3
    page = render_html(result, infos(sid for sid, _ in speeches), limits)
    assert len(re.findall(r'<section class="cluster"', page)) == 2
    assert "Showing the 2 largest of 3 clusters" in page and f"about {limits.page_chars} characters" in page
    # The first cluster is shown even when it alone is over the weight.
    assert clusters_to_show(result.clusters, PageLimits(page_chars=1))[0] == ordered[:1]
    assert clusters_to_show(result.clusters, PageLimits(page_chars=sum(weights)))[0] == ordered
