"""``/process_categories``, ``/screen_categories``, ``/script_categories``: one shape, three kinds."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import categories
from ..models.base import Row
from ..models.categories import Kind
from .common import includes, listing, query_value, read_body, require

router = Router()


def _register(kind: Kind) -> None:
    base = f"/api/1.0/{kind.path}"
    item = f"{base}/{{{kind.param}}}"

    def index(ctx: Context) -> Response:
        require(ctx, f"view-{kind.permission}")
        count = bool(kind.count_include) and kind.count_include in includes(ctx)

        def serialize(row: Row) -> Row:
            data = categories.serialize(row)
            if count:
                data[f"{kind.assets.plural}_count"] = categories.count_assets(ctx.store, kind.assets, row["id"])
            return data

        query = categories.query(kind, query_value(ctx, "filter"), query_value(ctx, "status"))
        return listing(ctx, query, serialize, categories.SORTABLE, "name", "asc")

    def show(ctx: Context) -> Response:
        # System categories are reachable by id through the API (HideSystemResources skips api/*).
        category = kind.table.get(ctx.store, ctx.params[kind.param])
        require(ctx, f"view-{kind.permission}")
        return json_response(categories.serialize(category))

    def store(ctx: Context) -> Response:
        require(ctx, f"create-{kind.permission}")
        return json_response(categories.serialize(categories.create(ctx.store, kind, read_body(ctx))), 201)

    def update(ctx: Context) -> Response:
        category = kind.table.get(ctx.store, ctx.params[kind.param])
        require(ctx, f"edit-{kind.permission}")
        return json_response(categories.serialize(categories.update(ctx.store, kind, category, read_body(ctx))), 200)

    def destroy(ctx: Context) -> Response:
        category = kind.table.get(ctx.store, ctx.params[kind.param])
        require(ctx, f"delete-{kind.permission}")
        categories.delete(ctx.store, kind, category)
        return empty_response(204)

    for method, pattern, handler in (
        ("GET", base, index), ("GET", item, show), ("POST", base, store), ("PUT", item, update),
        ("DELETE", item, destroy),
    ):
        handler.__name__ = f"{kind.path}_{handler.__name__}"
        router.route(method, pattern)(handler)


for _kind in categories.KINDS:
    _register(_kind)
