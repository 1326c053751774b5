"""`gikcrawl archive`: one archival run over many sites, incremental and resumable, with a run report."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .catalog import Catalog
from .crawl import project_settings, run_county
from .runs import format_report, new_run_id


def parse_overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"-s takes NAME=VALUE, not {pair!r}")
        out[name] = value
    return out


def run_archive(sites: str, refresh: str, resume: bool, overrides: dict) -> int:
    from .startup import check_crawl
    settings = project_settings(overrides)
    check_crawl(settings, sites)          # a bad configuration: one line (gikcrawl/cli.py), nothing started
    archive = Path(settings.get("ARCHIVE_DIR"))
    catalog = Catalog(archive / "catalog.sqlite")
    try:
        if resume:
            unfinished = catalog.unfinished_run()
            if unfinished is None:
                print("gikcrawl archive: no unfinished run to resume", file=sys.stderr)
                return 2
            run_id, sites, refresh = unfinished
            print(f"resuming run {run_id} (sites {sites}, refresh {refresh})", file=sys.stderr)
        else:
            run_id = new_run_id()
    finally:
        catalog.close()
    report_name = f"{run_id}.json"
    if settings.get("REDIS_URL"):                 # one worker of a distributed run: join the shared run id
        from .distributed import shared_run_id, worker_id
        run_id = shared_run_id(settings.get("REDIS_URL"), run_id)
        overrides = dict(overrides, WARC_WORKER_ID=worker_id(settings))
        report_name = f"{run_id}-{overrides['WARC_WORKER_ID']}.json"
    stats = run_county(dict(overrides, GIKCRAWL_RUN_ID=run_id, GIKCRAWL_REFRESH=refresh,
                            GIKCRAWL_RESUME=resume), site=sites)
    report_path = archive / "runs" / report_name
    if stats.get("finish_reason") != "finished" or not report_path.exists():
        print(f"gikcrawl archive: run {run_id} did not finish ({stats.get('finish_reason')}); "
              f"continue it with --resume", file=sys.stderr)
        return 2
    report = json.loads(report_path.read_text(encoding="utf-8"))
    print(format_report(report))
    print(f"run report: {report_path}")
    failed = [site for site, r in report["sites"].items() if r["failed_entirely"]]
    if failed:
        print(f"gikcrawl archive: sites failed entirely: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
