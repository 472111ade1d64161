"""The live event stream over real HTTP: an API call's event arrives, filters by location,
channel and topic, resuming by Last-Event-ID, stores a user is bound to, bad requests, and
the JSON page for polling clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from omnitill.services import event_relay, events
from tests.factories import make_location, make_variant, token_for


@pytest.fixture
def settings(settings):
    """Heartbeats every 0.2 s, so a quiet stream still says something within a test."""
    return settings.model_copy(update={"sse_heartbeat_seconds": 0.2})


@dataclass
class Message:
    id: str | None = None
    event: str | None = None
    data: str | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def envelope(self) -> dict:
        assert self.data is not None
        return json.loads(self.data)


class EventStream:
    """A small server-sent events reader (what an EventSource does) over an httpx stream."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def next(self) -> Message | None:
        """The next message; None when the server ended the stream."""
        message = Message()
        for line in self._lines:
            if not line:
                return message
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if not name:
                message.comments.append(value)
            elif name in ("id", "event", "data"):
                setattr(message, name, value)
        return None

    def until_live(self) -> tuple[list[Message], str]:
        """The replayed events, and the id the stream says it is live at."""
        replayed = []
        while (message := self.next()) is not None:
            if "live" in message.comments:
                assert message.id is not None
                return replayed, message.id
            if message.event:
                replayed.append(message)
        raise AssertionError("the stream ended before going live")

    def next_event(self) -> Message:
        """The next event, skipping heartbeats."""
        while (message := self.next()) is not None:
            if message.event:
                return message
            assert message.comments == ["heartbeat"], message
        raise AssertionError("the stream ended")


