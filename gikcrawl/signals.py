"""gikcrawl's own Scrapy signals."""

# sent by the spider when a request failed without a response: request, failure, spider
fetch_failed = object()

# sent by the WARC middleware for every response it archived: request, response, spider (request.meta["warc"]
# says where); robots.txt answers included, which never reach response_received
response_archived = object()
