"""The WSGI application: its state, routing, the guards, error rendering, counters and fault injection.

The app holds the state of one sandbox process: the store, the request counters, the fault rules
and the rate limiter of ``/oauth/token``; every request's ``Context`` carries them. The order of
checks follows Laravel's middleware priority in ProcessMaker: route match (405 for a known path with
the wrong method), then the Bearer guard (401), then the route, which loads its model (404), checks
permissions (403) and has the model validate (422) in that order. Domain errors become responses
here (``http.render``).
"""

from __future__ import annotations

import hmac
import io
import logging
import os
import socket
import sys
import traceback
from typing import Any

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from . import operator as operator_module
from .api import router as api_router
from .config import Settings
from .errors import DomainError, NotFound
from .http import (
    Context,
    HttpError,
    MethodNotAllowed,
    ReadDeadline,
    Route,
    Router,
    json_response,
    render,
)
from .oauth import router as oauth_router
from .oauth.guard import authenticate_bearer
from .oauth.throttle import RateLimiter
from .operator import OPERATOR_HEADER, Counters, Fault, Faults, apply_latency
from .seed import seed_store
from .store import Store

log = logging.getLogger("pm_sandbox")

API_PREFIX = "/api/1.0"
_METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def build_router() -> Router:
    router = Router()
    router.include(operator_module.router)
    router.include(oauth_router)
    router.include(api_router)
    return router


class SandboxApp:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.db_path)
        self.credentials = seed_store(self.store, settings)
        self.router = build_router()
        self.url_map = self.router.build_map()
        self.counters = Counters()
        self.faults = Faults()
        self.limiter = RateLimiter()

    # WSGI entry point
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        method = request.method.upper()
        route, params, early = self._match(path, method)
        key = f"{method} {route.display if route else path}"
        counted = not path.startswith("/_sandbox")  # operator traffic never shows in the counters
        if early is not None:
            if counted:
                self.counters.count_request(key, early.status_code)
            return _with_reason_phrase(early)

        fault: Fault | None = None
        if counted:
            delay, fault = self.faults.draw(key)
            apply_latency(delay)
            if fault is not None and fault.when == "before":
                return _with_reason_phrase(self._faulted(request, key, fault))

        response = self._dispatch(request, route, params)
        if fault is not None:  # "after": the server did the work, the client never hears of it
            response = self._faulted(request, key, fault)
        elif counted:
            self.counters.count_request(key, response.status_code)
        if self.settings.log_requests:
            log.info("%s %s -> %s", method, request.full_path.rstrip("?"), response.status_code)
        return _with_reason_phrase(response)

    def _match(self, path: str, method: str) -> tuple[Route | None, dict[str, Any], Response | None]:
        adapter = self.url_map.bind("sandbox", "/")
        try:
            endpoint, params = adapter.match(path, method)
            return self.router.routes[endpoint], params, None
        except WerkzeugMethodNotAllowed as error:
            # Laravel matches among the routes of the request's method first, so a GET to a path that
            # only has PUT/DELETE routes (/settings/{setting}, /script-executors/{id}) reaches the
            # API's GET fallback; only with no route of its own method is the request a 405.
            if not (path.startswith(API_PREFIX + "/") and method in ("GET", "HEAD")):
                allowed = sorted(set(error.valid_methods or []), key=_METHOD_ORDER.index)
                return None, {}, MethodNotAllowed(method, path, allowed).response()
        except WerkzeugNotFound:
            pass
        if path.startswith(API_PREFIX + "/"):
            # ProcessMaker's Route::fallback is a GET route inside the auth:api group.
            if method in ("GET", "HEAD"):
                fallback = Route("GET", API_PREFIX + "/{fallbackPlaceholder}", _fallback, "api", "fallback")
                return fallback, {}, None
            return None, {}, MethodNotAllowed(method, path, ["GET", "HEAD"]).response()
        return None, {}, json_response({"message": "Not Found"}, 404)

    def _dispatch(self, request: Request, route: Route, params: dict[str, Any]) -> Response:
        ctx = Context(
            request, self.store, self.settings, params=params,
            counters=self.counters, faults=self.faults, limiter=self.limiter,
        )
        try:
            limit = self.settings.max_body_bytes
            if (request.content_length or 0) > limit or not _buffer_chunked_body(request, limit):
                return json_response({"message": "Content Too Large"}, 413)
            if route.auth == "operator":
                self._check_operator_key(request)
            elif route.auth == "api":
                authenticate_bearer(ctx)
            return route.handler(ctx)
        except HttpError as error:
            return error.response()
        except DomainError as error:
            return render(error)
        except ReadDeadline:  # the server closes the connection after this answer
            return json_response({"message": "Request Timeout."}, 408)
        except Exception:  # noqa: BLE001 - any bug must still answer like Laravel does with debug off
            traceback.print_exc(file=sys.stderr)
            return json_response({"message": "Server Error"}, 500)

    def _check_operator_key(self, request: Request) -> None:
        given = request.headers.get(OPERATOR_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.settings.operator_key.encode()):
            raise HttpError({"message": f"Missing or wrong {OPERATOR_HEADER} header."}, 401)

    def _faulted(self, request: Request, key: str, fault: Fault) -> Response:
        """The fault's answer, counted before anything reaches the client: a client that sees a dropped
        connection at once may read the counters before this thread would have come back to count it."""
        self.counters.count_fault(key, fault.kind)
        if fault.kind == "drop":
            self.counters.count_request(key, 500)
            _drop_connection(request.environ)
            return Response(b"", status=500)
        response = self._fault_response(fault)
        self.counters.count_request(key, response.status_code)
        return response

    def _fault_response(self, fault: Fault) -> Response:
        kind = fault.kind
        if kind == "429":
            return json_response(
                {"message": "Too Many Attempts."},
                429,
                {"Retry-After": str(fault.retry_after), "X-RateLimit-Remaining": "0"},
            )
        if kind == "garbage":
            return Response(os.urandom(64), status=200, content_type="application/json")
        if kind == "html":
            page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return Response(page, status=502, content_type="text/html")
        if kind == "truncated":
            return Response(b'{"data": [{"id": 1, "na', status=200, content_type="application/json")
        if kind == "empty":
            return Response(b"", status=200, content_type="application/json")
        status = int(kind)
        # 500 as Laravel words it with debug off; 502/503/504 as the proxy or maintenance page would.
        body = {"message": "Server Error" if status == 500 else HTTP_STATUS_CODES[status]}
        return json_response(body, status)


def _with_reason_phrase(response: Response) -> Response:
    # werkzeug upper-cases reason phrases ("401 UNAUTHORIZED"); PHP sends "401 Unauthorized".
    phrase = HTTP_STATUS_CODES.get(response.status_code)
    if phrase:
        response.status = f"{response.status_code} {phrase}"
    return response


def _buffer_chunked_body(request: Request, limit: int) -> bool:
    """Read a chunked body (no Content-Length) now; False when it is larger than ``limit``.

    Without this a chunked body skipped the size check. The body is handed back, with its length
    set, for the handler to read as usual.
    """
    if request.content_length is not None or "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return True
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return False
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["CONTENT_LENGTH"] = str(len(body))
    return True


def _fallback(ctx: Context) -> Response:
    raise NotFound()


def _drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's TCP connection without an answer, like a proxy that gave up."""
    sock = environ.get("gunicorn.socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
