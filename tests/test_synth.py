"""The generator of dirty test pages (benchmarks/synth.py) and the cleaning scorer
(benchmarks/eval_cleaning.py): determinism, truth that matches the pages, and
scores that are right on hand-made cases. None of this needs the cleaner to be good."""
from __future__ import annotations

import doctest
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a package at the project root
    sys.path.insert(0, str(ROOT))

from benchmarks import eval_cleaning as ev  # noqa: E402
from benchmarks import synth  # noqa: E402

SMALL = 40  # pages for the quick checks: five rounds of the eight templates


@pytest.fixture(scope="module")
def pages():
    return synth.build_pages(seed=0)


def digest(generated) -> str:
    h = hashlib.sha256()
    for page in generated:
        h.update(page.name.encode() + b"\0" + page.data + b"\0")
        h.update(json.dumps(page.truth, ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()


# --- the doctests of the two modules (pytest collects only cleaner/ and tests/)

@pytest.mark.parametrize("module", [synth, ev], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


# --- determinism

def test_same_seed_same_bytes():
    assert digest(synth.build_pages(seed=7, pages=SMALL)) == digest(synth.build_pages(seed=7, pages=SMALL))


def test_other_seed_other_pages():
    a, b = synth.build_pages(seed=1, pages=16), synth.build_pages(seed=2, pages=16)
    assert [p.data for p in a] != [p.data for p in b]


def test_same_bytes_in_another_process(tmp_path):
    """Nothing depends on hash randomization or on the process."""
    code = ("import hashlib, sys; from pathlib import Path; from benchmarks import synth; "
            "synth.write_corpus(synth.build_pages(seed=3, pages=16), Path(sys.argv[1]))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, env=env, check=True)
    here = synth.build_pages(seed=3, pages=16)
    for page in here:
        assert (tmp_path / "raw" / page.name).read_bytes() == page.data
    assert synth.read_truth(tmp_path / "truth.jsonl") == [p.truth for p in here]


def test_pages_are_a_prefix_of_a_bigger_corpus():
    small, big = synth.build_pages(seed=0, pages=12), synth.build_pages(seed=0, pages=30)
    assert [p.data for p in small] == [p.data for p in big[:12]]


def test_target_size():
    generated = synth.build_pages(seed=0, target_bytes=300_000)
    size = sum(len(p.data) for p in generated)
    assert size >= 300_000 and size - len(generated[-1].data) < 300_000


# --- the written corpus

def test_write_corpus_keeps_truth_out_of_raw(tmp_path):
    generated = synth.build_pages(seed=0, pages=10)
    raw_dir, truth_path = synth.write_corpus(generated, tmp_path)
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(p.name for p in generated)
    assert all(p.suffix == ".txt" for p in raw_dir.iterdir())
    assert truth_path.parent == tmp_path
    assert synth.read_truth(truth_path) == [p.truth for p in generated]
    synth.write_corpus(generated[:4], tmp_path)  # a smaller corpus in the same place
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(p.name for p in generated[:4])


# --- the truth matches the pages

def undo_insertions(lines: list[str], truth: dict) -> list[str]:
    """The page's lines with every recorded span and layout artifact taken out again."""
    lines = list(lines)
    recorded = [item for item in truth["boilerplate"] if item["kind"] == "span"] + truth["artifacts"]
    # Undo in the reverse order of insertion: artifacts (added last) first, the
    # latest insertion in a line first.
    for item in reversed(recorded):
        i = item["line"] - 1
        if item["kind"] == "chunk-marker":
            assert lines[i].startswith(item["text"])
            lines[i] = lines[i][len(item["text"]):]
        else:
            lines[i] = synth.undo_drop(lines[i], item)
    return lines


def page_lines(page) -> list[str]:
    text = page.data.decode(page.truth["encoding"])
    assert text.endswith("\n")
    return text[:-1].split("\n")


def test_roles_cover_every_line(pages):
    for page in pages:
        lines = page_lines(page)
        roles = page.truth["roles"]
        assert len(roles) == len(lines), page.name
        for line, role in zip(lines, roles):
            assert (role == synth.BLANK) == (line.strip() == ""), (page.name, line)


def test_every_boilerplate_line_is_in_its_page(pages):
    for page in pages:
        lines = page_lines(page)
        for item in page.truth["boilerplate"]:
            if item["kind"] == "line":
                assert lines[item["line"] - 1] == item["text"], (page.name, item)
                assert page.truth["roles"][item["line"] - 1] == synth.BOILER
            else:
                whole = item["left"] + item["text"] + item["right"]
                assert whole in lines[item["line"] - 1], (page.name, item)


def test_content_lines_give_back_the_truth(pages):
    """With spans and artifacts taken out, the content lines are exactly the
    truth's subtitles and paragraphs (modulo width and spacing); a preview
    starts with the title."""
    for page in pages:
        lines = undo_insertions(page_lines(page), page.truth)
        content = "".join(synth.text_key(line) for line, role in zip(lines, page.truth["roles"])
                          if role in (synth.CONTENT, synth.SUBTITLE))
        expected = "".join(synth.text_key(t) for s in page.truth["speeches"]
                           for t in s["subtitles"] + s["paragraphs"])
        if page.truth["layout"] == "preview":
            title = synth.text_key(page.truth["speeches"][0]["title"])
            assert content.endswith(expected) and content.startswith(title), page.name
            assert len(content) - len(expected) <= len(title) + len("范文")
        else:
            assert content == expected, page.name


def test_titles_are_on_their_pages(pages):
    for page in pages:
        text = synth.text_key(page.data.decode(page.truth["encoding"]))
        for speech in page.truth["speeches"]:
            assert synth.text_key(speech["title"]) in text


def test_no_paragraph_twice_on_a_page(pages):
    for page in pages:
        keys = [synth.text_key(p) for s in page.truth["speeches"] for p in s["paragraphs"]
                if not synth.is_salutation_line(p)]
        assert len(keys) == len(set(keys)), page.name


def test_multi_piece_pages_have_two_to_four_speeches(pages):
    for page in pages:
        n = len(page.truth["speeches"])
        assert (2 <= n <= 4) if page.truth["layout"] == "multi-piece" else n == 1


def test_speeches_have_enough_paragraphs(pages):
    sizes = [len(s["paragraphs"]) for p in pages for s in p.truth["speeches"]]
    assert min(sizes) >= 4 and Counter(n >= 8 for n in sizes)[True] > 0.8 * len(sizes)


# --- coverage of templates, layouts, encodings

def test_layouts_and_templates_present(pages):
    layouts = Counter(p.truth["layout"] for p in pages)
    assert set(layouts) == set(synth.LAYOUTS)
    templates = Counter(p.truth["template"] for p in pages)
    assert set(templates) == {t.name for t in synth.TEMPLATES}
    known = {p.truth["template"] for p in pages if p.truth["known"]}
    unseen = {p.truth["template"] for p in pages if not p.truth["known"]}
    assert len(known) >= 6 and len(unseen) >= 2


def test_unseen_templates_on_enough_pages(pages):
    unseen = Counter(p.truth["template"] for p in pages if not p.truth["known"])
    assert unseen and min(unseen.values()) >= 15


def test_some_pages_in_gb18030(pages):
    encodings = Counter(p.truth["encoding"] for p in pages)
    assert encodings["gb18030"] > 0 and encodings["utf-8"] > encodings["gb18030"]


def test_preview_pages_carry_page_numbers_and_chunks(pages):
    previews = [p for p in pages if p.truth["layout"] == "preview"]
    kinds = Counter(a["kind"] for p in previews for a in p.truth["artifacts"])
    assert kinds["page-number"] > 0 and kinds["chunk-marker"] > 0 and kinds["space"] > 0
    for page in previews:
        numbered = [line for line in page_lines(page) if re.match(r"^\d+、", line)]
        assert [int(line.split("、")[0]) for line in numbered] == list(range(1, len(numbered) + 1))


def test_blank_line_pages_use_half_width_punctuation(pages):
    checked = 0
    for page in pages:
        if page.truth["layout"] != "blank-lines":
            continue
        lines = page_lines(page)
        roles = page.truth["roles"]
        content = [line for line, role in zip(lines, roles) if role == synth.CONTENT]
        assert not any(ch in line for line in content for ch in "，：；（）"), page.name
        # paragraphs stand between blank lines, most of the time
        gaps = sum(1 for a, b in zip(roles, roles[1:]) if a == b == synth.CONTENT)
        assert gaps < roles.count(synth.CONTENT) / 2
        checked += 1
    assert checked


# Phrases of the boilerplate families the rules are written for.
FAMILY_PHRASES = ("版权", "ICP", "公网安备", "来源", "小编", "登录", "VIP", "付费", "下载", "举报",
                  "相关", "推荐", "当前位置", "编辑", "免责", "转载", "上一篇", "下一篇", "手机版",
                  "关于我们", "联系我们", "网站地图", "阅读全文", "欢迎", "参考", "标签", "©",
                  "Copyright", "会员", "上传", "积分", "整理", "看过", "浏览", "发布", "作者")


def test_unseen_templates_avoid_family_phrases(pages):
    for page in pages:
        if page.truth["known"]:
            continue
        for item in page.truth["boilerplate"]:
            hits = [w for w in FAMILY_PHRASES if w.lower() in item["text"].lower()]
            assert not hits, (page.truth["template"], item["text"], hits)


def test_known_templates_vary_digits_and_dates(pages):
    """A template's lines differ from page to page, not only its title."""
    lines = Counter(item["text"] for p in pages if p.truth["template"] == "docshare"
                    for item in p.truth["boilerplate"] if item["kind"] == "line")
    banner = [t for t in lines if t.startswith("上传人")]
    assert len(banner) == len(set(banner)) > 10


# --- the seed pool

def test_seed_runs_come_from_several_seeds_and_skip_the_preview():
    runs = synth.read_seed_runs()
    sources = {r.source for r in runs}
    assert len(sources) >= 3
    assert not any(synth.is_preview((synth.RAW / s).read_text(encoding="utf-8")) for s in sources)
    for run in runs:
        assert all(synth.is_body_paragraph(p) for p in run.paragraphs)


def test_seed_pool_has_no_boilerplate():
    for run in synth.read_seed_runs():
        for para in run.paragraphs:
            assert "小编" not in para and "本资料权属" not in para and not para.startswith(">")


# --- the scorer on hand-made cases

TRUTH = {
    "file": "a.txt", "template": "t", "known": True, "layout": "lines",
    "speeches": [
        {"title": "在全县教育工作会议上的讲话", "subtitles": ["——在2023年全县教育工作会议上"],
         "paragraphs": ["同志们：", "今天，我们召开全县教育工作会议。", "一、统一思想，提高认识",
                        "要把教育摆在优先发展的战略位置，切实加强领导。"]},
    ],
    "boilerplate": [
        {"kind": "line", "text": "时间:2023-11-29 14:13:01 来源:网友投稿", "line": 2},
        {"kind": "line", "text": "下载", "line": 3},
        {"kind": "span", "text": " 5 V$ ^7 X- ", "left": "工作会议。", "right": "", "line": 6},
    ],
    "artifacts": [],
    "roles": "tbbscccc",
}


def record(paragraphs, title="在全县教育工作会议上的讲话", subtitles=("——在2023年全县教育工作会议上",),
           n=1):
    return {"source": "a.txt", "n": n, "title": title, "subtitles": list(subtitles),
            "text": "\n".join(paragraphs)}


def test_perfect_output_scores_full():
    # Normalized width and spacing cost nothing.
    out = [record(["同志们:", "今天,我们召开全县教育工作会议。", "一、统一思想, 提高认识",
                   "要把教育摆在优先发展的战略位置,切实加强领导。"])]
    s = ev.score_file(TRUTH, out)
    assert (s.removed, s.boilerplate) == (3, 3)
    assert s.kept == s.content > 0
    assert s.whole == s.paragraphs == 4
    assert s.speeches_ok and s.titles_ok


def test_missing_paragraph_scores_lower():
    out = [record(["同志们：", "今天，我们召开全县教育工作会议。", "一、统一思想，提高认识"])]
    s = ev.score_file(TRUTH, out)
    assert s.kept < s.content and s.whole == 3 and s.broken == ["要把教育摆在优先发展的战略位置，切实加强领导。"]


def test_broken_paragraph_keeps_characters_but_is_not_whole():
    out = [record(["同志们：", "今天，我们召开全县", "教育工作会议。", "一、统一思想，提高认识",
                   "要把教育摆在优先发展的战略位置，切实加强领导。"])]
    s = ev.score_file(TRUTH, out)
    assert s.kept == s.content and s.whole == 3


def test_surviving_boilerplate_is_counted():
    out = [record(["时间:2023-11-29 14:13:01 来源:网友投稿", "同志们：",
                   "今天，我们召开全县教育工作会议。 5 V$ ^7 X- ", "一、统一思想，提高认识",
                   "要把教育摆在优先发展的战略位置，切实加强领导。", "下载"])]
    s = ev.score_file(TRUTH, out)
    assert s.removed == 0 and len(s.survivors) == 3
    assert s.kept == s.content  # the truth's characters are all there


def test_short_boilerplate_inside_content_is_not_a_survivor():
    truth = json.loads(json.dumps(TRUTH))
    truth["speeches"][0]["paragraphs"][3] = "要把教育摆在优先位置，下载资料要及时。"
    out = [record(["同志们：", "今天，我们召开全县教育工作会议。", "一、统一思想，提高认识",
                   "要把教育摆在优先位置，下载资料要及时。"])]
    assert ev.score_file(truth, out).removed == 3


def test_boilerplate_glued_to_content_survives():
    out = [record(["同志们：", "今天，我们召开全县教育工作会议。", "一、统一思想，提高认识",
                   "要把教育摆在优先发展的战略位置，切实加强领导。时间:2023-11-29 14:13:01 来源:网友投稿"])]
    s = ev.score_file(TRUTH, out)
    assert s.survivors == ["时间:2023-11-29 14:13:01 来源:网友投稿"]


def test_wrong_speech_count_and_titles():
    paragraphs = ["同志们：", "今天，我们召开全县教育工作会议。", "一、统一思想，提高认识",
                  "要把教育摆在优先发展的战略位置，切实加强领导。"]
    split = ev.score_file(TRUTH, [record(paragraphs[:2]), record(paragraphs[2:], title=None, n=2)])
    assert not split.speeches_ok and not split.titles_ok and split.kept == split.content
    retitled = ev.score_file(TRUTH, [record(paragraphs, title="讲话")])
    assert retitled.speeches_ok and not retitled.titles_ok
    no_subtitle = ev.score_file(TRUTH, [record(paragraphs, subtitles=())])
    assert no_subtitle.speeches_ok and not no_subtitle.titles_ok


def test_missing_file_loses_everything():
    s = ev.score_file(TRUTH, [])
    assert s.kept == 0 and s.whole == 0 and s.speeches_out == 0 and s.removed == s.boilerplate


def oracle_records(truth: dict) -> list[dict]:
    """What a perfect cleaner would write for a generated page."""
    return [{"source": truth["file"], "n": n, "title": s["title"], "subtitles": s["subtitles"],
             "text": "\n".join(synth.half_width_punctuation(p) for p in s["paragraphs"])}
            for n, s in enumerate(truth["speeches"], 1)]


def test_oracle_output_reaches_every_bar(pages):
    scores = [ev.score_file(p.truth, oracle_records(p.truth)) for p in pages]
    assert all(s.removed == s.boilerplate and s.kept == s.content and s.whole == s.paragraphs
               and s.titles_ok for s in scores)
    results = ev.bar_results(scores)
    assert all(ok for bars in results.values() for _, _, ok in bars.values())
    table = ev.render_table(scores)
    assert "FAIL" not in table and "known" in table and "unseen" in table


def test_raw_pages_as_output_fail_the_bars(pages):
    """Feeding the dirty lines back as the output must not pass."""
    scores = []
    for p in pages:
        lines = [line for line in p.data.decode(p.truth["encoding"]).split("\n") if line.strip()]
        scores.append(ev.score_file(p.truth, [{"source": p.truth["file"], "n": 1, "title": None,
                                               "text": "\n".join(lines)}]))
    results = ev.bar_results(scores)
    assert not results["known"]["boilerplate"][2] and not results["unseen"]["boilerplate"][2]
    assert not results["known"]["speeches"][2]
    assert ev.render_worst(scores)


def test_content_removals_name_the_rule():
    removed = [
        {"source": "a.txt", "line": 2, "stage": "strip", "rule": "essay.time-source", "action": "drop_line",
         "text": "时间:2023-11-29 14:13:01 来源:网友投稿"},
        {"source": "a.txt", "line": 7, "stage": "strip", "rule": "bad.rule", "action": "drop_line",
         "text": "一、统一思想，提高认识"},
        {"source": "a.txt", "line": 6, "stage": "strip", "rule": "forum.jammer", "action": "delete_span",
         "text": " 5 V$ ^7 X- "},
        {"source": "a.txt", "line": 6, "stage": "strip", "rule": "greedy.span", "action": "delete_span",
         "text": "我们召开"},
    ]
    assert ev.content_removals([TRUTH], removed) == Counter({"bad.rule": 1, "greedy.span": 1})


# --- end to end through the installed cleaner (scores are not asserted)

def test_bench_runs_the_cleaner(tmp_path, capsys):
    from benchmarks import bench_cleaning

    scores = bench_cleaning.evaluate(tmp_path, seed=0, pages=16, target_bytes=None)
    assert len(scores) == 16
    assert (tmp_path / "out" / "corpus.jsonl").exists()
    for s in scores:
        assert 0 <= s.removed <= s.boilerplate and 0 <= s.kept <= s.content
    assert "boilerplate removed" in capsys.readouterr().out
