"""inventory documents: suppliers, purchase orders, goods receipts, lots, serials, transfers
and cycle counts; the expired, incoming and in-transit buckets and the replenishment settings
of stock levels; the lot and unit cost of stock movements; units of measure and tracking of
variants; the lots, serials and warranty start of sale lines.

New buckets start at 0 and movements gain nullable columns, so every existing level still
equals its ledger. On SQLite, adding the lot foreign key rebuilds stock_movements, which
drops its append-only triggers (0002): they are created again here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_sequences",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_document_sequences")),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("code", name=op.f("uq_suppliers_code")),
    )
    op.create_table(
        "count_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by_id", sa.Uuid(), nullable=True),
        sa.Column("approved_by_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_count_sessions_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_count_sessions_category_id_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_count_sessions_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_count_sessions_started_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_sessions")),
        sa.UniqueConstraint("number", name=op.f("uq_count_sessions_number")),
    )
    with op.batch_alter_table("count_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_count_sessions_location_status", ["location_id", "status"], unique=False
        )

    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_purchase_orders_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_purchase_orders_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_purchase_orders_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_purchase_orders_number")),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_purchase_orders_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("source_location_id", sa.Uuid(), nullable=False),
        sa.Column("destination_location_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("shipped_by_id", sa.Uuid(), nullable=True),
        sa.Column("received_by_id", sa.Uuid(), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_location_id"],
            ["locations.id"],
            name=op.f("fk_transfers_destination_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["users.id"], name=op.f("fk_transfers_received_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_transfers_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["shipped_by_id"], ["users.id"], name=op.f("fk_transfers_shipped_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["source_location_id"],
            ["locations.id"],
            name=op.f("fk_transfers_source_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("number", name=op.f("uq_transfers_number")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfers_destination_location_id"),
            ["destination_location_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_transfers_source_location_id"), ["source_location_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transfers_status"), ["status"], unique=False)

    op.create_table(
        "count_lines",
        sa.Column("count_session_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("expected_at_start", sa.BigInteger(), nullable=False),
        sa.Column("counted", sa.BigInteger(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_by_id", sa.Uuid(), nullable=True),
        sa.Column("variance", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["count_session_id"],
            ["count_sessions.id"],
            name=op.f("fk_count_lines_count_session_id_count_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["counted_by_id"], ["users.id"], name=op.f("fk_count_lines_counted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_count_lines_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("count_session_id", "variant_id", name=op.f("pk_count_lines")),
    )
    op.create_table(
        "goods_receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purchase_order_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("landed_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_goods_receipts_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_goods_receipts_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_goods_receipts_purchase_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_receipts")),
    )
    with op.batch_alter_table("goods_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_goods_receipts_purchase_order_id"), ["purchase_order_id"], unique=False
        )

    op.create_table(
        "lots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_lots_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("variant_id", "code", name=op.f("uq_lots_variant_id")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_expires_on"), ["expires_on"], unique=False)

    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purchase_order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("quantity_ordered", sa.BigInteger(), nullable=False),
        sa.Column("quantity_received", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_purchase_order_id_purchase_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_purchase_order_lines_variant_id_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint(
            "purchase_order_id", "line_no", name=op.f("uq_purchase_order_lines_purchase_order_id")
        ),
    )
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_order_lines_variant_id"), ["variant_id"], unique=False
        )

    op.create_table(
        "serial_units",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("warranty_starts_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_serial_units_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_serial_units_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_units")),
        sa.UniqueConstraint("variant_id", "serial", name=op.f("uq_serial_units_variant_id")),
    )
    with op.batch_alter_table("serial_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_serial_units_sale_id"), ["sale_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_serial_units_serial"), ["serial"], unique=False)

    op.create_table(
        "supplier_items",
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("pack_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("min_order_packs", sa.Integer(), nullable=False),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_supplier_items_supplier_id_suppliers")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_supplier_items_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("supplier_id", "variant_id", name=op.f("pk_supplier_items")),
    )
    with op.batch_alter_table("supplier_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_items_variant_id"), ["variant_id"], unique=False
        )

    op.create_table(
        "transfer_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("quantity_requested", sa.BigInteger(), nullable=False),
        sa.Column("quantity_shipped", sa.BigInteger(), nullable=False),
        sa.Column("quantity_received", sa.BigInteger(), nullable=False),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("serials", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name=op.f("fk_transfer_lines_transfer_id_transfers")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_transfer_lines_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_lines")),
        sa.UniqueConstraint("transfer_id", "line_no", name=op.f("uq_transfer_lines_transfer_id")),
    )
    with op.batch_alter_table("transfer_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_lines_variant_id"), ["variant_id"], unique=False
        )

    op.create_table(
        "goods_receipt_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("goods_receipt_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_order_line_id", sa.Uuid(), nullable=True),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("landed_unit_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("serials", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["goods_receipt_id"],
            ["goods_receipts.id"],
            name=op.f("fk_goods_receipt_lines_goods_receipt_id_goods_receipts"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_goods_receipt_lines_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_line_id"],
            ["purchase_order_lines.id"],
            name=op.f("fk_goods_receipt_lines_purchase_order_line_id_purchase_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_goods_receipt_lines_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_receipt_lines")),
    )
    with op.batch_alter_table("goods_receipt_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_goods_receipt_lines_goods_receipt_id"),
            ["goods_receipt_id"],
            unique=False,
        )

    op.create_table(
        "lot_balances",
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("expired", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_lot_balances_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_balances_lot_id_lots")),
        sa.PrimaryKeyConstraint("lot_id", "location_id", name=op.f("pk_lot_balances")),
    )
    with op.batch_alter_table("lot_balances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lot_balances_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "serial_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("serial_unit_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_serial_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_serial_events_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["serial_unit_id"],
            ["serial_units.id"],
            name=op.f("fk_serial_events_serial_unit_id_serial_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_events")),
    )
    with op.batch_alter_table("serial_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_serial_events_serial_unit_id"), ["serial_unit_id"], unique=False
        )

    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lots", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("serials", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("warranty_starts_on", sa.Date(), nullable=True))

    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expired", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("incoming", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("in_transit", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("reorder_point", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("max_level", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_stock_levels_updated_at", ["updated_at", "variant_id", "location_id"], unique=False
        )

    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_movements_location_kind_created",
            ["location_id", "kind", "created_at"],
            unique=False,
        )
        batch_op.add_column(sa.Column("lot_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stock_movements_lot_id"), ["lot_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movements_lot_id_lots"), "lots", ["lot_id"], ["id"]
        )
    _guard_movements()

    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unit", sa.String(length=8), server_default="each", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tracking", sa.String(length=8), server_default="none", nullable=False)
        )
    _append_only("serial_events")


def downgrade() -> None:
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_column("tracking")
        batch_op.drop_column("unit")

    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_stock_movements_lot_id_lots"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_stock_movements_lot_id"))
        batch_op.drop_index("ix_stock_movements_location_kind_created")
        batch_op.drop_column("unit_cost_minor")
        batch_op.drop_column("lot_id")
    _guard_movements()

    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_levels_updated_at")
        batch_op.drop_column("max_level")
        batch_op.drop_column("reorder_point")
        batch_op.drop_column("in_transit")
        batch_op.drop_column("incoming")
        batch_op.drop_column("expired")

    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.drop_column("warranty_starts_on")
        batch_op.drop_column("serials")
        batch_op.drop_column("lots")

    with op.batch_alter_table("serial_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_serial_events_serial_unit_id"))

    op.drop_table("serial_events")
    with op.batch_alter_table("lot_balances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_balances_location_id"))

    op.drop_table("lot_balances")
    with op.batch_alter_table("goods_receipt_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goods_receipt_lines_goods_receipt_id"))

    op.drop_table("goods_receipt_lines")
    with op.batch_alter_table("transfer_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_lines_variant_id"))

    op.drop_table("transfer_lines")
    with op.batch_alter_table("supplier_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_items_variant_id"))

    op.drop_table("supplier_items")
    with op.batch_alter_table("serial_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_serial_units_serial"))
        batch_op.drop_index(batch_op.f("ix_serial_units_sale_id"))

    op.drop_table("serial_units")
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_order_lines_variant_id"))

    op.drop_table("purchase_order_lines")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_expires_on"))

    op.drop_table("lots")
    with op.batch_alter_table("goods_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goods_receipts_purchase_order_id"))

    op.drop_table("goods_receipts")
    op.drop_table("count_lines")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_status"))
        batch_op.drop_index(batch_op.f("ix_transfers_source_location_id"))
        batch_op.drop_index(batch_op.f("ix_transfers_destination_location_id"))

    op.drop_table("transfers")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_orders_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_purchase_orders_status"))
        batch_op.drop_index(batch_op.f("ix_purchase_orders_location_id"))

    op.drop_table("purchase_orders")
    with op.batch_alter_table("count_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_count_sessions_location_status")

    op.drop_table("count_sessions")
    op.drop_table("suppliers")
    op.drop_table("document_sequences")


def _guard_movements() -> None:
    """Re-create the SQLite append-only triggers of stock_movements after a table rebuild."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS stock_movements_no_{action.lower()} BEFORE {action} "
            "ON stock_movements "
            "BEGIN SELECT RAISE(ABORT, 'omnitill: stock_movements is append-only'); END"
        )


def _append_only(name: str) -> None:
    """A serial's history, like the other ledgers (0002), refuses UPDATE and DELETE."""
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
