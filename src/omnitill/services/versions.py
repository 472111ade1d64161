"""Version stamps of the reference data processes cache: one row per cache in
`catalog_versions`, given a new UUIDv7 in the same transaction as every write to what it
covers. A process reads all stamps in one query per request and rebuilds a cache only when
its stamp moved, so any number of processes stay consistent with no clock and no messaging.

- `promotions`: the promotion catalog;
- `pricing`: price lists and entries, exchange rates, price roundings, tax jurisdictions and
  their components, collections and their products.

Data written around the services (raw SQL, a restore) needs `touch` to be seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import CatalogVersion
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.ids import uuid7
from omnitill.services import audit

PROMOTIONS = "promotions"
PRICING = "pricing"


def touch(uow: UnitOfWork, name: str) -> None:
    """Give the cache `name` a new stamp, in the caller's transaction."""
    values = {"name": name, "stamp": uuid7(), "changed_at": utcnow()}
    upsert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    stmt = upsert(CatalogVersion).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"], set_={"stamp": values["stamp"], "changed_at": values["changed_at"]}
    )
    uow.session.execute(stmt)


def stamps(uow: UnitOfWork) -> dict[str, uuid.UUID]:
    """Every cache's current stamp (a cache never written has none)."""
    rows = uow.session.execute(select(CatalogVersion.name, CatalogVersion.stamp))
    return {name: stamp for name, stamp in rows}


def record_change(
    uow: UnitOfWork,
    name: str,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    details: Mapping[str, object],
) -> None:
    """A write to cached reference data: audited, and the cache's stamp moved, together."""
    touch(uow, name)
    audit.record(
        uow,
        action=action,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        details=dict(details),
    )
