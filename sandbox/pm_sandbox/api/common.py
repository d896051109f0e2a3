"""Helpers shared by the resource modules: request input, dates, model loading, SQL lists."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, HttpError, NotFound, paginate
from ..php import transform_input

USER_CLASS = "ProcessMaker\\Models\\User"
GROUP_CLASS = "ProcessMaker\\Models\\Group"

Row = dict[str, Any]


# ---- input -------------------------------------------------------------------------------------
# Laravel's global TrimStrings and ConvertEmptyStringsToNull middleware, then ProcessMaker's
# SanitizeInput (strip_tags on every string except the controller's $doNotSanitize fields).

_NOT_TRIMMED = {"current_password", "password", "password_confirmation"}
_TAG = re.compile(r"<(?=[^\s<>])[^>]*(?:>|$)")


def strip_tags(text: str) -> str:
    """PHP's strip_tags for the common cases: ``<`` followed by a non-space starts a tag."""
    return _TAG.sub("", text) if "<" in text else text


def read_body(ctx: Context, keep_raw: Iterable[str] = ()) -> dict[str, Any]:
    """The request body as a Laravel controller sees it after the global and ``sanitize`` middleware."""
    raw = frozenset(keep_raw)

    def clean(key: str, value: Any, top: bool) -> Any:
        if not isinstance(value, str):
            return value
        if key not in _NOT_TRIMMED:
            value = value.strip()
        if value == "":
            return None
        return value if (top and key in raw) else strip_tags(value)

    return transform_input(ctx.body(), clean)


def query_value(ctx: Context, name: str) -> str | None:
    """``$request->input(name)``: absent → None, empty → None (ConvertEmptyStringsToNull)."""
    value = ctx.request.args.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def has_query(ctx: Context, name: str) -> bool:
    return name in ctx.request.args


def is_filled(value: Any) -> bool:
    """Laravel's ``filled``: anything but null and blank strings (arrays and booleans count)."""
    return not (value is None or (isinstance(value, str) and value.strip() == ""))


def php_truthy(value: Any) -> bool:
    """(bool) $value in PHP."""
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def text_value(value: Any) -> Any:
    """How MySQL stores a value sent for a text column: scalars as text, arrays as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


# ---- dates: one format per model family --------------------------------------------------------


def iso8601(value: str | None) -> str | None:
    """SerializeToIso8601 (PHP ``c``): users, groups, categories, settings."""
    return None if value is None else value.replace(" ", "T") + "+00:00"


def plain_datetime(value: str | None) -> str | None:
    """ProcessMakerModel::serializeDate (``Y-m-d H:i:s``): group members, environment variables."""
    return value


def passport_datetime(value: str | None) -> str | None:
    """Carbon::toJSON() for Passport's Token and Client models."""
    return None if value is None else value.replace(" ", "T") + ".000000Z"


def json_or_none(value: str | None, *, as_object: bool = False) -> Any:
    if value is None or value == "":
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    if as_object and decoded == []:
        return {}  # PHP's json_decode of "{}" to an object round-trips as {}
    return decoded


# ---- models ------------------------------------------------------------------------------------


def load(ctx: Context, sql: str, key: Any) -> Row:
    """Route-model binding: the row or the API fallback 404 ``{"error":"Not Found"}``."""
    row = ctx.store.one(sql, (key,))
    if row is None:
        raise NotFound()
    return row


# ---- lists -------------------------------------------------------------------------------------


def server_error() -> HttpError:
    """What Laravel answers (debug off) when the query builder throws, e.g. an unknown column."""
    return HttpError({"message": "Server Error"}, 500)


def order_clause(
    ctx: Context,
    columns: dict[str, str],
    default_column: str,
    default_direction: str = "ASC",
    *,
    whitelist: bool = False,
) -> str:
    """``ORDER BY`` from ``order_by``/``order_direction``.

    ``columns`` maps an accepted name to its SQL expression (text columns carry ``COLLATE NOCASE``
    to sort like MySQL's case-insensitive collation). ProcessMaker passes ``order_by`` straight to
    the query builder, so an unknown column is a 500 there; with ``whitelist`` it is ignored instead
    (SettingController). The row id breaks ties so pages never overlap.
    """
    requested = query_value(ctx, "order_by")
    column = requested or default_column
    if column not in columns:
        if whitelist:
            column = default_column
        else:
            raise server_error()
    direction = (query_value(ctx, "order_direction") or default_direction).lower()
    if direction not in ("asc", "desc"):
        raise server_error()  # Laravel: Order direction must be "asc" or "desc".
    return f"{columns[column]} {direction.upper()}"


def sql_list(
    ctx: Context,
    *,
    select: str,
    count: str,
    where: list[str],
    params: list[Any],
    order: str,
    serialize: Callable[[Row], Row],
    tie_breaker: str = "id",
    default_per_page: int = 10,
) -> Response:
    """A paginated list computed in SQL (COUNT, then LIMIT/OFFSET on an indexed ORDER BY)."""
    condition = (" WHERE " + " AND ".join(f"({clause})" for clause in where)) if where else ""
    total = int(ctx.store.scalar(count + condition, tuple(params)) or 0)

    def fetch(limit: int, offset: int) -> list[Row]:
        # The tie-breaker follows the main direction so a DESC list still walks its index backwards.
        tie = f"{tie_breaker} DESC" if order.endswith(" DESC") else tie_breaker
        sql = f"{select}{condition} ORDER BY {order}, {tie} LIMIT ? OFFSET ?"
        return [serialize(row) for row in ctx.store.all(sql, (*params, limit, offset))]

    return paginate(ctx, total=total, fetch=fetch, default_per_page=default_per_page)


def like(value: str) -> str:
    return f"%{value}%"
