"""`gikcrawl sites probe` and `gikcrawl sites check`: run the spider in-process, print, write."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..sites import SiteConfigError, load_sites


def _crawl(spidercls, overrides: dict, **spider_args):
    from scrapy.crawler import CrawlerProcess

    from ..crawl import project_settings
    settings = project_settings({"LOG_LEVEL": "WARNING", **overrides})
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spidercls)
    process.crawl(crawler, **spider_args)
    process.start()
    return crawler


def read_homepages(urls: list[str], from_file: str | None) -> list[str]:
    """URLs from the command line and from a file (one a line; blank lines and # comments skipped)."""
    out = list(urls)
    if from_file:
        text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text(encoding="utf-8")
        out += [line.split("#", 1)[0].strip() for line in text.splitlines()]
    seen, homes = set(), []
    for url in out:
        if url and url not in seen:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url}")
            seen.add(url)
            homes.append(url)
    return homes


def probe(homepages: list[str], *, output: str | None, config: str | None, overrides: dict, key: str | None = None,
          report: str | None = None, out=sys.stdout) -> int:
    from .entry import diff, entry_dict, existing_entry, judge, write_entries
    from .spider import ProbeSpider

    if key and len(homepages) != 1:
        raise ValueError("--key needs exactly one homepage")
    from ..sites import DEFAULT_PATH
    config = config or DEFAULT_PATH
    existing = load_sites(config) if Path(config).exists() else None
    crawler = _crawl(ProbeSpider, overrides, homepages=homepages)
    verdicts = [judge(crawler.spider.probes[h], key) for h in homepages]
    robots = crawler.stats.get_value("robotstxt/request_count", 0)
    entries, keys, columns = {}, set(), {}
    for v in verdicts:
        print(f"== {v.homepage}: {v.status.upper()} ({v.requests} requests)", file=out)
        for line in v.lines + [f"warning: {w}" for w in v.warnings]:
            print(f"   {line}", file=out)
        if not v.ok:
            print("   pages tried:", file=out)
            for line in v.tried:
                print(f"     {line}", file=out)
            continue
        same = columns.get(tuple(v.entry["start_urls"]))
        if same:                         # two homepages of one site (www. and bare host, an old domain)
            v.status = "duplicate"
            print(f"   same columns as {same}: no second entry", file=out)
            continue
        old_key = existing_entry(existing, v.homepage, v.entry)
        if old_key:
            v.key = old_key
            change = diff(old_key, entry_dict(existing.sites[old_key]), v.entry)
            print(f"   existing entry {old_key!r}: " + ("unchanged" if not change else "differs:"), file=out)
            if change:
                print("   " + change.replace("\n", "\n   ").rstrip(), file=out)
        base, n = v.key, 2
        while v.key in keys or (not old_key and existing and v.key in existing.sites):
            v.key, n = f"{base}-{n}", n + 1           # never replace another site's entry
        keys.add(v.key)
        columns[tuple(v.entry["start_urls"])] = v.key
        entries[v.key] = v.entry
    if output and entries:
        try:
            write_entries(output, entries)
        except SiteConfigError as e:
            print(f"gikcrawl sites probe: entries not written: {e}", file=sys.stderr)
            return 2
        print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} written to {output}: "
              f"{', '.join(entries)}", file=out)
    elif entries and not output:
        import yaml
        print(yaml.safe_dump({"sites": entries}, allow_unicode=True, sort_keys=False, width=120), file=out)
    if report:
        Path(report).write_text(json.dumps([v.as_dict() for v in verdicts], ensure_ascii=False, indent=1),
                                encoding="utf-8")
    ok = sum(v.status in ("ok", "duplicate") for v in verdicts)
    total = sum(v.requests for v in verdicts)
    print(f"{ok}/{len(verdicts)} homepages onboarded; {total} requests ({total / max(1, len(verdicts)):.1f} per "
          f"site) and {robots} robots.txt", file=out)
    return 0 if ok == len(verdicts) else 1
