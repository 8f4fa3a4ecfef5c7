"""Near-duplicate detection: planted copies are found, different text is not,
the banding is datasketch's, clusters are stars, speeches and keep policies
behave, the drop plan is safe, and the defaults meet the quality bar."""
from __future__ import annotations

import csv
import json
import random
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.dedup import (
    DEDUP_RULE,
    KNOWN_LSH_PARAMS,
    DedupSettings,
    SpeechMeta,
    band_keys,
    candidate_pairs,
    find_duplicates,
    jaccard,
    key_codes,
    keep_order,
    lsh_params,
    pair_jaccard,
    paragraph_key,
    paragraph_keys,
    paragraph_signatures,
    plan_drops,
    shingle_sets,
    shingles,
    signature_cache_key,
)
from cleaner.minhash import encode_token, lean_minhash, signatures, token_hash
from cleaner.model import Page, Speech
from cleaner.pipeline import write_output

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a package at the project root
    sys.path.insert(0, str(ROOT))

from benchmarks import reposts  # noqa: E402

PARA = ("今天，我们召开2023年教育工作会议，主要任务是学习贯彻党的二十大和自治区教育工作会议精神，"
        "落实全盟教育工作会议要求，总结2022年工作所得成绩，谋划部署2023年全县教育重点工作。")
OTHER = ("办学条件进一步改善。完成2所幼儿园改扩建工程，4所学校校园硬化工程，7所学校校园消防改造工程全部完工，"
         "建设3所学校心理辅导站，2所学校运动场地改造已完成，第三幼儿园扩建项目已完成，待竣工验收。")
THIRD = ("教师队伍建设不断加强。全年招聘新教师120名，组织各级各类培训3000余人次，评选表彰优秀教师和"
         "优秀班主任各50名，教师的职业幸福感和社会认同感明显增强，尊师重教的氛围日益浓厚。")
# A repost with small edits: one word changed, half-width punctuation, a year masked.
EDITED = PARA.replace("全盟", "全市").replace("，", ",").replace("2023年全县", "20xx年全县")
FIRST = DedupSettings(keep="first")


def key_jaccard(a: str, b: str, k: int = DedupSettings().shingle) -> float:
    return jaccard(shingles(paragraph_key(a), k), shingles(paragraph_key(b), k))


def han_blocks(n: int, size: int = 20, seed: int = 0) -> list[str]:
    """Blocks of random common Han characters: texts that share nothing by chance."""
    rng = random.Random(seed)
    return ["".join(chr(rng.randint(0x4E00, 0x8FFF)) for _ in range(size)) for _ in range(n)]


# ---------------------------------------------------------------------------
# Paragraph clusters
# ---------------------------------------------------------------------------

def test_planted_near_duplicate_is_reported_across_speeches():
    speeches = [("a#1", ["同志们：", PARA, OTHER]), ("b#1", ["同志们：", "谢谢大家！", EDITED])]
    result = find_duplicates(speeches)
    assert len(result.clusters) == 1
    members = result.clusters[0].members
    assert [(m.doc, m.para, m.original) for m in members] == [("a#1", 1, True), ("b#1", 2, False)]
    assert members[1].jaccard == round(key_jaccard(PARA, EDITED), 4) >= DedupSettings().threshold
    assert result.stats["short"] == 3 and result.stats["signed"] == 3


def test_result_unpacks_as_clusters_and_stats():
    clusters, stats = find_duplicates([("a#1", [PARA]), ("b#1", [EDITED])])
    assert len(clusters) == 1 and stats["clusters"] == 1


def test_different_paragraphs_are_not_reported():
    result = find_duplicates([("a#1", [PARA]), ("b#1", [OTHER])])
    assert result.clusters == () and result.stats["verified_pairs"] == 0


def test_copies_inside_one_speech_are_not_cross_speech_duplicates():
    result = find_duplicates([("a#1", [PARA, EDITED, PARA]), ("b#1", [OTHER])])
    assert result.clusters == () and result.short_groups == ()


def test_exact_copies_are_signed_once():
    calls = []

    def sign(keys):
        calls.append(list(keys))
        return paragraph_signatures(keys, DedupSettings())

    result = find_duplicates([("a#1", [PARA, OTHER]), ("b#1", [PARA]), ("c#1", [PARA + " "])], sign=sign)
    assert sorted(k for batch in calls for k in batch) == sorted({paragraph_key(PARA), paragraph_key(OTHER)})
    assert [(m.doc, m.jaccard) for m in result.clusters[0].members] == [
        ("a#1", 1.0), ("b#1", 1.0), ("c#1", 1.0)]


