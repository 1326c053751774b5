"""The one table of carriers: every document type the crawler reads, how it is recognised and who reads it.

A carrier is recognised by its magic bytes first (what a response *is*), then — only when the bytes do not
look like HTML or text — by its file name (Content-Disposition, URL) and Content-Type. Discovery follows
links ending in a `followed` carrier's extensions; `documents.extract` calls the carrier's extractor;
`attachments.merge` ranks carriers for `figures_from` by `rank` (lower = more structured). Adding a carrier
is one entry here (and its extractor) plus its tests.
"""
from __future__ import annotations

import importlib
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property
from typing import Callable
from urllib.parse import unquote, urlsplit

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
UNRANKED = 9                    # a carrier the table does not know ranks below every known one


class _Extractor:
    """A carrier's extractor, imported when first called (the table is read by discovery and the
    downloader middleware, which need none of the extraction libraries): (bytes, ctx, carrier) →
    (lines, carrier, pages), lines being prose and "| a | b |" pipe rows in reading order."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, data: bytes, ctx, carrier: str):
        return getattr(importlib.import_module(self.module), self.name)(data, ctx, carrier)

    def __repr__(self) -> str:
        return f"{self.module}:{self.name}"


class Probe:
    """What sniffing needs to know about some bytes, each part computed once."""

    def __init__(self, data: bytes, filename: str = ""):
        self.data = data
        name = filename.split("?")[0].split("#")[0].lower()
        self.ext = name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else ""

    @cached_property
    def ext_carrier(self) -> CarrierType | None:
        return _BY_EXT.get(self.ext)

    @cached_property
    def container(self) -> str | None:
        """"zip" or "ole" when the bytes are one of those containers (several carriers share each)."""
        return "zip" if self.data[:4] == ZIP else "ole" if self.data[:8] == OLE else None

    @cached_property
    def zip_names(self) -> list[str] | None:
        """Member names of a zip package; None when it cannot be opened (e.g. only its first bytes)."""
        if self.container != "zip":
            return None
        try:
            return zipfile.ZipFile(io.BytesIO(self.data)).namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return None

    def zip_has(self, prefix: str) -> bool:
        return any(n.startswith(prefix) for n in self.zip_names or ())

    def ole_stream(self, *names: str) -> bool:
        """An OLE compound file holding one of these streams (their names are UTF-16 in the directory)."""
        return self.container == "ole" and any(n.encode("utf-16-le") in self.data for n in names)


@dataclass(frozen=True)
class CarrierType:
    name: str
    rank: int                                     # figures_from: the most structured carrier wins (lowest)
    extensions: tuple[str, ...] = ()              # lower case, no dot
    mime_types: tuple[str, ...] = ()
    magic: tuple[bytes, ...] = ()                 # signatures (prefixes unless `detect` says otherwise)
    detect: Callable[[Probe], bool] | None = None  # bytes test when a prefix is not enough
    container: str | None = None                  # "zip" | "ole": the package its bytes come in
    extractor: _Extractor | None = None
    image: bool = False                           # read by OCR
    followed: bool = True                         # discovery follows links ending in its extensions
    label: str = ""

    def matches(self, probe: Probe) -> bool:
        if self.detect is not None:
            return bool(self.detect(probe))
        return bool(self.magic) and probe.data.startswith(self.magic)


def _ooxml_encrypted(p: Probe) -> bool:
    return p.ole_stream("EncryptedPackage")


def _ext(*names: str):
    return lambda p: p.ext_carrier is not None and p.ext_carrier.name in names


_DOCS = "gikcrawl.documents"

# Order matters where carriers share a container: the first whose test holds is the carrier.
CARRIERS: tuple[CarrierType, ...] = (
    CarrierType("html", 0, label="the report page itself (no extractor: the parser reads it)"),
    CarrierType("pdf", 3, ("pdf",), ("application/pdf",), (b"%PDF-",),
                detect=lambda p: b"%PDF-" in p.data[:1024], extractor=_Extractor(_DOCS, "_pdf"), label="PDF"),
    CarrierType("pdf-ocr", 4, image=True, extractor=_Extractor(_DOCS, "_pdf"),
                label="a PDF without a readable text layer, OCRed (an extraction outcome, never sniffed)"),
    CarrierType("docx", 1, ("docx", "docm", "dotx"),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
                (ZIP,), container="zip",
                detect=lambda p: p.zip_has("word/") or (_ooxml_encrypted(p) and not _ext("xlsx")(p)),
                extractor=_Extractor(_DOCS, "_docx"), label="Word (OOXML)"),
    CarrierType("xlsx", 1, ("xlsx", "xlsm"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
                (ZIP,), container="zip",
                detect=lambda p: p.zip_has("xl/") or (_ooxml_encrypted(p) and _ext("xlsx")(p)),
                extractor=_Extractor(_DOCS, "_xlsx"), label="Excel (OOXML)"),
    CarrierType("ofd", 3, ("ofd",), ("application/ofd", "application/x-ofd"), (ZIP,), container="zip",
                detect=lambda p: "OFD.xml" in (p.zip_names or ()), extractor=_Extractor("gikcrawl.ofd", "extract"),
                label="OFD (GB/T 33190)"),
    CarrierType("ofd-ocr", 4, image=True, extractor=_Extractor("gikcrawl.ofd", "extract"),
                label="an OFD whose pages are scans, OCRed (an extraction outcome, never sniffed)"),
    CarrierType("wps", 2, ("wps",), ("application/kswps", "application/wps-office.wps"), (OLE,), container="ole",
                detect=lambda p: p.ole_stream("WordDocument") and p.ext == "wps",
                extractor=_Extractor(_DOCS, "_office"), label="WPS Writer"),
    CarrierType("doc", 2, ("doc", "dot"), ("application/msword",), (OLE,), container="ole",
                detect=lambda p: p.ole_stream("WordDocument"), extractor=_Extractor(_DOCS, "_office"),
                label="Word 97-2003"),
    CarrierType("xls", 1, ("xls", "et"), ("application/vnd.ms-excel",), (OLE,), container="ole",
                detect=lambda p: p.ole_stream("Workbook", "Book"), extractor=_Extractor(_DOCS, "_xls"),
                label="Excel 97-2003 / WPS Spreadsheets"),
    CarrierType("rtf", 2, ("rtf",), ("application/rtf", "text/rtf"), (b"{\\rtf",),
                detect=lambda p: p.data.lstrip()[:5] == b"{\\rtf", extractor=_Extractor(_DOCS, "_office"),
                label="RTF"),
    CarrierType("image", 4, ("png", "jpg", "jpeg", "gif", "tif", "tiff", "bmp"),
                ("image/png", "image/jpeg", "image/gif", "image/tiff", "image/bmp"),
                (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM"),
                extractor=_Extractor(_DOCS, "_image"), image=True, followed=False,
                label="image (OCR; fetched from a report's content container, not followed as a link)"),
)

_BY_NAME = {c.name: c for c in CARRIERS}
_BY_EXT = {e: c for c in CARRIERS for e in c.extensions}
_BY_MIME = {m: c for c in CARRIERS for m in c.mime_types}


def get(name: str | None) -> CarrierType | None:
    return _BY_NAME.get(name or "")


def rank(name: str | None) -> int:
    """The carrier's rank for `figures_from` (0 = the HTML page); unknown carriers rank last."""
    c = _BY_NAME.get(name or "")
    return c.rank if c else UNRANKED


