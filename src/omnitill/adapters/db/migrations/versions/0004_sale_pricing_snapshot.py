"""sale pricing snapshot: adjustments per promotion, taxes per component, unit discounts

A sale now stores how each price was made (price list or base price, converted or
overridden), every discount with the promotion or manual reason that gave it, each unit's
share of the discounts, and the tax per jurisdiction component and rate. `sales.tax_rate`
becomes nullable: a sale taxed by stacked components has no single rate.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.alter_column(
            "tax_rate", existing_type=sa.Numeric(precision=8, scale=6), nullable=True
        )
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="in_store")
        )
        batch_op.add_column(
            sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=True)
        )
        batch_op.add_column(sa.Column("tax_exempt_reason", sa.String(length=200), nullable=True))
    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compare_at_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("price_source", sa.String(length=16), nullable=False, server_default="base")
        )
        batch_op.add_column(sa.Column("price_list_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("tax_class", sa.String(length=40), nullable=False, server_default="standard")
        )
        batch_op.add_column(
            sa.Column("tax_inclusive", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("net_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("unit_discounts", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("taxes", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "sale_adjustments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("promotion_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_sale_adjustments_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_adjustments")),
    )
    with op.batch_alter_table("sale_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_adjustments_sale_id"), ["sale_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sale_adjustments_promotion_id"), ["promotion_id"], unique=False
        )
    op.create_table(
        "sale_taxes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("taxable_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_sale_taxes_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_taxes")),
    )
    with op.batch_alter_table("sale_taxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_taxes_sale_id"), ["sale_id"], unique=False)
    # Snapshots are history: like payments, a sale's adjustments and taxes are never rewritten.
    _append_only("sale_adjustments")
    _append_only("sale_taxes")


def _append_only(name: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION omnitill_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {name}_no_{event.lower()} BEFORE {event} ON {name} "
                f"BEGIN SELECT RAISE(ABORT, 'omnitill: {name} is append-only'); END"
            )


def downgrade() -> None:
    for name in ("sale_taxes", "sale_adjustments"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
        op.drop_table(name)
    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        for column in (
            "taxes",
            "unit_discounts",
            "net_minor",
            "tax_inclusive",
            "tax_class",
            "price_list_id",
            "price_source",
            "compare_at_minor",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("tax_exempt_reason")
        batch_op.drop_column("exchange_rate")
        batch_op.drop_column("channel")
        batch_op.alter_column(
            "tax_rate", existing_type=sa.Numeric(precision=8, scale=6), nullable=False
        )
