"""``/environment_variables`` (EnvironmentVariablesController). The value is write-only."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, json_response
from ..models import environment_variables as variables
from ..models.base import Row
from .common import bound, can, listing, query_value, read_body

router = Router()
ITEM = "/api/1.0/environment_variables/{environment_variable}"
PARAM = "environment_variable"


@router.route("GET", "/api/1.0/environment_variables")
@can("view-environment_variables")
def index(ctx: Context) -> Response:
    query = variables.query(query_value(ctx, "filter"))
    return listing(ctx, query, variables.serialize, variables.SORTABLE, "name", "asc")


@router.route("GET", ITEM)
@bound(variables.TABLE, PARAM, "view-environment_variables")
def show(ctx: Context, variable: Row) -> Response:
    return json_response(variables.serialize(variable))


@router.route("POST", "/api/1.0/environment_variables")
@can("create-environment_variables")
def store(ctx: Context) -> Response:
    created = variables.create(ctx.store, read_body(ctx, keep_raw=("value",)))
    return json_response(variables.serialize(created), 201)


@router.route("PUT", ITEM)
@bound(variables.TABLE, PARAM, "edit-environment_variables")
def update(ctx: Context, variable: Row) -> Response:
    updated = variables.update(ctx.store, variable, read_body(ctx, keep_raw=("value",)))
    return json_response(variables.serialize(updated), 200)


@router.route("DELETE", ITEM)
@bound(variables.TABLE, PARAM, "delete-environment_variables")
def destroy(ctx: Context, variable: Row) -> Response:
    variables.TABLE.delete(ctx.store, variable["id"])
    # response('', 200): an empty body with Laravel's default content type, not JSON "".
    return Response(b"", status=200, content_type="text/html; charset=UTF-8")
