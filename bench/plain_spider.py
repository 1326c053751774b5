"""Baseline for bench/crawl.py: a plain Scrapy spider that fetches the given list pages, follows every link
under the start URL's site prefix and does nothing else (no discovery rules, no parsing, no pipeline)."""
from urllib.parse import urlsplit

import scrapy


class PlainSpider(scrapy.Spider):
    name = "plain"

    def __init__(self, start: str, lists: str = "", **kw):
        super().__init__(**kw)
        self.start_url = start
        # list pages reachable only through script pagers (createPageHTML), which this spider cannot run
        self.lists = [u for u in open(lists, encoding="utf-8").read().split()] if lists else []
        parts = urlsplit(start)
        self.prefix = f"{parts.scheme}://{parts.netloc}/" + parts.path.strip("/").split("/")[0] + "/"

    async def start(self):
        yield scrapy.Request(self.start_url)
        for url in self.lists:
            yield scrapy.Request(url)

    def parse(self, response):
        if not hasattr(response, "xpath"):
            return
        for href in response.xpath("//a/@href").getall():
            url = response.urljoin(href)
            if url.startswith(self.prefix):
                yield scrapy.Request(url)
