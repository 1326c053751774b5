"""Running the county spider in-process (for `gikcrawl demo` and other commands), with project settings."""
from __future__ import annotations

import os

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings


class CrawlError(Exception):
    """The crawl could not start (a config error, a missing browser, …): one line saying why."""


def project_settings(overrides: dict | None = None):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "gikcrawl.settings")
    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_county(overrides: dict | None = None, **spider_args) -> dict:
    """Crawl with the county spider; returns the crawl's stats. A crawl that cannot start (its spider or a
    component raised while being built) raises CrawlError with the cause, not Scrapy's traceback."""
    process = CrawlerProcess(project_settings(overrides))
    crawler = process.create_crawler("county")
    failures = []

    def keep(failure):
        failures.append(failure)        # handled here: Scrapy would log it as an unhandled Deferred error

    process.crawl(crawler, **spider_args).addErrback(keep)
    process.start()
    if failures:
        error = failures[0].value
        raise CrawlError(f"{type(error).__name__}: {error}") from error
    return crawler.stats.get_stats()
