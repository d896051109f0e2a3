"""``/groups`` and the members of a group (GroupController)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import groups, users
from .common import includes, listing, query_value, read_body, require

router = Router()
VIEWERS = ("view-groups", "create-processes", "edit-processes")
NOT_AUTHORIZED = "Not authorized to view groups."


@router.route("GET", "/api/1.0/groups")
def index(ctx: Context) -> Response:
    require(ctx, *VIEWERS, "create-projects", "view-projects", message=NOT_AUTHORIZED)
    query = groups.query(query_value(ctx, "filter"), query_value(ctx, "status"),
                         count_members="membersCount" in includes(ctx))
    return listing(ctx, query, groups.serialize, groups.SORTABLE, "name")


@router.route("GET", "/api/1.0/groups/{group}")
def show(ctx: Context) -> Response:
    group = groups.TABLE.get(ctx.store, ctx.params["group"])
    require(ctx, *VIEWERS, message=NOT_AUTHORIZED)
    return json_response(groups.serialize(group))


@router.route("POST", "/api/1.0/groups")
def store(ctx: Context) -> Response:
    require(ctx, "create-groups")
    return json_response(groups.serialize(groups.create(ctx.store, read_body(ctx))), 201)


@router.route("PUT", "/api/1.0/groups/{group}")
def update(ctx: Context) -> Response:
    group = groups.TABLE.get(ctx.store, ctx.params["group"])
    require(ctx, "edit-groups")
    groups.update(ctx.store, group, read_body(ctx))
    return empty_response(204)


@router.route("DELETE", "/api/1.0/groups/{group}")
def destroy(ctx: Context) -> Response:
    group = groups.TABLE.get(ctx.store, ctx.params["group"])
    require(ctx, "delete-groups")
    groups.delete(ctx.store, group)
    return empty_response(204)


@router.route("GET", "/api/1.0/groups/{group}/users")
def member_users(ctx: Context) -> Response:
    group = groups.TABLE.get(ctx.store, ctx.params["group"])
    require(ctx, "view-groups")
    query = groups.member_users(group, query_value(ctx, "filter"))
    return listing(ctx, query, users.serialize, users.SORTABLE, "username")


@router.route("GET", "/api/1.0/groups/{group}/groups")
def member_groups(ctx: Context) -> Response:
    group = groups.TABLE.get(ctx.store, ctx.params["group"])
    require(ctx, "view-groups")
    return listing(ctx, groups.member_groups(group, query_value(ctx, "filter")), groups.serialize, groups.SORTABLE, "name")
