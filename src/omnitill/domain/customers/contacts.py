"""Customer contact details: who they are and how to reach them, checked without I/O.

Phone numbers need the ``phonenumbers`` metadata, so their E.164 normalisation lives in the
customers service; everything here is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnitill.domain.customers.countries import is_country
from omnitill.domain.errors import FieldError

EMAIL_MAX = 254  # RFC 5321 limit on a forward path
_LOCAL_FORBIDDEN = set(' ()<>[]\\,;:"')


@dataclass(frozen=True, slots=True)
class AddressInput:
    """A postal address of a customer; `country` is ISO 3166-1 alpha-2."""

    line1: str
    city: str
    country: str
    line2: str = ""
    region: str = ""
    postal_code: str = ""
    label: str = ""
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class CustomerInput:
    """A new customer. `country` is only the region a national phone number is dialled in."""

    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    addresses: tuple[AddressInput, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerChanges:
    """A partial update: None leaves a field alone; `clear` names fields to null.

    `addresses`, when given, replaces the whole list.
    """

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    addresses: tuple[AddressInput, ...] | None = None
    clear: frozenset[str] = frozenset()


def normalize_email(email: str) -> str:
    """Emails are compared and stored trimmed and lower-cased."""
    return email.strip().lower()


def is_plausible_email(email: str) -> bool:
    """A basic syntax check: ``local@domain.tld``, no spaces, within the RFC length limits.

    Deliverability is not checked; that takes a mail round trip, not a regex.
    """
    if len(email) > EMAIL_MAX or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    if not 1 <= len(local) <= 64 or any(
        c in _LOCAL_FORBIDDEN or not c.isprintable() for c in local
    ):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    for label in labels:
        if not 1 <= len(label) <= 63 or label.startswith("-") or label.endswith("-"):
            return False
        if not all(c.isalnum() or c == "-" for c in label):
            return False
    return not labels[-1].isdigit()


def check_email(email: str, *, field: str = "email") -> list[FieldError]:
    if not is_plausible_email(email):
        return [FieldError(field, "customer.invalid_email", "not a valid email address")]
    return []


def check_country(country: str, *, field: str) -> list[FieldError]:
    if not is_country(country):
        return [
            FieldError(field, "customer.invalid_country", f"{country!r} is not ISO 3166 alpha-2")
        ]
    return []


def check_addresses(
    addresses: Sequence[AddressInput], *, field: str = "addresses"
) -> list[FieldError]:
    """Each address needs a first line, a city and a real country; at most one is the default."""
    errors: list[FieldError] = []
    default_seen = False
    for i, address in enumerate(addresses):
        at = f"{field}.{i}"
        if not address.line1.strip():
            errors.append(FieldError(f"{at}.line1", "customer.address_incomplete", "required"))
        if not address.city.strip():
            errors.append(FieldError(f"{at}.city", "customer.address_incomplete", "required"))
        errors.extend(check_country(address.country, field=f"{at}.country"))
        if address.is_default:
            if default_seen:
                errors.append(
                    FieldError(
                        f"{at}.is_default",
                        "customer.multiple_default_addresses",
                        "only one address can be the default",
                    )
                )
            default_seen = True
    return errors
