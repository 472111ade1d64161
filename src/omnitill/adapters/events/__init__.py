"""Event transports between hub processes: PostgreSQL LISTEN/NOTIFY and NATS JetStream.

Both only wake processes up: the events themselves are always read from the outbox table
(services/event_relay.py), so a lost notification delays an event, never loses it.
"""
