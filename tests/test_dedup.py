"""Near-duplicate detection: planted copies are found, different text is not."""
from __future__ import annotations

import csv
import json

from cleaner.dedup import DedupSettings, find_duplicates, jaccard, paragraph_key, shingles
from cleaner.model import Page, Speech
from cleaner.pipeline import write_output

PARA = ("今天，我们召开2023年教育工作会议，主要任务是学习贯彻党的二十大和自治区教育工作会议精神，"
        "落实全盟教育工作会议要求，总结2022年工作所得成绩，谋划部署2023年全县教育重点工作。")
OTHER = ("办学条件进一步改善。完成2所幼儿园改扩建工程，4所学校校园硬化工程，7所学校校园消防改造工程全部完工，"
         "建设3所学校心理辅导站，2所学校运动场地改造已完成，第三幼儿园扩建项目已完成，待竣工验收。")
# A repost with small edits: one word changed, half-width punctuation, a year masked.
EDITED = PARA.replace("全盟", "全市").replace("，", ",").replace("2023年全县", "20xx年全县")


def test_planted_near_duplicate_is_reported_across_speeches():
    speeches = [("a#1", ["同志们：", PARA, OTHER]), ("b#1", ["同志们：", "谢谢大家！", EDITED])]
    clusters, stats = find_duplicates(speeches)
    assert len(clusters) == 1
    members = clusters[0].members
    assert [(m.doc, m.para, m.original) for m in members] == [("a#1", 1, True), ("b#1", 2, False)]
    expected = jaccard(shingles(paragraph_key(PARA), 5), shingles(paragraph_key(EDITED), 5))
    assert members[1].jaccard == round(expected, 4) >= DedupSettings().threshold
    assert stats["short"] == 3  # the salutations and thanks are not signed


def test_different_paragraphs_are_not_reported():
    clusters, stats = find_duplicates([("a#1", [PARA]), ("b#1", [OTHER])])
    assert clusters == []
    assert stats["verified_pairs"] == 0


def test_copies_inside_one_speech_are_not_cross_speech_duplicates():
    clusters, _ = find_duplicates([("a#1", [PARA, EDITED]), ("b#1", [OTHER])])
    assert clusters == []


def test_short_paragraphs_are_not_signed():
    short = "同志们，谢谢大家！"
    clusters, stats = find_duplicates([("a#1", [short]), ("b#1", [short])])
    assert clusters == [] and stats["signed"] == 0 and stats["short"] == 2


def test_three_copies_form_one_cluster_with_the_first_as_original():
    clusters, _ = find_duplicates([("c#1", [OTHER, PARA]), ("a#1", [EDITED]), ("b#1", [PARA])])
    assert len(clusters) == 1
    assert [m.doc for m in clusters[0].members] == ["c#1", "a#1", "b#1"]
    assert [m.original for m in clusters[0].members] == [True, False, False]


def test_key_ignores_width_punctuation_and_spaces_but_not_words():
    assert paragraph_key("同志们, 今天 开会!") == paragraph_key("同志们，今天开会！")
    assert paragraph_key("全县") != paragraph_key("全市")


def _page(source, speeches):
    return Page(source=source, sha256="0" * 64, size=1, encoding="utf-8", chars_in=100,
                speeches=[Speech(n, None, paras, 1) for n, paras in enumerate(speeches, 1)])


def test_duplicate_outputs_carry_the_contract_fields(tmp_path):
    pages = [_page("a.txt", [[PARA, OTHER]]), _page("b.txt", [["同志们：", EDITED]])]
    write_output(pages, tmp_path / "out", DedupSettings())
    rows = [json.loads(line) for line in (tmp_path / "out" / "duplicates.jsonl").open(encoding="utf-8")]
    assert len(rows) == 1
    row = rows[0]
    assert row["cluster"] == 1 and row["threshold"] == DedupSettings().threshold
    assert row["min_jaccard"] >= row["threshold"]
    assert [(m["doc"], m["para"], m["original"]) for m in row["members"]] == [
        ("a#1", 0, True), ("b#1", 1, False)]
    assert row["members"][1]["text"] == EDITED
    corpus = [json.loads(line) for line in (tmp_path / "out" / "corpus.jsonl").open(encoding="utf-8")]
    assert [r["duplicate_paras"] for r in corpus] == [[], [1]]
    with (tmp_path / "out" / "duplicates.csv").open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [(r["doc"], r["para"], r["original"]) for r in table] == [("a#1", "0", "yes"), ("b#1", "1", "")]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "## MinHash settings" in report and "| num_perm | 128 |" in report
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["dedup"]["threshold"] == DedupSettings().threshold
