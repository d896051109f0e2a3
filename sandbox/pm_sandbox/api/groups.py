"""``/groups`` and the members of a group (GroupController).

``GET /groups?include=`` eager-loads the named relations (``$query->with($include)``); ``permissions`` is
the one way the API shows what a group holds (Group has no ``$hidden``). ``membersCount`` adds
``group_members_count``. Other relation names are ignored here.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import groups, permissions, users
from ..models.base import GROUP_CLASS, Row
from .common import bound, can, includes, listing, query_value, read_body

router = Router()
VIEWERS = ("view-groups", "create-processes", "edit-processes")
NOT_AUTHORIZED = "Not authorized to view groups."
ITEM = "/api/1.0/groups/{group}"


@router.route("GET", "/api/1.0/groups")
@can(*VIEWERS, "create-projects", "view-projects", message=NOT_AUTHORIZED)
def index(ctx: Context) -> Response:
    wanted = includes(ctx)
    query = groups.query(query_value(ctx, "filter"), query_value(ctx, "status"), count_members="membersCount" in wanted)
    serialize = groups.serialize
    if "permissions" in wanted:
        def serialize(row: Row) -> Row:
            return {**groups.serialize(row), "permissions": permissions.direct(ctx.store, GROUP_CLASS, row["id"])}
    return listing(ctx, query, serialize, groups.SORTABLE, "name")


@router.route("GET", ITEM)
@bound(groups.TABLE, "group", *VIEWERS, message=NOT_AUTHORIZED)
def show(ctx: Context, group: Row) -> Response:
    return json_response(groups.serialize(group))


@router.route("POST", "/api/1.0/groups")
@can("create-groups")
def store(ctx: Context) -> Response:
    return json_response(groups.serialize(groups.create(ctx.store, read_body(ctx))), 201)


@router.route("PUT", ITEM)
@bound(groups.TABLE, "group", "edit-groups")
def update(ctx: Context, group: Row) -> Response:
    groups.update(ctx.store, group, read_body(ctx))
    return empty_response(204)


@router.route("DELETE", ITEM)
@bound(groups.TABLE, "group", "delete-groups")
def destroy(ctx: Context, group: Row) -> Response:
    groups.delete(ctx.store, group)
    return empty_response(204)


@router.route("GET", ITEM + "/users")
@bound(groups.TABLE, "group", "view-groups")
def member_users(ctx: Context, group: Row) -> Response:
    query = groups.member_users(group, query_value(ctx, "filter"))
    return listing(ctx, query, users.serialize, users.SORTABLE, "username")


@router.route("GET", ITEM + "/groups")
@bound(groups.TABLE, "group", "view-groups")
def member_groups(ctx: Context, group: Row) -> Response:
    query = groups.member_groups(group, query_value(ctx, "filter"))
    return listing(ctx, query, groups.serialize, groups.SORTABLE, "name")
