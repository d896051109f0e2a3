"""Who may do what: ProcessMaker's Gate (administrators pass everything) and UserPolicy.

A user holds a permission when it is assigned to the user directly or to any group the user
belongs to, directly or through nested groups (``group_members`` rows of type Group).
"""

from __future__ import annotations

from typing import Any

from ..http import Context, Forbidden
from ..store import Store
from .common import GROUP_CLASS, USER_CLASS

UNAUTHORIZED = "This action is unauthorized."  # the ``can:`` route middleware

_HOLDS_ANY = """
WITH RECURSIVE member_of(id) AS (
    SELECT group_id FROM group_members WHERE member_type = :user_class AND member_id = :user
    UNION
    SELECT gm.group_id FROM group_members gm JOIN member_of m
        ON gm.member_type = :group_class AND gm.member_id = m.id
)
SELECT 1 FROM assignables a JOIN permissions p ON p.id = a.permission_id
WHERE p.name IN ({names})
  AND ((a.assignable_type = :user_class AND a.assignable_id = :user)
    OR (a.assignable_type = :group_class AND a.assignable_id IN (SELECT id FROM member_of)))
LIMIT 1
"""


def is_admin(user: dict[str, Any] | None) -> bool:
    return bool(user and user.get("is_administrator"))


def holds_any(store: Store, user: dict[str, Any] | None, *names: str) -> bool:
    """``$user->can(name)`` for any of ``names``."""
    if user is None:
        return False
    if is_admin(user):
        return True
    marks = ", ".join(f":p{i}" for i in range(len(names)))
    params: dict[str, Any] = {"user": user["id"], "user_class": USER_CLASS, "group_class": GROUP_CLASS}
    params.update({f"p{i}": name for i, name in enumerate(names)})
    return store.scalar(_HOLDS_ANY.format(names=marks), params) is not None


def require(ctx: Context, *names: str, message: str = UNAUTHORIZED) -> None:
    """403 unless the acting user holds one of ``names``."""
    if not holds_any(ctx.store, ctx.user, *names):
        raise Forbidden(message)


def can_view_user(ctx: Context, target: dict[str, Any]) -> bool:
    """UserPolicy::view: yourself, or ``view-users``."""
    return bool(ctx.user and ctx.user["id"] == target["id"]) or holds_any(ctx.store, ctx.user, "view-users")


def can_edit_user(ctx: Context, target: dict[str, Any]) -> bool:
    """UserPolicy::edit: yourself, or ``edit-users``."""
    return bool(ctx.user and ctx.user["id"] == target["id"]) or holds_any(ctx.store, ctx.user, "edit-users")
