"""Personal access tokens, the way Passport's PersonalAccessTokenFactory makes them.

It runs a ``personal_access`` grant request for the newest personal access client through the
same grant code as ``POST /oauth/token``, then names the token row.
"""

from __future__ import annotations

from typing import Any

from ..errors import ServerError
from ..http import Context
from ..models.base import Columns, Row, serialize_columns
from ..store import Store, db_timestamp
from . import clients
from .grants import TokenRequest, personal_access_grant

# Passport's Token model, casts applied.
COLUMNS: Columns = {
    "id": "text", "user_id": "int", "client_id": "int", "name": "text", "scopes": "json", "revoked": "bool",
    "created_at": "carbon", "updated_at": "carbon", "expires_at": "carbon",
}


def personal_access_client(ctx: Context) -> dict[str, Any]:
    """The client of the newest ``oauth_personal_access_clients`` row (Passport does not check revoked here)."""
    client = ctx.store.one(
        "SELECT c.* FROM oauth_personal_access_clients p JOIN oauth_clients c ON c.id = p.client_id"
        " ORDER BY p.id DESC LIMIT 1"
    )
    if client is None:
        raise ServerError()  # Passport throws a RuntimeException
    return client


def issue_personal_access_token(ctx: Context, user_id: int, name: str, scopes: list[str]) -> tuple[str, dict]:
    """Create a token for ``user_id``: returns (the JWT, the token serialized like Passport's Token model).

    Raises ``OAuthError`` when a scope is not defined or the client cannot be used.
    """
    client = personal_access_client(ctx)
    request = TokenRequest(
        {
            "grant_type": "personal_access",
            "client_id": client["id"],
            "client_secret": client["secret"],
            "user_id": user_id,
            "scope": " ".join(scopes),
        }
    )
    issued = personal_access_grant(ctx, request, name=name)
    with ctx.store.transaction():
        ctx.store.update(
            "oauth_access_tokens", issued.access.id, {"user_id": user_id, "name": name, "updated_at": db_timestamp()}
        )
        row = ctx.store.one("SELECT * FROM oauth_access_tokens WHERE id = ?", (issued.access.id,))
    if ctx.counters is not None:
        ctx.counters.count_token("personal_access")
    assert row is not None
    return issued.access.jwt, serialize_token(row)


def serialize_token(row: dict[str, Any]) -> dict[str, Any]:
    """An ``oauth_access_tokens`` row as Passport's Token model serializes it (no scopes: ``[]``)."""
    data = serialize_columns(row, COLUMNS)
    data["scopes"] = data["scopes"] or []
    return data


def tokens_of(store: Store, user_id: int) -> list[Row]:
    """UserTokenController::index: the user's live personal access tokens, each with its client."""
    rows = store.all(
        "SELECT t.*, "
        "c.id AS c_id, c.user_id AS c_user_id, c.name AS c_name, c.provider AS c_provider, "
        "c.redirect AS c_redirect, c.personal_access_client AS c_personal_access_client, "
        "c.password_client AS c_password_client, c.revoked AS c_revoked, c.created_at AS c_created_at, "
        "c.updated_at AS c_updated_at "
        "FROM oauth_access_tokens t JOIN oauth_clients c ON c.id = t.client_id "
        "WHERE t.user_id = ? AND t.revoked = 0 AND c.personal_access_client = 1 ORDER BY t.created_at, t.id",
        (user_id,),
    )
    items = []
    for row in rows:
        token = {key: value for key, value in row.items() if not key.startswith("c_")}
        client = {key[2:]: value for key, value in row.items() if key.startswith("c_")}
        items.append({**serialize_token(token), "client": clients.serialize(client)})
    return items


def find_token(store: Store, token_id: str, user_id: int) -> Row | None:
    """TokenRepository::findForUser: the user's token with that id, revoked or not."""
    return store.one("SELECT * FROM oauth_access_tokens WHERE id = ? AND user_id = ?", (token_id, user_id))


def revoke_token(store: Store, token_id: str) -> None:
    store.execute("UPDATE oauth_access_tokens SET revoked = 1, updated_at = ? WHERE id = ?", (db_timestamp(), token_id))
