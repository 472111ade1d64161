"""Reading sales back as charged: the view the API, receipts and events share."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    GiftCard,
    Location,
    Register,
    Sale,
    SaleLine,
    SalePayment,
    StockException,
    User,
    Variant,
)
from omnitill.adapters.db.models.sales import SaleAdjustment, SaleTax
from omnitill.adapters.db.repositories.sales import Till
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import NotFound
from omnitill.domain.ids import uuid7
from omnitill.domain.payments.gift_cards import display as gift_card_display
from omnitill.domain.pricing.cart import Adjustment, PricedCart
from omnitill.domain.tax.engine import ComponentTax
from omnitill.services.pagination import (
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import scope_to_locations
from omnitill.services.sale_payments import PaidTender, SalePayments

MANUAL = "manual"  # the source of a cashier's discount


@dataclass(frozen=True, slots=True)
class LotSold:
    """Units of a sale line that came from one lot; `lot` None for units no lot balance
    covered (goods in the customer's hands the system did not know of)."""

    lot: str | None
    expires_on: date | None
    quantity: int


@dataclass(frozen=True, slots=True)
class LineTracking:
    """What a sale line records of tracked units: its lots, or its serials and the date
    their warranty starts (the store's business date of the sale)."""

    lots: tuple[LotSold, ...] = ()
    serials: tuple[str, ...] = ()
    warranty_starts_on: date | None = None


NOT_TRACKED = LineTracking()


@dataclass(frozen=True, slots=True)
class GiftCardSold:
    """The gift card a line sold: its number only in the answer that activated a new one."""

    id: uuid.UUID
    display: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class SaleLineView:
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: int
    list_price: int
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    price_override_reason: str | None
    compare_at: int | None = None
    price_source: str = "base"
    price_list_id: str | None = None
    tax_class: str = "standard"
    tax_inclusive: bool = False
    net: int | None = None
    unit_discounts: tuple[int, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    taxes: tuple[ComponentTax, ...] = ()
    lots: tuple[LotSold, ...] = ()
    serials: tuple[str, ...] = ()
    warranty_starts_on: date | None = None
    gift_card: GiftCardSold | None = None


@dataclass(frozen=True, slots=True)
class PromotionView:
    promotion_id: str
    name: str
    amount: int
    coupon: str | None


@dataclass(frozen=True, slots=True)
class SalePaymentView:
    """A tender as the receipt shows it: a card by brand, last four and entry mode only."""

    method: str
    amount: int
    currency: str
    payment_id: uuid.UUID | None = None
    tendered: int | None = None
    tendered_currency: str | None = None
    change: int = 0
    card_brand: str | None = None
    card_last4: str | None = None
    entry_mode: str | None = None
    auth_code: str | None = None


@dataclass(frozen=True, slots=True)
class SaleView:
    id: uuid.UUID
    receipt_number: str
    status: str
    location: str
    register: str
    cashier: str
    customer_id: uuid.UUID | None
    currency: str
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    tendered: int
    change_due: int
    tax_inclusive: bool
    business_date: date
    completed_at: datetime
    lines: tuple[SaleLineView, ...]
    payments: tuple[SalePaymentView, ...]
    stock_exceptions: tuple[str, ...] = field(default=())
    replayed: bool = False
    channel: str = "in_store"
    taxes: tuple[ComponentTax, ...] = ()  # per jurisdiction component and rate
    cash_rounding: int = 0  # signed: total + cash_rounding is what the tenders paid
    promotions: tuple[PromotionView, ...] = ()
    tax_exempt_reason: str | None = None
    exchange_rate: Decimal | None = None


def sale_payload(view: SaleView) -> dict[str, object]:
    """The JSON form of a sale used in events (amounts in minor units)."""
    return {
        "id": str(view.id),
        "receipt_number": view.receipt_number,
        "status": view.status,
        "location": view.location,
        "register": view.register,
        "currency": view.currency,
        "subtotal": view.subtotal,
        "discount_total": view.discount_total,
        "tax_total": view.tax_total,
        "total": view.total,
        "change_due": view.change_due,
        "completed_at": view.completed_at.isoformat(),
        "lines": [
            {
                "sku": x.sku,
                "quantity": x.quantity,
                "unit_price": x.unit_price,
                "discount_total": x.discount_total,
                "tax_total": x.tax_total,
                "total": x.total,
            }
            for x in view.lines
        ],
        "taxes": [
            {"code": t.code, "rate": str(t.rate), "taxable": t.taxable, "tax": t.tax}
            for t in view.taxes
        ],
        "promotions": [
            {"promotion_id": p.promotion_id, "amount": p.amount, "coupon": p.coupon}
            for p in view.promotions
        ],
        "payments": [{"method": p.method, "amount": p.amount} for p in view.payments],
    }


def view_of_new_sale(
    sale: dict[str, Any],
    till: Till,
    cashier: str,
    cart: PricedCart,
    paid: SalePayments,
    reasons: list[str | None],
    negative: list[str],
    tracked: Sequence[LineTracking | None] | None = None,
    gift_cards: Mapping[int, GiftCardSold] | None = None,
) -> SaleView:
    lines_tracked = list(tracked) if tracked is not None else [None] * len(cart.lines)
    return SaleView(
        id=sale["id"],
        receipt_number=sale["receipt_number"],
        status=sale["status"],
        location=till.location_code,
        register=till.register_code,
        cashier=cashier,
        customer_id=sale["customer_id"],
        currency=cart.currency,
        subtotal=cart.subtotal,
        discount_total=cart.discount_total,
        tax_total=cart.tax_total,
        total=cart.total,
        tendered=paid.tendered,
        change_due=paid.settlement.change_due,
        tax_inclusive=sale["tax_inclusive"],
        business_date=sale["business_date"],
        completed_at=sale["completed_at"],
        lines=tuple(
            SaleLineView(
                line_no=i + 1,
                sku=p.sku,
                name=p.name,
                quantity=p.quantity,
                unit_price=p.unit_price,
                list_price=p.list_price,
                subtotal=p.subtotal,
                discount_total=p.discount_total,
                tax_total=p.tax_total,
                total=p.total,
                price_override_reason=reason if p.unit_price != p.list_price else None,
                compare_at=p.compare_at,
                price_source=p.price_source.value,
                price_list_id=p.price_list_id,
                tax_inclusive=p.tax_inclusive,
                net=p.net,
                unit_discounts=p.unit_discounts,
                adjustments=p.adjustments,
                taxes=p.taxes,
                lots=(t or NOT_TRACKED).lots,
                serials=(t or NOT_TRACKED).serials,
                warranty_starts_on=(t or NOT_TRACKED).warranty_starts_on,
                gift_card=(gift_cards or {}).get(i),
            )
            for i, (p, reason, t) in enumerate(zip(cart.lines, reasons, lines_tracked, strict=True))
        ),
        payments=tuple(_payment_view(t) for t in paid.tenders),
        cash_rounding=paid.settlement.cash_rounding,
        stock_exceptions=tuple(negative),
        channel=sale["channel"],
        taxes=cart.taxes,
        promotions=tuple(
            PromotionView(p.promotion_id, p.name, p.amount, p.coupon) for p in cart.promotions
        ),
        tax_exempt_reason=cart.tax_exempt_reason,
        exchange_rate=cart.exchange_rate,
    )


def _tax_json(t: ComponentTax) -> dict[str, Any]:
    return {"code": t.code, "name": t.name, "rate": str(t.rate), "taxable": t.taxable, "tax": t.tax}


def _tax_of(raw: dict[str, Any]) -> ComponentTax:
    return ComponentTax(raw["code"], raw["name"], Decimal(raw["rate"]), raw["taxable"], raw["tax"])


def snapshot_lines(
    sale_id: uuid.UUID, view: SaleView, cart: PricedCart, refs: tuple[VariantRef, ...]
) -> list[dict[str, Any]]:
    """The sale_lines rows: each line as charged, with its pricing snapshot."""
    return [
        {
            "id": uuid7(),
            "sale_id": sale_id,
            "line_no": x.line_no,
            "variant_id": ref.id,
            "sku": x.sku,
            "name": x.name,
            "quantity": x.quantity,
            "unit_price_minor": x.unit_price,
            "list_price_minor": x.list_price,
            "subtotal_minor": x.subtotal,
            "discount_total_minor": x.discount_total,
            "tax_total_minor": x.tax_total,
            "total_minor": x.total,
            "price_override_reason": x.price_override_reason,
            "compare_at_minor": x.compare_at,
            "price_source": x.price_source,
            "price_list_id": uuid.UUID(x.price_list_id) if x.price_list_id else None,
            "tax_class": ref.tax_class,
            "tax_inclusive": x.tax_inclusive,
            "net_minor": p.net,
            "unit_discounts": list(x.unit_discounts),
            "taxes": [_tax_json(t) for t in x.taxes],
            "lots": [_lot_json(lot) for lot in x.lots],
            "serials": list(x.serials),
            "warranty_starts_on": x.warranty_starts_on,
            "gift_card_id": None if x.gift_card is None else x.gift_card.id,
            "category_id": ref.category_id,
        }
        for x, p, ref in zip(view.lines, cart.lines, refs, strict=True)
    ]


def _lot_json(lot: LotSold) -> dict[str, Any]:
    expires_on = None if lot.expires_on is None else lot.expires_on.isoformat()
    return {"lot": lot.lot, "expires_on": expires_on, "quantity": lot.quantity}


def _lot_of(raw: dict[str, Any]) -> LotSold:
    expires_on = raw.get("expires_on")
    return LotSold(
        raw.get("lot"),
        None if expires_on is None else date.fromisoformat(expires_on),
        int(raw["quantity"]),
    )


def snapshot_adjustments(sale_id: uuid.UUID, cart: PricedCart) -> list[dict[str, Any]]:
    """The sale_adjustments rows: every discount on every line, naming its source."""
    return [
        {
            "id": uuid7(),
            "sale_id": sale_id,
            "line_no": n,
            "source": a.source,
            "promotion_id": None if a.source == MANUAL else uuid.UUID(a.source),
            "name": a.name,
            "coupon_code": a.coupon,
            "reason": a.reason,
            "amount_minor": a.amount,
        }
        for n, line in enumerate(cart.lines, start=1)
        for a in line.adjustments
    ]


def snapshot_taxes(sale_id: uuid.UUID, cart: PricedCart) -> list[dict[str, Any]]:
    """The sale_taxes rows: the receipt's tax breakdown."""
    return [
        {
            "id": uuid7(),
            "sale_id": sale_id,
            "position": i,
            "code": t.code,
            "name": t.name,
            "rate": t.rate,
            "taxable_minor": t.taxable,
            "tax_minor": t.tax,
        }
        for i, t in enumerate(cart.taxes)
    ]


def load_view(uow: UnitOfWork, sale: Sale) -> SaleView:
    register_code, location_code = uow.session.execute(
        select(Register.code, Location.code)
        .join(Location, Location.id == Register.location_id)
        .where(Register.id == sale.register_id)
    ).one()
    cashier = uow.session.scalar(select(User.username).where(User.id == sale.cashier_id))
    lines = uow.session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)
    ).all()
    payments = uow.session.scalars(
        select(SalePayment).where(SalePayment.sale_id == sale.id).order_by(SalePayment.seq)
    ).all()
    card_ids = [x.gift_card_id for x in lines if x.gift_card_id is not None]
    cards = (
        dict(
            uow.session.execute(
                select(GiftCard.id, GiftCard.code_last4).where(GiftCard.id.in_(card_ids))
            ).all()
        )
        if card_ids
        else {}
    )
    adjustments = uow.session.scalars(
        select(SaleAdjustment)
        .where(SaleAdjustment.sale_id == sale.id)
        .order_by(SaleAdjustment.line_no, SaleAdjustment.id)
    ).all()
    taxes = uow.session.scalars(
        select(SaleTax).where(SaleTax.sale_id == sale.id).order_by(SaleTax.position)
    ).all()
    negative = uow.session.scalars(
        select(Variant.sku)
        .join(StockException, StockException.variant_id == Variant.id)
        .order_by(Variant.sku)
        .where(StockException.reference_type == "sale", StockException.reference_id == str(sale.id))
    ).all()
    return SaleView(
        id=sale.id,
        receipt_number=sale.receipt_number,
        status=sale.status,
        location=location_code,
        register=register_code,
        cashier=cashier or "",
        customer_id=sale.customer_id,
        currency=sale.currency,
        subtotal=sale.subtotal_minor,
        discount_total=sale.discount_total_minor,
        tax_total=sale.tax_total_minor,
        total=sale.total_minor,
        tendered=sale.tendered_minor,
        change_due=sale.change_due_minor,
        tax_inclusive=sale.tax_inclusive,
        business_date=sale.business_date,
        completed_at=sale.completed_at,
        lines=tuple(
            SaleLineView(
                line_no=x.line_no,
                sku=x.sku,
                name=x.name,
                quantity=x.quantity,
                unit_price=x.unit_price_minor,
                list_price=x.list_price_minor,
                subtotal=x.subtotal_minor,
                discount_total=x.discount_total_minor,
                tax_total=x.tax_total_minor,
                total=x.total_minor,
                price_override_reason=x.price_override_reason,
                compare_at=x.compare_at_minor,
                price_source=x.price_source,
                price_list_id=str(x.price_list_id) if x.price_list_id else None,
                tax_class=x.tax_class,
                tax_inclusive=x.tax_inclusive,
                net=x.net_minor,
                unit_discounts=tuple(x.unit_discounts),
                adjustments=tuple(
                    Adjustment(a.source, a.name, a.amount_minor, a.coupon_code, a.reason)
                    for a in adjustments
                    if a.line_no == x.line_no
                ),
                taxes=tuple(_tax_of(t) for t in x.taxes),
                lots=tuple(_lot_of(lot) for lot in x.lots or ()),
                serials=tuple(x.serials or ()),
                warranty_starts_on=x.warranty_starts_on,
                gift_card=None
                if x.gift_card_id is None
                else GiftCardSold(x.gift_card_id, gift_card_display(cards[x.gift_card_id])),
            )
            for x in lines
        ),
        payments=tuple(
            SalePaymentView(
                p.method,
                p.amount_minor,
                p.currency,
                p.payment_id,
                p.tendered_minor,
                p.tendered_currency,
                p.change_minor,
                p.card_brand,
                p.card_last4,
                p.entry_mode,
                p.auth_code,
            )
            for p in payments
        ),
        cash_rounding=sale.cash_rounding_minor,
        stock_exceptions=tuple(negative),
        channel=sale.channel,
        taxes=tuple(
            ComponentTax(t.code, t.name, t.rate, t.taxable_minor, t.tax_minor) for t in taxes
        )
        or _single_rate(sale),
        promotions=_promotions(adjustments),
        tax_exempt_reason=sale.tax_exempt_reason,
        exchange_rate=sale.exchange_rate,
    )


