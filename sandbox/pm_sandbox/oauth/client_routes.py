"""``/oauth/clients``: ProcessMaker's override of Passport's client routes (``Auth\\ClientController``).

They are web routes: the ``web`` group (a session, no CSRF check in ProcessMaker) and ``can:*-auth_clients``,
outside any ``auth`` middleware. So:

* the acting user is the session's (``/login``); a Bearer token is not looked at;
* ``can:`` is ProcessMaker's ``CustomAuthorize``: a logged-in user without the permission gets Laravel's
  403 "This action is unauthorized."; a guest makes its fallback read ``$request->user()->id`` on null,
  a PHP warning Laravel turns into an exception: 500 "Server Error";
* ``show`` calls ``parent::show()``, which Passport 12's ClientController does not have: 500;
* ``update``/``destroy`` of an unknown id run ``new Response('', 404)`` with no ``Response`` imported in
  the controller's namespace: "Class not found", 500.

JSON clients (``Accept: application/json``) get JSON bodies; browsers get pages, and a failed validation
redirects back.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..errors import Forbidden, ServerError
from ..http import Context, Router, empty_response, json_response
from ..models import permissions
from ..models.base import Row
from . import clients, sessions
from .inputs import body_params, query_params
from .web import web_route

router = Router()
INDEX = "/oauth/clients"
ITEM = "/oauth/clients/{client_id:str}"


def _authorize(ctx: Context, session: sessions.WebSession, permission: str) -> Row:
    """``can:<permission>`` as CustomAuthorize answers it on a web route; the acting user."""
    user = sessions.current_user(ctx, session)
    if user is None:
        raise ServerError()
    if not permissions.holds_any(ctx.store, user, permission):
        raise Forbidden()
    return user


def _input(ctx: Context) -> dict:
    """``$request->all()``: the body over the query string, after TrimStrings and ConvertEmptyStringsToNull."""
    return {**query_params(ctx), **body_params(ctx)}


def _existing(ctx: Context) -> Row:
    row = clients.find_any(ctx.store, ctx.params["client_id"])
    if row is None:
        raise ServerError()  # new Response('', 404): the class does not exist
    return row


@router.route("GET", INDEX, auth="none", name="passport.clients.index")
@web_route
def index(ctx: Context, session: sessions.WebSession) -> Response:
    _authorize(ctx, session, "view-auth_clients")
    return json_response({"data": [clients.resource(row) for row in clients.active(ctx.store)]})


@router.route("GET", ITEM, auth="none", name="passport.clients.show")
@web_route
def show(ctx: Context, session: sessions.WebSession) -> Response:
    _authorize(ctx, session, "view-auth_clients")
    raise ServerError()  # parent::show() does not exist in Passport 12


@router.route("POST", INDEX, auth="none", name="passport.clients.store")
@web_route
def store(ctx: Context, session: sessions.WebSession) -> Response:
    user = _authorize(ctx, session, "create-auth_clients")
    return json_response(clients.api_create(ctx.store, user["id"], _input(ctx)), 201)


@router.route("PUT", ITEM, auth="none", name="passport.clients.update")
@web_route
def update(ctx: Context, session: sessions.WebSession) -> Response:
    _authorize(ctx, session, "edit-auth_clients")
    return json_response(clients.api_update(ctx.store, _existing(ctx), _input(ctx)))


@router.route("DELETE", ITEM, auth="none", name="passport.clients.delete")
@web_route
def destroy(ctx: Context, session: sessions.WebSession) -> Response:
    _authorize(ctx, session, "delete-auth_clients")
    clients.revoke(ctx.store, _existing(ctx))
    return empty_response(204)
