"""Parcel rating rules (zones, billable weight, prices), tracking numbers and carrier values."""

from __future__ import annotations

import pytest

from omnitill.domain.errors import DomainError, NotFound, OutcomeUnknown, ValidationFailed
from omnitill.domain.fulfillment import shipping
from omnitill.domain.fulfillment.carrier import (
    Address,
    CarrierTimeout,
    InvalidAddress,
    InvalidParcel,
    Parcel,
    ParcelTooHeavy,
    ServiceUnavailable,
    TrackingEvent,
    TrackingStatus,
    UnknownService,
    UnknownTrackingNumber,
    current_status,
)


def addr(postal_code: str, country: str = "US") -> Address:
    return Address(
        name="Ada", line1="1 Main St", city="Springfield", postal_code=postal_code, country=country
    )


SF = addr("94103")


@pytest.mark.parametrize(
    ("destination", "zone"),
    [
        (addr("94103"), 1),  # same sorting area
        (addr("94107-1234"), 1),
        (addr("94501"), 2),  # first two digits shared
        (addr("90210"), 3),  # same postal region
        (addr("80202"), 4),  # regions 1 apart
        (addr("60601"), 5),  # 3 apart
        (addr("30301"), 6),  # 6 apart
        (addr("10001"), 7),  # 8 apart: coast to coast
        (addr("02108"), 7),  # 9 apart
        (addr("94103", "CA"), 8),  # another country: international, whatever the code
    ],
)
def test_the_zone_follows_how_much_of_the_postal_code_two_addresses_share(destination, zone):
    assert shipping.zone_between(SF, destination) == zone


def test_postal_codes_with_letters_compare_without_case_or_spaces():
    london = addr("SW1A 1AA", "GB")
    assert shipping.zone_between(london, addr("sw1p 3bu", "GB")) == 1
    assert shipping.zone_between(london, addr("SE1 9SG", "GB")) == 3
    assert shipping.zone_between(london, addr("M1 1AE", "GB")) == 5  # letters: no distance
    assert shipping.normalize_postal_code("sw1a-1aa ") == "SW1A1AA"


def test_the_zone_table_is_symmetric():
    for a in ("94103", "10001", "60601", "02108"):
        for b in ("94103", "10001", "60601", "02108"):
            assert shipping.zone_between(addr(a), addr(b)) == shipping.zone_between(
                addr(b), addr(a)
            )


def test_billable_weight_is_the_dimensional_weight_when_the_box_is_light_and_large():
    # 40 x 30 x 20 cm = 24 000 cm3 / 5000 = 4.8 kg, more than the 1 kg it weighs
    assert shipping.billable_weight_grams(Parcel(1000, (400, 300, 200))) == 4800
    # a dense parcel pays its actual weight
    assert shipping.billable_weight_grams(Parcel(9000, (400, 300, 200))) == 9000
    assert shipping.billable_weight_grams(Parcel(750)) == 750
    # rounded up to the gram: 1 030 301 mm3 / 5000 = 206.06 g
    assert shipping.dimensional_weight_grams((101, 101, 101)) == 207


@pytest.mark.parametrize(
    ("service", "zone", "grams", "amount"),
    [
        ("ground", 1, 1, 595),  # the base covers the first 500 g
        ("ground", 1, 500, 595),
        ("ground", 1, 501, 630),  # a started 500 g step counts
        ("ground", 1, 2300, 595 + 4 * 35),
        ("ground", 8, 1000, 2900 + 450),
        ("express", 4, 1500, 1545 + 2 * 110),
        ("overnight", 7, 500, 4095),
    ],
)
def test_price_is_the_zone_base_plus_a_step_for_each_further_500_g(service, zone, grams, amount):
    assert shipping.price(service, zone, grams) == amount


def test_every_price_grows_with_zone_and_weight():
    for service in shipping.Service:
        served = [z for z in shipping.ZONES if shipping.TERMS[service].base[z - 1] is not None]
        prices = [shipping.price(service, z, 1000) for z in served]
        assert prices == sorted(prices)
        assert shipping.price(service, 1, 5000) > shipping.price(service, 1, 4999 - 500)


def test_quotes_list_every_service_for_the_route_cheapest_first():
    rates = shipping.quotes(
        carrier="sandbox", origin=SF, destination=addr("10001"), parcel=Parcel(1200), currency="USD"
    )
    assert [r.service for r in rates] == ["ground", "express", "overnight"]
    ground = rates[0]
    assert (ground.amount, ground.zone, ground.estimated_days) == (1040 + 2 * 125, 7, 5)
    assert (ground.currency, ground.carrier, ground.billable_weight_grams) == (
        "USD",
        "sandbox",
        1200,
    )
    assert ground.service_name == "Ground"


