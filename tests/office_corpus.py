"""Documents made the way offices make them, from reports with known truth (reportgen): the HTML report
exported to PDF/DOCX by LibreOffice headless and printed to PDF by Chromium; scans made by rasterising
those PDFs (150-300 dpi, noise, grey rulings, slight rotation, shifted margins) into image-only PDFs.
Built at test time (a tool missing: None) and cached per process."""
from __future__ import annotations

import functools
import io
import os
import random
import shutil
import subprocess
import tempfile

from gikfixtures.reportgen import make_report, render_html

_PROFILE = tempfile.mkdtemp(prefix="gik-office-corpus-")
SEEDS = (501, 502, 503, 504)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def chromium() -> str | None:
    return next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or "")
                 if p and os.path.exists(p)), None)


def report_html(t, grey: bool = False) -> str:
    """The report as an office would write it: no site chrome; grey table rulings if asked."""
    html = render_html(t, chrome=False)
    style = ("<style>table{border-collapse:collapse}td,th{border:1px solid %s;padding:2px 4px;font-size:10pt}"
             "</style>" % ("#a8a8a8" if grey else "#000"))
    return html.replace("</head>", style + "</head>", 1)


def _run(cmd: list[str], tmp: str, out: str, timeout: float = 180) -> bytes:
    subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=timeout, check=False)
    with open(os.path.join(tmp, out), "rb") as f:
        return f.read()


@functools.cache
def office(seed: int, target: str, grey: bool = False) -> bytes | None:
    """LibreOffice Writer's export of the HTML report: target "pdf" or "docx"."""
    exe = soffice()
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "r.html"), "w", encoding="utf-8") as f:
            f.write(report_html(make_report(seed, "2021"), grey))
        filt = {"pdf": "pdf:writer_pdf_Export", "docx": "docx:MS Word 2007 XML"}[target]
        return _run([exe, f"-env:UserInstallation=file://{_PROFILE}", "--headless", "--norestore",
                     "--infilter=HTML (StarWriter)", "--convert-to", filt, "--outdir", tmp, "r.html"], tmp,
                    f"r.{target}")


@functools.cache
def printed(seed: int, grey: bool = False) -> bytes | None:
    """Chromium's print-to-PDF of the HTML report (A4, no header/footer)."""
    exe = chromium()
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "r.html"), "w", encoding="utf-8") as f:
            f.write(report_html(make_report(seed, "2021"), grey))
        return _run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                     f"--user-data-dir={tmp}/profile", "--print-to-pdf=out.pdf", f"file://{tmp}/r.html"], tmp,
                    "out.pdf")


def scan(pdf: bytes, dpi: int, *, noise: float = 0.0, angle: float = 0.0, shift: tuple[int, int] = (0, 0),
         seed: int = 0) -> bytes:
    """A PDF printed and scanned: each page a grey image at `dpi` (noise: std of Gaussian grey noise, also
    speckles; angle: degrees; shift: px of the page on the scanner glass), saved as an image-only PDF."""
    import numpy as np
    import pypdfium2
    from PIL import Image, ImageChops, ImageFilter
    rnd = random.Random(seed)
    pages = []
    doc = pypdfium2.PdfDocument(pdf)
    for page in doc:
        img = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        if noise:
            img = img.filter(ImageFilter.GaussianBlur(0.6))
            # numpy's seeded generator: PIL's effect_noise draws from C's unseeded rand(), so its grain
            # depended on what the process had drawn before (the same scan read 100 % or 2 %)
            grain = np.random.default_rng(seed).normal(128, noise, (img.height, img.width))
            grain = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8))
            img = ImageChops.add(img, grain, scale=1.0, offset=-128)
            px = img.load()
            for _ in range(img.width * img.height // 4000):      # dust
                px[rnd.randrange(img.width), rnd.randrange(img.height)] = rnd.randrange(60)
        if angle or shift != (0, 0):
            img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=255, translate=shift)
        pages.append(img)
    doc.close()
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return buf.getvalue()


def truth(seed: int):
    return make_report(seed, "2021")
