"""Archival runs: what a run knows of earlier ones, and the report of what changed.

A run has an id (its UTC start, also in its WARC file names) and a refresh mode:
  new  report pages and attachments captured by an earlier run are not downloaded again: they are
       revalidated with a conditional request (If-None-Match / If-Modified-Since) where the earlier capture
       had an ETag / Last-Modified (a 304 costs no body), and skipped otherwise; list pages are always
       fetched; known reports no longer linked from any list are checked once (404/410: vanished)
  all  everything is fetched again (conditionally where possible); an unchanged payload is archived as a
       revisit record (identical-payload-digest, or server-not-modified for a 304)
The run report, per site: pages fetched, new reports, unchanged, changed (same URL, new digest; both
captures kept), vanished (404/410 for a URL archived before), failures by cause.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals

from .catalog import Catalog

REFRESH_MODES = ("new", "all")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


@dataclass
class Previous:
    digest: str | None
    date: str | None
    record_id: str | None
    warc_file: str | None
    warc_offset: int | None
    etag: str | None
    last_modified: str | None
    kind: str | None
    site: str | None


@dataclass
class RunState:
    run_id: str
    refresh: str
    resume: bool
    archive_dir: Path
    previous: dict = field(default_factory=dict)            # url → Previous (latest capture before this run)
    linked: set = field(default_factory=set)                 # report/attachment URLs linked in this run
    skipped: Counter = field(default_factory=Counter)        # site → known reports not fetched again
    skipped_urls: set = field(default_factory=set)

    @classmethod
    def from_settings(cls, settings) -> "RunState":
        refresh = settings.get("GIKCRAWL_REFRESH")
        if refresh not in REFRESH_MODES:
            raise ValueError(f"GIKCRAWL_REFRESH must be one of {', '.join(REFRESH_MODES)}, not {refresh!r}")
        archive = Path(settings.get("ARCHIVE_DIR"))
        run_id = settings.get("GIKCRAWL_RUN_ID") or new_run_id()
        state = cls(run_id, refresh, settings.getbool("GIKCRAWL_RESUME"), archive)
        catalog_path = archive / "catalog.sqlite"
        if catalog_path.exists():
            catalog = Catalog(catalog_path)
            try:
                state.previous = {url: Previous(*row) for url, row in catalog.previous_captures(run_id).items()}
            finally:
                catalog.close()
        return state

    def known(self, url: str) -> bool:
        return url in self.previous

    def revalidatable(self, url: str) -> bool:
        """Captured before with an ETag or Last-Modified: a conditional request costs no body if unchanged."""
        prev = self.previous.get(url)
        return bool(prev and (prev.etag or prev.last_modified))

    def classify(self, url: str, status: int, digest: str | None) -> str | None:
        """new | unchanged | changed | vanished | None (nothing to say, e.g. an error page never archived)."""
        prev = self.previous.get(url)
        if status == 304 and prev:
            return "unchanged"
        if 200 <= status < 300:
            if prev is None:
                return "new"
            return "unchanged" if digest == prev.digest else "changed"
        if status in (404, 410) and prev:
            return "vanished"
        return None

    def unlinked_known(self, sites) -> list[tuple[str, Previous]]:
        """Reports and attachments captured before, on these sites, that no list linked in this run."""
        return [(url, p) for url, p in self.previous.items()
                if p.kind in ("report", "attachment") and p.site in sites and url not in self.linked]

    def warc_files(self) -> list[Path]:
        return sorted(self.archive_dir.glob(f"*-{self.run_id}-*.warc.gz"))


def run_report(catalog: Catalog, run_id: str, refresh: str, resumed: bool, skipped: Counter,
               sites: list[str]) -> dict:
    per_site: dict = {}
    rows = catalog.db.execute("SELECT site, kind, status, error, change, url FROM fetches WHERE run_id = ? "
                              "ORDER BY id", (run_id,)).fetchall()
    grouped = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    for site in sites:
        mine = grouped.get(site, [])
        docs = [r for r in mine if r[1] in ("report", "attachment")]
        # a failure is a URL whose last fetch in the run failed: a 503 answered before a successful retry is not
        last = {r[5]: r[3] for r in mine}
        failures = Counter(error for error in last.values() if error)
        ok = sum(1 for r in mine if r[2] is not None and 200 <= r[2] < 400)
        per_site[site] = {
            "pages_fetched": len(mine),
            "new_reports": sum(1 for r in docs if r[1] == "report" and r[4] == "new"),
            "new_attachments": sum(1 for r in docs if r[1] == "attachment" and r[4] == "new"),
            "unchanged": sum(1 for r in docs if r[4] == "unchanged") + skipped.get(site, 0),
            "skipped_known": skipped.get(site, 0),
            "changed": sum(1 for r in docs if r[4] == "changed"),
            "vanished": sum(1 for r in docs if r[4] == "vanished"),
            "failures": dict(sorted(failures.items())),
            "failed_entirely": ok == 0,
        }
    totals = {key: sum(s[key] for s in per_site.values()) for key in
              ("pages_fetched", "new_reports", "new_attachments", "unchanged", "changed", "vanished")}
    totals["failures"] = dict(sum((Counter(s["failures"]) for s in per_site.values()), Counter()))
    return {"run_id": run_id, "refresh": refresh, "resumed": resumed, "sites": per_site, "totals": totals}


def format_report(report: dict) -> str:
    head = f"{'site':16s} {'fetched':>8s} {'new':>5s} {'unchanged':>9s} {'changed':>8s} {'vanished':>8s}  failures"
    lines = [f"run {report['run_id']} (refresh {report['refresh']}{', resumed' if report['resumed'] else ''})", head]
    for site, r in list(report["sites"].items()) + [("total", report["totals"])]:
        failures = ", ".join(f"{k} {v}" for k, v in r["failures"].items()) or "-"
        flag = "  SITE FAILED" if r.get("failed_entirely") else ""
        lines.append(f"{site:16s} {r['pages_fetched']:8d} {r['new_reports']:5d} {r['unchanged']:9d} {r['changed']:8d} "
                     f"{r['vanished']:8d}  {failures}{flag}")
        if r.get("limits"):
            reached = ", ".join(f"{k} {v}" for k, v in sorted(r["limits"]["reached"].items()))
            skipped = sum(r["limits"].get("requests_not_made", {}).values())
            lines.append(f"{'':16s} bounds reached: {reached}; {skipped} requests not made")
    return "\n".join(lines)


class RunExtension:
    """Records the run in the catalog, and at a finished close writes its report (JSON in
    ARCHIVE_DIR/runs/RUN_ID.json and in the catalog). A run that did not finish stays open for --resume."""

    def __init__(self, crawler):
        self.crawler = crawler
        # the run state, for spiders that make runs (the county spider); found with run_state(crawler)
        self.state = RunState.from_settings(crawler.settings) if getattr(crawler.spider, "records_runs", False) \
            else None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _worker(self) -> str | None:
        s = self.crawler.settings
        return s.get("WARC_WORKER_ID") if s.get("REDIS_URL") else None

    def _catalog(self, spider) -> Catalog:
        worker = self._worker()
        return Catalog(self.state.archive_dir / (f"catalog-{worker}.sqlite" if worker else "catalog.sqlite"))

    def spider_opened(self, spider):
        run = self.state
        if run is None:
            return
        catalog = self._catalog(spider)
        try:
            if run.resume and not self._worker():     # (a distributed worker's rows stay: merge dedupes)
                catalog.forget_run_fetches(run.run_id)
            catalog.start_run(run.run_id, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              list(spider.sites), run.refresh)
        finally:
            catalog.close()

    def spider_closed(self, spider, reason):
        run = self.state
        if run is None or reason != "finished":
            return
        catalog = self._catalog(spider)
        try:
            report = run_report(catalog, run.run_id, run.refresh, run.resume, run.skipped, list(spider.sites))
            # crawl bounds reached (gikcrawl/bounds.py): what was not followed is said, per site
            for site, limits in (getattr(spider, "limits_reached", None) or {}).items():
                if site in report["sites"]:
                    report["sites"][site]["limits"] = limits
            worker = self._worker()
            out = run.archive_dir / "runs" / (f"{run.run_id}-{worker}.json" if worker else f"{run.run_id}.json")
            out.parent.mkdir(parents=True, exist_ok=True)
            part = out.with_name(out.name + ".part")          # a kill mid-write leaves no half report
            part.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
            part.replace(out)
            catalog.finish_run(run.run_id, datetime.now(timezone.utc).isoformat(timespec="seconds"), report)
        finally:
            catalog.close()
        spider.run_report = report


def run_state(crawler) -> RunState | None:
    """The crawl's run state (None for spiders that make no runs, with RunExtension turned off, or outside a
    crawl, as when `gikcrawl enqueue` builds start requests)."""
    try:
        ext = crawler.get_extension(RunExtension)
    except RuntimeError:            # the crawl has not built its extensions
        return None
    return ext.state if ext is not None else None


def merge_worker_catalogs(archive_dir: str | Path, warn=print) -> list[dict]:
    """Join the per-worker catalogs of distributed runs into ARCHIVE_DIR/catalog.sqlite (merged parts move
    to ARCHIVE_DIR/merged/), and write each run's report over all its workers. Returns the reports.

    A worker killed mid-run committed every row up to its kill; the requests it had in flight were redone by
    another worker (or by its own restart), whose rows name the dead attempt (redo_of): those attempts' rows
    are dropped, so each fetch counts once. A run none of whose workers finished stays unfinished (its
    report says so: resume it); workers that did not finish are named in the report and through warn()."""
    archive_dir = Path(archive_dir)
    parts = sorted(archive_dir.glob("catalog-*.sqlite"))
    target = Catalog(archive_dir / "catalog.sqlite")
    runs: dict[str, dict] = {}
    try:
        cols = [r[1] for r in target.db.execute("PRAGMA table_info(fetches)") if r[1] != "id"]
        for part in parts:
            Catalog(part).close()                      # brings an older part's schema up to date
            worker = part.stem[len("catalog-"):]
            target.db.execute("ATTACH DATABASE ? AS part", (str(part),))
            target.db.execute(f"INSERT INTO fetches ({', '.join(cols)}) SELECT {', '.join(cols)} FROM part.fetches")
            target.db.execute("INSERT OR REPLACE INTO reports SELECT * FROM part.reports")
            for run_id, started, finished, sites, refresh in target.db.execute(
                    "SELECT run_id, started, finished, sites, refresh FROM part.runs").fetchall():
                run = runs.setdefault(run_id, {"started": started, "sites": set(), "refresh": refresh,
                                               "workers": set(), "unfinished": set()})
                run["started"] = min(run["started"], started)
                run["sites"].update(sites.split(","))
                run["workers"].add(worker)
                if finished is None:
                    run["unfinished"].add(worker)
            target.db.commit()
            target.db.execute("DETACH DATABASE part")
        reports = []
        for run_id, run in sorted(runs.items()):
            redone = target.db.execute(
                "DELETE FROM fetches WHERE run_id = ? AND request_id IN (SELECT redo_of FROM fetches "
                "WHERE run_id = ? AND redo_of IS NOT NULL)", (run_id, run_id)).rowcount
            target.db.commit()
            skipped: Counter = Counter()
            for worker_report in sorted((archive_dir / "runs").glob(f"{run_id}-*.json")):
                try:
                    worker_sites = json.loads(worker_report.read_text(encoding="utf-8"))["sites"]
                except (ValueError, KeyError):
                    warn(f"run {run_id}: {worker_report.name} is damaged (a worker killed while writing it): "
                         f"its known reports skipped are not counted")
                    continue
                for site, r in worker_sites.items():
                    skipped[site] += r.get("skipped_known", 0)
            target.start_run(run_id, run["started"], sorted(run["sites"]), run["refresh"])
            report = run_report(target, run_id, run["refresh"], False, skipped, sorted(run["sites"]))
            report["workers"] = len(run["workers"])
            report["unfinished_workers"] = sorted(run["unfinished"])
            report["redone_fetches_dropped"] = redone
            complete = run["unfinished"] != run["workers"]
            report["complete"] = complete
            for worker in sorted(run["unfinished"]):
                warn(f"run {run_id}: worker {worker} did not finish (killed?): its rows up to then are merged; "
                     f"what it had in flight was redone by another worker" if complete else
                     f"run {run_id}: worker {worker} did not finish")
            if redone:
                warn(f"run {run_id}: {redone} fetch rows of attempts that died with their worker dropped "
                     f"(another attempt of the same request counts)")
            (archive_dir / "runs").mkdir(exist_ok=True)
            (archive_dir / "runs" / f"{run_id}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                                                 encoding="utf-8")
            if complete:
                target.finish_run(run_id, datetime.now(timezone.utc).isoformat(timespec="seconds"), report)
            else:
                warn(f"run {run_id}: no worker finished it: continue it (gikcrawl archive --resume --redis URL, "
                     f"or restart the workers with their ids), then merge again")
            reports.append(report)
    finally:
        target.close()
    merged = archive_dir / "merged"
    for part in parts:
        merged.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            src = part.with_name(part.name + suffix)
            if src.exists():
                src.rename(merged / src.name)
    return reports
