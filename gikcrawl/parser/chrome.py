"""Page chrome and injected spam that survived extraction (domain.md §3 "Spam").

Works on normalised lines. Whole lines that are chrome are dropped; spam inside a line is cut out. Every
removal is reported, so a reader can see what the parser did not count as report text.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

_CHROME_LINE = re.compile(
    r"当前位置|您的位置|所在位置|^(?:\d+\.\s*)?(?:网站)?首页\s*>|>\s*正文$|^(?:\d+\.\s*)?>\s*\S{0,6}$"
    r"|浏览次数|访问次数|阅读次数|点击数[:：]|点击量|字体[:：]|【\s*字体|^\[?\s*打印\s*\]?$|^打印本页$|关闭窗口|关闭本页"
    r"|分享到|扫一扫|^【?\s*[大中小]\s+[大中小]\s+[大中小]\s*】?$|^收藏$|^返回顶部$|^【?关闭】?$|^【?打印】?$"
    r"|^主办[:：单]|承办[:：]|版权所有|copyright|©|icp备|icp证|公网安备|网站标识码|举报电话|不良信息举报"
    r"|分辨率|浏览器访问|^网站地图|^联系我们$|技术支持[:：]"
    r"|^(?:附件下载|相关(?:链接|文章|阅读|新闻|解读|附件)|解读文章|政策解读|图片解读|文字解读)[:：]?\s*$",
    re.IGNORECASE)
# A line that starts the navigation to neighbouring articles: it and everything after it is page chrome
# (related-article lists, SEO link spam, footers).
_NAVIGATION = re.compile(r"^(?:\d+\.\s*)?(?:上一篇|下一篇|上一条|下一条|上一页|下一页)\s*[:：]?")
# The metadata table of a detail page, flattened into lines (label, label and value, or a pipe row).
METADATA_LABELS = ("索引号", "文号", "来源", "公开日期", "发布日期", "发布机构", "发文单位", "发文机关", "主题分类",
                   "成文日期", "名称", "标题", "主题词", "生效日期", "有效性", "发文字号", "信息来源", "发布时间",
                   "公开方式", "公开范围", "时效", "体裁分类", "组配分类", "文件编号", "所属机构", "信息分类")
_METADATA_LINE = re.compile(r"^\|?\s*(?:%s)\s*(?:[:：|]|$|\s)" % "|".join(
    r"\s*".join(label) for label in METADATA_LABELS))

# Gambling brands injected into hacked pages, prefixed to or substituted for place and agency names. Each
# pattern starts with a literal or a character class, so the regex engine skips ahead to candidates quickly
# (a 10 MB line costs milliseconds); the context rules (a lead-in before a generic brand, a Latin brand not
# inside a longer word, pinyin only after a character) are checked around each hit.
_BRANDS = re.compile(
    r"澳门新葡京|新葡京|澳门金沙|金沙娱乐|威尼斯人|太阳城|银河娱乐|永利皇宫|皇冠体育|[Bb][Ee][Tt]365|必赢亚洲|必赢|亚博体育|"
    r"开元棋牌|乐鱼体育|华体会|开云体育|半岛体育|星空体育|九游会|威廉希尔|博彩|百家乐|六合彩|时时彩|北京赛车|真人娱乐|"
    r"电子游艺|老虎机|网上赌场|澳门赌场|体育投注|关键[词字]\s*\d+")
_GENERIC_BRAND = re.compile(r"(?:娱乐|体育|棋牌|彩票)(?:官网|官方网站|网址|[Aa][Pp][Pp]|登录|注册|入口)")
_LEAD_IN = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,6}$")
_LATIN_BRAND = re.compile(r"[A-Za-z]{2,12}\d{2,4}(?:手机版|网页版|官方网站|官网|网址|[Aa][Pp][Pp]|平台|入口|登录|注册)+")
_PINYIN = re.compile(r"\(([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*)\)")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
# Mirrors also annotate without tone marks ("文(wen)章(zhang)"): a bracketed Pinyin syllable after a character,
# taken only where a line has several of them (a lone "(an)" could be anything).
_TONELESS = re.compile(r"\(((?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|"
                       r"ai|ei|ao|ou|an|en|er|ia|ie|iu|in|ua|uo|ui|un|ue|ve|a|o|e|i|u|v))\)")
_ALNUM = re.compile(r"[A-Za-z0-9]")


def _spans(line: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _BRANDS.finditer(line)]
    for m in _GENERIC_BRAND.finditer(line):
        lead = _LEAD_IN.search(line, max(0, m.start() - 6), m.start())
        spans.append((lead.start() if lead else m.start(), m.end()))
    for m in _LATIN_BRAND.finditer(line):
        if m.start() == 0 or not _ALNUM.match(line[m.start() - 1]):
            spans.append(m.span())
    for m in _PINYIN.finditer(line):
        if m.start() > 0 and _CJK_CHAR.match(line[m.start() - 1]):
            spans.append(m.span())
    toneless = [m.span() for m in _TONELESS.finditer(line)
                if m.start() > 0 and (_CJK_CHAR.match(line[m.start() - 1]) or line[m.start() - 1] == ")")]
    if len(toneless) >= 2:
        spans += toneless
    return spans


@dataclass
class Cleaned:
    lines: list[str]                 # same length as the input; a removed line becomes ""
    removed: list[str] = field(default_factory=list)
    chrome: set[int] = field(default_factory=set)   # indexes of removed lines


def is_metadata_line(line: str) -> bool:
    return bool(_METADATA_LINE.match(line))


def clean_inline(line: str, removed: list[str]) -> str:
    """Cut gambling brands, stray keyword tokens and pinyin annotations out of a line."""
    spans = _spans(line)
    if not spans:
        return line
    out, at = [], 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        out.append(line[at:start])
        removed.append(line[start:end])
        at = end
    out.append(line[at:])
    return "".join(out)


_GOVERNMENT_HOST = re.compile(r"(?:^|\.)gov(?:\.[a-z]{2})?$|\.gov\.cn$")
_SECOND_LEVEL = {"com", "net", "org", "edu", "gov", "ac"}


def mirror_domain(url: str | None) -> str | None:
    """The registered domain of a page served from a host that is not a government's (a mirror or a spam
    copy): such a site swaps its own domain into the report in place of the official one."""
    m = re.match(r"^\s*https?://([^/:\s?#]+)", url or "", re.IGNORECASE)
    if not m:
        return None
    host = m.group(1).lower().rstrip(".")
    if _GOVERNMENT_HOST.search(host) or re.fullmatch(r"[\d.]+|localhost", host):
        return None
    labels = host.split(".")
    if len(labels) < 2:
        return None
    size = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-size:])


def _domain_pattern(domain: str) -> re.Pattern:
    return re.compile(r"(?:https?://)?(?:[A-Za-z0-9-]+\.)*" + re.escape(domain) + r"(?::\d+)?(?:/[^\s)\]」』》,;]*)?",
                      re.IGNORECASE)


# What every rule above needs to see in a line: a line with none of these is neither chrome, navigation nor
# metadata and holds no spam, so it is not looked at one by one. Checked once over the whole text, which is
# fast only as literal alternatives behind a class of their first characters (sre skips the other characters
# in C); one pattern with the rules themselves costs ~2 ms on a 3 KB report. A new rule needs its literal here
# (tests/test_parser_fast_paths.py holds every rule's examples to it). Spam words apart: only a line one of
# them touches can hold spam, so only those lines are searched for it (解读, 相关 are common in report prose).
_CHROME_WORDS = (
    r"[上下]一[篇条页]",                                                          # _NAVIGATION
    "位置", "首页", ">", "次数", "点击", "字体", "打印", "关闭", r"分享", "扫一扫", r"[大中小]\s", "收藏",  # _CHROME_LINE
    "返回顶部", "主办", "承办", "版权所有", "[Cc][Oo][Pp][Yy][Rr][Ii][Gg][Hh][Tt]", "©", "[Ii][Cc][Pp]", "公网安备",
    "网站标识码", "举报", "分辨率", "浏览器", "网站地图", "联系我们", "技术支持", "附件下载", "相关", "解读",
)
_SPAM_WORDS = (
    *_BRANDS.pattern.split("|"),                                                   # _BRANDS
    "娱乐", "体育", "棋牌", "彩票",                                                # _GENERIC_BRAND
    "手机版", "网页版", "官方网站", "官网", "网址", "[Aa][Pp][Pp]", "平台", "入口", "登录", "注册",  # _LATIN_BRAND
    r"\([a-zü]", r"\([āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]",                               # _PINYIN, _TONELESS
)
_TRIGGER_WORDS = _CHROME_WORDS + _SPAM_WORDS


def _first_class(word: str) -> str:
    if word.startswith("["):
        return word[1:word.index("]")]
    return word[:2] if word.startswith("\\") else re.escape(word[0])


def _searched(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words as searched: one that starts with 公 or 开 from its second character. Every report repeats
    公开 (政府信息公开, 主动公开), so those heads would stop the search at a tenth of all characters; the rest
    of the word still lies on the same line, which is all a candidate needs."""
    return tuple(w[1:] if w[:1] in "公开" and w[1:2].isalpha() else w for w in words)