def test_sign_must_return_one_row_per_key():
    with pytest.raises(ValueError, match="shape"):
        find_duplicates([("a#1", [PARA]), ("b#1", [EDITED])], sign=lambda keys: np.zeros((1, 3)))


def test_reported_jaccard_is_exact_and_at_least_the_threshold():
    corpus = reposts.build_corpus(seed=3, bases=8)
    result = find_duplicates(corpus.speeches)
    assert result.clusters
    for cluster in result.clusters:
        original = cluster.original
        assert original.original and not any(m.original for m in cluster.members[1:])
        for m in cluster.members[1:]:
            assert m.doc != original.doc
            assert m.jaccard == round(key_jaccard(original.text, m.text), 4)
            assert m.jaccard >= DedupSettings().threshold


def test_clusters_are_stars_not_chains():
    # Sliding windows of five blocks: A~B and B~C share 4 of 6 blocks, A and C 3 of 7.
    b = han_blocks(7)
    a_text, b_text, c_text = "".join(b[0:5]), "".join(b[1:6]), "".join(b[2:7])
    s = DedupSettings(keep="first", threshold=0.5)
    assert key_jaccard(a_text, b_text, s.shingle) >= 0.5 > key_jaccard(a_text, c_text, s.shingle)
    assert key_jaccard(b_text, c_text, s.shingle) >= 0.5
    result = find_duplicates([("a#1", [a_text]), ("b#1", [b_text]), ("c#1", [c_text])], s)
    assert [[m.doc for m in c.members] for c in result.clusters] == [["a#1", "b#1"]]


def test_three_copies_form_one_cluster_with_the_kept_one_first():
    speeches = [("c#1", [OTHER, PARA]), ("a#1", [EDITED]), ("b#1", [PARA])]
    first = find_duplicates(speeches, FIRST).clusters
    assert [[(m.doc, m.original) for m in c.members] for c in first] == [
        [("c#1", True), ("a#1", False), ("b#1", False)]]
    # longest: c#1 is the longest speech as well.
    assert [m.doc for m in find_duplicates(speeches).clusters[0].members] == ["c#1", "a#1", "b#1"]


def test_key_ignores_width_punctuation_and_spaces_but_not_words():
    assert paragraph_key("同志们, 今天 开会!") == paragraph_key("同志们，今天开会！")
    assert paragraph_key("全县") != paragraph_key("全市")


# ---------------------------------------------------------------------------
# The batch key is the key
# ---------------------------------------------------------------------------

def test_batch_keys_equal_the_key_on_every_bmp_character():
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    assert paragraph_keys(chars) == [paragraph_key(c) for c in chars]


# Characters that interact with their neighbours: combining marks, Hangul
# jamo, capital sigma, characters whose key is longer than one code point.
TRICKY = "eEaΣσς\u0301\u0308\u0327\u1100\u1161\u11a8가각ㄱ①⑩™İﬁ㈠Å\u0b47\u0b3e\u0b57\u3099か"
KEY_TEXT = st.text(st.one_of(st.sampled_from(TRICKY + "同志们，：。！ 2023年Ａａ"), st.characters()), max_size=40)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(KEY_TEXT, max_size=12))
def test_batch_keys_equal_the_key_on_any_text(texts):
    assert paragraph_keys(texts) == [paragraph_key(t) for t in texts]


def test_keys_are_nfkc_letters_and_digits():
    text = "２０２３年，Ｏｋ ⑩ ﬁne ㈠"
    assert paragraph_keys([text]) == ["2023年ok10fine一"]
    assert paragraph_keys([text])[0] == unicodedata.normalize("NFKC", paragraph_keys([text])[0])


# ---------------------------------------------------------------------------
# Verification sets
# ---------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.text(st.sampled_from("教育工作会议ab"), max_size=14), min_size=1, max_size=10),
       k=st.integers(1, 5), data=st.data())
def test_pair_jaccard_is_the_exact_jaccard_of_the_shingle_sets(keys, k, data):
    codes, lengths = key_codes(keys)
    values, offsets = shingle_sets(codes, lengths, k)
    assert np.diff(offsets).tolist() == [len(shingles(key, k)) for key in keys]
    index = st.integers(0, len(keys) - 1)
    a = np.array(data.draw(st.lists(index, min_size=1, max_size=8)))
    b = np.array(data.draw(st.lists(index, min_size=len(a), max_size=len(a))))
    expected = [jaccard(shingles(keys[x], k), shingles(keys[y], k)) for x, y in zip(a, b)]
    assert pair_jaccard(values, offsets, a, b).tolist() == pytest.approx(expected)


