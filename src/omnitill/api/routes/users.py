"""Staff administration (admins); every change lands in the audit trail."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, status

from omnitill.api.deps import CurrentActor, DbDep
from omnitill.api.schemas.users import UserCreate, UserList, UserRead, UserUpdate
from omnitill.services import users as user_service

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.get("/users", response_model=UserList, summary="List staff")
def list_users(actor: CurrentActor, db: DbDep) -> UserList:
    """Needs users.read."""
    return UserList(
        items=[UserRead(**asdict(m)) for m in user_service.list_staff(db=db, actor=actor)]
    )


@router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a staff member",
)
def create_user(body: UserCreate, actor: CurrentActor, db: DbDep) -> UserRead:
    """Needs users.write; 422 `auth.password_too_short`, 409 `auth.username_taken`."""
    member = user_service.add_staff(
        db=db,
        actor=actor,
        username=body.username,
        password=body.password,
        role=body.role,
        locations=body.locations,
        display_name=body.display_name,
    )
    return UserRead(**asdict(member))


@router.patch(
    "/users/{username}",
    response_model=UserRead,
    summary="Change a staff member's role, stores, password or status",
)
def update_user(username: str, body: UserUpdate, actor: CurrentActor, db: DbDep) -> UserRead:
    """Audited as `user.changed` with before and after values."""
    member = user_service.change_staff(
        db=db, actor=actor, username=username, change=user_service.StaffChange(**body.model_dump())
    )
    return UserRead(**asdict(member))
