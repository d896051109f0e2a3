"""The routes screens and scripts share (ScreenController and ScriptController differ only in data)."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.wrappers import Response

from ..http import Context, Router, empty_response, json_response
from ..models.assets import AssetModel
from ..models.base import Row
from ..store import Store
from .common import bound, can, read_body


def register(
    router: Router,
    model: AssetModel,
    path: str,
    param: str,
    *,
    keep_raw: tuple[str, ...],
    view: tuple[str, ...] = (),
    delete: Callable[[Store, Row], None] | None = None,
) -> None:
    """show, store, update (204) and destroy of ``/api/1.0/<path>/{<param>}``; permissions
    ``create-<path>``, ``edit-<path>``, ``delete-<path>``, and ``view`` (none: a token is enough)."""
    item = f"/api/1.0/{path}/{{{param}}}"
    remove = delete or model.delete

    @router.route("GET", item, name=f"{path}_show")
    @bound(model.table, param, *view)
    def show(ctx: Context, row: Row) -> Response:
        return json_response(model.serialize(ctx.store, row))

    @router.route("POST", f"/api/1.0/{path}", name=f"{path}_store")
    @can(f"create-{path}")
    def store(ctx: Context) -> Response:
        return json_response(model.serialize(ctx.store, model.create(ctx.store, read_body(ctx, keep_raw))), 201)

    @router.route("PUT", item, name=f"{path}_update")
    @bound(model.table, param, f"edit-{path}")
    def update(ctx: Context, row: Row) -> Response:
        model.update(ctx.store, row, read_body(ctx, keep_raw))
        return empty_response(204)

    @router.route("DELETE", item, name=f"{path}_destroy")
    @bound(model.table, param, f"delete-{path}")
    def destroy(ctx: Context, row: Row) -> Response:
        remove(ctx.store, row)
        return empty_response(204)
