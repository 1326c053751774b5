"""The `gikcrawl` command."""
from __future__ import annotations

import argparse
import sys

from . import __version__


def cmd_parse(args) -> int:
    from .files import InputError, parse_file
    from .jsonl import jsonl_writer

    failed = 0
    with jsonl_writer(args.output) as write:
        for path in args.files:
            try:
                write(parse_file(path))
            except InputError as e:
                print(f"gikcrawl parse: {e}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    return run_demo(args.out, verbose=args.verbose)


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
    from .jsonl import jsonl_writer
    from .replay import replay

    with jsonl_writer(args.output) as write:
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
    return run_archive(args.sites, args.refresh, args.resume, overrides)


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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gikcrawl", description=__doc__)
    ap.add_argument("--version", action="version", version=f"gikcrawl {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse report files (.txt, .html) into JSON lines")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT.jsonl", help="write here instead of standard output")
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
    p.add_argument("--site", metavar="KEY", help="only this site's captures")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="parse in N processes (default 1)")
    p.add_argument("--since", type=_date, metavar="DATE", help="captures on or after this date (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, metavar="DATE", help="captures on or before this date")
    p.add_argument("--all-captures", action="store_true", help="every capture of a URL, not only the newest")
    p.add_argument("--config", metavar="SITES.yaml", help="sites config (a site's encoding and content selector)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_replay)

    warc = sub.add_parser("warc", help="WARC tools").add_subparsers(dest="warc_command", required=True)
    p = warc.add_parser("verify", help="check WARC files: digests, records, structure; one line per file")
    p.add_argument("paths", nargs="+", metavar="PATH", help="WARC files or directories")
    p.add_argument("--repair", action="store_true",
                   help="cut off an incomplete trailing record (a killed crawl) and rewrite the CDXJ index")
    p.set_defaults(func=cmd_warc_verify)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("gikcrawl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
