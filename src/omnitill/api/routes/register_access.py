"""Register access: enrol a browser as a till, set staff PINs, sign in with a PIN."""

from __future__ import annotations

from fastapi import APIRouter, status

from omnitill.api.deps import CurrentActor, DbDep, SettingsDep
from omnitill.api.schemas.register_access import EnrollmentRead, PinLogin, PinTokenRead, PinUpdate
from omnitill.services import register_access as service

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/registers/{code}/enrollment",
    response_model=EnrollmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a device as this register",
)
def enroll_register(code: str, actor: CurrentActor, db: DbDep) -> EnrollmentRead:
    """Needs locations.write. The device key is shown once; enrolling again replaces it (the
    earlier device can no longer sign in). 404 `register.not_found`, 409 `register.inactive`."""
    done = service.enroll(db=db, actor=actor, register=code)
    return EnrollmentRead(
        register=done.register,
        location=done.location,
        currency=done.currency,
        locale=done.locale,
        device_key=done.device_key,
        enrolled_at=done.enrolled_at,
    )


@router.put(
    "/users/{username}/pin",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a staff member's register PIN",
)
def set_pin(
    username: str, body: PinUpdate, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> None:
    """users.write, or yourself with your `password`. 422 `auth.pin_invalid` (4 to 8 digits),
    `auth.pin_taken` (without saying whose), `auth.password_required`; audited."""
    service.set_pin(
        db=db,
        settings=settings,
        actor=actor,
        username=username,
        pin=body.pin,
        password=body.password,
    )


@router.post("/auth/pin", response_model=PinTokenRead, summary="Sign in with a PIN at a register")
def pin_login(body: PinLogin, db: DbDep, settings: SettingsDep) -> PinTokenRead:
    """Answers like /auth/token. 401 `register.not_enrolled` (unknown register or wrong device
    key), `auth.invalid_pin` (nobody allowed at this store has it); 429
    `auth.too_many_attempts` after repeated failures at the register."""
    done = service.pin_sign_in(
        db=db, settings=settings, register=body.register, device_key=body.device_key, pin=body.pin
    )
    return PinTokenRead(
        access_token=done.token.access_token,
        expires_in=done.token.expires_in,
        username=done.username,
        display_name=done.display_name,
        register=done.register,
        location=done.location,
    )
