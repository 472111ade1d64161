"""stock buckets and reservations

Stock levels gain the reserved bucket, the unavailable buckets (quarantine, damaged, qc: units
of on_hand that may not be sold) and the per-location safety stock setting, all starting at 0,
so every existing level still equals its ledger. Reservations hold units for a reference (one
reservation per reference) with their lines.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKETS = ("reserved", "safety_stock", "quarantine", "damaged", "qc")


def upgrade() -> None:
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        for name in BUCKETS:
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
            )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=False),
        sa.Column("reference_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_reservations_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_reservations_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint(
            "reference_type", "reference_id", name=op.f("uq_reservations_reference_type")
        ),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            "ix_reservations_status_expires_at", ["status", "expires_at"], unique=False
        )
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_lines_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_reservation_lines_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("reservation_id", "variant_id", name=op.f("pk_reservation_lines")),
    )


def downgrade() -> None:
    op.drop_table("reservation_lines")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_reservations_location_id"))
    op.drop_table("reservations")
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        for name in reversed(BUCKETS):
            batch_op.drop_column(name)
