"""The retailer's return policy: read by any staff member, replaced by admins and managers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from omnitill.api.deps import CurrentActor, DbDep, SettingsDep, require
from omnitill.api.schemas.return_settings import ReturnSettingsRead, ReturnSettingsUpdate
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import return_settings as service

router = APIRouter(prefix="/api/v1/returns", tags=["returns"])

PolicyWriter = Annotated[Actor, Depends(require(Permission.RETURNS_POLICY))]


@router.get("/policy", response_model=ReturnSettingsRead, summary="Get the return policy")
def get_policy(_actor: CurrentActor, db: DbDep, settings: SettingsDep) -> ReturnSettingsRead:
    """Return windows and rules, fraud-check limits and refund routing (defaults until saved)."""
    return _read(service.get(db=db, currency=settings.base_currency))


@router.put("/policy", response_model=ReturnSettingsRead, summary="Replace the return policy")
def put_policy(
    body: ReturnSettingsUpdate, actor: PolicyWriter, db: DbDep, settings: SettingsDep
) -> ReturnSettingsRead:
    """Fields left out take their defaults. 422 `returns.invalid_policy` naming each field
    (`policy.default_window_days`, `risk.card_limit`, `refunds.fallback`, ...); audited."""
    view = service.save(
        db=db,
        actor=actor,
        document=body.model_dump(mode="json"),
        currency=settings.base_currency,
    )
    return _read(view)


def _read(view: service.SettingsView) -> ReturnSettingsRead:
    return ReturnSettingsRead.model_validate(
        {
            **service.to_json(view.settings),
            "updated_at": view.updated_at,
            "updated_by": view.updated_by,
        }
    )
