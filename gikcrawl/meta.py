"""Request meta keys that more than one component reads or writes (the spider, the archive, the catalog,
the browser, distributed crawling). Spider-private keys (page_n, dataproxy…) stay in the spider."""

SITE = "site"                   # the sites.yaml key a request belongs to
KIND = "kind"                   # list | report | attachment (robots.txt and others have none)
REFERER_PAGE = "referer_page"   # the page whose link made this request (a report page for an attachment)
LINK_TEXT = "link_text"         # the text of that link (a report title when the file is the report)
IN_COLUMN = "in_column"         # reached as a 公开年报 column: pagers and sub-columns are followed
WARC = "warc"                   # where the response went: {file, offset, record_id, date, payload_digest}
WARC_SKIP = "warc_skip"         # served from the archive (resume): not written again
CHANGE = "change"               # new | unchanged | changed | vanished | gone, vs the previous capture
BROWSER_DOCUMENT = "browser_document"   # the main document's network response as the browser received it
INFLIGHT = "gik_inflight"       # distributed: worker:id of the in-flight entry this request holds
RECEIVED_STATUS = "gikcrawl_received_status"   # (code, protocol) of a response whose headers arrived (statusline.py)
