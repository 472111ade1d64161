"""The page a customer's pickup link opens (and the "I'm here" form of curbside)."""

from __future__ import annotations

from omnitill.services.pickups import PickupPage
from omnitill.web.env import render


def render_pickup_page(page: PickupPage, *, code: str) -> str:
    return render("pickup.html", p=page, code=code)
