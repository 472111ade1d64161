"""The tax provider interface: a tax service over real HTTP replaces the built-in tables,
and a slow, failing or nonsensical service falls back to them so the register keeps selling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from omnitill.adapters.db.models import Location, TaxJurisdiction
from omnitill.adapters.tax.remote import RemoteTaxService
from omnitill.adapters.tax.sandbox import SandboxTaxService
from omnitill.api.app import create_app
from omnitill.config import Settings
from omnitill.domain.tax.engine import TaxableLine, TaxInput, compute_tax
from omnitill.domain.tax.model import Jurisdiction, TaxComponent
from omnitill.domain.tax.provider import BUILTIN
from omnitill.services import versions
from omnitill.services.pricing import tax_provider_for
from tests.factories import make_location, make_register, make_variant, token_for

LEVIES = {
    "US-NY-NYC": [
        ("NYS", "New York State", Decimal("0.04")),
        ("NYC", "New York City", Decimal("0.045")),
        ("MCTD", "MCTD surcharge", Decimal("0.00375")),
    ]
}


def _doc(code: str = "US-NY-NYC", *, certificate: str | None = None) -> TaxInput:
    # The built-in tables hold a single 5 % levy for the same code, so which one
    # answered is visible in the figures.
    j = Jurisdiction(code, code, (TaxComponent("LOCAL", "Local", {"standard": Decimal("0.05")}),))
    lines = [TaxableLine("0", "standard", 1, 1000), TaxableLine("1", "standard", 2, 2500)]
    return TaxInput(j, lines, date(2026, 11, 30), shipping=500, exemption_certificate=certificate)


@pytest.fixture
def sandbox():
    with SandboxTaxService(LEVIES, slow_seconds=1.0) as service:
        yield service


def test_the_tax_service_answers_instead_of_the_built_in_tables(sandbox):
    provider = RemoteTaxService(sandbox.url, timeout_seconds=1)
    result = provider.calculate(_doc())
    assert provider.last_source == "remote"
    # per levy, half-up: 10.00 -> 0.40 + 0.45 + 0.0375->0.04 = 0.89
    assert [x.tax for x in result.lines] == [89, 222]
    # shipping 5.00: 0.20 + 0.225->0.23 + 0.01875->0.02
    assert result.shipping is not None
    assert result.shipping.tax == 45
    assert result.tax_total == 89 + 222 + 45
    assert {c.code for c in result.breakdown} == {"NYS", "NYC", "MCTD"}
    assert sum(c.tax for c in result.breakdown) == result.tax_total
    assert result.gross_total == 1000 + 2500 + 500 + result.tax_total


def test_an_exempt_customer_is_exempt_at_the_service_too(sandbox):
    result = RemoteTaxService(sandbox.url).calculate(_doc(certificate="NY-ST-120-1"))
    assert result.tax_total == 0
    assert result.exempt_reason == "certificate NY-ST-120-1"


@pytest.mark.parametrize("code", ["SANDBOX-SLOW", "SANDBOX-ERROR", "SANDBOX-BAD"])
def test_a_slow_failing_or_inconsistent_service_falls_back_to_the_tables(sandbox, code):
    provider = RemoteTaxService(sandbox.url, timeout_seconds=0.3)
    result = provider.calculate(_doc(code))
    assert provider.last_source == "builtin"
    assert result == compute_tax(_doc(code))
    assert sandbox.requests == 1


def test_an_unreachable_service_falls_back_to_the_tables():
    provider = RemoteTaxService("http://127.0.0.1:9", timeout_seconds=0.5)
    assert provider.calculate(_doc()) == compute_tax(_doc())
    assert provider.last_source == "builtin"


def test_the_provider_is_chosen_by_configuration(sandbox):
    assert tax_provider_for(Settings()) is BUILTIN
    remote = tax_provider_for(Settings(tax_provider="remote", tax_service_url=sandbox.url))
    assert isinstance(remote, RemoteTaxService)
    with pytest.raises(ValueError, match="TAX_SERVICE_URL"):
        Settings(tax_provider="remote")


def test_a_configured_tax_service_prices_quotes_and_sales(db, settings, sandbox):
    store = make_location(db, "S01", tax_rate="0.05")
    make_register(db, store, "S01-R1")
    make_variant(db, sku="LAMP", price=1000)
    with db.uow() as uow:  # the store's jurisdiction code is what the service is asked about
        j = TaxJurisdiction(code="US-NY-NYC", name="NYC", country="US")
        uow.session.add(j)
        uow.session.flush()
        location = uow.session.get(Location, store.id)
        assert location is not None
        location.tax_jurisdiction_id = j.id
        versions.touch(uow, versions.PRICING)  # as the services do
        uow.commit()
    remote = settings.model_copy(update={"tax_provider": "remote", "tax_service_url": sandbox.url})
    with TestClient(create_app(remote, db)) as client:
        headers = token_for(db, settings, "till1", "cashier", ["S01"])
        body = {"location": "S01", "lines": [{"sku": "LAMP", "quantity": 1}]}
        quote = client.post("/api/v1/quotes", json=body, headers=headers).json()
        sale = client.post(
            "/api/v1/sales",
            json={**body, "register": "S01-R1", "payments": [{"method": "cash", "amount": 2000}]},
            headers=headers,
        ).json()
    # the sandbox's levies (0.40 + 0.45 + 0.04), not the store's jurisdiction (no components)
    assert quote["tax_total"] == sale["tax_total"] == 89
    assert [t["code"] for t in sale["taxes"]] == ["NYS", "NYC", "MCTD"]
    assert sandbox.requests == 2
