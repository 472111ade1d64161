"""The hub of one process: one database read per wake-up for all its streams, slow streams
cut off without holding up the others, and replay joining the live feed without a gap or a
duplicate while events keep arriving."""

from __future__ import annotations

import asyncio
import threading

from omnitill.services import event_relay, events
from omnitill.services.event_hub import EventHub, StreamItem
from omnitill.services.event_stream import HEARTBEAT, EventFilter, Live, follow


def run(scenario):
    """`asyncio.run(scenario())` in a thread of its own: a session-wide Playwright (the
    browser tests) keeps an event loop running in the main thread, where asyncio.run
    refuses to start."""
    outcome = {}

    def target():
        try:
            outcome["value"] = asyncio.run(scenario())
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def emit_and_publish(db, count: int, *, prefix: str = "test", location: str | None = None):
    for i in range(count):
        with db.uow() as uow:
            events.emit(
                uow,
                topic=f"{prefix}.e{i}",
                aggregate_type="test",
                aggregate_id=str(i),
                payload={"i": i},
                locations=[location] if location else (),
            )
            uow.commit()
    return event_relay.publish_pending(db)


async def drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_one_read_serves_every_stream_and_a_slow_one_is_cut_off(db):
    async def scenario():
        hub = EventHub(db, poll_seconds=30, buffer=5)
        await hub.start()
        try:
            fast = [(await hub.subscribe(lambda e: True))[0] for _ in range(3)]
            slow, _ = await hub.subscribe(lambda e: True)
            s01_only, _ = await hub.subscribe(lambda e: "S01" in e.locations)
            await asyncio.to_thread(emit_and_publish, db, 4)
            await asyncio.to_thread(emit_and_publish, db, 1, prefix="s01", location="S01")
            reads = hub.reads
            hub.wake()
            delivered = [await drain(sub.queue) for sub in fast]  # the fast ones keep up
            while hub.reads == reads:
                await asyncio.sleep(0.01)
                delivered = [
                    d + await drain(sub.queue) for d, sub in zip(delivered, fast, strict=True)
                ]
            assert hub.reads == reads + 1  # one query, whatever the number of streams
            assert [[i.seq for i in d] for d in delivered] == [[1, 2, 3, 4, 5]] * 3
            assert [i.seq for i in await drain(s01_only.queue)] == [5]
            assert slow.queue.qsize() == 5
            assert not slow.closed

            await asyncio.to_thread(emit_and_publish, db, 2, prefix="more")
            hub.wake()
            while hub.position < 7:
                await asyncio.sleep(0.01)
            assert slow.overflowed
            assert slow.closed
            assert await drain(slow.queue) == [None]  # its stream ends; its client resumes
            assert [[i.seq for i in await drain(sub.queue)] for sub in fast] == [[6, 7]] * 3
            assert hub.subscribers == 4  # the slow one is gone, the others stay
        finally:
            await hub.stop()
        return fast

    fast = run(scenario)
    assert all(sub.closed for sub in fast)  # stopping the hub ends every stream


def test_replay_joins_the_live_feed_without_gap_or_duplicate_while_events_arrive(db):
    emit_and_publish(db, 30)  # history the stream replays
    total = 150

    def keep_publishing(stop: threading.Event) -> None:
        made = 30
        while made < total:
            emit_and_publish(db, 5, prefix=f"live{made}")
            made += 5
        stop.set()

    async def scenario():
        hub = EventHub(db, poll_seconds=0.05)
        await hub.start()
        stop = threading.Event()
        producer = asyncio.create_task(asyncio.to_thread(keep_publishing, stop))
        received: list[int] = []
        lives: list[int] = []
        stream = follow(hub=hub, db=db, event_filter=EventFilter(), after=10, heartbeat_seconds=0.2)
        try:
            async with asyncio.timeout(60):
                async for item in stream:
                    if isinstance(item, Live):
                        lives.append(item.position)
                    elif isinstance(item, StreamItem):
                        received.append(item.seq)
                        if item.seq == total:
                            break
        finally:
            await stream.aclose()
            await producer
            await hub.stop()
        return received, lives, hub.subscribers

    received, lives, left = run(scenario)
    assert received == list(range(11, total + 1))
    assert len(lives) == 1
    assert 10 <= lives[0] <= total
    assert left == 0  # a closed stream unsubscribes


def test_a_quiet_stream_sends_heartbeats_and_shutdown_ends_it(db):
    async def scenario():
        hub = EventHub(db, poll_seconds=30)
        await hub.start()
        items = []
        stream = follow(
            hub=hub, db=db, event_filter=EventFilter(), after=None, heartbeat_seconds=0.05
        )
        async with asyncio.timeout(10):
            async for item in stream:
                items.append(item)
                if items.count(HEARTBEAT) == 2:
                    hub.shut()
        late = [
            i
            async for i in follow(
                hub=hub, db=db, event_filter=EventFilter(), after=None, heartbeat_seconds=5
            )
        ]
        await hub.stop()
        return items, late

    items, late = run(scenario)
    assert items == [Live(0), HEARTBEAT, HEARTBEAT]
    assert late == [Live(0)]  # a stream opened while shutting down ends at once
