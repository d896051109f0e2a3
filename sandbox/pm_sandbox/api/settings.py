"""``/settings`` (SettingController): list the visible ones, write a config, add and delete."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import settings
from ..models.base import Row
from .common import bound, can, listing, query_value, read_body

router = Router()
ITEM = "/api/1.0/settings/{setting}"


@router.route("GET", "/api/1.0/settings")
@can("view-settings")
def index(ctx: Context) -> Response:
    query = settings.query(query_value(ctx, "group"), query_value(ctx, "filter"))
    if query_value(ctx, "pmql"):
        # PMQL is not emulated; answer as ProcessMaker does for a query it cannot parse.
        return json_response({"error": "PMQL error"}, 400)
    return listing(
        ctx, query, settings.serialize, settings.SORTABLE, "name", whitelist=True, default_per_page=25,
        ordered=lambda clause: "CAST(json_extract(ui, '$.order') AS INTEGER) ASC, " + clause,
    )


@router.route("PUT", ITEM)
@bound(settings.TABLE, "setting", "update-settings")
def update(ctx: Context, setting: Row) -> Response:
    settings.update(ctx.store, setting, read_body(ctx))
    return empty_response(204)


@router.route("POST", "/api/1.0/settings")
@can("update-settings")
def store(ctx: Context) -> Response:
    settings.create(ctx.store, read_body(ctx))
    return json_response([], 201)


@router.route("DELETE", ITEM)
@bound(settings.TABLE, "setting", "update-settings")
def destroy(ctx: Context, setting: Row) -> Response:
    settings.TABLE.delete(ctx.store, setting["id"])
    return empty_response(204)
