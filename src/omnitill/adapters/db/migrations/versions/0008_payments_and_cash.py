"""payments and cash: payments and their event ledger, QR payment links, gift cards and
store credit with their ledgers, rate limits, shifts, cash movements and Z reports; the cash
settings of locations; cash rounding and shift of sales; the payment facts of sale payments.

The new ledgers (payment_events, gift_card_ledger, store_credit_ledger, cash_movements,
z_reports) are append-only like those of 0002. On SQLite a rebuild of sale_payments (its
columns dropped on downgrade) drops its append-only triggers: they are created again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 11:04:24.752139
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = (
    "payment_events",
    "gift_card_ledger",
    "store_credit_ledger",
    "cash_movements",
    "z_reports",
)


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_table(
        "gift_cards",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_last4", sa.String(length=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_gift_cards_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_cards")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_gift_cards_code_hash")),
    )
    op.create_table(
        "store_credit_accounts",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_store_credit_accounts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", "currency", name=op.f("pk_store_credit_accounts")),
    )
    op.create_table(
        "store_credit_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_store_credit_ledger_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_store_credit_ledger_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_credit_ledger")),
    )
    with op.batch_alter_table("store_credit_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_store_credit_ledger_customer", ["customer_id", "currency"], unique=False
        )

    op.create_table(
        "gift_card_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("gift_card_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_gift_card_ledger_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["gift_card_id"],
            ["gift_cards.id"],
            name=op.f("fk_gift_card_ledger_gift_card_id_gift_cards"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_gift_card_ledger_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift_card_ledger")),
    )
    with op.batch_alter_table("gift_card_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gift_card_ledger_gift_card_id"), ["gift_card_id"], unique=False
        )

    op.create_table(
        "shifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("register_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_by_id", sa.Uuid(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("float_minor", sa.BigInteger(), nullable=False),
        sa.Column("float_count", sa.JSON(), nullable=False),
        sa.Column("counted", sa.JSON(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_shifts_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_shifts_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_shifts_opened_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_shifts_register_id_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_register_id"), ["register_id"], unique=False)
        batch_op.create_index(
            "uq_shifts_open_register",
            ["register_id"],
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )

    op.create_table(
        "cash_movements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_cash_movements_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_cash_movements_shift_id_shifts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_movements")),
    )
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cash_movements_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("register_id", sa.Uuid(), nullable=True),
        sa.Column("shift_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tendered_minor", sa.BigInteger(), nullable=True),
        sa.Column("tendered_currency", sa.String(length=3), nullable=True),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("change_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=True),
        sa.Column("gateway_reference", sa.String(length=100), nullable=True),
        sa.Column("entry_mode", sa.String(length=16), nullable=True),
        sa.Column("card_brand", sa.String(length=16), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("card_exp_month", sa.Integer(), nullable=True),
        sa.Column("card_exp_year", sa.Integer(), nullable=True),
        sa.Column("card_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("card_token", sa.String(length=100), nullable=True),
        sa.Column("auth_code", sa.String(length=16), nullable=True),
        sa.Column("decline_code", sa.String(length=32), nullable=True),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("gift_card_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_payments_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["gift_card_id"], ["gift_cards.id"], name=op.f("fk_payments_gift_card_id_gift_cards")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_payments_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_payments_register_id_registers")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_payments_shift_id_shifts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_card_fingerprint", ["card_fingerprint", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_gateway_reference"), ["gateway_reference"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_sale_id"), ["sale_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "z_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("register_id", sa.Uuid(), nullable=False),
        sa.Column("z_number", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("variance_minor", sa.BigInteger(), nullable=False),
        sa.Column("variance_reason", sa.String(length=200), nullable=True),
        sa.Column("closed_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_z_reports_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_z_reports_register_id_registers")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_z_reports_shift_id_shifts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_z_reports")),
        sa.UniqueConstraint("register_id", "z_number", name=op.f("uq_z_reports_register_id")),
        sa.UniqueConstraint("shift_id", name=op.f("uq_z_reports_shift_id")),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("gateway_reference", sa.String(length=100), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_payment_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_events_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_events_idempotency_key")),
    )
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_events_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "qr_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_qr_payments_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qr_payments")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_qr_payments_payment_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_qr_payments_token_hash")),
    )
    with op.batch_alter_table("qr_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qr_payments_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cash_management", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("cash_rounding_minor", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cash_variance_threshold_minor",
                sa.BigInteger(),
                server_default="500",
                nullable=False,
            )
        )

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gift_card", sa.Boolean(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gift_card_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sale_lines_gift_card_id_gift_cards"),
            "gift_cards",
            ["gift_card_id"],
            ["id"],
        )

    with op.batch_alter_table("sale_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("tendered_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("tendered_currency", sa.String(length=3), nullable=True))
        batch_op.add_column(
            sa.Column("change_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("card_brand", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("card_last4", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("entry_mode", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("auth_code", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sale_payments_payment_id"), ["payment_id"], unique=False
        )

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cash_rounding_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("shift_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_sales_shift_id"), ["shift_id"], unique=False)

    _guard("sale_payments")
    for name in LEDGERS:
        _guard(name)


def downgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_shift_id"))
        batch_op.drop_column("shift_id")
        batch_op.drop_column("cash_rounding_minor")

    with op.batch_alter_table("sale_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_payments_payment_id"))
        batch_op.drop_column("auth_code")
        batch_op.drop_column("entry_mode")
        batch_op.drop_column("card_last4")
        batch_op.drop_column("card_brand")
        batch_op.drop_column("change_minor")
        batch_op.drop_column("tendered_currency")
        batch_op.drop_column("tendered_minor")
        batch_op.drop_column("payment_id")
    _guard("sale_payments")

    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sale_lines_gift_card_id_gift_cards"), type_="foreignkey"
        )
        batch_op.drop_column("gift_card_id")

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("gift_card")

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("cash_variance_threshold_minor")
        batch_op.drop_column("cash_rounding_minor")
        batch_op.drop_column("cash_management")

    with op.batch_alter_table("qr_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qr_payments_expires_at"))

    op.drop_table("qr_payments")
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_events_payment_id"))

    op.drop_table("payment_events")
    op.drop_table("z_reports")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_shift_id"))
        batch_op.drop_index(batch_op.f("ix_payments_sale_id"))
        batch_op.drop_index(batch_op.f("ix_payments_order_id"))
        batch_op.drop_index(batch_op.f("ix_payments_location_id"))
        batch_op.drop_index(batch_op.f("ix_payments_gateway_reference"))
        batch_op.drop_index("ix_payments_card_fingerprint")

    op.drop_table("payments")
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_movements_shift_id"))

    op.drop_table("cash_movements")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_shifts_open_register",
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        )
        batch_op.drop_index(batch_op.f("ix_shifts_register_id"))

    op.drop_table("shifts")
    with op.batch_alter_table("gift_card_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gift_card_ledger_gift_card_id"))

    op.drop_table("gift_card_ledger")
    with op.batch_alter_table("store_credit_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_store_credit_ledger_customer")

    op.drop_table("store_credit_ledger")
    op.drop_table("store_credit_accounts")
    op.drop_table("gift_cards")
    op.drop_table("rate_limits")


def _guard(name: str) -> None:
    """Refuse UPDATE and DELETE on `name` (see 0002); idempotent."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
        op.execute(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION omnitill_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {name}_no_{action.lower()} BEFORE {action} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, 'omnitill: {name} is append-only'); END"
        )
