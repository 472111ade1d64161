"""Register access: enrolling a browser as a till, staff PINs, PIN sign-in and manager PINs.

An enrolled register holds a random device key (shown once; only its SHA-256 is stored;
enrolling again replaces it). A PIN is only accepted together with a device key, so four
digits are never enough on their own: the PIN space is small, the device key is not. PINs
are stored as an HMAC under the server's secret (`OMNITILL_SECRET_KEY`), so a PIN finds its
user with one indexed lookup, two staff can never share one, and a database leak alone does
not reveal them. Failed PIN sign-ins are throttled per register like password sign-ins.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Register, User, UserLocation
from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission, Role
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from omnitill.services import audit
from omnitill.services import auth as auth_service

PIN_PATTERN = re.compile(r"[0-9]{4,8}")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def pin_digest(settings: Settings, pin: str) -> str:
    """The stored form of a PIN: HMAC-SHA256 under the server's secret."""
    return hmac.new(settings.secret_key.encode(), b"pin:" + pin.encode(), "sha256").hexdigest()


@dataclass(frozen=True, slots=True)
class Enrollment:
    register: str
    location: str
    currency: str
    locale: str
    device_key: str
    enrolled_at: datetime


def enroll(*, db: Database, actor: Actor, register: str) -> Enrollment:
    """Make a one-time device key for a register (replacing any earlier one), audited."""
    actor.require(Permission.LOCATIONS_WRITE)
    with db.uow() as uow:
        row = uow.session.scalars(select(Register).where(Register.code == register)).one_or_none()
        if row is None:
            raise NotFound("register.not_found", f"no register {register!r}")
        location = uow.session.get_one(Location, row.location_id)
        actor.require_location(location.id, location.code)
        if not row.active:
            raise Conflict("register.inactive", f"register {register} is retired")
        key = "dk_" + secrets.token_urlsafe(32)
        replaced = row.device_key_hash is not None
        row.device_key_hash = _sha256(key)
        row.enrolled_at = utcnow()
        audit.record(
            uow,
            action="register.enrolled",
            actor=actor,
            subject_type="register",
            subject_id=str(row.id),
            details={"register": row.code, "replaced_earlier_device": replaced},
        )
        uow.commit()
        return Enrollment(
            row.code, location.code, location.currency, location.locale, key, row.enrolled_at
        )


def set_pin(
    *,
    db: Database,
    settings: Settings,
    actor: Actor,
    username: str,
    pin: str,
    password: str | None = None,
) -> None:
    """Set a staff member's register PIN: users.write, or the member themself with their
    password. 4 to 8 digits, unique (`auth.pin_taken`, never saying whose)."""
    username = username.strip().lower()
    own = actor.username == username
    if not actor.can(Permission.USERS_WRITE) and not own:
        actor.require(Permission.USERS_WRITE)
    if not PIN_PATTERN.fullmatch(pin):
        raise ValidationFailed(
            "auth.pin_invalid",
            "a PIN is 4 to 8 digits",
            errors=[FieldError("pin", "auth.pin_invalid", "4 to 8 digits")],
        )
    digest = pin_digest(settings, pin)
    with db.uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise NotFound("user.not_found", f"no staff member {username!r}")
        if not actor.can(Permission.USERS_WRITE) and not auth_service.password_matches(
            user.password_hash, password or ""
        ):
            raise ValidationFailed(
                "auth.password_required",
                "confirm your own PIN change with your password",
                errors=[FieldError("password", "auth.password_required", "your password")],
            )
        holder = uow.session.scalar(select(User.id).where(User.pin_lookup == digest))
        if holder is not None and holder != user.id:
            raise ValidationFailed(
                "auth.pin_taken",
                "choose another PIN",
                errors=[FieldError("pin", "auth.pin_taken", "not available")],
            )
        user.pin_lookup = digest
        user.pin_set_at = utcnow()
        audit.record(
            uow,
            action="user.pin_set",
            actor=actor,
            subject_type="user",
            subject_id=str(user.id),
            details={"username": user.username, "by_self": own},
        )
        uow.commit()


def enrolled_register(uow: UnitOfWork, *, register: str, device_key: str) -> Register:
    """The register this device key enrols; 401 `register.not_enrolled` otherwise (the same
    answer for an unknown register, a wrong key, or a retired till)."""
    row = uow.session.scalars(select(Register).where(Register.code == register)).one_or_none()
    if (
        row is None
        or not row.active
        or row.device_key_hash is None
        or not hmac.compare_digest(row.device_key_hash, _sha256(device_key))
    ):
        raise Unauthenticated(
            "register.not_enrolled", "this device is not enrolled as that register"
        )
    return row


