"""How a parcel is rated: zone by route, billable weight, price by service; tracking numbers.

These are omnitill's own (sandbox) carrier terms, shaped like a national parcel carrier's.

**Zone** (`zone_between`), from the two postal codes compared in upper case with spaces and
dashes removed (``sw1a 1aa`` and ``SW1A1AA`` are the same):

| route                                                         | zone |
| ------------------------------------------------------------- | ---- |
| same country, first 3 characters equal (same sorting area)    | 1    |
| same country, first 2 equal                                   | 2    |
| same country, first character equal (same postal region)      | 3    |
| same country, first digits 1-2 apart (``1xxxx`` and ``3xxxx``)| 4    |
| same country, first digits 3-4 apart                          | 5    |
| same country, first digits 5-6 apart                          | 6    |
| same country, first digits 7-9 apart (coast to coast)         | 7    |
| same country, first characters differ and are not both digits | 5    |
| different countries (international)                           | 8    |

**Billable weight** (`billable_weight_grams`): the greater of the actual weight and the
dimensional weight, L x W x H in cm divided by 5000 cm3/kg (the IATA divisor most carriers
use), i.e. mm3 / 5000 in grams, rounded up to the gram. A light, bulky box pays for its space.

**Price** (`price`): the service's base price for the zone covers the first 500 g; every
further 500 g or part of it adds the zone's step price. Amounts are minor units of the
carrier's currency. Ground and express go everywhere; overnight is domestic only. Parcels
above 68 kg actual weight are freight and refused (`carrier.parcel_too_heavy`).

**Tracking numbers**: ``OT1Z`` + 11 digits + a check digit, the GS1 mod-10 scheme of an SSCC
(the GS1 shipping container code), so a mistyped digit is caught before any lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.catalog.gtin import gtin_check_digit
from omnitill.domain.fulfillment.carrier import (
    Address,
    Parcel,
    ParcelTooHeavy,
    Rate,
    ServiceUnavailable,
    UnknownService,
)

INTERNATIONAL_ZONE = 8
ZONES = range(1, INTERNATIONAL_ZONE + 1)
STEP_GRAMS = 500
DIM_DIVISOR_MM3_PER_GRAM = 5000  # 5000 cm3/kg = 5000 mm3/g
MAX_WEIGHT_GRAMS = 68_000
TRACKING_PREFIX = "OT1Z"
TRACKING_SERIAL_DIGITS = 11


class Service(StrEnum):
    GROUND = "ground"
    EXPRESS = "express"
    OVERNIGHT = "overnight"


@dataclass(frozen=True, slots=True)
class ServiceTerms:
    """One service's price list: per zone 1..8, the base (first 500 g), the price of each
    further 500 g and the days it takes; None where the zone is not served."""

    service: Service
    name: str
    base: tuple[int | None, ...]
    step: tuple[int | None, ...]
    days: tuple[int | None, ...]


TERMS: dict[Service, ServiceTerms] = {
    Service.GROUND: ServiceTerms(
        Service.GROUND,
        "Ground",
        base=(595, 640, 690, 760, 840, 930, 1040, 2900),
        step=(35, 45, 55, 70, 85, 105, 125, 450),
        days=(1, 2, 3, 3, 4, 4, 5, 10),
    ),
    Service.EXPRESS: ServiceTerms(
        Service.EXPRESS,
        "Express (2 days)",
        base=(1195, 1295, 1395, 1545, 1695, 1845, 1995, 4900),
        step=(60, 75, 90, 110, 130, 150, 175, 700),
        days=(1, 1, 2, 2, 2, 2, 2, 5),
    ),
    Service.OVERNIGHT: ServiceTerms(
        Service.OVERNIGHT,
        "Overnight",
        base=(2495, 2695, 2895, 3195, 3495, 3795, 4095, None),
        step=(95, 115, 135, 160, 185, 210, 240, None),
        days=(1, 1, 1, 1, 1, 1, 1, None),
    ),
}


def normalize_postal_code(code: str) -> str:
    """Upper case, letters and digits only: ``sw1a 1aa`` -> ``SW1A1AA``."""
    return "".join(c for c in code.upper() if c.isalnum())


def zone_between(origin: Address, destination: Address) -> int:
    """The zone of a route, 1 (same sorting area) to 8 (international); see the table above."""
    if origin.country != destination.country:
        return INTERNATIONAL_ZONE
    a, b = normalize_postal_code(origin.postal_code), normalize_postal_code(destination.postal_code)
    common = 0
    for x, y in zip(a[:3], b[:3], strict=False):
        if x != y:
            break
        common += 1
    if common:
        return 4 - common  # 3 equal -> 1, 2 -> 2, 1 -> 3
    if a[:1].isdigit() and b[:1].isdigit():
        apart = abs(int(a[0]) - int(b[0]))
        return 4 + min(3, (apart - 1) // 2)
    return 5


def dimensional_weight_grams(dimensions_mm: tuple[int, int, int]) -> int:
    """L x W x H / 5000 cm3 per kg, in grams rounded up (mm3 / 5000)."""
    length, width, height = dimensions_mm
    return -(-(length * width * height) // DIM_DIVISOR_MM3_PER_GRAM)


def billable_weight_grams(parcel: Parcel) -> int:
    """The weight charged for: the actual weight or the dimensional weight, whichever is more."""
    if parcel.dimensions_mm is None:
        return parcel.weight_grams
    return max(parcel.weight_grams, dimensional_weight_grams(parcel.dimensions_mm))


def service_terms(service: str) -> ServiceTerms:
    """The terms of a service code, or 422 `carrier.unknown_service`."""
    try:
        return TERMS[Service(service)]
    except ValueError:
        raise UnknownService(
            f"no service {service!r}; the carrier sells {', '.join(Service)}",
            {"service": service, "services": list(Service)},
        ) from None


def price(service: str, zone: int, billable_grams: int) -> int:
    """Minor units for a parcel of `billable_grams` in `zone`: the base covers the first
    500 g, each further 500 g or part of it adds the zone's step. Refuses a zone the service
    does not serve (`carrier.service_unavailable`)."""
    terms = service_terms(service)
    base, step = terms.base[zone - 1], terms.step[zone - 1]
    if base is None or step is None:
        raise ServiceUnavailable(
            f"{terms.name} is not offered in zone {zone}", {"service": service, "zone": zone}
        )
    steps = -(-billable_grams // STEP_GRAMS)
    return base + step * max(0, steps - 1)


def quote(
    *,
    carrier: str,
    service: str,
    origin: Address,
    destination: Address,
    parcel: Parcel,
    currency: str,
) -> Rate:
    """The rate of one service for a parcel between two addresses."""
    if parcel.weight_grams > MAX_WEIGHT_GRAMS:
        raise ParcelTooHeavy(
            f"{parcel.weight_grams} g is above the {MAX_WEIGHT_GRAMS} g a parcel may weigh",
            {"weight_grams": parcel.weight_grams, "max_weight_grams": MAX_WEIGHT_GRAMS},
        )
    terms = service_terms(service)
    zone = zone_between(origin, destination)
    billable = billable_weight_grams(parcel)
    amount = price(service, zone, billable)
    days = terms.days[zone - 1]
    assert days is not None  # served zones have a base price and days alike
    return Rate(
        carrier=carrier,
        service=terms.service.value,
        service_name=terms.name,
        amount=amount,
        currency=currency,
        zone=zone,
        estimated_days=days,
        billable_weight_grams=billable,
    )


def quotes(
    *, carrier: str, origin: Address, destination: Address, parcel: Parcel, currency: str
) -> tuple[Rate, ...]:
    """Every service that serves the route, cheapest first."""
    zone = zone_between(origin, destination)
    offered = [s for s in Service if TERMS[s].base[zone - 1] is not None]
    rates = [
        quote(
            carrier=carrier,
            service=s,
            origin=origin,
            destination=destination,
            parcel=parcel,
            currency=currency,
        )
        for s in offered
    ]
    return tuple(sorted(rates, key=lambda r: (r.amount, r.service)))


def tracking_number(serial: int) -> str:
    """``OT1Z`` + the 11-digit serial + its GS1 mod-10 check digit."""
    if not 0 <= serial < 10**TRACKING_SERIAL_DIGITS:
        raise ValueError(f"a tracking serial has {TRACKING_SERIAL_DIGITS} digits")
    digits = f"{serial:0{TRACKING_SERIAL_DIGITS}d}"
    return f"{TRACKING_PREFIX}{digits}{gtin_check_digit(digits)}"


def is_valid_tracking_number(number: str) -> bool:
    """True for ``OT1Z`` + 12 digits whose last is the check digit of the 11 before it."""
    digits = number.removeprefix(TRACKING_PREFIX)
    if (
        not number.startswith(TRACKING_PREFIX)
        or len(digits) != TRACKING_SERIAL_DIGITS + 1
        or not (digits.isascii() and digits.isdigit())
    ):
        return False
    return gtin_check_digit(digits[:-1]) == int(digits[-1])
