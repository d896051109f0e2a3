"""``/users/{user}/tokens``: personal access tokens (UserTokenController over Passport).

The token id is Passport's 80-hex identifier, not a number, so its route parameter is a werkzeug
string parameter (``{tokenId:str}``) rather than the digits-only ``{param}``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..http import (
    Context,
    Forbidden,
    NotFound,
    Router,
    empty_response,
    json_response,
    paginate,
)
from ..store import db_timestamp
from ..validation import RuleSet, validate
from . import authz
from .common import Row, load, passport_datetime, read_body
from .users import ACTIVE_USERS

router = Router()

NOT_AUTHORIZED = "Not authorized to update this user."
# Passport::scopeIds() is empty in ProcessMaker, so any scope fails ``in:``.
RULES: RuleSet = {"name": ["required", "max:255"], "scopes": ["array", "in:"]}


def serialize_client(row: Row) -> Row:
    """Passport's Client model (``secret`` hidden, Carbon dates)."""
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "name": row["name"],
        "provider": row["provider"],
        "redirect": row["redirect"],
        "personal_access_client": bool(row["personal_access_client"]),
        "password_client": bool(row["password_client"]),
        "revoked": bool(row["revoked"]),
        "created_at": passport_datetime(row["created_at"]),
        "updated_at": passport_datetime(row["updated_at"]),
    }


def _serialize_token(row: Row) -> Row:
    from .. import (
        oauth,  # written alongside; imported late so either package loads on its own
    )

    return oauth.serialize_token(row)


@router.route("GET", "/api/1.0/users/{user}/tokens")
def index(ctx: Context) -> Response:
    user = load(ctx, ACTIVE_USERS, ctx.params["user"])
    if not authz.can_view_user(ctx, user):
        raise Forbidden(NOT_AUTHORIZED)
    rows = ctx.store.all(
        "SELECT t.*, "
        "c.id AS c_id, c.user_id AS c_user_id, c.name AS c_name, c.provider AS c_provider, "
        "c.redirect AS c_redirect, c.personal_access_client AS c_personal_access_client, "
        "c.password_client AS c_password_client, c.revoked AS c_revoked, c.created_at AS c_created_at, "
        "c.updated_at AS c_updated_at "
        "FROM oauth_access_tokens t JOIN oauth_clients c ON c.id = t.client_id "
        "WHERE t.user_id = ? AND t.revoked = 0 AND c.personal_access_client = 1 ORDER BY t.created_at, t.id",
        (user["id"],),
    )
    items = []
    for row in rows:
        token = {key: value for key, value in row.items() if not key.startswith("c_")}
        client = {key[2:]: value for key, value in row.items() if key.startswith("c_")}
        items.append({**_serialize_token(token), "client": serialize_client(client)})
    return paginate(ctx, items)


@router.route("GET", "/api/1.0/users/{user}/tokens/{tokenId:str}")
def show(ctx: Context) -> Response:
    user = load(ctx, ACTIVE_USERS, ctx.params["user"])
    if not authz.can_view_user(ctx, user):
        raise Forbidden(NOT_AUTHORIZED)
    token = _find(ctx, ctx.params["tokenId"], user["id"])
    if token is None:
        return json_response([], 404)
    return json_response(_serialize_token(token))


@router.route("POST", "/api/1.0/users/{user}/tokens")
def store(ctx: Context) -> Response:
    from .. import oauth

    user = load(ctx, ACTIVE_USERS, ctx.params["user"])
    if not authz.can_edit_user(ctx, user):
        raise Forbidden(NOT_AUTHORIZED)
    if not (authz.is_admin(ctx.user) or (ctx.user or {}).get("id") == user["id"]):
        raise Forbidden(NOT_AUTHORIZED)
    body = read_body(ctx)
    validate(body, RULES)
    scopes: list[Any] = body.get("scopes") or []
    access_token, token = oauth.issue_personal_access_token(ctx, user["id"], str(body["name"]), scopes)
    return json_response({"accessToken": access_token, "token": token}, 200)


@router.route("DELETE", "/api/1.0/users/{user}/tokens/{tokenId:str}")
def destroy(ctx: Context) -> Response:
    user = load(ctx, ACTIVE_USERS, ctx.params["user"])
    if not authz.can_edit_user(ctx, user):
        raise Forbidden(NOT_AUTHORIZED)
    token = _find(ctx, ctx.params["tokenId"], user["id"])
    if token is None:
        raise NotFound()
    ctx.store.execute(
        "UPDATE oauth_access_tokens SET revoked = 1, updated_at = ? WHERE id = ?", (db_timestamp(), token["id"])
    )
    return empty_response(204)


def _find(ctx: Context, token_id: str, user_id: int) -> Row | None:
    """TokenRepository::findForUser: the user's token with that id, revoked or not."""
    return ctx.store.one("SELECT * FROM oauth_access_tokens WHERE id = ? AND user_id = ?", (token_id, user_id))
