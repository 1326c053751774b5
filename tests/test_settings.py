"""Every setting gikcrawl reads has its default once, in gikcrawl/settings.py (or is Scrapy's own), and no
call site repeats a default; request meta keys shared by components are the named constants of
gikcrawl/meta.py."""
import ast
import re

import scrapy.settings.default_settings as scrapy_defaults
from conftest import ROOT

import gikcrawl.meta
import gikcrawl.settings as ours

SOURCES = sorted((ROOT / "gikcrawl").rglob("*.py"))
READ = re.compile(r"""(?<!environ)\.get(?:int|float|bool|list|dict|dictorlist|with_base|priority)?\(\s*["']([A-Z][A-Z0-9_]+)["']"""
                  r"""\s*(,)?""")


def reads():
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for m in READ.finditer(text):
            yield path.relative_to(ROOT), text.count("\n", 0, m.start()) + 1, m.group(1), bool(m.group(2))


def test_the_scan_sees_the_settings_components_read():
    names = {name for _, _, name, _ in reads()}
    assert {"ARCHIVE_DIR", "WARC_MAX_SIZE", "ATTACHMENT_MAX_PAGES", "RETRY_BACKOFF_BASE", "REDIS_URL"} <= names


def test_every_setting_read_has_one_default_in_settings_py():
    undefined = sorted({(str(p), n) for p, _, n, _ in reads() if not hasattr(ours, n) and not hasattr(scrapy_defaults, n)})
    assert not undefined, f"settings read without a default in gikcrawl/settings.py: {undefined}"


def test_no_call_site_repeats_a_default():
    repeated = [f"{p}:{line} {n}" for p, line, n, has_default in reads() if has_default]
    assert not repeated, f"defaults belong in gikcrawl/settings.py only: {repeated}"


def _is_meta(node) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "meta") or (isinstance(node, ast.Name) and node.id == "meta")


def literal_meta_keys(tree, keys):
    """meta["key"], meta.get("key"), meta.pop("key") with a shared key written as a string."""
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and _is_meta(node.value):
            key = node.slice
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_meta(node.func.value)
              and node.func.attr in ("get", "pop", "setdefault") and node.args):
            key = node.args[0]
        if isinstance(key, ast.Constant) and key.value in keys:
            yield node.lineno, key.value


def test_shared_meta_keys_are_named_constants():
    keys = {v for k, v in vars(gikcrawl.meta).items() if k.isupper()}
    assert list(literal_meta_keys(ast.parse('r.meta["kind"]; r.meta.get("warc")'), keys)) == [(1, "kind"), (1, "warc")]
    found = [f"{p.relative_to(ROOT)}:{line} {key}" for p in SOURCES if p.name != "meta.py"
             for line, key in literal_meta_keys(ast.parse(p.read_text(encoding="utf-8")), keys)]
    assert not found, found
