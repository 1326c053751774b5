"""The parser's fast paths must give exactly what the slow, obvious code gives.

Each fast path replaces a per-line or per-character computation by a cheaper one that is only valid under a
stated condition (NFKC boundaries, trigger words, Traditional-only characters); these tests hold them to it.
"""
from __future__ import annotations

import glob
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gikcrawl.parser import chrome
from gikcrawl.parser.normalize import _TRADITIONAL_HINT, _t2s, nfkc

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"

# Characters where NFKC is hard: full-width forms, combining marks, Hangul jamo, compatibility ideographs,
# enclosed numbers, ligatures, composition pairs of Indic scripts, kana voicing marks.
_HARD = [chr(c) for c in [*range(0x20, 0x7f), *range(0x4e00, 0x4e20), *range(0xff01, 0xff60), *range(0x300, 0x330),
                          *range(0x1100, 0x1115), *range(0x1161, 0x1176), *range(0x11a8, 0x11c3), *range(0x2460, 0x24a0),
                          *range(0x3200, 0x3250), *range(0xf900, 0xf920), *range(0x2f00, 0x2f10), 0x3000, 0x2026, 0xac00,
                          0x00e9, 0x1e9b, 0x212b, 0x2126, 0x00a0, 0xfb01, 0x3001, 0x3002, 0x201c, 0x3099, 0x309a,
                          0x304b, 0x30ab, 0xff76, 0xff9e, 0x0b47, 0x0b3e, 0x0b57, 0x09c7, 0x09be, 0x2163, 0x33a1,
                          0x2103, 0x00bd, 0x00b2]]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(_HARD), max_size=40))
def test_nfkc_equals_unicodedata(text):
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


def test_nfkc_equals_unicodedata_on_real_pages():
    for path in glob.glob(str(SHARED / "real" / "*.txt")) + glob.glob(str(SHARED / "seeds" / "*.txt")):
        text = Path(path).read_text(encoding="utf-8")
        for variant in (text, text.replace(",", "，").replace(":", "：").replace("(", "（") + "……①"):
            assert nfkc(variant) == unicodedata.normalize("NFKC", variant), path


def test_traditional_hint_holds_only_traditional_characters():
    # a simplified character in the hint sends every simplified page through OpenCC (its largest cost)
    simplified = [c for c in _TRADITIONAL_HINT.pattern.strip("[]") if _t2s().convert(c) == c]
    assert simplified == []


# Lines each chrome/spam rule removes or cuts; every one must hold a trigger word, or the whole-text prefilter
# would let it through untouched.
_RULE_EXAMPLES = [
    "当前位置:首页 > 信息公开 > 年报", "您的位置:网站首页>政务公开", "首页 > 政务公开", "> 正文", "2. > 年报",
    "浏览次数:125", "访问次数:3", "阅读次数:12", "点击数:45", "点击量:3", "字体:大 中 小", "【字体:大 中 小】",
    "[打印]", "打印本页", "关闭窗口", "关闭本页", "分享到:", "扫一扫在手机打开当前页", "大 中 小", "收藏", "返回顶部",
    "关闭", "打印", "主办:某县人民政府办公室", "承办:县大数据中心", "版权所有:某县人民政府", "Copyright 2023",
    "© 2023 某县", "ICP备12345678号", "京ICP证000号", "公网安备 11010502030143号", "网站标识码:3301000001",
    "举报电话:12345", "不良信息举报", "建议使用1024*768分辨率", "推荐使用IE9以上浏览器访问", "网站地图", "联系我们",
    "技术支持:某公司", "附件下载:", "相关链接", "相关文章", "解读文章", "政策解读", "图片解读", "文字解读",
    "上一篇:2021年报告", "下一篇:无", "上一条", "下一页", "索引号:11330000/2022-00001", "索 引 号: 1",
    "发布机构:县政府办", "| 来源 | 县政府 |", "主题分类:其他", "成文日期:2022-01-20", "有效性:有效",
    "澳门新葡京官网", "新葡京", "bet365", "BET365体育", "体育官网入口", "某某娱乐官网登录", "beat365手机版官方网站",
    "拖市镇(zhèn)人民政府", "文(wen)章(zhang)", "关键词 123",
    "数字体育投注",                    # a spam word (体育投注) that a chrome word (字体) overlaps
]


def test_every_rule_example_is_a_candidate():
    for example in _RULE_EXAMPLES:
        cleaned = chrome.clean_lines(["某县2022年政府信息公开工作年度报告", example, "正文一句话。"])
        touched = cleaned.lines[1] != example or 1 in cleaned.chrome
        assert touched, f"rule example not acted on: {example!r}"
        assert chrome._TRIGGER.search(example) or chrome._METADATA_TRIGGER.search("\n" + example), \
            f"no trigger word in {example!r}"


def test_candidate_lines_give_what_every_line_checked_gives():
    # the slow form of clean_lines: every line through the per-line verdict and spam cut
    def slow(lines, keep_from=0):
        out, removed, gone, nav = list(lines), [], set(), None
        for i, line in enumerate(lines):
            if not line:
                continue
            navigation, is_chrome, size = chrome._verdict(line)
            nav = i if nav is None and navigation else nav
            if nav is not None or is_chrome or (i < keep_from and size <= 40):
                removed.append(line.strip())
                gone.add(i)
                out[i] = ""
                continue
            out[i], cut = chrome._inline_cut(line)
            removed.extend(cut)
        return out, removed, gone

    pages = [Path(p).read_text(encoding="utf-8").split("\n") for p in glob.glob(str(SHARED / "real" / "*.txt"))]
    pages.append(_RULE_EXAMPLES + ["正文。"] * 3)
    for lines in pages:
        lines = [line.strip() for line in lines]
        for keep_from in (0, 3):
            fast = chrome.clean_lines(lines, keep_from)
            assert (fast.lines, fast.removed, fast.chrome) == slow(lines, keep_from)


def test_other_space_class_is_isspace_without_space_and_newline():
    # spelled out for speed; it must stay exactly the whitespace str.strip() removes, less " " and "\n"
    from gikcrawl.parser import _OTHER_SPACE
    every = [chr(c) for c in range(0x110000)]
    assert [c for c in every if _OTHER_SPACE.match(c)] == [c for c in every if c.isspace() and c not in " \n"]


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from([*" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029"
                                         "\u202f\u205f\u3000\ufeff", "a", "行", "|", "1"]), max_size=30))
def test_squash_removes_what_the_whitespace_regex_matches(text):
    import re

    from gikcrawl.parser.normalize import squash
    assert squash(text) == re.sub(r"\s+", "", text)
