"""``/permissions`` (PermissionController): the permission catalogue and who holds what."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, Forbidden, NotFound, Router, empty_response, json_response
from ..store import db_timestamp
from . import authz
from .common import GROUP_CLASS, USER_CLASS, Row, php_truthy, plain_datetime, read_body
from .group_members import as_id

router = Router()

ADMIN_ONLY = "You are not authorized to modify administrator privileges"


def serialize_permission(row: Row) -> Row:
    return {
        "id": row["id"],
        "uuid": row["uuid"],
        "name": row["name"],
        "title": row["title"],
        "group": row["group"],
        "created_at": plain_datetime(row["created_at"]),
        "updated_at": plain_datetime(row["updated_at"]),
    }


@router.route("GET", "/api/1.0/permissions")
def index(ctx: Context) -> Response:
    """Every permission, sorted by title, grouped by ``group`` (an object keyed by group name)."""
    grouped: dict[str, list[Row]] = {}
    rows = sorted(ctx.store.all("SELECT * FROM permissions"), key=lambda row: (row["title"], row["id"]))
    for row in rows:
        grouped.setdefault(row["group"], []).append(serialize_permission(row))
    return json_response(grouped)


@router.route("PUT", "/api/1.0/permissions")
def update(ctx: Context) -> Response:
    authz.require(ctx, "edit-users")
    body = read_body(ctx)
    acting = ctx.user or {}
    if "user_id" in body:
        target = ctx.store.one("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL", (as_id(body["user_id"]),))
        if target is None:
            raise NotFound()
        assignable_type = USER_CLASS
        # Only an administrator may grant, revoke or touch administrator rights.
        if ("is_administrator" in body or target["is_administrator"]) and not authz.is_admin(acting):
            raise Forbidden(ADMIN_ONLY)
    elif "group_id" in body:
        target = ctx.store.one("SELECT * FROM groups WHERE id = ?", (as_id(body["group_id"]),))
        if target is None:
            raise NotFound()
        assignable_type = GROUP_CLASS
    else:
        raise NotFound()
    with ctx.store.transaction():
        if assignable_type == USER_CLASS and "is_administrator" in body:
            ctx.store.update(
                "users", target["id"],
                {"is_administrator": int(php_truthy(body["is_administrator"])), "updated_at": db_timestamp()},
            )
        if "permission_names" in body:
            _sync(ctx, assignable_type, target["id"], body["permission_names"])
    return empty_response(204)


def _sync(ctx: Context, assignable_type: str, assignable_id: int, names: Any) -> None:
    """Replace the assignable's direct permissions with ``names`` (unknown names are ignored)."""
    wanted = [str(name) for name in names] if isinstance(names, list) else []
    ctx.store.execute(
        "DELETE FROM assignables WHERE assignable_type = ? AND assignable_id = ?", (assignable_type, assignable_id)
    )
    if wanted:
        marks = ", ".join("?" * len(wanted))
        ctx.store.execute(
            "INSERT OR IGNORE INTO assignables (permission_id, assignable_id, assignable_type) "
            f"SELECT id, ?, ? FROM permissions WHERE name IN ({marks})",
            (assignable_id, assignable_type, *wanted),
        )
