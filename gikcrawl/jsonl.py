"""JSON Lines output written atomically: a crash or Ctrl-C never leaves a half-written file."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


@contextmanager
def jsonl_writer(path: str | None):
    """Yields write(record). With a path, records go to a temporary file renamed into place on success."""
    if path in (None, "-"):
        yield lambda record: sys.stdout.write(dumps(record) + "\n")
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield lambda record: f.write(dumps(record) + "\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