@dataclass(frozen=True, slots=True)
class PinSession:
    token: auth_service.IssuedToken
    username: str
    display_name: str
    register: str
    location: str


def _user_by_pin(
    uow: UnitOfWork, *, settings: Settings, row: Register, pin: str
) -> tuple[User, Actor] | None:
    """The active staff member with this PIN who may act at the register's store."""
    user = None
    if PIN_PATTERN.fullmatch(pin):
        user = uow.session.scalars(
            select(User).where(User.pin_lookup == pin_digest(settings, pin))
        ).one_or_none()
    if user is None or not user.active:
        return None
    bound = frozenset(
        uow.session.scalars(
            select(UserLocation.location_id).where(UserLocation.user_id == user.id)
        ).all()
    )
    actor = Actor.build(
        user_id=user.id, username=user.username, role=Role(user.role), bound_locations=bound
    )
    if not actor.may_access(row.location_id):
        return None
    return user, actor


def _throttle_key(register: str) -> str:
    return f"pin:{register}"[:64]


def pin_sign_in(
    *, db: Database, settings: Settings, register: str, device_key: str, pin: str
) -> PinSession:
    """Sign in at an enrolled register with a PIN; answers a bearer token like /auth/token.
    401 `auth.invalid_pin` (audited, counted) for a PIN of nobody allowed at this store;
    429 `auth.too_many_attempts` after repeated failures at this register."""
    now = utcnow()
    key = _throttle_key(register)
    with db.uow() as uow:
        row = enrolled_register(uow, register=register, device_key=device_key)
        throttle = auth_service.refuse_while_locked(uow, key=key, now=now)
        found = _user_by_pin(uow, settings=settings, row=row, pin=pin)
        if found is None:
            auth_service.count_failure(uow, settings, key, throttle, now)
            audit.record(
                uow,
                action="auth.pin_login_failed",
                actor=None,
                subject_type="register",
                subject_id=str(row.id),
                details={"register": row.code},
            )
            uow.commit()
            raise Unauthenticated("auth.invalid_pin", "wrong PIN")
        user, _ = found
        if throttle is not None:
            uow.session.delete(throttle)
        issued = auth_service.issue_token(uow, settings=settings, user_id=user.id, now=now)
        location = uow.session.get_one(Location, row.location_id)
        uow.commit()
        return PinSession(issued, user.username, user.display_name, row.code, location.code)


def grant_override_by_pin(
    *,
    db: Database,
    settings: Settings,
    actor: Actor,
    register: str,
    device_key: str,
    manager_pin: str,
    permission: str,
    reason: str,
) -> auth_service.OverrideGrant:
    """A manager standing at an enrolled register authorises one action with their PIN
    (the same single-use grant as with a password; failures are throttled per register)."""
    perm = auth_service.overridable(permission, reason)
    now = utcnow()
    key = _throttle_key(register)
    with db.uow() as uow:
        row = enrolled_register(uow, register=register, device_key=device_key)
        throttle = auth_service.refuse_while_locked(uow, key=key, now=now)
        found = _user_by_pin(uow, settings=settings, row=row, pin=manager_pin)
        if found is None:
            auth_service.count_failure(uow, settings, key, throttle, now)
            auth_service.refuse_override(
                uow, actor=actor, manager=f"PIN at {row.code}", permission=perm
            )
        manager, _ = found
        grant = auth_service.issue_override(
            uow, settings=settings, actor=actor, manager=manager, permission=perm, reason=reason
        )
        uow.commit()
        return grant


def confirm_pin(
    *, db: Database, settings: Settings, actor: Actor, register: str, device_key: str, pin: str
) -> None:
    """Unlock a locked register: the PIN must be the signed-in staff member's own (401
    `auth.invalid_pin` otherwise, counted like a failed sign-in)."""
    now = utcnow()
    key = _throttle_key(register)
    with db.uow() as uow:
        row = enrolled_register(uow, register=register, device_key=device_key)
        throttle = auth_service.refuse_while_locked(uow, key=key, now=now)
        found = _user_by_pin(uow, settings=settings, row=row, pin=pin)
        if found is None or found[0].id != actor.user_id:
            auth_service.count_failure(uow, settings, key, throttle, now)
            uow.commit()
            raise Unauthenticated("auth.invalid_pin", "wrong PIN")
        if throttle is not None:
            uow.session.delete(throttle)
        uow.commit()
