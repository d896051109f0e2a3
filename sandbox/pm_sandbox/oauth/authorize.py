"""``/oauth/authorize``: the authorization-code flow (Passport's Authorization, Approve and Deny
controllers over league's AuthCodeGrant).

Validation runs before the login check. Errors are JSON except ``invalid_scope`` and the
access-denied outcomes, which redirect to the client.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, MethodNotAllowed, Router
from ..php import http_build_query, to_string
from ..security import random_string, token_id
from ..store import db_timestamp
from . import opaque
from .clients import find_active, redirect_allowed
from .errors import (
    OAuthError,
    access_denied,
    invalid_client,
    invalid_request,
    redirect_response,
    unsupported_grant_type,
)
from .grants import PKCE_PATTERN
from .inputs import body_params, query_params
from .keys import keys_for
from .pages import consent_page
from .scopes import defined_scope_ids, validate_scopes
from .sessions import WebSession, current_user
from .web import AuthenticationRequired, WebError, web_route

router = Router()
CHALLENGE_METHODS = ("S256", "plain")  # league's order, as its error message lists them
AUTH_TOKEN_MISMATCH = "The provided auth token for the request is different from the session auth token."


@dataclass
class AuthRequest:
    """league's AuthorizationRequest, kept in the session between the consent page and the answer."""

    client_identifier: Any  # the client_id query value, carried into the code
    client_id: int
    client_name: str
    redirect_uri: str | None  # as sent; None when the client's only redirect is used
    default_redirect_uri: str
    state: Any
    scopes: list[str]
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    @property
    def final_redirect_uri(self) -> str:
        return self.redirect_uri if self.redirect_uri is not None else self.default_redirect_uri


def validate_authorization_request(ctx: Context, query: dict[str, Any]) -> AuthRequest:
    if query.get("response_type") != "code" or query.get("client_id") is None:
        raise unsupported_grant_type()  # no enabled grant answers (implicit is off in ProcessMaker)
    authorization = ctx.request.headers.get("Authorization")
    client = find_active(ctx.store, query["client_id"])
    if client is None:
        raise invalid_client(authorization)
    redirect_uri = query.get("redirect_uri")
    if redirect_uri is not None:
        if not isinstance(redirect_uri, str):
            raise invalid_request("redirect_uri")
        if not redirect_allowed(redirect_uri, client.redirect_uris):
            raise invalid_client(authorization)  # never redirect to an unverified URI
    elif len(client.redirect_uris) != 1:
        raise invalid_client(authorization)
    default_redirect = client.redirect_uris[0]
    scopes = validate_scopes(query.get("scope"), redirect_uri if redirect_uri is not None else default_redirect)
    request = AuthRequest(
        client.identifier, client.id, client.name, redirect_uri, default_redirect, query.get("state"), scopes
    )
    challenge = query.get("code_challenge")
    if challenge is not None:
        method = query.get("code_challenge_method", "plain")
        if method not in CHALLENGE_METHODS:
            allowed = ", ".join(f"`{name}`" for name in CHALLENGE_METHODS)
            raise invalid_request("code_challenge_method", f"Code challenge method must be one of {allowed}")
        if not isinstance(challenge, str) or not PKCE_PATTERN.fullmatch(challenge):
            raise invalid_request("code_challenge", "Code challenge must follow the specifications of RFC-7636.")
        request.code_challenge = challenge
        request.code_challenge_method = method
    elif not client.confidential:
        raise invalid_request("code_challenge", "Code challenge must be provided for public clients")
    return request


@router.route("GET", "/oauth/authorize", auth="none", name="passport.authorizations.authorize")
@web_route
def authorize(ctx: Context, session: WebSession) -> Response:
    query = query_params(ctx)
    auth_request = validate_authorization_request(ctx, query)
    prompt = query.get("prompt")
    user = current_user(ctx, session)
    if user is None:
        if prompt == "none":
            raise _deny_unauthenticated(auth_request)
        session.put("promptedForLogin", True)
        raise AuthenticationRequired()
    if prompt == "login" and not session.get("promptedForLogin", False):
        session.invalidate()
        session.put("promptedForLogin", True)
        raise AuthenticationRequired()
    session.forget("promptedForLogin")
    scopes = defined_scope_ids(auth_request.scopes)
    if prompt != "consent" and _has_valid_token(ctx, user["id"], auth_request.client_id, scopes):
        return _approve(ctx, auth_request, user["id"])
    if prompt == "none":
        raise _denied(auth_request)
    auth_token = random_string(16)
    session.put("authToken", auth_token)
    session.put("authRequest", asdict(auth_request))
    user_name = f"{user['firstname']} {user['lastname']}".strip() or user["username"]
    state = to_string(auth_request.state) if auth_request.state is not None else ""
    return consent_page(auth_request.client_name, user_name, scopes, state, auth_request.client_id, auth_token)


