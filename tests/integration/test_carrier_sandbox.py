"""The sandbox carrier behaves like a real one: rates, labels as PDFs, tracking over time,
idempotent purchase across a lost answer, undeliverable addresses, voids, restarts."""

from __future__ import annotations

import re
import sqlite3
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from omnitill.adapters.carriers.sandbox import SandboxCarrier
from omnitill.config import Settings
from omnitill.domain.fulfillment import shipping
from omnitill.domain.fulfillment.carrier import (
    Address,
    AddressUndeliverable,
    CarrierTimeout,
    IdempotencyKeyReused,
    LabelNotVoidable,
    Parcel,
    TrackingStatus,
    UnknownService,
    UnknownTrackingNumber,
    current_status,
)
from omnitill.services.carriers import carrier_for

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
SHOP = Address(
    name="Corner Shop",
    line1="1 Market St",
    city="San Francisco",
    region="CA",
    postal_code="94103",
    country="US",
)


def to(postal_code: str, *, name: str = "Ada Lovelace") -> Address:
    return Address(
        name=name,
        line1="10 Hudson St",
        city="New York",
        region="NY",
        postal_code=postal_code,
        country="US",
        phone="+12125550100",
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "sandbox_carrier.db"


@pytest.fixture
def carrier(path, clock):
    return SandboxCarrier(path, clock=clock)


def labels_in(path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM carrier_labels").fetchone()[0])


def buy(carrier, destination=None, *, key="ship-1", service="ground", parcel=None):
    return carrier.buy_label(
        origin=SHOP,
        destination=destination or to("10001"),
        parcel=parcel or Parcel(1200, (300, 200, 100)),
        service=service,
        idempotency_key=key,
    )


def test_rates_are_quoted_by_zone_and_billable_weight(carrier):
    rates = carrier.rates(origin=SHOP, destination=to("10001"), parcel=Parcel(800, (400, 300, 200)))
    assert [r.service for r in rates] == ["ground", "express", "overnight"]
    ground = rates[0]
    assert ground.zone == 7
    assert ground.billable_weight_grams == 4800  # dimensional weight of a 40x30x20 cm box
    assert ground.amount == shipping.price("ground", 7, 4800)
    assert (ground.carrier, ground.currency) == ("sandbox", "USD")


def test_a_label_is_a_real_pdf_with_the_tracking_number_as_a_code_39_barcode(carrier):
    label = buy(carrier)
    assert shipping.is_valid_tracking_number(label.tracking_number)
    assert label.label_reference.startswith("lbl_")
    assert label.rate.service == label.service == "ground"
    assert label.created_at == T0
    assert label.tracking_url.endswith(f"/track/{label.tracking_number}")

    content = page_content(label.label_pdf)
    texts = re.findall(rb"\((.*?)\) Tj", content)
    printed = b"\n".join(texts).decode("latin-1")
    for expected in (
        f"TRACKING # {label.tracking_number}",
        "GROUND",
        "Corner Shop",
        "San Francisco CA 94103",
        "Ada Lovelace",
        "New York NY 10001",
        "Weight: 1.20 kg",
        label.label_reference,
    ):
        assert expected in printed
    assert decode_code39(content) == f"*{label.tracking_number}*"


def test_names_outside_latin_1_are_printed_as_close_as_the_label_font_allows(carrier):
    label = buy(carrier, to("10001", name="Antonín Dvořák 東"))
    printed = b"\n".join(re.findall(rb"\((.*?)\) Tj", page_content(label.label_pdf)))
    assert "Antonín Dvorák ?".encode("latin-1") in printed


def test_a_lost_answer_is_asked_again_with_the_same_key_and_never_buys_twice(path, carrier):
    slow = to("99999")
    with pytest.raises(CarrierTimeout) as caught:
        buy(carrier, slow, key="ship-slow")
    assert caught.value.code == "carrier.timeout"
    assert caught.value.status == 504
    assert labels_in(path) == 1  # the carrier bought it; only the answer was lost

    retried = buy(carrier, slow, key="ship-slow")
    assert labels_in(path) == 1
    again = buy(SandboxCarrier(path), slow, key="ship-slow")  # after a restart too
    assert again == retried
    assert again.label_pdf.startswith(b"%PDF-")
    assert labels_in(path) == 1


def test_the_same_key_answers_the_same_label_and_another_key_buys_another(path, carrier):
    first = buy(carrier, key="k1")
    assert buy(carrier, key="k1") == first
    second = buy(carrier, key="k2")
    assert second.tracking_number != first.tracking_number
    assert labels_in(path) == 2


def test_concurrent_purchases_with_one_key_buy_one_label(path, clock):
    carriers = [SandboxCarrier(path, clock=clock) for _ in range(2)]  # two processes
    with ThreadPoolExecutor(max_workers=8) as pool:
        labels = list(pool.map(lambda i: buy(carriers[i % 2], key="same"), range(16)))
    assert len({label.tracking_number for label in labels}) == 1
    assert labels_in(path) == 1


def test_a_key_reused_for_another_parcel_is_refused(path, carrier):
    buy(carrier, key="k1")
    with pytest.raises(IdempotencyKeyReused) as caught:
        buy(carrier, key="k1", parcel=Parcel(5000))
    assert caught.value.code == "carrier.idempotency_key_reused"
    assert caught.value.status == 422
    assert labels_in(path) == 1


def test_an_undeliverable_address_is_refused_for_rates_and_labels(path, carrier):
    nowhere = to("00000")
    with pytest.raises(AddressUndeliverable) as caught:
        carrier.rates(origin=SHOP, destination=nowhere, parcel=Parcel(500))
    assert caught.value.code == "carrier.address_undeliverable"
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["destination.postal_code"]
    with pytest.raises(AddressUndeliverable):
        buy(carrier, nowhere)
    with pytest.raises(UnknownService):
        buy(carrier, key="k-other", service="teleport")
    assert labels_in(path) == 0


def statuses(carrier, number):
    return [e.status for e in carrier.track(number)]


def test_tracking_follows_the_clock_for_ground(carrier, clock):
    number = buy(carrier).tracking_number
    steps = [
        (timedelta(0), ["label_created"]),
        (timedelta(hours=1, minutes=59), ["label_created"]),
        (timedelta(hours=2), ["label_created", "in_transit"]),
        (timedelta(hours=20), ["label_created", "in_transit", "out_for_delivery"]),
        (timedelta(hours=24), ["label_created", "in_transit", "out_for_delivery", "delivered"]),
        (timedelta(days=30), ["label_created", "in_transit", "out_for_delivery", "delivered"]),
    ]
    for elapsed, expected in steps:
        clock.now = T0 + elapsed
        assert statuses(carrier, number) == expected
    events = carrier.track(number)
    assert [e.occurred_at - T0 for e in events] == [
        timedelta(0),
        timedelta(hours=2),
        timedelta(hours=20),
        timedelta(hours=24),
    ]
    assert current_status(events) is TrackingStatus.DELIVERED
    assert events[0].location == "San Francisco, CA, US"
    assert events[-1].location == "New York, NY, US"
    # ids are stable: the same event reported again is recognisably the same
    assert [e.carrier_event_id for e in carrier.track(number)] == [
        e.carrier_event_id for e in events
    ]
    assert len({e.carrier_event_id for e in events}) == 4


def test_express_and_overnight_arrive_sooner(carrier, clock):
    express = buy(carrier, key="e", service="express").tracking_number
    overnight = buy(carrier, key="o", service="overnight").tracking_number
    clock.now = T0 + timedelta(hours=8)
    assert statuses(carrier, overnight)[-1] == "delivered"
    assert statuses(carrier, express)[-1] == "out_for_delivery"
    clock.now = T0 + timedelta(hours=12)
    assert statuses(carrier, express)[-1] == "delivered"


def test_tracking_survives_a_restart(path, carrier, clock):
    number = buy(carrier).tracking_number
    clock.now = T0 + timedelta(hours=3)
    restarted = SandboxCarrier(path, clock=clock)
    assert statuses(restarted, number) == ["label_created", "in_transit"]


def test_a_failed_delivery_ends_in_an_exception(carrier, clock):
    number = buy(carrier, to("90210")).tracking_number
    clock.now = T0 + timedelta(days=3)
    events = carrier.track(number)
    assert [e.status for e in events] == ["label_created", "in_transit", "exception"]
    assert "address not found" in events[-1].description


def test_an_unused_label_is_voided_once_and_a_moving_parcel_cannot_be(carrier, clock):
    unused = buy(carrier, key="a").tracking_number
    moving = buy(carrier, key="b").tracking_number
    clock.now = T0 + timedelta(hours=1)
    carrier.void_label(unused)
    carrier.void_label(unused)  # twice is harmless
    events = carrier.track(unused)
    assert [e.status for e in events] == ["label_created", "exception"]
    assert "voided" in events[-1].description
    clock.now = T0 + timedelta(days=2)
    assert statuses(carrier, unused) == ["label_created", "exception"]  # it never moves

    with pytest.raises(LabelNotVoidable) as caught:
        carrier.void_label(moving)
    assert (caught.value.code, caught.value.status) == ("carrier.label_not_voidable", 409)
    assert statuses(carrier, moving)[-1] == "delivered"


def test_an_unknown_tracking_number_is_not_found(carrier):
    with pytest.raises(UnknownTrackingNumber) as caught:
        carrier.track("OT1Z123456789012")
    assert (caught.value.code, caught.value.status) == ("carrier.unknown_tracking_number", 404)
    assert caught.value.details["well_formed"] is True
    with pytest.raises(UnknownTrackingNumber):
        carrier.void_label("nope")


def test_the_configured_carrier_keeps_its_labels_in_the_data_dir(tmp_path):
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        base_currency="EUR",
        public_base_url="https://shop.example/",
    )
    carrier = carrier_for(settings)
    label = buy(carrier)
    assert label.rate.currency == "EUR"
    assert label.tracking_url == f"https://shop.example/track/{label.tracking_number}"
    assert labels_in(tmp_path / "sandbox_carrier.db") == 1


# --- reading the PDF -------------------------------------------------------------------------


def pdf_objects(pdf: bytes) -> dict[int, bytes]:
    """Every object of a PDF by number, found through its cross-reference table (which
    must point exactly at each ``N 0 obj``)."""
    assert pdf.startswith(b"%PDF-1.")
    tail = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf)
    assert tail is not None
    xref = re.compile(rb"xref\s+(\d+) (\d+)\s+").match(pdf, int(tail.group(1)))
    assert xref is not None
    first, count = int(xref.group(1)), int(xref.group(2))
    objects = {}
    for i in range(count):
        entry = pdf[xref.end() + 20 * i : xref.end() + 20 * (i + 1)]
        offset, generation, kind = int(entry[:10]), int(entry[11:16]), entry[17:18]
        if kind != b"n":
            continue
        number = first + i
        assert pdf.startswith(b"%d %d obj" % (number, generation), offset)
        objects[number] = pdf[offset : pdf.index(b"endobj", offset)]
    trailer = pdf[xref.end() + 20 * count :]
    assert re.search(rb"/Size %d\b" % (first + count), trailer)
    return objects


