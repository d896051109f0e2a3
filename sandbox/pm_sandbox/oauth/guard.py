"""The ``auth:api`` guard: Passport's TokenGuard over league's BearerTokenValidator.

Runs on every API request, so it verifies the signature with a cached key object and reads the
database twice at most (token joined with its client, then the user), both by primary key.
Every failure looks the same on the wire: 401 ``{"error":"Unauthenticated."}``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt

from ..http import Context, Unauthenticated
from ..php import PHP_TRIM
from .clients import client_key
from .keys import keys_for

# league strips this prefix case-sensitively; Laravel's bearerToken() finds "Bearer " in any case.
_LEAGUE_PREFIX = re.compile(r"^[ \t\n\r\f\v]*Bearer[ \t\n\r\f\v]")
_ANY_CASE_BEARER = re.compile(r"bearer ", re.IGNORECASE | re.ASCII)
_DECODE_OPTIONS = {"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False}


def bearer_token(header: str | None) -> str | None:
    """The JWT of an ``Authorization`` header, or None when the header holds none."""
    if not header:
        return None
    # Laravel: the text after the last "Bearer " (any case), up to a comma, must be non-empty.
    last = None
    for last in _ANY_CASE_BEARER.finditer(header):
        pass
    if last is None:
        return None
    tail = header[last.end() :].split(",", 1)[0]
    if tail in ("", "0"):  # PHP treats "0" as false here too
        return None
    # league: remove "^\s*Bearer\s" (case-sensitive) from the raw header and trim the rest.
    match = _LEAGUE_PREFIX.match(header)
    token = header[match.end() :] if match else header
    return token.strip(PHP_TRIM)


def authenticate_bearer(ctx: Context) -> None:
    token = bearer_token(ctx.request.headers.get("Authorization"))
    if not token:
        raise Unauthenticated()
    claims = _verified_claims(ctx, token)
    user_id = claims.get("sub")
    client_id = client_key(_single_audience(claims.get("aud")))
    if not user_id or user_id == "0" or client_id is None:
        raise Unauthenticated()  # client_credentials tokens have no user: they never pass auth:api
    row = ctx.store.one(
        "SELECT t.* FROM oauth_access_tokens t JOIN oauth_clients c ON c.id = ? AND c.revoked = 0"
        " WHERE t.id = ? AND t.revoked = 0",
        (client_id, claims["jti"]),
    )
    if row is None:  # revoked or deleted token, or revoked or deleted client
        raise Unauthenticated()
    if not (isinstance(user_id, str) and user_id.isascii() and user_id.isdigit()):
        raise Unauthenticated()
    user = ctx.store.one("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL", (int(user_id),))
    if user is None:
        raise Unauthenticated()
    ctx.user = user
    ctx.token = row


def _verified_claims(ctx: Context, token: str) -> dict[str, Any]:
    public_key = keys_for(ctx.store, ctx.settings).public_key
    try:
        claims = jwt.decode(token, public_key, algorithms=["RS256"], options=_DECODE_OPTIONS)
    except jwt.PyJWTError:
        raise Unauthenticated() from None
    if not isinstance(claims.get("jti"), str) or not _valid_at(claims, time.time()):
        raise Unauthenticated()
    return claims


def _valid_at(claims: dict[str, Any], now: float) -> bool:
    """lcobucci's LooseValidAt without leeway, on the exact (fractional) times: iat <= now, nbf <= now < exp."""
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return False
    if claims.get("iat") is not None and claims["iat"] > now:
        return False
    if claims.get("nbf") is not None and claims["nbf"] > now:
        return False
    return not (claims.get("exp") is not None and now >= claims["exp"])


def _single_audience(aud: Any) -> Any:
    if isinstance(aud, list):
        return aud[0] if len(aud) == 1 else None
    return aud
