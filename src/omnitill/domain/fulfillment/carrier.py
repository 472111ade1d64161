"""The carrier contract: what omnitill asks of a parcel carrier and what it keeps.

A carrier quotes `rates` for a parcel between two addresses, sells a `Label` for one service,
reports `TrackingEvent`s for a tracking number and voids a label that was not used. Buying
carries an idempotency key: the same key always answers the same label and never buys a
second one, so a purchase whose answer was lost (`CarrierTimeout`) is simply asked again with
the same key. Every refusal is a `CarrierError`, a `DomainError` with a stable
``carrier.*`` code, so the API maps it to problem+json like any business error.

Implementations live in adapters/carriers (the built-in sandbox); `services.carriers.carrier_for`
picks one from the settings. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from omnitill.domain.customers.countries import is_country
from omnitill.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    OutcomeUnknown,
    Unavailable,
    ValidationFailed,
)


class TrackingStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


# --- errors ---------------------------------------------------------------------------------


class CarrierError(DomainError):
    """A carrier refused or failed a request. Each subclass has one stable `CODE`; the HTTP
    status comes from the second base (422, 404, 409, 503 or 504)."""

    CODE: ClassVar[str] = "carrier.error"

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(self.CODE, message, details, errors=errors)


class InvalidAddress(CarrierError, ValidationFailed):
    """An address lacks a part a label needs (name, first line, city, postal code, country)."""

    CODE = "carrier.invalid_address"


class AddressUndeliverable(CarrierError, ValidationFailed):
    """The carrier does not deliver to (or collect from) this address."""

    CODE = "carrier.address_undeliverable"


class InvalidParcel(CarrierError, ValidationFailed):
    """A weight or dimension that is not a positive whole number of grams or millimetres."""

    CODE = "carrier.invalid_parcel"


class ParcelTooHeavy(CarrierError, ValidationFailed):
    """Heavier than the carrier takes (`shipping.MAX_WEIGHT_GRAMS`): freight, not parcel."""

    CODE = "carrier.parcel_too_heavy"


class UnknownService(CarrierError, ValidationFailed):
    """A service code the carrier does not sell."""

    CODE = "carrier.unknown_service"


class ServiceUnavailable(CarrierError, ValidationFailed):
    """A service the carrier sells, but not between these two addresses (overnight abroad)."""

    CODE = "carrier.service_unavailable"


class IdempotencyKeyReused(CarrierError, ValidationFailed):
    """The idempotency key already bought a label for another parcel, route or service."""

    CODE = "carrier.idempotency_key_reused"


class UnknownTrackingNumber(CarrierError, NotFound):
    CODE = "carrier.unknown_tracking_number"


class LabelNotVoidable(CarrierError, Conflict):
    """The parcel is already moving (or delivered): its label can no longer be voided."""

    CODE = "carrier.label_not_voidable"


class CarrierUnavailable(CarrierError, Unavailable):
    """The carrier refused the connection or answered with an error of its own."""

    CODE = "carrier.unavailable"


class CarrierTimeout(CarrierError, OutcomeUnknown):
    """No answer in time: a label may have been bought. Ask again with the same idempotency
    key, which returns that label if there is one and never buys a second."""

    CODE = "carrier.timeout"


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parcel:
    """What is shipped: its weight in grams and, when known, its outer box in millimetres
    (length, width, height), from which the dimensional weight is worked out."""

    weight_grams: int
    dimensions_mm: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not _positive_int(self.weight_grams):
            errors.append(_bad("weight_grams", "a positive whole number of grams"))
        if self.dimensions_mm is not None and (
            len(self.dimensions_mm) != 3 or not all(_positive_int(d) for d in self.dimensions_mm)
        ):
            errors.append(_bad("dimensions_mm", "three positive whole millimetres (L, W, H)"))
        if errors:
            raise InvalidParcel("the parcel's weight or dimensions are not valid", errors=errors)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as a label prints it. `country` is ISO 3166-1 alpha-2 (``US``)."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""  # state, province or county, as the country writes it
    phone: str = ""

    def __post_init__(self) -> None:
        errors = [
            FieldError(name, InvalidAddress.CODE, "required")
            for name in ("name", "line1", "city", "postal_code")
            if not getattr(self, name).strip()
        ]
        if not is_country(self.country):
            errors.append(
                FieldError("country", InvalidAddress.CODE, "an ISO 3166-1 alpha-2 code (US)")
            )
        if errors:
            raise InvalidAddress("the address is incomplete", errors=errors)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
            "phone": self.phone,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Address:
        """An address from its `as_dict` form (an order's stored ``ship_to``); missing optional
        parts are empty, missing required ones are refused as `carrier.invalid_address`."""
        return cls(**{k: str(data.get(k) or "") for k in _ADDRESS_FIELDS})


_ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")


@dataclass(frozen=True, slots=True)
class Rate:
    """A price the carrier quotes for one service. `amount` is in minor units of `currency`;
    `billable_weight_grams` is what was charged for (see `shipping.billable_weight_grams`)."""

    carrier: str
    service: str
    service_name: str
    amount: int
    currency: str
    zone: int
    estimated_days: int
    billable_weight_grams: int


@dataclass(frozen=True, slots=True)
class Label:
    """A bought label: the PDF to print and stick on the parcel, and what it cost."""

    tracking_number: str
    service: str
    rate: Rate
    label_pdf: bytes = field(repr=False)
    label_reference: str
    created_at: datetime
    tracking_url: str

    @property
    def carrier(self) -> str:
        return self.rate.carrier


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One scan of the parcel. `carrier_event_id` is stable: the same event reported again
    has the same id, so a consumer stores each once."""

    carrier_event_id: str
    status: TrackingStatus
    description: str
    location: str
    occurred_at: datetime


def current_status(events: Sequence[TrackingEvent]) -> TrackingStatus:
    """The parcel's status: that of its latest event (events come oldest first)."""
    if not events:
        return TrackingStatus.LABEL_CREATED
    return max(events, key=lambda e: e.occurred_at).status


class Carrier(Protocol):
    name: str

    def rates(self, *, origin: Address, destination: Address, parcel: Parcel) -> tuple[Rate, ...]:
        """Every service offered between the two addresses, cheapest first."""
        ...

    def buy_label(
        self,
        *,
        origin: Address,
        destination: Address,
        parcel: Parcel,
        service: str,
        idempotency_key: str,
    ) -> Label:
        """Buy a label; the same key answers the same label, never a second purchase."""
        ...

    def track(self, tracking_number: str) -> tuple[TrackingEvent, ...]:
        """What happened to the parcel so far, oldest first."""
        ...

    def void_label(self, tracking_number: str) -> None:
        """Cancel an unused label (refunded by the carrier); voiding twice is harmless."""
        ...

    def tracking_url(self, tracking_number: str) -> str:
        """Where a customer follows the parcel."""
        ...


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _bad(name: str, message: str) -> FieldError:
    return FieldError(name, InvalidParcel.CODE, message)
