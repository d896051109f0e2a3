"""``/process_events/{process}`` (ProcessController::triggerStartEvent) and ``/requests``
(ProcessRequestController): start, list, show, update (cancel, complete from ERROR, edit data), delete,
and the map's token information."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..errors import Aborted, Forbidden
from ..http import Context, Router, empty_response, json_response, paginate
from ..models import process_requests, process_versions, processes
from ..models.base import Row
from .common import bound, includes, query_value, read_body

router = Router()
TABLE = process_requests.REQUESTS
ITEM = "/api/1.0/requests/{request}"


@router.route("POST", "/api/1.0/process_events/{process}")
@bound(processes.MODEL.table, "process")
def trigger_start_event(ctx: Context, process: Row) -> Response:
    assert ctx.user is not None
    event = ctx.request.args.get("event")
    definition = process_requests.parse_process(process)
    if not process_versions.can_start(ctx.store, ctx.user, process, definition, event):
        raise Forbidden()
    data = read_body(ctx, keep_raw=("bpmn", "svg"))
    request = process_requests.start(ctx.store, process, event, data, ctx.user)
    return json_response(process_requests.serialize(ctx.store, request, includes(ctx)), 201)


@router.route("GET", "/api/1.0/requests")
def index(ctx: Context) -> Response:
    assert ctx.user is not None
    if query_value(ctx, "pmql"):
        raise Aborted(400, process_requests.PMQL_UNSUPPORTED)
    query = process_requests.query(ctx.store, ctx.user, query_value(ctx, "type"), query_value(ctx, "filter"))
    if query_value(ctx, "total") == "true":
        return json_response({"meta": {"total": query.count(ctx.store)}})
    clause = process_requests.order(query_value(ctx, "order_by"), query_value(ctx, "order_direction"))
    chosen = includes(ctx)
    return paginate(
        ctx,
        total=query.count(ctx.store),
        fetch=lambda limit, offset: [
            process_requests.serialize(ctx.store, row, chosen, listed=True)
            for row in query.rows(ctx.store, clause, limit, offset)
        ],
    )


@router.route("GET", ITEM)
@bound(TABLE, "request")
def show(ctx: Context, request: Row) -> Response:
    assert ctx.user is not None
    process_requests.require(process_requests.can_view(ctx.store, ctx.user, request))
    return json_response(process_requests.serialize(ctx.store, request, includes(ctx)))


@router.route("PUT", ITEM)
@bound(TABLE, "request")
def update(ctx: Context, request: Row) -> Response:
    assert ctx.user is not None
    process_requests.require(process_requests.can_update(ctx.store, ctx.user, request))
    process_requests.update(ctx.store, request, ctx.user, read_body(ctx, keep_raw=("data", "pmql")))
    return empty_response(204)


@router.route("DELETE", ITEM)
@bound(TABLE, "request")
def destroy(ctx: Context, request: Row) -> Response:
    assert ctx.user is not None
    process_requests.require(process_requests.can_destroy(ctx.user, request))
    process_requests.delete(ctx.store, request)
    return empty_response(204)


@router.route("GET", ITEM + "/tokens")
@bound(TABLE, "request")
def tokens(ctx: Context, request: Row) -> Response:
    assert ctx.user is not None
    process_requests.require(process_requests.can_view(ctx.store, ctx.user, request))
    return json_response(process_requests.token_info(ctx.store, request, query_value(ctx, "element_id")))

