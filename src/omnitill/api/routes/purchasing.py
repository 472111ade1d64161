"""Suppliers, purchase orders and goods receipts against them."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["purchasing"])
