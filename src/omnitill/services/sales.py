"""The register sale: priced, paid, stocked, numbered, audited and announced in one transaction.

A sale reaches the server complete (the cashier has already taken the money), so it must be
recorded whenever the request is valid: stock that goes negative is flagged as an exception to
resolve, never a refusal. The sale's UUID, born on the register, is its idempotency key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Customer,
    Sale,
)
from omnitill.adapters.db.repositories import sales as sales_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    ValidationFailed,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.lots import business_date
from omnitill.domain.payments.gift_cards import display as gift_card_display
from omnitill.domain.pricing.cart import ManualDiscount, PricedCart
from omnitill.domain.returns import bundles
from omnitill.domain.sales.receipts import format_receipt_number
from omnitill.domain.tax.provider import TaxProvider
from omnitill.services import audit, events, gift_cards, pricing_data, sale_payments, tracking
from omnitill.services.auth import Authorisation, authorise
from omnitill.services.pricing import CartLineRequest, CartRequest, Place, price_cart
from omnitill.services.sale_payments import TenderRequest
from omnitill.services.sale_views import (
    MANUAL,
    GiftCardSold,
    LineTracking,
    LotSold,
    SaleLineView,
    SalePaymentView,
    SaleView,
    get_sale,
    list_sales,
    load_view,
    sale_payload,
    snapshot_adjustments,
    snapshot_lines,
    snapshot_taxes,
    view_of_new_sale,
)


@dataclass(frozen=True, slots=True)
class SaleLineRequest(CartLineRequest):
    """A register sale line: a cart line, plus the lot it is sold from (None: first expired,
    first out), the serial numbers of its units (required for serial-tracked variants), and
    for a gift card the printed card it activates (None: a new card)."""

    lot: str | None = None
    serials: tuple[str, ...] = ()
    gift_card_code: str | None = None


@dataclass(frozen=True, slots=True)
class SaleRequest:
    location: str
    register: str
    lines: tuple[CartLineRequest, ...]
    payments: tuple[TenderRequest, ...]
    id: uuid.UUID | None = None
    customer: uuid.UUID | None = None
    coupons: tuple[str, ...] = ()
    discount: ManualDiscount | None = None  # an order discount; needs sales.manual_discount


def complete_sale(
    *,
    db: Database,
    actor: Actor,
    request: SaleRequest,
    request_hash: str,
    override_token: str | None = None,
    tax_provider: TaxProvider | None = None,
) -> SaleView:
    """Record a completed register sale, or replay it if this id was recorded before."""
    actor.require(Permission.SALES_CREATE)
    sale_id = request.id or uuid7()
    try:
        with db.uow() as uow:
            till, recorded = sales_repo.till_for_sale(
                uow.connection, register_code=request.register, sale_id=sale_id
            )
            if recorded is None:
                view = _record(
                    uow,
                    till=till,
                    actor=actor,
                    request=request,
                    sale_id=sale_id,
                    request_hash=request_hash,
                    override_token=override_token,
                    tax_provider=tax_provider,
                )
                uow.commit()
                return view
    except IntegrityError:
        pass  # the same sale id was committed concurrently: answer as its replay
    replay = _replay_if_recorded(db=db, actor=actor, sale_id=sale_id, request_hash=request_hash)
    if replay is None:
        raise Conflict("sale.concurrent_write", "the sale could not be recorded; retry it")
    return replay


def _replay_if_recorded(
    *, db: Database, actor: Actor, sale_id: uuid.UUID, request_hash: str
) -> SaleView | None:
    with db.uow(write=False) as uow:
        sale = uow.session.get(Sale, sale_id)
        if sale is None:
            return None
        if sale.request_hash != request_hash:
            raise ValidationFailed(
                "idempotency.key_reused",
                "a different sale was already recorded with this id",
                {"id": str(sale_id)},
                errors=[FieldError("id", "idempotency.key_reused", "id already used")],
            )
        actor.require_location(sale.location_id, str(sale.location_id))
        view = load_view(uow, sale)
    return _with_replayed(view)


def _with_replayed(view: SaleView) -> SaleView:
    return replace(view, replayed=True)


def _check_till(till: sales_repo.Till | None, request: SaleRequest) -> sales_repo.Till:
    if till is None:
        raise ValidationFailed(
            "register.not_found",
            f"no register with code {request.register!r}",
            {"register": request.register},
            errors=[FieldError("register", "register.not_found", "unknown register")],
        )
    if till.location_code != request.location:
        raise ValidationFailed(
            "register.wrong_location",
            f"register {till.register_code} belongs to {till.location_code}, "
            f"not {request.location}",
            {
                "register": till.register_code,
                "location": request.location,
                "register_location": till.location_code,
            },
            errors=[
                FieldError(
                    "register", "register.wrong_location", f"belongs to {till.location_code}"
                )
            ],
        )
    if not till.register_active:
        raise ValidationFailed(
            "register.inactive",
            f"register {till.register_code} is not active",
            errors=[FieldError("register", "register.inactive", "not active")],
        )
    if not till.sells_in_store or not till.location_active:
        raise ValidationFailed(
            "location.not_selling",
            f"{till.location_code} does not sell in store",
            errors=[FieldError("location", "location.not_selling", "not a selling store")],
        )
    return till


def _check_customer(uow: UnitOfWork, request: SaleRequest) -> None:
    if request.customer is not None and uow.session.get(Customer, request.customer) is None:
        raise ValidationFailed(
            "customer.not_found",
            "no such customer",
            errors=[FieldError("customer", "customer.not_found", str(request.customer))],
        )


def _place(till: sales_repo.Till) -> Place:
    return Place(
        id=till.location_id,
        code=till.location_code,
        currency=till.currency,
        timezone=till.timezone,
        tax_rate=till.tax_rate,
        prices_include_tax=till.prices_include_tax,
        tax_jurisdiction_id=till.tax_jurisdiction_id,
    )


def _record(
    uow: UnitOfWork,
    *,
    till: sales_repo.Till | None,
    actor: Actor,
    request: SaleRequest,
    sale_id: uuid.UUID,
    request_hash: str,
    override_token: str | None,
    tax_provider: TaxProvider | None,
) -> SaleView:
    till = _check_till(till, request)
    actor.require_location(till.location_id, till.location_code)
    _check_customer(uow, request)
    now = utcnow()
    priced = price_cart(
        uow,
        request=CartRequest(
            lines=request.lines,
            channel="in_store",
            currency=till.currency,
            customer=request.customer,
            coupons=request.coupons,
            discount=request.discount,
        ),
        place=_place(till),
        at=now,
        tax_provider=tax_provider,
    )
    cart = priced.cart
    today = business_date(now, till.timezone)
    paid = sale_payments.pay(
        uow,
        till=sale_payments.Till(
            till.register_id,
            till.location_id,
            till.currency,
            till.cash_management,
            till.cash_rounding_minor,
        ),
        actor=actor,
        sale_id=sale_id,
        customer=request.customer,
        total=cart.total,
        requests=request.payments,
        today=today,
        now=now,
    )
    authorisations = [
        authorise(
            uow,
            actor=actor,
            permission=permission,
            override_token=override_token,
            used_for=f"sale:{sale_id}",
        )
        for permission in sorted(priced.needs)
    ]
    _redeem_promotions(uow, cart=cart, sale_id=sale_id, customer=request.customer)

    conn = uow.connection
    seq = sales_repo.next_receipt_seq(conn, till.register_id)
    portions = _take_tracked(
        uow,
        request=request,
        refs=priced.refs,
        location_id=till.location_id,
        context=tracking.Context(
            actor=actor,
            event="sold",
            reference_type="sale",
            reference_id=str(sale_id),
            now=now,
            today=today,
        ),
    )
    gift_cards_sold = _activate_gift_cards(
        uow, request=request, refs=priced.refs, cart=cart, sale_id=sale_id, till=till, actor=actor
    )
    deltas: dict[uuid.UUID, int] = {}
    for ref, line in zip(priced.refs, cart.lines, strict=True):
        if not ref.gift_card:  # a gift card is stored value, not stock
            deltas[ref.id] = deltas.get(ref.id, 0) - line.quantity
    levels = stock_repo.add_on_hand_many(conn, location_id=till.location_id, deltas=deltas)
    negative = sorted(vid for vid, level in levels.items() if level < 0)
    skus = {ref.id: ref.sku for ref in priced.refs}
    sale_row = {
        "id": sale_id,
        "receipt_number": format_receipt_number(till.register_code, seq),
        "register_id": till.register_id,
        "location_id": till.location_id,
        "cashier_id": actor.user_id,
        "customer_id": request.customer,
        "status": "completed",
        "currency": cart.currency,
        "subtotal_minor": cart.subtotal,
        "discount_total_minor": cart.discount_total,
        "tax_total_minor": cart.tax_total,
        "total_minor": cart.total,
        "tendered_minor": paid.tendered,
        "change_due_minor": paid.settlement.change_due,
        "cash_rounding_minor": paid.settlement.cash_rounding,
        "shift_id": paid.shift_id,
        "tax_rate": None,
        "tax_inclusive": any(line.tax_inclusive for line in cart.lines),
        "channel": "in_store",
        "exchange_rate": cart.exchange_rate,
        "tax_exempt_reason": cart.tax_exempt_reason,
        "request_hash": request_hash,
        "business_date": today,
        "completed_at": now,
        "promotion_groups": bundles.snapshot(cart),  # for buy-X-get-Y charge-backs on returns
    }
    reasons = [line.price_override_reason for line in request.lines]
    view = view_of_new_sale(
        sale_row,
        till,
        actor.username,
        cart,
        paid,
        reasons,
        sorted(skus[v] for v in negative),
        tracked=[
            _line_tracking(ref, p, today) for ref, p in zip(priced.refs, portions, strict=True)
        ],
        gift_cards=gift_cards_sold,
    )
    sales_repo.insert_sale(
        conn,
        sale=sale_row,
        lines=snapshot_lines(sale_id, view, cart, priced.refs),
        adjustments=snapshot_adjustments(sale_id, cart),
        taxes=snapshot_taxes(sale_id, cart),
        payments=paid.snapshot(sale_id, now),
        movements=[
            {
                "id": uuid7(),
                "variant_id": vid,
                "location_id": till.location_id,
                "bucket": "on_hand",
                "quantity": qty,
                "kind": "sale",
                "reason": "register sale",
                "reference_type": "sale",
                "reference_id": str(sale_id),
                "actor_id": actor.user_id,
                "created_at": now,
                "lot_id": lot_id,
            }
            for (vid, lot_id), qty in _movement_quantities(priced.refs, cart, portions)
        ],
        exceptions=[
            {
                "id": uuid7(),
                "variant_id": vid,
                "location_id": till.location_id,
                "kind": "negative_stock",
                "on_hand_after": levels[vid],
                "reference_type": "sale",
                "reference_id": str(sale_id),
                "created_at": now,
                "resolved_at": None,
            }
            for vid in negative
        ],
    )
    _audit_and_announce(uow, actor=actor, view=view, authorisations=authorisations)
    return view


def _take_tracked(
    uow: UnitOfWork,
    *,
    request: SaleRequest,
    refs: tuple[VariantRef, ...],
    location_id: uuid.UUID,
    context: tracking.Context,
) -> list[list[tracking.Portion] | None]:
    """The lots and serials each line's units leave (None for an untracked line, which
    costs no query). Lots go first expired first out unless the line names one, and never
    refuse goods in the customer's hands: units no lot covers are sold without a lot.
    Serials are claimed (`in_stock` here -> `sold`, warranty from today). Every refused
    line is listed (422 `inventory.*`); lines are taken in variant id order."""
    portions: list[list[tracking.Portion] | None] = [None] * len(refs)
    errors: list[FieldError] = []
    first: ValidationFailed | None = None
    for i in sorted(range(len(refs)), key=lambda i: refs[i].id):
        ref, line = refs[i], request.lines[i]
        lot = line.lot if isinstance(line, SaleLineRequest) else None
        serials = line.serials if isinstance(line, SaleLineRequest) else ()
        if ref.tracking == "none" and lot is None and not serials:
            continue
        try:
            portions[i] = tracking.take(
                uow,
                variant=ref,
                location_id=location_id,
                quantity=line.quantity,
                tracked=tracking.Tracked(
                    None if lot is None else tracking.LotInput(lot), tuple(serials)
                ),
                serial_status="sold",
                context=context,
                allow_short=True,
                field_prefix=f"lines.{i}",
            )
        except ValidationFailed as refused:
            first = first or refused
            errors.extend(refused.errors)
    if first is not None:
        errors.sort(key=lambda e: e.field)
        raise ValidationFailed(first.code, first.message, first.details, errors=errors)
    return portions


def _line_tracking(
    ref: VariantRef, portions: list[tracking.Portion] | None, today: date
) -> LineTracking | None:
    if portions is None or ref.tracking == "none":
        return None
    if ref.tracking == "serial":
        serials = tuple(s for p in portions for s in p.serials)
        return LineTracking(serials=serials, warranty_starts_on=today)
    return LineTracking(lots=tuple(LotSold(p.lot_code, p.expires_on, p.quantity) for p in portions))


def _movement_quantities(
    refs: tuple[VariantRef, ...],
    cart: PricedCart,
    portions: list[list[tracking.Portion] | None],
) -> list[tuple[tuple[uuid.UUID, uuid.UUID | None], int]]:
    """One on_hand movement per variant, and per lot for lot-tracked units, in variant id
    order: the same totals per variant as the level's change."""
    quantities: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for ref, line, taken in zip(refs, cart.lines, portions, strict=True):
        if ref.gift_card:
            continue
        for lot_id, qty in (
            [(None, line.quantity)] if taken is None else [(p.lot_id, p.quantity) for p in taken]
        ):
            key = (ref.id, lot_id)
            quantities[key] = quantities.get(key, 0) - qty
    return sorted(quantities.items(), key=lambda kv: (kv[0][0], str(kv[0][1] or "")))


