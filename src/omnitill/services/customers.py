"""Customers: create, change, find by email, phone or name.

Emails are stored lower-cased and are unique; phones are stored in E.164 (``+14155552671``) so
a number typed as ``(415) 555-2671`` at one till finds the customer entered as
``+1 415 555 2671`` at another. A national number is read in the region of the request's
`country`, else the US.

`groups` (``vip``, ``staff``, ``wholesale``) scope price lists and promotions to a customer;
`tax_exempt_certificate` makes their purchases tax exempt where a jurisdiction allows it. Both
are audited when they change, since they change what the customer pays.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

import phonenumbers
from sqlalchemy import delete, func, or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Customer, CustomerAddress
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.validation import raise_invalid
from omnitill.domain.customers.contacts import (
    AddressInput,
    CustomerChanges,
    CustomerInput,
    check_addresses,
    check_country,
    check_email,
    normalize_email,
)
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.services import audit
from omnitill.services.pagination import clamp_limit, cursor_id, encode_cursor
from omnitill.services.uniqueness import flush_unique, taken

DEFAULT_PHONE_REGION = "US"
_GROUP = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer and their addresses, the default first."""

    customer: Customer
    addresses: tuple[CustomerAddress, ...]


@dataclass(frozen=True, slots=True)
class CustomerPage:
    items: tuple[CustomerRecord, ...]
    next_cursor: str | None


def normalize_phone(phone: str, *, country: str | None = None, field: str = "phone") -> str:
    """The E.164 form of `phone`, read in `country`'s numbering plan unless it starts with +.

    422 `customer.invalid_phone` when it is not a valid number there (wrong length, unknown
    area code, letters).
    """
    region = (country or DEFAULT_PHONE_REGION).strip().upper()
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            "customer.invalid_phone",
            f"{phone!r} is not a valid phone number (read in region {region})",
            {"phone": phone, "region": region},
            errors=[FieldError(field, "customer.invalid_phone", f"not a valid number ({region})")],
        )
    formatted: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def create_customer(
    *,
    db: Database,
    actor: Actor,
    data: CustomerInput,
    groups: Sequence[str] = (),
    tax_exempt_certificate: str | None = None,
) -> CustomerRecord:
    """Create a customer with their addresses; 409 `customer.email_taken`."""
    addresses = tuple(_clean_address(a) for a in data.addresses)
    group_codes, group_errors = clean_groups(groups)
    certificate = _certificate(tax_exempt_certificate)
    email = normalize_email(data.email) if data.email else None
    errors = _check_contact(
        first_name=data.first_name,
        last_name=data.last_name,
        email=email,
        phone=data.phone,
        country=data.country,
    )
    phone = _phone_or_errors(data.phone, data.country, errors)
    errors += check_addresses(addresses) + group_errors
    raise_invalid(errors)
    with db.uow() as uow:
        _refuse_taken_email(uow, email, exclude=None)
        customer = Customer(
            first_name=data.first_name.strip(),
            last_name=data.last_name.strip(),
            email=email,
            phone=phone,
            groups=list(group_codes),
            tax_exempt_certificate=certificate,
        )
        uow.session.add(customer)
        flush_unique(uow, {"customers.email": _email_taken(email)} if email else {})
        stored = _replace_addresses(uow, customer, addresses)
        if group_codes or certificate:
            _audit_pricing(uow, actor, customer, groups=None, certificate=None)
        uow.commit()
        return CustomerRecord(customer, stored)


def get_customer(*, db: Database, customer_id: uuid.UUID) -> CustomerRecord:
    """A customer and their addresses, or 404 `customer.not_found`."""
    with db.uow(write=False) as uow:
        customer = _customer(uow, customer_id)
        return CustomerRecord(customer, _addresses_of(uow, [customer.id]).get(customer.id, ()))


