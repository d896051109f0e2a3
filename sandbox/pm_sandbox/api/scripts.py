"""``/scripts`` (ScriptController)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router
from ..models import scripts
from . import assets
from .common import can, listing, query_value

router = Router()


@router.route("GET", "/api/1.0/scripts")
@can("view-scripts")
def index(ctx: Context) -> Response:
    query = scripts.query(query_value(ctx, "filter"))
    return listing(ctx, query, lambda row: scripts.MODEL.serialize(ctx.store, row), scripts.SORTABLE, "title")


assets.register(router, scripts.MODEL, "scripts", "script", keep_raw=("code",), view=("view-scripts",))