def _activate_gift_cards(
    uow: UnitOfWork,
    *,
    request: SaleRequest,
    refs: tuple[VariantRef, ...],
    cart: PricedCart,
    sale_id: uuid.UUID,
    till: sales_repo.Till,
    actor: Actor,
) -> dict[int, GiftCardSold]:
    """Each gift card line loads its amount on a card: the printed card it names (inactive
    until now) or a new one, whose number the sale's answer shows once."""
    sold: dict[int, GiftCardSold] = {}
    for i, (ref, line) in enumerate(zip(refs, cart.lines, strict=True)):
        if not ref.gift_card:
            continue
        code = getattr(request.lines[i], "gift_card_code", None)
        where = f"lines.{i}.gift_card.code"
        shown = None
        if code:
            try:
                card = gift_cards.find(uow, code, field=where, lock=True)
            except NotFound as unknown:
                raise ValidationFailed(
                    unknown.code,
                    unknown.message,
                    errors=[FieldError(where, unknown.code, unknown.message)],
                ) from unknown
            if card.currency != cart.currency:
                raise ValidationFailed(
                    "gift_card.currency_mismatch",
                    f"the card holds {card.currency}, the sale is in {cart.currency}",
                    errors=[FieldError(where, "gift_card.currency_mismatch", card.currency)],
                )
        else:
            card, shown = gift_cards.new_card(uow, cart.currency, None)
        gift_cards.activate_in(
            uow,
            card=card,
            amount=line.total,
            actor=actor,
            reference_type="sale",
            reference_id=str(sale_id),
            location_id=till.location_id,
        )
        sold[i] = GiftCardSold(card.id, gift_card_display(card.code_last4), shown)
    return sold