def update_customer(
    *,
    db: Database,
    actor: Actor,
    customer_id: uuid.UUID,
    changes: CustomerChanges,
    groups: Sequence[str] | None = None,
    tax_exempt_certificate: str | None = None,
) -> CustomerRecord:
    """Change a customer; `addresses`, when sent, replaces the whole list. `groups`, when
    sent, replaces the groups; `clear` may name `tax_exempt_certificate`."""
    given = {
        f.name
        for f in fields(changes)
        if f.name != "clear" and getattr(changes, f.name) is not None
    }
    raise_invalid(
        [
            FieldError(name, "customer.not_nullable", "cannot be null")
            for name in sorted(changes.clear - {"email", "phone", "country", _CERTIFICATE})
        ]
    )
    group_codes, group_errors = clean_groups(groups or ())
    addresses = (
        tuple(_clean_address(a) for a in changes.addresses)
        if changes.addresses is not None
        else None
    )
    with db.uow() as uow:
        customer = _customer(uow, customer_id)
        first = changes.first_name if changes.first_name is not None else customer.first_name
        last = changes.last_name if changes.last_name is not None else customer.last_name
        email = customer.email
        if "email" in changes.clear:
            email = None
        elif changes.email is not None:
            email = normalize_email(changes.email)
        phone = None if "phone" in changes.clear else customer.phone
        errors = _check_contact(
            first_name=first,
            last_name=last,
            email=email,
            phone=changes.phone if "phone" in given else phone,
            country=changes.country,
            check_email_syntax="email" in given,
        )
        if changes.phone is not None:
            phone = _phone_or_errors(changes.phone, changes.country, errors)
        if addresses is not None:
            errors += check_addresses(addresses)
        raise_invalid(errors + group_errors)
        if email != customer.email:
            _refuse_taken_email(uow, email, exclude=customer.id)
        customer.first_name = first.strip()
        customer.last_name = last.strip()
        customer.email = email
        customer.phone = phone
        _change_pricing(
            uow,
            actor,
            customer,
            groups=group_codes if groups is not None else None,
            certificate=_certificate(tax_exempt_certificate),
            clear_certificate=_CERTIFICATE in changes.clear,
        )
        flush_unique(uow, {"customers.email": _email_taken(email)} if email else {})
        if addresses is not None:
            stored = _replace_addresses(uow, customer, addresses)
        else:
            stored = _addresses_of(uow, [customer.id]).get(customer.id, ())
        uow.commit()
        return CustomerRecord(customer, stored)


