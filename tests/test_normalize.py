"""Normalization cases as data, plus properties: idempotent, no Han text invented or lost."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.normalize import normalize_line

# (original, expected, label)
CASES = [
    ("同志们:", "同志们：", "colon after Chinese"),
    ("今天,我们召开会议!", "今天，我们召开会议！", "comma and exclamation"),
    ("真的吗?是的;好的", "真的吗？是的；好的", "question mark and semicolon"),
    ("(一)党建工作全面加强", "（一）党建工作全面加强", "enumerator in parentheses"),
    ("《中小学幼儿园安全管理办法》(教育部令第23号)", "《中小学幼儿园安全管理办法》（教育部令第23号）", "parenthesised note"),
    ("计划总投资1.54 亿元", "计划总投资1.54亿元", "decimal keeps its point, loses the space"),
    ("入学率达100%;", "入学率达100%；", "percent keeps ASCII, semicolon widens"),
    ("时间:2023-11-29 14:13:01", "时间：2023-11-29 14:13:01", "clock time keeps its colons"),
    ("职普比提升到1:4,高考再创新高", "职普比提升到1:4，高考再创新高", "ratio keeps its colon"),
    ("2021—2022学年", "2021—2022学年", "year range untouched"),
    ("达到1,000人", "达到1,000人", "thousands separator untouched"),
    ("see http://example.com/a?b=1, then", "see http://example.com/a?b=1, then", "Latin text untouched"),
    ("\u3000\u3000同志们：", "同志们：", "ideographic indentation"),
    ("    今天，我们开会。  ", "今天，我们开会。", "ASCII indentation and trailing spaces"),
    ("深入研 究", "深入研究", "space inside a word"),
    ("双 丰中心校", "双丰中心校", "space inside a name"),
    ("学生 19957 人次", "学生19957人次", "spaces around a number"),
    ("使用 PPT 课件", "使用 PPT 课件", "space beside a Latin word kept"),
    (">一、202_年工作回顾", "一、202_年工作回顾", "stray quoting marker"),
    ('\\\\\\"十五\\\\\\"以来', "“十五”以来", "backslash-escaped quotes"),
    ('实践"三个代表"重要思想', "实践“三个代表”重要思想", "straight quotes paired"),
    ('他说"你好', '他说"你好', "odd quote left alone"),
    ("第一篇: 教育局局长讲话", "第一篇：教育局局长讲话", "marker colon and space"),
]


@pytest.mark.parametrize(("original", "expected"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_normalize_case(original, expected):
    assert normalize_line(original)[0] == expected


ALPHABET = st.sampled_from(
    list("教育局长讲话同志们今天我们一二三") + list("0123456789") + list("abcXYZ")
    + list(",.:;!?()\"'\\>%-") + list("，。：；！？（）“”《》、—…") + [" ", "\u3000", "\t", "\u00a0"]
)
_HAN = re.compile(r"[\u4e00-\u9fff]")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_normalization_is_idempotent(text):
    once, _ = normalize_line(text)
    assert normalize_line(once)[0] == once


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_normalization_keeps_han_characters_and_digits(text):
    out, _ = normalize_line(text)
    assert _HAN.findall(out) == _HAN.findall(text)
    assert re.findall(r"\d", out) == re.findall(r"\d", text)
