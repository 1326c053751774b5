"""Item pipelines: every parsed report into the catalog, every fetch recorded as it happens."""
from __future__ import annotations

from pathlib import Path

from scrapy import signals

from .meta import CHANGE, INFLIGHT, KIND, REFERER_PAGE, SITE, WARC
from . import signals as gk_signals
from .catalog import Catalog
from .digest import sha1_digest
from .failures import failure_cause
from .items import utc_now


def _run_id(spider) -> str | None:
    from .runs import run_state
    run = run_state(spider.crawler) if getattr(spider, "crawler", None) else None
    return run.run_id if run else None


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _attempt(request) -> dict:
    """Distributed runs: which worker's attempt this row records, and the dead worker's attempt it redoes."""
    meta = request.meta
    if "gik_inflight" not in meta:
        return {}
    return {"request_id": meta[INFLIGHT], "redo_of": meta.get("gik_redo")}


class CatalogPipeline:
    """Writes ARCHIVE_DIR/catalog.sqlite: a fetches row per response or failure, a reports row per item."""

    COMMIT_EVERY = 50

    def __init__(self, archive_dir: str, stats, worker: str | None = None):
        # distributed workers each keep their own catalog (`gikcrawl catalog merge` joins them)
        self.path = Path(archive_dir) / (f"catalog-{worker}.sqlite" if worker else "catalog.sqlite")
        self.stats = stats
        self.catalog: Catalog | None = None
        self.pending = 0
        # a distributed worker may be killed at any moment: every row is committed as written (the rows of
        # an attempt that another worker redid are dropped by `gikcrawl catalog merge`, see request_id)
        self.commit_every = 1 if worker else self.COMMIT_EVERY

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        o = cls(s.get("ARCHIVE_DIR"), crawler.stats, s.get("WARC_WORKER_ID") if s.get("REDIS_URL") else None)
        # with the archive on, a row per archived response (robots.txt too); else per response received
        archived = crawler.settings.getbool("WARC_ENABLED") and not crawler.settings.get("REPLAY_FROM")
        crawler.signals.connect(o.response_received,
                                signal=gk_signals.response_archived if archived else signals.response_received)
        crawler.signals.connect(o.fetch_failed, signal=gk_signals.fetch_failed)
        crawler.signals.connect(o.response_unusable, signal=gk_signals.response_unusable)
        return o

    def open_spider(self, spider=None):
        self.catalog = Catalog(self.path)

    def close_spider(self, spider=None):
        if self.catalog:
            self.catalog.close()

    def _written(self):
        self.pending += 1
        if self.pending >= self.commit_every:
            self.catalog.commit()
            self.pending = 0

    def response_received(self, response, request, spider):
        if self.catalog is None:
            return
        warc = request.meta.get(WARC) or {}
        self.catalog.add_fetch(
            url=response.url, site=request.meta.get(SITE),
            kind=request.meta.get(KIND) or ("robots" if response.url.endswith("/robots.txt") else "other"),
            status=response.status, error=None if response.status < 400 else f"http_{response.status}",
            fetched_at=warc.get("date") or utc_now(),
            content_type=(response.headers.get(b"Content-Type") or b"").decode("latin-1") or None,
            length=len(response.body), payload_digest=warc.get("payload_digest") or sha1_digest(response.body),
            warc_file=warc.get("file"), warc_offset=warc.get("offset"), warc_record_id=warc.get("record_id"),
            referer=request.meta.get(REFERER_PAGE), run_id=_run_id(spider), change=request.meta.get(CHANGE),
            etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"), **_attempt(request))
        self._written()

    def fetch_failed(self, request, failure, spider):
        if self.catalog is None:
            return
        self.catalog.add_fetch(url=request.url, site=request.meta.get(SITE), kind=request.meta.get(KIND),
                               status=None, error=failure_cause(failure),
                               fetched_at=utc_now(), referer=request.meta.get(REFERER_PAGE), run_id=_run_id(spider),
                               **_attempt(request))
        self._written()

    def response_unusable(self, request, response, cause, spider):
        if self.catalog is not None:
            self.catalog.mark_error(response.url, _run_id(spider), cause)

    def process_item(self, item, spider=None):
        if self.catalog is not None and isinstance(item, dict) and "tables" in item:
            self.catalog.add_report(item)
            self._written()
        return item
