"""stock exception resolution: how, by whom and why a manager closed an exception

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_exceptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resolved_by_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_exceptions_resolved_by_id_users"),
            "users",
            ["resolved_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_exceptions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_stock_exceptions_resolved_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolved_by_id")
        batch_op.drop_column("resolution")
