"""The page a customer's pickup link opens (and the "I'm here" form of curbside)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from omnitill.services.pickups import PickupPage

_env = Environment(
    loader=PackageLoader("omnitill.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_pickup_page(page: PickupPage, *, code: str) -> str:
    return _env.get_template("pickup.html").render(p=page, code=code)
