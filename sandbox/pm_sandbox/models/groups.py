"""Groups (GroupController, the Group model). A group holds users and other groups (``group_members``)."""

from __future__ import annotations

from typing import Any

from ..php import truthy
from ..store import Store
from ..validation import RuleSet, Unique, validate
from . import base
from .base import GROUP_CLASS, USER_CLASS, Query, Row, Table

TABLE = Table("groups")
COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "name": "text", "description": "text", "status": "text", "manager_id": "int",
    "enabled_2fa": "bool", "created_at": "date", "updated_at": "date",
}
SORTABLE = base.sortable(COLUMNS)
FILLABLE = ["name", "description", "manager_id", "status", "enabled_2fa"]


def rules(existing: int | None = None) -> RuleSet:
    """Group::rules($existing)."""
    return {
        "name": ["required", "string", "max:255", Unique("groups", "name", existing), "alpha_spaces"],
        "status": ["in:ACTIVE,INACTIVE"],
    }


def serialize(row: Row) -> Row:
    data = base.serialize_columns(row, COLUMNS)
    if "group_members_count" in row:
        data["group_members_count"] = row["group_members_count"]
    return data


def values(body: dict[str, Any]) -> Row:
    columns = {
        name: int(truthy(body[name])) if name == "enabled_2fa" else base.text_value(body[name])
        for name in FILLABLE if name in body
    }
    if columns.get("status") is None:
        columns.pop("status", None)  # NOT NULL DEFAULT 'ACTIVE'
    return columns


def two_factor_required(store: Store) -> bool:
    return truthy(store.scalar("SELECT config FROM settings WHERE key = 'password-policies.2fa_enabled'"))


def create(store: Store, body: dict[str, Any]) -> Row:
    validate(body, rules(), store=store)
    columns = values(body)
    if two_factor_required(store):
        columns["enabled_2fa"] = 1
    columns = base.new_row(columns)
    return base.save(store, lambda: TABLE.insert(store, columns), check=lambda: validate(body, rules(), store=store),
                unique="name")


def update(store: Store, group: Row, body: dict[str, Any]) -> None:
    checks = rules(group["id"])
    validate(body, checks, store=store)
    columns = base.touched(values(body))
    base.save(
        store, lambda: TABLE.update(store, group["id"], columns), check=lambda: validate(body, checks, store=store),
        unique="name",
    )


def delete(store: Store, group: Row) -> None:
    """Its own members go with it (FK cascade); so do its memberships in other groups and its permissions."""
    with store.transaction():
        store.execute("DELETE FROM group_members WHERE member_type = ? AND member_id = ?", (GROUP_CLASS, group["id"]))
        store.execute("DELETE FROM assignables WHERE assignable_type = ? AND assignable_id = ?", (GROUP_CLASS, group["id"]))
        TABLE.delete(store, group["id"])


def query(filter_text: str | None, status: str | None, *, count_members: bool = False) -> Query:
    columns = "groups.*"
    if count_members:
        columns += ", (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = groups.id) AS group_members_count"
    listing = Query("groups", columns=columns).matching(filter_text, "name", "description")
    if status:
        listing.also("status = ?", status)
    return listing


def member_users(group: Row, filter_text: str | None) -> Query:
    """The users in a group (directly), matched by name too."""
    listing = Query("users", ["deleted_at IS NULL"]).also(_MEMBERS, group["id"], USER_CLASS)
    return listing.matching(filter_text, "username", "firstname", "lastname", "trim(firstname || ' ' || lastname)")


def member_groups(group: Row, filter_text: str | None) -> Query:
    """The groups in a group (directly)."""
    return Query("groups").also(_MEMBERS, group["id"], GROUP_CLASS).matching(filter_text, "name", "description")


_MEMBERS = "id IN (SELECT member_id FROM group_members WHERE group_id = ? AND member_type = ?)"
