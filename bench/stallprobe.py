"""A crawler extension for bench/stall.py: the reactor's longest stall (a LoopingCall that should fire every
20 ms) and the arrival times of HTML responses, written as JSON to STALLPROBE_OUT when the spider closes."""
import json
import time

from scrapy import signals
from twisted.internet import task

INTERVAL = 0.02


class StallProbe:
    def __init__(self, crawler):
        self.out = crawler.settings.get("STALLPROBE_OUT")
        self.last = None
        self.max_stall = 0.0
        self.html_times: list[float] = []
        self.stalls: list[tuple[float, float]] = []      # (seconds since the spider opened, stall) over 0.1 s
        self.opened_at = time.monotonic()
        self.loop = task.LoopingCall(self.tick)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def tick(self):
        now = time.monotonic()
        if self.last is not None:
            stall = now - self.last - INTERVAL
            self.max_stall = max(self.max_stall, stall)
            if stall > 0.1:
                self.stalls.append((round(self.last - self.opened_at, 2), round(stall, 2)))
        self.last = now

    def opened(self, spider):
        self.opened_at = time.monotonic()
        self.loop.start(INTERVAL)

    def received(self, response, request, spider):
        if (response.headers.get(b"Content-Type") or b"").startswith(b"text/html"):
            self.html_times.append(time.monotonic())

    def closed(self, spider):
        self.loop.stop()
        with open(self.out, "w") as f:
            json.dump({"max_stall": self.max_stall, "html_times": self.html_times, "stalls": self.stalls,
                       "html_span": [self.html_times[0] - self.opened_at, self.html_times[-1] - self.opened_at]
                       if self.html_times else None}, f)