def _redeem_promotions(
    uow: UnitOfWork, *, cart: PricedCart, sale_id: uuid.UUID, customer: uuid.UUID | None
) -> None:
    """Record each promotion the sale used (usage limits count these) and spend its coupon,
    in one insert (see `pricing_data.redeem_all`). A limit another sale reached a moment
    ago refuses this one (422, nothing written): the register re-quotes."""
    refused = pricing_data.redeem_all(
        uow,
        [pricing_data.Redemption(p.promotion_id, p.coupon, p.amount) for p in cart.promotions],
        customer_id=customer,
        sale_id=sale_id,
        currency=cart.currency,
    )
    if refused is None:
        return
    redemption, refusal = refused
    applied = next(p for p in cart.promotions if p.promotion_id == redemption.promotion_id)
    if applied.coupon is None:
        code = f"promotion.{refusal.value}"
        raise ValidationFailed(
            code,
            f"{applied.name} reached its limit with another sale a moment ago",
            {"promotion_id": applied.promotion_id},
            errors=[FieldError("promotions", code, applied.name)],
        )
    code = f"promotion.coupon_{refusal.value}"
    at = next((i for i, c in enumerate(cart.coupons) if c.code == applied.coupon), 0)
    raise ValidationFailed(
        code,
        f"coupon {applied.coupon} was used up by another sale a moment ago",
        {"coupons": [{"code": applied.coupon, "reason": code}]},
        errors=[FieldError(f"coupons.{at}", code, applied.coupon)],
    )


