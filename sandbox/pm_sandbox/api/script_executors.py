"""``/script-executors`` (ScriptExecutorController). No route middleware: the controller checks
``is_administrator`` itself on index, store and update; delete, cancel and available-languages check nothing.
There is no GET of one executor (the path falls to the API's fallback, 404)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..errors import Forbidden
from ..http import Context, Router, json_response, paginate
from ..models import permissions
from ..models import script_executors as executors
from ..models.base import Row, order_by
from .common import bound, query_value, read_body

router = Router()
ITEM = "/api/1.0/script-executors/{script_executor}"


def _administrator(ctx: Context) -> None:
    """checkAuth(): ``throw new AuthorizationException`` for anyone but an administrator."""
    if not permissions.is_admin(ctx.user):
        raise Forbidden()


@router.route("GET", "/api/1.0/script-executors")
def index(ctx: Context) -> Response:
    """All non-system executors, paginated in memory; ``order_by`` (any column, else a 500) and
    ``order_direction`` only when ``order_by`` is given; ``filter`` is not applied."""
    _administrator(ctx)
    rows = executors.listing(ctx.store)
    if "order_by" in ctx.request.args:
        requested = query_value(ctx, "order_by") or ""
        clause = order_by(executors.SORTABLE, requested, query_value(ctx, "order_direction"), requested)
        rows = ctx.store.all(f"SELECT * FROM script_executors WHERE is_system = 0 ORDER BY {clause}, id")
    return paginate(ctx, executors.serialize_all(ctx.store, rows))


@router.route("GET", "/api/1.0/script-executors/available-languages")
def available_languages(ctx: Context) -> Response:
    return json_response(executors.available_languages())


@router.route("POST", "/api/1.0/script-executors")
def store(ctx: Context) -> Response:
    _administrator(ctx)
    row = executors.create(ctx.store, read_body(ctx), ctx.user["id"], ctx.settings.executor_build_seconds)
    return json_response({"status": "started", "id": row["id"]})


@router.route("PUT", ITEM)
@bound(executors.TABLE, "script_executor")
def update(ctx: Context, row: Row) -> Response:
    _administrator(ctx)
    executors.update(ctx.store, row, read_body(ctx), ctx.user["id"], ctx.settings.executor_build_seconds)
    return json_response({"status": "started"})


@router.route("DELETE", ITEM)
@bound(executors.TABLE, "script_executor")
def delete(ctx: Context, row: Row) -> Response:
    executors.delete(ctx.store, row)
    return json_response({"status": "done"})


@router.route("POST", "/api/1.0/script-executors/cancel")
def cancel(ctx: Context) -> Response:
    """``$request->input('pidFile')``: the pid file of a running build, as its ``starting`` event gave it."""
    body = read_body(ctx)
    pid_file = body.get("pidFile", query_value(ctx, "pidFile"))
    return json_response({"status": "canceled", "pid": executors.cancel(ctx.store, pid_file)})
