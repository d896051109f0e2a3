"""Group memberships (GroupMemberController, the GroupMember model): a user or a group in a group."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..errors import NotFound
from ..store import Store, db_timestamp
from ..validation import RuleSet, validate
from . import base, groups, users
from .base import Query, Row, Table

TABLE = Table("group_members")
COLUMNS: base.Columns = {
    "id": "int", "group_id": "int", "member_id": "int", "member_type": "text", "created_at": "datetime",
    "updated_at": "datetime",
}
RULES: RuleSet = {
    "group_id": ["required"],
    "member_id": ["required"],
    "member_type": ["required", f"in:{base.USER_CLASS},{base.GROUP_CLASS}"],
}
SORTABLE = {
    "id": "group_members.id", "group_id": "group_members.group_id", "member_id": "group_members.member_id",
    "member_type": "group_members.member_type", "created_at": "group_members.created_at",
    "updated_at": "group_members.updated_at", "name": "groups.name COLLATE NOCASE",
    "description": "groups.description COLLATE NOCASE",
}


def serialize(row: Row) -> Row:
    """GroupMember::toArray() (dates ``Y-m-d H:i:s``), plus the joined group columns of the list."""
    data = base.serialize_columns(row, COLUMNS)
    for extra in ("name", "description"):
        if extra in row:
            data[extra] = row[extra]
    return data


def create(store: Store, body: dict[str, Any]) -> Row | None:
    """GroupMemberController::store: the new membership with its ``group`` and ``member``, or None when it
    exists already (answered 201 ``[]`` before any validation: the controller's idempotence)."""
    group_id, member_id = base.model_key(body.get("group_id")), base.model_key(body.get("member_id"))
    member_type = body.get("member_type")
    exists = "SELECT id FROM group_members WHERE group_id = ? AND member_type = ? AND member_id = ?"
    if store.scalar(exists, (group_id, member_type, member_id)) is not None:
        return None
    validate(body, RULES)
    group = groups.TABLE.get(store, group_id)
    if member_type == base.USER_CLASS:
        member, serialize_member = users.ACTIVE.find(store, member_id), users.serialize
    else:
        member, serialize_member = groups.TABLE.find(store, member_id), groups.serialize
    if member is None:
        raise NotFound()
    now = db_timestamp()
    try:
        with store.transaction():
            row = TABLE.insert(store, {"group_id": group["id"], "member_id": member["id"], "member_type": member_type,
                                       "created_at": now, "updated_at": now})
    except sqlite3.IntegrityError:
        return None  # a concurrent request created the same membership
    return {**serialize(row), "group": groups.serialize(group), "member": serialize_member(member)}


def query(member_id: Any) -> Query:
    """Memberships joined with their group, of one member id (of any member type) or of all."""
    listing = Query("group_members JOIN groups ON groups.id = group_members.group_id",
                    columns="group_members.*, groups.name, groups.description", tie_breaker="group_members.id")
    if member_id is not None:
        listing.also("group_members.member_id = ?", member_id)
    return listing


def available_groups(store: Store, group_id: str | None, member_id: str | None, member_type: str | None,
                     filter_text: str | None, order: str, by_assigned: bool) -> list[Row]:
    """ACTIVE groups the member (or group) is not in yet; ``by_assigned`` lists them all, the member's first,
    each with ``assigned``."""
    excluded: list[Any] = []
    if group_id:
        excluded = [
            row["member_id"]
            for row in store.all(
                "SELECT member_id FROM group_members WHERE member_type = ? AND CAST(group_id AS TEXT) = ?",
                (base.GROUP_CLASS, group_id),
            )
        ]
        excluded.append(int(group_id) if group_id.isdigit() else group_id)
    elif member_id and member_type:
        excluded = [
            row["group_id"]
            for row in store.all(
                "SELECT group_id FROM group_members WHERE member_type = ? AND CAST(member_id AS TEXT) = ?",
                (member_type, member_id),
            )
        ]
    listing = Query("groups", ["status = 'ACTIVE'"], tie_follows_order=False).matching(filter_text, "name")
    rows = listing.rows(store, order)
    excluded_set = set(excluded)
    if by_assigned:
        assigned = [row for row in rows if row["id"] in excluded_set]
        rest = [row for row in rows if row["id"] not in excluded_set]
        return [{**groups.serialize(row), "assigned": row["id"] in excluded_set} for row in assigned + rest]
    return [groups.serialize(row) for row in rows if row["id"] not in excluded_set]


def available_users(group_id: str | None, filter_text: str | None) -> Query:
    """Active, non-system users not yet in the group."""
    listing = users.query("deleted_at IS NULL", "is_system = 0", "status != 'INACTIVE'")
    if group_id:
        listing.also(
            "id NOT IN (SELECT member_id FROM group_members WHERE member_type = ? AND CAST(group_id AS TEXT) = ?)",
            base.USER_CLASS, group_id,
        )
    return listing.matching(filter_text, "firstname", "lastname", "username")
