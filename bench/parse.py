"""Parser throughput and memory: ``python bench/parse.py [--n 1000] [--seed 0] [--table-mb 8]``.

Generates a corpus with ``gikfixtures.reportgen.make_corpus``, renders every report to text
(one-cell-per-line and trafilatura pipe rows, alternately) and to a whole HTML page, then times
``gikcrawl.parser.parse(content)`` over all texts and over all pages on one core (plain loop, CPU time
``time.process_time``, so other load on the machine does not count) after a short warm-up. As a baseline the same run times ``lxml.html.fromstring``
over the HTML pages; the ratio says how much the parser costs on top of building the tree.

Memory: a report page whose table is --table-mb megabytes of Word-exported markup (styled cells, as office
HTML is) is parsed in a fresh process, with and without a known content container; the peak resident memory
above the process's start is printed as a multiple of the page's size, beside the same figure for building
the lxml tree alone (the baseline).
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(fn, items) -> tuple[float, int, str | None]:
    """Seconds for fn over items; failures are counted (and the first one kept), not fatal."""
    errors, first = 0, None
    start = time.process_time()      # CPU time of this process: one core's throughput, whatever else runs
    for item in items:
        try:
            fn(item)
        except Exception:  # noqa: BLE001 - a benchmark reports failures, it does not stop on them
            errors += 1
            first = first or traceback.format_exc(limit=3)
    return time.process_time() - start, errors, first


def _table_page(rows: int, container: bool) -> bytes:
    cell = ('<td width="72" valign="center" style="border:solid windowtext 1.0pt;padding:0cm 5.4pt">'
            '<p class="MsoNormal" align="center" style="text-align:center"><span style="font-size:10.5pt;'
            'font-family:宋体">{}</span></p></td>')
    body = "".join("<tr>" + cell.format(f"指标{i}") + cell.format("件") + cell.format(i) + cell.format(i * 3) + "</tr>"
                   for i in range(rows))
    opening = '<div class="TRS_Editor">' if container else '<div class="main">'
    return ("<html><head><meta charset='utf-8'><title>青山县2021年政府信息公开工作年度报告</title></head><body>" + opening +
            "<p>青山县2021年政府信息公开工作年度报告</p><p>一、总体情况</p><table>" + body + "</table></div></body></html>"
            ).encode("utf-8")


# run in a fresh process that reads the page from a file, so the peak is the parse's alone
_MEMORY_PROBE = r"""
import resource, sys
from pathlib import Path
mode = sys.argv[2]
import lxml.html
from gikcrawl.parser import parse
page = Path(sys.argv[1]).read_bytes()

def rss_peak(reset=False):
    # VmHWM, reset to the current RSS first: ru_maxrss would carry the parent's peak from before the exec
    try:
        if reset:
            Path("/proc/self/clear_refs").write_text("5")
        return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

start = rss_peak(reset=True)
if mode == "lxml":
    lxml.html.document_fromstring(page)
else:
    parse(page)
print(len(page), rss_peak() - start)
"""


def memory(table_mb: float) -> None:
    import subprocess
    import tempfile
    rows = max(1, int(table_mb * 1e6 / 880))
    for container in (True, False):
        figures = {}
        with tempfile.NamedTemporaryFile(suffix=".html") as f:
            f.write(_table_page(rows, container))
            f.flush()
            for mode in ("lxml", "parse"):
                run = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, f.name, mode], capture_output=True,
                                     text=True, cwd=Path(__file__).resolve().parent.parent)
                if run.returncode:
                    print(f"memory probe failed: {run.stderr.strip().splitlines()[-1:]}")
                    return
                size, peak = map(int, run.stdout.split())
                figures[mode] = peak / size
        where = "content container" if container else "no container"
        print(f"memory, {size / 1e6:.1f} MB table page ({where}): parse peak {figures['parse']:.1f}x the page size; "
              f"baseline lxml tree alone {figures['lxml']:.1f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="reports in the corpus (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    ap.add_argument("--warmup", type=int, default=20, help="documents of each kind parsed before timing")
    ap.add_argument("--table-mb", type=float, default=8.0, help="size of the memory probe's table page (MB)")
    args = ap.parse_args(argv)

    import lxml.html

    from gikfixtures.reportgen import make_corpus, render_html, render_pipe_rows, render_text_cells
    from gikcrawl.parser import parse

    start = time.perf_counter()
    corpus = make_corpus(args.n, args.seed)
    texts = [(render_text_cells if i % 2 == 0 else render_pipe_rows)(t) for i, t in enumerate(corpus)]
    pages = [render_html(t) for t in corpus]
    made = time.perf_counter() - start
    formats = collections.Counter(t.format for t in corpus)
    mb = lambda docs: sum(len(d.encode("utf-8")) for d in docs) / 1e6  # noqa: E731
    print(f"corpus: {len(corpus)} reports ({', '.join(f'{k} {v}' for k, v in sorted(formats.items()))}); "
          f"text {mb(texts):.1f} MB, html {mb(pages):.1f} MB; generated in {made:.1f} s")

    for doc in texts[:args.warmup] + pages[:args.warmup]:
        try:
            parse(doc)
        except Exception:  # noqa: BLE001 - counted in the timed run below
            pass
    for page in pages[:args.warmup]:
        lxml.html.fromstring(page)

    t_text, e_text, first_text = timed(parse, texts)
    t_html, e_html, first_html = timed(parse, pages)
    t_lxml, _, _ = timed(lxml.html.fromstring, pages)

    print(f"text: {len(texts)} reports in {t_text:.2f} s -> {len(texts) / t_text:,.1f} reports/s ({e_text} errors)")
    print(f"html: {len(pages)} reports in {t_html:.2f} s -> {len(pages) / t_html:,.1f} reports/s ({e_html} errors)")
    print(f"lxml.html.fromstring only: {len(pages)} pages in {t_lxml:.2f} s -> {len(pages) / t_lxml:,.1f} pages/s")
    print(f"html parse / lxml-only ratio: {t_html / t_lxml:.1f}x")
    memory(args.table_mb)
    for kind, first in (("text", first_text), ("html", first_html)):
        if first:
            print(f"first {kind} error:\n{first}", file=sys.stderr)
    return 1 if e_text or e_html else 0


if __name__ == "__main__":
    sys.exit(main())
