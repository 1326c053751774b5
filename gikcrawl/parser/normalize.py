"""Text normalisation: Unicode compatibility forms, traditional → simplified script, whitespace."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_CJK = re.compile(r"[\u4e00-\u9fff]")
_OTHER_SPACES = r"\t\u00a0\u3000\u2002-\u200b\ufeff"        # horizontal whitespace other than " "
_SPACES = re.compile(f"[ {_OTHER_SPACES}]+")
_ODD_SPACE = re.compile(f"[{_OTHER_SPACES}]")
# Traditional-only forms of characters every report uses (開 of 公開, 條 of 條例, 報 of 報告, 國, 會, 發, 關, 區, 縣 …):
# a text without any of them is not Traditional, and the conversion (the parser's largest single cost on a
# simplified page) is skipped. A text with one of them goes through OpenCC and its own rule below.
_TRADITIONAL_HINT = re.compile(
    "[開條報國會發關區縣鎮鄉這為與們時來對進過還個學機無實現電網權義書歷應圍項據統計務總體處結論單審請辦證認設"
    "費錄類屬檔規範華點擊載號碼頁標題內發佈責編輯劃導讀續濟產業醫療衛養護險環農態參積極讓訊業務門戶網財預決"
    "經們於從將興衆眾復訴訟議決級監舉辦執聯繫構辦廳員長價倉動勞務傳區劃園塊壓壞壯夠夢奪獎婦孫寧實寫專將"
    "屆層歲島廣廢廳彈彙後徑恆惡愛態慣應懷戰戶據擔擬擴擁擇擊擋擺攝攤數斷於時晉書會東樂樓標樣權橫檢歸氣漢溝滿"
    "災為無煙熱燈獨獲環現産畢異當療發監盡確碼禮種穩窮競筆節範築簡糧紀約紅級紙組細終經綜綠網線練縣總績繼續"
    "罰羅職聯聲肅腦臨舊艦藝華萬葉蘇號蟲衛裝製複見規視覽覺親觀計訂認討訓記許設訪證評詞試詳語說請調談論諮"
    "議講貝負財責貨質購貿費資賠賬賣賦輔輕載農逕運過達遠適遷選遺邊鄉鄰鄭醫鍊鎮長門開間閱關陣陰陳陸隊際隨隱"
    "險雙雜雞離難電頂項順須預領頭題額顯類風飛養館馬駐驗體鬥鳥齊齒龍]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# NFKC is slow on CJK text once it has to compose (one full-width comma makes a 3 KB page cost ~1 ms, and
# Chinese prose has one every few characters). NFKC(text) is unchanged when a character is first replaced by
# its full compatibility decomposition (NFKD is char by char before it reorders and composes), so the
# characters that decompose to ASCII and CJK ideographs only — full-width forms, the ideographic space, …, ①,
# ⑴, ㈠, Kangxi radicals, compatibility ideographs — are replaced with str.replace (in C). What is left is
# rarely unnormalised; then, since CJK unified ideographs are normalisation boundaries (starters that neither
# decompose nor compose), only the runs between them that hold another unstable character go through unicodedata.
_UNSTABLE_RUN = re.compile("[^\u4e00-\u9fff]*[^\x00-\x7f\u4e00-\u9fff\u3001\u3002\u3008-\u3011\u2018\u2019"
                           "\u201c\u201d\u2014\u00b7][^\u4e00-\u9fff]*")


@lru_cache(maxsize=1)
def _simple_compat() -> tuple[re.Pattern, dict[str, str]]:
    """The BMP characters whose NFKD is ASCII and CJK ideographs only, and that NFKD."""
    table = {}
    for code in range(0x80, 0x10000):
        char = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        if decomposed != char and all(c < "\x80" or "\u4e00" <= c <= "\u9fff" for c in decomposed):
            table[char] = decomposed
    return re.compile("[%s]" % re.escape("".join(table))), table


# the ones Chinese prose and tables use all the time
_COMMON_COMPAT = tuple((c, unicodedata.normalize("NFKD", c)) for c in "，：；（）！？％＋－／＝＜＞［］｛｝～＂＇＃＆＊．、"
                       "０１２３４５６７８９\u3000…\u00a0" if unicodedata.normalize("NFKD", c) != c)


def _nfkc_run(m: re.Match) -> str:
    return unicodedata.normalize("NFKC", m.group())


def nfkc(text: str) -> str:
    """Full-width digits, letters and punctuation → ASCII; keeps CJK ideographs. Equals
    unicodedata.normalize("NFKC", text)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for char, decomposed in _COMMON_COMPAT:         # a presence test per character is cheaper than a scan
        if char in text:
            text = text.replace(char, decomposed)
    if unicodedata.is_normalized("NFKC", text):
        return text
    pattern, table = _simple_compat()
    for char in set(pattern.findall(text)):
        text = text.replace(char, table[char])
    if unicodedata.is_normalized("NFKC", text):
        return text
    return _UNSTABLE_RUN.sub(_nfkc_run, text)


def to_simplified(text: str, force: bool = False) -> tuple[str, bool]:
    """Convert traditional characters (and a bad converter's artifacts like 方麵) to simplified.

    Returns the text and whether it was converted. Simplified text passes through unchanged; a few
    scattered conversions in a simplified text (variant characters) do not count as traditional script,
    unless force (a short text, e.g. a title, from a page already found to be traditional).
    """
    if not force and not _TRADITIONAL_HINT.search(text):
        return text, False                  # no common Traditional-only character: nothing to convert
    converted = _t2s().convert(text)
    if converted == text:
        return text, False
    if force:
        return converted, True
    changed = sum(1 for a, b in zip(text, converted) if a != b)
    cjk = len(_CJK.findall(text)) or 1
    if changed >= 5 and changed / cjk > 0.005:
        return converted, True
    return text, False


def clean_line(line: str) -> str:
    """Collapse runs of horizontal whitespace and strip the line."""
    return _SPACES.sub(" ", line).strip()


def squash(text: str) -> str:
    """All whitespace removed: for matching labels broken by spaces or line breaks. (str.split's whitespace
    is what a regex \\s matches in str patterns; split and join cost a third of a sub.)"""
    return "".join(text.split())


def normalize_text(text: str) -> tuple[str, bool]:
    """NFKC, then simplified script, horizontal whitespace runs collapsed. Returns (text, script_normalized)."""
    text = nfkc(text.replace("\r\n", "\n").replace("\r", "\n"))
    text, converted = to_simplified(text)
    if _ODD_SPACE.search(text):
        text = _SPACES.sub(" ", text)
    else:                           # only plain spaces: str.replace in C (a sub costs ~0.15 ms on pipe rows)
        while "  " in text:
            text = text.replace("  ", " ")
    return text, converted
