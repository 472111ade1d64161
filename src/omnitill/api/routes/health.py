"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from omnitill.api.deps import DbDep
from omnitill.services.database import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: 200 while the process is up")
def healthz() -> dict[str, str]:
    """Answers without touching the database."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: 200 when the database answers")
def readyz(db: DbDep) -> dict[str, str]:
    """503 `health.database_unavailable` when the database does not answer."""
    readiness(db)
    return {"status": "ready", "database": db.dialect}
