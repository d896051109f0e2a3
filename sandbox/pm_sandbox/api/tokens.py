"""``/users/{user}/tokens``: personal access tokens (UserTokenController over Passport).

The token id is Passport's 80-hex identifier, not a number, so its route parameter is a werkzeug
string parameter (``{tokenId:str}``) rather than the digits-only ``{param}``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..errors import Forbidden, NotFound
from ..http import Context, Router, empty_response, json_response, paginate
from ..models import permissions, users
from ..models.base import Row
from ..oauth import personal
from ..validation import RuleSet, validate
from .common import read_body

router = Router()

NOT_AUTHORIZED = "Not authorized to update this user."
# Passport::scopeIds() is empty in ProcessMaker, so any scope fails ``in:``.
RULES: RuleSet = {"name": ["required", "max:255"], "scopes": ["array", "in:"]}


def _user(ctx: Context, permission: str) -> Row:
    """The route's user, whom the acting user may view (``view-users``) or edit (``edit-users``)."""
    user = users.ACTIVE.get(ctx.store, ctx.params["user"])
    if not permissions.is_self_or_holds(ctx.store, ctx.user, user, permission):
        raise Forbidden(NOT_AUTHORIZED)
    return user


@router.route("GET", "/api/1.0/users/{user}/tokens")
def index(ctx: Context) -> Response:
    user = _user(ctx, "view-users")
    return paginate(ctx, personal.tokens_of(ctx.store, user["id"]))


@router.route("GET", "/api/1.0/users/{user}/tokens/{tokenId:str}")
def show(ctx: Context) -> Response:
    user = _user(ctx, "view-users")
    token = personal.find_token(ctx.store, ctx.params["tokenId"], user["id"])
    if token is None:
        return json_response([], 404)
    return json_response(personal.serialize_token(token))


@router.route("POST", "/api/1.0/users/{user}/tokens")
def store(ctx: Context) -> Response:
    user = _user(ctx, "edit-users")
    if not (permissions.is_admin(ctx.user) or (ctx.user or {}).get("id") == user["id"]):
        raise Forbidden(NOT_AUTHORIZED)
    body = read_body(ctx)
    validate(body, RULES)
    scopes: list[Any] = body.get("scopes") or []
    access_token, token = personal.issue_personal_access_token(ctx, user["id"], str(body["name"]), scopes)
    return json_response({"accessToken": access_token, "token": token}, 200)


@router.route("DELETE", "/api/1.0/users/{user}/tokens/{tokenId:str}")
def destroy(ctx: Context) -> Response:
    user = _user(ctx, "edit-users")
    token = personal.find_token(ctx.store, ctx.params["tokenId"], user["id"])
    if token is None:
        raise NotFound()
    personal.revoke_token(ctx.store, token["id"])
    return empty_response(204)
