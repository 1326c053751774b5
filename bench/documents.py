"""Attachment extraction: PDF pages/s and per-carrier field accuracy: ``python bench/documents.py``.

1. PDF throughput: ``--pdfs`` (default 60) multi-page report PDFs (2021/2019/legacy mix, rendered by
   ``fixtures.docgen.render_pdf``, ~3 pages each) are extracted with ``gikcrawl.documents.extract`` in one
   process on one core; pages/s = pages / seconds of extract() (rendering is not timed).
2. Accuracy: ``--n`` (default 20) reports per carrier (2021 template; every third with blank cells, every
   other with small repeated values) go through extract() and ``parser.parse_document``; accuracy = share
   of the truth's table cells (active_disclosure, applications, review_litigation) whose parsed value equals
   the truth. The image carrier holds the applications table only and is scored on it. OCR carriers
   (image, scanned 200 dpi PDF) need tesseract + chi_sim; DOC/RTF need LibreOffice; missing tools are
   reported as skipped. ``--ocr-n`` (default 10) limits the slow OCR carriers. OFD: ``gikfixtures.ofdgen``,
   ruled (cell boxes drawn) and unruled (only gaps show the columns).
3. Office-made corpus (``--office-n`` reports, ``--scan-n`` of them scanned; ``--office-only``): the HTML
   report exported by LibreOffice (PDF, DOCX), printed by Chromium (PDF, also with grey rulings), and
   scans of the LibreOffice PDF (300 dpi clean; 150 dpi noisy, 0.6° and shifted; 200 dpi grey rulings,
   -1°, shifted): accuracy, wrong and silent figures, pages/s and its ratio to the reportlab PDFs.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gikcrawl import documents as D                       # noqa: E402
from gikfixtures import docgen as g                 # noqa: E402
from gikfixtures import ofdgen                      # noqa: E402
from gikfixtures.reportgen import make_report       # noqa: E402
from gikcrawl.parser import parse_document                # noqa: E402


def pdf_throughput(n: int) -> None:
    fmts = ("2021", "2021", "2019", "legacy")
    pdfs = [g.render_pdf(make_report(1000 + i, fmts[i % len(fmts)])) for i in range(n)]
    D.extract(pdfs[0])                                     # warm-up: imports, font maps
    pages, start = 0, time.perf_counter()
    for data in pdfs:
        pages += D.extract(data).pages
    secs = time.perf_counter() - start
    print(f"PDF extraction: {n} reports, {pages} pages in {secs:.2f} s = {pages / secs:.1f} pages/s, "
          f"{secs / n * 1000:.0f} ms/report (one core)")


def _have_ocr() -> bool:
    try:
        import pytesseract
        return "chi_sim" in pytesseract.get_languages(config="")
    except Exception:  # noqa: BLE001
        return False


CARRIERS = {   # name: (render(truth) → bytes, filename, tables scored, needs)
    "docx": (g.render_docx, "r.docx", None, None),
    "xlsx": (g.render_xlsx, "r.xlsx", None, None),
    "xls": (g.render_xls, "r.xls", None, None),
    "pdf": (g.render_pdf, "r.pdf", None, None),
    "doc": (g.render_doc, "r.doc", None, "office"),
    "rtf": (g.render_rtf, "r.rtf", None, "office"),
    "image": (lambda t: g.render_image(t, "applications"), "r.png", ("applications",), "ocr"),
    "pdf-ocr": (g.scanned_pdf, "r.pdf", None, "ocr"),
    "ofd": (ofdgen.render_ofd, "r.ofd", None, None),
    "ofd-unruled": (lambda t: ofdgen.render_ofd(t, ruled=False), "r.ofd", None, None),
}


def accuracy(n: int, ocr_n: int, only: list[str] | None) -> None:
    have = {"office": bool(g.soffice()), "ocr": _have_ocr() and bool(g.cjk_font_path()), None: True}
    print(f"{'carrier':8} {'reports':>7} {'cells ok':>9} {'cells':>6} {'accuracy':>9} {'exact docs':>10} "
          f"{'s/doc':>6}  notes")
    for name, (render, filename, scored, needs) in CARRIERS.items():
        if only and name not in only:
            continue
        if not have[needs]:
            print(f"{name:8} skipped: {'LibreOffice' if needs == 'office' else 'tesseract/chi_sim/CJK font'} missing")
            continue
        count = ocr_n if needs == "ocr" else n
        ok = total = exact = errors = 0
        secs, confs = 0.0, []
        for i in range(count):
            t = make_report(2000 + i, "2021", blanks=i % 3 == 0, distinct=i % 2 == 0)
            data = render(t)
            start = time.perf_counter()
            try:
                ex = D.extract(data, filename=filename)
            except D.DocumentError:
                errors += 1
                continue
            finally:
                secs += time.perf_counter() - start
            rec = parse_document(ex.lines, ex.lines, [])
            a, b = g.field_accuracy(t, rec, scored)
            ok, total, exact = ok + a, total + b, exact + (a == b)
            if ex.ocr_confidence is not None:
                confs.append(ex.ocr_confidence)
        notes = f"mean OCR confidence {sum(confs) / len(confs):.0f}%" if confs else ""
        notes += f" {errors} errors" if errors else ""
        print(f"{name:8} {count:7d} {ok:9d} {total:6d} {ok / max(total, 1):9.2%} {exact:6d}/{count:<3d} "
              f"{secs / count:6.2f}  {notes}")


def office_made(n: int, scans: int) -> None:
    """Documents made by the tools offices use (tests/office_corpus.py): per carrier, share of the truth's
    table cells read right, wrong figures (non-null, not the truth) and the silent ones among them (in a
    record without any warning whose checks pass), pages/s; and pages/s as a ratio to the reportlab PDFs
    of the same reports (the baseline, measured in this run)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import office_corpus as oc
    seeds = [600 + i for i in range(n)]
    carriers = {"reportlab-pdf (baseline)": lambda s: g.render_pdf(oc.truth(s))}
    if oc.soffice():
        carriers |= {"libreoffice-pdf": lambda s: oc.office(s, "pdf"), "libreoffice-docx": lambda s: oc.office(s, "docx")}
    if oc.chromium():
        carriers |= {"chromium-pdf": lambda s: oc.printed(s), "chromium-pdf-grey": lambda s: oc.printed(s, True)}
    if oc.soffice() and _have_ocr():
        carriers |= {
            "scan-300dpi-clean": lambda s: oc.scan(oc.office(s, "pdf"), 300),
            "scan-150dpi-noisy": lambda s: oc.scan(oc.office(s, "pdf"), 150, noise=18, angle=0.6, shift=(8, -6),
                                                   seed=s),
            "scan-200dpi-grey-1deg": lambda s: oc.scan(oc.office(s, "pdf", grey=True), 200, noise=8, angle=-1.0,
                                                       shift=(-10, 10), seed=s)}
    print(f"\noffice-made corpus ({n} reports, {scans} for scans)")
    print(f"{'carrier':26} {'cells ok':>9} {'cells':>6} {'accuracy':>9} {'wrong':>6} {'silent':>6} {'pages/s':>8} "
          f"{'vs base':>8}")
    base = None
    for name, make in carriers.items():
        ok = total = wrong = silent = pages = 0
        secs = 0.0
        for seed in seeds[: scans if name.startswith("scan") else n]:
            t, data = oc.truth(seed), make(seed)
            start = time.perf_counter()
            try:
                ex = D.extract(data, timeout=600)
            except D.DocumentError as e:
                print(f"  {name} {seed}: {e}")
                continue
            finally:
                secs += time.perf_counter() - start
            pages += ex.pages or 1
            rec = parse_document(ex.lines, ex.lines, [])
            a, b = g.field_accuracy(t, rec)
            want, got = g.table_cells(t.tables), g.table_cells(rec["tables"])
            bad = sum(1 for k, v in got.items() if v is not None and k in want and v != want[k])
            ok, total, wrong = ok + a, total + b, wrong + bad
            if not ex.warnings and not rec["warnings"] and all(c["ok"] for c in rec["checks"]):
                silent += bad
        rate = pages / secs if secs else 0.0
        base = base or rate
        print(f"{name:26} {ok:9d} {total:6d} {ok / max(total, 1):9.2%} {wrong:6d} {silent:6d} {rate:8.2f} "
              f"{rate / base:7.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdfs", type=int, default=60, help="PDFs for the throughput run (default 60)")
    ap.add_argument("--n", type=int, default=20, help="reports per carrier for accuracy (default 20)")
    ap.add_argument("--ocr-n", type=int, default=10, help="reports per OCR carrier (default 10)")
    ap.add_argument("--only", nargs="*", help="carriers to score (default all)")
    ap.add_argument("--office-n", type=int, default=6, help="reports of the office-made corpus (default 6)")
    ap.add_argument("--scan-n", type=int, default=3, help="of which scanned (default 3)")
    ap.add_argument("--office-only", action="store_true", help="only the office-made corpus")
    args = ap.parse_args(argv)
    if not args.office_only:
        pdf_throughput(args.pdfs)
        accuracy(args.n, args.ocr_n, args.only)
    office_made(args.office_n, args.scan_n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