def test_overnight_is_domestic_only():
    abroad = addr("M5V 2T6", "CA")
    rates = shipping.quotes(
        carrier="sandbox", origin=SF, destination=abroad, parcel=Parcel(500), currency="USD"
    )
    assert [r.service for r in rates] == ["ground", "express"]
    with pytest.raises(ServiceUnavailable) as caught:
        shipping.quote(
            carrier="sandbox",
            service="overnight",
            origin=SF,
            destination=abroad,
            parcel=Parcel(500),
            currency="USD",
        )
    assert caught.value.code == "carrier.service_unavailable"
    assert caught.value.status == 422


def test_an_unknown_service_and_an_overweight_parcel_are_refused_with_their_codes():
    with pytest.raises(UnknownService) as caught:
        shipping.service_terms("teleport")
    assert caught.value.code == "carrier.unknown_service"
    assert caught.value.details["services"] == ["ground", "express", "overnight"]
    with pytest.raises(ParcelTooHeavy) as heavy:
        shipping.quote(
            carrier="sandbox",
            service="ground",
            origin=SF,
            destination=SF,
            parcel=Parcel(shipping.MAX_WEIGHT_GRAMS + 1),
            currency="USD",
        )
    assert heavy.value.code == "carrier.parcel_too_heavy"
    # exactly the limit is still a parcel
    shipping.quote(
        carrier="sandbox",
        service="ground",
        origin=SF,
        destination=SF,
        parcel=Parcel(shipping.MAX_WEIGHT_GRAMS),
        currency="USD",
    )


def test_tracking_numbers_carry_a_gs1_mod_10_check_digit():
    # 1 2 3 4 5 6 7 8 9 0 1 weighted 3,1,3... from the right: 98, so the check digit is 2
    assert shipping.tracking_number(12345678901) == "OT1Z123456789012"
    assert shipping.tracking_number(0) == "OT1Z000000000000"
    assert shipping.is_valid_tracking_number("OT1Z123456789012")


@pytest.mark.parametrize(
    "number",
    [
        "OT1Z123456789013",  # wrong check digit
        "OT1Z123456789102",  # a digit changed
        "OT1Z213456789012",  # two digits swapped
        "OT1Z12345678901",  # too short
        "OT1Z1234567890123",  # too long
        "1Z12345678901234",  # another carrier's
        "OT1Z12345678901x",
        "OT1Z" + "".join(chr(0x0660 + int(d)) for d in "123456789012"),  # Arabic-Indic
    ],
)
def test_a_mistyped_tracking_number_is_caught(number):
    assert not shipping.is_valid_tracking_number(number)


def test_tracking_serials_are_11_digits():
    with pytest.raises(ValueError, match="11 digits"):
        shipping.tracking_number(10**11)


def test_an_incomplete_address_lists_every_missing_part():
    with pytest.raises(InvalidAddress) as caught:
        Address(name=" ", line1="", city="Springfield", postal_code="", country="usa")
    error = caught.value
    assert isinstance(error, ValidationFailed)
    assert error.code == "carrier.invalid_address"
    assert {e.field for e in error.errors} == {"name", "line1", "postal_code", "country"}


def test_an_address_round_trips_through_its_stored_form():
    full = Address(
        name="Ada",
        line1="1 Main St",
        line2="Apt 2",
        city="Springfield",
        region="IL",
        postal_code="62701",
        country="US",
        phone="+12175550100",
    )
    assert Address.from_dict(full.as_dict()) == full
    assert Address.from_dict({**full.as_dict(), "line2": None, "phone": None}).line2 == ""
    with pytest.raises(InvalidAddress):
        Address.from_dict({"name": "Ada"})


@pytest.mark.parametrize(
    ("weight", "dimensions"),
    [(0, None), (-5, None), (1.5, None), (True, None), (100, (10, 0, 10)), (100, (10, 10))],
)
def test_a_parcel_needs_positive_whole_grams_and_millimetres(weight, dimensions):
    with pytest.raises(InvalidParcel) as caught:
        Parcel(weight, dimensions)
    assert caught.value.code == "carrier.invalid_parcel"
    assert caught.value.errors


def test_carrier_errors_are_domain_errors_with_the_status_of_their_kind():
    timeout = CarrierTimeout("no answer")
    assert isinstance(timeout, DomainError)
    assert isinstance(timeout, OutcomeUnknown)
    assert (timeout.code, timeout.status) == ("carrier.timeout", 504)
    unknown = UnknownTrackingNumber("no label")
    assert isinstance(unknown, NotFound)
    assert (unknown.code, unknown.status) == ("carrier.unknown_tracking_number", 404)


def test_the_current_status_is_that_of_the_latest_event():
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2025, 6, 2, 9, tzinfo=UTC)
    events = [
        TrackingEvent("a", TrackingStatus.IN_TRANSIT, "", "", t0 + timedelta(hours=2)),
        TrackingEvent("b", TrackingStatus.LABEL_CREATED, "", "", t0),
    ]
    assert current_status(events) is TrackingStatus.IN_TRANSIT
    assert current_status([]) is TrackingStatus.LABEL_CREATED
