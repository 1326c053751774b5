"""`gikcrawl enqueue`: seed the shared frontier of a distributed run with the sites' start requests."""
from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue

from . import distributed
from .crawl import project_settings
from .runs import new_run_id
from .spiders.county import CountySpider


def enqueue(sites: str, redis_url: str, new_run: bool, overrides: dict) -> tuple[str, int]:
    """Returns (run id, number of start requests newly queued)."""
    from .startup import check_crawl
    check_crawl(project_settings(dict(overrides, REDIS_URL=redis_url)), sites)
    run_id = distributed.shared_run_id(redis_url, new_run_id(), new_run=new_run)
    settings = project_settings(dict(overrides, REDIS_URL=redis_url, GIKCRAWL_RUN_ID=run_id))
    crawler = Crawler(CountySpider, settings)
    spider = CountySpider.from_crawler(crawler, site=sites)
    k = distributed.keys(run_id)
    server = distributed.redis_from_url(redis_url)
    queue = PriorityQueue(server, spider, k["queue"])
    seen = RFPDupeFilter(server, key=k["seen"])
    queued = 0
    for site in spider.sites.values():
        for url in site.start_urls:
            request = spider.start_request(site, url)
            if request is not None and not seen.request_seen(request):
                queue.push(request)
                queued += 1
    return run_id, queued
