"""Request and response bodies for categories, brands, collections, products and variants.

Money fields are integers in minor units of `currency`. The schemas check types and lengths;
business rules (GTIN check digits, prices, currencies, options) are checked by the catalog
service so every broken field is reported at once with a stable code.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from omnitill.domain.catalog.products import CatalogStatus, Tracking

Unit = Literal["each", "g", "ml"]
_UNIT = (
    "The base unit stock counts in: each, g (grams) or ml (millilitres). Defaults to g for "
    "a product sold by weight, else each. Cannot change once the variant has stock movements "
    "(409 `catalog.unit_locked`)."
)
_TRACKING = (
    "How units are tracked: none, lot (with expiry dates; sold first expired first out) or "
    "serial (one serial number per unit). Defaults to the product's. Cannot change once the "
    "variant has stock movements (409 `catalog.tracking_locked`)."
)

_SKU = "Stock keeping unit: 1 to 64 characters without spaces, unique across the catalog."
_BARCODE = "GTIN-8, UPC-A (GTIN-12), EAN-13 or GTIN-14 with a valid check digit; unique."
_PRICE = "Selling price in minor units of `currency` (1999 = 19.99 USD); zero or more."
_OPTION_VALUES = "This variant's value for each of the product's options."
_BY_WEIGHT = "Priced per kilogram and sold in grams (variant prices are per kg)."
_GIFT_CARD = (
    "A gift card: sold at the amount the customer loads (a sale line's `gift_card`), never "
    "discounted or taxed, and not stock."
)


class CategoryCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Men's shoes", "slug": "mens-shoes"}]}
    )
    name: str = Field(min_length=1, max_length=200, description="Display name.")
    slug: str | None = Field(
        None, max_length=200, description="Unique URL name; made from `name` when omitted."
    )
    parent_id: uuid.UUID | None = Field(None, description="The enclosing category, if any.")


class CategoryRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    parent_id: uuid.UUID | None
    created_at: datetime


class CategoryPage(BaseModel):
    items: list[CategoryRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class BrandCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Acme Outdoor"}]})
    name: str = Field(min_length=1, max_length=200, description="Unique regardless of case.")


class BrandRead(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class BrandPage(BaseModel):
    items: list[BrandRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class CollectionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Summer picks", "slug": "summer-picks"}]}
    )
    name: str = Field(min_length=1, max_length=200, description="Display name.")
    slug: str | None = Field(
        None, max_length=200, description="Unique URL name; made from `name` when omitted."
    )


class CollectionRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    product_count: int = Field(description="Products in the collection.")
    created_at: datetime


class CollectionPage(BaseModel):
    items: list[CollectionRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class CollectionProductPage(BaseModel):
    items: list[uuid.UUID] = Field(description="Product ids in the collection, in id order.")
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class VariantCreate(BaseModel):
    """One sellable SKU of a product."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "TEE-BLK-M",
                    "barcode": "4006381333931",
                    "option_values": {"size": "M", "colour": "black"},
                    "price": 1999,
                    "compare_at_price": 2499,
                    "cost": 650,
                    "currency": "USD",
                }
            ]
        }
    )
    sku: str = Field(description=_SKU)
    barcode: str | None = Field(None, description=_BARCODE)
    name: str | None = Field(
        None,
        max_length=400,
        description="Defaults to the product name and option values (``Tee - M / black``).",
    )
    option_values: dict[str, str] = Field(default_factory=dict, description=_OPTION_VALUES)
    price: int = Field(description=_PRICE)
    compare_at_price: int | None = Field(
        None, description="The 'was' price shown struck through, in minor units."
    )
    cost: int | None = Field(None, description="What the merchant pays, in minor units.")
    currency: str = Field(
        description="ISO 4217 code; every variant of a product uses the same one."
    )
    status: CatalogStatus = Field(
        CatalogStatus.ACTIVE, description="Sellable only while it and its product are active."
    )
    unit: Unit | None = Field(None, description=_UNIT)
    tracking: Tracking | None = Field(None, description=_TRACKING)