def _audit_and_announce(
    uow: UnitOfWork, *, actor: Actor, view: SaleView, authorisations: list[Authorisation]
) -> None:
    details: dict[str, object] = {
        "receipt_number": view.receipt_number,
        "total": view.total,
        "currency": view.currency,
        "lines": len(view.lines),
    }
    if view.promotions:
        details["promotions"] = [
            {"promotion_id": p.promotion_id, "amount": p.amount, "coupon": p.coupon}
            for p in view.promotions
        ]
    manual = [
        {"line_no": line.line_no, "amount": a.amount, "reason": a.reason}
        for line in view.lines
        for a in line.adjustments
        if a.source == MANUAL
    ]
    if manual:
        details["manual_discounts"] = manual
    if any(a.permission == Permission.PRICE_OVERRIDE.value for a in authorisations):
        details["price_overrides"] = [
            {
                "sku": line.sku,
                "list_price": line.list_price,
                "unit_price": line.unit_price,
                "reason": line.price_override_reason,
            }
            for line in view.lines
            if line.unit_price != line.list_price
        ]
    # One sensitive permission: its authorisation inline (as stock adjustments record it);
    # both a price override and a manual discount: one entry each.
    if len(authorisations) == 1:
        details.update(authorisations[0].as_details())
    elif authorisations:
        details["authorisations"] = [a.as_details() for a in authorisations]
    if view.stock_exceptions:
        details["negative_stock"] = list(view.stock_exceptions)
    audit.record(
        uow,
        action="sale.completed",
        actor=actor,
        subject_type="sale",
        subject_id=str(view.id),
        details=details,
        chain=f"register:{view.register}",
    )
    events.emit(
        uow,
        topic="sale.completed",
        aggregate_type="sale",
        aggregate_id=str(view.id),
        payload=sale_payload(view),
        locations=[view.location],
        channel="in_store",
    )


__all__ = [
    "SaleLineRequest",
    "SaleLineView",
    "SalePaymentView",
    "SaleRequest",
    "SaleView",
    "complete_sale",
    "get_sale",
    "list_sales",
]
