"""The outbox relay: every committed event gets one sequence number, in commit order, with no
gap, however many emitters and relays run at once; and the wake-ups that make it prompt."""

from __future__ import annotations

import threading

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.services import event_relay, events
from omnitill.services.event_relay import TopicFilter


def emit(db, topic="sale.completed", *, locations=(), channel=None, commit=True):
    with db.uow() as uow:
        events.emit(
            uow,
            topic=topic,
            aggregate_type="test",
            aggregate_id=topic,
            payload={"n": 1},
            locations=locations,
            channel=channel,
        )
        if commit:
            uow.commit()


def test_concurrent_emitters_and_two_relays_number_every_event_once_without_gaps(db):
    emitters, per_emitter = 6, 20
    total = emitters * per_emitter
    done = threading.Event()
    failures: list[BaseException] = []
    seen_by_reader: list[int] = []

    def emitter(n: int) -> None:
        try:
            for i in range(per_emitter):
                emit(db, f"test.e{n}.i{i}")
        except BaseException as exc:  # reported below: a thread cannot fail the test
            failures.append(exc)

    def relay() -> None:
        try:
            while not done.is_set() or event_relay.publish_pending(db, limit=7):
                event_relay.publish_pending(db, limit=7)  # small batches: more interleaving
        except BaseException as exc:
            failures.append(exc)

    def reader() -> None:
        """A consumer resuming from its position never sees a gap: numbers only become
        visible in order."""
        try:
            position = 0
            while position < total:
                for event in event_relay.read_after(db, after=position, limit=50):
                    assert event.seq == position + 1, (event.seq, position)
                    position = event.seq
                    seen_by_reader.append(event.seq)
        except BaseException as exc:
            failures.append(exc)

    producers = [threading.Thread(target=emitter, args=(n,)) for n in range(emitters)]
    consumers = [threading.Thread(target=relay) for _ in range(2)]
    readers = [threading.Thread(target=reader)]
    for thread in producers + consumers + readers:
        thread.start()
    for thread in producers:
        thread.join(60)
    done.set()
    for thread in consumers + readers:
        thread.join(60)
    assert not failures, failures
    published = event_relay.read_after(db, after=0, limit=1000)
    assert [e.seq for e in published] == list(range(1, total + 1))
    assert len({e.id for e in published}) == total
    assert sorted(e.topic for e in published) == sorted(
        f"test.e{n}.i{i}" for n in range(emitters) for i in range(per_emitter)
    )
    assert seen_by_reader == list(range(1, total + 1))
    assert event_relay.last_seq(db) == total
    assert event_relay.publish_pending(db) == 0


def test_each_emitter_events_keep_their_commit_order(db):
    for i in range(5):
        emit(db, f"test.order.{i}")
    assert event_relay.publish_pending(db) == 5
    emit(db, "test.order.late")
    assert event_relay.publish_pending(db) == 6
    topics = [e.topic for e in event_relay.read_after(db, after=0)]
    assert topics == [f"test.order.{i}" for i in range(5)] + ["test.order.late"]
    assert [e.topic for e in event_relay.read_after(db, after=5)] == ["test.order.late"]


def test_a_rolled_back_transaction_leaves_no_event_and_wakes_no_relay(db):
    calls: list[int] = []
    stop = events.on_commit(lambda: calls.append(1))
    try:
        emit(db, "test.rolled_back", commit=False)
        assert calls == []
        emit(db, "test.kept")
        assert calls == [1]
        with db.uow() as uow:  # a commit that emitted nothing wakes nobody
            uow.commit()
        assert calls == [1]
    finally:
        stop()
    emit(db, "test.after_stop")
    assert calls == [1]
    assert event_relay.publish_pending(db) == 2
    assert [e.topic for e in event_relay.read_after(db, after=0)] == [
        "test.kept",
        "test.after_stop",
    ]


def test_envelope_carries_what_streams_and_webhooks_send(db):
    emit(db, "reservation.created", locations=["S02", "S01", "S01"], channel="web")
    event_relay.publish_pending(db)
    (event,) = event_relay.read_after(db, after=0)
    envelope = event.envelope()
    assert envelope["seq"] == 1
    assert envelope["type"] == "reservation.created"
    assert envelope["locations"] == ["S01", "S02"]
    assert envelope["channel"] == "web"
    assert envelope["data"] == {"n": 1}
    assert envelope["id"] == str(event.id)
    assert envelope["occurred_at"].endswith("+00:00")


def test_topic_patterns_match_exact_names_and_dotted_prefixes(db):
    names = [
        "order.placed",
        "order.line.cancelled",
        "orders.imported",
        "order_x.y",
        "orderAx.y",
        "sale.completed",
    ]
    for name in names:
        emit(db, name)
    event_relay.publish_pending(db)

    def read(*patterns: str) -> list[str]:
        wanted = TopicFilter.parse(patterns)
        from_db = [e.topic for e in event_relay.read_after(db, after=0, topics=wanted)]
        assert from_db == [n for n in names if wanted.matches(n)]  # SQL and Python agree
        return from_db

    assert read("order.*") == ["order.placed", "order.line.cancelled"]
    assert read("order_x.*") == ["order_x.y"]  # `_` is not a LIKE wildcard here
    assert read("sale.completed", "orders.*") == ["orders.imported", "sale.completed"]
    assert read() == names
    assert [e.topic for e in event_relay.read_after(db, after=0, topics={"order.placed"})] == [
        "order.placed"
    ]


def test_invalid_topic_patterns_are_refused_all_at_once():
    with pytest.raises(ValidationFailed) as refused:
        TopicFilter.parse(["order.*", "*", "order..placed", "sale.%", "ok.topic"])
    assert refused.value.code == "events.invalid_topic"
    assert [e.message.split(" ")[0] for e in refused.value.errors] == [
        "'*'",
        "'order..placed'",
        "'sale.%'",
    ]


def test_consumer_cursor_only_moves_forward(db):
    assert event_relay.cursor_position(db, name="test") is None
    event_relay.advance_cursor(db, name="test", seq=0)
    assert event_relay.cursor_position(db, name="test") == 0
    event_relay.advance_cursor(db, name="test", seq=5)
    event_relay.advance_cursor(db, name="test", seq=3)
    assert event_relay.cursor_position(db, name="test") == 5
    event_relay.advance_cursor(db, name="test", seq=9)
    assert event_relay.cursor_position(db, name="test") == 9
    assert event_relay.cursor_position(db, name="other") is None
