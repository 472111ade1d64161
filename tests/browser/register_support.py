"""A store ready to sell and the steps a cashier takes in the register app, shared by the
register browser tests and benchmarks/register_ui.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from omnitill.config import Settings
from omnitill.services import register_access
from omnitill.services.auth import system_actor
from omnitill.services.database import Database
from tests.factories import (
    PASSWORD,
    make_coupon,
    make_location,
    make_promotion,
    make_register,
    make_user,
    make_variant,
)

CASHIER_PIN = "2468"
MANAGER_PIN = "9753"


@dataclass(frozen=True)
class Store:
    barcodes: list[str]
    names: list[str]


def make_store(db: Database, settings: Settings, *, items: int = 3, **location: Any) -> Store:
    """S01 with register S01-R1, `items` variants in stock, coupon SAVE10 (10 % off), an
    admin who enrols registers, a cashier (PIN 2468) and a manager (PIN 9753). `location`
    sets more of S01's fields (offers_pickup, offers_curbside, coordinates...)."""
    s01 = make_location(db, "S01", **location)
    make_register(db, s01, "S01-R1")
    variants = [
        make_variant(db, sku=f"ITEM-{n}", price=1000 + 250 * n, stock={s01: 500})
        for n in range(1, items + 1)
    ]
    promotion = make_promotion(db, "save10", requires_coupon=True)
    make_coupon(db, promotion, "SAVE10", single_use=False)
    make_user(db, "admin1", "admin")
    make_user(db, "cashier1", "cashier", ["S01"])
    make_user(db, "manager1", "manager", ["S01"])
    admin = system_actor(db=db)
    for username, pin in (("cashier1", CASHIER_PIN), ("manager1", MANAGER_PIN)):
        register_access.set_pin(db=db, settings=settings, actor=admin, username=username, pin=pin)
    return Store([str(v.barcode) for v in variants], [v.name for v in variants])


def enrol(page: Any, base: str) -> None:
    """The admin enrols this browser as S01-R1."""
    page.goto(f"{base}/register/enroll")
    page.fill("#username", "admin1")
    page.fill("#password", PASSWORD)
    page.click("#manager-form button[type=submit]")
    page.wait_for_selector("#register-form:not([hidden])")
    page.select_option("#register", "S01-R1")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#enrolled:not([hidden])")
    page.wait_for_load_state("networkidle")


def sign_in(page: Any, base: str, pin: str = CASHIER_PIN) -> None:
    page.goto(f"{base}/register/login")
    page.wait_for_selector(".pin-display")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")


def open_shift(page: Any) -> None:
    page.wait_for_url("**/register/shift")
    page.wait_for_selector("#float-form:not([hidden])")
    page.fill("input[name=d2000]", "5")
    page.click("#open-shift")
    page.wait_for_url("**/register")
    page.wait_for_selector("#scan:focus")
    page.wait_for_load_state("networkidle")


def scan(page: Any, barcode: str) -> None:
    """A barcode scanner: fast keystrokes into the focused field, then Enter."""
    page.keyboard.type(barcode, delay=2)
    page.keyboard.press("Enter")


def wait_priced(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('#lines .line-total')]"
        ".every(c => c.textContent !== '…')"
        " && document.querySelector('#total').textContent !== '—'"
    )


def ready_register(page: Any, base: str) -> None:
    enrol(page, base)
    sign_in(page, base)
    open_shift(page)


def bearer(base: str, username: str = "admin1") -> dict[str, str]:
    """The Authorization header of a staff member signed in with their password (for what
    a test does through the API: the back office, the web shop)."""
    with httpx.Client(base_url=base) as http:
        token = http.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def go_to(page: Any, menu: str) -> None:
    """Open a register page from the top bar's menu (the pickup queue keeps its event
    stream open, so no page waits for the network to go idle)."""
    page.click(f"a[data-menu={menu}]")
    page.wait_for_url(f"**/register/{menu}")
