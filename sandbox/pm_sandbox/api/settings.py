"""``/settings`` (SettingController): list the visible ones, write a config, add and delete."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import settings
from .common import listing, query_value, read_body, require

router = Router()


@router.route("GET", "/api/1.0/settings")
def index(ctx: Context) -> Response:
    require(ctx, "view-settings")
    query = settings.query(query_value(ctx, "group"), query_value(ctx, "filter"))
    if query_value(ctx, "pmql"):
        # PMQL is not emulated; answer as ProcessMaker does for a query it cannot parse.
        return json_response({"error": "PMQL error"}, 400)
    return listing(
        ctx, query, settings.serialize, settings.SORTABLE, "name", whitelist=True, default_per_page=25,
        ordered=lambda clause: "CAST(json_extract(ui, '$.order') AS INTEGER) ASC, " + clause,
    )


@router.route("PUT", "/api/1.0/settings/{setting}")
def update(ctx: Context) -> Response:
    setting = settings.TABLE.get(ctx.store, ctx.params["setting"])
    require(ctx, "update-settings")
    settings.update(ctx.store, setting, read_body(ctx))
    return empty_response(204)


@router.route("POST", "/api/1.0/settings")
def store(ctx: Context) -> Response:
    require(ctx, "update-settings")
    settings.create(ctx.store, read_body(ctx))
    return json_response([], 201)


@router.route("DELETE", "/api/1.0/settings/{setting}")
def destroy(ctx: Context) -> Response:
    setting = settings.TABLE.get(ctx.store, ctx.params["setting"])
    require(ctx, "update-settings")
    settings.TABLE.delete(ctx.store, setting["id"])
    return empty_response(204)