@contextmanager
def streaming(http: httpx.Client, **kwargs) -> Iterator[EventStream]:
    """`GET /api/v1/events/stream` held open for the with-block."""
    with http.stream("GET", "/api/v1/events/stream", **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


def emit(db, topic: str, locations=(), channel=None) -> None:
    with db.uow() as uow:
        events.emit(
            uow,
            topic=topic,
            aggregate_type="test",
            aggregate_id=topic,
            payload={"topic": topic},
            locations=locations,
            channel=channel,
        )
        uow.commit()


def seqs(messages: list[Message]) -> list[int]:
    return [int(m.id or 0) for m in messages]


def test_a_store_stream_receives_the_reservation_an_api_call_makes(live_server, db, settings):
    s01 = make_location(db, "S01")
    make_location(db, "S02")
    make_variant(db, sku="TEE", stock={s01: 5})
    headers = token_for(db, settings, "m1", "manager", ["S01"])
    with (
        httpx.Client(base_url=live_server, headers=headers, timeout=10) as http,
        streaming(http, params={"location": "S01", "topics": "reservation.*"}) as events_,
    ):
        replayed, live_at = events_.until_live()
        assert replayed == []
        assert live_at == "0"
        made = http.post(
            "/api/v1/reservations",
            json={
                "reference": {"type": "order", "id": "W-1"},
                "location": "S01",
                "lines": [{"sku": "TEE", "quantity": 2}],
            },
        )
        assert made.status_code == 201, made.text
        message = events_.next_event()
    assert message.id == "1"
    assert message.event == "reservation.created"
    envelope = message.envelope
    assert envelope["seq"] == 1
    assert envelope["type"] == "reservation.created"
    assert envelope["aggregate_id"] == made.json()["id"]
    assert envelope["data"]["lines"] == [{"sku": "TEE", "quantity": 2}]
    page = http_page(live_server, headers, after=0)
    assert [item["id"] for item in page["items"]] == [envelope["id"]]


def http_page(base_url: str, headers: dict, **params) -> dict:
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
        answer = http.get("/api/v1/events", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


FIXTURE_EVENTS = [  # seq: topic, locations, channel
    ("order.placed", ["S01"], "web"),  # 1
    ("order.placed", ["S02"], "web"),  # 2
    ("order.placed", ["S01"], "marketplace"),  # 3
    ("sale.completed", ["S01"], "in_store"),  # 4
    ("catalog.changed", [], None),  # 5: estate-wide
    ("order.ready_for_pickup", ["S01", "S02"], "web"),  # 6
]


LIVE_EVENTS = [  # sent once the stream is live
    ("order.placed", ["S03"], "social"),  # 7: another store, another channel
    ("order.placed", ["S01"], "web"),  # 8
    ("order.placed", [], None),  # 9: estate-wide, no channel: passes every filter below
]


@pytest.mark.parametrize(
    ("params", "replayed", "live"),
    [
        ({"location": "S01"}, [1, 3, 4, 5, 6], [8, 9]),
        ({"location": "S02", "channel": "web"}, [2, 5, 6], [9]),
        ({"topics": "order.*"}, [1, 2, 3, 6], [7, 8, 9]),
        (
            {
                "location": "S01,S02",
                "channel": ["web", "in_store"],
                "topics": "order.*,sale.completed",
            },
            [1, 2, 4, 6],
            [8, 9],
        ),
        ({"channel": "marketplace", "topics": "order.placed"}, [3], [9]),
        ({}, [1, 2, 3, 4, 5, 6], [7, 8, 9]),
    ],
)
def test_streams_filter_by_location_channel_and_topic(
    live_server, db, settings, params, replayed, live
):
    make_location(db, "S01")
    make_location(db, "S02")
    headers = token_for(db, settings, "admin1", "admin")
    for topic, locations, channel in FIXTURE_EVENTS:
        emit(db, topic, locations, channel)
    event_relay.publish_pending(db)
    with (
        httpx.Client(base_url=live_server, headers=headers, timeout=10) as http,
        streaming(http, params={**params, "last_event_id": "0"}) as events_,
    ):
        from_db, live_at = events_.until_live()
        assert seqs(from_db) == replayed
        # live at the last event examined: the last replayed one or later (the hub may
        # not have read the later, filtered-out ones yet)
        assert replayed[-1] <= int(live_at) <= 6
        for topic, locations, channel in LIVE_EVENTS:
            emit(db, topic, locations, channel)
        received = [int(events_.next_event().id or 0)]
        while received[-1] != 9:
            received.append(int(events_.next_event().id or 0))
    assert received == live
    page = http_page(live_server, headers, **params)
    assert [item["seq"] for item in page["items"]] == replayed + live


def test_resuming_with_last_event_id_gets_exactly_the_missed_events(live_server, db, settings):
    headers = token_for(db, settings, "admin1", "admin")
    for i in range(5):
        emit(db, f"test.e{i}")
    event_relay.publish_pending(db)
    with httpx.Client(base_url=live_server, headers=headers, timeout=10) as http:
        with streaming(http, headers={"Last-Event-ID": "2"}) as events_:
            replayed, live_at = events_.until_live()
            assert seqs(replayed) == [3, 4, 5]
            assert live_at == "5"
            emit(db, "test.e5")
            emit(db, "test.e6")
            assert [events_.next_event().id for _ in range(2)] == ["6", "7"]
        # the client was away after 6: it gets 7 and nothing twice
        with streaming(http, headers={"Last-Event-ID": "6"}) as events_:
            replayed, live_at = events_.until_live()
            assert seqs(replayed) == [7]
            assert live_at == "7"
        # without the header (no EventSource), the query parameter does the same
        with streaming(http, params={"last_event_id": "4"}) as events_:
            assert seqs(events_.until_live()[0]) == [5, 6, 7]
        # a client ahead of this server (it was on a faster one) is not moved back
        with streaming(http, headers={"Last-Event-ID": "9"}) as events_:
            replayed, live_at = events_.until_live()
            assert (replayed, live_at) == ([], "9")
            emit(db, "test.e7")  # 8: already seen by this client: not sent again
            emit(db, "test.e8")
            emit(db, "test.e9")
            assert events_.next_event().id == "10"
        # no id: it starts with what happens next; quiet streams send heartbeats
        with streaming(http) as events_:
            replayed, live_at = events_.until_live()
            assert (replayed, live_at) == ([], "10")
            heartbeat = events_.next()
            assert heartbeat is not None
            assert heartbeat.comments == ["heartbeat"]


def test_a_store_bound_cashier_receives_only_their_store_and_cannot_ask_for_another(
    live_server, db, settings
):
    make_location(db, "S01")
    make_location(db, "S02")
    headers = token_for(db, settings, "cashier1", "cashier", ["S01"])
    for topic, locations, channel in FIXTURE_EVENTS:
        emit(db, topic, locations, channel)
    event_relay.publish_pending(db)
    with httpx.Client(base_url=live_server, headers=headers, timeout=10) as http:
        for asked in ("S02", "S01,S02"):
            refused = http.get("/api/v1/events/stream", params={"location": asked})
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "auth.location_forbidden"
            assert http.get("/api/v1/events", params={"location": asked}).status_code == 403
        with streaming(http, params={"last_event_id": "0"}) as events_:
            assert seqs(events_.until_live()[0]) == [1, 3, 4, 5, 6]  # never 2 (S02 only)
            emit(db, "order.placed", ["S02"], "web")  # 7: not for this cashier
            emit(db, "order.placed", ["S01"], "web")  # 8
            assert events_.next_event().id == "8"
    assert [i["seq"] for i in http_page(live_server, headers)["items"]] == [1, 3, 4, 5, 6, 8]


@pytest.mark.parametrize(
    ("params", "headers", "status", "code"),
    [
        ({"topics": "order.**"}, {}, 422, "events.invalid_topic"),
        ({}, {"Last-Event-ID": "abc"}, 422, "events.invalid_position"),
        ({"last_event_id": "-1"}, {}, 422, "events.invalid_position"),
        ({"location": "NOPE"}, {}, 422, "location.not_found"),
        ({"channel": "telex"}, {}, 422, "channel.not_found"),
        ({}, {"Authorization": "Bearer nope"}, 401, None),
    ],
)
def test_bad_stream_requests_answer_problems(
    live_server, db, settings, params, headers, status, code
):
    auth = token_for(db, settings, "admin1", "admin")
    with httpx.Client(base_url=live_server, headers=auth, timeout=10) as http:
        answer = http.get("/api/v1/events/stream", params=params, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    if code:
        assert answer.json()["code"] == code


def test_polling_clients_page_through_published_events(live_server, db, settings):
    headers = token_for(db, settings, "admin1", "admin")
    for i in range(5):
        emit(db, "order.placed" if i % 2 else "sale.completed")
    event_relay.publish_pending(db)
    first = http_page(live_server, headers, after=0, limit=2)
    assert [i["seq"] for i in first["items"]] == [1, 2]
    assert first["next_after"] == 2
    assert first["has_more"] is True
    rest = http_page(live_server, headers, after=first["next_after"], limit=50)
    assert [i["seq"] for i in rest["items"]] == [3, 4, 5]
    assert rest["has_more"] is False
    orders = http_page(live_server, headers, after=0, topics="order.*")
    assert [i["seq"] for i in orders["items"]] == [2, 4]
    assert orders["items"][0]["type"] == "order.placed"
    assert http_page(live_server, headers, after=5)["items"] == []
    with httpx.Client(base_url=live_server, headers=headers, timeout=10) as http:
        assert http.get("/api/v1/events", params={"limit": 0}).json()["code"] == (
            "pagination.invalid_limit"
        )
        assert http.get("/api/v1/events", params={"after": -1}).json()["code"] == (
            "events.invalid_position"
        )
