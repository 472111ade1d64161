"""Finding the sale or order a customer brings back: what a clerk may search by, what the
receipt's barcode and QR code hold, and the refusal of anything shaped like a card number.

The receipt carries its number twice (issue 8 prints them):

- a **Code 128** barcode holding the receipt number itself, ``S01-R1-000123``;
- a **QR code** holding ``OT1:R:S01-R1-000123`` for a sale, ``OT1:O:100123`` for an order
  (``OT1``: omnitill, version 1 of the content; ``R`` receipt, ``O`` order).

A scanner types that text as keystrokes; `read_scan` also accepts a bare receipt or order
number (``#100123`` or ``100123``), in any letter case, with surrounding blanks, control
characters (the Enter a scanner sends) and an AIM symbology identifier (``]C0``, ``]Q1``)
removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.orders.lifecycle import parse_number
from omnitill.domain.sales.receipts import parse_receipt_number

SCAN_PREFIX = "OT1"
SALE = "sale"
ORDER = "order"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CARD_DEFAULT_DAYS = 90
MAX_RANGE_DAYS = 366

CRITERIA_CODE = "returns.lookup_criteria"
CARD_NUMBER_CODE = "returns.card_number_refused"
SCAN_CODE = "returns.scan_unreadable"

# 13 to 19 digits, optionally grouped by single spaces or dashes, standing alone (not inside
# a longer run of letters and digits, such as a fingerprint in hex).
_CARD_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])")
_CARD_NAME = re.compile(r"card_?num|card_?no|cc_?num|^pan$|^cc$|account_?num", re.IGNORECASE)
_AIM_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LAST4 = re.compile(r"^\d{4}$")


class LookupKind(StrEnum):
    RECEIPT = "receipt"
    ORDER = "order"
    SCAN = "scan"
    CARD = "card"
    EMAIL = "email"
    PHONE = "phone"


# The query fields of each criterion; `card` is one criterion of up to three fields.
CRITERION_FIELDS: dict[LookupKind, tuple[str, ...]] = {
    LookupKind.RECEIPT: ("receipt",),
    LookupKind.ORDER: ("order",),
    LookupKind.SCAN: ("scan",),
    LookupKind.CARD: ("card_fingerprint", "card_brand", "card_last4"),
    LookupKind.EMAIL: ("email",),
    LookupKind.PHONE: ("phone",),
}
# Purchases are bounded by dates only when they are searched by who bought them.
DATED = frozenset({LookupKind.CARD, LookupKind.EMAIL, LookupKind.PHONE})
# Lookups by card and by contact are audited: they search a person's purchases.
AUDITED = DATED


@dataclass(frozen=True, slots=True)
class LookupParams:
    """The query as the clerk's screen sent it, blanks meaning "not given"."""

    receipt: str | None = None
    order: str | None = None
    scan: str | None = None
    card_fingerprint: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None  # the region a national `phone` is read in
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class DateRange:
    """Purchase dates, both ends included."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Criterion:
    """One search, checked: what it matches on and which purchases it can find."""

    kind: LookupKind
    receipt_number: str | None = None
    order_number: int | None = None
    fingerprint: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    email: str | None = None
    phone: str | None = None  # as typed: put in E.164 by the service (phonenumbers)
    country: str | None = None
    dates: DateRange | None = None

    @property
    def targets(self) -> frozenset[str]:
        """Sales, orders or both."""
        if self.receipt_number is not None:
            return frozenset({SALE})
        if self.order_number is not None:
            return frozenset({ORDER})
        return frozenset({SALE, ORDER})

    @property
    def audited(self) -> bool:
        return self.kind in AUDITED


def receipt_barcode(receipt_number: str) -> str:
    """What the receipt's Code 128 barcode holds: the receipt number."""
    return receipt_number


def receipt_qr(receipt_number: str) -> str:
    """What a sale receipt's QR code holds: ``OT1:R:S01-R1-000123``."""
    return f"{SCAN_PREFIX}:R:{receipt_number}"


def order_qr(order_number: int) -> str:
    """What an order's QR code holds: ``OT1:O:100123``."""
    return f"{SCAN_PREFIX}:O:{order_number}"


