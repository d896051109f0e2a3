"""Personal access tokens, the way Passport's PersonalAccessTokenFactory makes them.

It runs a ``personal_access`` grant request for the newest personal access client through the
same grant code as ``POST /oauth/token``, then names the token row.
"""

from __future__ import annotations

import json
from typing import Any

from ..http import Context, HttpError
from ..store import db_timestamp, parse_db_timestamp
from .grants import TokenRequest, personal_access_grant


def personal_access_client(ctx: Context) -> dict[str, Any]:
    """The client of the newest ``oauth_personal_access_clients`` row (Passport does not check revoked here)."""
    client = ctx.store.one(
        "SELECT c.* FROM oauth_personal_access_clients p JOIN oauth_clients c ON c.id = p.client_id"
        " ORDER BY p.id DESC LIMIT 1"
    )
    if client is None:
        # Passport throws a RuntimeException: a server error.
        raise HttpError({"message": "Server Error"}, 500)
    return client


def issue_personal_access_token(ctx: Context, user_id: int, name: str, scopes: list[str]) -> tuple[str, dict]:
    """Create a token for ``user_id``: returns (the JWT, the token serialized like Passport's Token model).

    Raises ``OAuthError`` (an ``HttpError``) when a scope is not defined or the client cannot be used.
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


def carbon_json(value: str | None) -> str | None:
    """A stored UTC timestamp as Carbon's toJSON(): ``2025-01-31T12:34:56.000000Z``."""
    moment = parse_db_timestamp(value)  # validates the stored form
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def serialize_token(row: dict[str, Any]) -> dict[str, Any]:
    """An ``oauth_access_tokens`` row as Passport's Token model serializes it (casts applied)."""
    scopes = row.get("scopes")
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "client_id": row["client_id"],
        "name": row["name"],
        "scopes": json.loads(scopes) if scopes else [],
        "revoked": bool(row["revoked"]),
        "created_at": carbon_json(row["created_at"]),
        "updated_at": carbon_json(row["updated_at"]),
        "expires_at": carbon_json(row["expires_at"]),
    }
