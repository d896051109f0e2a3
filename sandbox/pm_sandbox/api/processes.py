"""``/processes`` (ProcessController): list, show, create, update, archive, restore, the BPMN.

An unknown id on show answers 204 with no body, as ProcessMaker does; update answers 200 with the resource.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import process_versions, processes
from ..models.base import Row
from .common import bound, can, includes, listing, query_value, read_body

router = Router()
TABLE = processes.MODEL.table
ITEM = "/api/1.0/processes/{process}"


def _resource(ctx: Context, row: Row, status: int = 200) -> Response:
    return json_response(processes.serialize(ctx.store, row, includes(ctx)), status)


def _user_id(ctx: Context) -> int | None:
    return ctx.user["id"] if ctx.user else None


@router.route("GET", "/api/1.0/processes")
@can("view-processes")
def index(ctx: Context) -> Response:
    query = processes.query(query_value(ctx, "status"), query_value(ctx, "filter"), query_value(ctx, "category"),
                            query_value(ctx, "cat_status"))
    chosen = includes(ctx)
    return listing(ctx, query, lambda row: processes.serialize(ctx.store, row, chosen), processes.SORTABLE, "name",
                   "asc")


@router.route("GET", ITEM)
@can("view-processes")
def show(ctx: Context) -> Response:
    row = TABLE.find(ctx.store, ctx.params["process"])
    if row is None:
        # response()->json(['message' => 'The requested process was not found'], 204): HTTP 204 has no body.
        return empty_response(204)
    return _resource(ctx, row)


@router.route("POST", "/api/1.0/processes")
@can("create-processes")
def store(ctx: Context) -> Response:
    body = read_body(ctx, keep_raw=("bpmn", "svg"))
    upload = ctx.request.files.get("file")  # a multipart ``file`` part is the BPMN
    if upload is not None:
        body["bpmn"] = upload.read().decode("utf-8", errors="replace")
    return _resource(ctx, processes.create(ctx.store, body, _user_id(ctx)), 201)


@router.route("PUT", ITEM)
@bound(TABLE, "process", "edit-processes")
def update(ctx: Context, process: Row) -> Response:
    body = read_body(ctx, keep_raw=("bpmn", "svg"))
    updated = processes.update(ctx.store, process, body, _user_id(ctx))
    process_versions.sync(ctx.store, process["id"], body)  # cancel_request, edit_data
    return _resource(ctx, updated)


@router.route("DELETE", ITEM)
@bound(TABLE, "process", "archive-processes")
def destroy(ctx: Context, process: Row) -> Response:
    processes.set_status(ctx.store, process, "ARCHIVED")
    return empty_response(204)


@router.route("PUT", ITEM + "/restore")
@bound(TABLE, "process", "archive-processes")
def restore(ctx: Context, process: Row) -> Response:
    return _resource(ctx, processes.set_status(ctx.store, process, "ACTIVE"))


@router.route("GET", ITEM + "/bpmn")
@bound(TABLE, "process", "view-processes")
def download_bpmn(ctx: Context, process: Row) -> Response:
    response = Response(process["bpmn"], status=200, content_type="application/xml")
    response.headers["Content-Disposition"] = "attachment; filename=bpmnProcess.bpmn"
    return response