def page_content(pdf: bytes) -> bytes:
    """The decompressed content stream of the PDF's only page."""
    objects = pdf_objects(pdf)
    pages = [o for o in objects.values() if re.search(rb"/Type /Page\b", o)]
    assert len(pages) == 1
    contents = re.search(rb"/Contents (\d+) 0 R", pages[0])
    assert contents is not None
    stream = objects[int(contents.group(1))]
    body = re.search(rb"stream\r?\n(.*)\r?\nendstream", stream, re.S)
    assert body is not None
    return zlib.decompress(body.group(1)) if b"/FlateDecode" in stream else body.group(1)


# Code 39 per ISO/IEC 16388: five bars and four spaces, n(arrow) or w(ide), bar first.
CODE39 = {
    "nnnwwnwnn": "0",
    "wnnwnnnnw": "1",
    "nnwwnnnnw": "2",
    "wnwwnnnnn": "3",
    "nnnwwnnnw": "4",
    "wnnwwnnnn": "5",
    "nnwwwnnnn": "6",
    "nnnwnnwnw": "7",
    "wnnwnnwnn": "8",
    "nnwwnnwnn": "9",
    "wnnnwnnwn": "O",
    "nnnnwnwwn": "T",
    "nwwnwnnnn": "Z",
    "nwnnwnwnn": "*",
}


def decode_code39(content: bytes) -> str:
    """Read the barcode back from the filled rectangles the page draws."""
    bars = sorted(
        (float(x), float(w))
        for x, w in re.findall(rb"([\d.]+) [\d.]+ ([\d.]+) -[\d.]+ re f", content)
    )
    assert len(bars) % 5 == 0
    narrow = min(w for _, w in bars)
    text = []
    for i in range(0, len(bars), 5):
        char = bars[i : i + 5]
        spaces = [char[j + 1][0] - (char[j][0] + char[j][1]) for j in range(4)]
        elements = [char[0][1], spaces[0], char[1][1], spaces[1], char[2][1]]
        elements += [spaces[2], char[3][1], spaces[3], char[4][1]]
        pattern = "".join("w" if e > 2 * narrow else "n" for e in elements)
        text.append(CODE39[pattern])
    return "".join(text)
