"""``/environment_variables`` (EnvironmentVariablesController). The value is write-only."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, json_response
from ..models import environment_variables as variables
from .common import listing, query_value, read_body, require

router = Router()


@router.route("GET", "/api/1.0/environment_variables")
def index(ctx: Context) -> Response:
    require(ctx, "view-environment_variables")
    return listing(ctx, variables.query(query_value(ctx, "filter")), variables.serialize, variables.SORTABLE,
                   "name", "asc")


@router.route("GET", "/api/1.0/environment_variables/{environment_variable}")
def show(ctx: Context) -> Response:
    variable = variables.TABLE.get(ctx.store, ctx.params["environment_variable"])
    require(ctx, "view-environment_variables")
    return json_response(variables.serialize(variable))


@router.route("POST", "/api/1.0/environment_variables")
def store(ctx: Context) -> Response:
    require(ctx, "create-environment_variables")
    created = variables.create(ctx.store, read_body(ctx, keep_raw=("value",)))
    return json_response(variables.serialize(created), 201)


@router.route("PUT", "/api/1.0/environment_variables/{environment_variable}")
def update(ctx: Context) -> Response:
    variable = variables.TABLE.get(ctx.store, ctx.params["environment_variable"])
    require(ctx, "edit-environment_variables")
    updated = variables.update(ctx.store, variable, read_body(ctx, keep_raw=("value",)))
    return json_response(variables.serialize(updated), 200)


@router.route("DELETE", "/api/1.0/environment_variables/{environment_variable}")
def destroy(ctx: Context) -> Response:
    variable = variables.TABLE.get(ctx.store, ctx.params["environment_variable"])
    require(ctx, "delete-environment_variables")
    variables.TABLE.delete(ctx.store, variable["id"])
    # response('', 200): an empty body with Laravel's default content type, not JSON "".
    return Response(b"", status=200, content_type="text/html; charset=UTF-8")