@router.route("POST", "/oauth/authorize", auth="none", name="passport.authorizations.approve")
@web_route
def approve(ctx: Context, session: WebSession) -> Response:
    override = ctx.request.form.get("_method") or ctx.request.args.get("_method")
    if override and override.upper() == "DELETE":  # Laravel's method spoofing for HTML forms
        return _answer(ctx, session, approved=False)
    if override and override.upper() not in ("POST", "DELETE"):
        raise MethodNotAllowed(override.upper(), "/oauth/authorize", ["GET", "HEAD", "POST", "DELETE"])
    return _answer(ctx, session, approved=True)


@router.route("DELETE", "/oauth/authorize", auth="none", name="passport.authorizations.deny")
@web_route
def deny(ctx: Context, session: WebSession) -> Response:
    return _answer(ctx, session, approved=False)


def _answer(ctx: Context, session: WebSession, approved: bool) -> Response:
    user = current_user(ctx, session)
    if user is None:
        raise AuthenticationRequired()
    fields = {**query_params(ctx), **body_params(ctx)}
    # The token is compared only when the form sends one (RetrievesAuthRequestFromSession).
    if "auth_token" in fields and session.get("authToken") != fields["auth_token"]:
        session.forget("authToken", "authRequest")
        raise WebError(403, AUTH_TOKEN_MISMATCH)
    stored = session.pull("authRequest")
    if not stored:
        raise WebError(500, "Server Error")  # Passport throws "Authorization request was not present in the session."
    auth_request = AuthRequest(**stored)
    if approved:
        return _approve(ctx, auth_request, user["id"])
    raise _denied(auth_request)


def _has_valid_token(ctx: Context, user_id: int, client_id: int, scopes: list[str]) -> bool:
    """TokenRepository::findValidToken: the user's newest live token for this client, same scopes."""
    row = ctx.store.one(
        "SELECT scopes FROM oauth_access_tokens WHERE client_id = ? AND user_id = ? AND revoked = 0"
        " AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
        (client_id, user_id, db_timestamp()),
    )
    return row is not None and json.loads(row["scopes"] or "[]") == scopes


def _approve(ctx: Context, auth_request: AuthRequest, user_id: int) -> Response:
    """Issue a code (row + encrypted payload) and send the browser back to the client with it."""
    code_id = token_id()
    expire_time = int(time.time()) + ctx.settings.auth_code_ttl
    with ctx.store.transaction():
        ctx.store.insert(
            "oauth_auth_codes",
            {
                "id": code_id,
                "user_id": user_id,
                "client_id": auth_request.client_id,
                "scopes": json.dumps(auth_request.scopes),
                "revoked": 0,
                "expires_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(expire_time)),
            },
        )
    payload = {
        "client_id": auth_request.client_identifier,
        "redirect_uri": auth_request.redirect_uri,
        "auth_code_id": code_id,
        "scopes": auth_request.scopes,
        "user_id": user_id,
        "expire_time": expire_time,
        "code_challenge": auth_request.code_challenge,
        "code_challenge_method": auth_request.code_challenge_method,
    }
    code = opaque.encrypt(json.dumps(payload, separators=(",", ":")), keys_for(ctx.store, ctx.settings).app_key)
    params = {"code": code, "state": auth_request.state}
    return redirect_response(_with_query(auth_request.final_redirect_uri, http_build_query(params)))


def _denied(auth_request: AuthRequest) -> OAuthError:
    query = http_build_query({"state": auth_request.state})
    return access_denied("The user denied the request", _with_query(auth_request.final_redirect_uri, query))


def _deny_unauthenticated(auth_request: AuthRequest) -> OAuthError:
    # Passport appends the state by plain concatenation here (not URL-encoded, present even if empty).
    uri = auth_request.final_redirect_uri
    uri += ("&" if "?" in uri else "?") + "state=" + to_string(auth_request.state)
    return access_denied("Unauthenticated", uri)


def _with_query(uri: str, query: str) -> str:
    """league's makeRedirectUri."""
    return uri + ("&" if "?" in uri else "?") + query
