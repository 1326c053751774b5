"""The optional extras (pyproject.toml): the module an extra provides, or a StartupError saying how to get it.

`[distributed]` (redis-py) and `[replay]` (pywb) cannot share an environment: every pywb release pins
redis==2.10.6 (and fakeredis<1.0, which does not import with redis-py >= 3), while the distributed frontier
uses redis-py >= 4 (Redis.from_url keywords, Lua scripts through register_script, the 3.x zadd mapping).
"""
from __future__ import annotations

from importlib import metadata
from types import ModuleType

from .startup import StartupError

REDIS_MIN = (4, 2)


def redis_py() -> ModuleType:
    """redis-py for distributed crawling; StartupError when the [distributed] extra is missing or when the
    redis installed is pywb's old pin (an environment with the [replay] extra)."""
    try:
        import redis
        version = metadata.version("redis")
    except (ImportError, metadata.PackageNotFoundError):
        raise StartupError("distributed crawling needs redis-py: pip install 'gikcrawl[distributed]'") from None
    if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < REDIS_MIN:
        raise StartupError(f"distributed crawling needs redis-py >= {'.'.join(map(str, REDIS_MIN))}, this environment "
                           f"has redis {version} (pywb's pin: the [replay] extra); use an environment with "
                           "'gikcrawl[distributed]' and run pywb from another one (make replay-env)")
    return redis
