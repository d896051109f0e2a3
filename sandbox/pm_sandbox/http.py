"""HTTP plumbing shared by every part of the sandbox: the request context, routes, responses, lists.

The rules of the product live in the models; this module only knows how ProcessMaker (Laravel)
shapes a response: JSON bodies, the bodies its exception handler gives each domain error
(``render``), and the paginated list envelope of ``ApiCollection``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import errors
from .php import form_fields, json_decode

if TYPE_CHECKING:
    from .config import Settings
    from .store import Store


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response the way Laravel's ``response()->json()`` writes it (``/`` escaped as ``\\/``)."""
    text = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")
    response = Response(text, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def empty_response(status: int = 204) -> Response:
    response = Response(b"", status=status)
    response.headers.pop("Content-Type", None)
    return response


class ReadDeadline(Exception):
    """The client did not send its request (head, then body) within the server's read deadline.

    Raised by the server's socket reader while the application reads the body; answered with 408. Not an
    ``OSError``: werkzeug would turn that into an ordinary client disconnect.
    """


class HttpError(Exception):
    """An error that renders as a complete HTTP response."""

    status = 500

    def __init__(self, body: Any = None, status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(body)
        self.body = body
        if status is not None:
            self.status = status
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


class Unauthenticated(HttpError):
    status = 401

    def __init__(self) -> None:
        super().__init__({"error": "Unauthenticated."})


class MethodNotAllowed(HttpError):
    status = 405

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        uri = path.lstrip("/")
        methods = ", ".join(allowed)
        super().__init__(
            {"message": f"The {method} method is not supported for route {uri}. Supported methods: {methods}."},
            headers={"Allow": methods},
        )


def render(error: errors.DomainError) -> Response:
    """The response Laravel's exception handler gives a domain error."""
    if isinstance(error, errors.NotFound):
        return json_response({"error": "Not Found"}, 404)  # the API's fallback shape
    if isinstance(error, errors.ValidationError):
        return json_response({"message": error.message, "errors": error.errors}, 422)
    if isinstance(error, errors.Forbidden):
        return json_response({"message": error.message}, 403)
    if isinstance(error, errors.Conflict):
        return json_response({"message": error.message}, 409)
    if isinstance(error, errors.Aborted):
        return json_response({"message": error.message}, error.status)
    if isinstance(error, errors.ServerError):
        return json_response({"message": error.message}, 500)
    raise TypeError(f"no response for {type(error).__name__}")


@dataclass
class Context:
    """Everything a handler needs for one request."""

    request: Request
    store: Store
    settings: Settings
    params: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] | None = None
    token: dict[str, Any] | None = None
    # The app's state: Counters (requests, tokens issued), Faults, and the /oauth/token RateLimiter.
    counters: Any = None
    faults: Any = None
    limiter: Any = None
    _body: Any = None

    def body(self) -> dict[str, Any]:
        """The request body as a dict: JSON when the content type says JSON, else the form fields.

        Like Laravel, JSON is recognised by ``/json`` or ``+json`` anywhere in the content type, and a
        body PHP cannot decode (broken, or nested deeper than json_decode's 512 levels) is no input.
        """
        if self._body is None:
            content_type = self.request.content_type or ""
            if "/json" in content_type or "+json" in content_type:
                try:
                    data = json_decode(self.request.get_data(cache=True) or b"{}")
                except ValueError:
                    data = {}
                self._body = data if isinstance(data, dict) else {}
            else:
                self._body = form_fields(self.request.form)
        return self._body

    def base_url(self) -> str:
        return self.request.host_url.rstrip("/")


Handler = Callable[[Context], Response]


@dataclass
class Route:
    method: str
    pattern: str  # as registered: "{user}" = digits only, "{tokenId:str}" = any one path segment
    handler: Handler
    auth: str = "api"  # "api" (Bearer guard), "none", or "operator"
    name: str = ""

    @property
    def display(self) -> str:
        """The pattern as counters show it: "/api/1.0/users/{user}/tokens/{tokenId}"."""
        return self.pattern.replace(":str}", "}")


class Router:
    """Laravel-style routes (``{user}`` = digits only) on top of werkzeug's matcher."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str, *, auth: str = "api", name: str = "") -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), pattern, handler, auth, name or handler.__name__))
            return handler

        return register

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)

    def build_map(self) -> Map:
        rules = []
        for index, route in enumerate(self.routes):
            path = route.pattern
            for part in path.split("/"):
                if part.startswith("{") and part.endswith(":str}"):
                    path = path.replace(part, f"<{part[1:-5]}>", 1)
                elif part.startswith("{") and part.endswith("}"):
                    path = path.replace(part, f"<int:{part[1:-1]}>", 1)
            rules.append(Rule(path, endpoint=index, methods=[route.method]))
        return Map(rules, strict_slashes=False, merge_slashes=False)


def paginate(
    ctx: Context,
    items: list[dict[str, Any]] | None = None,
    *,
    total: int | None = None,
    fetch: Callable[[int, int], list[dict[str, Any]]] | None = None,
    default_per_page: int = 10,
    meta_hook: Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any]] | None = None,
) -> Response:
    """The ``{data, meta}`` envelope of ProcessMaker's ``ApiCollection``.

    Pass either the full ``items`` list (paginated here, in memory) or ``total`` and a ``fetch(limit,
    offset)`` callback so large tables are paginated in SQL. ``meta_hook(meta, items)`` may reshape the
    ``meta`` of a collection that differs from ``ApiCollection`` (TaskCollection).
    """
    per_page = _positive_int(ctx.request.args.get("per_page"), default_per_page)
    page = _positive_int(ctx.request.args.get("page"), 1)
    offset = (page - 1) * per_page
    if items is not None:
        total = len(items)
        data = items[offset : offset + per_page]
    else:
        assert fetch is not None and total is not None
        data = fetch(per_page, offset) if offset < total else []
    last_page = max(1, math.ceil(total / per_page)) if per_page else 1
    path = ctx.base_url() + ctx.request.path.rstrip("/")
    meta = {
        "filter": escape(ctx.request.args.get("filter", ""), quote=True),
        "sort_by": ctx.request.args.get("order_by", ""),
        "sort_order": ctx.request.args.get("order_direction", ""),
        "count": len(data),
        "total_pages": math.ceil(total / per_page) if per_page else 0,
        "current_page": page,
        "from": offset + 1 if data else None,
        "last_page": last_page,
        "links": _page_links(ctx, path, page, last_page),
        "path": path,
        "per_page": per_page,
        "to": offset + len(data) if data else None,
        "total": total,
    }
    if meta_hook is not None:
        meta = meta_hook(meta, data)
    return json_response({"data": data, "meta": meta})


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        return default
    return value if value > 0 else default


def _page_links(ctx: Context, path: str, page: int, last_page: int) -> list[dict[str, Any]]:
    """Laravel's page-link list: previous, one entry per page (windowed), next."""

    def url(number: int) -> str:
        query = {k: v for k, v in ctx.request.args.items() if k != "page"}
        query["page"] = str(number)
        return f"{path}?{urlencode(query)}"

    links: list[dict[str, Any]] = [
        {"url": url(page - 1) if page > 1 else None, "label": "&laquo; Previous", "active": False}
    ]
    if last_page <= 13:
        numbers: list[int | None] = list(range(1, last_page + 1))
    else:
        window = sorted({1, 2, *range(max(1, page - 3), min(last_page, page + 3) + 1), last_page - 1, last_page})
        numbers = []
        for number in window:
            if numbers and number - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(number)
    for number in numbers:
        if number is None:
            links.append({"url": None, "label": "...", "active": False})
        else:
            links.append({"url": url(number), "label": str(number), "active": number == page})
    links.append({"url": url(page + 1) if page < last_page else None, "label": "Next &raquo;", "active": False})
    return links