def read_scan(raw: str) -> Criterion:
    """The receipt or order a scanned code names; 422 `returns.scan_unreadable` otherwise."""
    text = _CONTROL.sub("", raw).strip()
    text = _AIM_ID.sub("", text).strip().upper()
    if text.startswith(SCAN_PREFIX + ":"):
        kind, _, value = text[len(SCAN_PREFIX) + 1 :].partition(":")
        if kind == "R" and parse_receipt_number(value) is not None:
            return Criterion(LookupKind.SCAN, receipt_number=value)
        number = parse_number(value) if kind == "O" else None
        if number is not None:
            return Criterion(LookupKind.SCAN, order_number=number)
    elif parse_receipt_number(text) is not None:
        return Criterion(LookupKind.SCAN, receipt_number=text)
    elif (number := parse_number(text)) is not None:
        return Criterion(LookupKind.SCAN, order_number=number)
    raise ValidationFailed(
        SCAN_CODE,
        "the scanned code is neither an omnitill receipt nor an order number",
        errors=[
            FieldError(
                "scan",
                SCAN_CODE,
                "expected OT1:R:<receipt>, OT1:O:<order>, a receipt number or an order number",
            )
        ],
    )


def card_number_fields(items: Iterable[tuple[str, str]]) -> list[str]:
    """The names of the fields that look like a card number: named like one, or holding
    13 to 19 digits (grouped or not). An international phone number (``+`` and at most 15
    digits) in `phone` is not one."""
    found: list[str] = []
    for name, value in items:
        if name not in found and (_CARD_NAME.search(name) or _holds_card_number(name, value)):
            found.append(name)
    return found


def _holds_card_number(name: str, value: str) -> bool:
    if not _CARD_LIKE.search(value):
        return False
    international_phone = name == "phone" and value.strip().startswith("+")
    return not (international_phone and sum(c.isdigit() for c in value) <= 15)


def refuse_card_numbers(items: Iterable[tuple[str, str]]) -> None:
    """422 `returns.card_number_refused` naming each field shaped like a card number; the
    value is never repeated, stored or logged."""
    fields = card_number_fields(items)
    if fields:
        raise ValidationFailed(
            CARD_NUMBER_CODE,
            "card numbers are never searched: present the card on the terminal, or give "
            "the card's brand and last four digits",
            {"fields": fields},
            errors=[FieldError(f, CARD_NUMBER_CODE, "looks like a card number") for f in fields],
        )


def plan_lookup(params: LookupParams, *, today: date) -> Criterion:
    """The one criterion `params` give, checked; 422 naming every field otherwise."""
    given = {k: [f for f in fs if _value(params, f)] for k, fs in CRITERION_FIELDS.items()}
    kinds = [k for k, fs in given.items() if fs]
    if len(kinds) != 1:
        fields = [f for k in kinds for f in given[k]] or [fs[0] for fs in CRITERION_FIELDS.values()]
        raise _criteria(
            "give exactly one of receipt, order, scan, card, email or phone",
            fields,
            "one criterion, alone" if kinds else "one of these is required",
        )
    kind = kinds[0]
    _check_modifiers(params, kind)
    if kind is LookupKind.RECEIPT:
        return Criterion(kind, receipt_number=_receipt(params.receipt or ""))
    if kind is LookupKind.ORDER:
        return Criterion(kind, order_number=_order(params.order or ""))
    if kind is LookupKind.SCAN:
        return read_scan(params.scan or "")
    if kind is LookupKind.CARD:
        return _card(params, today=today)
    dates = date_range(params.date_from, params.date_to, today=today, default_days=None)
    if kind is LookupKind.EMAIL:
        return Criterion(kind, email=(params.email or "").strip().lower(), dates=dates)
    country = (params.country or "").strip().upper() or None
    return Criterion(kind, phone=(params.phone or "").strip(), country=country, dates=dates)


