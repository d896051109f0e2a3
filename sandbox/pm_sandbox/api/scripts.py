"""``/scripts`` (ScriptController)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import scripts
from .common import listing, query_value, read_body, require

router = Router()
MODEL = scripts.MODEL


@router.route("GET", "/api/1.0/scripts")
def index(ctx: Context) -> Response:
    require(ctx, "view-scripts")
    query = scripts.query(query_value(ctx, "filter"))
    return listing(ctx, query, lambda row: MODEL.serialize(ctx.store, row), scripts.SORTABLE, "title")


@router.route("GET", "/api/1.0/scripts/{script}")
def show(ctx: Context) -> Response:
    script = MODEL.table.get(ctx.store, ctx.params["script"])
    require(ctx, "view-scripts")
    return json_response(MODEL.serialize(ctx.store, script))


@router.route("POST", "/api/1.0/scripts")
def store(ctx: Context) -> Response:
    require(ctx, "create-scripts")
    created = MODEL.create(ctx.store, read_body(ctx, keep_raw=("code",)))
    return json_response(MODEL.serialize(ctx.store, created), 201)


@router.route("PUT", "/api/1.0/scripts/{script}")
def update(ctx: Context) -> Response:
    script = MODEL.table.get(ctx.store, ctx.params["script"])
    require(ctx, "edit-scripts")
    MODEL.update(ctx.store, script, read_body(ctx, keep_raw=("code",)))
    return empty_response(204)


@router.route("DELETE", "/api/1.0/scripts/{script}")
def destroy(ctx: Context) -> Response:
    script = MODEL.table.get(ctx.store, ctx.params["script"])
    require(ctx, "delete-scripts")
    MODEL.delete(ctx.store, script)
    return empty_response(204)
