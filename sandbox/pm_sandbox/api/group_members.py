"""``/group_members``, ``/group_members_available``, ``/user_members_available`` (GroupMemberController)."""

from __future__ import annotations

import sqlite3
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, NotFound, Router, empty_response, json_response, paginate
from ..store import db_timestamp
from ..validation import RuleSet, validate
from . import authz
from .common import (
    GROUP_CLASS,
    USER_CLASS,
    Row,
    like,
    load,
    order_clause,
    plain_datetime,
    query_value,
    read_body,
    sql_list,
)
from .groups import SORTABLE as GROUP_SORTABLE
from .groups import serialize_group
from .users import SORTABLE as USER_SORTABLE
from .users import serialize_user

router = Router()

RULES: RuleSet = {
    "group_id": ["required"],
    "member_id": ["required"],
    "member_type": ["required", f"in:{USER_CLASS},{GROUP_CLASS}"],
}
SORTABLE = {
    "id": "group_members.id", "group_id": "group_members.group_id", "member_id": "group_members.member_id",
    "member_type": "group_members.member_type", "created_at": "group_members.created_at",
    "updated_at": "group_members.updated_at", "name": "groups.name COLLATE NOCASE",
    "description": "groups.description COLLATE NOCASE",
}
MEMBER_BY_ID = "SELECT * FROM group_members WHERE id = ?"


