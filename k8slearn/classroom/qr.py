"""The join link as a QR code (segno: pure Python), inline SVG for the projector."""

from __future__ import annotations

import io

import segno


def svg(url: str, scale: int = 8) -> str:
    """An SVG of ``url``'s QR code (error correction M, a quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=scale, border=4, dark="#000", light="#fff", xmldecl=False,
        svgns=True, nl=False)  # no <title>: the page names the image (role="img")
    return out.getvalue().decode("utf-8")
