"""Permissions: the catalogue, who holds what, and ProcessMaker's Gate (administrators pass everything).

A user holds a permission when it is assigned to the user directly or to any group the user belongs
to, directly or through nested groups (``group_members`` rows of type Group).

The catalogue is ``database/seeders/PermissionSeeder.php`` (titles are ``ucwords`` of the name with
``-``/``_`` as spaces), with the ``Requests`` group renamed ``Cases and Requests`` by the upgrade
``2024_11_19_161132_create_permission_view_all_cases_all_requests``, plus the permissions that
migrations/upgrades add (``view-settings``, ``update-settings``, ``view-security-logs``,
``view-process-catalog``).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import UNAUTHORIZED, Forbidden, NotFound, ServerError
from ..php import truthy
from ..security import new_uuid
from ..store import Store, db_timestamp
from . import base, groups, users
from .base import Row

COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "name": "text", "title": "text", "group": "text", "created_at": "datetime",
    "updated_at": "datetime",
}
ADMIN_ONLY = "You are not authorized to modify administrator privileges"

PERMISSION_GROUPS: dict[str, list[str]] = {
    "Processes": [
        "archive-processes", "create-processes", "edit-processes", "export-processes", "import-processes",
        "view-processes", "create-process-categories", "delete-process-categories", "edit-process-categories",
        "view-process-categories",
    ],
    "Process Templates": [
        "delete-process-templates", "create-process-templates", "edit-process-templates",
        "export-process-templates", "import-process-templates", "view-process-templates",
    ],
    "Process Translations": [
        "create-process-translations", "view-process-translations", "import-process-translations",
        "export-process-translations", "edit-process-translations", "cancel-process-translations",
        "delete-process-translations",
    ],
    "Environment Variables": [
        "create-environment_variables", "delete-environment_variables", "edit-environment_variables",
        "view-environment_variables",
    ],
    "Groups": ["create-groups", "delete-groups", "edit-groups", "view-groups"],
    "Screens": [
        "create-screens", "delete-screens", "edit-screens", "view-screens", "export-screens", "import-screens",
        "create-screen-categories", "delete-screen-categories", "edit-screen-categories", "view-screen-categories",
    ],
    "Scripts": [
        "create-scripts", "delete-scripts", "edit-scripts", "view-scripts", "create-script-categories",
        "delete-script-categories", "edit-script-categories", "view-script-categories",
    ],
    "Users": [
        "create-users", "delete-users", "edit-users", "view-users", "view-other-users-profiles",
        "edit-personal-profile", "publish-screen-templates",
    ],
    "Username and Password": ["edit-user-and-password"],
    "Cases and Requests": [
        "view-all_cases", "view-all_requests", "view-my_requests", "edit-request_data", "edit-task_data",
    ],
    "Files (API)": ["create-files", "view-files", "edit-files", "delete-files"],
    "Task Assignments (API)": [
        "create-task_assignments", "view-task_assignments", "edit-task_assignments", "delete-task_assignments",
    ],
    "Auth Clients": ["create-auth_clients", "view-auth_clients", "edit-auth_clients", "delete-auth_clients"],
    "Signals": ["create-signals", "view-signals", "edit-signals", "delete-signals"],
    "Settings": ["view-settings", "update-settings"],
    "Security Logs": ["view-security-logs"],
    "Process Catalog": ["view-process-catalog"],
}


def permission_title(name: str) -> str:
    """ucwords(preg_replace('/(\\-|_)/', ' ', $name))."""
    return " ".join(word[:1].upper() + word[1:] for word in re.sub(r"[-_]", " ", name).split(" "))


def seed(store: Store) -> None:
    now = db_timestamp()
    for group, names in PERMISSION_GROUPS.items():
        for name in names:
            title = {"view-all_cases": "View All Cases"}.get(name, permission_title(name))
            store.execute(
                'INSERT OR IGNORE INTO permissions (uuid, name, title, "group", created_at, updated_at) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                (new_uuid(), name, title, group, now, now),
            )


def serialize(row: Row) -> Row:
    return base.serialize_columns(row, COLUMNS)


def catalogue(store: Store) -> dict[str, list[Row]]:
    """Every permission, sorted by title, grouped by ``group``."""
    grouped: dict[str, list[Row]] = {}
    for row in sorted(store.all("SELECT * FROM permissions"), key=lambda row: (row["title"], row["id"])):
        grouped.setdefault(row["group"], []).append(serialize(row))
    return grouped


# ---- the Gate ------------------------------------------------------------------------------------

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


def is_admin(user: Row | None) -> bool:
    return bool(user and user.get("is_administrator"))


def holds_any(store: Store, user: Row | None, *names: str) -> bool:
    """``$user->can(name)`` for any of ``names``."""
    if user is None:
        return False
    if is_admin(user):
        return True
    marks = ", ".join(f":p{i}" for i in range(len(names)))
    params: dict[str, Any] = {"user": user["id"], "user_class": base.USER_CLASS, "group_class": base.GROUP_CLASS}
    params.update({f"p{i}": name for i, name in enumerate(names)})
    return store.scalar(_HOLDS_ANY.format(names=marks), params) is not None


def require(store: Store, user: Row | None, *names: str, message: str = UNAUTHORIZED) -> None:
    """Forbidden unless ``user`` holds one of ``names`` (the ``can:`` route middleware)."""
    if not holds_any(store, user, *names):
        raise Forbidden(message)


def is_self_or_holds(store: Store, user: Row | None, target: Row, permission: str) -> bool:
    """UserPolicy::view / ::edit: yourself, or ``view-users`` / ``edit-users``."""
    return bool(user and user["id"] == target["id"]) or holds_any(store, user, permission)


# ---- assigning -----------------------------------------------------------------------------------


def assign(store: Store, acting: Row, body: dict[str, Any]) -> None:
    """PermissionController::update: a user's or a group's direct permissions (``permission_names``), and a
    user's ``is_administrator``, which only an administrator may grant, revoke or touch.

    The sync always runs: without ``permission_names`` (``?? []``) it removes every direct permission; a
    value that is not an array (a string) makes ``whereIn`` fail in ``count()``, a 500, after
    ``is_administrator`` was already saved (no transaction)."""
    if "user_id" in body:
        target = users.ACTIVE.get(store, base.model_key(body["user_id"]))
        assignable_type = base.USER_CLASS
        if ("is_administrator" in body or target["is_administrator"]) and not is_admin(acting):
            raise Forbidden(ADMIN_ONLY)
    elif "group_id" in body:
        target = groups.TABLE.get(store, base.model_key(body["group_id"]))
        assignable_type = base.GROUP_CLASS
    else:
        raise NotFound()
    if assignable_type == base.USER_CLASS and "is_administrator" in body:
        with store.transaction():
            users.ANY.update(
                store, target["id"],
                base.touched({"is_administrator": int(truthy(body["is_administrator"]))}),
            )
    names = body.get("permission_names")
    if names is None:
        names = []
    elif not isinstance(names, (list, dict)):
        raise ServerError()
    with store.transaction():
        _sync(store, assignable_type, target["id"], list(names.values()) if isinstance(names, dict) else names)


def direct(store: Store, assignable_type: str, assignable_id: int) -> list[Row]:
    """The ``permissions`` relation (morphToMany through ``assignables``) as Eloquent serializes it when
    loaded: each permission with its ``pivot``."""
    rows = store.all(
        "SELECT p.* FROM assignables a JOIN permissions p ON p.id = a.permission_id"
        " WHERE a.assignable_type = ? AND a.assignable_id = ? ORDER BY p.id",
        (assignable_type, assignable_id),
    )
    return [
        {**serialize(row), "pivot": {"assignable_id": assignable_id, "permission_id": row["id"],
                                     "assignable_type": assignable_type}}
        for row in rows
    ]


def _sync(store: Store, assignable_type: str, assignable_id: int, names: list[Any]) -> None:
    """Replace the assignable's direct permissions with ``names`` (unknown names are ignored)."""
    if any(isinstance(name, (list, dict)) for name in names):
        raise ServerError()  # whereIn: "Nested arrays may not be passed to whereIn method."
    wanted = [str(name) for name in names]
    store.execute(
        "DELETE FROM assignables WHERE assignable_type = ? AND assignable_id = ?", (assignable_type, assignable_id)
    )
    if wanted:
        marks = ", ".join("?" * len(wanted))
        store.execute(
            "INSERT OR IGNORE INTO assignables (permission_id, assignable_id, assignable_type) "
            f"SELECT id, ?, ? FROM permissions WHERE name IN ({marks})",
            (assignable_id, assignable_type, *wanted),
        )
