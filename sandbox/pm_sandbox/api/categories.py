"""``/process_categories``, ``/screen_categories``, ``/script_categories``: one shape, three kinds."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models import categories
from ..models.base import Row
from ..models.categories import Kind
from .common import bound, can, includes, listing, query_value, read_body

router = Router()


def _register(kind: Kind) -> None:
    base = f"/api/1.0/{kind.path}"
    item = f"{base}/{{{kind.param}}}"
    table, permission = kind.table, kind.permission

    @router.route("GET", base, name=f"{kind.path}_index")
    @can(f"view-{permission}")
    def index(ctx: Context) -> Response:
        count = bool(kind.count_include) and kind.count_include in includes(ctx)

        def serialize(row: Row) -> Row:
            data = categories.serialize(row)
            if count:
                data[f"{kind.assets.plural}_count"] = categories.count_assets(ctx.store, kind.assets, row["id"])
            return data

        query = categories.query(kind, query_value(ctx, "filter"), query_value(ctx, "status"))
        return listing(ctx, query, serialize, categories.SORTABLE, "name", "asc")

    # System categories are reachable by id through the API (HideSystemResources skips api/*).
    @router.route("GET", item, name=f"{kind.path}_show")
    @bound(table, kind.param, f"view-{permission}")
    def show(ctx: Context, category: Row) -> Response:
        return json_response(categories.serialize(category))

    @router.route("POST", base, name=f"{kind.path}_store")
    @can(f"create-{permission}")
    def store(ctx: Context) -> Response:
        return json_response(categories.serialize(categories.create(ctx.store, kind, read_body(ctx))), 201)

    @router.route("PUT", item, name=f"{kind.path}_update")
    @bound(table, kind.param, f"edit-{permission}")
    def update(ctx: Context, category: Row) -> Response:
        return json_response(categories.serialize(categories.update(ctx.store, kind, category, read_body(ctx))))

    @router.route("DELETE", item, name=f"{kind.path}_destroy")
    @bound(table, kind.param, f"delete-{permission}")
    def destroy(ctx: Context, category: Row) -> Response:
        categories.delete(ctx.store, kind, category)
        return empty_response(204)


for _kind in categories.KINDS:
    _register(_kind)
