"""The archive in the web-archiving ecosystem: real pywb (`gikcrawl serve`) replays every report page and
attachment with its body after three periodic runs; `gikcrawl wacz` makes a WACZ that `wacz validate` accepts."""
import json
import sqlite3
import subprocess
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from crawl_helpers import minimal_entry, write_sites
from pywb_helpers import archived, fetch, serving, wayback_or_skip
from test_periodic import archive

from gikfixtures.replica import ReplicaServer, build_site
from gikcrawl.serve import replay_url


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    wayback_or_skip()
    tmp = tmp_path_factory.mktemp("pywb")
    site = build_site("hanweb", seed=21, n_reports=6)
    with ReplicaServer(site) as server:
        yaml_path = write_sites(tmp / "sites.yaml", {site.key: minimal_entry(server, site)})
        out = tmp / "archive"
        archive(yaml_path, out)                       # 1: everything new
        archive(yaml_path, out)                       # 2: --refresh new: known reports revalidated (304)
        archive(yaml_path, out, "--refresh", "all")   # 3: everything again: revisits for the unchanged
        yield server, site, out


def _stamp(warc_date: str) -> str:
    return warc_date[:19].replace("-", "").replace("T", "").replace(":", "")


def _latest_with_body(caps):
    return next(c for c in reversed(caps) if c[0] == "response")


def test_every_report_and_attachment_replays_with_its_body_after_three_runs(three_runs):
    server, site, out = three_runs
    captures = archived(out)
    wanted = [server.base_url + p for p in list(site.reports) + site.attachments]
    profiles = {}
    for url in wanted:
        caps = captures[("GET", url)]
        assert len(caps) == 3, (url, [c[:3] for c in caps])       # captured in each run
        profiles[url] = [c[2] for c in caps]
    assert any(p[1:] == [304, 304] for p in profiles.values()), profiles    # the case pywb showed blank
    with serving(out) as base:
        for url in wanted:
            status, headers, body = fetch(f"{base}2100id_/{url}")
            assert status == 200, (url, status, body[:300])
            assert body == _latest_with_body(captures[("GET", url)])[3], url
            shown = _latest_with_body(captures[("GET", url)])[1]      # the body's own capture time
            assert parsedate_to_datetime(headers["Memento-Datetime"]).strftime("%Y%m%d%H%M%S") == _stamp(shown)
            # pywb's own index lists the three captures, none of them as a bodiless 304
            status, _, cdx = fetch(f"{base[:-1]}/cdx?" + urlencode({"url": url, "output": "json"}))
            rows = [json.loads(line) for line in cdx.decode().splitlines()]
            assert [r["timestamp"] for r in rows] == [_stamp(c[1]) for c in captures[("GET", url)]], (url, rows)
            assert all(r.get("status") == "200" for r in rows), (url, rows)
        # the address a report links to (gikcrawl.serve.replay_url) opens its capture
        db = sqlite3.connect(out / "catalog.sqlite")
        url, fetched_at = db.execute("SELECT url, fetched_at FROM reports ORDER BY url LIMIT 1").fetchone()
        status, _, body = fetch(replay_url(base, url, fetched_at))
        assert status == 200 and url.encode() in body
        # the rewritten page a visitor sees carries the report's text
        page = server.base_url + next(p for p, truth in site.reports.items() if truth)
        status, _, body = fetch(f"{base}2100mp_/{page}")
        assert status == 200 and site.reports[page[len(server.base_url):]].title.encode("utf-8") in body


def test_post_list_revisits_replay_in_pywb(three_runs):
    _, _, out = three_runs
    captures = archived(out)
    posts = {url: caps for (method, url), caps in captures.items() if method == "POST"}
    assert posts, "the Hanweb dataproxy list is fetched with POST"
    lines = [json.loads(line.split(" ", 2)[2]) for f in out.glob("*.cdxj") for line in f.read_text().splitlines()]
    revisits = [e for e in lines if e.get("mime") == "warc/revisit" and e["url"] in posts]
    assert revisits and all(e.get("method") == "POST" for e in revisits)
    with serving(out) as base:
        for url, caps in posts.items():
            assert caps[-1][0] == "revisit"
            form = _form_of(out, url)
            status, _, body = fetch(f"{base}2100id_/{url}", data=form,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert status == 200, (url, status, body[:300])
            assert body == _latest_with_body(caps)[3]


def _form_of(out, url) -> bytes:
    from warcio.archiveiterator import ArchiveIterator
    for w in sorted(out.glob("*.warc.gz")):
        with open(w, "rb") as f:
            for rec in ArchiveIterator(f):
                if (rec.rec_type == "request" and rec.rec_headers.get_header("WARC-Target-URI") == url
                        and rec.http_headers.protocol == "POST"):
                    return rec.content_stream().read()
    raise AssertionError(f"no POST request record for {url}")


def test_serve_without_pywb_or_warcs_says_why(tmp_path):
    from pywb_helpers import GIKCRAWL
    run = subprocess.run([GIKCRAWL, "serve", str(tmp_path), "--pywb", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "pywb not found" in run.stderr
    run = subprocess.run([GIKCRAWL, "serve", str(tmp_path), "--pywb", str(wayback_or_skip())],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "no WARC files" in run.stderr


def test_wacz_holds_warcs_index_and_report_pages_and_validates(three_runs, tmp_path):
    import gzip
    import zipfile

    from pywb_helpers import GIKCRAWL
    server, site, out = three_runs
    wacz = tmp_path / "archive.wacz"
    run = subprocess.run([GIKCRAWL, "wacz", str(out), "-o", str(wacz)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    check = subprocess.run([str(Path(GIKCRAWL).parent / "wacz"), "validate", "-f", str(wacz)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(wacz) as z:
        package = json.loads(z.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1"
        assert sorted(n for n in z.namelist() if n.startswith("archive/")) == \
            sorted(f"archive/{w.name}" for w in out.glob("*.warc.gz"))
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()]
        extra = [json.loads(line) for line in z.read("pages/extraPages.jsonl").decode().splitlines()]
        index = gzip.decompress(z.read("indexes/index.cdx.gz")).decode().splitlines()
    db = sqlite3.connect(out / "catalog.sqlite")
    reports = {url: (title, at) for url, title, at in db.execute("SELECT url, title, fetched_at FROM reports")}
    assert pages[0]["format"] == "json-pages-1.0"
    assert {p["url"]: (p["title"], p["ts"][:19]) for p in pages[1:]} == \
        {url: (title, at[:19]) for url, (title, at) in reports.items()}
    assert len(reports) >= len([t for t in site.reports.values() if t])
    listed = {p["url"] for p in extra[1:]}
    assert server.base_url + site.start_path in listed and not any("dataproxy" in u for u in listed)
    # the WACZ's own index: 304 revisits point at the body they confirm, POST revisits keyed as POST
    entries = [json.loads(line.split(" ", 2)[2]) for line in index]
    redirected = [e for e in entries if "revisit" in e]
    assert redirected and all(e["mime"] != "warc/revisit" and e["status"] == "200" for e in redirected)
    assert all(e["revisit"]["status"] == "304" for e in redirected)
    assert all(e.get("method") == "POST" for e in entries if "dataproxy" in e.get("url", ""))


def test_wacz_without_catalog_says_why(tmp_path):
    from pywb_helpers import GIKCRAWL
    run = subprocess.run([GIKCRAWL, "wacz", str(tmp_path), "-o", str(tmp_path / "x.wacz")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "no WARC files" in run.stderr and not (tmp_path / "x.wacz").exists()
