"""NATS JetStream fan-out against the local nats-server (``.ci/run`` starts it): events are
forwarded once each (``Nats-Msg-Id`` dedup), and a JetStream message wakes other hubs."""

from __future__ import annotations

import asyncio
import uuid

import nats

from omnitill.adapters.events.jetstream import subject_for
from omnitill.services import event_relay, events
from omnitill.services.event_hub import RealTime
from tests.integration.test_event_relay_hub import run


def emit(db, topic: str) -> None:
    with db.uow() as uow:
        events.emit(uow, topic=topic, aggregate_type="test", aggregate_id=topic, payload={})
        uow.commit()


async def stored_per_subject(settings, prefix: str) -> dict[str, int]:
    """How many messages the stream holds for each subject under `prefix`."""
    nc = await nats.connect(settings.nats_url)
    try:
        info = await nc.jetstream().stream_info(
            settings.nats_stream, subjects_filter=subject_for(f"{prefix}.>")
        )
        return dict(info.state.subjects or {})
    finally:
        await nc.close()


def test_each_event_is_stored_once_however_often_it_is_published_and_wakes_other_hubs(db, settings):
    nats_settings = settings.model_copy(
        update={"event_fanout": "nats", "event_relay_seconds": 30.0}
    )
    prefix = f"test.n{uuid.uuid4().hex[:12]}"  # the stream is shared: subjects of our own

    async def scenario():
        hub_a = RealTime(db, nats_settings)  # its relay is woken as each emit commits
        hub_b = RealTime(db, nats_settings.model_copy(update={"event_relay_seconds": 0.0}))
        hub_b.hub.poll_seconds = 60  # so only a JetStream message can wake it in time
        await hub_a.start()
        await hub_b.start()
        try:
            assert hub_a.forwarder is not None
            assert hub_a.forwarder.jetstream.connected
            assert hub_b.relay is None
            on_b, _ = await hub_b.hub.subscribe(lambda event: True)
            for name in ("created", "updated", "deleted"):
                await asyncio.to_thread(emit, db, f"{prefix}.{name}")
            async with asyncio.timeout(10):  # numbered by A, forwarded, B woken
                streamed = [(await on_b.queue.get()).seq for _ in range(3)]
            assert streamed == [1, 2, 3]
            await hub_a.forwarder.forward()  # nothing past the cursor: nothing sent again
            published = await asyncio.to_thread(event_relay.read_after, db, after=0)
            again = [
                await hub_a.forwarder.jetstream.publish(
                    event_id=str(event.id), topic=event.topic, body=b"{}"
                )
                for event in published
            ]
            return again, await stored_per_subject(nats_settings, prefix)
        finally:
            await hub_b.stop()
            await hub_a.stop()

    again, stored = run(scenario)
    assert again == [False, False, False]  # JetStream recognised each id: duplicates
    assert stored == {subject_for(f"{prefix}.{n}"): 1 for n in ("created", "updated", "deleted")}
    assert event_relay.cursor_position(db, name=f"nats:{settings.nats_stream}") == 3
