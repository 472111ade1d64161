"""Finding the sale or order to return: by receipt, order number, scanned receipt code, the
card that paid (its fingerprint, brand and last four, or the card presented on the terminal),
or the customer's email or phone. Mounted before any `/api/v1/returns/{id}` route."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from omnitill.api.deps import CurrentActor, DbDep, GatewayDep
from omnitill.api.schemas.return_lookup import (
    CardLookupRequest,
    LookupCustomerRead,
    LookupItemRead,
    LookupLineRead,
    LookupPage,
    LookupPaymentRead,
)
from omnitill.services import return_lookup as service

router = APIRouter(prefix="/api/v1/returns", tags=["returns"])

LocationQuery = Annotated[
    str | None, Query(max_length=32, description="Code of the purchase location, e.g. S01.")
]
LimitQuery = Annotated[int | None, Query(description="1 to 100 (default 20).")]
FromQuery = Annotated[
    date | None,
    Query(alias="from", description="First purchase date (card, email, phone)."),
]
ToQuery = Annotated[date | None, Query(alias="to", description="Last purchase date, included.")]

_ERRORS = {
    403: {"description": "`auth.permission_denied`: neither `sales.read` nor `orders.read`."},
    422: {
        "description": "`returns.lookup_criteria`, `returns.card_number_refused`, "
        "`returns.scan_unreadable`, `returns.lookup_range_invalid`, "
        "`returns.lookup_range_too_long` and the other codes of docs/returns.md."
    },
}


async def no_card_numbers(request: Request) -> None:
    """Refuse, before anything reads or logs it, a query holding a card number."""
    service.refuse_card_numbers(request.query_params.multi_items())


@router.get(
    "/lookup",
    response_model=LookupPage,
    summary="Find the sale or order a customer returns",
    dependencies=[Depends(no_card_numbers)],
    responses=_ERRORS,
)
def lookup(
    actor: CurrentActor,
    db: DbDep,
    receipt: Annotated[str | None, Query(max_length=60, description="S01-R1-000123")] = None,
    order: Annotated[str | None, Query(max_length=24, description="#100123 or 100123")] = None,
    scan: Annotated[
        str | None, Query(max_length=200, description="What the scanner read off a receipt.")
    ] = None,
    card_fingerprint: Annotated[
        str | None, Query(max_length=64, description="The gateway's fingerprint of the card.")
    ] = None,
    card_brand: Annotated[str | None, Query(max_length=16, description="visa, amex...")] = None,
    card_last4: Annotated[str | None, Query(max_length=16, description="4 digits")] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    phone: Annotated[str | None, Query(max_length=32, description="Any format.")] = None,
    country: Annotated[
        str | None, Query(max_length=2, description="Region to read a national `phone` in.")
    ] = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    location: LocationQuery = None,
    limit: LimitQuery = None,
) -> LookupPage:
    """Exactly one criterion (`receipt`, `order`, `scan`, `card_fingerprint` and/or
    `card_brand` + `card_last4`, `email`, `phone`); newest first. Staff of any store find
    purchases of every store: returns are taken anywhere."""
    items = service.find(
        db=db,
        actor=actor,
        params=service.LookupParams(
            receipt=receipt,
            order=order,
            scan=scan,
            card_fingerprint=card_fingerprint,
            card_brand=card_brand,
            card_last4=card_last4,
            email=email,
            phone=phone,
            country=country,
            date_from=date_from,
            date_to=date_to,
        ),
        location=location,
        limit=limit,
    )
    return LookupPage(items=[_item_read(x) for x in items])


@router.post(
    "/lookup/card",
    response_model=LookupPage,
    summary="Find what the card presented on the terminal paid for",
    dependencies=[Depends(no_card_numbers)],
    responses=_ERRORS,
)
def lookup_by_card(
    body: CardLookupRequest,
    actor: CurrentActor,
    db: DbDep,
    gateway: GatewayDep,
    location: LocationQuery = None,
    limit: LimitQuery = None,
) -> LookupPage:
    """The gateway reads the card's fingerprint and charges nothing; purchases of the last
    90 days unless `from`/`to` say otherwise. 422 with the gateway's code when it cannot
    read the card (`gateway.invalid_payment_data`, `gateway.not_supported`)."""
    items = service.find_by_presented_card(
        db=db,
        actor=actor,
        gateway=gateway,
        payment_data=body.payment_data,
        date_from=body.date_from,
        date_to=body.date_to,
        location=location,
        limit=limit,
    )
    return LookupPage(items=[_item_read(x) for x in items])


def _item_read(x: service.LookupItem) -> LookupItemRead:
    return LookupItemRead(
        type="sale" if x.type == "sale" else "order",
        id=x.id,
        number=x.number,
        channel=x.channel,
        location=x.location,
        purchased_at=x.purchased_at,
        customer=None
        if x.customer is None
        else LookupCustomerRead(id=x.customer.id, name=x.customer.name),
        currency=x.currency,
        total=x.total,
        lines=[_line_read(line) for line in x.lines],
        payments=[_payment_read(p) for p in x.payments],
    )


def _line_read(x: service.LookupLine) -> LookupLineRead:
    return LookupLineRead(
        line_id=x.line_id,
        line_no=x.line_no,
        sku=x.sku,
        name=x.name,
        quantity=x.quantity,
        returnable=x.returnable,
        unit_price=x.unit_price,
        total=x.total,
        serials=list(x.serials),
    )


def _payment_read(x: service.LookupPayment) -> LookupPaymentRead:
    return LookupPaymentRead(
        payment_id=x.payment_id,
        method=x.method,
        amount=x.amount,
        refundable=x.refundable,
        card_brand=x.card_brand,
        card_last4=x.card_last4,
    )
