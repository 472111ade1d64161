"""pricing, tax and promotions: price lists, exchange rates, roundings, tax jurisdictions and
their components, promotions, coupons and the redemption ledger, collections; customer groups
and tax-exemption certificates, products sold by weight, a location's tax jurisdiction

`promotion_redemptions` is a ledger like the ones of 0002: UPDATE and DELETE are refused.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER = "promotion_redemptions"


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.JSON(), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    _pricing()
    _tax()
    _promotions()
    _catalog_and_customers()
    _append_only(LEDGER)


def _pricing() -> None:
    op.create_table(
        "price_lists",
        _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("tax_inclusive", sa.Boolean(), nullable=False),
        _json("channels"),
        _json("location_codes"),
        _json("customer_groups"),
        _at("starts_at", nullable=True),
        _at("ends_at", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_price_lists_name")),
    )
    op.create_table(
        "price_list_entries",
        _id(),
        sa.Column("price_list_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("compare_at_minor", sa.BigInteger(), nullable=True),
        _json("tiers"),
        _at("created_at"),
        _at("updated_at"),
        _fk("price_list_entries", "price_list_id", "price_lists"),
        _fk("price_list_entries", "variant_id", "variants"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_list_entries")),
        sa.UniqueConstraint(
            "price_list_id", "variant_id", name=op.f("uq_price_list_entries_price_list_id")
        ),
    )
    _indexes("price_list_entries", "variant_id")
    op.create_table(
        "exchange_rates",
        _id(),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint("base", "quote", "valid_from", name=op.f("uq_exchange_rates_base")),
    )
    op.create_table(
        "price_roundings",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("increment", sa.Integer(), nullable=False),
        sa.Column("charm_ending", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_price_roundings")),
    )


def _tax() -> None:
    op.create_table(
        "tax_classes",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tax_classes")),
    )
    op.create_table(
        "tax_jurisdictions",
        _id(),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        _json("postal_prefixes"),
        sa.Column("inclusive", sa.Boolean(), nullable=False),
        sa.Column("rounding", sa.String(length=16), nullable=False),
        sa.Column("rounding_mode", sa.String(length=16), nullable=False),
        _json("exempt_channels"),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_jurisdictions")),
        sa.UniqueConstraint("code", name=op.f("uq_tax_jurisdictions_code")),
    )
    _indexes("tax_jurisdictions", "country")
    op.create_table(
        "tax_components",
        _id(),
        sa.Column("jurisdiction_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _json("rates"),
        sa.Column("compound", sa.Boolean(), nullable=False),
        sa.Column("applies_to_shipping", sa.Boolean(), nullable=False),
        sa.Column("rounding_group", sa.String(length=40), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        _json("exempt_below"),
        sa.Column("position", sa.Integer(), nullable=False),
        _at("created_at"),
        _fk("tax_components", "jurisdiction_id", "tax_jurisdictions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_components")),
    )
    _indexes("tax_components", "jurisdiction_id")


def _promotions() -> None:
    op.create_table(
        "promotions",
        _id(),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("stacking", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        _json("definition"),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("requires_coupon", sa.Boolean(), nullable=False),
        _json("channels"),
        _json("location_codes"),
        _json("customer_groups"),
        _at("starts_at", nullable=True),
        _at("ends_at", nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
        sa.UniqueConstraint("code", name=op.f("uq_promotions_code")),
    )
    op.create_table(
        "coupon_batches",
        _id(),
        sa.Column("promotion_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        _fk("coupon_batches", "promotion_id", "promotions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_batches")),
    )
    _indexes("coupon_batches", "promotion_id")
    op.create_table(
        "coupons",
        _id(),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("promotion_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        _at("starts_at", nullable=True),
        _at("ends_at", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at"),
        _fk("coupons", "batch_id", "coupon_batches"),
        _fk("coupons", "promotion_id", "promotions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    _indexes("coupons", "batch_id", "promotion_id")
    op.create_table(
        LEDGER,
        _id(),
        sa.Column("promotion_id", sa.Uuid(), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("order_ref", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _at("created_at"),
        _fk(LEDGER, "coupon_id", "coupons"),
        _fk(LEDGER, "promotion_id", "promotions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_redemptions")),
    )
    _indexes(LEDGER, "coupon_id", "customer_id", "promotion_id", "sale_id")
    op.create_table(
        "catalog_versions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("stamp", sa.Uuid(), nullable=False),
        _at("changed_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_catalog_versions")),
    )


def _catalog_and_customers() -> None:
    op.create_table(
        "collections",
        _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("slug", name=op.f("uq_collections_slug")),
    )
    op.create_table(
        "collection_products",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        _fk("collection_products", "collection_id", "collections"),
        _fk("collection_products", "product_id", "products"),
        sa.PrimaryKeyConstraint("collection_id", "product_id", name=op.f("pk_collection_products")),
    )
    _indexes("collection_products", "product_id")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("groups", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("tax_exempt_certificate", sa.String(length=64), nullable=True)
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sold_by_weight", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_jurisdiction_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_locations_tax_jurisdiction_id_tax_jurisdictions"),
            "tax_jurisdictions",
            ["tax_jurisdiction_id"],
            ["id"],
        )


def _append_only(name: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION omnitill_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {name}_no_{action.lower()} BEFORE {action} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, 'omnitill: {name} is append-only'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_locations_tax_jurisdiction_id_tax_jurisdictions"), type_="foreignkey"
        )
        batch_op.drop_column("tax_jurisdiction_id")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("sold_by_weight")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("tax_exempt_certificate")
        batch_op.drop_column("groups")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {LEDGER}_append_only ON {LEDGER}")
    # Dropping a table drops its indexes (and, on SQLite, its triggers) with it.
    for table in (
        "collection_products",
        "collections",
        "catalog_versions",
        LEDGER,
        "coupons",
        "coupon_batches",
        "promotions",
        "tax_components",
        "tax_jurisdictions",
        "tax_classes",
        "price_roundings",
        "exchange_rates",
        "price_list_entries",
        "price_lists",
    ):
        op.drop_table(table)