# ---------------------------------------------------------------------------
# Banding is datasketch's MinHashLSH
# ---------------------------------------------------------------------------

def seed_keys(count: int) -> list[str]:
    """Seed paragraphs and edited copies of a third of them (candidates to find)."""
    pool = [paragraph_key(p) for p in reposts.seed_pool()]
    pool = [k for k in pool if len(k) >= 50][:count]
    rng = random.Random(1)
    edited = [reposts.edit_chars(k, 0.05, "的教育工作", rng) for k in pool[::3]]
    return pool + edited


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_candidate_pairs_are_datasketch_minhashlsh_pairs(threshold):
    s = DedupSettings(threshold=threshold)
    keys = seed_keys(150)
    rows = signatures(keys, s.shingle, s.num_perm, s.seed)
    lsh = MinHashLSH(threshold=s.lsh_at, num_perm=s.num_perm)
    assert (lsh.b, lsh.r) == lsh_params(s)
    objects = [lean_minhash(row, s.seed) for row in rows]
    for n, mh in enumerate(objects):
        lsh.insert(n, mh, check_duplication=False)
    theirs = {(min(n, m), max(n, m)) for n, mh in enumerate(objects) for m in lsh.query(mh) if m != n}
    i, j = candidate_pairs(band_keys(rows, *lsh_params(s)))
    ours = list(zip(i.tolist(), j.tolist()))
    assert ours == sorted(theirs)
    assert len(ours) >= 50  # the edited copies are found, so the check means something


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 2), min_size=6, max_size=6), max_size=30))
def test_candidate_pairs_are_the_rows_equal_in_some_band(rows):
    matrix = np.array(rows, dtype=np.uint32).reshape(len(rows), 6)
    i, j = candidate_pairs(band_keys(matrix, 3, 2))
    expected = [(x, y) for x in range(len(rows)) for y in range(x + 1, len(rows))
                if any(rows[x][b:b + 2] == rows[y][b:b + 2] for b in (0, 2, 4))]
    assert list(zip(i.tolist(), j.tolist())) == expected


def test_a_large_bucket_pairs_its_rows_with_its_leads_only():
    # 200 rows in one bucket: all pairs would be 19,900; the 8 first by rank
    # are paired with every other row, and nothing else is.
    bands = np.zeros((200, 1), dtype=np.uint64)
    rank = np.arange(200)[::-1]  # the last rows rank first
    i, j = candidate_pairs(bands, rank)
    leads = set(range(192, 200))
    assert len(i) == 8 * 199 - 28
    assert all(x in leads or y in leads for x, y in zip(i.tolist(), j.tolist()))
    assert list(zip(i.tolist(), j.tolist())) == sorted(set(zip(i.tolist(), j.tolist())))


def test_a_paragraph_reposted_with_edits_many_times_costs_linear_pairs():
    # 1,500 speeches, each the same paragraph with two characters changed: all
    # of them near-duplicates of one another. The kept one is the original of
    # every copy, and every speech but it is its duplicate; the candidate pairs
    # grow with the copies, not with their square (all pairs: 1,122,751).
    rng = random.Random(5)
    base = paragraph_key(reposts.seed_pool()[0])[:120]
    speeches = []
    for n in range(1_500):
        chars = list(base)
        for _ in range(2):
            chars[rng.randrange(len(chars))] = rng.choice("教育工作会议学校发展")
        speeches.append((f"s{n}#1", ["".join(chars)]))
    result = find_duplicates(speeches, DedupSettings(keep="first"))
    assert result.stats["candidate_pairs"] < 100 * len(speeches)
    assert len(result.clusters) == 1
    original, *copies = result.clusters[0].members
    assert original.doc == "s0#1" and len(copies) == len(speeches) - 1
    assert len(result.speech_duplicates) == len(speeches) - 1


