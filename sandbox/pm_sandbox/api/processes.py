"""``/processes`` (ProcessController): list, show, create, update, archive, restore, the BPMN.

An unknown id on show answers 204 with no body, as ProcessMaker does; update answers 200 with the resource.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import processes
from ..models.base import Row
from .common import includes, listing, query_value, read_body, require

router = Router()
TABLE = processes.MODEL.table


def _resource(ctx: Context, row: Row, status: int = 200) -> Response:
    return json_response(processes.serialize(ctx.store, row, includes(ctx)), status)


@router.route("GET", "/api/1.0/processes")
def index(ctx: Context) -> Response:
    require(ctx, "view-processes")
    query = processes.query(query_value(ctx, "status"), query_value(ctx, "filter"), query_value(ctx, "category"),
                            query_value(ctx, "cat_status"))
    chosen = includes(ctx)
    return listing(ctx, query, lambda row: processes.serialize(ctx.store, row, chosen), processes.SORTABLE, "name",
                   "asc")


@router.route("GET", "/api/1.0/processes/{process}")
def show(ctx: Context) -> Response:
    require(ctx, "view-processes")
    row = TABLE.find(ctx.store, ctx.params["process"])
    if row is None:
        # response()->json(['message' => 'The requested process was not found'], 204): HTTP 204 has no body.
        return empty_response(204)
    return _resource(ctx, row)


@router.route("POST", "/api/1.0/processes")
def store(ctx: Context) -> Response:
    require(ctx, "create-processes")
    body = read_body(ctx, keep_raw=("bpmn", "svg"))
    upload = ctx.request.files.get("file")  # a multipart ``file`` part is the BPMN
    if upload is not None:
        body["bpmn"] = upload.read().decode("utf-8", errors="replace")
    return _resource(ctx, processes.create(ctx.store, body, ctx.user["id"] if ctx.user else None), 201)


@router.route("PUT", "/api/1.0/processes/{process}")
def update(ctx: Context) -> Response:
    process = TABLE.get(ctx.store, ctx.params["process"])
    require(ctx, "edit-processes")
    body = read_body(ctx, keep_raw=("bpmn", "svg"))
    return _resource(ctx, processes.update(ctx.store, process, body, ctx.user["id"] if ctx.user else None))


@router.route("DELETE", "/api/1.0/processes/{process}")
def destroy(ctx: Context) -> Response:
    process = TABLE.get(ctx.store, ctx.params["process"])
    require(ctx, "archive-processes")
    processes.set_status(ctx.store, process, "ARCHIVED")
    return empty_response(204)


@router.route("PUT", "/api/1.0/processes/{process}/restore")
def restore(ctx: Context) -> Response:
    process = TABLE.get(ctx.store, ctx.params["process"])
    require(ctx, "archive-processes")
    return _resource(ctx, processes.set_status(ctx.store, process, "ACTIVE"))


@router.route("GET", "/api/1.0/processes/{process}/bpmn")
def download_bpmn(ctx: Context) -> Response:
    process = TABLE.get(ctx.store, ctx.params["process"])
    require(ctx, "view-processes")
    response = Response(process["bpmn"], status=200, content_type="application/xml")
    response.headers["Content-Disposition"] = "attachment; filename=bpmnProcess.bpmn"
    return response
