"""Scrapy settings for gikcrawl. Everything here can be overridden with -s NAME=VALUE."""
import gikcrawl.offline  # noqa: F401  (bundled public suffix list, no download)

from gikcrawl import __version__

BOT_NAME = "gikcrawl"
SPIDER_MODULES = ["gikcrawl.spiders"]
NEWSPIDER_MODULE = "gikcrawl.spiders"
COMMANDS_MODULE = "gikcrawl.commands"   # `scrapy crawl` with one-line start-up errors and exit codes

# gikcrawl's own settings
SITES_CONFIG = None                 # path of sites.yaml; None: the one shipped in the package (gikcrawl/config/)
ARCHIVE_DIR = "archive"             # WARCs, CDXJ index and catalog.sqlite
GIKCRAWL_CONTACT = "gikcrawl operator (set GIKCRAWL_CONTACT)"   # who to call about this crawler

# WARC archive (gikcrawl/archive/)
WARC_ENABLED = True
WARC_MAX_SIZE = 1024 * 1024 * 1024  # bytes; a new file is started past this size
WARC_GZIP_LEVEL = 6
WARC_WORKER_ID = None               # put in file names when several workers share an archive directory
REPLAY_FROM = None                  # a WARC file or directory: serve every request from it (no network)
ARCHIVE_STORAGE = "gikcrawl.archive.storage.WarcStorage"   # what the archive holds for a request, and writes

# Attachments and large pages (gikcrawl/workers.py): extracted and parsed in worker processes, off the
# reactor thread, each with a time and a memory limit; past either the record says so and the crawl goes on
ATTACHMENT_MAX_PAGES = 200          # PDF/image pages (and spreadsheet sheets) read per document
GIKCRAWL_WORKERS = None             # worker processes; None: one per CPU core; 0: in the crawl's own process
GIKCRAWL_WORKER_TIMEOUT = 120.0     # seconds per document (OCR of a long scan is the slow case)
GIKCRAWL_WORKER_MEMORY = 1024 * 1024 * 1024   # bytes of address space per worker (RLIMIT_AS)
GIKCRAWL_INLINE_PAGE_SIZE = 1024 * 1024       # HTML pages up to this size are parsed in the crawl's process

# Archival runs (gikcrawl/runs.py): `gikcrawl archive` sets these
GIKCRAWL_REFRESH = "all"            # all: fetch everything, unchanged payloads become revisit records;
                                    # new: reports and attachments captured by earlier runs are not fetched
GIKCRAWL_RUN_ID = None              # None: a new run, named by its UTC start
GIKCRAWL_RESUME = False             # continue GIKCRAWL_RUN_ID: what it archived is served from its WARCs

# Distributed crawling (gikcrawl/distributed.py): set REDIS_URL=redis://host:port/db on every worker
REDIS_URL = None
REDIS_PARAMS = {}                   # more redis-py client arguments (password, ssl, timeouts …) over gikcrawl's
                                    # defaults (30 s socket timeout, 10 s to connect, retry on timeout)
GIKCRAWL_WORKER_TTL = 15.0          # seconds without heartbeat before a worker's in-flight requests are requeued
GIKCRAWL_HOST_DELAY = None          # seconds between requests to one host across all workers (None: DOWNLOAD_DELAY)
GIKCRAWL_HOST_MARGIN = 0.0          # seconds added to that delay (it already runs from the previous response)
GIKCRAWL_POLL_INTERVAL = 0.2        # seconds (≤ 1) between looks at the shared frontier when nothing can start
GIKCRAWL_IDLE_TIMEOUT = 600.0       # seconds a worker with nothing to do waits for other workers' requests in flight
GIKCRAWL_POP_BATCH = 32             # requests (from as many hosts) a worker takes from Redis with one call, at most
GIKCRAWL_WORKER_CONCURRENCY = 256   # CONCURRENT_REQUESTS of a worker (unless set with -s): politeness is per
                                    # host in Redis, so many hosts may be in flight at once

USER_AGENT = f"gikcrawl/{__version__} (archival crawler for government annual reports; contact: {{contact}})"

# Politeness for small government servers.
ROBOTSTXT_OBEY = True               # default: obey; a site entry may set politeness.robotstxt_obey: false
CONCURRENT_REQUESTS = 256             # hosts in flight at once; per host: the two lines below
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# outputs of one response handled at once: Scrapy starts this many tasks for every response, however few
# outputs it has (1.3 ms a response at Scrapy's 100 against 0.25 at 16); our pipelines do not wait on anything
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 2.0            # seconds; doubled per retry, Retry-After honoured
RETRY_BACKOFF_MAX = 120.0

# Every response reaches the spider, 4xx/5xx included: it counts them and never drops what it received.
HTTPERROR_ALLOW_ALL = True