def _single_rate(sale: Sale) -> tuple[ComponentTax, ...]:
    """Sales recorded before tax breakdowns (revision 0004) carry one location rate."""
    if sale.tax_rate is None or not sale.tax_total_minor:
        return ()
    net = sale.total_minor - sale.tax_total_minor
    return (ComponentTax("TAX", "Tax", sale.tax_rate, net, sale.tax_total_minor),)


def _promotions(adjustments: Sequence[SaleAdjustment]) -> tuple[PromotionView, ...]:
    totals: dict[str, PromotionView] = {}
    for a in adjustments:
        if a.source == MANUAL:
            continue
        seen = totals.get(a.source)
        amount = a.amount_minor + (seen.amount if seen else 0)
        totals[a.source] = PromotionView(a.source, a.name, amount, a.coupon_code)
    return tuple(totals.values())


def get_sale(*, db: Database, actor: Actor, sale_id: uuid.UUID) -> SaleView:
    """One sale as charged; 404 `sale.not_found`, 403 outside the actor's stores."""
    actor.require(Permission.SALES_READ)
    with db.uow(write=False) as uow:
        sale = uow.session.get(Sale, sale_id)
        if sale is None:
            raise NotFound("sale.not_found", f"no sale {sale_id}", {"id": str(sale_id)})
        _require_sale_location(uow, actor, sale)
        return load_view(uow, sale)


