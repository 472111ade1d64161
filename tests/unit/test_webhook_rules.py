from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.integrations.webhook_rules import (
    EXCERPT_CHARS,
    MAX_EVENT_TYPES,
    check_known,
    clean_event_types,
    disabled_reason,
    due_for_disabling,
    excerpt,
    is_success,
)


def test_event_types_are_stripped_deduplicated_and_sorted():
    assert clean_event_types([" sale.completed", "order.*", "sale.completed"]) == (
        "order.*",
        "sale.completed",
    )
    assert clean_event_types([]) == ()


def test_malformed_event_types_are_each_named():
    with pytest.raises(ValidationFailed) as err:
        clean_event_types(["sale.completed", "Sale.*", "*", "order", "order.*.x"])
    assert err.value.code == "webhook.invalid_event_type"
    assert [e.field for e in err.value.errors] == [
        "event_types.1",
        "event_types.2",
        "event_types.3",
        "event_types.4",
    ]
    with pytest.raises(ValidationFailed) as err:
        clean_event_types([f"sale.t{n}" for n in range(MAX_EVENT_TYPES + 1)])
    assert err.value.code == "webhook.too_many_event_types"


def test_event_types_must_name_a_known_topic_or_family():
    check_known(["sale.completed", "order.*", "reservation.expired"])
    check_known(["loyalty.points_earned", "loyalty.*"], seen={"loyalty.points_earned"})
    with pytest.raises(ValidationFailed) as err:
        check_known(["sale.completed", "sale.refunded", "loyalty.*"])
    assert err.value.code == "webhook.unknown_event_type"
    assert err.value.details["unknown"] == ["sale.refunded", "loyalty.*"]
    assert [e.field for e in err.value.errors] == ["event_types.1", "event_types.2"]


@pytest.mark.parametrize(
    ("code", "ok"), [(200, True), (204, True), (299, True), (301, False), (500, False)]
)
def test_only_a_2xx_answer_delivers(code, ok):
    assert is_success(code) is ok
    assert is_success(None) is False


def test_an_endpoint_is_disabled_once_it_has_failed_for_the_limit():
    since = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    limit = timedelta(hours=72)
    assert not due_for_disabling(None, now=since + limit * 2, after=limit)
    assert not due_for_disabling(since, now=since + limit - timedelta(seconds=1), after=limit)
    assert due_for_disabling(since, now=since + limit, after=limit)
    assert disabled_reason(since, limit).startswith(
        "every attempt failed for 72 hours (since 2026-03-01 09:00 UTC)"
    )
    assert len(disabled_reason(since, timedelta(hours=0.5))) <= 200


def test_the_log_keeps_the_first_500_characters_of_an_answer():
    assert excerpt("x" * 2000) == "x" * EXCERPT_CHARS
    assert excerpt("short") == "short"
