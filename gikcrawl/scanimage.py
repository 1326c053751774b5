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
NOISY_SIGMA = 2.2            # grain (std of the background, grey levels) above which a page is denoised


def noise_sigma(gray: np.ndarray) -> float:
    """The page's grain: the std of background pixels' differences from their 3x3 median (only pixels with
    no ink within 7 px; dust, 50+ grey levels off, left out)."""
    import cv2
    med = cv2.medianBlur(gray, 3)
    background = cv2.erode(med, np.ones((15, 15), np.uint8)) > 170
    if background.sum() < 1000:
        return 0.0
    diff = (gray.astype(np.int16) - med.astype(np.int16))[background]
    return float(diff[np.abs(diff) < 50].std())


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

