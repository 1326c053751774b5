"""The `gikcrawl` command."""
from __future__ import annotations

import argparse
import sys

from . import __version__


def cmd_parse(args) -> int:
    from .files import InputError, parse_file
    from .output import record_writer

    failed = 0
    with record_writer(args.output, args.format) as write:
        for path in args.files:
            try:
                write(parse_file(path))
            except InputError as e:
                print(f"gikcrawl parse: {e}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def cmd_demo(args) -> int:
    from .demo import CrawlError, DemoError, run_demo
    try:
        return run_demo(args.out, verbose=args.verbose)
    except (CrawlError, DemoError) as e:
        print(f"gikcrawl demo: {e}", file=sys.stderr)
        return 2


def cmd_warc_verify(args) -> int:
    from .archive.verify import verify, warc_files

    files = warc_files(args.paths)
    if not files:
        print("gikcrawl warc verify: no WARC files found", file=sys.stderr)
        return 2
    bad = 0
    for path in files:
        verdict = verify(path, repair=args.repair)
        print(verdict.line())
        bad += not verdict.ok
    return 1 if bad else 0


def _date(text: str) -> str:
    import datetime
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def cmd_replay(args) -> int:
    from .output import record_writer
    from .replay import replay
    from .sites import load_sites

    if args.config:
        load_sites(args.config)           # a bad config: one line before anything is read
    with record_writer(args.output, args.format) as write:
        n, problems = replay(args.paths, write, jobs=args.jobs, site=args.site, since=args.since, until=args.until,
                             all_captures=args.all_captures, sites_config=args.config,
                             progress=not args.quiet)
    for problem in problems:
        print(f"gikcrawl replay: {problem}", file=sys.stderr)
    print(f"gikcrawl replay: {n} records" + (f", {len(problems)} problems" if problems else ""), file=sys.stderr)
    return 1 if problems else 0


def cmd_archive(args) -> int:
    from .periodic import parse_overrides, run_archive
    try:
        overrides = parse_overrides(args.set)
    except ValueError as e:
        print(f"gikcrawl archive: {e}", file=sys.stderr)
        return 2
    if args.redis:
        overrides["REDIS_URL"] = args.redis
    from .crawl import CrawlError
    try:
        return run_archive(args.sites, args.refresh, args.resume, overrides)
    except CrawlError as e:
        print(f"gikcrawl archive: {e}", file=sys.stderr)
        return 2


def cmd_enqueue(args) -> int:
    from .enqueue import enqueue
    from .periodic import parse_overrides
    run_id, queued = enqueue(args.sites, args.redis, args.new_run, parse_overrides(args.set))
    print(f"run {run_id}: {queued} start requests queued at {args.redis}")
    return 0


def cmd_catalog_merge(args) -> int:
    from .runs import format_report, merge_worker_catalogs
    reports = merge_worker_catalogs(args.archive_dir,
                                    warn=lambda msg: print(f"gikcrawl catalog merge: {msg}", file=sys.stderr))
    if not reports:
        print("gikcrawl catalog merge: no worker catalogs (catalog-*.sqlite) to merge", file=sys.stderr)
        return 2
    for report in reports:
        print(format_report(report))
        if report.get("unfinished_workers"):
            print(f"workers {report['workers']}, unfinished: {', '.join(report['unfinished_workers'])}"
                  + ("" if report["complete"] else " (run incomplete)"))
    if not all(r.get("complete", True) for r in reports):
        return 2
    return 1 if any(r["failed_entirely"] for rep in reports for r in rep["sites"].values()) else 0


def _formats() -> list[str]:
    from scrapy.settings import Settings
    return sorted(Settings().getwithbase("FEED_EXPORTERS"))


def cmd_sites_probe(args) -> int:
    from .periodic import parse_overrides
    from .probe.run import probe, read_homepages
    try:
        homes = read_homepages(args.urls, args.from_file)
        overrides = parse_overrides(args.set)
    except (OSError, ValueError) as e:
        print(f"gikcrawl sites probe: {e}", file=sys.stderr)
        return 2
    if not homes:
        print("gikcrawl sites probe: no homepage given (URL ... or --from-file FILE)", file=sys.stderr)
        return 2
    try:
        return probe(homes, output=args.output, config=args.config, overrides=overrides, key=args.key,
                     report=args.report)
    except ValueError as e:
        print(f"gikcrawl sites probe: {e}", file=sys.stderr)
        return 2


def cmd_sites_check(args) -> int:
    from .periodic import parse_overrides
    from .probe.check import check
    from .sites import SiteConfigError
    try:
        return check(args.keys or "all", config=args.config, overrides=parse_overrides(args.set),
                     report=args.report)
    except (SiteConfigError, ValueError) as e:
        print(f"gikcrawl sites check: {e}", file=sys.stderr)
        return 2


def cmd_export(args) -> int:
    from .dataset.export import export
    from .dataset.sources import SourceError
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in ("csv", "parquet")]
    if bad or not formats:
        print(f"gikcrawl export: unknown format {', '.join(bad) or '(none)'}; use csv, parquet", file=sys.stderr)
        return 2
    try:
        manifest, problems = export(args.sources, args.output, formats)
    except SourceError as e:
        print(f"gikcrawl export: {e}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"gikcrawl export: {problem}", file=sys.stderr)
    t = manifest["tables"]
    print(f"gikcrawl export: {manifest['reports']} reports ({t['reports']['columns']} columns), "
          f"{t['figures_long']['rows']} figures, {t['warnings']['rows']} warnings, {t['checks']['rows']} checks "
          f"({sum(manifest['checks_failed'].values())} failed), {t['agencies']['rows']} agencies -> {args.output}"
          + (f"; {len(problems)} records skipped" if problems else ""), file=sys.stderr)
    return 1 if problems else 0


def cmd_report(args) -> int:
    from .crawl import project_settings
    from .dataset.report_html import write_report
    from .dataset.sources import SourceError
    replay_url = args.replay_url or project_settings().get("GIKCRAWL_REPLAY_URL")
    try:
        out, ds, problems = write_report(args.archive_dir, args.output, replay_url)
    except SourceError as e:
        print(f"gikcrawl report: {e}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"gikcrawl report: {problem}", file=sys.stderr)
    print(f"gikcrawl report: {len(ds.reports)} reports -> {out}", file=sys.stderr)
    return 1 if problems else 0


def cmd_serve(args) -> int:
    from .serve import ServeError, serve
    try:
        return serve(args.archive_dir, port=args.port, bind=args.bind, pywb=args.pywb)
    except ServeError as e:
        print(f"gikcrawl serve: {e}", file=sys.stderr)
        return 2


def cmd_wacz(args) -> int:
    from .wacz import WaczError, write_wacz
    try:
        summary = write_wacz(args.archive_dir, args.output)
    except WaczError as e:
        print(f"gikcrawl wacz: {e}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gikcrawl", description=__doc__)
    ap.add_argument("--version", action="version", version=f"gikcrawl {__version__}")
    ap.add_argument("--debug", action="store_true", help="tracebacks for configuration and start-up errors")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse report files (.txt, .html) into JSON lines")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here instead of standard output")
    p.add_argument("-t", "--format", choices=_formats(), help="an item exporter (default: from the output's "
                                                             "ending, else jsonlines)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("demo", help="crawl, archive and parse the bundled demo site (offline)")
    p.add_argument("--out", default="archive", help="archive directory (default: ./archive)")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's log on the terminal")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("archive", help="an archival run over many sites: incremental, resumable, with a report")
    p.add_argument("--sites", default="all", help="all, or KEY,KEY,... (default all)")
    p.add_argument("--refresh", choices=("new", "all"), default="new",
                   help="new: skip reports already archived (default); all: fetch everything, revisits for the "
                        "unchanged")
    p.add_argument("--resume", action="store_true", help="continue the last run that did not finish")
    p.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="a Scrapy or gikcrawl setting")
    p.add_argument("--redis", metavar="URL", help="crawl as one worker of a distributed run (REDIS_URL)")
    p.set_defaults(func=cmd_archive)

    p = sub.add_parser("enqueue", help="seed the shared frontier of a distributed run (Redis)")
    p.add_argument("--sites", default="all", help="all, or KEY,KEY,...")
    p.add_argument("--redis", required=True, metavar="URL", help="redis://host:port/db")
    p.add_argument("--new-run", action="store_true", help="start a new run (a fresh seen-set) instead of "
                                                          "joining the current one")
    p.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="a Scrapy or gikcrawl setting")
    p.set_defaults(func=cmd_enqueue)

    catalog = sub.add_parser("catalog", help="catalog tools").add_subparsers(dest="catalog_command", required=True)
    p = catalog.add_parser("merge", help="join distributed workers' catalogs and write each run's report")
    p.add_argument("archive_dir", metavar="ARCHIVE_DIR")
    p.set_defaults(func=cmd_catalog_merge)

    p = sub.add_parser("replay", help="reparse archived report pages (WARC files or directories), offline")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here (atomically) instead of stdout")
    p.add_argument("-t", "--format", choices=_formats(), help="an item exporter (default: from the output's "
                                                             "ending, else jsonlines)")
    p.add_argument("--site", metavar="KEY", help="only this site's captures")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="parse in N processes (default 1)")
    p.add_argument("--since", type=_date, metavar="DATE", help="captures on or after this date (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, metavar="DATE", help="captures on or before this date")
    p.add_argument("--all-captures", action="store_true", help="every capture of a URL, not only the newest")
    p.add_argument("--config", metavar="SITES.yaml", help="sites config (a site's encoding and content selector)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_replay)

    sites = sub.add_parser("sites", help="onboard sites and keep their entries current").add_subparsers(
        dest="sites_command", required=True)
    p = sites.add_parser("probe", help="from homepages, find their 公开年报 columns and write site entries")
    p.add_argument("urls", nargs="*", metavar="URL", help="homepages")
    p.add_argument("--from-file", metavar="FILE", help="homepages, one a line (- for standard input)")
    p.add_argument("-o", "--output", metavar="SITES.yaml", help="add the entries found to this file (validated)")
    p.add_argument("--config", metavar="SITES.yaml", help="existing entries to compare with (default "
                                                          "config/sites.yaml)")
    p.add_argument("--key", help="the entry's key (one homepage only; default from the host name)")
    p.add_argument("--report", metavar="OUT.json", help="every verdict with the pages tried, as JSON")
    p.add_argument("-s", "--set", action="append", metavar="NAME=VALUE",
                   help="a Scrapy or gikcrawl setting (PROBE_BUDGET, PROBE_MAX_DEPTH, DOWNLOAD_DELAY, …)")
    p.set_defaults(func=cmd_sites_probe)
    p = sites.add_parser("check", help="fetch entries' start pages and sample reports; report what broke")
    p.add_argument("keys", nargs="?", metavar="KEYS", help="all (default) or KEY,KEY,...")
    p.add_argument("--config", default=None, metavar="SITES.yaml", help="default config/sites.yaml")
    p.add_argument("--report", metavar="OUT.json", help="the findings as JSON")
    p.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="a Scrapy or gikcrawl setting")
    p.set_defaults(func=cmd_sites_check)
    p = sub.add_parser("export", help="research dataset (CSV + Parquet, codebook) from an archive's catalog or JSONL")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="ARCHIVE_DIR, catalog.sqlite, or records .jsonl")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="dataset folder to write")
    p.add_argument("--formats", default="csv,parquet", help="csv,parquet (default both)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="one self-contained HTML page about an archive: runs, dataset, charts")
    p.add_argument("archive_dir", metavar="ARCHIVE_DIR")
    p.add_argument("-o", "--output", metavar="OUT.html", help="default: ARCHIVE_DIR/report.html")
    p.add_argument("--replay-url", metavar="TEMPLATE", help="link captures to a replay server, e.g. "
                   "http://localhost:8080/gik/{timestamp}/{url} (default: setting GIKCRAWL_REPLAY_URL)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("serve", help="browse the archive in pywb (needs `make replay-env`)")
    p.add_argument("archive_dir", metavar="ARCHIVE_DIR")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: a free one)")
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--pywb", metavar="PATH", help="pywb's wayback command (default: see README)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("wacz", help="package the archive as one WACZ file (ReplayWeb.page, Browsertrix)")
    p.add_argument("archive_dir", metavar="ARCHIVE_DIR")
    p.add_argument("-o", "--output", required=True, metavar="FILE.wacz")
    p.set_defaults(func=cmd_wacz)

    warc = sub.add_parser("warc", help="WARC tools").add_subparsers(dest="warc_command", required=True)
    p = warc.add_parser("verify", help="check WARC files: digests, records, structure; one line per file")
    p.add_argument("paths", nargs="+", metavar="PATH", help="WARC files or directories")
    p.add_argument("--repair", action="store_true",
                   help="cut off an incomplete trailing record (a killed crawl) and rewrite the CDXJ index")
    p.set_defaults(func=cmd_warc_verify)
    return ap


def _startup_errors() -> tuple:
    """Errors a person fixes in the configuration or environment: one line each, exit status 2."""
    from .sites import SiteConfigError
    from .startup import StartupError
    errors: tuple = (StartupError, SiteConfigError, OSError)
    try:
        import redis
        errors += (redis.RedisError,)
    except ImportError:           # pragma: no cover (a dependency)
        pass
    return errors


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("gikcrawl: interrupted", file=sys.stderr)
        return 130
    except _startup_errors() as e:
        if args.debug:
            import traceback
            traceback.print_exc()
        name = " ".join(a for a in (args.command, getattr(args, "catalog_command", None),
                                    getattr(args, "warc_command", None)) if a)
        print(f"gikcrawl {name}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
