"""``/environment_variables`` (EnvironmentVariablesController). The value is write-only."""

from __future__ import annotations

import sqlite3
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, Router, json_response
from ..security import new_uuid
from ..store import db_timestamp
from ..validation import RuleSet, Unique, taken, validate
from . import authz
from .common import (
    Row,
    is_filled,
    like,
    load,
    order_clause,
    plain_datetime,
    query_value,
    read_body,
    sql_list,
    text_value,
)

router = Router()

MESSAGES = {
    # resources/lang/en/environmentVariables.php
    "name.regex": "Name has to start with a letter and can contain only letters, numbers, and underscores (_).",
}
SORTABLE = {
    "id": "id", "uuid": "uuid COLLATE NOCASE", "name": "name COLLATE NOCASE",
    "description": "description COLLATE NOCASE", "created_at": "created_at", "updated_at": "updated_at",
}
VARIABLE_BY_ID = "SELECT * FROM environment_variables WHERE id = ?"


def variable_rules(existing: int | None = None) -> RuleSet:
    """EnvironmentVariable::rules($existing)."""
    return {
        "name": ["required", "regex:/^[a-zA-Z][a-zA-Z_$0-9]*$/", Unique("environment_variables", "name", existing)],
        "description": ["required"],
        "value": ["nullable"],
    }


def serialize_variable(row: Row) -> Row:
    """The model hides ``value``: no response ever carries it."""
    return {
        "id": row["id"],
        "uuid": row["uuid"],
        "name": row["name"],
        "description": row["description"],
        "created_at": plain_datetime(row["created_at"]),
        "updated_at": plain_datetime(row["updated_at"]),
    }



@router.route("GET", "/api/1.0/environment_variables")
def index(ctx: Context) -> Response:
    authz.require(ctx, "view-environment_variables")
    where: list[str] = []
    params: list[Any] = []
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("name LIKE ? OR description LIKE ?")
        params.extend([like(filter_text)] * 2)
    return sql_list(
        ctx,
        select="SELECT * FROM environment_variables",
        count="SELECT COUNT(*) FROM environment_variables",
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "name", "asc"),
        serialize=serialize_variable,
    )


@router.route("GET", "/api/1.0/environment_variables/{environment_variable}")
def show(ctx: Context) -> Response:
    variable = load(ctx, VARIABLE_BY_ID, ctx.params["environment_variable"])
    authz.require(ctx, "view-environment_variables")
    return json_response(serialize_variable(variable))


@router.route("POST", "/api/1.0/environment_variables")
def store(ctx: Context) -> Response:
    authz.require(ctx, "create-environment_variables")
    body = read_body(ctx, keep_raw=("value",))
    rules = variable_rules()
    validate(body, rules, store=ctx.store, messages=MESSAGES)
    now = db_timestamp()
    values = {
        "uuid": new_uuid(),
        "name": text_value(body["name"]),
        "description": text_value(body["description"]),
        "value": text_value(body.get("value")),
        "created_at": now,
        "updated_at": now,
    }
    try:
        with ctx.store.transaction():
            validate(body, rules, store=ctx.store, messages=MESSAGES)
            variable_id = ctx.store.insert("environment_variables", values)
    except sqlite3.IntegrityError as error:
        raise taken("name") from error
    row = ctx.store.one(VARIABLE_BY_ID, (variable_id,))
    assert row is not None
    return json_response(serialize_variable(row), 201)


@router.route("PUT", "/api/1.0/environment_variables/{environment_variable}")
def update(ctx: Context) -> Response:
    variable = load(ctx, VARIABLE_BY_ID, ctx.params["environment_variable"])
    authz.require(ctx, "edit-environment_variables")
    body = read_body(ctx, keep_raw=("value",))
    rules = variable_rules(variable["id"])
    validate(body, rules, store=ctx.store, messages=MESSAGES)
    values = {
        "name": text_value(body["name"]),
        "description": text_value(body["description"]),
        "updated_at": db_timestamp(),
    }
    if is_filled(body.get("value")):  # an empty value keeps the stored one
        values["value"] = text_value(body["value"])
    try:
        with ctx.store.transaction():
            validate(body, rules, store=ctx.store, messages=MESSAGES)
            ctx.store.update("environment_variables", variable["id"], values)
    except sqlite3.IntegrityError as error:
        raise taken("name") from error
    row = ctx.store.one(VARIABLE_BY_ID, (variable["id"],))
    assert row is not None
    return json_response(serialize_variable(row), 200)


@router.route("DELETE", "/api/1.0/environment_variables/{environment_variable}")
def destroy(ctx: Context) -> Response:
    variable = load(ctx, VARIABLE_BY_ID, ctx.params["environment_variable"])
    authz.require(ctx, "delete-environment_variables")
    ctx.store.execute("DELETE FROM environment_variables WHERE id = ?", (variable["id"],))
    # response('', 200): an empty body with Laravel's default content type, not JSON "".
    return Response(b"", status=200, content_type="text/html; charset=UTF-8")
