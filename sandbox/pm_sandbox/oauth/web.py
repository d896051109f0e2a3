"""What Laravel's ``web`` middleware group gives the browser routes: a session, login redirects, and the
handler's answers to domain errors (JSON for clients that expect it, else pages and redirects)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import quote

from werkzeug.wrappers import Response

from .. import errors
from ..http import Context, HttpError, json_response, render
from . import sessions
from .inputs import wants_json
from .pages import error_page, laravel_redirect

WebHandler = Callable[[Context, sessions.WebSession], Response]


class AuthenticationRequired(Exception):
    """Laravel's AuthenticationException: guests are sent to /login (401 JSON if they expect JSON)."""


class WebError(Exception):
    """An HTTP error of a browser route: an HTML page, or ``{"message": ...}`` for JSON clients."""

    def __init__(self, status: int, message: str, json_message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.json_message = json_message or message


def web_route(handler: WebHandler) -> Callable[[Context], Response]:
    """Load the session, turn the flow's exceptions into responses, then save the session."""

    @functools.wraps(handler)
    def run(ctx: Context) -> Response:
        session = sessions.load(ctx)
        try:
            response = handler(ctx, session)
        except AuthenticationRequired:
            response = _unauthenticated(ctx, session)
        except WebError as error:
            if wants_json(ctx):
                response = json_response({"message": error.json_message}, error.status)
            else:
                response = error_page(error.status, error.message)
        except HttpError as error:  # OAuth errors and the like render themselves
            response = error.response()
        except errors.DomainError as error:
            response = _domain_error(ctx, session, error)
        sessions.save(ctx, session, response)
        return response

    return run


def _domain_error(ctx: Context, session: sessions.WebSession, error: errors.DomainError) -> Response:
    """Laravel's exception handler on a web route: the API's JSON bodies for clients that expect JSON; for a
    browser, a failed validation redirects back (``url()->previous()``) with the errors and input flashed,
    anything else is an error page."""
    if wants_json(ctx):
        if isinstance(error, errors.NotFound):
            return json_response({"message": "Not Found"}, 404)
        return render(error)
    if isinstance(error, errors.ValidationError):
        session.put("errors", error.errors)
        session.put("_old_input", ctx.body())
        return laravel_redirect(ctx.request.headers.get("Referer") or ctx.base_url() + "/")
    if isinstance(error, errors.Forbidden):
        return error_page(403, error.message)
    if isinstance(error, errors.NotFound):
        return error_page(404, "Not Found")
    return error_page(500, "Server Error")


def _unauthenticated(ctx: Context, session: sessions.WebSession) -> Response:
    # ProcessMaker's exception handler: JSON clients get 401, browsers go to the login page.
    if wants_json(ctx):
        return json_response({"error": "Unauthenticated."}, 401)
    if ctx.request.method == "GET":
        session.put("url.intended", _current_url(ctx))
    return laravel_redirect(ctx.base_url() + "/login")


def _current_url(ctx: Context) -> str:
    """The URL as the browser sent it (werkzeug's ``request.url`` decodes parts of the query)."""
    request = ctx.request
    url = ctx.base_url() + quote(request.script_root + request.path, safe="/:@!$&'()*+,;=")
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url
