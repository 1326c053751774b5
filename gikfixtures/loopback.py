"""Host names for many simulated sites that are all served on 127.0.0.1 (bench/national.py).

Per-host politeness keys requests by host name, so 200 county servers on 127.0.0.1 ports would be one host
to the crawler. Each simulated site gets its own name under LOOPBACK_DOMAIN instead, resolved here to
127.0.0.1 (TWISTED_DNS_RESOLVER = this class): only 127.0.0.1 is ever connected to.
"""
from __future__ import annotations

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer

LOOPBACK_DOMAIN = "gikbench.test"          # .test is reserved (RFC 2606): never a real name


def loopback_name(key: str) -> str:
    return f"{key}.{LOOPBACK_DOMAIN}"


class LoopbackResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout=()):
        if name == LOOPBACK_DOMAIN or name.endswith("." + LOOPBACK_DOMAIN):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
