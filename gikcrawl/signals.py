"""gikcrawl's own Scrapy signals."""

# sent by the spider when a request failed without a response: request, failure, spider
fetch_failed = object()
