"""``/permissions`` (PermissionController): the permission catalogue and who holds what."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import permissions
from .common import can, read_body

router = Router()


@router.route("GET", "/api/1.0/permissions")
def index(ctx: Context) -> Response:
    """Every permission, sorted by title, grouped by ``group`` (an object keyed by group name)."""
    return json_response(permissions.catalogue(ctx.store))


@router.route("PUT", "/api/1.0/permissions")
@can("edit-users")
def update(ctx: Context) -> Response:
    permissions.assign(ctx.store, ctx.user or {}, read_body(ctx))
    return empty_response(204)