def test_a_paragraph_in_many_speeches_with_edits_does_not_compare_them_all(monkeypatch):
    # 800 different speeches share one paragraph, exact in half of them and
    # with a character changed in the others. Each edited copy is its own key
    # in a few kept speeches, but together they reach as many as an exact
    # formula: the speeches are not compared with one another through it
    # (that took time quadratic in the speeches: 163,325 comparisons here).
    import cleaner.dedup as dedup

    rng = random.Random(7)
    shared = paragraph_key(reposts.seed_pool()[0])[:120]
    han = "".join(sorted(set(shared)))
    speeches = []
    for n in range(800):
        copy = shared if n % 2 == 0 else shared[:n % 100] + "改" + shared[n % 100 + 1:]
        own = ["".join(rng.choice(han) for _ in range(120)) for _ in range(8)]
        speeches.append((f"s{n}#1", [copy, *own]))
    calls = []
    contained = dedup._contained
    monkeypatch.setattr(dedup, "_contained", lambda a, b: calls.append(1) or contained(a, b))
    result = find_duplicates(speeches)
    assert len(calls) < 10 * len(speeches)
    assert result.stats["formulas"] > 0
    assert len(result.clusters) >= 1 and result.speech_duplicates == ()


@pytest.mark.parametrize(("threshold", "num_perm"), sorted(KNOWN_LSH_PARAMS))
def test_known_lsh_params_are_datasketchs(threshold, num_perm):
    from datasketch.lsh import _optimal_param

    assert KNOWN_LSH_PARAMS[threshold, num_perm] == _optimal_param(threshold, num_perm, 0.5, 0.5)
    assert lsh_params(DedupSettings(lsh_threshold=threshold, num_perm=num_perm)) == \
        KNOWN_LSH_PARAMS[threshold, num_perm]


def test_default_signatures_are_datasketch_with_token_hash():
    s = DedupSettings()
    keys = seed_keys(20)
    for key, row in zip(keys, paragraph_signatures(keys, s)):
        mh = MinHash(num_perm=s.num_perm, seed=s.seed, hashfunc=token_hash)
        mh.update_batch([encode_token(item) for item in shingles(key, s.shingle)])
        assert np.array_equal(row, mh.hashvalues)


# ---------------------------------------------------------------------------
# Short paragraphs
# ---------------------------------------------------------------------------

def test_short_paragraphs_are_grouped_by_exact_key_and_reported_apart():
    speeches = [("a#1", ["同志们：", PARA, "谢谢大家！"]), ("b#1", ["同志们!", OTHER]),
                ("c#1", ["同志们：", "同志们：", THIRD, "谢谢!"])]
    result = find_duplicates(speeches, FIRST)
    assert result.clusters == ()
    assert result.stats["signed"] == 3 and result.stats["short"] == 6
    groups = {g.key: [(m.doc, m.para, m.original) for m in g.members] for g in result.short_groups}
    # The repeat inside c#1 is no cross-speech copy; 谢谢 and 谢谢大家 differ.
    assert groups == {"同志们": [("a#1", 0, True), ("b#1", 0, False), ("c#1", 0, False), ("c#1", 1, False)]}
    assert result.stats["short_repeats"] == 3


def test_empty_keys_are_counted_not_grouped():
    result = find_duplicates([("a#1", ["……", PARA]), ("b#1", ["……", OTHER])])
    assert result.stats["empty"] == 2 and result.short_groups == ()


# ---------------------------------------------------------------------------
# Speech-level duplicates
# ---------------------------------------------------------------------------

def speech_shingles(paragraphs: list[str], k: int) -> set[str]:
    return {s for p in paragraphs for s in shingles(paragraph_key(p), k)}


def test_a_reposted_speech_is_a_duplicate_of_the_kept_one_with_its_share():
    original = ["同志们：", PARA, OTHER, THIRD, "谢谢大家！"]
    repost = ["同志们：", EDITED, OTHER.replace("，", ","), THIRD, "一、加强领导，压实责任。"]
    unrelated = ["同志们：", *han_blocks(3, 60, seed=5), "谢谢大家！"]
    speeches = [("a#1", original), ("b#1", repost), ("c#1", unrelated)]
    result = find_duplicates(speeches, FIRST)
    assert [(d.doc, d.duplicate_of) for d in result.speech_duplicates] == [("b#1", "a#1")]
    k = FIRST.shingle
    mine, theirs = speech_shingles(repost, k), speech_shingles(original, k)
    dup = result.speech_duplicates[0]
    assert dup.share == round(len(mine & theirs) / len(mine), 4)
    assert 0.8 < dup.share < 1.0 and dup.chars == sum(map(len, repost))
    assert result.duplicate_of() == {"b#1": dup}


def test_a_speech_sharing_one_paragraph_is_not_a_duplicate():
    a = ["同志们：", PARA, *han_blocks(4, 80, seed=1)]
    b = ["同志们：", EDITED, *han_blocks(4, 80, seed=2)]
    result = find_duplicates([("a#1", a), ("b#1", b)])
    assert len(result.clusters) == 1 and result.speech_duplicates == ()


