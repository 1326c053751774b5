"""CDXJ indexes beside the WARCs (pywb's format), made by cdxj-indexer from the finished files.

Two kinds of line are then corrected so that replay tools (pywb, ReplayWeb.page) serve what a crawler saw:

- a revisit of a POST (a Hanweb list fetched again) gets the POST urlkey (`__wb_method=post&…`) its
  response had: cdxj-indexer joins only response+request pairs, so it would index the revisit as a GET;
- a record marked WARC-Truncated (a body cut short, gikcrawl.archive.truncated) gets `"truncated"`, so
  that gikcrawl's replay never takes it for a capture;
- a `server-not-modified` revisit (a 304 to a conditional request) points at the response it refers to
  (its filename/offset/length/status/mime), dated when the 304 was received, with the revisit record's own
  entry kept under "revisit". pywb replays a 3xx revisit literally (empty body); the 304 only says that the
  earlier body was still current, which is what the redirected line says. The WARC records are untouched.

gikcrawl's own readers take a line's own record with :func:`own_entry`.
"""
from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import surt
from cdxj_indexer import CDXJIndexer
from cdxj_indexer.postquery import append_method_query
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_timestamp

SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

logger = logging.getLogger(__name__)


def index_path(warc: Path) -> Path:
    name = warc.name
    for suffix in (".warc.gz", ".warc"):
        if name.endswith(suffix):
            return warc.with_name(name[: -len(suffix)] + ".cdxj")
    return warc.with_name(name + ".cdxj")


def own_entry(entry: dict) -> dict:
    """The index entry of the record a line was made from (a redirected 304 revisit: the revisit's own)."""
    return entry.get("revisit") or entry


def write_index(warc: str | Path) -> Path:
    """Sorted CDXJ of one WARC file, written atomically next to it (revisit lines corrected, see above)."""
    warc = Path(warc)
    out = index_path(warc)
    tmp = out.with_name(out.name + ".tmp")
    CDXJIndexer(output=str(tmp), inputs=[str(warc)], sort=True, post_append=True).process_all()
    revisits = _revisits(warc)
    if revisits:
        lines = _correct(tmp.read_text(encoding="utf-8").splitlines(), revisits, warc, out)
        tmp.write_text("".join(line + "\n" for line in sorted(lines)), encoding="utf-8")
    tmp.replace(out)
    return out


def _revisits(warc: Path) -> dict[int, dict]:
    """offset → what the line of each revisit record needs: its profile, what it refers to, and the method
    and body of the request record written with it."""
    found: dict[int, dict] = {}
    prev = None                    # (offset, record id) of the last revisit
    try:
        with open(warc, "rb") as f:
            it = ArchiveIterator(f)
            for rec in it:
                h = rec.rec_headers
                if h.get_header("WARC-Truncated"):       # a body cut short: marked in the line
                    found[it.get_record_offset()] = {"truncated": h.get_header("WARC-Truncated")}
                    rec.content_stream().read()
                    prev = None
                    continue
                if rec.rec_type == "revisit":
                    offset = it.get_record_offset()
                    found[offset] = {"profile": h.get_header("WARC-Profile"),
                                     "uri": h.get_header("WARC-Refers-To-Target-URI"),
                                     "date": h.get_header("WARC-Refers-To-Date")}
                    prev = (offset, h.get_header("WARC-Record-ID"))
                    rec.content_stream().read()
                    continue
                if (rec.rec_type == "request" and prev and rec.http_headers
                        and h.get_header("WARC-Concurrent-To") == prev[1]):
                    found[prev[0]]["request"] = (rec.http_headers.protocol.upper(),
                                                 rec.http_headers.get_header("Content-Type"),
                                                 rec.http_headers.get_header("Content-Length"),
                                                 rec.content_stream().read(), h.get_header("WARC-Target-URI"))
                prev = None
    except Exception as e:            # a damaged file keeps cdxj-indexer's lines (verify reports the damage)
        logger.warning("%s: revisit lines not corrected: %s", warc, e)
    return found


def _correct(lines: list[str], revisits: dict[int, dict], warc: Path, out: Path) -> list[str]:
    originals = None
    result = []
    for line in lines:
        urlkey, stamp, data = line.split(" ", 2)
        entry = json.loads(data)
        info = revisits.get(int(entry.get("offset", -1)))
        if info is not None and "truncated" in info:
            entry["truncated"] = info["truncated"]
            result.append(f"{urlkey} {stamp} {json.dumps(entry)}")
            continue
        if info is None or entry.get("mime") != "warc/revisit":
            result.append(line)
            continue
        req = info.get("request")
        if req and req[0] in ("POST", "PUT"):
            method, ctype, length, body, url = req
            query = append_method_query(method, ctype, length, io.BytesIO(body), url)
            urlkey = surt.surt(url + query[1])
            entry.update(method=method, requestBody=query[0])
        if info["profile"] == SERVER_NOT_MODIFIED and info["uri"] and info["date"]:
            if originals is None:
                originals = _originals(warc.parent, out, lines)
            orig = originals.get((info["uri"], iso_date_to_timestamp(info["date"]), entry.get("method", "GET")))
            if orig is None:
                logger.warning("%s: 304 revisit of %s (%s): original not in the archive; replay tools will "
                               "show the 304", warc, info["uri"], info["date"])
            else:
                own = entry
                entry = {k: v for k, v in orig.items() if k != "revisit"}
                entry["url"], entry["revisit"] = own["url"], own
        result.append(f"{urlkey} {stamp} {json.dumps(entry)}")
    return result


def _originals(root: Path, out: Path, own_lines: list[str]) -> dict[tuple, dict]:
    """(url, timestamp, method) → entry of every non-revisit capture in the directory's indexes."""
    found: dict[tuple, dict] = {}

    def add(lines):
        for line in lines:
            if not line.strip():
                continue
            _, stamp, data = line.split(" ", 2)
            entry = json.loads(data)
            if entry.get("mime") != "warc/revisit" and "revisit" not in entry:
                found.setdefault((entry.get("url"), stamp, entry.get("method", "GET")), entry)

    add(own_lines)
    for cdxj in sorted(root.glob("*.cdxj")):
        if cdxj != out:
            try:
                add(cdxj.read_text(encoding="utf-8").splitlines())
            except (OSError, ValueError) as e:
                logger.warning("%s: not readable as CDXJ: %s", cdxj, e)
    return found
