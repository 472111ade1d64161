"""Every table, imported so `Base.metadata` is complete for Alembic and tests."""

from omnitill.adapters.db.models.audit import AuditChain, AuditEntry, IdempotencyKey, OutboxEvent
from omnitill.adapters.db.models.base import Base, table
from omnitill.adapters.db.models.catalog import Brand, Category, Product, Variant
from omnitill.adapters.db.models.customers import Customer, CustomerAddress
from omnitill.adapters.db.models.locations import Location, Register
from omnitill.adapters.db.models.sales import Sale, SaleLine, SalePayment
from omnitill.adapters.db.models.staff import (
    ApiToken,
    LoginThrottle,
    ManagerOverride,
    User,
    UserLocation,
)
from omnitill.adapters.db.models.stock import StockException, StockLevel, StockMovement

__all__ = [
    "ApiToken",
    "AuditChain",
    "AuditEntry",
    "Base",
    "Brand",
    "Category",
    "Customer",
    "CustomerAddress",
    "IdempotencyKey",
    "Location",
    "LoginThrottle",
    "ManagerOverride",
    "OutboxEvent",
    "Product",
    "Register",
    "Sale",
    "SaleLine",
    "SalePayment",
    "StockException",
    "StockLevel",
    "StockMovement",
    "User",
    "UserLocation",
    "Variant",
    "table",
]
