"""Who is acting: the authenticated staff member, their permissions and locations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from omnitill.domain.auth.permissions import (
    BOUND_ONLY,
    ESTATE_WIDE,
    Permission,
    Role,
    permissions_for,
)
from omnitill.domain.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class Actor:
    """A staff member acting through a token. `location_ids` is None for estate-wide roles."""

    user_id: uuid.UUID
    username: str
    role: Role
    location_ids: frozenset[uuid.UUID] | None
    token_id: uuid.UUID | None = None

    @classmethod
    def build(
        cls,
        *,
        user_id: uuid.UUID,
        username: str,
        role: Role,
        bound_locations: frozenset[uuid.UUID],
        token_id: uuid.UUID | None = None,
    ) -> Actor:
        """Which locations the actor may act on; see ESTATE_WIDE and BOUND_ONLY."""
        unrestricted = role in ESTATE_WIDE or (not bound_locations and role not in BOUND_ONLY)
        scope = None if unrestricted else bound_locations
        return cls(user_id, username, role, scope, token_id)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise `auth.permission_denied` unless the role grants `permission`."""
        if not self.can(permission):
            raise PermissionDenied(
                "auth.permission_denied",
                f"your role ({self.role}) lacks the permission {permission}",
                {"permission": str(permission)},
            )

    def may_access(self, location_id: uuid.UUID) -> bool:
        return self.location_ids is None or location_id in self.location_ids

    def require_location(self, location_id: uuid.UUID, location_code: str) -> None:
        """Raise `auth.location_forbidden` for a location outside the actor's stores."""
        if not self.may_access(location_id):
            raise PermissionDenied(
                "auth.location_forbidden",
                f"you are not assigned to location {location_code}",
                {"location": location_code},
            )


SYSTEM_ACTOR_NAME = "system"
