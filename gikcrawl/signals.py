"""gikcrawl's own Scrapy signals."""

# sent by the spider when a request failed without a response: request, failure, spider
fetch_failed = object()

# sent by the WARC middleware for every response it archived: request, response, spider (request.meta["warc"]
# says where); robots.txt answers included, which never reach response_received
response_archived = object()

# sent by the spider when a response it received cannot be used (e.g. undecodable bytes, a JavaScript challenge
# the browser could not pass): request, response, cause, spider; the catalog records the cause on its fetch
response_unusable = object()
