"""What a cart must satisfy before it can be priced; every problem is named, not just the first."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import check_currency
from omnitill.domain.pricing.cart import CartLine, PricingContext, PricingInput
from omnitill.domain.pricing.discounts import discount_errors
from omnitill.domain.pricing.model import raise_if_any


def validate_cart(data: PricingInput) -> None:
    """Raise one `ValidationFailed` listing every field of `data` that can never be priced."""
    errors = _context_errors(data.context)
    if not data.lines:
        errors.append(FieldError("lines", "pricing.no_lines", "a cart needs at least one line"))
    seen: set[str] = set()
    for i, line in enumerate(data.lines):
        if line.key in seen:
            errors.append(FieldError(f"lines.{i}.key", "pricing.duplicate_key", line.key))
        seen.add(line.key)
        errors.extend(_line_errors(line, f"lines.{i}"))
    if data.order_discount is not None:
        errors.extend(discount_errors(data.order_discount, "order_discount"))
    if data.shipping < 0:
        errors.append(FieldError("shipping", "pricing.price_negative", "must be >= 0"))
    raise_if_any(errors, "the cart cannot be priced")


def location_zone(context: PricingContext) -> ZoneInfo:
    """The selling location's timezone (validated by `validate_cart`)."""
    return ZoneInfo(context.timezone)


def _context_errors(context: PricingContext) -> list[FieldError]:
    errors: list[FieldError] = []
    try:
        check_currency(context.currency)
    except ValidationFailed as exc:
        errors.append(FieldError("context.currency", exc.code, exc.message))
    if context.at.tzinfo is None or context.at.utcoffset() is None:
        errors.append(FieldError("context.at", "pricing.naive_time", "a timezone-aware time (UTC)"))
    try:
        location_zone(context)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(
            FieldError(
                "context.timezone",
                "pricing.unknown_timezone",
                f"{context.timezone!r} is not an IANA timezone",
            )
        )
    return errors


def _line_errors(line: CartLine, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if line.quantity < 1:
        errors.append(
            FieldError(
                f"{field}.quantity",
                "pricing.quantity_not_positive",
                "at least 1 (each, or gram when sold by weight)",
            )
        )
    if line.base_price < 0:
        errors.append(FieldError(f"{field}.base_price", "pricing.price_negative", "must be >= 0"))
    if line.unit_price_override is not None and line.unit_price_override < 0:
        errors.append(
            FieldError(f"{field}.unit_price_override", "pricing.price_negative", "must be >= 0")
        )
    if line.manual_discount is not None:
        errors.extend(discount_errors(line.manual_discount, f"{field}.manual_discount"))
    if line.stored_value:
        errors.extend(_stored_value_errors(line, field))
    return errors


def _stored_value_errors(line: CartLine, field: str) -> list[FieldError]:
    """A gift card sold: one card per line, at the positive amount loaded, undiscounted."""
    errors: list[FieldError] = []
    if line.quantity != 1:
        errors.append(
            FieldError(f"{field}.quantity", "pricing.stored_value_quantity", "one card a line")
        )
    if line.unit_price_override is None or line.unit_price_override <= 0:
        errors.append(
            FieldError(
                f"{field}.unit_price_override",
                "pricing.stored_value_amount",
                "the amount loaded, above zero",
            )
        )
    if line.manual_discount is not None:
        errors.append(
            FieldError(
                f"{field}.manual_discount",
                "pricing.stored_value_discount",
                "a gift card is never discounted",
            )
        )
    return errors
