"""A 4 x 6 inch shipping label as a PDF (fpdf2): sender, recipient, service, weight, and the
tracking number as a Code 39 barcode a warehouse scanner reads.

The PDF's built-in fonts cover Latin-1 only: other characters are shown by their nearest
Latin-1 letters (``Dvořák`` -> ``Dvorák``) or as ``?``, which is what a carrier's label printer
does with a name it cannot print.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF

from omnitill.domain.fulfillment.carrier import Address, Rate

WIDTH_MM, HEIGHT_MM = 101.6, 152.4
MARGIN_MM = 5.0
BAR_NARROW_MM = 0.3  # 12 mil: an 18-character Code 39 fits 86 mm; wide bars are 3 narrow
BAR_HEIGHT_MM = 18.0


def label_pdf(
    *,
    carrier_name: str,
    tracking_number: str,
    rate: Rate,
    origin: Address,
    destination: Address,
    weight_grams: int,
    created_at: datetime,
    label_reference: str,
) -> bytes:
    """The printable label of one parcel."""
    pdf = FPDF(unit="mm", format=(WIDTH_MM, HEIGHT_MM))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_title(_latin1(f"Label {tracking_number}"))
    pdf.set_creator("omnitill")
    pdf.set_creation_date(created_at)
    pdf.add_page()
    inner = WIDTH_MM - 2 * MARGIN_MM

    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(inner * 0.6, 6, _latin1(carrier_name.upper()))
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        inner * 0.4, 6, _latin1(rate.service.upper()), align="R", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(inner, 4, "SANDBOX LABEL - NOT VALID FOR SHIPPING", new_x="LMARGIN", new_y="NEXT")
    _rule(pdf)

    pdf.set_font("Helvetica", "B", 7)
    pdf.cell(inner, 4, "FROM", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(inner, 3.6, _latin1("\n".join(_lines(origin))), new_x="LMARGIN", new_y="NEXT")
    _rule(pdf)

    pdf.set_font("Helvetica", "B", 8)
    pdf.cell(inner, 5, "SHIP TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(
        inner, 5.4, _latin1("\n".join(_lines(destination))), new_x="LMARGIN", new_y="NEXT"
    )
    _rule(pdf)

    pdf.set_font("Helvetica", "", 8)
    facts = (
        f"Service: {rate.service_name}    Zone: {rate.zone}",
        f"Weight: {_kg(weight_grams)} kg    Billable: {_kg(rate.billable_weight_grams)} kg",
        f"Date: {created_at:%Y-%m-%d %H:%M} UTC    Ref: {label_reference}",
    )
    for fact in facts:
        pdf.cell(inner, 4, _latin1(fact), new_x="LMARGIN", new_y="NEXT")
    _rule(pdf)

    barcode = f"*{tracking_number}*"
    width = _code39_width(barcode)
    y = pdf.get_y() + 3
    pdf.set_fill_color(0, 0, 0)
    pdf.code39(barcode, x=(WIDTH_MM - width) / 2, y=y, w=BAR_NARROW_MM * 3, h=BAR_HEIGHT_MM)
    pdf.set_xy(MARGIN_MM, y + BAR_HEIGHT_MM + 1.5)
    pdf.set_font("Courier", "B", 12)
    pdf.cell(inner, 5, f"TRACKING # {tracking_number}", align="C")
    return bytes(pdf.output())


def _code39_width(text: str) -> float:
    """Each Code 39 character: 3 wide + 6 narrow elements, then a narrow gap."""
    return len(text) * (3 * 3 + 6 + 1) * BAR_NARROW_MM


def _rule(pdf: FPDF) -> None:
    y = pdf.get_y() + 1
    pdf.line(MARGIN_MM, y, WIDTH_MM - MARGIN_MM, y)
    pdf.set_y(y + 1.5)


def _lines(address: Address) -> list[str]:
    city = " ".join(p for p in (address.city, address.region, address.postal_code) if p)
    lines = [address.name, address.line1, address.line2, city, address.country]
    if address.phone:
        lines.append(f"Tel. {address.phone}")
    return [line for line in lines if line]


def _kg(grams: int) -> str:
    return f"{grams / 1000:.2f}"


def _latin1(text: str) -> str:
    """`text` in what the built-in PDF fonts can draw (Latin-1)."""
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)
