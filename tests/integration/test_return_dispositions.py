"""Every disposition of a returned unit, as stock movements and serial status; serials that
must match the units sold; the fraud checks sending a return to a manager; refusals audited."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry, Customer, SaleLine, SerialUnit, StockLevel
from omnitill.domain.ids import uuid7
from omnitill.services import stock
from tests.factories import make_location, make_register, make_variant, token_for

DISPOSITIONS = {
    # disposition: (on_hand, quarantine, damaged, serial status)
    "resalable": (1, 0, 0, "in_stock"),
    "quarantine": (1, 1, 0, "quarantined"),
    "damaged": (1, 0, 1, "returned"),
    "defective": (1, 0, 1, "returned"),
    "write_off": (0, 0, 0, "written_off"),
}


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="PHONE", tracking="serial", price=50000)
    admin = token_for(db, settings, "admin1", "admin")
    r = client.post(
        "/api/v1/stock/receipts",
        headers=admin,
        json={
            "location": "S01",
            "lines": [{"sku": "PHONE", "quantity": 6, "serials": [f"SN{i}" for i in range(6)]}],
        },
    )
    assert r.status_code == 201, r.text
    return {"s01": s01, "cashier": token_for(db, settings, "c1", "cashier", ["S01"])}


def sell(client, headers, serials, customer=None):
    body = {
        "id": str(uuid7()),
        "location": "S01",
        "register": "S01-R1",
        "lines": [{"sku": "PHONE", "quantity": len(serials), "serials": list(serials)}],
        "payments": [{"method": "cash", "amount": 50000 * len(serials)}],
    }
    if customer is not None:
        body["customer"] = str(customer)
    r = client.post("/api/v1/sales", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def give_back(client, headers, sale, db, serials, disposition="resalable"):
    with db.uow(write=False) as uow:
        line = uow.session.scalars(
            select(SaleLine.id).where(SaleLine.sale_id == uuid.UUID(sale["id"]))
        ).one()
    return client.post(
        "/api/v1/returns",
        headers=headers,
        json={
            "id": str(uuid.uuid4()),
            "location": "S01",
            "register": "S01-R1",
            "sale_id": sale["id"],
            "lines": [
                {
                    "line_id": str(line),
                    "quantity": len(serials),
                    "serials": list(serials),
                    "reason": "defective",
                    "condition": "opened",
                    "disposition": disposition,
                }
            ],
        },
    )


def buckets(db, location):
    with db.uow(write=False) as uow:
        level = uow.session.scalars(
            select(StockLevel).where(StockLevel.location_id == location.id)
        ).one()
        return level.on_hand, level.quarantine, level.damaged


def serial_status(db, serial):
    with db.uow(write=False) as uow:
        return uow.session.scalars(
            select(SerialUnit.status).where(SerialUnit.serial == serial)
        ).one()


@pytest.mark.parametrize("disposition", sorted(DISPOSITIONS))
def test_each_disposition_books_the_stock_and_the_serial_status(client, db, shop, disposition):
    sale = sell(client, shop["cashier"], ["SN1"])
    before = buckets(db, shop["s01"])
    r = give_back(client, shop["cashier"], sale, db, ["SN1"], disposition)
    assert r.status_code == 201, r.text
    on_hand, quarantine, damaged, status = DISPOSITIONS[disposition]
    after = buckets(db, shop["s01"])
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (
        on_hand,
        quarantine,
        damaged,
    )
    assert serial_status(db, "SN1") == status
    assert r.json()["lines"][0]["disposition"] == disposition
    assert stock.verify(db=db) == []


def test_a_serial_not_sold_on_the_line_is_refused_and_the_refusal_is_audited(client, db, shop):
    sale = sell(client, shop["cashier"], ["SN1", "SN2"])
    r = give_back(client, shop["cashier"], sale, db, ["SN3"])
    assert r.status_code == 422
    assert r.json()["code"] == "returns.serial_mismatch"
    assert serial_status(db, "SN3") == "in_stock"
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "return.refused")
        ).one()
    assert entry.details["code"] == "returns.serial_mismatch"
    ok = give_back(client, shop["cashier"], sale, db, ["SN2"])
    assert ok.status_code == 201, ok.text
    assert serial_status(db, "SN2") == "in_stock"
    assert serial_status(db, "SN1") == "sold"


def test_an_employee_returning_their_own_purchase_needs_a_manager(client, db, shop, settings):
    staff = token_for(db, settings, "sam@example.com", "cashier", ["S01"])
    with db.uow() as uow:
        me = Customer(first_name="Sam", email="sam@example.com", groups=[])
        uow.session.add(me)
        uow.commit()
        customer_id = me.id
    sale = sell(client, shop["cashier"], ["SN4"], customer=customer_id)
    r = give_back(client, staff, sale, db, ["SN4"])
    assert r.status_code == 403, r.text
    problem = r.json()
    assert problem["code"] == "returns.manager_approval_required"
    assert "returns.risk.employee_own_purchase" in problem["details"]["reasons"]
    manager = token_for(db, settings, "m1", "manager", ["S01"])
    r = give_back(client, manager, sale, db, ["SN4"])
    assert r.status_code == 201, r.text
    assert r.json()["risk_score"] == 0  # the manager is not the buyer
