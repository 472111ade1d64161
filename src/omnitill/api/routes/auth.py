"""Sign-in, sign-out, who-am-I and manager overrides."""

from __future__ import annotations

from fastapi import APIRouter, status

from omnitill.api.deps import CurrentActor, DbDep, SettingsDep
from omnitill.api.schemas.auth import (
    MeRead,
    OverrideCreate,
    OverrideRead,
    TokenCreate,
    TokenRead,
)
from omnitill.services import auth as auth_service
from omnitill.services import register_access

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", response_model=TokenRead, summary="Sign in and get a bearer token")
def create_token(body: TokenCreate, db: DbDep, settings: SettingsDep) -> TokenRead:
    """401 `auth.invalid_credentials` on a wrong password; 429 `auth.too_many_attempts` after
    repeated failures for one username."""
    issued = auth_service.login(
        db=db, settings=settings, username=body.username, password=body.password
    )
    return TokenRead(access_token=issued.access_token, expires_in=issued.expires_in)


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke the current token"
)
def logout(actor: CurrentActor, db: DbDep) -> None:
    """The token stops working at once."""
    auth_service.logout(db=db, actor=actor)


@router.get("/auth/me", response_model=MeRead, summary="The signed-in staff member")
def me(actor: CurrentActor) -> MeRead:
    """Role, permissions and the locations this token may act on."""
    return MeRead(
        id=str(actor.user_id),
        username=actor.username,
        role=actor.role.value,
        permissions=sorted(p.value for p in actor.permissions),
        locations=None if actor.location_ids is None else sorted(map(str, actor.location_ids)),
    )


@router.post(
    "/overrides",
    response_model=OverrideRead,
    status_code=status.HTTP_201_CREATED,
    summary="A manager authorises one sensitive action",
)
def create_override(
    body: OverrideCreate, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> OverrideRead:
    """Returns a single-use token, valid a few minutes, for the signed-in staff member only.
    The manager proves presence with username and password, or with their PIN at an
    enrolled register (401 `override.invalid_manager`, `register.not_enrolled`)."""
    if body.manager_pin is not None:
        grant = register_access.grant_override_by_pin(
            db=db,
            settings=settings,
            actor=actor,
            register=body.register or "",
            device_key=body.device_key or "",
            manager_pin=body.manager_pin,
            permission=body.permission,
            reason=body.reason,
        )
    else:
        grant = auth_service.grant_override(
            db=db,
            settings=settings,
            actor=actor,
            manager_username=body.manager_username or "",
            manager_password=body.manager_password or "",
            permission=body.permission,
            reason=body.reason,
        )
    return OverrideRead(
        override_token=grant.override_token,
        permission=grant.permission,
        approved_by=grant.approved_by,
        expires_at=grant.expires_at,
    )