def _require_sale_location(uow: UnitOfWork, actor: Actor, sale: Sale) -> None:
    if not actor.may_access(sale.location_id):
        code = uow.session.scalar(select(Location.code).where(Location.id == sale.location_id))
        actor.require_location(sale.location_id, code or "")


def list_sales(
    *,
    db: Database,
    actor: Actor,
    receipt_number: str | None = None,
    location: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[SaleView], str | None]:
    """Sales newest first, filtered by receipt number or location, within the actor's stores."""
    actor.require(Permission.SALES_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    with db.uow(write=False) as uow:
        stmt = select(Sale).order_by(Sale.id.desc()).limit(page + 1)
        if receipt_number is not None:
            stmt = stmt.where(Sale.receipt_number == receipt_number)
        stmt = scope_to_locations(uow, actor, stmt, Sale.location_id, location)
        if after is not None:
            stmt = stmt.where(Sale.id < cursor_uuid(after))
        sales = uow.session.scalars(stmt).all()
        views = [load_view(uow, s) for s in sales[:page]]
    next_cursor = encode_cursor({"id": str(views[-1].id)}) if len(sales) > page else None
    return views, next_cursor


def _payment_view(t: PaidTender) -> SalePaymentView:
    return SalePaymentView(
        t.method,
        t.amount,
        t.currency,
        t.payment_id,
        t.tendered,
        t.tendered_currency,
        t.change,
        t.card_brand,
        t.card_last4,
        t.entry_mode,
        t.auth_code,
    )
