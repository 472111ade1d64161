"""Sheets of labels as PDF (fpdf2): A4 pages filled row by row with labels at their true
size, every bar drawn as a filled rectangle (no font or image needed to scan it).

Text uses the PDF core font Helvetica, which holds Latin-1: characters outside it (a name in
another script) are printed as ``?``; the barcode carries the SKU regardless.
"""

from __future__ import annotations

from fpdf import FPDF

from omnitill.domain.labels.barcodes import Barcode
from omnitill.domain.labels.tags import Label, LabelKind

PAGE_W, PAGE_H = 210.0, 297.0  # A4 in mm
MARGIN = 8.0
GAP = 2.0
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def label_sheet(labels: list[Label], *, copies: int = 1) -> bytes:
    """A PDF with `copies` of each label, in order, as many per A4 page as fit."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("omnitill")
    items = [label for label in labels for _ in range(copies)]
    x, y, row_h = MARGIN, MARGIN, 0.0
    pdf.add_page()
    for label in items:
        w, h = label.size_mm
        if x + w > PAGE_W - MARGIN:
            x, y, row_h = MARGIN, y + row_h + GAP, 0.0
        if y + h > PAGE_H - MARGIN:
            pdf.add_page()
            x, y, row_h = MARGIN, MARGIN, 0.0
        _draw(pdf, label, x, y)
        x, row_h = x + w + GAP, max(row_h, h)
    return bytes(pdf.output())


def _draw(pdf: FPDF, label: Label, x: float, y: float) -> None:
    w, h = label.size_mm
    pdf.set_draw_color(200)
    pdf.rect(x, y, w, h)
    if label.kind is LabelKind.SHELF:
        _text(pdf, x + 3, y + 3, w - 6, 5, label.name, size=10)
        _text(pdf, x + 3, y + 10, w - 6, 10, label.price, size=24, bold=True, align="R")
        if label.unit_price:
            _text(pdf, x + 3, y + 20, w - 6, 4, f"Unit price: {label.unit_price}", size=7)
        _bars(pdf, label.barcode, x + 2, y + h - 13, w * 0.55, 9)
        _text(pdf, x + w * 0.6, y + h - 6, w * 0.4 - 3, 4, label.sku, size=7, align="R")
    else:
        _text(pdf, x + 2, y + 1.5, w - 4, 4, label.name, size=8, align="C")
        _bars(pdf, label.barcode, x + 2, y + 6, w - 4, 13)
        _text(pdf, x + 2, y + h - 5.5, w - 4, 4, label.barcode.data, size=8, align="C")


def _bars(pdf: FPDF, code: Barcode, x: float, y: float, width: float, height: float) -> None:
    left, right = code.quiet_zone
    module = width / (code.modules + left + right)
    pdf.set_fill_color(0)
    for start, bar in code.bars():
        pdf.rect(x + (left + start) * module, y, bar * module, height, style="F")


def _text(
    pdf: FPDF,
    x: float,
    y: float,
    w: float,
    h: float,
    text: str,
    *,
    size: float,
    bold: bool = False,
    align: str = "L",
) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", size)
    safe = text.translate(_SPACES).replace("\u20ac", "EUR ")
    safe = safe.encode("latin-1", "replace").decode("latin-1")
    while safe and pdf.get_string_width(safe) > w:
        safe = safe[:-1]
    pdf.set_xy(x, y)
    pdf.cell(w, h, safe, align=align)