# ---------------------------------------------------------------------------
# Keep policies
# ---------------------------------------------------------------------------

BODY = [PARA, OTHER, THIRD]
POSTINGS = [
    ("x/1#1", ["同志们：", PARA]),  # first by path, truncated to one paragraph
    ("x/2#1", ["同志们：", *BODY, han_blocks(1, 60, seed=9)[0]]),  # longest
    ("x/3#1", ["同志们：", *BODY]),  # cleanest page
]
META = [SpeechMeta(300, 1000), SpeechMeta(500, 1500), SpeechMeta(20, 900)]


@pytest.mark.parametrize(("keep", "kept", "duplicates"), [
    # first keeps the truncated posting; the two complete ones are not its
    # duplicates (most of their text is not in it), x/3 is a copy of x/2.
    ("first", "x/1#1", [("x/3#1", "x/2#1")]),
    ("longest", "x/2#1", [("x/1#1", "x/2#1"), ("x/3#1", "x/2#1")]),
    ("cleanest", "x/3#1", [("x/1#1", "x/3#1"), ("x/2#1", "x/3#1")]),
])
def test_keep_policy_chooses_the_original(keep, kept, duplicates):
    result = find_duplicates(POSTINGS, DedupSettings(keep=keep), META)
    [para_cluster] = [c for c in result.clusters if c.original.text == PARA]
    assert para_cluster.original.doc == kept
    assert sorted(m.doc for m in para_cluster.members) == ["x/1#1", "x/2#1", "x/3#1"]
    assert [(d.doc, d.duplicate_of) for d in result.speech_duplicates] == duplicates


def test_keep_order_ties_go_to_corpus_order():
    assert keep_order([5, 9, 9, 1], "longest") == [1, 2, 0, 3]
    assert keep_order([5, 9], "cleanest", [SpeechMeta(1, 10), SpeechMeta(2, 20)]) == [0, 1]


def test_cleanest_needs_meta():
    with pytest.raises(ValueError, match="SpeechMeta"):
        find_duplicates(POSTINGS, DedupSettings(keep="cleanest"))


@pytest.mark.parametrize("bad", [{"keep": "newest"}, {"threshold": 0.0}, {"shingle": 0},
                                 {"speech_threshold": 1.5}, {"min_chars": 0}, {"lsh_threshold": 2.0}])
def test_bad_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        DedupSettings(**bad)


# ---------------------------------------------------------------------------
# The drop plan
# ---------------------------------------------------------------------------

def test_drop_plan_removes_duplicate_speeches_whole_and_copies_from_the_rest():
    speeches = [("a#1", ["同志们：", PARA, OTHER, THIRD]),
                ("b#1", ["同志们：", EDITED, OTHER, THIRD]),  # a repost: removed whole
                ("c#1", ["同志们：", *han_blocks(3, 70, seed=4), OTHER])]  # keeps its own text
    result = find_duplicates(speeches, FIRST)
    plan = plan_drops(result)
    assert [(d.doc, d.duplicate_of) for d in plan.speeches] == [("b#1", "a#1")]
    assert [(d.doc, d.para, d.original_doc, d.original_para) for d in plan.paragraphs] == [
        ("c#1", 4, "a#1", 2)]
    assert "a#1" in plan.paragraphs[0].reason and "b#1" not in plan.dropped_paras()
    kept = dict(plan.apply(speeches))
    assert list(kept) == ["a#1", "c#1"]
    assert kept["c#1"][0] == "同志们：" and OTHER not in kept["c#1"]  # short lines stay
    assert DEDUP_RULE == "dedup"


@pytest.mark.parametrize("keep", ["first", "longest", "cleanest"])
def test_drop_plan_never_removes_the_last_copy_of_a_paragraph(keep):
    corpus = reposts.build_corpus(seed=4, bases=15)
    meta = [SpeechMeta(p.boilerplate_chars, p.page_chars) for p in corpus.postings]
    result = find_duplicates(corpus.speeches, DedupSettings(keep=keep), meta)
    plan = plan_drops(result)
    assert plan.speeches and plan.paragraphs
    gone = {d.doc for d in plan.speeches}
    dropped = {(d.doc, d.para) for d in plan.paragraphs}
    for d in plan.speeches:
        assert d.duplicate_of not in gone and d.share >= result.settings.speech_threshold
    for d in plan.paragraphs:
        assert d.doc not in gone
        assert d.original_doc not in gone and (d.original_doc, d.original_para) not in dropped
    kept = plan.apply(corpus.speeches)
    assert len(kept) == len(corpus.speeches) - len(gone)
    assert sum(map(len, (p for _, p in kept))) == (
        sum(len(p) for sid, p in corpus.speeches if sid not in gone) - len(dropped))


