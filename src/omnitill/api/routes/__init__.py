"""Every router the app mounts, in the order they appear in the docs."""

from fastapi import APIRouter

from omnitill.api.routes import (
    auth,
    catalog,
    customers,
    health,
    locations,
    sales,
    stock,
    users,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    users.router,
    catalog.router,
    locations.router,
    customers.router,
    stock.router,
    sales.router,
    health.router,
]
