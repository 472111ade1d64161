"""A sandbox parcel carrier that behaves like a real one.

It rates by zone and weight (domain/fulfillment/shipping.py), sells labels as real PDFs with a
Code 39 barcode of the tracking number, reports tracking events as time passes, and voids
labels not yet used. Like a real carrier it keeps its own records, a SQLite file of its own
(the carrier's systems are not omnitill's database), so labels and tracking survive restarts
and every omnitill process sees the same ones. Buying is idempotent by key: the same key
answers the same label; the same key with another parcel, route or service is refused.

Test postal codes (of the destination; ``00000`` of either address):

- ``00000``: undeliverable; rates and labels are refused (422 `carrier.address_undeliverable`).
- ``99999``: buying times out *after* the label is bought (504 `carrier.timeout`); buying
  again with the same idempotency key returns that label, never a second one.
- ``90210``: the delivery fails; tracking ends in `exception` when the parcel would have
  gone out for delivery.

Tracking follows the clock (`clock`, injectable): `label_created` at purchase, then

| service | in_transit | out_for_delivery | delivered |
| --- | --- | --- | --- |
| ground | 2 h | 20 h | 24 h |
| express | 1 h | 8 h | 12 h |
| overnight | 30 min | 6 h | 8 h |

A label can be voided until the parcel is in transit; a voided label's tracking ends with an
`exception` event "label voided".
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from omnitill.adapters.carriers.label_pdf import label_pdf
from omnitill.domain.errors import FieldError
from omnitill.domain.fulfillment import shipping
from omnitill.domain.fulfillment.carrier import (
    Address,
    AddressUndeliverable,
    CarrierTimeout,
    IdempotencyKeyReused,
    Label,
    LabelNotVoidable,
    Parcel,
    Rate,
    TrackingEvent,
    TrackingStatus,
    UnknownTrackingNumber,
)
from omnitill.domain.fulfillment.shipping import Service

UNDELIVERABLE_POSTAL_CODE = "00000"
TIMEOUT_POSTAL_CODE = "99999"
DELIVERY_EXCEPTION_POSTAL_CODE = "90210"

# Offsets after purchase of in_transit, out_for_delivery and delivered, per service.
SCHEDULE: dict[Service, tuple[timedelta, timedelta, timedelta]] = {
    Service.GROUND: (timedelta(hours=2), timedelta(hours=20), timedelta(hours=24)),
    Service.EXPRESS: (timedelta(hours=1), timedelta(hours=8), timedelta(hours=12)),
    Service.OVERNIGHT: (timedelta(minutes=30), timedelta(hours=6), timedelta(hours=8)),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS carrier_labels (
    tracking_number TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    rate TEXT NOT NULL,
    origin TEXT NOT NULL,
    destination TEXT NOT NULL,
    label_reference TEXT NOT NULL,
    label_pdf BLOB NOT NULL,
    created_at TEXT NOT NULL,
    voided_at TEXT
);
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SandboxCarrier:
    """The carrier. `path` is its own SQLite file (":memory:" keeps it in this process);
    `clock` tells the time tracking follows; amounts are minor units of `currency`."""

    name = "sandbox"
    display_name = "omnitill sandbox carrier"

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        currency: str = "USD",
        clock: Callable[[], datetime] = _utcnow,
        tracking_url_template: str = "https://carrier.sandbox.invalid/track/{tracking_number}",
    ) -> None:
        self.currency = currency
        self._clock = clock
        self._tracking_url_template = tracking_url_template
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.executescript(_SCHEMA)

    # --- the carrier contract -----------------------------------------------------------------

    def rates(self, *, origin: Address, destination: Address, parcel: Parcel) -> tuple[Rate, ...]:
        _check_deliverable(origin, destination)
        return shipping.quotes(
            carrier=self.name,
            origin=origin,
            destination=destination,
            parcel=parcel,
            currency=self.currency,
        )

    def buy_label(
        self,
        *,
        origin: Address,
        destination: Address,
        parcel: Parcel,
        service: str,
        idempotency_key: str,
    ) -> Label:
        request = _canonical(
            {
                "origin": origin.as_dict(),
                "destination": destination.as_dict(),
                "parcel": {"weight_grams": parcel.weight_grams, "dims": parcel.dimensions_mm},
                "service": service,
            }
        )
        with self._transaction():
            row = self._conn.execute(
                "SELECT request, tracking_number FROM carrier_labels WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
            if row is not None:
                if row[0] != request:
                    raise IdempotencyKeyReused(
                        "this idempotency key bought a label for another parcel or route",
                        {"idempotency_key": idempotency_key, "tracking_number": row[1]},
                    )
                return self._label(row[1])  # the label bought the first time
            _check_deliverable(origin, destination)
            rate = shipping.quote(
                carrier=self.name,
                service=service,
                origin=origin,
                destination=destination,
                parcel=parcel,
                currency=self.currency,
            )
            label = self._print(origin=origin, destination=destination, parcel=parcel, rate=rate)
            self._conn.execute(
                "INSERT INTO carrier_labels (tracking_number, idempotency_key, request, rate, "
                "origin, destination, label_reference, label_pdf, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    label.tracking_number,
                    idempotency_key,
                    request,
                    _canonical(asdict(rate)),
                    _canonical(origin.as_dict()),
                    _canonical(destination.as_dict()),
                    label.label_reference,
                    label.label_pdf,
                    label.created_at.isoformat(),
                ),
            )
        if _postal(destination) == TIMEOUT_POSTAL_CODE:
            raise CarrierTimeout(
                "the carrier did not answer in time; ask again with the same idempotency key",
                {"idempotency_key": idempotency_key},
            )
        return label

    def track(self, tracking_number: str) -> tuple[TrackingEvent, ...]:
        with self._transaction():
            stored = self._stored(tracking_number)
        now = self._now()
        return tuple(
            TrackingEvent(f"{tracking_number}:{status.value}", status, description, place, at)
            for status, description, place, at in _journey(stored)
            if at <= now
        )

    def void_label(self, tracking_number: str) -> None:
        with self._transaction():
            stored = self._stored(tracking_number)
            if stored.voided_at is not None:
                return
            now = self._now()
            if now >= stored.created_at + SCHEDULE[Service(stored.rate.service)][0]:
                raise LabelNotVoidable(
                    "the parcel is already in the carrier's hands",
                    {"tracking_number": tracking_number},
                )
            self._conn.execute(
                "UPDATE carrier_labels SET voided_at = ? WHERE tracking_number = ?",
                (now.isoformat(), tracking_number),
            )

    def tracking_url(self, tracking_number: str) -> str:
        return self._tracking_url_template.format(tracking_number=tracking_number)

    def close(self) -> None:
        self._conn.close()

    # --- inside the carrier ---------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One request: serialised in this process by a lock, across processes by SQLite's
        write lock (BEGIN IMMEDIATE)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the carrier's clock must tell aware (UTC) time")
        return now.astimezone(UTC)

    def _print(self, *, origin: Address, destination: Address, parcel: Parcel, rate: Rate) -> Label:
        """A new label: a free tracking number and its PDF."""
        number = self._new_tracking_number()
        created_at = self._now()
        reference = "lbl_" + secrets.token_hex(10)
        pdf = label_pdf(
            carrier_name=self.display_name,
            tracking_number=number,
            rate=rate,
            origin=origin,
            destination=destination,
            weight_grams=parcel.weight_grams,
            created_at=created_at,
            label_reference=reference,
        )
        return Label(
            tracking_number=number,
            service=rate.service,
            rate=rate,
            label_pdf=pdf,
            label_reference=reference,
            created_at=created_at,
            tracking_url=self.tracking_url(number),
        )

    def _new_tracking_number(self) -> str:
        while True:
            number = shipping.tracking_number(
                secrets.randbelow(10**shipping.TRACKING_SERIAL_DIGITS)
            )
            taken = self._conn.execute(
                "SELECT 1 FROM carrier_labels WHERE tracking_number = ?", (number,)
            ).fetchone()
            if taken is None:
                return number

    def _stored(self, tracking_number: str) -> _StoredLabel:
        row = self._conn.execute(
            "SELECT rate, origin, destination, created_at, voided_at, label_reference, label_pdf "
            "FROM carrier_labels WHERE tracking_number = ?",
            (tracking_number,),
        ).fetchone()
        if row is None:
            raise UnknownTrackingNumber(
                f"no label with tracking number {tracking_number!r}",
                {
                    "tracking_number": tracking_number,
                    "well_formed": shipping.is_valid_tracking_number(tracking_number),
                },
            )
        return _StoredLabel(
            rate=Rate(**json.loads(row[0])),
            origin=Address.from_dict(json.loads(row[1])),
            destination=Address.from_dict(json.loads(row[2])),
            created_at=datetime.fromisoformat(row[3]),
            voided_at=None if row[4] is None else datetime.fromisoformat(row[4]),
            label_reference=row[5],
            label_pdf=bytes(row[6]),
        )

    def _label(self, tracking_number: str) -> Label:
        stored = self._stored(tracking_number)
        return Label(
            tracking_number=tracking_number,
            service=stored.rate.service,
            rate=stored.rate,
            label_pdf=stored.label_pdf,
            label_reference=stored.label_reference,
            created_at=stored.created_at,
            tracking_url=self.tracking_url(tracking_number),
        )


@dataclass(frozen=True, slots=True)
class _StoredLabel:
    rate: Rate
    origin: Address
    destination: Address
    created_at: datetime
    voided_at: datetime | None
    label_reference: str
    label_pdf: bytes


def _journey(label: _StoredLabel) -> list[tuple[TrackingStatus, str, str, datetime]]:
    """Every scan the parcel gets, with its time (the schedule in the module docstring);
    tracking shows those already past."""
    created, origin, destination = label.created_at, label.origin, label.destination
    collect = (
        TrackingStatus.LABEL_CREATED,
        "Label created; the parcel is awaiting collection",
        _place(origin),
        created,
    )
    if label.voided_at is not None:
        voided = "Label voided; the parcel will not be collected"
        return [collect, (TrackingStatus.EXCEPTION, voided, _place(origin), label.voided_at)]
    transit, out, delivered = SCHEDULE[Service(label.rate.service)]
    departed = "Collected; departed the origin facility"
    journey = [collect, (TrackingStatus.IN_TRANSIT, departed, _place(origin), created + transit)]
    if _postal(destination) == DELIVERY_EXCEPTION_POSTAL_CODE:
        failed = "Delivery exception: address not found; held at the destination depot"
        return [*journey, (TrackingStatus.EXCEPTION, failed, _place(destination), created + out)]
    return [
        *journey,
        (TrackingStatus.OUT_FOR_DELIVERY, "Out for delivery", _place(destination), created + out),
        (TrackingStatus.DELIVERED, "Delivered", _place(destination), created + delivered),
    ]


def _check_deliverable(origin: Address, destination: Address) -> None:
    errors = [
        FieldError(f"{name}.postal_code", AddressUndeliverable.CODE, "not served by the carrier")
        for name, address in (("origin", origin), ("destination", destination))
        if _postal(address) == UNDELIVERABLE_POSTAL_CODE
    ]
    if errors:
        raise AddressUndeliverable(
            "the carrier does not serve this address",
            {"postal_code": UNDELIVERABLE_POSTAL_CODE},
            errors=errors,
        )


def _postal(address: Address) -> str:
    return shipping.normalize_postal_code(address.postal_code)


def _place(address: Address) -> str:
    return ", ".join(p for p in (address.city, address.region, address.country) if p)


def _canonical(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
