"""Tests of the strip stage's context: list items under a heading (`follows`),
the speech-start check, folding modes (`fold`) and lines padded with whitespace."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.errors import RuleError
from cleaner.model import Page
from cleaner.rules import FOLDS, Rule, RuleSet, fold_view, load_rules, seconds_capped
from cleaner.strip import not_speech_start, strip_boilerplate

RULESET = load_rules()
SHIPPED = {rule.id: rule for rule in RULESET.rules}


def _page(texts: list[str]) -> Page:
    return Page(source="t/page.txt", sha256="0" * 64, size=0,
                lines=[(n, text) for n, text in enumerate(texts, 1)])


def _strip(texts: list[str], ruleset: RuleSet = RULESET) -> tuple[list[str], list[tuple[int, str]]]:
    """The kept texts and the (line, rule) of every removal."""
    page = strip_boilerplate(_page(texts), ruleset)
    return [text for _, text in page.lines], [(e.line, e.rule) for e in page.edits]


def _rule(rid: str, **fields: str) -> str:
    base = {"id": f'"{rid}"', "description": '"a test rule"', "action": '"drop_line"',
            "pattern": "'^head$'", "match": '["head"]', "no_match": '["body"]'}
    base.update(fields)
    return "[[rule]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items() if v is not None) + "\n"


def _load(tmp_path: Path, files: dict[str, str]) -> RuleSet:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return load_rules(tmp_path)


# --------------------------------------------------------------------------
# Lists under a heading: the shipped rules
# --------------------------------------------------------------------------

BODY = ["教育局局长在全县教育工作会议上的讲话", "同志们：", "今天我们召开全县教育工作会议，主要任务是总结去年工作。",
        "全年资助家庭经济困难学生19957人次，资助金额2474.5万元。"]
OTHERS = ["县委书记在全县教育系统安全工作会议上的讲话", "关于做好2024年春季开学工作的通知",
          "分管副县长在庆祝教师节表彰大会上的讲话"]

# (heading, the rule that drops the heading, the rule that drops its items)
LISTS = [
    ("相关文章", "portal.related-heading", "portal.related-item"),
    ("【热门推荐】", "portal.related-heading", "portal.related-item"),
    ("看过教育局局长会议讲话稿的人还看了：", "essay.also-read", "essay.also-read-item"),
    ("相关资源", "share.related-heading", "share.related-item"),
]


@pytest.mark.parametrize(("heading", "heading_rule", "item_rule"), LISTS, ids=[h for h, _, _ in LISTS])
def test_list_items_at_the_end_of_a_page_go_with_their_heading(heading, heading_rule, item_rule):
    kept, edits = _strip(BODY + [heading, *OTHERS])
    assert kept == BODY
    assert edits == [(5, heading_rule), (6, item_rule), (7, item_rule), (8, item_rule)]


@pytest.mark.parametrize(("heading", "heading_rule", "item_rule"), LISTS, ids=[h for h, _, _ in LISTS])
def test_the_next_speech_title_under_a_list_stays(heading, heading_rule, item_rule):
    # On a page of several pieces the list sits between two speeches: its last
    # title-like line over a salutation is the next speech's title.
    nxt = ["分管副县长在教育系统党风廉政建设工作会议上的讲话", "各位来宾、同志们", "大家好！"]
    kept, edits = _strip(BODY + [heading, *OTHERS[:2], *nxt])
    assert kept == BODY + nxt
    assert edits == [(5, heading_rule), (6, item_rule), (7, item_rule)]


def test_a_title_with_subtitle_or_piece_marker_under_a_list_stays():
    for nxt in (["局长在开学工作会上的讲话", "——在全县开学工作会议上", "各位校长："],
                ["教育局长教育工作会讲话内容篇三", "同志们："],
                ["局长在开学工作会上的讲话", "局长在开学工作会上的讲话", "同志们："]):
        kept, edits = _strip(BODY + ["看过本文的人还看了：", *nxt])
        assert kept == BODY + nxt, nxt
        assert [rule for _, rule in edits] == ["essay.also-read"]


def test_a_title_over_running_text_stays():
    nxt = ["一年来的工作回顾", "过去一年，全县教育系统坚持立德树人，各项工作取得新进展。"]
    kept, _ = _strip(BODY + ["相关阅读", *nxt])
    assert kept == BODY + nxt


def test_a_blank_line_ends_the_list():
    kept, edits = _strip(BODY + ["相关文章", OTHERS[0], "", OTHERS[1]])
    assert kept == BODY + ["", OTHERS[1]]
    assert [rule for _, rule in edits] == ["portal.related-heading", "portal.related-item"]


def test_the_list_goes_on_through_lines_other_rules_drop():
    lines = ["相关文章", "· 教育局长在全县会议上的讲话 2023-11-29", OTHERS[0], "上一篇：没有了", OTHERS[1]]
    kept, edits = _strip(BODY + lines)
    assert kept == BODY
    assert [rule for _, rule in edits] == ["portal.related-heading", "portal.link-list-item",
                                          "portal.related-item", "portal.prev-next", "portal.related-item"]


def test_titles_without_a_heading_above_stay():
    # The item rules match any title-like line: only the heading above lets them act.
    kept, edits = _strip(BODY + OTHERS)
    assert kept == BODY + OTHERS and edits == []
    kept, _ = _strip(BODY[:2] + ["相关文章要认真学习。", OTHERS[0], BODY[2]])
    assert OTHERS[0] in kept


def test_a_kept_title_ends_the_list():
    nxt = [OTHERS[0], "同志们：", "今天开会。", OTHERS[1]]
    kept, _ = _strip(["相关文章", *nxt])
    assert kept == nxt


def test_a_long_list_under_a_heading_takes_linear_time():
    # Each item used to walk back over every item above it to find the heading:
    # quadratic, about a minute for these 32k items (now well under 2 s).
    items = ["教育工作会议讲话"] * 32_000
    result = {}
    elapsed = seconds_capped(lambda: result.update(out=_strip(BODY + ["相关文章", *items])), 10)
    assert elapsed < 10, "dropping a long list took too long"
    kept, edits = result["out"]
    assert kept == BODY
    assert edits == [(5, "portal.related-heading")] + [(n, "portal.related-item") for n in range(6, 6 + len(items))]


def test_not_speech_start_on_list_shapes():
    page = ["热门推荐", OTHERS[0], OTHERS[1], "手机版|关于我们|联系我们|网站地图"]
    assert [not_speech_start(page, i) for i in (1, 2)] == [True, True]
    assert not_speech_start(["相关文章", OTHERS[0]], 1)  # last line of the page
    assert not not_speech_start(["相关文章", "同志们："], 1)  # a salutation itself
    assert not not_speech_start(["相关文章", "——在全县教育工作会议上的讲话", "正文。"], 1)
    assert not not_speech_start(["相关文章", OTHERS[0], "", "", "同志们："], 1)  # blank lines skipped


# --------------------------------------------------------------------------
# `follows` and `fold` in rule files: loading and validation
# --------------------------------------------------------------------------

ITEM = dict(pattern="'^item'", match='["item one"]', no_match='["body"]')


def test_follows_rule_drops_only_under_its_heading(tmp_path):
    ruleset = _load(tmp_path, {"a.toml": _rule("a.head") + _rule("a.item", follows='["a.head"]', **ITEM)})
    assert ruleset.rules[1].follows == ("a.head",)
    kept, edits = _strip(["item zero", "head", "item one", "item two", "text", "item three"], ruleset)
    assert kept == ["item zero", "text", "item three"]
    assert edits == [(2, "a.head"), (3, "a.item"), (4, "a.item")]


def test_follows_may_name_a_rule_of_another_file(tmp_path):
    ruleset = _load(tmp_path, {"a.toml": _rule("a.head"),
                               "b.toml": _rule("b.item", follows='["a.head"]', **ITEM)})
    kept, _ = _strip(["head", "item one"], ruleset)
    assert kept == []


BAD_FOLLOWS = {
    "unknown-rule": ('["a.nothing"]', "drop_line", "not a rule of this set"),
    "span-heading": ('["a.span"]', "drop_line", "does not drop lines"),
    "itself": ('["a.item"]', "drop_line", "names the rule itself"),
    "empty": ("[]", "drop_line", "non-empty list of rule ids"),
    "not-a-list": ('"a.head"', "drop_line", "non-empty list of rule ids"),
    "bad-id": ('["A Head"]', "drop_line", "non-empty list of rule ids"),
    "on-span-rule": ('["a.head"]', "delete_span", "only goes with action 'drop_line'"),
}


@pytest.mark.parametrize(("follows", "action", "fragment"), list(BAD_FOLLOWS.values()), ids=list(BAD_FOLLOWS))
def test_bad_follows_is_refused_naming_file_and_rule(tmp_path, follows, action, fragment):
    span = _rule("a.span", action='"delete_span"') + '[[rule.fix]]\nbefore = "head"\nafter = ""\n\n'
    item = _rule("a.item", follows=follows, action=f'"{action}"', **ITEM)
    if action != "drop_line":
        item += '[[rule.fix]]\nbefore = "item one"\nafter = " one"\n\n'
    with pytest.raises(RuleError) as info:
        _load(tmp_path, {"a.toml": _rule("a.head") + span, "b.toml": item})
    message = str(info.value)
    assert message.startswith("b.toml: rule 'a.item'"), message
    assert fragment in message


def test_fold_views_keep_length():
    text = "ＱＱ：Ab\u3000中文，ＩＣＰ"
    views = {mode: fold_view(text, mode) for mode in FOLDS}
    assert views == {"all": "qq:ab 中文,icp", "width": "QQ:Ab 中文,ICP", "none": text}
    assert all(len(v) == len(text) for v in views.values())


@pytest.mark.parametrize(("mode", "pattern", "hits", "misses"), [
    ("all", "'^qq$'", ["QQ", "ＱＱ", "qq"], ["Q Q"]),
    ("width", "'^QQ$'", ["QQ", "ＱＱ"], ["qq", "ｑｑ"]),
    ("none", "'^ＱＱ$'", ["ＱＱ"], ["QQ", "qq"]),
])
def test_fold_mode_decides_what_a_pattern_sees(tmp_path, mode, pattern, hits, misses):
    ruleset = _load(tmp_path, {"a.toml": _rule("a.qq", pattern=pattern, fold=f'"{mode}"',
                                               match=repr(hits).replace("'", '"'),
                                               no_match=repr(misses).replace("'", '"'))})
    rule = ruleset.rules[0]
    assert rule.fold == mode
    assert [rule.finds(t) for t in hits] == [True] * len(hits)
    assert [rule.finds(t) for t in misses] == [False] * len(misses)
    kept, _ = _strip(hits + misses, ruleset)
    assert kept == misses


def test_bad_fold_is_refused(tmp_path):
    with pytest.raises(RuleError) as info:
        _load(tmp_path, {"a.toml": _rule("a.x", fold='"upper"')})
    assert "a.toml: rule 'a.x'" in str(info.value) and "'fold' must be one of all, width, none" in str(info.value)
    # A full-width pattern is refused unless the rule matches the unfolded line.
    with pytest.raises(RuleError, match="folded form"):
        _load(tmp_path, {"a.toml": _rule("a.x", pattern="'：'", match='["："]', fold='"width"')})


# --------------------------------------------------------------------------
# Lines padded with whitespace
# --------------------------------------------------------------------------

def test_padded_line_is_matched_without_its_padding():
    kept, edits = _strip([" " * 5000 + "下载" + "\u3000" * 3000, "同志们："])
    assert kept == ["同志们："]
    assert [rule for _, rule in edits] == ["share.lone-button"]


def test_span_rule_keeps_the_padding_around_the_line():
    rule = Rule(id="t.span", description="d", action="delete_span", pattern=re.compile(r"x+"), file="t.toml")
    assert rule.rewrite("  axb  ") == ("  ab  ", ["x"])
    assert rule.rewrite("   ") == ("   ", [])
    # The pattern sees the line from its first non-blank character: ^ anchors there.
    anchored = Rule(id="t.a", description="d", action="delete_span", pattern=re.compile(r"^a"), file="t.toml")
    assert anchored.rewrite("\u3000 ab") == ("\u3000 b", ["a"])


# --------------------------------------------------------------------------
# Jammer junk told apart by letter case or by one symbol
# --------------------------------------------------------------------------

UPPER, LOWER = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz"
TOKEN = st.text(alphabet=UPPER + LOWER + "0123456789", min_size=1, max_size=2)


@settings(max_examples=200, deadline=None)
@given(st.lists(TOKEN, min_size=3, max_size=5), st.sampled_from(UPPER), st.sampled_from(LOWER),
       st.sampled_from(["，", "。", "；", ","]))
def test_mixed_case_junk_after_a_clause_is_cut_whole(tokens, upper, lower, mark):
    tokens[0], tokens[-1] = upper, lower  # one token all capitals, one all small letters
    junk = " " + " ".join(tokens) + " "
    before, after = "我们要认真学习" + mark, "贯彻落实会议精神。"
    kept, edits = _strip([before + junk + after])
    assert kept == [before + after]
    assert {rule for _, rule in edits} <= {"forum.jammer-mixed-case", "forum.jammer-tokens",
                                           "forum.jammer-alnum", "forum.jammer"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=UPPER + "0123456789", min_size=1, max_size=2), min_size=3, max_size=5),
       st.sampled_from(["，", "。", "："]))
def test_capital_abbreviations_after_a_clause_stay(tokens, mark):
    line = "推动" + mark + " ".join(tokens) + " 等新技术落地。"
    for rule_id in ("forum.jammer-mixed-case", "forum.jammer-symbol"):
        assert SHIPPED[rule_id].rewrite(line) == (line, []), rule_id


@pytest.mark.parametrize("line", [
    "新建线路，3 kW 5 kV 各一条。", "检测水质，pH 7 左右。", "设三边为：a b c 三个字母。",
    "用好时间，3 ~ 5 年见成效。", "分为三类：A | B | C。", "计算公式：3 * 5 = 15 元。", "排名如下：#1 #2 #3 三名。",
    "推广经验，C# Go R 三种语言都要学。", "标准不一，$5 $6 $7 不等。", "增长幅度：50 % 60 % 70 % 三档。",
])
def test_case_and_symbol_rules_leave_units_math_and_lists(line):
    kept, edits = _strip([line])
    assert kept == [line] and edits == []


# --------------------------------------------------------------------------
# Required characters: a rule is skipped only on lines it cannot match
# --------------------------------------------------------------------------

from cleaner.rules import required_chars  # noqa: E402

EXAMPLES = [(rule, text) for rule in RULESET.rules for text in rule.match]


def test_most_shipped_rules_have_required_characters():
    known = [r for r in RULESET.rules if r.required is not None]
    assert len(known) >= 0.8 * len(RULESET.rules)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_line_without_the_required_characters_never_matches(data):
    rule, text = data.draw(st.sampled_from(EXAMPLES))
    # Mutate the example: delete, repeat and replace characters, so that the
    # pattern sometimes still matches and sometimes not.
    chars = list(text)
    for _ in range(data.draw(st.integers(0, 6))):
        if not chars:
            break
        i = data.draw(st.integers(0, len(chars) - 1))
        op = data.draw(st.sampled_from(["delete", "repeat", "replace"]))
        if op == "delete":
            del chars[i]
        elif op == "repeat":
            chars.insert(i, chars[i])
        else:
            chars[i] = data.draw(st.characters(codec="utf-8"))
    view = fold_view("".join(chars).strip(), rule.fold)
    if rule.required is not None and rule.pattern.search(view):
        assert not rule.required.isdisjoint(view), (rule.id, view)


@pytest.mark.parametrize("pattern, text", [
    (r"^(?:上传|下载)+文档", "下载下载文档"),
    (r"[第页]\d+|共\d+页", "共3页"),
    (r"(?:a|bc)(?>d+)e", "bcdde"),
    (r"x{2,}y|z", "z"),
])
def test_required_characters_of_hand_made_patterns_are_sound(pattern, text):
    compiled = re.compile(pattern)
    assert compiled.search(text)
    required = required_chars(compiled)
    assert required is not None and not required.isdisjoint(text)


def test_patterns_that_need_nothing_known_give_none():
    for pattern in (r".+", r"[^a]b?", r"(?i)abc", r"a?b*", r"(?=x)", r"(a)\1|"):
        assert required_chars(re.compile(pattern)) is None, pattern
    assert required_chars(re.compile(r"\w+编")) == frozenset("编")  # the category part needs nothing known


def test_strip_gives_the_same_pages_without_the_screen(monkeypatch):
    import copy

    from cleaner.pipeline import decode_input
    root = Path(__file__).resolve().parents[1] / "raw"
    pages = [decode_input(p, p.name) for p in sorted(root.glob("*.txt"))]
    screened = [strip_boilerplate(copy.deepcopy(p), RULESET).to_dict() for p in pages]
    plain = load_rules()
    for rule in plain.rules:
        rule.__dict__["required"] = None  # the cached property, emptied: every rule searched
    assert [strip_boilerplate(copy.deepcopy(p), plain).to_dict() for p in pages] == screened
