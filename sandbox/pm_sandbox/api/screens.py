"""``/screens`` (ScreenController). Listing and reading need no permission, only a token."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, HttpError, Router, empty_response, json_response
from ..security import new_uuid
from ..store import Store, db_timestamp
from ..validation import RuleSet, Unique, validate
from . import authz
from .asset_categories import (
    SCREEN,
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
    "id": "int", "uuid": "text", "screen_category_id": "int", "title": "text", "description": "text",
    "type": "text", "config": "json", "computed": "json", "custom_css": "text", "status": "text", "key": "text",
    "watchers": "json", "translations": "json", "asset_type": "text", "is_template": "int", "is_default": "int",
    "created_at": "date", "updated_at": "date",
}
# Screen::$guarded is id and the timestamps; these are the columns a body may set.
FILLABLE = [
    "title", "description", "type", "config", "computed", "custom_css", "status", "key", "watchers",
    "translations", "asset_type", "is_template", "is_default",
]
NOT_NULL = {"type", "status", "is_template", "is_default"}
SORTABLE = {
    name: f"s.{name} COLLATE NOCASE" if kind == "text" else f"s.{name}"
    for name, kind in COLUMNS.items() if kind != "json"
}
SCREEN_BY_ID = "SELECT * FROM screens WHERE id = ?"


def screen_rules(existing: int | None = None) -> RuleSet:
    """Screen::rules($existing); an empty category is handled first by ``require_category``."""
    return {
        "title": ["required", Unique("screens", "title", existing), "alpha_spaces"],
        "description": ["required"],
        "type": ["required"],
        "screen_category_id": [CategoryRule("screen")],
    }


def serialize_screen(store: Store, row: Row) -> Row:
    data = serialize_columns(row, COLUMNS)
    data["screen_category_id"] = category_attribute(store, SCREEN, row)
    data["projects"] = []
    return data


def screen_values(body: dict[str, Any]) -> dict[str, Any]:
    values = {name: stored(COLUMNS[name], body[name]) for name in FILLABLE if name in body}
    for name in NOT_NULL:
        if name in values and values[name] is None:
            del values[name]
    if not is_empty(body.get("screen_category_id")):
        values["screen_category_id"] = category_ids_from_input(body["screen_category_id"])[0]
    return values


def _validate(ctx: Context, body: dict[str, Any], existing: int | None) -> RuleSet:
    require_category(body, "screen_category_id", creating=existing is None)
    rules = screen_rules(existing)
    validate(body, rules, store=ctx.store)
    return rules


def _save_categories(ctx: Context, screen_id: int, body: dict[str, Any]) -> None:
    if not is_empty(body.get("screen_category_id")):
        sync_categories(ctx.store, SCREEN, screen_id, category_ids_from_input(body["screen_category_id"]))


@router.route("GET", "/api/1.0/screens")
def index(ctx: Context) -> Response:
    joins = " FROM screens s LEFT JOIN categories c ON c.id = s.screen_category_id"
    where = ["c.is_system IS NULL OR c.is_system = 0"]
    params: list[Any] = []
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append("s.title LIKE ? OR s.description LIKE ? OR c.name LIKE ?")
        params.extend([like(filter_text)] * 3)
    types = [part.strip() for part in (query_value(ctx, "type") or "").split(",") if part.strip()]
    if types:
        where.append(f"s.type IN ({', '.join('?' * len(types))})")
        params.extend(types)
    key = query_value(ctx, "key")
    if key:
        where.append("s.key = ?")
        params.append(key)
    return sql_list(
        ctx,
        select="SELECT s.*" + joins,
        count="SELECT COUNT(*)" + joins,
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "title", "ASC"),
        serialize=lambda row: serialize_screen(ctx.store, row),
        tie_breaker="s.id",
    )


@router.route("GET", "/api/1.0/screens/{screen}")
def show(ctx: Context) -> Response:
    screen = load(ctx, SCREEN_BY_ID, ctx.params["screen"])
    return json_response(serialize_screen(ctx.store, screen))


@router.route("POST", "/api/1.0/screens")
def store(ctx: Context) -> Response:
    authz.require(ctx, "create-screens")
    body = read_body(ctx, keep_raw=("content",))
    rules = _validate(ctx, body, None)
    now = db_timestamp()
    values = screen_values(body)
    values.update(uuid=new_uuid(), created_at=now, updated_at=now)

    def write() -> int:
        screen_id = ctx.store.insert("screens", values)
        _save_categories(ctx, screen_id, body)
        return screen_id

    screen_id = save_asset(ctx, body, rules, "title", write)
    row = ctx.store.one(SCREEN_BY_ID, (screen_id,))
    assert row is not None
    return json_response(serialize_screen(ctx.store, row), 201)


@router.route("PUT", "/api/1.0/screens/{screen}")
def update(ctx: Context) -> Response:
    screen = load(ctx, SCREEN_BY_ID, ctx.params["screen"])
    authz.require(ctx, "edit-screens")
    body = read_body(ctx, keep_raw=("content",))
    rules = _validate(ctx, body, screen["id"])
    values = dirty(screen, screen_values(body), COLUMNS)
    if values:  # like Eloquent, a save without changes writes nothing and keeps updated_at
        values["updated_at"] = db_timestamp()

    def write() -> None:
        ctx.store.update("screens", screen["id"], values)
        _save_categories(ctx, screen["id"], body)

    save_asset(ctx, body, rules, "title", write)
    return empty_response(204)


@router.route("DELETE", "/api/1.0/screens/{screen}")
def destroy(ctx: Context) -> Response:
    screen = load(ctx, SCREEN_BY_ID, ctx.params["screen"])
    authz.require(ctx, "delete-screens")
    if screen["is_default"]:
        raise HttpError(
            {"message": "Cannot delete a default screen", "errors": {"is_default": "Default screens cannot be deleted"}},
            422,
        )
    with ctx.store.transaction():
        unassign_all(ctx.store, SCREEN, screen["id"])
        ctx.store.execute("DELETE FROM screens WHERE id = ?", (screen["id"],))
    return empty_response(204)
