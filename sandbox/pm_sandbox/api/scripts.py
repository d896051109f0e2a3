"""``/scripts`` (ScriptController). Scripts with a ``key`` are system scripts and are never listed.

Script executors are not a resource here: the sandbox has one fixed executor per language, as an
installation with the usual executor packages would (``config('script-runners')``).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..security import new_uuid
from ..store import Store, db_timestamp
from ..validation import RuleSet, Unique, validate
from . import authz
from .asset_categories import (
    SCRIPT,
    CategoryRule,
    category_attribute,
    category_ids_from_input,
    is_empty,
    require_category,
    save_asset,
    sync_categories,
    unassign_all,
)
from .columns import Columns, dirty, serialize_columns, stored
from .common import Row, like, load, order_clause, query_value, read_body, sql_list

router = Router()

COLUMNS: Columns = {
    "id": "int", "uuid": "text", "key": "text", "title": "text", "description": "text", "language": "text",
    "code": "text", "timeout": "int", "run_as_user_id": "int", "status": "text", "script_category_id": "int",
    "script_executor_id": "int", "retry_attempts": "int", "retry_wait_time": "int", "asset_type": "text",
    "is_template": "int", "created_at": "date", "updated_at": "date",
}
FILLABLE = [
    "key", "title", "description", "language", "code", "timeout", "run_as_user_id", "status", "script_executor_id",
    "retry_attempts", "retry_wait_time", "asset_type", "is_template",
]
NOT_NULL = {"language", "timeout", "status", "retry_attempts", "retry_wait_time", "is_template"}
SORTABLE = {
    name: f"s.{name} COLLATE NOCASE" if kind == "text" else f"s.{name}" for name, kind in COLUMNS.items()
}
SCRIPT_BY_ID = "SELECT * FROM scripts WHERE id = ?"

# Script executor id → language. lua and r are deprecated: kept for existing scripts, refused on create.
EXECUTORS = {1: "php", 2: "javascript", 3: "python", 4: "csharp", 5: "java", 6: "lua", 7: "r", 8: "php-nayra"}
DEPRECATED_LANGUAGES = {"lua", "r"}


def languages(creating: bool) -> list[str]:
    return [lang for lang in EXECUTORS.values() if not (creating and lang in DEPRECATED_LANGUAGES)]


def script_rules(existing: int | None = None) -> RuleSet:
    """Script::rules($existing); an empty category is handled first by ``require_category``."""
    creating = existing is None
    return {
        "key": [Unique("scripts", "key", existing)],
        "title": ["required", "string", Unique("scripts", "title", existing), "alpha_spaces"],
        "language": ["required_without:script_executor_id", "in:" + ",".join(languages(creating))],
        "script_executor_id": ["required_without:language", "in:" + ",".join(str(i) for i in EXECUTORS)],
        "description": ["required"],
        "run_as_user_id": ["required"],
        "timeout": ["integer", "min:0", "max:65535"],
        "retry_attempts": ["integer", "min:0", "max:65535"],
        "retry_wait_time": ["integer", "min:0", "max:65535"],
        "script_category_id": [CategoryRule("script")],
    }


def serialize_script(store: Store, row: Row) -> Row:
    data = serialize_columns(row, COLUMNS)
    data["script_category_id"] = category_attribute(store, SCRIPT, row)
    data["projects"] = []
    return data


def default_executor(language: str | None) -> int | None:
    """Script::setDefaultExecutor: the first executor for the language."""
    return next((executor for executor, lang in EXECUTORS.items() if lang == (language or "").lower()), None)


def script_values(body: dict[str, Any]) -> dict[str, Any]:
    """The fillable fields a body sends; language and executor each follow the other when only one is sent."""
    values = {name: stored(COLUMNS[name], body[name]) for name in FILLABLE if name in body}
    for name in NOT_NULL:
        if name in values and values[name] is None:
            del values[name]
    if values.get("script_executor_id") and "language" not in values:
        values["language"] = EXECUTORS[values["script_executor_id"]]
    elif "language" in values and not values.get("script_executor_id"):
        values["script_executor_id"] = default_executor(values["language"])
    if not is_empty(body.get("script_category_id")):
        values["script_category_id"] = category_ids_from_input(body["script_category_id"])[0]
    return values


def _validate(ctx: Context, body: dict[str, Any], existing: int | None) -> RuleSet:
    require_category(body, "script_category_id", creating=existing is None)
    rules = script_rules(existing)
    validate(body, rules, store=ctx.store)
    return rules


def _save_categories(ctx: Context, script_id: int, body: dict[str, Any]) -> None:
    if not is_empty(body.get("script_category_id")):
        sync_categories(ctx.store, SCRIPT, script_id, category_ids_from_input(body["script_category_id"]))


@router.route("GET", "/api/1.0/scripts")
def index(ctx: Context) -> Response:
    authz.require(ctx, "view-scripts")
    joins = " FROM scripts s LEFT JOIN categories c ON c.id = s.script_category_id"
    where = ["s.key IS NULL", "c.is_system IS NULL OR c.is_system = 0"]
    params: list[Any] = []
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("s.title LIKE ? OR s.description LIKE ? OR s.language LIKE ? OR c.name LIKE ?")
        params.extend([like(filter_text)] * 4)
    return sql_list(
        ctx,
        select="SELECT s.*" + joins,
        count="SELECT COUNT(*)" + joins,
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "title", "ASC"),
        serialize=lambda row: serialize_script(ctx.store, row),
        tie_breaker="s.id",
    )


@router.route("GET", "/api/1.0/scripts/{script}")
def show(ctx: Context) -> Response:
    script = load(ctx, SCRIPT_BY_ID, ctx.params["script"])
    authz.require(ctx, "view-scripts")
    return json_response(serialize_script(ctx.store, script))


@router.route("POST", "/api/1.0/scripts")
def store(ctx: Context) -> Response:
    authz.require(ctx, "create-scripts")
    body = read_body(ctx, keep_raw=("code",))
    rules = _validate(ctx, body, None)
    now = db_timestamp()
    values = script_values(body)
    values.update(uuid=new_uuid(), created_at=now, updated_at=now)

    def write() -> int:
        script_id = ctx.store.insert("scripts", values)
        _save_categories(ctx, script_id, body)
        return script_id

    script_id = save_asset(ctx, body, rules, "title", write)
    row = ctx.store.one(SCRIPT_BY_ID, (script_id,))
    assert row is not None
    return json_response(serialize_script(ctx.store, row), 201)


@router.route("PUT", "/api/1.0/scripts/{script}")
def update(ctx: Context) -> Response:
    script = load(ctx, SCRIPT_BY_ID, ctx.params["script"])
    authz.require(ctx, "edit-scripts")
    body = read_body(ctx, keep_raw=("code",))
    rules = _validate(ctx, body, script["id"])
    values = dirty(script, script_values(body), COLUMNS)
    if values:  # like Eloquent, a save without changes writes nothing and keeps updated_at
        values["updated_at"] = db_timestamp()

    def write() -> None:
        ctx.store.update("scripts", script["id"], values)
        _save_categories(ctx, script["id"], body)

    save_asset(ctx, body, rules, "title", write)
    return empty_response(204)


@router.route("DELETE", "/api/1.0/scripts/{script}")
def destroy(ctx: Context) -> Response:
    script = load(ctx, SCRIPT_BY_ID, ctx.params["script"])
    authz.require(ctx, "delete-scripts")
    with ctx.store.transaction():
        unassign_all(ctx.store, SCRIPT, script["id"])
        ctx.store.execute("DELETE FROM scripts WHERE id = ?", (script["id"],))
    return empty_response(204)

