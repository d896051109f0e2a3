"""``/users``, ``/deleted_users``, ``/users/restore``, ``/users/{user}/groups`` (UserController)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..errors import Forbidden
from ..http import Context, Router, empty_response, json_response
from ..models import permissions, users
from ..models.base import Row
from .common import bound, can, listing, query_value, read_body

router = Router()
NOT_AUTHORIZED = "Not authorized to update this user."
ITEM = "/api/1.0/users/{user}"


@router.route("GET", "/api/1.0/users")
@can("view-users", "create-processes", "edit-processes", "create-projects", "view-projects",
     message="Not authorized to view users.")
def index(ctx: Context) -> Response:
    query = users.matching(users.query("deleted_at IS NULL", "is_system = 0"), query_value(ctx, "filter"))
    exclude = query_value(ctx, "exclude_ids")
    if exclude:
        ids = exclude.split(",")
        query.also(f"CAST(id AS TEXT) NOT IN ({', '.join('?' * len(ids))})", *(part.strip() for part in ids))
    if "status" in ctx.request.args:
        status = query_value(ctx, "status")
        if status is None:
            query.also("status IS NULL")
        else:
            query.also("status = ?", status)
    if "mention_username" in ctx.request.args:
        query.also("username LIKE ?", f"{query_value(ctx, 'mention_username') or ''}%")
    return listing(ctx, query, users.serialize, users.SORTABLE, "username")


@router.route("GET", "/api/1.0/deleted_users")
@can("view-users")
def deleted_users(ctx: Context) -> Response:
    query = users.matching(users.query("deleted_at IS NOT NULL"), query_value(ctx, "filter"))
    return listing(ctx, query, users.serialize, users.SORTABLE, "username")


@router.route("GET", ITEM)
@bound(users.ACTIVE, "user")
def show(ctx: Context, user: Row) -> Response:
    if not permissions.is_self_or_holds(ctx.store, ctx.user, user, "view-users") and not permissions.holds_any(
        ctx.store, ctx.user, "create-projects"
    ):
        raise Forbidden(NOT_AUTHORIZED)
    return json_response(users.serialize(user))


@router.route("POST", "/api/1.0/users")
@can("create-users")
def store(ctx: Context) -> Response:
    body = read_body(ctx, keep_raw=("username", "password"))
    return json_response(users.serialize(users.create(ctx.store, body, ctx.settings.bcrypt_cost)), 201)


@router.route("PUT", ITEM)
@bound(users.ACTIVE, "user")
def update(ctx: Context, target: Row) -> Response:
    acting = ctx.user or {}
    body = read_body(ctx, keep_raw=("username", "password"))
    if users.touches_username_or_password(target, body) and not permissions.holds_any(
        ctx.store, acting, "edit-user-and-password"
    ):
        raise Forbidden("Not authorized to update the username and password.")
    if not permissions.is_self_or_holds(ctx.store, ctx.user, target, "edit-users"):
        raise Forbidden(NOT_AUTHORIZED)
    admin = permissions.is_admin(acting)
    users.update(ctx.store, target, acting, body, ctx.settings.bcrypt_cost, acting_is_admin=admin)
    return empty_response(204)


@router.route("DELETE", ITEM)
@bound(users.ACTIVE, "user", "delete-users")
def destroy(ctx: Context, target: Row) -> Response:
    users.delete(ctx.store, target)
    return empty_response(204)


@router.route("PUT", "/api/1.0/users/restore")
@can("create-users")
def restore(ctx: Context) -> Response:
    users.restore(ctx.store, read_body(ctx, keep_raw=("username",)))
    return json_response([], 200)


@router.route("PUT", ITEM + "/groups")
@bound(users.ACTIVE, "user", "edit-users")
def update_groups(ctx: Context, target: Row) -> Response:
    body = read_body(ctx)
    if "groups" not in body:
        return json_response([], 400)
    users.set_groups(ctx.store, target, body["groups"])
    return empty_response(204)
