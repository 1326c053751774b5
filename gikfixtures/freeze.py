"""Freeze the demo replica into gikcrawl/demo_site/ (the files `gikcrawl demo` serves).

    python -m gikfixtures.freeze [DEST]

Run it after changing the demo site's generator; tests/test_demo.py fails while the frozen copy and the
generator disagree.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from gikcrawl.siteserver import DEMO_SITE_DIR, Site, save_site

from .replica import build_demo_site

# The Hanweb dataproxy answers what it is asked: frozen for the queries the county spider sends
# (CountySpider.dataproxy_request: records 1 … 3 × perpage, then the next 3 × perpage while more remain).
DATAPROXY_PERPAGE = 15


def demo_probes(site: Site) -> dict[str, list[str]]:
    probes = {}
    for path, handler in site.handlers.items():
        queries, start, step = [], 1, DATAPROXY_PERPAGE * 3
        while True:
            queries.append(f"startrecord={start}&endrecord={start + step - 1}&perpage={DATAPROXY_PERPAGE}")
            answer = handler("POST", {"startrecord": [str(start)], "perpage": [str(DATAPROXY_PERPAGE)]}, b"")
            total = int(answer.body.split(b"<totalrecord>")[1].split(b"<")[0])
            start += step
            if start > total:
                break
        probes[path] = queries
    return probes


def freeze_demo(dest: str | Path = DEMO_SITE_DIR) -> Path:
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    site = build_demo_site()
    return save_site(site, dest, demo_probes(site))


if __name__ == "__main__":
    print(freeze_demo(*sys.argv[1:2]))
