"""Running the county spider in-process (for `gikcrawl demo` and other commands), with project settings."""
from __future__ import annotations

import os

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings


def project_settings(overrides: dict | None = None):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "gikcrawl.settings")
    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_county(overrides: dict | None = None, **spider_args) -> dict:
    """Crawl with the county spider; returns the crawl's stats."""
    process = CrawlerProcess(project_settings(overrides))
    crawler = process.create_crawler("county")
    process.crawl(crawler, **spider_args)
    process.start()
    return crawler.stats.get_stats()
