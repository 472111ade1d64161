"""Staff administration: list, change role, bindings, password or status — always audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import ApiToken, Location, User, UserLocation
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission, Role
from omnitill.domain.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from omnitill.services import audit, auth
from omnitill.services.auth import create_user, hash_password, locations_by_code


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    username: str
    display_name: str
    role: str
    active: bool
    locations: list[str]


@dataclass(frozen=True, slots=True)
class StaffChange:
    """Fields to change; None leaves a field as it is."""

    role: str | None = None
    active: bool | None = None
    locations: list[str] | None = None
    password: str | None = None
    display_name: str | None = None


def list_staff(*, db: Database, actor: Actor) -> list[StaffMember]:
    """Every staff member with their role and store bindings."""
    actor.require(Permission.USERS_READ)
    with db.uow(write=False) as uow:
        users = uow.session.scalars(select(User).order_by(User.username)).all()
        bindings = uow.session.execute(
            select(UserLocation.user_id, Location.code).join(
                Location, Location.id == UserLocation.location_id
            )
        ).all()
    codes: dict[object, list[str]] = {}
    for user_id, code in bindings:
        codes.setdefault(user_id, []).append(code)
    return [_member(u, sorted(codes.get(u.id, []))) for u in users]


def _member(user: User, locations: list[str]) -> StaffMember:
    return StaffMember(
        str(user.id), user.username, user.display_name, user.role, user.active, locations
    )


def add_staff(
    *,
    db: Database,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    locations: list[str],
    display_name: str = "",
) -> StaffMember:
    """Create a staff member (audited as `user.created`)."""
    actor.require(Permission.USERS_WRITE)
    user = create_user(
        db=db,
        username=username,
        password=password,
        role=role,
        location_codes=locations,
        display_name=display_name,
        actor=actor,
    )
    return _member(user, sorted(locations))


def change_staff(*, db: Database, actor: Actor, username: str, change: StaffChange) -> StaffMember:
    """Apply `change`; a role change, deactivation or password reset also signs the member
    out everywhere (their tokens are revoked) so the new rights apply at once."""
    actor.require(Permission.USERS_WRITE)
    if change.role is not None and change.role not in {r.value for r in Role}:
        raise ValidationFailed(
            "auth.unknown_role",
            f"unknown role {change.role!r}",
            errors=[FieldError("role", "auth.unknown_role", "not a role")],
        )
    new_hash = hash_password(change.password) if change.password is not None else None
    with db.uow() as uow:
        user = uow.session.scalars(
            select(User).where(User.username == username.strip().lower())
        ).one_or_none()
        if user is None:
            raise NotFound("user.not_found", f"no staff member {username!r}")
        if user.id == actor.user_id and (change.role is not None or change.active is False):
            raise PermissionDenied(
                "user.self_change_refused", "you cannot change your own role or disable yourself"
            )
        details: dict[str, object] = {"username": user.username}
        if change.role is not None and change.role != user.role:
            details["role"] = {"from": user.role, "to": change.role}
            user.role = change.role
        if change.active is not None and change.active != user.active:
            details["active"] = {"from": user.active, "to": change.active}
            user.active = change.active
        if change.display_name is not None:
            user.display_name = change.display_name
        if new_hash is not None:
            user.password_hash = new_hash
            user.password_changed_at = utcnow()
            details["password_reset"] = True
        locations = _rebind(uow, user, change.locations, details)
        if len(details) > 1:  # something besides the name changed
            if details.keys() & {"role", "password_reset", "active"}:
                for token in uow.session.scalars(
                    select(ApiToken).where(
                        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
                    )
                ):
                    token.revoked_at = utcnow()
            audit.record(
                uow,
                action="user.changed",
                actor=actor,
                subject_type="user",
                subject_id=str(user.id),
                details=details,
            )
        uow.commit()
        auth.forget_tokens(user_id=user.id)  # role, bindings or status may have changed
        return _member(user, locations)


def _rebind(
    uow: UnitOfWork, user: User, codes: list[str] | None, details: dict[str, object]
) -> list[str]:
    current = sorted(
        uow.session.scalars(
            select(Location.code)
            .join(UserLocation, UserLocation.location_id == Location.id)
            .where(UserLocation.user_id == user.id)
        ).all()
    )
    if codes is None or sorted(set(codes)) == current:
        return current
    wanted = locations_by_code(uow, sorted(set(codes)))
    uow.session.execute(delete(UserLocation).where(UserLocation.user_id == user.id))
    for loc in wanted:
        uow.session.add(UserLocation(user_id=user.id, location_id=loc.id))
    details["locations"] = {"from": current, "to": sorted(loc.code for loc in wanted)}
    return sorted(loc.code for loc in wanted)
