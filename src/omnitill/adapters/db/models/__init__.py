"""Every table, imported so `Base.metadata` is complete for Alembic and tests."""

from omnitill.adapters.db.models.audit import AuditChain, AuditEntry, IdempotencyKey, OutboxEvent
from omnitill.adapters.db.models.base import Base, table
from omnitill.adapters.db.models.catalog import (
    Brand,
    Category,
    Collection,
    CollectionProduct,
    Product,
    Variant,
)
from omnitill.adapters.db.models.customers import Customer, CustomerAddress
from omnitill.adapters.db.models.inventory import (
    CountLine,
    CountSession,
    DocumentSequence,
    GoodsReceipt,
    GoodsReceiptLine,
    Lot,
    LotBalance,
    PurchaseOrder,
    PurchaseOrderLine,
    SerialEvent,
    SerialUnit,
    Supplier,
    SupplierItem,
    Transfer,
    TransferLine,
)
from omnitill.adapters.db.models.locations import Location, Register
from omnitill.adapters.db.models.pricing import (
    ExchangeRate,
    PriceList,
    PriceListEntry,
    PriceRounding,
)
from omnitill.adapters.db.models.promotions import (
    CatalogVersion,
    Coupon,
    CouponBatch,
    Promotion,
    PromotionRedemption,
)
from omnitill.adapters.db.models.sales import Sale, SaleLine, SalePayment
from omnitill.adapters.db.models.staff import (
    ApiToken,
    LoginThrottle,
    ManagerOverride,
    User,
    UserLocation,
)
from omnitill.adapters.db.models.stock import (
    Reservation,
    ReservationLine,
    StockException,
    StockLevel,
    StockMovement,
)
from omnitill.adapters.db.models.tax import TaxClass, TaxComponent, TaxJurisdiction

__all__ = [
    "ApiToken",
    "AuditChain",
    "AuditEntry",
    "Base",
    "Brand",
    "CatalogVersion",
    "Category",
    "Collection",
    "CollectionProduct",
    "CountLine",
    "CountSession",
    "Coupon",
    "CouponBatch",
    "Customer",
    "CustomerAddress",
    "DocumentSequence",
    "ExchangeRate",
    "GoodsReceipt",
    "GoodsReceiptLine",
    "IdempotencyKey",
    "Location",
    "LoginThrottle",
    "Lot",
    "LotBalance",
    "ManagerOverride",
    "OutboxEvent",
    "PriceList",
    "PriceListEntry",
    "PriceRounding",
    "Product",
    "Promotion",
    "PromotionRedemption",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Register",
    "Reservation",
    "ReservationLine",
    "Sale",
    "SaleLine",
    "SalePayment",
    "SerialEvent",
    "SerialUnit",
    "StockException",
    "StockLevel",
    "StockMovement",
    "Supplier",
    "SupplierItem",
    "TaxClass",
    "TaxComponent",
    "TaxJurisdiction",
    "Transfer",
    "TransferLine",
    "User",
    "UserLocation",
    "Variant",
    "table",
]
