"""The HTTP/1.1 download handler, remembering each response's status line when its headers arrive.

Scrapy's `headers_received` signal carries the headers but not the status, and a download that fails later
(a timeout mid-body, DOWNLOAD_MAXSIZE reached) leaves no Response: without the status line the archive could
only store what was received as a resource record. The agent puts (code, protocol) in the request's meta
just before that signal is sent, where `truncated.ReceivedSoFar` takes it.

Private Scrapy API (`http11._ScrapyAgent._cb_bodyready`, the handler's agent arguments): re-check on a Scrapy
upgrade; tests/test_truncated.py fails if the status stops arriving.
"""
from __future__ import annotations

import logging

from scrapy.core.downloader.handlers import http11
from scrapy.exceptions import ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

from ..meta import RECEIVED_STATUS

logger = logging.getLogger(__name__)


class _StatusAgent(http11._ScrapyAgent):
    def _cb_bodyready(self, txresponse, request):
        version = txresponse.version
        request.meta[RECEIVED_STATUS] = (int(txresponse.code), f"{version[0].decode()}/{version[1]}.{version[2]}")
        return super()._cb_bodyready(txresponse, request)


class StatusLineHTTP11DownloadHandler(http11.HTTP11DownloadHandler):
    """HTTP11DownloadHandler.download_request with the agent above (the spider-attribute deprecations left out:
    gikcrawl sets sizes through settings and meta)."""

    async def download_request(self, request):
        agent = _StatusAgent(contextFactory=self._contextFactory, bindAddress=self._bind_address, pool=self._pool,
                             maxsize=self._default_maxsize, warnsize=self._default_warnsize,
                             fail_on_dataloss=self._fail_on_dataloss, crawler=self._crawler,
                             tls_verbose_logging=self._tls_verbose_logging)
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
