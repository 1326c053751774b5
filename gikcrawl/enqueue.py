"""`gikcrawl enqueue`: seed the shared frontier of a distributed run with the sites' start requests."""
from __future__ import annotations

from scrapy.crawler import Crawler

from . import distributed
from .crawl import project_settings
from .runs import new_run_id
from .spiders.county import CountySpider


def enqueue(sites: str, redis_url: str, new_run: bool, overrides: dict) -> tuple[str, int]:
    """Returns (run id, number of start requests newly queued). Each request enters the seen-set and the
    queue in one Lua script (the workers' own), so a kill never leaves a start URL seen but not queued."""
    from .startup import check_crawl
    check_crawl(project_settings(dict(overrides, REDIS_URL=redis_url)), sites)
    run_id = distributed.shared_run_id(redis_url, new_run_id(), new_run=new_run)
    settings = project_settings(dict(overrides, REDIS_URL=redis_url, GIKCRAWL_RUN_ID=run_id))
    crawler = Crawler(CountySpider, settings)
    spider = CountySpider.from_crawler(crawler, site=sites)
    frontier = distributed.Frontier(distributed.redis_from_url(redis_url), run_id, spider, crawler.settings)
    queued = 0
    for site in spider.sites.values():
        for url in site.start_urls:
            request = spider.start_request(site, url)
            if request is not None and frontier.enqueue(request):
                queued += 1
    return run_id, queued
