"""append-only ledgers: refuse UPDATE and DELETE on the audit trail, stock movements and payments

The services only ever insert into these tables; the triggers make the database refuse
anything else too, so a bug or a careless manual fix cannot rewrite history. (Someone who can
drop triggers can still tamper; `omnitill audit verify` detects that on the audit trail.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = ("audit_entries", "stock_movements", "sale_payments")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION omnitill_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'omnitill: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        for name in LEDGERS:
            op.execute(
                f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
                "FOR EACH ROW EXECUTE FUNCTION omnitill_append_only()"
            )
        return
    for name in LEDGERS:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {name}_no_{action.lower()} BEFORE {action} ON {name} "
                f"BEGIN SELECT RAISE(ABORT, 'omnitill: {name} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in LEDGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
        op.execute("DROP FUNCTION IF EXISTS omnitill_append_only()")
        return
    for name in LEDGERS:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}_no_{action}")
