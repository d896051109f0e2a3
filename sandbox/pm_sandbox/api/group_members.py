"""``/group_members``, ``/group_members_available``, ``/user_members_available`` (GroupMemberController)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response, paginate
from ..models import group_members, groups, permissions, users
from ..models.base import Row
from .common import bound, can, listing, order, query_value, read_body

router = Router()
ITEM = "/api/1.0/group_members/{group_member}"


@router.route("GET", "/api/1.0/group_members")
@can("view-groups", "view-users", message="Not authorized to view groups.")
def index(ctx: Context) -> Response:
    if permissions.is_admin(ctx.user):
        member_id = query_value(ctx, "member_id")
    else:  # non-administrators only ever see rows whose member id is their own (of any member type)
        member_id = (ctx.user or {}).get("id")
    return listing(ctx, group_members.query(member_id), group_members.serialize, group_members.SORTABLE, "created_at")


@router.route("GET", ITEM)
@bound(group_members.TABLE, "group_member", "view-groups")
def show(ctx: Context, member: Row) -> Response:
    return json_response(group_members.serialize(member))


@router.route("POST", "/api/1.0/group_members")
@can("edit-groups")
def store(ctx: Context) -> Response:
    created = group_members.create(ctx.store, read_body(ctx))
    return json_response([] if created is None else created, 201)


@router.route("DELETE", ITEM)
@bound(group_members.TABLE, "group_member", "edit-groups")
def destroy(ctx: Context, member: Row) -> Response:
    group_members.TABLE.delete(ctx.store, member["id"])
    return empty_response(204)


@router.route("GET", "/api/1.0/group_members_available")
def groups_available(ctx: Context) -> Response:
    """Paginated in memory, like the controller."""
    member_id, member_type = query_value(ctx, "member_id"), query_value(ctx, "member_type")
    by_assigned = query_value(ctx, "order_by") == "assigned" and bool(member_id and member_type)
    sortable = {**groups.SORTABLE, "assigned": "name COLLATE NOCASE"} if by_assigned else groups.SORTABLE
    items = group_members.available_groups(
        ctx.store, query_value(ctx, "group_id"), member_id, member_type, query_value(ctx, "filter"),
        order(ctx, sortable, "name"), by_assigned,
    )
    return paginate(ctx, items)


@router.route("GET", "/api/1.0/user_members_available")
@can("view-groups")
def users_available(ctx: Context) -> Response:
    query = group_members.available_users(query_value(ctx, "group_id"), query_value(ctx, "filter"))
    return listing(ctx, query, users.serialize, users.SORTABLE, "firstname")
