"""Every router the app mounts, in the order they appear in the docs."""

from fastapi import APIRouter

from omnitill.api.routes import (
    auth,
    catalog,
    customers,
    health,
    locations,
    pricing,
    promotions,
    quotes,
    reservations,
    sales,
    stock,
    tax,
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
    pricing.router,
    tax.router,
    promotions.router,
    quotes.router,
    sales.router,
    health.router,
]
