"""``/groups`` and the members of a group (GroupController)."""

from __future__ import annotations

import sqlite3
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..security import new_uuid
from ..store import db_timestamp
from ..validation import RuleSet, Unique, taken, validate
from . import authz
from .common import (
    GROUP_CLASS,
    USER_CLASS,
    Row,
    iso8601,
    like,
    load,
    order_clause,
    php_truthy,
    query_value,
    read_body,
    sql_list,
    text_value,
)
from .users import SORTABLE as USER_SORTABLE
from .users import serialize_user

router = Router()

FILLABLE = ["name", "description", "manager_id", "status", "enabled_2fa"]
SORTABLE = {
    "id": "id", "uuid": "uuid COLLATE NOCASE", "name": "name COLLATE NOCASE",
    "description": "description COLLATE NOCASE", "status": "status COLLATE NOCASE", "manager_id": "manager_id",
    "enabled_2fa": "enabled_2fa", "created_at": "created_at", "updated_at": "updated_at",
}
GROUP_BY_ID = "SELECT * FROM groups WHERE id = ?"
VIEWERS = ("view-groups", "create-processes", "edit-processes")


def group_rules(existing: int | None = None) -> RuleSet:
    """Group::rules($existing)."""
    return {
        "name": ["required", "string", "max:255", Unique("groups", "name", existing), "alpha_spaces"],
        "status": ["in:ACTIVE,INACTIVE"],
    }


def serialize_group(row: Row) -> Row:
    data = {
        "id": row["id"],
        "uuid": row["uuid"],
        "name": row["name"],
        "description": row["description"],
        "status": row["status"],
        "manager_id": row["manager_id"],
        "enabled_2fa": bool(row["enabled_2fa"]),
        "created_at": iso8601(row["created_at"]),
        "updated_at": iso8601(row["updated_at"]),
    }
    if "group_members_count" in row:
        data["group_members_count"] = row["group_members_count"]
    return data


def group_values(body: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in FILLABLE:
        if name in body:
            value = body[name]
            values[name] = int(php_truthy(value)) if name == "enabled_2fa" else text_value(value)
    if values.get("status") is None:
        values.pop("status", None)  # NOT NULL DEFAULT 'ACTIVE'
    return values



def two_factor_required(ctx: Context) -> bool:
    value = ctx.store.scalar("SELECT config FROM settings WHERE key = 'password-policies.2fa_enabled'")
    return php_truthy(value)


@router.route("GET", "/api/1.0/groups")
def index(ctx: Context) -> Response:
    authz.require(ctx, *VIEWERS, "create-projects", "view-projects", message="Not authorized to view groups.")
    include = [part for part in (query_value(ctx, "include") or "").split(",") if part]
    select = "SELECT groups.*"
    if "membersCount" in include:
        select += ", (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = groups.id) AS group_members_count"
    where: list[str] = []
    params: list[Any] = []
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("name LIKE ? OR description LIKE ?")
        params.extend([like(filter_text)] * 2)
    status = query_value(ctx, "status")
    if status:
        where.append("status = ?")
        params.append(status)
    return sql_list(
        ctx,
        select=select + " FROM groups",
        count="SELECT COUNT(*) FROM groups",
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "name"),
        serialize=serialize_group,
    )


@router.route("GET", "/api/1.0/groups/{group}")
def show(ctx: Context) -> Response:
    group = load(ctx, GROUP_BY_ID, ctx.params["group"])
    authz.require(ctx, *VIEWERS, message="Not authorized to view groups.")
    return json_response(serialize_group(group))


@router.route("POST", "/api/1.0/groups")
def store(ctx: Context) -> Response:
    authz.require(ctx, "create-groups")
    body = read_body(ctx)
    validate(body, group_rules(), store=ctx.store)
    values = group_values(body)
    if two_factor_required(ctx):
        values["enabled_2fa"] = 1
    now = db_timestamp()
    values.update(uuid=new_uuid(), created_at=now, updated_at=now)
    try:
        with ctx.store.transaction():
            validate(body, group_rules(), store=ctx.store)
            group_id = ctx.store.insert("groups", values)
    except sqlite3.IntegrityError as error:
        raise taken("name") from error
    row = ctx.store.one(GROUP_BY_ID, (group_id,))
    assert row is not None
    return json_response(serialize_group(row), 201)


@router.route("PUT", "/api/1.0/groups/{group}")
def update(ctx: Context) -> Response:
    group = load(ctx, GROUP_BY_ID, ctx.params["group"])
    authz.require(ctx, "edit-groups")
    body = read_body(ctx)
    validate(body, group_rules(group["id"]), store=ctx.store)
    values = group_values(body)
    values["updated_at"] = db_timestamp()
    try:
        with ctx.store.transaction():
            validate(body, group_rules(group["id"]), store=ctx.store)
            ctx.store.update("groups", group["id"], values)
    except sqlite3.IntegrityError as error:
        raise taken("name") from error
    return empty_response(204)


@router.route("DELETE", "/api/1.0/groups/{group}")
def destroy(ctx: Context) -> Response:
    group = load(ctx, GROUP_BY_ID, ctx.params["group"])
    authz.require(ctx, "delete-groups")
    with ctx.store.transaction():
        # Its own members go with it (FK cascade); so do its memberships in other groups and its permissions.
        ctx.store.execute("DELETE FROM group_members WHERE member_type = ? AND member_id = ?", (GROUP_CLASS, group["id"]))
        ctx.store.execute("DELETE FROM assignables WHERE assignable_type = ? AND assignable_id = ?", (GROUP_CLASS, group["id"]))
        ctx.store.execute("DELETE FROM groups WHERE id = ?", (group["id"],))
    return empty_response(204)


@router.route("GET", "/api/1.0/groups/{group}/users")
def users(ctx: Context) -> Response:
    group = load(ctx, GROUP_BY_ID, ctx.params["group"])
    authz.require(ctx, "view-groups")
    where = [
        "deleted_at IS NULL",
        "id IN (SELECT member_id FROM group_members WHERE group_id = ? AND member_type = ?)",
    ]
    params: list[Any] = [group["id"], USER_CLASS]
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append(
            "username LIKE ? OR firstname LIKE ? OR lastname LIKE ? OR trim(firstname || ' ' || lastname) LIKE ?"
        )
        params.extend([like(filter_text)] * 4)
    return sql_list(
        ctx,
        select="SELECT * FROM users",
        count="SELECT COUNT(*) FROM users",
        where=where,
        params=params,
        order=order_clause(ctx, USER_SORTABLE, "username"),
        serialize=serialize_user,
    )


@router.route("GET", "/api/1.0/groups/{group}/groups")
def groups(ctx: Context) -> Response:
    group = load(ctx, GROUP_BY_ID, ctx.params["group"])
    authz.require(ctx, "view-groups")
    where = ["id IN (SELECT member_id FROM group_members WHERE group_id = ? AND member_type = ?)"]
    params: list[Any] = [group["id"], GROUP_CLASS]
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("name LIKE ? OR description LIKE ?")
        params.extend([like(filter_text)] * 2)
    return sql_list(
        ctx,
        select="SELECT * FROM groups",
        count="SELECT COUNT(*) FROM groups",
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "name"),
        serialize=serialize_group,
    )
