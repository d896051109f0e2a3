"""What a request runs and who may act on it: process versions, the process-level assignments
(``processables``) and the Process policy's ``start``, ``cancel`` and ``editData``.

ProcessMaker writes a ProcessVersion on every process save and a request keeps the version it started
with ("the process request honors the process configuration how it existed when the process request was
initiated"). The sandbox writes a version when a request starts and the process (its name, BPMN,
properties or cancel/edit-data assignments) changed since the last version, which gives requests the same
view.

``PUT /processes/{id}`` sends ``cancel_request`` and ``edit_data`` as ``{"users": [ids], "groups": [ids]}``;
ProcessController syncs them into ``processables`` (methods CANCEL and EDIT_DATA). Who may start a
request comes from the start event's ``pm:assignment`` with ``pm:assignedUsers`` / ``pm:assignedGroups``
(ProcessMaker syncs those into ``processables`` with method START and the event's node id).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..php import intval
from ..store import Store, db_timestamp
from . import base, permissions, processes
from .base import GROUP_CLASS, USER_CLASS, Row, Table
from .definition import Definition

VERSIONS = Table("process_versions")
METHODS = {"cancel_request": "CANCEL", "edit_data": "EDIT_DATA"}
ANON_USERNAME = "_pm4_anon_user"


# ---- processables -------------------------------------------------------------------------------


def _ids(value: Any) -> list[int]:
    if isinstance(value, list):
        return [intval(item) for item in value if not isinstance(item, (list, dict)) and intval(item) > 0]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [intval(part) for part in str(value).split(",") if intval(part) > 0]
    return []


def sync(store: Store, process_id: int, body: dict[str, Any]) -> None:
    """ProcessController::update's ``cancel_request`` and ``edit_data``: replace the users and groups."""
    with store.transaction():
        for key, method in METHODS.items():
            value = body.get(key)
            if not isinstance(value, dict):
                continue
            store.execute("DELETE FROM processables WHERE process_id = ? AND method = ?", (process_id, method))
            for kind, class_name in (("users", USER_CLASS), ("groups", GROUP_CLASS)):
                for assignable_id in dict.fromkeys(_ids(value.get(kind))):
                    store.execute(
                        "INSERT OR IGNORE INTO processables (process_id, processable_id, processable_type, method)"
                        " VALUES (?, ?, ?, ?)", (process_id, assignable_id, class_name, method),
                    )


def assigned(store: Store, process_id: int) -> dict[str, dict[str, list[int]]]:
    """``{"CANCEL": {"users": [...], "groups": [...]}, "EDIT_DATA": {...}}`` of the process itself."""
    result: dict[str, dict[str, list[int]]] = {method: {"users": [], "groups": []} for method in METHODS.values()}
    rows = store.all("SELECT * FROM processables WHERE process_id = ? ORDER BY processable_id", (process_id,))
    for row in rows:
        kind = "users" if row["processable_type"] == USER_CLASS else "groups"
        result.setdefault(row["method"], {"users": [], "groups": []})[kind].append(row["processable_id"])
    return result


# ---- versions -----------------------------------------------------------------------------------------


def current_version(store: Store, process: Row) -> Row:
    """The process's latest version, written now if the process changed since (call inside a transaction)."""
    snapshot = {
        "name": process["name"],
        "bpmn": process["bpmn"],
        "properties": process.get("properties"),
        "permissions": json.dumps(assigned(store, process["id"]), sort_keys=True),
    }
    fingerprint = hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()
    latest = store.one("SELECT * FROM process_versions WHERE process_id = ? ORDER BY id DESC LIMIT 1", (process["id"],))
    if latest is not None and latest["fingerprint"] == fingerprint:
        return latest
    now = db_timestamp()
    return VERSIONS.insert(store, {
        "process_id": process["id"], **snapshot, "fingerprint": fingerprint, "created_at": now, "updated_at": now,
    })


def version_of(store: Store, request: Row) -> Row | None:
    return VERSIONS.find(store, request["process_version_id"]) if request.get("process_version_id") else None


