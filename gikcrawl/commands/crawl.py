"""`scrapy crawl`, as Scrapy's, plus: start-up errors as one line with exit status 2 (a traceback only with
--debug), and exit status 1 when every site of the crawl failed, named with the cause in the last lines."""
from __future__ import annotations

import sys
import traceback

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from ..outcome import SiteOutcome
from ..startup import StartupError, check_crawl


class Command(ScrapyCrawl):
    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--debug", action="store_true", help="show tracebacks of start-up errors")

    def process_options(self, args, opts) -> None:
        super().process_options(args, opts)
        # before Scrapy builds its crawler process (and logs its start-up banner): a bad configuration is
        # one line and exit status 2
        if args[:1] == ["county"]:
            try:
                check_crawl(self.settings, opts.spargs.get("site"))
            except StartupError as e:
                print(f"scrapy crawl county: {e}", file=sys.stderr)
                sys.exit(2)

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("scrapy crawl takes one spider name")
        name = args[0]
        debug = opts.debug or self.settings.get("LOG_LEVEL") == "DEBUG"
        assert self.crawler_process
        crawler = self._create_crawler(name)
        errors: list[BaseException] = []
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        _collect(started, errors)
        self.crawler_process.start()
        if errors:
            e = errors[0]
            if debug:
                traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
            print(f"scrapy crawl {name}: {type(e).__name__}: {e}", file=sys.stderr)
            self.exitcode = 2
            return
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        outcome = crawler.get_extension(SiteOutcome) if hasattr(crawler, "get_extension") else None
        if outcome is not None and outcome.all_failed():
            for line in outcome.summary_lines():
                print(f"scrapy crawl {name}: {line}", file=sys.stderr)
            self.exitcode = 1


def _collect(started, errors: list) -> None:
    """Keep the exception of a crawl that failed to start, and mark it retrieved (no asyncio 'Task exception
    was never retrieved' traceback)."""
    if hasattr(started, "add_done_callback"):          # asyncio Task (AsyncCrawlerProcess)
        def done(task):
            if not task.cancelled() and task.exception() is not None:
                errors.append(task.exception())
        started.add_done_callback(done)
    elif hasattr(started, "addErrback"):               # Twisted Deferred (CrawlerProcess)
        def failed(failure):
            errors.append(failure.value)
        started.addErrback(failed)
