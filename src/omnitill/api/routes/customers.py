"""Customers endpoints: create, change, get and search."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnitill.api.deps import Cursor, DbDep, Limit, require
from omnitill.api.schemas.customers import (
    AddressCreate,
    AddressRead,
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.customers.contacts import AddressInput, CustomerChanges, CustomerInput
from omnitill.services import customers as customer_service

router = APIRouter(prefix="/api/v1", tags=["customers"])

Reader = Annotated[Actor, Depends(require(Permission.CUSTOMERS_READ))]
Writer = Annotated[Actor, Depends(require(Permission.CUSTOMERS_WRITE))]


@router.post(
    "/customers",
    response_model=CustomerRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer",
)
def create_customer(body: CustomerCreate, actor: Writer, db: DbDep) -> CustomerRead:
    """409 `customer.email_taken`; 422 `customer.invalid_phone`, `customer.invalid_email`."""
    record = customer_service.create_customer(
        db=db,
        actor=actor,
        data=CustomerInput(
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            phone=body.phone,
            country=body.country,
            addresses=tuple(_address_input(a) for a in body.addresses),
        ),
        groups=body.groups,
        tax_exempt_certificate=body.tax_exempt_certificate,
    )
    return _customer_read(record)


@router.get("/customers", response_model=CustomerPage, summary="Search customers")
def list_customers(
    _actor: Reader,
    db: DbDep,
    email: Annotated[str | None, Query(description="Exact email, any letter case.")] = None,
    phone: Annotated[str | None, Query(description="Any format; matched in E.164.")] = None,
    country: Annotated[
        str | None, Query(max_length=2, description="Region to read a national `phone` in.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Prefix of a name or of the email.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> CustomerPage:
    """Oldest first; 422 `customer.invalid_phone` when `phone` is not a number."""
    page = customer_service.list_customers(
        db=db, email=email, phone=phone, country=country, q=q, cursor=cursor, limit=limit
    )
    return CustomerPage(items=[_customer_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerRead, summary="Get a customer")
def get_customer(customer_id: uuid.UUID, _actor: Reader, db: DbDep) -> CustomerRead:
    """404 `customer.not_found`."""
    return _customer_read(customer_service.get_customer(db=db, customer_id=customer_id))


@router.patch("/customers/{customer_id}", response_model=CustomerRead, summary="Update a customer")
def update_customer(
    customer_id: uuid.UUID, body: CustomerUpdate, actor: Writer, db: DbDep
) -> CustomerRead:
    """Only the fields sent change; `addresses` or `groups`, when sent, replaces the list."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    pricing = {"groups", "tax_exempt_certificate"}
    values = {
        k: v for k, v in sent.items() if v is not None and k != "addresses" and k not in pricing
    }
    addresses = (
        tuple(_address_input(a) for a in body.addresses) if body.addresses is not None else None
    )
    changes = CustomerChanges(
        **values,
        addresses=addresses,
        clear=frozenset(k for k, v in sent.items() if v is None and k != "groups"),
    )
    record = customer_service.update_customer(
        db=db,
        actor=actor,
        customer_id=customer_id,
        changes=changes,
        groups=[] if "groups" in sent and body.groups is None else body.groups,
        tax_exempt_certificate=body.tax_exempt_certificate,
    )
    return _customer_read(record)


def _address_input(body: AddressCreate) -> AddressInput:
    return AddressInput(**body.model_dump())


def _customer_read(record: customer_service.CustomerRecord) -> CustomerRead:
    c = record.customer
    return CustomerRead(
        id=c.id,
        first_name=c.first_name,
        last_name=c.last_name,
        email=c.email,
        phone=c.phone,
        addresses=[AddressRead.model_validate(a, from_attributes=True) for a in record.addresses],
        groups=list(c.groups),
        tax_exempt_certificate=c.tax_exempt_certificate,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )
