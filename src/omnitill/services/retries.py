"""Rerun a whole transaction that PostgreSQL aborted for a serialization failure or deadlock.

Such an abort says nothing about the request, only about its timing, so a client should
never see it: the use case runs again from the start (a fresh unit of work) a few times, with
a short randomised pause so the rivals do not collide again in step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from omnitill.adapters.db.repositories.stock import is_transient

T = TypeVar("T")
ATTEMPTS = 5


def run_retrying(work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """`work()` (which opens and commits its own unit of work), rerun on transient aborts."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter, not crypto)
    raise AssertionError("unreachable")
