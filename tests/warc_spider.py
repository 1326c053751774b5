"""Fetches every URL given in -a urls=… once and yields where each response was archived."""
import scrapy


class FetchSpider(scrapy.Spider):
    name = "fetch"

    def __init__(self, urls: str, **kw):
        super().__init__(**kw)
        self.urls = urls.split(",")

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "warc": response.meta.get("warc")}
