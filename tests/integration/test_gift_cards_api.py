"""Gift cards over the API and under concurrent redemption, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, GiftCard, GiftCardEntry
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.payments.cards import find_pans
from omnitill.services import auth, gift_cards
from tests.factories import PASSWORD, make_user, token_for


def issue(client, headers, amount=5000, **extra):
    r = client.post(
        "/api/v1/gift-cards", headers=headers, json={"currency": "USD", "amount": amount, **extra}
    )
    assert r.status_code == 201, r.text
    return r.json()


def balance(client, headers, code):
    return client.post("/api/v1/gift-cards/balance", headers=headers, json={"code": code})


def rows(db, model):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_a_card_is_issued_once_with_its_number_and_only_its_digest_is_kept(client, db, settings):
    headers = token_for(db, settings, "c1", "cashier", [])
    card = issue(client, headers)
    code = card["code"]
    assert code.startswith("GC-")
    assert len(code.replace("-", "")) == 18
    assert card["status"] == "active"
    assert card["balance"] == 5000
    assert card["display"].endswith(code[-4:])
    with db.uow(write=False) as uow:
        stored = uow.session.scalars(select(GiftCard)).one()
    assert code.replace("-", "")[2:] not in repr(vars(stored))
    # typed without prefix or dashes, in lower case, it is found; the answer hides the number
    r = balance(client, headers, code.lower().replace("-", " ")[3:])
    assert r.status_code == 200, r.text
    assert r.json()["balance"] == 5000
    assert r.json()["code"] is None
    assert find_pans(r.text) == []


def test_a_mistyped_number_is_told_apart_from_an_unknown_one(client, db, settings):
    headers = token_for(db, settings, "c1", "cashier", [])
    code = issue(client, headers)["code"]
    last = code[-1]
    typo = code[:-1] + ("2" if last != "2" else "3")
    r = balance(client, headers, typo)
    assert r.status_code == 422
    assert r.json()["code"] == "gift_card.mistyped"
    other = gift_cards.rules.new_code()
    r = balance(client, headers, other)
    assert r.status_code == 404
    assert r.json()["code"] == "gift_card.not_found"


def test_balance_checks_are_rate_limited_per_client(client, db, settings):
    headers = token_for(db, settings, "c1", "cashier", [])
    code = issue(client, headers)["code"]
    answers = [balance(client, headers, code).status_code for _ in range(12)]
    assert answers[:10] == [200] * 10
    assert answers[10:] == [429, 429]
    r = balance(client, headers, code)
    assert r.json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    # another staff member on another client is not blocked by the first one's limit...
    # ...but the same address is: the limit is per staff member and per address
    other = token_for(db, settings, "c2", "cashier", [])
    assert balance(client, other, code).status_code == 429


def test_printed_cards_activate_once_and_reload(client, db, settings):
    manager = token_for(db, settings, "m1", "manager", [])
    cashier = token_for(db, settings, "c1", "cashier", [])
    r = client.post(
        "/api/v1/gift-cards/batches",
        headers=cashier,
        json={"currency": "USD", "count": 3},
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/gift-cards/batches", headers=manager, json={"currency": "USD", "count": 3}
    )
    assert r.status_code == 201, r.text
    cards = r.json()["items"]
    assert len({c["code"] for c in cards}) == 3
    assert {c["status"] for c in cards} == {"inactive"}
    code = cards[0]["code"]
    r = client.post(
        "/api/v1/gift-cards/reload", headers=cashier, json={"code": code, "amount": 100}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "gift_card.not_active"
    r = client.post(
        "/api/v1/gift-cards/activate", headers=cashier, json={"code": code, "amount": 2500}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["balance"]) == ("active", 2500)
    r = client.post(
        "/api/v1/gift-cards/activate", headers=cashier, json={"code": code, "amount": 2500}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "gift_card.already_active"
    r = client.post(
        "/api/v1/gift-cards/reload", headers=cashier, json={"code": code, "amount": 1000}
    )
    assert r.json()["balance"] == 3500
    ledger = client.get(f"/api/v1/gift-cards/{cards[0]['id']}", headers=manager).json()
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger["entries"]] == [
        ("activate", 2500, 2500),
        ("reload", 1000, 3500),
    ]
    assert gift_cards.verify(db=db) == []


def test_bad_amounts_and_currencies_write_nothing(client, db, settings):
    headers = token_for(db, settings, "c1", "cashier", [])
    for body, code in [
        ({"currency": "USD", "amount": 0}, "gift_card.invalid_amount"),
        ({"currency": "USD", "amount": -5}, "gift_card.invalid_amount"),
        ({"currency": "XXQ", "amount": 500}, "money.unknown_currency"),
    ]:
        r = client.post("/api/v1/gift-cards", headers=headers, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code
    assert rows(db, GiftCard) == 0
    assert rows(db, GiftCardEntry) == 0


def test_a_void_takes_the_balance_off_with_a_reason_and_is_audited(client, db, settings):
    manager = token_for(db, settings, "m1", "manager", [])
    card = issue(client, manager)
    r = client.post(f"/api/v1/gift-cards/{card['id']}/void", headers=manager, json={"reason": ""})
    assert r.json()["code"] == "gift_card.reason_required"
    r = client.post(
        f"/api/v1/gift-cards/{card['id']}/void", headers=manager, json={"reason": "reported lost"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["balance"]) == ("void", 0)
    with db.uow(write=False) as uow:
        actions = set(uow.session.scalars(select(AuditEntry.action)))
    assert {"gift_card.issued", "gift_card.voided"} <= actions
    assert gift_cards.verify(db=db) == []


def redeem(db, actor, code, amount, ref, today=None):
    with db.uow() as uow:
        result = gift_cards.redeem_in(
            uow,
            code=code,
            amount=amount,
            currency="USD",
            today=today or date.today(),
            actor=actor,
            reference_type="sale",
            reference_id=ref,
        )
        uow.commit()
        return result


def cashier_actor(db, settings):
    make_user(db, "till", "cashier", [])
    issued = auth.login(db=db, settings=settings, username="till", password=PASSWORD)
    return auth.resolve_token(db=db, token=issued.access_token)


def test_redeeming_refuses_what_the_balance_or_the_card_does_not_allow(client, db, settings):
    actor = cashier_actor(db, settings)
    code = gift_cards.issue(
        db=db,
        actor=actor,
        currency="USD",
        amount=1000,
        expires_on=date.today() + timedelta(days=1),
    ).code
    assert code is not None
    _card, after = redeem(db, actor, code, 400, "s1")
    assert after == 600
    with pytest.raises(ValidationFailed) as err:
        redeem(db, actor, code, 601, "s2")
    assert err.value.code == "gift_card.insufficient_balance"
    assert err.value.details["balance"] == 600
    with pytest.raises(ValidationFailed) as err:
        redeem(db, actor, code, 100, "s3", today=date.today() + timedelta(days=2))
    assert err.value.code == "gift_card.expired"
    with db.uow() as uow, pytest.raises(ValidationFailed) as err:
        gift_cards.redeem_in(
            uow,
            code=code,
            amount=100,
            currency="EUR",
            today=date.today(),
            actor=actor,
            reference_type="sale",
            reference_id="s4",
        )
    assert err.value.code == "gift_card.currency_mismatch"
    assert gift_cards.verify(db=db) == []


def test_a_card_spent_from_many_registers_at_once_never_goes_below_zero(db, settings):
    actor = cashier_actor(db, settings)
    code = gift_cards.issue(db=db, actor=actor, currency="USD", amount=1000).code
    assert code is not None
    count = 12
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def register(n: int) -> None:
        barrier.wait()
        try:
            redeem(db, actor, code, 300, f"sale-{n}")
            result = "ok"
        except ValidationFailed as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert outcomes.count("ok") == 3
    assert outcomes.count("gift_card.insufficient_balance") == count - 3
    with db.uow(write=False) as uow:
        card = uow.session.scalars(select(GiftCard)).one()
    assert card.balance_minor == 100
    assert gift_cards.verify(db=db) == []