_SPAM_AT = re.compile("|".join(_SPAM_WORDS))
_TRIGGER = re.compile("(?=[%s])(?:(?P<spam>%s)|%s)" % (
    "".join(dict.fromkeys(_first_class(w) for w in _searched(_TRIGGER_WORDS))),
    "|".join(_searched(_SPAM_WORDS)), "|".join(_searched(_CHROME_WORDS))))
# _METADATA_LINE's labels start a line; as words they would start at 发, 文, 来, 信 … everywhere. Searched after
# a "\n" in "\n" + text, a literal prefix sre finds fast (a ^ anchor is tried at every position); the class
# after it lets most lines go without trying each label.
_METADATA_TRIGGER = re.compile(r"\n(?=[|\s%s])\|?\s*(?:%s)" % ("".join(dict.fromkeys(label[0] for label in METADATA_LABELS)),
                                                         "|".join(r"\s*".join(label) for label in METADATA_LABELS)))


def _candidate_lines(text: str, starts: list[int], extra: re.Pattern | None) -> tuple[list[int], set[int]]:
    """Indexes of the lines a match of a trigger pattern (or of extra) touches, in order; and those a spam
    word touches."""
    found: set[int] = set()
    spam: set[int] = set()

    def touched(start: int, end: int, into: set[int] = found) -> None:
        into.update(range(bisect_right(starts, start) - 1, bisect_right(starts, max(end - 1, start))))

    for m in _TRIGGER.finditer(text):
        if m.lastgroup:
            touched(m.start(), m.end(), spam)
            continue
        touched(m.start(), m.end())
        for k in range(m.start() + 1, m.end()):      # a spam word the chrome word overlaps: 字体|体育官网
            hit = _SPAM_AT.match(text, k)
            if hit:
                touched(k, hit.end(), spam)
    for m in extra.finditer(text) if extra is not None else ():
        touched(m.start(), m.end())
    for m in _METADATA_TRIGGER.finditer("\n" + text):   # offsets in text: the "\n" is one before
        touched(m.start(), m.end() - 1)
    return sorted(found | spam), spam


