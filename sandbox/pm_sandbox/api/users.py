"""``/users``, ``/deleted_users``, ``/users/restore``, ``/users/{user}/groups`` (UserController)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..errors import Forbidden
from ..http import Context, Router, empty_response, json_response
from ..models import permissions, users
from .common import listing, query_value, read_body, require

router = Router()
NOT_AUTHORIZED = "Not authorized to update this user."


@router.route("GET", "/api/1.0/users")
def index(ctx: Context) -> Response:
    require(ctx, "view-users", "create-processes", "edit-processes", "create-projects", "view-projects",
            message="Not authorized to view users.")
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
def deleted_users(ctx: Context) -> Response:
    require(ctx, "view-users")
    query = users.matching(users.query("deleted_at IS NOT NULL"), query_value(ctx, "filter"))
    return listing(ctx, query, users.serialize, users.SORTABLE, "username")


@router.route("GET", "/api/1.0/users/{user}")
def show(ctx: Context) -> Response:
    user = users.ACTIVE.get(ctx.store, ctx.params["user"])
    if not permissions.is_self_or_holds(ctx.store, ctx.user, user, "view-users") and not permissions.holds_any(
        ctx.store, ctx.user, "create-projects"
    ):
        raise Forbidden(NOT_AUTHORIZED)
    return json_response(users.serialize(user))


@router.route("POST", "/api/1.0/users")
def store(ctx: Context) -> Response:
    require(ctx, "create-users")
    body = read_body(ctx, keep_raw=("username", "password"))
    return json_response(users.serialize(users.create(ctx.store, body, ctx.settings.bcrypt_cost)), 201)


@router.route("PUT", "/api/1.0/users/{user}")
def update(ctx: Context) -> Response:
    target = users.ACTIVE.get(ctx.store, ctx.params["user"])
    acting = ctx.user or {}
    body = read_body(ctx, keep_raw=("username", "password"))
    if users.touches_username_or_password(target, body) and not permissions.holds_any(
        ctx.store, acting, "edit-user-and-password"
    ):
        raise Forbidden("Not authorized to update the username and password.")
    if not permissions.is_self_or_holds(ctx.store, ctx.user, target, "edit-users"):
        raise Forbidden(NOT_AUTHORIZED)
    users.update(ctx.store, target, acting, body, ctx.settings.bcrypt_cost, acting_is_admin=permissions.is_admin(acting))
    return empty_response(204)


@router.route("DELETE", "/api/1.0/users/{user}")
def destroy(ctx: Context) -> Response:
    target = users.ACTIVE.get(ctx.store, ctx.params["user"])
    require(ctx, "delete-users")
    users.delete(ctx.store, target)
    return empty_response(204)


@router.route("PUT", "/api/1.0/users/restore")
def restore(ctx: Context) -> Response:
    require(ctx, "create-users")
    users.restore(ctx.store, read_body(ctx, keep_raw=("username",)))
    return json_response([], 200)


@router.route("PUT", "/api/1.0/users/{user}/groups")
def update_groups(ctx: Context) -> Response:
    target = users.ACTIVE.get(ctx.store, ctx.params["user"])
    require(ctx, "edit-users")
    body = read_body(ctx)
    if "groups" not in body:
        return json_response([], 400)
    users.set_groups(ctx.store, target, body["groups"])
    return empty_response(204)
