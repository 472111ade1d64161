"""The printable HTML receipt (80 mm thermal roll or A4), rendered from a `Receipt`."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from omnitill.services.receipts import Receipt

_env = Environment(
    loader=PackageLoader("omnitill.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_receipt_html(receipt: Receipt) -> str:
    """A self-contained HTML page; the browser's print dialog prints it on the receipt roll."""
    return _env.get_template("receipt.html").render(r=receipt)
