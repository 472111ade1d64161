from __future__ import annotations

import uuid

import pytest

from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission, Role
from omnitill.domain.errors import PermissionDenied

S01, S02 = uuid.uuid4(), uuid.uuid4()


def actor(role, bound=()):
    return Actor.build(
        user_id=uuid.uuid4(), username="u", role=role, bound_locations=frozenset(bound)
    )


def test_a_cashier_acts_only_at_their_stores():
    cashier = actor(Role.CASHIER, [S01])
    assert cashier.may_access(S01)
    assert not cashier.may_access(S02)
    with pytest.raises(PermissionDenied) as err:
        cashier.require_location(S02, "S02")
    assert err.value.code == "auth.location_forbidden"


def test_an_unbound_cashier_acts_nowhere():
    assert not actor(Role.CASHIER).may_access(S01)


def test_an_unbound_manager_is_regional_and_a_bound_one_is_not():
    assert actor(Role.MANAGER).may_access(S02)
    assert not actor(Role.MANAGER, [S01]).may_access(S02)


def test_admins_and_analysts_see_the_whole_estate():
    assert actor(Role.ADMIN, [S01]).may_access(S02)
    assert actor(Role.ANALYST, [S01]).may_access(S02)


def test_roles_grant_named_permissions():
    assert actor(Role.CASHIER).can(Permission.SALES_CREATE)
    assert not actor(Role.CASHIER).can(Permission.STOCK_ADJUST)
    assert not actor(Role.ANALYST).can(Permission.SALES_CREATE)
    assert actor(Role.INVENTORY).can(Permission.STOCK_RECEIVE)
    assert all(actor(Role.ADMIN).can(p) for p in Permission)
