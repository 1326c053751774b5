"""Keep Scrapy's cookie middleware offline.

Its tldextract instance downloads the public suffix list on first use and prints a traceback when there
is no network before falling back to the bundled copy (domain.md §5). Government crawlers often run
without general internet access, so use the bundled snapshot from the start.
"""
from tldextract import TLDExtract

import scrapy.downloadermiddlewares.cookies as _cookies

_cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
