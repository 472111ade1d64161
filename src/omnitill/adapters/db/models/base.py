"""Declarative base and the column conventions every table shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import MetaData, Table, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from omnitill.adapters.db.types import UTCDateTime, utcnow
from omnitill.domain.ids import uuid7

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {uuid.UUID: Uuid(), datetime: UTCDateTime()}


def id_column() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid7)


def created_column() -> Mapped[datetime]:
    return mapped_column(default=utcnow)


def updated_column() -> Mapped[datetime]:
    return mapped_column(default=utcnow, onupdate=utcnow)


def table(model: type[Base]) -> Table:
    """The Core table of a model, for prebuilt statements on hot paths (no ORM plugin)."""
    return cast(Table, model.__table__)
