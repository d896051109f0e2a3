"""``/tasks`` (TaskController): list, show, complete."""

from __future__ import annotations

import json
import math

from werkzeug.wrappers import Response

from ..errors import Aborted
from ..http import Context, Router, json_response, paginate
from ..models import tasks
from ..models.base import Row
from ..php import date_iso8601
from ..store import db_timestamp
from .common import bound, includes, query_value, read_body

router = Router()
ITEM = "/api/1.0/tasks/{task}"


def total_pages(total: int, per_page: int) -> float:
    """PHP's ``ceil()`` returns a float: TaskCollection's ``total_pages`` is one (``2.0``)."""
    return float(math.ceil(total / per_page)) if per_page else 0.0


@router.route("GET", "/api/1.0/tasks")
def index(ctx: Context) -> Response:
    assert ctx.user is not None
    if query_value(ctx, "pmql"):
        raise Aborted(400, "pm_sandbox does not evaluate PMQL; filter with the list parameters")
    args = {name: value for name in ctx.request.args if (value := query_value(ctx, name)) is not None}
    query = tasks.query(ctx.store, ctx.user, args)
    clause = tasks.order(query_value(ctx, "order_by"), query_value(ctx, "order_direction"))
    chosen = includes(ctx)

    def meta(meta: dict, items: list[dict]) -> dict:
        """TaskCollection: the raw filter, a float total_pages and in_overdue, then the paginator's fields."""
        now = date_iso8601(db_timestamp()) or ""
        reshaped = {
            "filter": ctx.request.args.get("filter", ""),
            "sort_by": meta["sort_by"],
            "sort_order": meta["sort_order"],
            "count": meta["count"],
            "total_pages": total_pages(meta["total"], meta["per_page"]),
            "in_overdue": sum(1 for item in items if item["due_at"] and item["due_at"] < now),
        }
        reshaped.update({key: value for key, value in meta.items() if key not in reshaped})
        return reshaped

    return paginate(
        ctx,
        total=query.count(ctx.store),
        fetch=lambda limit, offset: [
            tasks.serialize(ctx.store, row, chosen, listed=True) for row in query.rows(ctx.store, clause, limit, offset)
        ],
        meta_hook=meta,
    )


@router.route("GET", ITEM)
@bound(tasks.TOKENS, "task")
def show(ctx: Context, task: Row) -> Response:
    assert ctx.user is not None
    tasks.require_assignee(ctx.user, task)
    return json_response(tasks.serialize(ctx.store, task, includes(ctx)))


@router.route("PUT", ITEM)
@bound(tasks.TOKENS, "task")
def update(ctx: Context, task: Row) -> Response:
    assert ctx.user is not None
    try:  # TaskController reads the data from the raw body: no TrimStrings, no ConvertEmptyStringsToNull
        raw = json.loads(ctx.request.get_data(cache=True) or b"null")
    except ValueError:
        raw = None
    updated = tasks.update(ctx.store, task, ctx.user, read_body(ctx, keep_raw=("data", "pmql")), raw)
    return json_response(tasks.serialize(ctx.store, updated, includes(ctx)))
