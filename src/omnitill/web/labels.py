"""A barcode label or shelf tag as a standalone SVG file (sized in millimetres)."""

from __future__ import annotations

from omnitill.domain.labels.tags import Label
from omnitill.web.env import render


def render_label_svg(label: Label, *, locale: str = "en_US") -> str:
    """One label; the bars are `<rect class="bar">` elements, drawn at their true widths."""
    # The XML declaration must be the first bytes of the file: the macro import above it
    # renders as a blank line.
    return render("label.svg", locale=locale, label=label).lstrip()
