"""The grants of ``POST /oauth/token``, with league/oauth2-server 8.5.5's checks in its order.

Each grant returns the issued tokens or raises an ``OAuthError``. Rows that must change together
(rotation, single-use codes) are written in one SQLite write transaction, so two concurrent
requests with the same refresh token or code cannot both succeed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..http import Context
from ..php import empty, identical
from ..security import check_password
from ..store import db_timestamp
from . import opaque
from .clients import Client, find_active, redirect_allowed
from .errors import (
    OAuthError,
    invalid_client,
    invalid_credentials,
    invalid_grant,
    invalid_refresh_token,
    invalid_request,
    invalid_scope,
    server_error,
    unsupported_grant_type,
)
from .inputs import basic_credentials, param
from .jwt_tokens import AccessToken, issue_access_token, issue_refresh_token
from .keys import keys_for
from .scopes import finalize_scopes, validate_scopes

PKCE_PATTERN = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass
class TokenRequest:
    params: dict[str, Any]  # the cleaned body
    authorization: str | None = None  # the raw Authorization header

    def get(self, name: str, default: Any = None) -> Any:
        return param(self.params, name, default)

    def client_credentials(self) -> tuple[Any, Any]:
        """Body first, HTTP Basic as the fallback for each of the two values separately."""
        basic_id, basic_secret = basic_credentials(self.authorization)
        client_id = self.get("client_id", basic_id)
        if client_id is None:
            raise invalid_request("client_id")
        secret = self.get("client_secret", basic_secret)
        if secret is not None and not isinstance(secret, str):
            raise invalid_request("client_secret")
        return client_id, secret


@dataclass
class IssuedTokens:
    grant_type: str
    access: AccessToken
    refresh_token: str | None = None


def client_or_fail(ctx: Context, request: TokenRequest, identifier: Any) -> Client:
    client = find_active(ctx.store, identifier)
    if client is None:
        raise invalid_client(request.authorization)
    return client


def validate_client(ctx: Context, request: TokenRequest, grant_type: str) -> Client:
    """AbstractGrant::validateClient: active client, allowed grant, secret, registered redirect_uri."""
    client_id, secret = request.client_credentials()
    client = find_active(ctx.store, client_id)
    if (
        client is None
        or not client.handles_grant(grant_type)
        or (client.confidential and not client.secret_matches(secret))
    ):
        raise invalid_client(request.authorization)
    redirect_uri = request.get("redirect_uri")
    if redirect_uri is not None:
        if not isinstance(redirect_uri, str):
            raise invalid_request("redirect_uri")
        if not redirect_allowed(redirect_uri, client.redirect_uris):
            raise invalid_client(request.authorization)
    return client


def _decrypted(ctx: Context, request: TokenRequest, name: str, cannot_decrypt: Callable[[], OAuthError]) -> Any:
    """The payload of an opaque parameter (a refresh token, an authorization code): a string, decrypted
    with the app key and JSON-decoded."""
    encrypted = request.get(name)
    if not isinstance(encrypted, str):
        raise invalid_request(name)
    try:
        return json.loads(opaque.decrypt(encrypted, keys_for(ctx.store, ctx.settings).app_key))
    except (opaque.CannotDecrypt, ValueError):
        raise cannot_decrypt() from None


def password_grant(ctx: Context, request: TokenRequest) -> IssuedTokens:
    client = validate_client(ctx, request, "password")
    scopes = validate_scopes(request.get("scope"))
    user = _validate_user(ctx, request)
    scopes = finalize_scopes(scopes, "password")
    with ctx.store.transaction():
        access = issue_access_token(ctx, client.identifier, client.id, user["id"], scopes, ctx.settings.access_token_ttl)
        refresh = issue_refresh_token(ctx, access, ctx.settings.refresh_token_ttl)
    return IssuedTokens("password", access, refresh)


def _validate_user(ctx: Context, request: TokenRequest) -> dict[str, Any]:
    username = request.get("username")
    if not isinstance(username, str):
        raise invalid_request("username")
    password = request.get("password")
    if not isinstance(password, str):
        raise invalid_request("password")
    # ProcessMaker's User::findForPassport looks up the username (MySQL's case-insensitive collation);
    # soft-deleted users are not found.
    user = ctx.store.one(
        "SELECT id, password FROM users WHERE username = ? COLLATE NOCASE AND deleted_at IS NULL ORDER BY id LIMIT 1",
        (username,),
    )
    if user is None or not user["password"] or not check_password(password, user["password"]):
        raise invalid_credentials()
    return user


def refresh_token_grant(ctx: Context, request: TokenRequest) -> IssuedTokens:
    client = validate_client(ctx, request, "refresh_token")
    data = _decrypted(ctx, request, "refresh_token", lambda: invalid_refresh_token("Cannot decrypt the refresh token"))
    if not isinstance(data, dict) or not identical(data.get("client_id"), client.identifier):
        raise invalid_refresh_token("Token is not linked to client")
    if data["expire_time"] < int(time.time()):
        raise invalid_refresh_token("Token has expired")
    with ctx.store.transaction():
        revoked = ctx.store.scalar("SELECT revoked FROM oauth_refresh_tokens WHERE id = ?", (data["refresh_token_id"],))
        if revoked is None or revoked:  # a deleted row counts as revoked
            raise invalid_refresh_token("Token has been revoked")
        original: list[str] = data["scopes"]
        scopes = validate_scopes(request.get("scope", " ".join(original)))
        for scope in scopes:  # a refresh may narrow the scopes, never widen them
            if scope not in original:
                raise invalid_scope(scope)
        # Rotation: the old access token and the old refresh token die with this refresh.
        ctx.store.execute(
            "UPDATE oauth_access_tokens SET revoked = 1, updated_at = ? WHERE id = ?",
            (db_timestamp(), data["access_token_id"]),
        )
        ctx.store.execute("UPDATE oauth_refresh_tokens SET revoked = 1 WHERE id = ?", (data["refresh_token_id"],))
        access = issue_access_token(
            ctx, client.identifier, client.id, data["user_id"], scopes, ctx.settings.access_token_ttl
        )
        refresh = issue_refresh_token(ctx, access, ctx.settings.refresh_token_ttl)
    return IssuedTokens("refresh_token", access, refresh)


def authorization_code_grant(ctx: Context, request: TokenRequest) -> IssuedTokens:
    client_id, _ = request.client_credentials()
    client = client_or_fail(ctx, request, client_id)
    if client.confidential:  # public clients prove themselves with PKCE instead
        validate_client(ctx, request, "authorization_code")
    payload = _decrypted(ctx, request, "code", lambda: invalid_request("code", "Cannot decrypt the authorization code"))
    if not isinstance(payload, dict) or "auth_code_id" not in payload:
        raise invalid_request("code", "Authorization code malformed")
    if int(time.time()) > payload["expire_time"]:
        raise invalid_request("code", "Authorization code has expired")
    with ctx.store.transaction():
        revoked = ctx.store.scalar("SELECT revoked FROM oauth_auth_codes WHERE id = ?", (payload["auth_code_id"],))
        if revoked == 1:  # a missing row does not count as revoked here (Passport's AuthCodeRepository)
            raise invalid_request("code", "Authorization code has been revoked")
        if not identical(payload.get("client_id"), client.identifier):
            raise invalid_request("code", "Authorization code was not issued to this client")
        redirect_uri = request.get("redirect_uri")
        bound_uri = payload.get("redirect_uri")
        if not empty(bound_uri) and redirect_uri is None:
            raise invalid_request("redirect_uri")
        if not identical(bound_uri, redirect_uri):
            raise invalid_request("redirect_uri", "Invalid redirect URI")
        scopes = finalize_scopes(validate_scopes(payload.get("scopes") or []), "authorization_code")
        verifier = request.get("code_verifier")
        challenge = payload.get("code_challenge")
        if empty(challenge) and verifier is not None:  # blocks a PKCE downgrade
            raise invalid_request("code_challenge", "code_verifier received when no code_challenge is present")
        if not empty(challenge):
            _verify_code_challenge(challenge, payload.get("code_challenge_method"), verifier)
        access = issue_access_token(
            ctx, client.identifier, client.id, payload["user_id"], scopes, ctx.settings.access_token_ttl
        )
        refresh = issue_refresh_token(ctx, access, ctx.settings.refresh_token_ttl)
        ctx.store.execute("UPDATE oauth_auth_codes SET revoked = 1 WHERE id = ?", (payload["auth_code_id"],))
    return IssuedTokens("authorization_code", access, refresh)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _verify_code_challenge(challenge: str, method: Any, verifier: Any) -> None:
    if verifier is None:
        raise invalid_request("code_verifier")
    if not isinstance(verifier, str) or not PKCE_PATTERN.fullmatch(verifier):
        raise invalid_request("code_verifier", "Code Verifier must follow the specifications of RFC-7636.")
    if method == "S256":
        expected = s256(verifier)
    elif method == "plain":
        expected = verifier
    else:
        raise server_error(f"Unsupported code challenge method `{method}`")
    if not hmac.compare_digest(expected.encode(), str(challenge).encode()):
        raise invalid_grant("Failed to verify `code_verifier`.")


def client_credentials_grant(ctx: Context, request: TokenRequest) -> IssuedTokens:
    client_id, _ = request.client_credentials()
    client = client_or_fail(ctx, request, client_id)
    if not client.confidential:
        raise invalid_client(request.authorization)
    client = validate_client(ctx, request, "client_credentials")
    scopes = finalize_scopes(validate_scopes(request.get("scope")), "client_credentials")
    with ctx.store.transaction():
        access = issue_access_token(ctx, client.identifier, client.id, None, scopes, ctx.settings.access_token_ttl)
    return IssuedTokens("client_credentials", access)


def personal_access_grant(ctx: Context, request: TokenRequest, name: str | None = None) -> IssuedTokens:
    """Passport's PersonalAccessGrant: ``user_id`` is taken from the request as it is."""
    client = validate_client(ctx, request, "personal_access")
    scopes = validate_scopes(request.get("scope"))
    user_id = request.get("user_id")
    if isinstance(user_id, (list, dict)):
        raise TypeError("user_id must be a scalar")  # PDO would refuse to bind it: a server error
    scopes = finalize_scopes(scopes, "personal_access")
    with ctx.store.transaction():
        access = issue_access_token(
            ctx, client.identifier, client.id, user_id, scopes, ctx.settings.personal_access_token_ttl, name
        )
    return IssuedTokens("personal_access", access)


# In the order Passport enables them; implicit is not enabled in ProcessMaker.
GRANTS: dict[str, Callable[[Context, TokenRequest], IssuedTokens]] = {
    "authorization_code": authorization_code_grant,
    "refresh_token": refresh_token_grant,
    "password": password_grant,
    "personal_access": personal_access_grant,
    "client_credentials": client_credentials_grant,
}


def respond_to_token_request(ctx: Context, request: TokenRequest) -> IssuedTokens:
    grant_type = request.params.get("grant_type")
    grant = GRANTS.get(grant_type) if isinstance(grant_type, str) else None
    if grant is None:
        raise unsupported_grant_type()
    return grant(ctx, request)