def properties(version: Row | None) -> dict[str, Any]:
    value = base.json_or_none(version.get("properties")) if version else None
    return value if isinstance(value, dict) else {}


def manager_id(version: Row | None) -> int | None:
    value = properties(version).get("manager_id")
    return base.model_key(value)


def _permissions(version: Row | None, method: str) -> dict[str, list[int]]:
    value = base.json_or_none(version.get("permissions")) if version else None
    if not isinstance(value, dict):
        return {"users": [], "groups": []}
    chosen = value.get(method) or {}
    return {"users": list(chosen.get("users") or []), "groups": list(chosen.get("groups") or [])}


# ---- the policies ---------------------------------------------------------------------------------------


def direct_group_ids(store: Store, user_id: int) -> list[int]:
    """``$user->groups``: the groups the user is a direct member of."""
    rows = store.all("SELECT group_id FROM group_members WHERE member_type = ? AND member_id = ?", (USER_CLASS, user_id))
    return [row["group_id"] for row in rows]


def _allowed(store: Store, user: Row, chosen: dict[str, list[int]]) -> bool:
    if user["id"] in chosen["users"]:
        return True
    return bool(set(direct_group_ids(store, user["id"])) & set(chosen["groups"]))


def can_cancel(store: Store, user: Row, version: Row | None) -> bool:
    """ProcessPolicy::cancel on the request's version."""
    if permissions.is_admin(user):
        return True
    if _allowed(store, user, _permissions(version, "CANCEL")):
        return True
    props = properties(version)
    return manager_id(version) == user["id"] and props.get("manager_can_cancel_request") is True


def can_edit_data(store: Store, user: Row, version: Row | None) -> bool:
    """ProcessPolicy::editData on the request's version."""
    return permissions.is_admin(user) or _allowed(store, user, _permissions(version, "EDIT_DATA"))


def edit_data_users(version: Row | None) -> list[int]:
    """``$processVersion->usersCanEditData()``: the users only (ProcessRequestPolicy::view asks this)."""
    return _permissions(version, "EDIT_DATA")["users"]


def edit_data_process_ids(store: Store, user: Row) -> list[int]:
    """ForUserScope: processes whose EDIT_DATA assignment names the user or one of their direct groups."""
    groups = direct_group_ids(store, user["id"])
    marks = ",".join("?" * len(groups)) or "NULL"
    rows = store.all(
        "SELECT DISTINCT process_id FROM processables WHERE method = 'EDIT_DATA' AND ("
        f"(processable_type = ? AND processable_id = ?) OR (processable_type = ? AND processable_id IN ({marks})))",
        (USER_CLASS, user["id"], GROUP_CLASS, *groups),
    )
    return [row["process_id"] for row in rows]


def can_start(store: Store, user: Row, process: Row, definition: Definition, event_id: str | None) -> bool:
    """ProcessPolicy::start for ``?event=``: the start event's assigned users and groups (or the anonymous
    user), the groups of the user's groups, or the process manager when the event says ``process_manager``."""
    if permissions.is_admin(user):
        return True
    event = definition.element(event_id or "")
    user_ids: list[int] = []
    group_ids: list[int] = []
    if event is not None and event.tag == "startEvent" and event.get("assignment") in ("user", "group", "user_group"):
        user_ids = _ids(event.get("assignedUsers"))
        group_ids = _ids(event.get("assignedGroups"))
    mine = direct_group_ids(store, user["id"])
    nested = [row["group_id"] for row in store.all(
        f"SELECT group_id FROM group_members WHERE member_id IN ({','.join('?' * len(mine)) or 'NULL'})", tuple(mine))]
    if set(group_ids) & set(mine + nested):
        return True
    anonymous = store.scalar("SELECT id FROM users WHERE username = ?", (ANON_USERNAME,))
    if user["id"] in user_ids or (anonymous is not None and anonymous in user_ids):
        return True
    manager = base.model_key(processes.manager_id(process))
    events = [e for e in definition.elements.values() if e.tag == "startEvent"]
    return any(e.get("assignment") == "process_manager" for e in events) and manager == user["id"]