def clean_lines(lines: list[str], keep_from: int = 0, mirror: str | None = None) -> Cleaned:
    """Drop chrome lines and cut spam out of the others.

    keep_from: index of the first line of the report proper (its title); short lines above it are page
    header (site name, metadata labels and values) and are dropped.
    mirror: the domain of the mirror the page was taken from (mirror_domain): cut out wherever it appears.
    """
    own_domain = _domain_pattern(mirror) if mirror else None
    out = list(lines)
    result = Cleaned(out)
    text = "\n".join(lines)
    starts = [0, *accumulate(len(line) + 1 for line in lines)]
    touched, spam = _candidate_lines(text, starts, own_domain)
    candidates = list(range(min(keep_from, len(lines)))) + [i for i in touched if i >= keep_from]
    for i in candidates:
        line = lines[i]
        if not line or line.isspace():
            continue
        navigation, chrome, size = _verdict(line)
        if navigation:
            for j in range(i, len(lines)):          # the navigation and everything after it
                if lines[j] and not lines[j].isspace():
                    result.removed.append(lines[j].strip())
                    result.chrome.add(j)
                    out[j] = ""
            break
        if chrome or (i < keep_from and size <= 40):
            result.removed.append(line.strip())
            result.chrome.add(i)
            out[i] = ""
            continue
        if own_domain is not None:
            line, swapped = own_domain.subn(lambda m: result.removed.append(m.group(0)) or "", line)
            if swapped:
                spam.add(i)                         # the cut may join spam words
        if i in spam:
            line, cut = _inline_cut(line)
            result.removed.extend(cut)
        out[i] = line
    return result


# Reports repeat their lines (cells "0", template labels) within a page and across pages: each verdict and
# each spam cut is computed once per distinct line.
@lru_cache(maxsize=65536)
def _verdict(line: str) -> tuple[bool, bool, int]:
    """(starts the neighbour-article navigation, is a chrome line, stripped length)."""
    stripped = line.strip()
    short = len(stripped) <= 120
    return (bool(_NAVIGATION.match(stripped)), short and bool(_CHROME_LINE.search(line) or is_metadata_line(line)),
            len(stripped))


@lru_cache(maxsize=65536)
def _inline_cut(line: str) -> tuple[str, tuple[str, ...]]:
    removed: list[str] = []
    return clean_inline(line, removed), tuple(removed)
