"""Two stores returning units of one purchase at the same moment never give back more than
was sold, per line, nor more than a tender took."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import Payment, Return, ReturnRefund, SaleLine
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.domain.errors import DomainError
from omnitill.services import auth, returns, stock
from omnitill.services.return_requests import LineInput, ReturnInput
from tests.factories import (
    PASSWORD,
    make_location,
    make_register,
    make_user,
    make_variant,
    token_for,
)
from tests.integration.till_support import card_payment


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0")
    s02 = make_location(db, "S02", tax_rate="0")
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    make_variant(db, sku="MUG", price=1000, stock={s01: 50, s02: 10})
    make_variant(db, sku="CUP", price=700, stock={s01: 50, s02: 10})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    actors = {}
    for name, where in (("a1", "S01"), ("a2", "S02")):
        make_user(db, name, "cashier", [where])
        issued = auth.login(db=db, settings=settings, username=name, password=PASSWORD)
        actors[where] = auth.resolve_token(db=db, token=issued.access_token)
    return {
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "terminal": SandboxTerminal(gateway.public_key_pem()),
        "gateway": gateway,
        "actors": actors,
    }


def card_sale(client, shop, lines, amount):
    sale_id = uuid.uuid4()
    payment_id = card_payment(client, shop["cashier"], shop["terminal"], sale_id, amount)
    r = client.post(
        "/api/v1/sales",
        headers=shop["cashier"],
        json={
            "id": str(sale_id),
            "location": "S01",
            "register": "S01-R1",
            "lines": lines,
            "payments": [{"method": "card", "amount": amount, "payment_id": payment_id}],
        },
    )
    assert r.status_code == 201, r.text
    return sale_id, uuid.UUID(payment_id)


def lines_of(db, sale_id):
    with db.uow(write=False) as uow:
        return {
            x.sku: x.id
            for x in uow.session.scalars(select(SaleLine).where(SaleLine.sale_id == sale_id))
        }


def race(db, shop, requests):
    barrier = threading.Barrier(len(requests))
    outcomes: list[str] = []

    def run(where, request):
        barrier.wait()
        try:
            returns.create(
                db=db, actor=shop["actors"][where], gateway=shop["gateway"], request=request
            )
            outcomes.append("returned")
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=run, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return sorted(outcomes)


def request(sale_id, line_id, where, quantity):
    return ReturnInput(
        id=uuid.uuid4(),
        location=where,
        sale_id=sale_id,
        lines=(LineInput(quantity, "changed_mind", "unopened", "resalable", line_id=line_id),),
    )


def test_two_stores_returning_the_same_units_at_once_take_them_once(client, db, shop):
    sale_id, payment_id = card_sale(client, shop, [{"sku": "MUG", "quantity": 3}], 3000)
    mug = lines_of(db, sale_id)["MUG"]
    outcomes = race(
        db,
        shop,
        [("S01", request(sale_id, mug, "S01", 2)), ("S02", request(sale_id, mug, "S02", 2))],
    )
    assert outcomes.count("returned") == 1
    (lost,) = [o for o in outcomes if o != "returned"]
    assert lost in ("returns.more_than_sold", "returns.already_returned")
    with db.uow(write=False) as uow:
        assert uow.session.get_one(SaleLine, mug).quantity_returned == 2
        assert uow.session.get_one(Payment, payment_id).refunded_minor == 2000
        assert uow.session.scalar(select(func.count()).select_from(Return)) == 1
    assert stock.verify(db=db) == []


def test_two_stores_returning_different_lines_of_one_card_share_it_exactly(client, db, shop):
    sale_id, payment_id = card_sale(
        client, shop, [{"sku": "MUG", "quantity": 1}, {"sku": "CUP", "quantity": 1}], 1700
    )
    ids = lines_of(db, sale_id)
    outcomes = race(
        db,
        shop,
        [
            ("S01", request(sale_id, ids["MUG"], "S01", 1)),
            ("S02", request(sale_id, ids["CUP"], "S02", 1)),
        ],
    )
    assert outcomes == ["returned", "returned"]
    with db.uow(write=False) as uow:
        assert uow.session.get_one(Payment, payment_id).refunded_minor == 1700
        given = uow.session.scalars(select(ReturnRefund.amount_minor)).all()
    assert sorted(given) == [700, 1000]
