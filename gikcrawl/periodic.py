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
    if settings.get("REDIS_URL"):
        return _run_worker(settings, archive, sites, refresh, resume, overrides)
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
    return _crawl(archive, f"{run_id}.json", run_id, sites, refresh, resume, overrides)


def _run_worker(settings, archive: Path, sites: str, refresh: str, resume: bool, overrides: dict) -> int:
    """One worker of a distributed run: it joins the run in Redis. --resume continues the run this worker
    (same WARC_WORKER_ID) left unfinished: its own in-flight requests are reclaimed, its catalog rows kept."""
    from .distributed import RUN_KEY, redis_from_url, shared_run_id, worker_id
    url, worker = settings.get("REDIS_URL"), worker_id(settings)
    overrides = dict(overrides, WARC_WORKER_ID=worker)
    if resume:
        mine = archive / f"catalog-{worker}.sqlite"
        catalog = Catalog(mine) if mine.exists() else None
        try:
            unfinished = catalog.unfinished_run() if catalog else None
        finally:
            if catalog:
                catalog.close()
        current = redis_from_url(url).get(RUN_KEY)
        current = current.decode() if current else None
        if unfinished is None and current is None:
            print(f"gikcrawl archive: worker {worker} has no unfinished run to resume", file=sys.stderr)
            return 2
        if unfinished is not None and current != unfinished[0]:
            print(f"gikcrawl archive: worker {worker} left run {unfinished[0]} unfinished, but Redis now runs "
                  f"{current}: its frontier is gone; start a new run", file=sys.stderr)
            return 2
        run_id = current
        if unfinished is not None:
            sites, refresh = unfinished[1], unfinished[2]
        print(f"resuming run {run_id} as worker {worker} (sites {sites}, refresh {refresh})", file=sys.stderr)
    else:
        run_id = shared_run_id(url, new_run_id())
    return _crawl(archive, f"{run_id}-{worker}.json", run_id, sites, refresh, resume, overrides)


def _crawl(archive: Path, report_name: str, run_id: str, sites: str, refresh: str, resume: bool,
           overrides: dict) -> int:
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
