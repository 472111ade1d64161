"""The return policy document: defaults, replacing it, refusing bad fields, who may."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from omnitill.domain.returns.model import HolidayWindow, WindowRule
from omnitill.services import return_settings
from tests.factories import make_location, token_for
from tests.integration import return_rows as rows

URL = "/api/v1/returns/policy"


@pytest.fixture
def manager(client, db, settings):
    make_location(db, "S01")
    return token_for(db, settings, "m1", "manager", ["S01"])


@pytest.fixture
def staff(manager, db, settings):
    return {
        "manager": manager,
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "inventory": token_for(db, settings, "i1", "inventory"),
    }


def test_every_staff_member_reads_the_defaults_before_anything_is_saved(client, staff):
    for who in ("cashier", "inventory", "manager"):
        r = client.get(URL, headers=staff[who])
        assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy"]["default_window_days"] == 30
    assert body["policy"]["no_receipt_max_value"] == 10000
    assert body["policy"]["overridable"] == [
        "returns.damaged",
        "returns.no_receipt_count_cap",
        "returns.window_expired",
    ]
    assert body["risk"]["manager_threshold"] == 50
    assert body["risk"]["far_km"] == 150.0
    assert body["refunds"] == {
        "card_refund_max_days": 540,
        "card_present_required": False,
        "fallback": "store_credit",
        "shipping_refund": "full_return",
    }
    assert (body["updated_at"], body["updated_by"]) == (None, None)
    assert client.get(URL).status_code == 401


def test_a_manager_replaces_the_policy_and_the_return_flow_loads_it(client, db, staff):
    shoes = str(rows.category(db, "Shoes"))
    body = {
        "policy": {
            "default_window_days": 45,
            "window_rules": [
                {"days": 14, "category_id": shoes.upper(), "channel": None},
                {"days": 60, "channel": "web"},
            ],
            "holiday_windows": [
                {
                    "purchased_from": "2026-11-20",
                    "purchased_until": "2026-12-24",
                    "return_until": "2027-01-31",
                }
            ],
            "final_sale_category_ids": [shoes],
            "restocking_fee_percent": {shoes: "15"},
            "accept_damaged": True,
            "no_receipt_max_count": 2,
            "overridable": ["returns.final_sale"],
        },
        "risk": {"card_limit": 5, "far_km": 80.5, "manager_threshold": 60},
        "refunds": {"fallback": "cash", "shipping_refund": "never", "card_present_required": True},
    }
    r = client.put(URL, headers=staff["manager"], json=body)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["policy"]["window_rules"][0] == {"days": 14, "category_id": shoes, "channel": None}
    assert saved["policy"]["restocking_fee_percent"] == {shoes: "15"}
    assert saved["policy"]["no_receipt_price_days"] == 90  # left out: the default
    assert saved["risk"]["card_limit"] == 5
    assert saved["risk"]["customer_limit"] == 3
    assert saved["updated_by"] == "m1"
    assert saved["updated_at"] is not None
    assert client.get(URL, headers=staff["cashier"]).json() == saved

    with db.uow(write=False) as uow:
        loaded = return_settings.load(uow, "EUR")
    assert loaded.policy.currency == "EUR"
    assert loaded.policy.default_window_days == 45
    assert loaded.policy.window_rules == (
        WindowRule(days=14, category_id=shoes),
        WindowRule(days=60, channel="web"),
    )
    assert loaded.policy.holiday_windows == (
        HolidayWindow(date(2026, 11, 20), date(2026, 12, 24), date(2027, 1, 31)),
    )
    assert loaded.policy.final_sale_category_ids == frozenset({shoes})
    assert loaded.policy.restocking_fee_percent == {shoes: Decimal(15)}
    assert loaded.policy.accept_damaged is True
    assert loaded.policy.overridable == frozenset({"returns.final_sale"})
    assert (loaded.risk.card_limit, loaded.risk.far_km, loaded.risk.manager_threshold) == (
        5,
        80.5,
        60,
    )
    assert loaded.refunds == return_settings.RefundRules(
        card_refund_max_days=540,
        card_present_required=True,
        fallback="cash",
        shipping_refund="never",
    )
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "returns.policy")
        ).one()
    assert entry.actor == "m1"
    assert entry.subject_id == "default"
    changes = entry.details["changes"]
    assert changes["policy.default_window_days"] == {"from": 30, "to": 45}
    assert changes["refunds.fallback"] == {"from": "store_credit", "to": "cash"}
    assert "policy.no_receipt_price_days" not in changes


def test_a_part_left_out_goes_back_to_its_defaults(client, db, manager):
    first = {"policy": {"default_window_days": 10}, "refunds": {"fallback": "cash"}}
    assert client.put(URL, headers=manager, json=first).status_code == 200
    r = client.put(URL, headers=manager, json={"risk": {"card_limit": 7}})
    assert r.status_code == 200, r.text
    assert r.json()["policy"]["default_window_days"] == 30
    assert r.json()["refunds"]["fallback"] == "store_credit"
    with db.uow(write=False) as uow:
        loaded = return_settings.load(uow, "USD")
    assert (loaded.policy.default_window_days, loaded.risk.card_limit) == (30, 7)


BAD_FIELDS = [
    ({"policy": {"default_window_days": -1}}, "policy.default_window_days"),
    ({"policy": {"default_window_days": 4000}}, "policy.default_window_days"),
    ({"policy": {"no_receipt_max_value": -5}}, "policy.no_receipt_max_value"),
    ({"policy": {"window_rules": [{"days": 10}]}}, "policy.window_rules.0"),
    (
        {"policy": {"window_rules": [{"days": 10, "channel": "fax"}]}},
        "policy.window_rules.0.channel",
    ),
    (
        {"policy": {"window_rules": [{"days": 10, "category_id": "not-a-category"}]}},
        "policy.window_rules.0.category_id",
    ),
    (
        {
            "policy": {
                "holiday_windows": [
                    {
                        "purchased_from": "2026-12-24",
                        "purchased_until": "2026-11-20",
                        "return_until": "2027-01-31",
                    }
                ]
            }
        },
        "policy.holiday_windows.0",
    ),
    (
        {"policy": {"final_sale_category_ids": ["0190aaaa-0000-7000-8000-000000000000"]}},
        "policy.final_sale_category_ids",
    ),
    ({"policy": {"overridable": ["returns.serial_mismatch"]}}, "policy.overridable"),
    ({"policy": {"accept_damaged": "perhaps"}}, "policy.accept_damaged"),
    ({"policy": {"default_window_dayz": 10}}, "policy.default_window_dayz"),
    ({"risk": {"card_limit": -1}}, "risk.card_limit"),
    ({"risk": {"far_km": -0.5}}, "risk.far_km"),
    ({"risk": {"velocity_window_days": 99999}}, "risk.velocity_window_days"),
    ({"refunds": {"fallback": "cheque"}}, "refunds.fallback"),
    ({"refunds": {"shipping_refund": "sometimes"}}, "refunds.shipping_refund"),
    ({"refunds": {"card_refund_max_days": -1}}, "refunds.card_refund_max_days"),
]


@pytest.mark.parametrize(("body", "field"), BAD_FIELDS, ids=[f for _, f in BAD_FIELDS])
def test_each_bad_field_is_refused_by_name_and_nothing_is_saved(client, manager, body, field):
    r = client.put(URL, headers=manager, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert client.get(URL, headers=manager).json()["updated_at"] is None


def test_restocking_fees_must_be_percents_of_known_categories(client, db, manager):
    shoes = str(rows.category(db, "Shoes"))
    body = {"policy": {"restocking_fee_percent": {shoes: "150", "nowhere": "10"}}}
    r = client.put(URL, headers=manager, json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "returns.invalid_policy"
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        (f"policy.restocking_fee_percent.{shoes}", "returns.invalid_request"),
        ("policy.restocking_fee_percent.nowhere", "returns.unknown_category"),
    }


def test_only_admins_and_managers_may_change_the_policy(client, staff):
    for who in ("cashier", "inventory"):
        r = client.put(URL, headers=staff[who], json={"policy": {"default_window_days": 60}})
        assert r.status_code == 403
        assert r.json()["details"]["permission"] == "returns.policy"
    assert client.get(URL, headers=staff["manager"]).json()["policy"]["default_window_days"] == 30