def list_customers(
    *,
    db: Database,
    email: str | None = None,
    phone: str | None = None,
    country: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CustomerPage:
    """Customers oldest first, filtered by exact email, phone (normalised the same way as on
    entry) and `q`, a prefix of the first name, last name, full name or email."""
    size = clamp_limit(limit)
    after = cursor_id(cursor)
    stmt = select(Customer).order_by(Customer.id).limit(size + 1)
    if email is not None:
        stmt = stmt.where(Customer.email == normalize_email(email))
    if phone is not None:
        stmt = stmt.where(Customer.phone == normalize_phone(phone, country=country))
    prefix = (q or "").strip().lower()
    if prefix:
        full_name = func.lower(Customer.first_name + " " + Customer.last_name)
        stmt = stmt.where(
            or_(
                func.lower(Customer.first_name).startswith(prefix, autoescape=True),
                func.lower(Customer.last_name).startswith(prefix, autoescape=True),
                full_name.startswith(prefix, autoescape=True),
                Customer.email.startswith(prefix, autoescape=True),
            )
        )
    if after is not None:
        stmt = stmt.where(Customer.id > after)
    with db.uow(write=False) as uow:
        rows = list(uow.session.scalars(stmt))
        more = len(rows) > size
        rows = rows[:size]
        addresses = _addresses_of(uow, [c.id for c in rows])
    items = tuple(CustomerRecord(c, addresses.get(c.id, ())) for c in rows)
    return CustomerPage(items, encode_cursor({"id": str(rows[-1].id)}) if more else None)


def clean_groups(
    groups: Iterable[str], *, field: str = "groups"
) -> tuple[tuple[str, ...], list[FieldError]]:
    """Customer group codes lower-cased, de-duplicated and sorted, and an error for each that
    is not 1 to 40 letters, digits, '-' or '_'."""
    cleaned = [g.strip().lower() for g in groups]
    errors = [
        FieldError(f"{field}.{i}", "customer.invalid_group", "1-40 letters, digits, '-' or '_'")
        for i, g in enumerate(cleaned)
        if not _GROUP.match(g)
    ]
    return tuple(sorted(set(cleaned))), errors


# --- helpers -------------------------------------------------------------------------------

_CERTIFICATE = "tax_exempt_certificate"


def _certificate(value: str | None) -> str | None:
    return (value or "").strip() or None


def _change_pricing(
    uow: UnitOfWork,
    actor: Actor,
    customer: Customer,
    *,
    groups: tuple[str, ...] | None,
    certificate: str | None,
    clear_certificate: bool,
) -> None:
    """Apply new groups or certificate and audit the change (they change what is charged)."""
    before_groups, before_cert = list(customer.groups), customer.tax_exempt_certificate
    if groups is not None:
        customer.groups = list(groups)
    if clear_certificate:
        customer.tax_exempt_certificate = None
    elif certificate is not None:
        customer.tax_exempt_certificate = certificate
    if (before_groups, before_cert) != (customer.groups, customer.tax_exempt_certificate):
        _audit_pricing(uow, actor, customer, groups=before_groups, certificate=before_cert)


def _audit_pricing(
    uow: UnitOfWork,
    actor: Actor,
    customer: Customer,
    *,
    groups: list[str] | None,
    certificate: str | None,
) -> None:
    audit.record(
        uow,
        action="customer.pricing_changed",
        actor=actor,
        subject_type="customer",
        subject_id=str(customer.id),
        details={
            "groups_before": groups,
            "groups": list(customer.groups),
            "tax_exempt_before": certificate is not None,
            "tax_exempt": customer.tax_exempt_certificate is not None,
        },
    )


def _check_contact(
    *,
    first_name: str,
    last_name: str,
    email: str | None,
    phone: str | None,
    country: str | None,
    check_email_syntax: bool = True,
) -> list[FieldError]:
    """Someone to greet or reach: a name, an email or a phone; and well-formed ones."""
    errors: list[FieldError] = []
    if not (first_name.strip() or last_name.strip() or email or phone):
        errors.append(
            FieldError("first_name", "customer.identity_required", "give a name, email or phone")
        )
    if email is not None and check_email_syntax:
        errors += check_email(email)
    if country is not None:
        errors += check_country(country.strip().upper(), field="country")
    return errors


def _phone_or_errors(
    phone: str | None, country: str | None, errors: list[FieldError]
) -> str | None:
    """The E.164 phone, or None after adding why it is invalid to `errors`."""
    if not phone or not phone.strip():
        return None
    if any(e.field == "country" for e in errors):
        return None
    try:
        return normalize_phone(phone, country=country)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        return None


def _clean_address(address: AddressInput) -> AddressInput:
    return replace(
        address,
        line1=address.line1.strip(),
        line2=address.line2.strip(),
        city=address.city.strip(),
        region=address.region.strip(),
        postal_code=address.postal_code.strip(),
        country=address.country.strip().upper(),
        label=address.label.strip(),
    )


def _replace_addresses(
    uow: UnitOfWork, customer: Customer, addresses: Sequence[AddressInput]
) -> tuple[CustomerAddress, ...]:
    uow.session.execute(delete(CustomerAddress).where(CustomerAddress.customer_id == customer.id))
    rows = tuple(
        CustomerAddress(
            customer_id=customer.id,
            label=a.label,
            line1=a.line1,
            line2=a.line2,
            city=a.city,
            region=a.region,
            postal_code=a.postal_code,
            country=a.country,
            is_default=a.is_default,
        )
        for a in addresses
    )
    uow.session.add_all(rows)
    uow.session.flush()
    return tuple(sorted(rows, key=lambda a: not a.is_default))


def _addresses_of(
    uow: UnitOfWork, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[CustomerAddress, ...]]:
    if not customer_ids:
        return {}
    stmt = (
        select(CustomerAddress)
        .where(CustomerAddress.customer_id.in_(customer_ids))
        .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id)
    )
    found: dict[uuid.UUID, list[CustomerAddress]] = {}
    for address in uow.session.scalars(stmt):
        found.setdefault(address.customer_id, []).append(address)
    return {k: tuple(v) for k, v in found.items()}


def _customer(uow: UnitOfWork, customer_id: uuid.UUID) -> Customer:
    customer = uow.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer.not_found", f"no customer {customer_id}", {"id": str(customer_id)})
    return customer


def _email_taken(email: str) -> Conflict:
    return taken("customer.email_taken", "email", f"{email} belongs to another customer")


def _refuse_taken_email(uow: UnitOfWork, email: str | None, *, exclude: uuid.UUID | None) -> None:
    if email is None:
        return
    stmt = select(Customer.id).where(Customer.email == email)
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    if uow.session.scalar(stmt) is not None:
        raise _email_taken(email)
