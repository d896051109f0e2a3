"""What the /api/1.0 routes share: request input as a controller sees it, the permission check, lists."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Response

from ..errors import UNAUTHORIZED
from ..http import Context, Handler, paginate
from ..models import permissions
from ..models.base import Query, Row, Table, order_by
from ..php import controller_input

BoundHandler = Callable[[Context, Row], Response]


def read_body(ctx: Context, keep_raw: Iterable[str] = ()) -> dict[str, Any]:
    """The request body after Laravel's global middleware and ProcessMaker's ``sanitize`` (``keep_raw``:
    the controller's ``$doNotSanitize`` fields)."""
    return controller_input(ctx.body(), keep_raw)


def query_value(ctx: Context, name: str) -> str | None:
    """``$request->input(name)``: absent -> None, empty -> None (ConvertEmptyStringsToNull)."""
    value = ctx.request.args.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def includes(ctx: Context) -> list[str]:
    """The ``include`` parameter's parts."""
    return [part for part in (query_value(ctx, "include") or "").split(",") if part]


def require(ctx: Context, *names: str, message: str = UNAUTHORIZED) -> None:
    """403 unless the acting user holds one of ``names``."""
    permissions.require(ctx.store, ctx.user, *names, message=message)


def can(*names: str, message: str = UNAUTHORIZED) -> Callable[[Handler], Handler]:
    """Laravel's ``can:`` route middleware: 403 unless the acting user holds one of ``names``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(ctx: Context) -> Response:
            require(ctx, *names, message=message)
            return handler(ctx)

        return run

    return decorate


def bound(table: Table, param: str, *names: str, message: str = UNAUTHORIZED) -> Callable[[BoundHandler], Handler]:
    """Route-model binding (the API's 404 for an unknown id), then ``can:`` when ``names`` are given; the
    handler gets the row."""

    def decorate(handler: BoundHandler) -> Handler:
        @functools.wraps(handler)
        def run(ctx: Context) -> Response:
            row = table.get(ctx.store, ctx.params[param])
            if names:
                require(ctx, *names, message=message)
            return handler(ctx, row)

        return run

    return decorate


def order(ctx: Context, columns: dict[str, str], default_column: str, default_direction: str = "ASC",
          *, whitelist: bool = False) -> str:
    """``ORDER BY`` from ``order_by`` and ``order_direction``."""
    return order_by(columns, query_value(ctx, "order_by"), query_value(ctx, "order_direction"), default_column,
                    default_direction, whitelist=whitelist)


def listing(
    ctx: Context,
    query: Query,
    serialize: Callable[[Row], Row],
    sortable: dict[str, str],
    default_column: str,
    default_direction: str = "ASC",
    *,
    ordered: Callable[[str], str] = lambda clause: clause,
    whitelist: bool = False,
    default_per_page: int = 10,
) -> Response:
    """A paginated list, counted and paged in SQL (``ordered`` may put something before the requested order)."""
    clause = ordered(order(ctx, sortable, default_column, default_direction, whitelist=whitelist))
    return paginate(
        ctx,
        total=query.count(ctx.store),
        fetch=lambda limit, offset: [serialize(row) for row in query.rows(ctx.store, clause, limit, offset)],
        default_per_page=default_per_page,
    )