# Only codings the archive tools can decode (warcio has no zstd and a broken brotli path).
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9",
    "Accept-Encoding": "gzip, deflate",
}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "gikcrawl.middlewares.ContactUserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "gikcrawl.middlewares.BackoffRetryMiddleware": 550,
    # redirect loops and too many redirects as failures with their cause (gikcrawl/failures.py)
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "gikcrawl.failures.LoopAwareRedirectMiddleware": 600,
    # requests per site; queued pages of a pager found to be a trap are not fetched (gikcrawl/bounds.py)
    "gikcrawl.bounds.CrawlBoundsDownloaderMiddleware": 50,
    # after redirects, before decompression: retries JavaScript challenges once through the browser
    "gikcrawl.browser.ChallengeMiddleware": 585,
    # next to the downloader: sees requests as sent and responses as received (before redirects and
    # content decoding); see gikcrawl/archive/middleware.py
    "gikcrawl.archive.middleware.WarcArchiveMiddleware": 950,
    # with -s REPLAY_FROM=PATH: answers every request from the archive (gikcrawl/archive/replay_mw.py);
    # on a resumed run, answers what the run archived before it was killed
    "gikcrawl.archive.replay_mw.ArchiveReplayMiddleware": 960,
    # a response that is a document (magic bytes, Content-Type, Content-Disposition) is an attachment
    # whatever its link was: archived with its referer, parsed as a document (gikcrawl/attachments.py)
    "gikcrawl.attachments.DocumentKindMiddleware": 975,
    # conditional requests from earlier captures; a 304 gets the archived body for the spider
    "gikcrawl.archive.incremental.IncrementalMiddleware": 945,
}
SPIDER_MIDDLEWARES = {
    # with REDIS_URL: a request stays in the worker's in-flight hash until its callback is done
    "gikcrawl.distributed.InflightDoneMiddleware": 1,
    # pager bounds and the same-report-links trap detector (gikcrawl/bounds.py)
    "gikcrawl.bounds.CrawlBoundsSpiderMiddleware": 10,
}
ITEM_PIPELINES = {
    "gikcrawl.pipelines.CatalogPipeline": 800,
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "gikcrawl.runs.RunExtension": 500,
    "gikcrawl.workers.Workers": 510,        # the process pool for attachments and large pages
    "gikcrawl.sizes.SizeLimits": 515,            # page and attachment size limits
    "gikcrawl.outcome.SiteOutcome": 520,         # per-site verdict in the last lines; all failed → exit 1
}
REMOTE_CONTROL_ENABLED = False      # no HTTP control port on a crawler of untrusted sites
TELNETCONSOLE_ENABLED = False

# The browser (scrapy-playwright with Debian's Chromium): used for sites with `render` and for JavaScript
# challenges; requests without meta["playwright"] keep Scrapy's own downloader.
DOWNLOAD_HANDLERS = {
    "http": "gikcrawl.browser.BrowserDownloadHandler",
    "https": "gikcrawl.browser.BrowserDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": "/usr/bin/chromium",   # Debian's package; `playwright install` is never needed
    "headless": True,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
}
PLAYWRIGHT_MAX_CONTEXTS = 4                 # one per site being rendered, bounded
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2
PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER = True
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30 * 1000
WARC_SCREENSHOTS = False                    # also archive a PNG screenshot of every rendered page

# Onboarding (`gikcrawl sites probe` / `sites check`, gikcrawl/probe/): per-site bounds of one probe
PROBE_BUDGET = 40                   # requests per site (robots.txt not counted)
PROBE_MAX_DEPTH = 5                 # clicks from the homepage to a 公开年报 column
PROBE_SAMPLE_REPORTS = 2            # report pages fetched to confirm a column
CHECK_SAMPLE_REPORTS = 3            # report links fetched per entry by `sites check`
PROBE_ORDER = "best"                # best: portal-named links first; breadth: shallowest first (a baseline)

# Hardening (gikcrawl/bounds.py, gikcrawl/failures.py, gikcrawl/outcome.py): bounds that are never silent
GIKCRAWL_MAX_LIST_PAGES = 10000     # list pages of one column (first page + pager pages); sites: limits.max_list_pages
GIKCRAWL_MAX_PAGER_DEPTH = 10000    # pager steps from a column's first page; limits.max_pager_depth
GIKCRAWL_MAX_REQUESTS = 500000      # requests to one site (retries and redirects included); limits.max_requests
GIKCRAWL_STALE_PAGES = 5            # list pages in a row without a report link new to their column: a trap
GIKCRAWL_PAGE_MAXSIZE = 16 * 1024 * 1024   # bytes, HTML list and report pages (compressed or decompressed);
                                           # attachments keep DOWNLOAD_MAXSIZE
# Politeness at any setting (gikcrawl/downloader.py): per-slot concurrency holds with DOWNLOAD_DELAY=0, and
# the delay is a floor (jitter only lengthens it; AutoThrottle never goes below a slot's configured delay).
DOWNLOADER = "gikcrawl.downloader.PoliteDownloader"
DOWNLOAD_DELAY_JITTER = 0

FEED_EXPORT_ENCODING = "utf-8"

# Research dataset (gikcrawl/dataset/): `-O out.csv` writes the flat `reports` columns of `gikcrawl export`
FEED_EXPORTERS = {"csv": "gikcrawl.dataset.feed.ReportsCsvItemExporter"}
GIKCRAWL_REPLAY_URL = None          # `gikcrawl report` links captures here: e.g. http://host:8080/coll/{timestamp}/{url}
LOG_LEVEL = "INFO"
