"""The printable HTML receipt (80 mm thermal roll or A4), rendered from a `Receipt`, with its
Code 128 barcode and QR code as inline SVG."""

from __future__ import annotations

from typing import Literal

import segno

from omnitill.services.receipts import Receipt
from omnitill.web.env import render

Paper = Literal["80mm", "a4"]
QR_SCALE = 4  # SVG units per module; CSS sizes the code on paper
QR_BORDER = 4  # the quiet zone ISO/IEC 18004 asks for, in modules


def qr_svg(payload: str, *, css_class: str = "qr-code") -> str:
    """A QR code (never Micro QR, which phone cameras do not read) as inline SVG."""
    code = segno.make(payload, error="m", micro=False)
    return str(code.svg_inline(scale=QR_SCALE, border=QR_BORDER, svgclass=css_class))


def render_receipt_html(receipt: Receipt, *, paper: Paper = "80mm") -> str:
    """A self-contained HTML page; the browser's print dialog prints it on the receipt roll
    (or on A4 with `paper="a4"`)."""
    return render(
        "receipt.html",
        locale=receipt.locale,
        r=receipt,
        paper=paper,
        qr_svg=qr_svg(receipt.qr_data),
    )
