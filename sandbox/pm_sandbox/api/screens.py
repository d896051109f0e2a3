"""``/screens`` (ScreenController). Listing and reading need no permission, only a token."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router
from ..models import screens
from . import assets
from .common import listing, query_value

router = Router()


@router.route("GET", "/api/1.0/screens")
def index(ctx: Context) -> Response:
    types = [part.strip() for part in (query_value(ctx, "type") or "").split(",") if part.strip()]
    query = screens.query(query_value(ctx, "filter"), types, query_value(ctx, "key"))
    return listing(ctx, query, lambda row: screens.MODEL.serialize(ctx.store, row), screens.SORTABLE, "title")


assets.register(router, screens.MODEL, "screens", "screen", keep_raw=("content",), delete=screens.delete)
