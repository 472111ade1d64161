"""Every router the app mounts, in the order they appear in the docs."""

from fastapi import APIRouter

from omnitill.api.routes import (
    auth,
    catalog,
    counts,
    customers,
    gift_cards,
    health,
    locations,
    pricing,
    promotions,
    purchasing,
    quotes,
    replenishment,
    reservations,
    sales,
    serials,
    stock,
    store_credit,
    tax,
    transfers,
    users,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    users.router,
    catalog.router,
    locations.router,
    customers.router,
    stock.router,
    reservations.router,
    serials.router,
    purchasing.router,
    transfers.router,
    counts.router,
    replenishment.router,
    pricing.router,
    tax.router,
    promotions.router,
    quotes.router,
    sales.router,
    gift_cards.router,
    store_credit.router,
    health.router,
]
