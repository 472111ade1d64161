"""Back-office people: customers (search, and one customer's sales, orders, returns and
store credit) and staff (list, add, change role, stores and status, set a register PIN).

Customers need `customers.read` as GET /api/v1/customers; staff pages `users.read` and
their forms `users.write`, through services/users.py as POST/PATCH /api/v1/users and
services/register_access.set_pin as PUT /api/v1/users/{username}/pin. Changing a role or
deactivating signs the member out everywhere (the service revokes their tokens).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep, SettingsDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import choice
from omnitill.api.routes.admin_stock import store_codes
from omnitill.domain.auth.permissions import Permission, Role
from omnitill.services import admin_people, register_access, store_credit
from omnitill.services import customers as customer_service
from omnitill.services import users as user_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

ROLES = tuple(r.value for r in Role)


@router.get("/customers", response_class=HTMLResponse)
def customers(
    request: Request, actor: AdminActor, db: DbDep, q: str = "", cursor: str | None = None
) -> Response:
    """Customers found by a prefix of their name or email."""
    actor.require(Permission.CUSTOMERS_READ)
    found = customer_service.list_customers(db=db, q=q or None, cursor=cursor, limit=50)
    return page(request, actor, "customers.html", title="Customers", found=found, q=q)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    request: Request, customer_id: uuid.UUID, actor: AdminActor, db: DbDep
) -> Response:
    """A customer with their addresses, sales, orders, returns and store credit."""
    actor.require(Permission.CUSTOMERS_READ)
    record = customer_service.get_customer(db=db, customer_id=customer_id)
    balances, entries = store_credit.account(db=db, actor=actor, customer_id=customer_id)
    activity = admin_people.customer_activity(db=db, actor=actor, customer_id=customer_id)
    customer = record.customer
    name = f"{customer.first_name} {customer.last_name}".strip() or (customer.email or "")
    return page(
        request,
        actor,
        "customer.html",
        title=name,
        customer=customer,
        addresses=record.addresses,
        balances=balances,
        entries=entries[:20],
        activity=activity,
    )


@router.get("/users", response_class=HTMLResponse)
def staff(request: Request, actor: AdminActor, db: DbDep) -> Response:
    """Staff with their role, stores and status; the add form (`users.write`)."""
    members = user_service.list_staff(db=db, actor=actor)
    return page(
        request,
        actor,
        "users.html",
        title="Staff and roles",
        members=members,
        roles=ROLES,
        stores=store_codes(db=db, actor=actor),
    )


@router.post("/users")
def add_staff(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """A new staff member with a role and stores, as POST /api/v1/users."""
    member = user_service.add_staff(
        db=db,
        actor=actor,
        username=form.get("username"),
        password=form.get("password"),
        role=choice(form.get("role"), ROLES, field="role"),
        locations=[code for code in form.getlist("locations") if code],
        display_name=form.get("display_name"),
    )
    return redirect("/admin/users", notice=f"{member.username} added as {member.role}.")


@router.post("/users/{username}")
def change_staff(username: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Role, stores and active flag of one member, as PATCH /api/v1/users/{username}."""
    member = user_service.change_staff(
        db=db,
        actor=actor,
        username=username,
        change=user_service.StaffChange(
            role=choice(form.get("role"), ROLES, field="role"),
            locations=[code for code in form.getlist("locations") if code],
            active=form.has("active"),
        ),
    )
    state = "active" if member.active else "deactivated"
    return redirect("/admin/users", notice=f"{member.username}: {member.role}, {state}.")


@router.post("/users/{username}/pin")
def set_pin(
    username: str, actor: AdminActor, form: PostedForm, db: DbDep, settings: SettingsDep
) -> Response:
    """A register PIN (4 to 8 digits), as PUT /api/v1/users/{username}/pin."""
    actor.require(Permission.USERS_WRITE)
    register_access.set_pin(
        db=db, settings=settings, actor=actor, username=username, pin=form.get("pin")
    )
    return redirect("/admin/users", notice=f"PIN of {username} set.")
