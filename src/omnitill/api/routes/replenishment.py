"""Replenishment suggestions, reorder settings and stock dispositions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["replenishment"])
