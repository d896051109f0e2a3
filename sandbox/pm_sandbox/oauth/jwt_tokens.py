"""Access tokens (RS256 JWTs backed by an ``oauth_access_tokens`` row) and refresh tokens.

The JWT is what league/oauth2-server 8.5.5 builds with lcobucci/jwt 4: header
``{"typ":"JWT","alg":"RS256"}``, claims ``aud, jti, iat, nbf, exp, sub, scopes`` in that order,
times as JSON numbers with microseconds (an integer only when the microseconds are zero).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import jwt

from ..http import Context
from ..php import to_string
from ..security import token_id
from ..store import db_timestamp_at
from . import opaque
from .keys import keys_for

_HEADER = {"typ": "JWT", "alg": "RS256"}


@dataclass
class AccessToken:
    id: str
    jwt: str
    client_identifier: Any  # as the request named the client; refresh payloads carry it on
    client_id: int
    user_id: Any
    scopes: list[str]
    expires_at: float  # unix time with microseconds

    def expires_in(self) -> int:
        """BearerTokenResponse: expiry timestamp minus time(), both whole seconds."""
        return int(self.expires_at) - int(time.time())


def _now() -> float:
    micros = time.time_ns() // 1000
    return micros / 1_000_000


def _numeric_date(moment: float) -> int | float:
    # lcobucci writes an int only when the microseconds are exactly zero.
    micros = round(moment * 1_000_000)
    return micros // 1_000_000 if micros % 1_000_000 == 0 else float(f"{micros // 1_000_000}.{micros % 1_000_000:06d}")


def _row_user_id(user_id: Any) -> Any:
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit():
        return int(user_id)
    return user_id


def issue_access_token(
    ctx: Context,
    client_identifier: Any,
    client_id: int,
    user_id: Any,
    scopes: list[str],
    ttl: int,
    name: str | None = None,
) -> AccessToken:
    """Write the row and sign the JWT. Call inside the caller's transaction when several rows go together."""
    keys = keys_for(ctx.store, ctx.settings)
    now = _now()
    expires_at = now + ttl
    identifier = token_id()
    created = db_timestamp_at(now)
    ctx.store.insert(
        "oauth_access_tokens",
        {
            "id": identifier,
            "user_id": None if user_id is None else _row_user_id(user_id),
            "client_id": client_id,
            "name": name,
            "scopes": json.dumps(scopes),
            "revoked": 0,
            "created_at": created,
            "updated_at": created,
            "expires_at": db_timestamp_at(expires_at),
        },
    )
    claims = {
        "aud": to_string(client_identifier),
        "jti": identifier,
        "iat": _numeric_date(now),
        "nbf": _numeric_date(now),
        "exp": _numeric_date(expires_at),
        "sub": to_string(user_id),
        "scopes": scopes,
    }
    token = jwt.encode(claims, keys.private_key, algorithm="RS256", headers=_HEADER, sort_headers=False)
    return AccessToken(identifier, token, client_identifier, client_id, user_id, scopes, expires_at)


def issue_refresh_token(ctx: Context, access: AccessToken, ttl: int) -> str:
    """Write the row and return the encrypted payload of BearerTokenResponse."""
    keys = keys_for(ctx.store, ctx.settings)
    identifier = token_id()
    expire_time = int(time.time() + ttl)
    ctx.store.insert(
        "oauth_refresh_tokens",
        {"id": identifier, "access_token_id": access.id, "revoked": 0, "expires_at": db_timestamp_at(expire_time)},
    )
    payload = {
        "client_id": access.client_identifier,
        "refresh_token_id": identifier,
        "access_token_id": access.id,
        "scopes": access.scopes,
        "user_id": access.user_id,
        "expire_time": expire_time,
    }
    return opaque.encrypt(json.dumps(payload, separators=(",", ":")), keys.app_key)
