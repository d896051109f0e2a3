"""``/process_categories``, ``/screen_categories``, ``/script_categories``: one shape, three kinds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Response

from ..http import (
    Context,
    HttpError,
    Router,
    empty_response,
    json_response,
)
from ..security import new_uuid
from ..store import Store, db_timestamp
from ..validation import RuleSet, Unique, taken, validate
from . import authz
from .asset_categories import PROCESS, SCREEN, SCRIPT, AssetKind, count_assets
from .common import (
    Row,
    iso8601,
    like,
    load,
    order_clause,
    query_value,
    read_body,
    sql_list,
    text_value,
)

router = Router()

SORTABLE = {
    "id": "id", "uuid": "uuid COLLATE NOCASE", "name": "name COLLATE NOCASE", "status": "status COLLATE NOCASE",
    "is_system": "is_system", "created_at": "created_at", "updated_at": "updated_at",
}


def _no_assets(store: Store, category_id: int) -> int:
    """The default for a kind of category that nothing can be assigned to."""
    return 0


def _assets_in(asset: AssetKind) -> Callable[[Store, int], int]:
    """Counts the processes, screens or scripts in a category (column or assignment)."""
    return lambda store, category_id: count_assets(store, asset, category_id)


@dataclass(frozen=True)
class Kind:
    kind: str  # the categories.kind column
    path: str  # URL segment
    param: str  # route parameter
    permission: str  # e.g. "process-categories" in view-process-categories
    assets: str  # what may be assigned, for the in-use 422 ("processes")
    count_assets: Callable[[Store, int], int] = _no_assets
    count_include: str = ""  # include= value that adds "<assets>_count"


KINDS = [
    Kind("process", "process_categories", "process_category", "process-categories", "processes",
         _assets_in(PROCESS), count_include="processesCount"),
    Kind("screen", "screen_categories", "screen_category", "screen-categories", "screens", _assets_in(SCREEN)),
    Kind("script", "script_categories", "script_category", "script-categories", "scripts", _assets_in(SCRIPT)),
]


def category_rules(kind: Kind, existing: int | None = None) -> RuleSet:
    """ProcessCategory::rules($existing) (screen and script categories are the same)."""
    return {
        "name": ["required", "string", "max:100", Unique("categories", "name", existing, {"kind": kind.kind}),
                 "alpha_spaces"],
        "status": ["required", "string", "in:ACTIVE,INACTIVE"],
    }


def serialize_category(row: Row) -> Row:
    data = {
        "id": row["id"],
        "uuid": row["uuid"],
        "name": row["name"],
        "status": row["status"],
        "is_system": row["is_system"],
        "created_at": iso8601(row["created_at"]),
        "updated_at": iso8601(row["updated_at"]),
    }
    return data



def _register(kind: Kind) -> None:
    base = f"/api/1.0/{kind.path}"
    item = f"{base}/{{{kind.param}}}"
    by_id = f"SELECT * FROM categories WHERE id = ? AND kind = '{kind.kind}'"

    def index(ctx: Context) -> Response:
        authz.require(ctx, f"view-{kind.permission}")
        where, params = ["kind = ?", "is_system = 0"], [kind.kind]
        filter_text = query_value(ctx, "filter")
        if filter_text:
            where.append("name LIKE ? OR status LIKE ?")
            params.extend([like(filter_text)] * 2)
        status = query_value(ctx, "status")
        if status:
            where.append("status LIKE ?")
            params.append(like(status))
        includes = (query_value(ctx, "include") or "").split(",")

        def serialize(row: Row) -> Row:
            data = serialize_category(row)
            if kind.count_include and kind.count_include in includes:
                data[f"{kind.assets}_count"] = kind.count_assets(ctx.store, row["id"])
            return data

        return sql_list(
            ctx,
            select="SELECT * FROM categories",
            count="SELECT COUNT(*) FROM categories",
            where=where,
            params=params,
            order=order_clause(ctx, SORTABLE, "name", "asc"),
            serialize=serialize,
        )

    def show(ctx: Context) -> Response:
        # System categories are reachable by id through the API (HideSystemResources skips api/*).
        category = load(ctx, by_id, ctx.params[kind.param])
        authz.require(ctx, f"view-{kind.permission}")
        return json_response(serialize_category(category))

    def store(ctx: Context) -> Response:
        authz.require(ctx, f"create-{kind.permission}")
        body = read_body(ctx)
        rules = category_rules(kind)
        validate(body, rules, store=ctx.store)
        now = db_timestamp()
        values = {
            "kind": kind.kind,
            "uuid": new_uuid(),
            "name": text_value(body["name"]),
            "status": text_value(body["status"]),
            "created_at": now,
            "updated_at": now,
        }
        try:
            with ctx.store.transaction():
                validate(body, rules, store=ctx.store)
                category_id = ctx.store.insert("categories", values)
        except sqlite3.IntegrityError as error:
            raise taken("name") from error
        return json_response(serialize_category(load(ctx, by_id, category_id)), 201)

    def update(ctx: Context) -> Response:
        category = load(ctx, by_id, ctx.params[kind.param])
        authz.require(ctx, f"edit-{kind.permission}")
        body = read_body(ctx)
        rules = category_rules(kind, category["id"])
        validate(body, rules, store=ctx.store)
        values = {"name": text_value(body["name"]), "status": text_value(body["status"]), "updated_at": db_timestamp()}
        try:
            with ctx.store.transaction():
                validate(body, rules, store=ctx.store)
                ctx.store.update("categories", category["id"], values)
        except sqlite3.IntegrityError as error:
            raise taken("name") from error
        return json_response(serialize_category(load(ctx, by_id, category["id"])), 200)

    def destroy(ctx: Context) -> Response:
        category = load(ctx, by_id, ctx.params[kind.param])
        authz.require(ctx, f"delete-{kind.permission}")
        in_use = kind.count_assets(ctx.store, category["id"])
        if in_use:
            raise HttpError(
                {"message": f"The item should not have associated {kind.assets}", "errors": {kind.assets: in_use}},
                422,
            )
        ctx.store.execute("DELETE FROM categories WHERE id = ?", (category["id"],))
        return empty_response(204)

    for method, pattern, handler in (
        ("GET", base, index), ("GET", item, show), ("POST", base, store), ("PUT", item, update),
        ("DELETE", item, destroy),
    ):
        handler.__name__ = f"{kind.path}_{handler.__name__}"
        router.route(method, pattern)(handler)


for _kind in KINDS:
    _register(_kind)

