"""Products, their variants (the sellable SKUs), categories, brands and collections."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omnitill.adapters.db.models.base import Base, created_column, id_column, updated_column


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id"))
    created_at: Mapped[datetime] = created_column()


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = created_column()


class Product(Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id"), index=True)
    brand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brands.id"), index=True)
    tax_class: Mapped[str] = mapped_column(String(40), default="standard")
    tracking: Mapped[str] = mapped_column(String(16), default="none")  # none | lot | serial
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|draft|archived
    options: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["size", "colour"]
    sold_by_weight: Mapped[bool] = mapped_column(default=False)  # priced per kg, sold in grams
    # 0008: a gift card product: sold at the amount the customer loads, never discounted or
    # taxed (tax is due when the card is spent), and not stock.
    gift_card: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Variant(Base):
    """One sellable SKU. `search_text` is the lower-cased name, SKU and barcode for `q=`."""

    __tablename__ = "variants"

    id: Mapped[uuid.UUID] = id_column()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(400))
    option_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    compare_at_minor: Mapped[int | None] = mapped_column(BigInteger)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="active")
    search_text: Mapped[str] = mapped_column(Text, default="")
    # 0007: the base unit quantities count in (each | g | ml), and how units are tracked:
    # none, by lot (with expiry), or one by one by serial number.
    unit: Mapped[str] = mapped_column(String(8), default="each", server_default="each")
    tracking: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Collection(Base):
    """A hand-picked set of products (``summer-picks``) promotions can target."""

    __tablename__ = "collections"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = created_column()


class CollectionProduct(Base):
    __tablename__ = "collection_products"

    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collections.id"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id"), primary_key=True, index=True
    )