# ---------------------------------------------------------------------------
# Determinism, cache friendliness, settings
# ---------------------------------------------------------------------------

def test_same_input_gives_the_same_result():
    corpus = reposts.build_corpus(seed=2, bases=10)
    one, two = find_duplicates(corpus.speeches), find_duplicates(corpus.speeches)
    assert one == two and one.clusters


def test_a_cache_can_serve_signatures_by_key():
    s = DedupSettings()
    corpus = reposts.build_corpus(seed=2, bases=10)
    cache: dict[str, np.ndarray] = {}

    def cached(keys):
        missing = [k for k in keys if signature_cache_key(k, s) not in cache]
        for k, row in zip(missing, paragraph_signatures(missing, s)):
            cache[signature_cache_key(k, s)] = row
        return np.array([cache[signature_cache_key(k, s)] for k in keys])

    assert find_duplicates(corpus.speeches, s, sign=cached) == find_duplicates(corpus.speeches, s)
    assert signature_cache_key("教育", s) != signature_cache_key("教育", DedupSettings(shingle=4))


def test_settings_describe_the_hash_and_the_bands():
    d = DedupSettings().describe()
    assert "token_hash" in d["hash"] and d["keep"] == "longest"
    assert (d["lsh_bands"], d["lsh_rows"]) == lsh_params(DedupSettings())
    assert d["lsh_threshold"] < d["threshold"]


# ---------------------------------------------------------------------------
# Quality: the defaults meet the bar on a small generated corpus
# ---------------------------------------------------------------------------

def test_defaults_meet_the_quality_bar_on_reposted_speeches():
    s = DedupSettings()
    pairs = speeches = reposts.PairScore(0, 0, 0)
    for seed in (7, 8):
        corpus = reposts.build_corpus(seed=seed, bases=20)
        result = find_duplicates(corpus.speeches, s)
        pairs += reposts.pair_score(corpus, result.clusters, s.min_chars, lambda t: len(paragraph_key(t)))
        speeches += reposts.speech_score(corpus, result.speech_duplicates)
    assert pairs.true_pairs > 300
    assert pairs.precision >= 0.98 and pairs.recall >= 0.95
    assert speeches.true_pairs > 20 and speeches.precision >= 0.98 and speeches.recall >= 0.9


def test_the_scores_can_fail():
    corpus = reposts.build_corpus(seed=7, bases=10)
    strict = find_duplicates(corpus.speeches, DedupSettings(shingle=5, threshold=0.9))
    assert reposts.pair_score(corpus, strict.clusters, 50, lambda t: len(paragraph_key(t))).recall < 0.5
    everything = [type("C", (), {"members": [type("M", (), {"doc": sid, "para": n})()
                                             for sid, ps in corpus.speeches for n, p in enumerate(ps)
                                             if len(paragraph_key(p)) >= 50]})()]
    assert reposts.pair_score(corpus, everything, 50, lambda t: len(paragraph_key(t))).precision < 0.1


# ---------------------------------------------------------------------------
# Output files (written by the pipeline)
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Against a corpus cleaned earlier (cleaner dedup --against OLD_CLEAN)
# ---------------------------------------------------------------------------

