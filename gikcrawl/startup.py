"""Start-up checks, before any crawler is built: a configuration or environment error becomes one line
naming the file, site, key or URL, never a traceback (`scrapy crawl` via gikcrawl/commands, every
`gikcrawl` subcommand)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


class StartupError(Exception):
    """A problem found before crawling; str() is the message for the person who started the command."""


def check_redis(url: str) -> None:
    from .extras import redis_py
    redis = redis_py()
    try:
        server = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        server.ping()
    except ValueError as e:
        raise StartupError(f"REDIS_URL {url!r} is not a Redis URL (redis://host:port/db): {e}") from None
    except redis.RedisError as e:
        raise StartupError(f"cannot reach Redis at {url}: {e}") from None


def check_crawl(settings, site_spec: str | None) -> None:
    """Everything `scrapy crawl county -a site=SPEC` needs before it starts; raises StartupError."""
    from .browser import browser_path, missing_browser_message
    from .runs import REFRESH_MODES
    from .sites import SiteConfigError, load_sites

    if not site_spec:
        raise StartupError("the county spider needs -a site=KEY (KEY, KEY1,KEY2 or all)")
    try:
        sites = load_sites(settings.get("SITES_CONFIG")).select(site_spec)
    except SiteConfigError as e:
        raise StartupError(str(e)) from None
    if not sites:
        raise StartupError(f"-a site={site_spec!r} names no site")
    refresh = settings.get("GIKCRAWL_REFRESH")
    if refresh not in REFRESH_MODES:
        raise StartupError(f"GIKCRAWL_REFRESH must be one of {', '.join(REFRESH_MODES)}, not {refresh!r}")
    renders = [s.key for s in sites if s.render]
    if renders and not Path(browser_path(settings)).exists():
        raise StartupError(f"sites {', '.join(renders)} have render set: {missing_browser_message(browser_path(settings))}")
    replay = settings.get("REPLAY_FROM")
    if replay and not Path(replay).exists():
        raise StartupError(f"REPLAY_FROM {replay}: no such file or directory")
    archive = Path(settings.get("ARCHIVE_DIR") or "archive")
    try:
        archive.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StartupError(f"ARCHIVE_DIR {archive}: cannot create it: {e.strerror or e}") from None
    if settings.get("REDIS_URL"):
        url = settings.get("REDIS_URL")
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise StartupError(f"REDIS_URL {url!r} is not a Redis URL (redis://host:port/db)")
        check_redis(url)