def date_range(
    start: date | None, end: date | None, *, today: date, default_days: int | None
) -> DateRange | None:
    """Both ends given, or the missing end today (`to`) or `default_days` before `to`
    (`from`); None when neither is given and there is no default. At most 366 days."""
    if start is None and end is None:
        if default_days is None:
            return None
        return DateRange(today - timedelta(days=default_days), today)
    end = end or today
    start = start or end - timedelta(days=default_days or CARD_DEFAULT_DAYS)
    if start > end:
        raise ValidationFailed(
            "returns.lookup_range_invalid",
            "`from` is after `to`",
            errors=[FieldError("from", "returns.lookup_range_invalid", "on or before `to`")],
        )
    if (end - start).days > MAX_RANGE_DAYS:
        code = "returns.lookup_range_too_long"
        raise ValidationFailed(
            code,
            f"search at most {MAX_RANGE_DAYS} days at once",
            {"max_days": MAX_RANGE_DAYS},
            errors=[FieldError(f, code, f"at most {MAX_RANGE_DAYS} days") for f in ("from", "to")],
        )
    return DateRange(start, end)


def check_limit(limit: int | None) -> int:
    """The page size: 20 by default, 1 to 100 (422 `pagination.invalid_limit`)."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            "pagination.invalid_limit",
            f"limit must be 1 to {MAX_LIMIT}",
            errors=[FieldError("limit", "pagination.invalid_limit", f"1 to {MAX_LIMIT}")],
        )
    return limit


def _value(params: LookupParams, name: str) -> bool:
    value = getattr(params, name)
    return value is not None and bool(value.strip())


def _criteria(message: str, fields: list[str], why: str) -> ValidationFailed:
    return ValidationFailed(
        CRITERIA_CODE,
        message,
        {"fields": fields},
        errors=[FieldError(f, CRITERIA_CODE, why) for f in fields],
    )


def _check_modifiers(params: LookupParams, kind: LookupKind) -> None:
    """`from`/`to` go with card, email and phone; `country` with phone."""
    stray = []
    if kind not in DATED:
        stray += [f for f, v in (("from", params.date_from), ("to", params.date_to)) if v]
    if kind is not LookupKind.PHONE and _value(params, "country"):
        stray.append("country")
    if stray:
        raise _criteria(
            f"{', '.join(stray)} cannot be used with {kind.value}", stray, f"not with {kind}"
        )


def _receipt(text: str) -> str:
    number = text.strip()
    if parse_receipt_number(number) is None:
        code = "returns.invalid_receipt_number"
        raise ValidationFailed(
            code,
            f"{number!r} is not a receipt number",
            errors=[FieldError("receipt", code, "like S01-R1-000123")],
        )
    return number


def _order(text: str) -> int:
    number = parse_number(text)
    if number is None:
        code = "returns.invalid_order_number"
        raise ValidationFailed(
            code,
            f"{text.strip()!r} is not an order number",
            errors=[FieldError("order", code, "like #100123 or 100123")],
        )
    return number


def _card(params: LookupParams, *, today: date) -> Criterion:
    fingerprint = (params.card_fingerprint or "").strip() or None
    brand = (params.card_brand or "").strip().lower() or None
    last4 = (params.card_last4 or "").strip() or None
    errors: list[FieldError] = []
    if (brand is None) != (last4 is None):
        missing = "card_brand" if brand is None else "card_last4"
        errors.append(FieldError(missing, CRITERIA_CODE, "card_brand and card_last4 go together"))
    if brand is not None and last4 is not None and fingerprint is None:
        errors += [
            FieldError(f, CRITERIA_CODE, "required with card_brand and card_last4")
            for f, v in (("from", params.date_from), ("to", params.date_to))
            if v is None
        ]
    if errors:
        raise ValidationFailed(
            CRITERIA_CODE,
            "a card is searched by its fingerprint, or by brand and last four digits "
            "between two dates",
            {"fields": [e.field for e in errors]},
            errors=errors,
        )
    if last4 is not None and not _LAST4.match(last4):
        code = "returns.invalid_card_last4"
        raise ValidationFailed(
            code, "card_last4 is four digits", errors=[FieldError("card_last4", code, "4 digits")]
        )
    if fingerprint is not None and len(fingerprint) > 64:
        code = "returns.invalid_card_fingerprint"
        raise ValidationFailed(
            code,
            "not a card fingerprint",
            errors=[FieldError("card_fingerprint", code, "at most 64 characters")],
        )
    dates = date_range(
        params.date_from, params.date_to, today=today, default_days=CARD_DEFAULT_DAYS
    )
    return Criterion(
        LookupKind.CARD, fingerprint=fingerprint, card_brand=brand, card_last4=last4, dates=dates
    )