def write_old_corpus(folder: Path, speeches, sources=None) -> Path:
    """An earlier output folder: corpus.jsonl with the contract fields."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for n, (sid, paragraphs) in enumerate(speeches):
            source = sources[n] if sources else sid.split("#")[0] + ".txt"
            fh.write(json.dumps({"id": sid, "source": source, "title": None, "text": "\n".join(paragraphs),
                                 "encoding": "utf-8"}, ensure_ascii=False) + "\n")
    return folder


def test_read_reference_gives_ids_paragraphs_and_sources(tmp_path):
    from cleaner.reference import read_reference

    old = write_old_corpus(tmp_path / "old", [("a#1", [PARA, "同志们："]), ("b#1", [])],
                           ["a.txt", "sub/b.txt"])
    ref = read_reference(old)
    assert ref.speeches == (("a#1", (PARA, "同志们：")), ("b#1", ()))
    assert ref.source_of() == {"a#1": "a.txt", "b#1": "sub/b.txt"}


def test_a_new_copy_of_an_old_paragraph_has_the_old_one_as_original(tmp_path):
    from cleaner.reference import find_duplicates_against

    old = write_old_corpus(tmp_path / "old", [("a#1", [PARA, *han_blocks(2, 70, seed=1)])])
    # The new speech is longer: with keep=longest it would win, but the old one is the original.
    new = [("n#1", ["同志们：", EDITED, *han_blocks(4, 80, seed=2)])]
    result = find_duplicates_against(new, old, DedupSettings())
    [cluster] = result.clusters
    assert [(m.doc, m.para, m.original, m.reference) for m in cluster.members] == [
        ("a#1", 0, True, True), ("n#1", 1, False, False)]
    assert result.speech_ids == ("n#1",) and result.reference_ids == ("a#1",)
    assert result.duplicate_paras() == {"n#1": [1]}
    plan = plan_drops(result)
    assert [(d.doc, d.para, d.original_doc, d.original_reference) for d in plan.paragraphs] == [
        ("n#1", 1, "a#1", True)]
    assert "reference corpus" in plan.paragraphs[0].reason


def test_duplicates_only_among_old_speeches_are_not_reported(tmp_path):
    from cleaner.reference import find_duplicates_against

    old = write_old_corpus(tmp_path / "old", [
        ("a#1", ["同志们：", PARA, OTHER, THIRD]),
        ("b#1", ["同志们：", EDITED, OTHER, THIRD]),  # a repost inside the old corpus
    ])
    new = [("n#1", ["同志们：", *han_blocks(3, 70, seed=5)])]
    result = find_duplicates_against(new, old, DedupSettings())
    assert result.clusters == () and result.speech_duplicates == ()
    # The short line is reported once, for the new speech, with an old original.
    [group] = result.short_groups
    assert [(m.doc, m.reference) for m in group.members] == [("a#1", True), ("n#1", False)]
    assert result.stats["reference_speeches"] == 2 and result.stats["paragraphs"] == 4
    alone = find_duplicates([(sid, list(ps)) for sid, ps in [("a#1", ["同志们：", PARA, OTHER, THIRD]),
                                                              ("b#1", ["同志们：", EDITED, OTHER, THIRD])]])
    assert alone.clusters and alone.speech_duplicates  # the same speeches alone do have duplicates


def test_a_repost_of_an_old_speech_is_its_duplicate_and_dropped_whole(tmp_path):
    from cleaner.reference import find_duplicates_against

    old = write_old_corpus(tmp_path / "old", [("a#1", ["同志们：", PARA, OTHER, THIRD])])
    # Same id as the old speech: the reference flag tells them apart.
    new = [("a#1", ["同志们：", EDITED, OTHER, THIRD, *han_blocks(1, 60, seed=9)]),
           ("c#1", [*han_blocks(3, 70, seed=4)])]
    result = find_duplicates_against(new, old, DedupSettings())
    [dup] = result.speech_duplicates
    assert (dup.doc, dup.duplicate_of, dup.reference) == ("a#1", "a#1", True)
    plan = plan_drops(result)
    assert [(d.doc, d.reference) for d in plan.speeches] == [("a#1", True)]
    assert "reference corpus" in plan.speeches[0].reason
    assert plan.apply(new) == [("c#1", new[1][1])]
    assert all(not m.reference for c in result.clusters for m in c.members[1:])


def test_duplicates_among_new_speeches_are_still_found(tmp_path):
    from cleaner.reference import find_duplicates_against

    old = write_old_corpus(tmp_path / "old", [("o#1", han_blocks(3, 70, seed=11))])
    new = [("x#1", [PARA, OTHER]), ("y#1", ["同志们：", EDITED])]
    with_old = find_duplicates_against(new, old, FIRST)
    assert [[(m.doc, m.para, m.reference) for m in c.members] for c in with_old.clusters] == [
        [("x#1", 0, False), ("y#1", 1, False)]]
    assert with_old.clusters == find_duplicates(new, FIRST).clusters


@pytest.mark.parametrize("keep", ["first", "longest", "cleanest"])
def test_against_never_drops_or_copies_from_the_old_corpus(tmp_path, keep):
    from cleaner.reference import find_duplicates_against

    corpus = reposts.build_corpus(seed=4, bases=15)
    half = len(corpus.speeches) // 2
    old = write_old_corpus(tmp_path / "old", [(f"old/{sid}", ps) for sid, ps in corpus.speeches[:half]])
    new = corpus.speeches[half:]
    meta = [SpeechMeta(p.boilerplate_chars, p.page_chars) for p in corpus.postings[half:]]
    result = find_duplicates_against(new, old, DedupSettings(keep=keep), meta)
    assert result.clusters and result.speech_duplicates
    assert any(c.original.reference for c in result.clusters)
    assert any(d.reference for d in result.speech_duplicates)
    for c in result.clusters:
        assert all(not m.reference for m in c.members[1:])  # old paragraphs are only originals
        assert any(not m.reference for m in c.members)
        assert c.original.reference == c.original.doc.startswith("old/")
    for g in result.short_groups:
        assert all(not m.reference for m in g.members[1:])
    plan = plan_drops(result)
    assert plan.speeches and plan.paragraphs
    new_ids = {sid for sid, _ in new}
    assert {d.doc for d in plan.speeches} <= new_ids and {d.doc for d in plan.paragraphs} <= new_ids
    for d in plan.paragraphs:
        assert d.original_reference == d.original_doc.startswith("old/")
    assert result.duplicate_paras().keys() <= new_ids


def test_against_the_same_corpus_makes_every_new_speech_a_duplicate(tmp_path):
    from cleaner.reference import find_duplicates_against

    corpus = reposts.build_corpus(seed=2, bases=6).speeches
    old = write_old_corpus(tmp_path / "old", corpus)
    result = find_duplicates_against(corpus, old, DedupSettings())
    with_text = [sid for sid, ps in corpus if sum(len(paragraph_key(p)) >= 50 for p in ps)]
    assert [(d.doc, d.duplicate_of, d.share, d.reference) for d in result.speech_duplicates] == [
        (sid, sid, 1.0, True) for sid in with_text]


def test_against_an_earlier_output_folder_written_by_the_pipeline(tmp_path):
    from cleaner.reference import find_duplicates_against

    write_output([_page("a.txt", [[PARA, OTHER]])], tmp_path / "old", DedupSettings())
    result = find_duplicates_against([("b#1", ["同志们：", EDITED])], tmp_path / "old", DedupSettings())
    assert [(m.doc, m.para, m.reference) for m in result.clusters[0].members] == [
        ("a#1", 0, True), ("b#1", 1, False)]


@pytest.mark.parametrize(("content", "message"), [
    (None, "no corpus.jsonl"),
    ('{"id": "a#1", "text": "x", "source": "a.txt"}\n{"id": "b#1", "text": ', "line 2: not JSON"),
    ('{"id": "a#1", "source": "a.txt"}\n', "line 1: field 'text'"),
    ('{"id": 3, "text": "x", "source": "a.txt"}\n', "line 1: field 'id'"),
    ('["a#1", "x"]\n', "line 1: not a JSON object"),
    ('{"id": "a#1", "text": "x", "source": "a.txt"}\n\n{"id": "a#1", "text": "y", "source": "b.txt"}\n',
     "line 3: id 'a#1' repeats line 1"),
])
def test_a_bad_earlier_corpus_is_a_usage_error_naming_the_folder(tmp_path, content, message):
    from cleaner.errors import UsageError
    from cleaner.reference import find_duplicates_against

    old = tmp_path / "old clean"
    old.mkdir()
    if content is not None:
        (old / "corpus.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message) as info:
        find_duplicates_against([("n#1", [PARA])], old)
    assert str(old) in str(info.value)


def test_a_corpus_that_is_not_utf8_is_a_usage_error(tmp_path):
    from cleaner.errors import UsageError
    from cleaner.reference import read_reference

    (tmp_path / "corpus.jsonl").write_bytes('{"id": "a#1", "text": "教育", "source": "a"}\n'.encode("gb18030"))
    with pytest.raises(UsageError, match="not UTF-8"):
        read_reference(tmp_path)


def test_against_through_the_signature_store_signs_the_old_corpus_once(tmp_path):
    from cleaner.reference import find_duplicates_against, read_reference
    from cleaner.sigcache import SignatureStore

    corpus = reposts.build_corpus(seed=3, bases=16).speeches  # 54 speeches
    old = read_reference(write_old_corpus(tmp_path / "old", corpus[:20]))
    calls = []

    def counting(keys):
        calls.append(len(keys))
        return paragraph_signatures(keys, DedupSettings())

    expected = find_duplicates_against(corpus[20:], old)
    with SignatureStore(tmp_path / "cache", DedupSettings(), sign=counting) as store:
        assert find_duplicates_against(corpus[20:30], old, sign=store).reference_ids == expected.reference_ids
    first = sum(calls)
    calls.clear()
    with SignatureStore(tmp_path / "cache", DedupSettings(), sign=counting) as store:
        assert find_duplicates_against(corpus[20:], old, sign=store) == expected
    assert 0 < sum(calls) < first  # only the paragraphs of the speeches added since
