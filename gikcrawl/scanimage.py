"""Scanned page images made fit for OCR (OpenCV).

- ``prepare``: a grey page → denoised (non-local means, only when the page is grainy) and upscaled to
  ~300 dpi (cubic) when the scan is coarser: tesseract reads 150-dpi CJK glyphs as garbage, and noise
  specks look like strokes to it.

Rulings are not looked for on this image: non-local means erases the faint 1-px rulings of a low-dpi scan,
so documents.py finds them on the page as scanned.
"""
from __future__ import annotations

import numpy as np

TARGET_DPI = 300             # low-dpi scans are upscaled to this before OCR
UPSCALE_BELOW = 250          # ... when their own resolution is below this
NOISY_SIGMA = 4.0            # grey-level noise (robust std of the background) above which a page is denoised


def noise_sigma(gray: np.ndarray) -> float:
    """Robust std of the page's grain: the median absolute difference of background pixels from their
    3x3 median (text edges are excluded by taking only pixels whose neighbourhood is light)."""
    import cv2
    med = cv2.medianBlur(gray, 3)
    background = cv2.erode(med, np.ones((5, 5), np.uint8)) > 170          # no ink within 2-3 px
    if background.sum() < 1000:
        return 0.0
    diff = np.abs(gray.astype(np.int16) - med.astype(np.int16))[background]
    return float(1.4826 * np.median(diff)) if np.median(diff) else float(diff.mean())


def prepare(gray: np.ndarray, dpi: float | None) -> tuple[np.ndarray, float, float]:
    """→ (page, scale applied, noise sigma measured). `dpi` None (an image file): no upscaling."""
    import cv2
    sigma = noise_sigma(gray)
    if sigma > NOISY_SIGMA:
        # dust (isolated dark pixels) first: non-local means keeps what it cannot match as a feature
        gray = cv2.medianBlur(gray, 3)
        gray = cv2.fastNlMeansDenoising(gray, None, h=max(10.0, 1.5 * sigma), templateWindowSize=7,
                                        searchWindowSize=21)
    scale = 1.0
    if dpi and dpi < UPSCALE_BELOW:
        scale = TARGET_DPI / dpi
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return gray, scale, sigma