class ProductCreate(BaseModel):
    """A product and the variants it is created with, in one transaction."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Organic cotton tee",
                    "description": "Heavyweight crew neck.",
                    "tax_class": "standard",
                    "tracking": "none",
                    "status": "active",
                    "options": ["size", "colour"],
                    "variants": [
                        {
                            "sku": "TEE-BLK-M",
                            "barcode": "4006381333931",
                            "option_values": {"size": "M", "colour": "black"},
                            "price": 1999,
                            "currency": "USD",
                        },
                        {
                            "sku": "TEE-BLK-L",
                            "option_values": {"size": "L", "colour": "black"},
                            "price": 1999,
                            "currency": "USD",
                        },
                    ],
                }
            ]
        }
    )
    name: str = Field(min_length=1, max_length=300, description="Display name.")
    description: str = Field("", max_length=20_000, description="Long description.")
    category_id: uuid.UUID | None = Field(None, description="An existing category.")
    brand_id: uuid.UUID | None = Field(None, description="An existing brand.")
    tax_class: str = Field("standard", max_length=40, description="Tax class for tax rules.")
    tracking: Tracking = Field(
        Tracking.NONE, description="Stock counted by quantity, lot or serial."
    )
    status: CatalogStatus = Field(CatalogStatus.ACTIVE, description="Draft products are not sold.")
    sold_by_weight: bool = Field(False, description=_BY_WEIGHT)
    gift_card: bool = Field(False, description=_GIFT_CARD)
    options: list[str] = Field(
        default_factory=list,
        max_length=10,
        description='Option names the variants differ by, e.g. ["size", "colour"].',
    )
    variants: list[VariantCreate] = Field(
        min_length=1, max_length=1000, description="At least one variant."
    )


class ProductUpdate(BaseModel):
    """Only the fields sent change; null clears `category_id` or `brand_id`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "archived"}]})
    name: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=20_000)
    category_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    tax_class: str | None = Field(None, max_length=40)
    tracking: Tracking | None = None
    status: CatalogStatus | None = None
    sold_by_weight: bool | None = Field(None, description=_BY_WEIGHT)
    gift_card: bool | None = Field(None, description=_GIFT_CARD)
    options: list[str] | None = Field(
        None, max_length=10, description="Options still used by a variant cannot be removed."
    )


class VariantUpdate(BaseModel):
    """Only the fields sent change; null clears `barcode`, `compare_at_price`, `cost`, or
    resets `name` to the derived one. A price change is recorded in the audit trail."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"price": 1799}]})
    sku: str | None = Field(None, description=_SKU)
    barcode: str | None = Field(None, description=_BARCODE)
    name: str | None = Field(None, max_length=400)
    option_values: dict[str, str] | None = Field(None, description=_OPTION_VALUES)
    price: int | None = Field(None, description=_PRICE)
    compare_at_price: int | None = None
    cost: int | None = None
    currency: str | None = None
    status: CatalogStatus | None = None
    unit: Unit | None = Field(None, description=_UNIT)
    tracking: Tracking | None = Field(None, description=_TRACKING)


class VariantRead(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    barcode: str | None
    name: str
    option_values: dict[str, str]
    price: int = Field(description=_PRICE)
    compare_at_price: int | None
    cost: int | None = Field(description="Null unless the caller may edit the catalog.")
    currency: str
    status: CatalogStatus = Field(description="The variant's own status.")
    product_status: CatalogStatus
    sellable: bool = Field(description="True when the variant and its product are active.")
    unit: str = Field(description="Base unit quantities count in: each, g or ml.")
    tracking: str = Field(description="none, lot (with expiry dates) or serial.")
    created_at: datetime
    updated_at: datetime


class VariantPage(BaseModel):
    items: list[VariantRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class ProductRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    category_id: uuid.UUID | None
    brand_id: uuid.UUID | None
    tax_class: str
    tracking: Tracking
    status: CatalogStatus
    sold_by_weight: bool = Field(description=_BY_WEIGHT)
    gift_card: bool = Field(default=False, description=_GIFT_CARD)
    options: list[str]
    variants: list[VariantRead]
    created_at: datetime
    updated_at: datetime