def as_id(value: Any) -> int | None:
    """A model key as Eloquent's where('id', $value) matches it: integers and digit strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def serialize_member(row: Row) -> Row:
    """GroupMember::toArray() (dates ``Y-m-d H:i:s``), plus the joined group columns of the list."""
    data = {
        "id": row["id"],
        "group_id": row["group_id"],
        "member_id": row["member_id"],
        "member_type": row["member_type"],
        "created_at": plain_datetime(row["created_at"]),
        "updated_at": plain_datetime(row["updated_at"]),
    }
    for extra in ("name", "description"):
        if extra in row:
            data[extra] = row[extra]
    return data


@router.route("GET", "/api/1.0/group_members")
def index(ctx: Context) -> Response:
    authz.require(ctx, "view-groups", "view-users", message="Not authorized to view groups.")
    where: list[str] = []
    params: list[Any] = []
    if authz.is_admin(ctx.user):
        member_id = query_value(ctx, "member_id")
        if member_id:
            where.append("group_members.member_id = ?")
            params.append(member_id)
    else:
        # Non-administrators only ever see rows whose member id is their own (of any member type).
        where.append("group_members.member_id = ?")
        params.append((ctx.user or {}).get("id"))
    return sql_list(
        ctx,
        select="SELECT group_members.*, groups.name, groups.description FROM group_members "
        "JOIN groups ON groups.id = group_members.group_id",
        count="SELECT COUNT(*) FROM group_members JOIN groups ON groups.id = group_members.group_id",
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "created_at"),
        serialize=serialize_member,
        tie_breaker="group_members.id",
    )


@router.route("GET", "/api/1.0/group_members/{group_member}")
def show(ctx: Context) -> Response:
    member = load(ctx, MEMBER_BY_ID, ctx.params["group_member"])
    authz.require(ctx, "view-groups")
    return json_response(serialize_member(member))


@router.route("POST", "/api/1.0/group_members")
def store(ctx: Context) -> Response:
    authz.require(ctx, "edit-groups")
    body = read_body(ctx)
    group_id, member_id, member_type = as_id(body.get("group_id")), as_id(body.get("member_id")), body.get("member_type")
    exists = "SELECT id FROM group_members WHERE group_id = ? AND member_type = ? AND member_id = ?"
    # An existing membership answers 201 [] before any validation (the controller's idempotence).
    if ctx.store.scalar(exists, (group_id, member_type, member_id)) is not None:
        return json_response([], 201)
    validate(body, RULES)
    group = ctx.store.one("SELECT * FROM groups WHERE id = ?", (group_id,))
    if group is None:
        raise NotFound()
    if member_type == USER_CLASS:
        member = ctx.store.one("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL", (member_id,))
        serialize = serialize_user
    else:
        member = ctx.store.one("SELECT * FROM groups WHERE id = ?", (member_id,))
        serialize = serialize_group
    if member is None:
        raise NotFound()
    now = db_timestamp()
    try:
        with ctx.store.transaction():
            member_row_id = ctx.store.insert(
                "group_members",
                {"group_id": group["id"], "member_id": member["id"], "member_type": member_type,
                 "created_at": now, "updated_at": now},
            )
    except sqlite3.IntegrityError:
        return json_response([], 201)  # a concurrent request created the same membership
    row = ctx.store.one(MEMBER_BY_ID, (member_row_id,))
    assert row is not None
    data = serialize_member(row)
    data["group"] = serialize_group(group)
    data["member"] = serialize(member)
    return json_response(data, 201)


@router.route("DELETE", "/api/1.0/group_members/{group_member}")
def destroy(ctx: Context) -> Response:
    member = load(ctx, MEMBER_BY_ID, ctx.params["group_member"])
    authz.require(ctx, "edit-groups")
    ctx.store.execute("DELETE FROM group_members WHERE id = ?", (member["id"],))
    return empty_response(204)


@router.route("GET", "/api/1.0/group_members_available")
def groups_available(ctx: Context) -> Response:
    """ACTIVE groups the member (or group) is not in yet; paginated in memory like the controller."""
    group_id = query_value(ctx, "group_id")
    member_id = query_value(ctx, "member_id")
    member_type = query_value(ctx, "member_type")
    by_assigned = query_value(ctx, "order_by") == "assigned" and bool(member_id and member_type)
    excluded: list[Any] = []
    if group_id:
        excluded = [
            row["member_id"]
            for row in ctx.store.all(
                "SELECT member_id FROM group_members WHERE member_type = ? AND CAST(group_id AS TEXT) = ?",
                (GROUP_CLASS, group_id),
            )
        ]
        excluded.append(int(group_id) if group_id.isdigit() else group_id)
    elif member_id and member_type:
        excluded = [
            row["group_id"]
            for row in ctx.store.all(
                "SELECT group_id FROM group_members WHERE member_type = ? AND CAST(member_id AS TEXT) = ?",
                (member_type, member_id),
            )
        ]
    where = ["status = 'ACTIVE'"]
    params: list[Any] = []
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("name LIKE ?")
        params.append(like(filter_text))
    if by_assigned:
        order = order_clause(ctx, {**GROUP_SORTABLE, "assigned": "name COLLATE NOCASE"}, "name")
    else:
        order = order_clause(ctx, GROUP_SORTABLE, "name")
    sql = f"SELECT * FROM groups WHERE {' AND '.join(where)} ORDER BY {order}, id"
    rows = ctx.store.all(sql, tuple(params))
    excluded_set = set(excluded)
    if by_assigned:
        assigned = [row for row in rows if row["id"] in excluded_set]
        rest = [row for row in rows if row["id"] not in excluded_set]
        items = [{**serialize_group(row), "assigned": row["id"] in excluded_set} for row in assigned + rest]
    else:
        items = [serialize_group(row) for row in rows if row["id"] not in excluded_set]
    return paginate(ctx, items)


@router.route("GET", "/api/1.0/user_members_available")
def users_available(ctx: Context) -> Response:
    authz.require(ctx, "view-groups")
    where = ["deleted_at IS NULL", "is_system = 0", "status != 'INACTIVE'"]
    params: list[Any] = []
    group_id = query_value(ctx, "group_id")
    if group_id:
        where.append(
            "id NOT IN (SELECT member_id FROM group_members WHERE member_type = ? AND CAST(group_id AS TEXT) = ?)"
        )
        params.extend([USER_CLASS, group_id])
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("firstname LIKE ? OR lastname LIKE ? OR username LIKE ?")
        params.extend([like(filter_text)] * 3)
    return sql_list(
        ctx,
        select="SELECT * FROM users",
        count="SELECT COUNT(*) FROM users",
        where=where,
        params=params,
        order=order_clause(ctx, USER_SORTABLE, "firstname"),
        serialize=serialize_user,
    )
