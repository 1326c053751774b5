"""The captures of an archive, from the CDXJ indexes beside its WARCs (made on the fly for files without
one): what gikcrawl/archive/storage.py looks a request up in when it replays or resumes."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .cdxj import index_path, own_entry, write_index
from .verify import warc_files


def load_index(paths) -> tuple[dict, dict, dict]:
    """(method, url) → newest capture; (url, timestamp) → capture; url → newest rendered DOM (a resource
    record: no HTTP status in the index). Truncated bodies are failures, not captures, and are left out."""
    by_key: dict = {}
    by_time: dict = {}
    doms: dict = {}
    for warc in warc_files(paths):
        cdxj = index_path(warc)
        if not cdxj.exists():
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / warc.name
                copy.symlink_to(warc.resolve())
                text = write_index(copy).read_text(encoding="utf-8")
        else:
            text = cdxj.read_text(encoding="utf-8")
        for line in text.splitlines():
            _, stamp, data = line.split(" ", 2)
            entry = own_entry(json.loads(data))
            if entry.get("truncated"):
                continue
            entry.update(timestamp=stamp, path=str(warc.parent / entry["filename"]))
            if "status" not in entry and entry.get("mime", "").startswith("text/html"):
                if entry["url"] not in doms or stamp >= doms[entry["url"]]["timestamp"]:
                    doms[entry["url"]] = entry
                continue
            if "status" not in entry and entry.get("mime") != "warc/revisit":
                continue                                   # other resource records (screenshots)
            key = (entry.get("method", "GET").upper(), entry["url"])
            if key not in by_key or stamp >= by_key[key]["timestamp"]:
                by_key[key] = entry
            by_time[(entry["url"], stamp)] = entry
    return by_key, by_time, doms
