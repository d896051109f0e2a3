"""``/screens`` (ScreenController). Listing and reading need no permission, only a token."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import screens
from .common import listing, query_value, read_body, require

router = Router()
MODEL = screens.MODEL


@router.route("GET", "/api/1.0/screens")
def index(ctx: Context) -> Response:
    types = [part.strip() for part in (query_value(ctx, "type") or "").split(",") if part.strip()]
    query = screens.query(query_value(ctx, "filter"), types, query_value(ctx, "key"))
    return listing(ctx, query, lambda row: MODEL.serialize(ctx.store, row), screens.SORTABLE, "title")


@router.route("GET", "/api/1.0/screens/{screen}")
def show(ctx: Context) -> Response:
    return json_response(MODEL.serialize(ctx.store, MODEL.table.get(ctx.store, ctx.params["screen"])))


@router.route("POST", "/api/1.0/screens")
def store(ctx: Context) -> Response:
    require(ctx, "create-screens")
    created = MODEL.create(ctx.store, read_body(ctx, keep_raw=("content",)))
    return json_response(MODEL.serialize(ctx.store, created), 201)


@router.route("PUT", "/api/1.0/screens/{screen}")
def update(ctx: Context) -> Response:
    screen = MODEL.table.get(ctx.store, ctx.params["screen"])
    require(ctx, "edit-screens")
    MODEL.update(ctx.store, screen, read_body(ctx, keep_raw=("content",)))
    return empty_response(204)


@router.route("DELETE", "/api/1.0/screens/{screen}")
def destroy(ctx: Context) -> Response:
    screen = MODEL.table.get(ctx.store, ctx.params["screen"])
    require(ctx, "delete-screens")
    screens.delete(ctx.store, screen)
    return empty_response(204)