def is_image(name: str | None) -> bool:
    c = _BY_NAME.get(name or "")
    return bool(c and c.image)


def by_extension(name: str) -> CarrierType | None:
    """The carrier a file name or extension ("report.PDF", "pdf", "/a/b.ofd?x=1") says."""
    return Probe(b"", name if "." in name else "." + name).ext_carrier


def by_content_type(content_type: str | bytes | None) -> CarrierType | None:
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    ctype = (content_type or "").split(";")[0].strip().lower()
    return _BY_MIME.get(ctype) or (_BY_NAME["image"] if ctype.startswith("image/") else None)


def followed_extensions() -> tuple[str, ...]:
    """The extensions discovery follows as attachment links."""
    return tuple(e for c in CARRIERS if c.followed for e in c.extensions)


def sniff(data: bytes, filename: str = "", content_type: str | bytes | None = "") -> str | None:
    """The carrier of `data`: magic bytes first, then extension / Content-Type; None if not a document.
    An OLE package no carrier claims, or a zip package that cannot be opened (a truncated file), is the
    carrier its extension names when that carrier comes in such a package, else not a document."""
    probe = Probe(data, filename)
    for c in CARRIERS:
        if c.matches(probe):
            return c.name
    if probe.container == "zip" and probe.zip_names is not None:
        return None            # a zip package none of ours: not a document this crawler reads
    if probe.container is not None:
        ext = probe.ext_carrier
        return ext.name if ext is not None and ext.container == probe.container else None
    head = data[:2048]
    if not data or head.lstrip()[:1] == b"<" or b"<html" in head.lower() or _texty(head):
        return None            # HTML error pages, Word-as-HTML .doc, MHT, plain text: not documents
    c = probe.ext_carrier or by_content_type(content_type)
    return c.name if c else None


def _texty(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start > len(head) - 4 and b"\x00" not in head      # only a character cut at the end
    return b"\x00" not in head


# --- responses -------------------------------------------------------------------------------------

_FILENAME = re.compile(r"""filename\*?=(?:UTF-8''|")?([^";]+)""", re.IGNORECASE)


def filename_of(url: str | None, content_disposition: str | bytes | None = None) -> str:
    """A response's file name: Content-Disposition, else a file=/filename=/path=/url= parameter naming a
    file, else the URL path's last segment."""
    if isinstance(content_disposition, bytes):
        content_disposition = content_disposition.decode("utf-8", "replace")
    m = _FILENAME.search(content_disposition or "")
    if m:
        return unquote(m.group(1)).strip()
    parts = urlsplit(url or "")
    for key_value in parts.query.split("&"):
        key, _, value = key_value.partition("=")
        if key.lower() in ("file", "filename", "path", "url") and "." in value:
            return posixpath.basename(unquote(value))
    return unquote(parts.path.rsplit("/", 1)[-1])


def _head(body: bytes, encoding: bytes | str | None) -> bytes:
    """The first bytes of a body as the server meant them (the raw body is still Content-Encoded where the
    classifier runs, next to the downloader)."""
    enc = (encoding.decode("latin-1") if isinstance(encoding, bytes) else encoding or "").strip().lower()
    if enc in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(body[:65536], 8192)
        except zlib.error:
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body[:65536], 8192)
            except zlib.error:
                return body[:8192]
    return body[:8192]


def of_response(body: bytes, url: str, content_type=None, disposition=None, encoding=None) -> str | None:
    """What a response is, whatever the link that led to it: a document carrier by its magic bytes, else
    by Content-Disposition filename / URL extension / Content-Type when the bytes do not look like HTML or
    text; None for a page."""
    return sniff(_head(body, encoding), filename_of(url, disposition), content_type)
