"""Staff sign-in, bearer tokens, throttling, and manager overrides.

Tokens are random 256-bit strings; only their SHA-256 is stored, so they can be revoked
(logout) and a leaked database holds no usable session. Passwords are argon2id hashes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    ApiToken,
    Location,
    LoginThrottle,
    ManagerOverride,
    User,
    UserLocation,
    table,
)
from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import MIN_PASSWORD_LENGTH, SENSITIVE, Permission, Role
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from omnitill.services import audit

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("omnitill-dummy-password")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    expires_at: datetime


def hash_password(password: str) -> str:
    """Argon2id hash of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "auth.password_too_short",
            f"passwords need at least {MIN_PASSWORD_LENGTH} characters",
            errors=[
                FieldError("password", "auth.password_too_short", f"min {MIN_PASSWORD_LENGTH}")
            ],
        )
    return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` (an argon2 hash) was made from."""
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_user(
    *,
    db: Database,
    username: str,
    password: str,
    role: str,
    location_codes: list[str] | None = None,
    display_name: str = "",
    actor: Actor | str | None = None,
) -> User:
    """Create a staff member bound to `location_codes` (idempotent callers check first)."""
    try:
        role_enum = Role(role)
    except ValueError as exc:
        raise ValidationFailed(
            "auth.unknown_role",
            f"unknown role {role!r}",
            {"roles": [r.value for r in Role]},
            errors=[FieldError("role", "auth.unknown_role", "not a role")],
        ) from exc
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise ValidationFailed(
            "auth.invalid_username",
            "username must be 1 to 64 characters",
            errors=[FieldError("username", "auth.invalid_username", "1..64 characters")],
        )
    password_hash = hash_password(password)
    with db.uow() as uow:
        if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict("auth.username_taken", f"username {username!r} is taken")
        locations = locations_by_code(uow, location_codes or [])
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            role=role_enum.value,
        )
        uow.session.add(user)
        uow.session.flush()
        for loc in locations:
            uow.session.add(UserLocation(user_id=user.id, location_id=loc.id))
        audit.record(
            uow,
            action="user.created",
            actor=actor,
            subject_type="user",
            subject_id=str(user.id),
            details={
                "username": username,
                "role": role_enum.value,
                "locations": sorted(loc.code for loc in locations),
            },
        )
        uow.commit()
        return user


def locations_by_code(uow: UnitOfWork, codes: list[str]) -> list[Location]:
    if not codes:
        return []
    found = uow.session.scalars(select(Location).where(Location.code.in_(codes))).all()
    missing = sorted(set(codes) - {loc.code for loc in found})
    if missing:
        raise ValidationFailed(
            "location.not_found",
            f"unknown location(s): {', '.join(missing)}",
            {"locations": missing},
            errors=[FieldError("locations", "location.not_found", ", ".join(missing))],
        )
    return list(found)


def login(*, db: Database, settings: Settings, username: str, password: str) -> IssuedToken:
    """Exchange a username and password for a bearer token, throttling repeated failures."""
    username = username.strip().lower()
    now = utcnow()
    with db.uow() as uow:
        throttle = refuse_while_locked(uow, key=username, now=now)
        user = uow.session.scalars(select(User).where(User.username == username)).one_or_none()
        ok = password_matches(user.password_hash if user else _DUMMY_HASH, password)
        if not ok or user is None or not user.active:
            count_failure(uow, settings, username, throttle, now)
            audit.record(
                uow,
                action="auth.login_failed",
                actor=None,
                subject_type="user",
                subject_id=None,
                details={"username": username},
            )
            uow.commit()
            raise Unauthenticated("auth.invalid_credentials", "wrong username or password")
        if throttle is not None:
            uow.session.delete(throttle)
        issued = issue_token(uow, settings=settings, user_id=user.id, now=now)
        uow.commit()
    return issued


def refuse_while_locked(uow: UnitOfWork, *, key: str, now: datetime) -> LoginThrottle | None:
    """The failure count of a sign-in key (a username, or a register for PIN sign-ins);
    429 `auth.too_many_attempts` while it is locked out."""
    throttle = uow.session.get(LoginThrottle, key)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        wait = int((throttle.locked_until - now).total_seconds()) + 1
        raise TooManyRequests(
            "auth.too_many_attempts",
            "too many failed sign-ins; try again later",
            {"retry_after": wait},
        )
    return throttle


def issue_token(
    uow: UnitOfWork, *, settings: Settings, user_id: uuid.UUID, now: datetime
) -> IssuedToken:
    """A new bearer token for the user, stored as its digest in the caller's transaction."""
    raw = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=settings.token_ttl_seconds)
    uow.session.add(ApiToken(user_id=user_id, token_hash=_sha256(raw), expires_at=expires))
    return IssuedToken(raw, settings.token_ttl_seconds, expires)


def count_failure(
    uow: UnitOfWork,
    settings: Settings,
    username: str,
    throttle: LoginThrottle | None,
    now: datetime,
) -> None:
    """Count one failed sign-in for the key; past the limit it is locked for a while."""
    window = timedelta(seconds=settings.login_lockout_seconds)
    if throttle is None:
        throttle = LoginThrottle(username=username, failures=0, window_started_at=now)
        uow.session.add(throttle)
    elif now - throttle.window_started_at > window:
        throttle.failures = 0
        throttle.window_started_at = now
        throttle.locked_until = None
    throttle.failures += 1
    if throttle.failures >= settings.login_max_failures:
        throttle.locked_until = now + window


_tokens, _users, _bindings = table(ApiToken), table(User), table(UserLocation)
_TOKEN_QUERY = (
    select(
        _tokens.c.id,
        _tokens.c.revoked_at,
        _tokens.c.expires_at,
        _users.c.id,
        _users.c.username,
        _users.c.role,
        _users.c.active,
        _bindings.c.location_id,
    )
    .join(_users, _users.c.id == _tokens.c.user_id)
    .outerjoin(_bindings, _bindings.c.user_id == _users.c.id)
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)


# A resolved token is remembered by this process for a moment: every API request resolves
# one, and availability reads are measured in milliseconds. A token revoked, or a user
# disabled or changed, on this process is forgotten at once (`forget_tokens`); on other
# processes it stops working within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 2.0
TOKEN_CACHE_SIZE = 10_000
_token_cache: dict[str, tuple[Actor, float, datetime]] = {}
_token_cache_lock = threading.Lock()


def resolve_token(*, db: Database, token: str) -> Actor:
    """The actor behind a bearer token, or 401 with why it is not valid.

    Runs on every request, so it is one Core query (token, user and location bindings), and
    its answer is kept TOKEN_CACHE_SECONDS by this process.
    """
    digest = _sha256(token)
    now = utcnow()
    cached = _token_cache.get(digest)
    if cached is not None:
        actor, fresh_until, expires_at = cached
        if time.monotonic() < fresh_until and now < expires_at:
            return actor
    with db.uow(write=False) as uow:
        rows = uow.connection.execute(_TOKEN_QUERY, {"token_hash": digest}).all()
    if not rows:
        raise Unauthenticated("auth.token_invalid", "the bearer token is not valid")
    token_id, revoked_at, expires_at, user_id, username, role, active, _ = rows[0]
    if revoked_at is not None:
        raise Unauthenticated("auth.token_revoked", "the bearer token was revoked")
    if expires_at <= now:
        raise Unauthenticated("auth.token_expired", "the bearer token has expired")
    if not active:
        raise Unauthenticated("auth.user_inactive", "this staff account is disabled")
    actor = Actor.build(
        user_id=user_id,
        username=username,
        role=Role(role),
        bound_locations=frozenset(row[7] for row in rows if row[7] is not None),
        token_id=token_id,
    )
    with _token_cache_lock:
        if len(_token_cache) >= TOKEN_CACHE_SIZE:
            _token_cache.clear()
        _token_cache[digest] = (actor, time.monotonic() + TOKEN_CACHE_SECONDS, expires_at)
    return actor


def forget_tokens(*, user_id: uuid.UUID | None = None, token_id: uuid.UUID | None = None) -> None:
    """Drop remembered tokens of a user (or one token) after they changed on this process."""
    with _token_cache_lock:
        for digest, (actor, _, _) in list(_token_cache.items()):
            if actor.user_id == user_id or (token_id is not None and actor.token_id == token_id):
                del _token_cache[digest]


def logout(*, db: Database, actor: Actor) -> None:
    """Revoke the token the actor signed in with."""
    with db.uow() as uow:
        tok = uow.session.get(ApiToken, actor.token_id)
        if tok is not None and tok.revoked_at is None:
            tok.revoked_at = utcnow()
        uow.commit()
    forget_tokens(token_id=actor.token_id)


@dataclass(frozen=True, slots=True)
class OverrideGrant:
    override_token: str
    permission: str
    approved_by: str
    expires_at: datetime


def grant_override(
    *,
    db: Database,
    settings: Settings,
    actor: Actor,
    manager_username: str,
    manager_password: str,
    permission: str,
    reason: str,
) -> OverrideGrant:
    """A manager, present at the register, authorises one sensitive action for `actor`.

    The manager proves presence with their own credentials; the grant is single-use, bound to
    the requesting staff member and one permission, and expires after a few minutes. (At an
    enrolled register the manager may type a PIN instead: services/register_access.py.)
    """
    perm = overridable(permission, reason)
    with db.uow() as uow:
        manager = uow.session.scalars(
            select(User).where(User.username == manager_username.strip().lower())
        ).one_or_none()
        if (
            manager is None
            or not manager.active
            or not password_matches(manager.password_hash, manager_password)
        ):
            refuse_override(uow, actor=actor, manager=manager_username, permission=perm)
        grant = issue_override(
            uow, settings=settings, actor=actor, manager=manager, permission=perm, reason=reason
        )
        uow.commit()
        return grant


def overridable(permission: str, reason: str) -> Permission:
    """The permission a manager override is asked for, refused (422) unless a manager may
    grant it and a reason is given."""
    try:
        perm = Permission(permission)
    except ValueError:
        perm = None
    if perm is None or perm not in SENSITIVE:
        raise ValidationFailed(
            "override.permission_not_overridable",
            f"{permission!r} cannot be granted by a manager override",
            {"overridable": sorted(p.value for p in SENSITIVE)},
            errors=[FieldError("permission", "override.permission_not_overridable", permission)],
        )
    if not reason.strip():
        raise ValidationFailed(
            "override.reason_required",
            "a manager override needs a reason",
            errors=[FieldError("reason", "override.reason_required", "required")],
        )
    return perm


def refuse_override(
    uow: UnitOfWork, *, actor: Actor, manager: str, permission: Permission
) -> NoReturn:
    """Audit a refused manager proof, commit that, and answer 401 `override.invalid_manager`."""
    audit.record(
        uow,
        action="override.refused",
        actor=actor,
        subject_type="user",
        subject_id=str(actor.user_id),
        details={"manager": manager, "permission": permission.value},
    )
    uow.commit()
    raise Unauthenticated("override.invalid_manager", "wrong manager credentials")


def issue_override(
    uow: UnitOfWork,
    *,
    settings: Settings,
    actor: Actor,
    manager: User,
    permission: Permission,
    reason: str,
) -> OverrideGrant:
    """The single-use grant of a manager who proved presence, audited in the caller's
    transaction; 403 `override.not_a_manager` unless they may grant and hold `permission`."""
    perm = permission
    manager_actor = Actor.build(
        user_id=manager.id,
        username=manager.username,
        role=Role(manager.role),
        bound_locations=frozenset(
            uow.session.scalars(
                select(UserLocation.location_id).where(UserLocation.user_id == manager.id)
            ).all()
        ),
    )
    if not (manager_actor.can(Permission.OVERRIDES_GRANT) and manager_actor.can(perm)):
        raise PermissionDenied(
            "override.not_a_manager",
            f"{manager.username} may not authorise {perm.value}",
            {"permission": perm.value},
        )
    raw = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(seconds=settings.override_ttl_seconds)
    grant = ManagerOverride(
        token_hash=_sha256(raw),
        permission=perm.value,
        requested_by_id=actor.user_id,
        approved_by_id=manager.id,
        reason=reason.strip(),
        expires_at=expires,
    )
    uow.session.add(grant)
    uow.session.flush()
    audit.record(
        uow,
        action="override.granted",
        actor=manager.username,
        subject_type="user",
        subject_id=str(actor.user_id),
        details={
            "permission": perm.value,
            "for": actor.username,
            "reason": reason.strip(),
            "override_id": str(grant.id),
        },
    )
    return OverrideGrant(raw, perm.value, manager.username, expires)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """How a sensitive action was allowed: by role, or by a named manager's override."""

    permission: str
    approved_by: str | None = None
    override_id: uuid.UUID | None = None
    reason: str | None = None

    def as_details(self) -> dict[str, str]:
        if self.approved_by is None:
            return {"permission": self.permission, "via": "role"}
        return {
            "permission": self.permission,
            "via": "manager_override",
            "approved_by": self.approved_by,
            "override_id": str(self.override_id),
            "override_reason": self.reason or "",
        }


def authorise(
    uow: UnitOfWork,
    *,
    actor: Actor,
    permission: Permission,
    override_token: str | None,
    used_for: str,
) -> Authorisation:
    """Allow a sensitive action by role, or consume a manager override in the same transaction.

    The override row is locked (`FOR UPDATE`) under the caller's transaction and marked used,
    so two requests cannot spend one override.
    """
    if actor.can(permission):
        return Authorisation(permission.value)
    grant = _valid_grant(uow, actor=actor, permission=permission, override_token=override_token)
    grant.used_at = utcnow()
    grant.used_for = used_for[:200]
    approver = uow.session.get(User, grant.approved_by_id)
    return Authorisation(
        permission.value,
        approved_by=approver.username if approver else str(grant.approved_by_id),
        override_id=grant.id,
        reason=grant.reason,
    )


def check_authorised(
    uow: UnitOfWork, *, actor: Actor, permission: Permission, override_token: str | None
) -> None:
    """Refuse (403) what `authorise` would refuse, without spending the override: a quote
    shows a manager-approved price, and the sale that follows spends the approval."""
    if not actor.can(permission):
        _valid_grant(uow, actor=actor, permission=permission, override_token=override_token)


def _valid_grant(
    uow: UnitOfWork, *, actor: Actor, permission: Permission, override_token: str | None
) -> ManagerOverride:
    if not override_token:
        actor.require(permission)
    stmt = (
        select(ManagerOverride)
        .where(ManagerOverride.token_hash == _sha256(override_token or ""))
        .with_for_update()
    )
    grant = uow.session.scalars(stmt).one_or_none()
    if (
        grant is None
        or grant.requested_by_id != actor.user_id
        or grant.permission != permission.value
        or grant.used_at is not None
        or grant.expires_at <= utcnow()
    ):
        raise PermissionDenied(
            "override.invalid",
            "the manager override is unknown, used, expired or for another action",
            {"permission": permission.value},
        )
    return grant


SYSTEM_USERNAME = "system"
# No password hashes to this: the system account can never sign in.
_NO_LOGIN = "!disabled"


def system_actor(*, db: Database) -> Actor:
    """The account background work acts as (expiring pickups, their payments), created on
    first use. It has no password: nobody can sign in as it; every act is audited under it."""
    with db.uow() as uow:
        user = uow.session.scalars(
            select(User).where(User.username == SYSTEM_USERNAME)
        ).one_or_none()
        if user is None:
            user = User(
                username=SYSTEM_USERNAME,
                display_name="omnitill (background work)",
                password_hash=_NO_LOGIN,
                role=Role.ADMIN,
                active=True,
            )
            uow.session.add(user)
            try:
                uow.commit()
            except IntegrityError:  # another process made it first
                uow.rollback()
                user = uow.session.scalars(
                    select(User).where(User.username == SYSTEM_USERNAME)
                ).one()
        return Actor.build(
            user_id=user.id, username=user.username, role=Role.ADMIN, bound_locations=frozenset()
        )
