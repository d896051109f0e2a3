# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Getting access tokens: one small strategy per grant, and the ``Authenticator`` that keeps one.

Every token request is a form-encoded POST to the token endpoint with ``client_id`` in the body
(and ``client_secret`` when there is one), which is what RFC 6749 servers accept and what
ProcessMaker's Passport reads. Any RFC 6749 token endpoint works.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    error_from_response,
    not_json,
    parse_json_body,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    ConnectionOptions,
)
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import Token

# Token-endpoint answers that mean "this refresh token (or code) is no good any more":
# league/oauth2-server 8 says invalid_request with 401, version 9 says invalid_grant with 400.
STALE_GRANT_CODES = frozenset(("invalid_request", "invalid_grant"))


class TokenEndpoint:
    """POSTs token requests for one client."""

    def __init__(self, transport: Any, url: str, client_id: str | None, client_secret: str | None = None,
                 scope: str | None = None) -> None:
        self.transport = transport
        self.url = url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope

    def request(self, grant_type: str, params: dict, *, safe_to_retry: bool) -> Token:
        body = {"grant_type": grant_type}
        if self.client_id:
            body["client_id"] = self.client_id
        if self.client_secret:
            body["client_secret"] = self.client_secret
        if self.scope and grant_type in ("password", "client_credentials", "refresh_token"):
            body["scope"] = self.scope
        body.update({key: value for key, value in params.items() if value is not None})
        response = self.transport.send(
            "POST", self.url, data=body, headers={"Accept": "application/json"},
            safe_to_retry=safe_to_retry, expect_json=True,
        )
        attempts = getattr(response, "attempts", 1)
        if not 200 <= response.status_code < 300:
            raise error_from_response(
                response.status_code, response.headers.get("Content-Type", ""), response.content,
                method="POST", url=self.url, token_endpoint=True, grant=grant_type, attempts=attempts,
                retry_limit=getattr(response, "retry_limit", None),
            )
        payload, ok = parse_json_body(response.content)
        problem = None
        if not ok:
            problem = not_json(response.headers.get("Content-Type", ""), response.content)
        elif not isinstance(payload, dict) or not payload.get("access_token"):
            problem = f"the token endpoint answered HTTP {response.status_code} without an access_token"
        else:
            try:
                return Token.from_response(payload, grant_type=grant_type, requested_scope=self.scope)
            except ValueError as error:
                problem = str(error)
        raise ProcessMakerError(
            problem, status=response.status_code, code="invalid_token_response", method="POST", url=self.url,
            hint="Check token_url: it must be the OAuth 2.0 token endpoint", attempts=attempts,
        )


# Failures after which the server may have carried out the request although no good answer came.
_MAY_HAVE_LANDED_STATUSES = frozenset((500, 502, 503, 504))
_MAY_HAVE_LANDED_CODES = frozenset(("connection_dropped", "timed_out", "corrupt_response"))


def answer_lost(error: ProcessMakerError) -> bool:
    """Whether the server may have carried out the request although no good answer came back."""
    return error.status in _MAY_HAVE_LANDED_STATUSES or error.code in _MAY_HAVE_LANDED_CODES


def not_repeated(error: ProcessMakerError, what: str, then: str) -> ProcessMakerError:
    """A single-use credential was sent once and the answer lost: say why it was not sent again."""
    if answer_lost(error):
        error.hint = (f"Not repeated: the server may have used the {what} (single use) before the answer"
                      f" was lost; run the task once more, and {then}")
    return error


class AuthStrategy:
    """Gets a token one way. ``repeatable`` strategies can be asked again when a token dies."""

    grant_type = ""
    repeatable = False
    from_scratch = False  # obtain() needs no refresh token: it still works after one was spent
    # a refresh token given with an access token, to renew it automatically: the start of a rotation chain
    presented_refresh: str | None = None

    def obtain(self) -> Token:
        raise NotImplementedError


class PasswordGrant(AuthStrategy):
    grant_type = "password"
    repeatable = True
    from_scratch = True

    def __init__(self, endpoint: TokenEndpoint, username: str, password: str) -> None:
        self.endpoint = endpoint
        self.username = username
        self._password = password

    def obtain(self) -> Token:
        # a repeated password grant at worst issues one more token: safe to retry
        return self.endpoint.request(
            "password", {"username": self.username, "password": self._password}, safe_to_retry=True
        )


class ClientCredentialsGrant(AuthStrategy):
    grant_type = "client_credentials"
    repeatable = True
    from_scratch = True

    def __init__(self, endpoint: TokenEndpoint) -> None:
        self.endpoint = endpoint

    def obtain(self) -> Token:
        return self.endpoint.request("client_credentials", {}, safe_to_retry=True)


def exchange_refresh_token(endpoint: TokenEndpoint, refresh_token: str) -> Token:
    """One refresh exchange; never repeated blindly: a lost answer means the refresh token is spent."""
    try:
        return endpoint.request("refresh_token", {"refresh_token": refresh_token}, safe_to_retry=False)
    except ProcessMakerError as error:
        raise not_repeated(error, "refresh token", "if it is then refused as spent, get a new token with the"
                           " original grant") from None


class RefreshTokenGrant(AuthStrategy):
    """Refresh tokens rotate: each use revokes the old one, so the strategy keeps the newest."""

    grant_type = "refresh_token"
    repeatable = True

    def __init__(self, endpoint: TokenEndpoint, refresh_token: str) -> None:
        self.endpoint = endpoint
        self._refresh_token = refresh_token

    def obtain(self) -> Token:
        token = exchange_refresh_token(self.endpoint, self._refresh_token)
        if token.refresh_token:
            self._refresh_token = token.refresh_token
        return token


class AuthorizationCodeGrant(AuthStrategy):
    """Exchanges a code once (codes are single use), with the PKCE verifier when there is one."""

    grant_type = "authorization_code"
    repeatable = False

    def __init__(self, endpoint: TokenEndpoint, code: str, redirect_uri: str | None = None,
                 code_verifier: str | None = None) -> None:
        self.endpoint = endpoint
        self._code = code
        self.redirect_uri = redirect_uri
        self._code_verifier = code_verifier
        self._used = False

    def obtain(self) -> Token:
        if self._used:
            raise ProcessMakerError(
                "the authorization code was already exchanged", code="code_used", url=self.endpoint.url,
                hint="Start the authorization code flow again",
            )
        self._used = True
        try:
            return self.endpoint.request(
                "authorization_code",
                {"code": self._code, "redirect_uri": self.redirect_uri, "code_verifier": self._code_verifier},
                safe_to_retry=False,
            )
        except ProcessMakerError as error:
            raise not_repeated(error, "authorization code", "if it is then refused, start the flow again") from None


class StaticToken(AuthStrategy):
    """A token we were given (PAT or any bearer token), with the refresh token that renews it, if any."""

    grant_type = "token"
    repeatable = False

    def __init__(self, access_token: str, refresh_token: str | None = None) -> None:
        self._token = Token.from_bearer(access_token, refresh_token=refresh_token)
        self.presented_refresh = refresh_token

    def obtain(self) -> Token:
        return self._token


class TokenProvider(Protocol):
    """What the client asks for tokens: the Authenticator, and the layers composed around it when a
    client is built (the lookups' shared cache, the executor's lock)."""

    def token(self) -> Token:
        """The token to send now (obtained or renewed as needed)."""

    def renew(self, stale: Token | None = None) -> Token:
        """A new token after ``stale`` was rejected (the API answered 401) or is about to expire."""

    def can_renew(self) -> bool:
        """Whether ``renew`` can get another token at all."""


# How long the memory of a rotation outlives the token it holds: later tasks of a run that present
# the spent pair keep working (they are given the live token of the chain).
ROTATION_KEEP = 24 * 3600.0


class Rotations:
    """Refresh tokens rotate: each exchange revokes the pair that was presented. This remembers, on
    disk, per refresh token a caller presented (with the client's credentials), the live token its
    chain has become, so every later task and lookup that presents the spent pair gets that one.
    An entry serves only a caller who presents the same refresh token and client secret."""

    def __init__(self, store: TokenStore, endpoint: TokenEndpoint) -> None:
        self.store = store
        self.endpoint = endpoint

    @contextlib.contextmanager
    def held(self, presented: str) -> Iterator[str | None]:
        """The chain's entry name, locked against other forks; None when nothing can be kept."""
        endpoint = self.endpoint
        name = self.store.name("rotation", endpoint.url, endpoint.client_id or "", endpoint.client_secret or "",
                               presented)
        if name is None:
            yield None
            return
        with self.store.locked(name) as locked:
            yield name if locked else None

    def current(self, name: str) -> Token | None:
        return self.store.load(name)

    def remember(self, name: str, token: Token) -> None:
        self.store.store(name, token, keep_until=max(token.expires_at or 0.0, time.time() + ROTATION_KEEP))


class Authenticator:
    """Holds the current token for one run; renews it from its refresh token, else the grant.

    ``renew()`` is what the client calls on a 401 (once per request) and before a request when
    the token is about to expire. With ``rotations``, a refresh token the caller presented is
    exchanged at most once across tasks and forks: later callers get the token it became.
    """

    def __init__(self, strategy: AuthStrategy, endpoint: TokenEndpoint | None = None,
                 margin: float = 30.0, rotations: Rotations | None = None) -> None:
        self.strategy = strategy
        self.endpoint = endpoint
        self.margin = margin
        self.rotations = rotations if strategy.presented_refresh else None
        self._token: Token | None = None

    @property
    def current(self) -> Token | None:
        return self._token

    def token(self) -> Token:
        if self._token is None:
            self._token = self._first()
        elif self._token.needs_renewal(self.margin) and self.can_renew():
            self._token = self._renewed(self._token)
        return self._token

    def can_renew(self) -> bool:
        token = self._token
        if token is not None and token.refresh_token and self.endpoint is not None and self.endpoint.client_id:
            return True
        return self.strategy.repeatable

    def renew(self, stale: Token | None = None) -> Token:
        """A new token after ``stale`` was rejected (or is about to expire)."""
        if stale is not None and self._token is not None and self._token.access_token != stale.access_token:
            return self._token  # already renewed meanwhile
        if self._token is None and stale is not None:
            self._token = stale  # a token obtained elsewhere (the shared cache), to renew
        if not self.can_renew():
            raise ProcessMakerError(
                "the access token was rejected and cannot be renewed", status=401, code="unauthenticated",
                hint="Give a valid access_token, or credentials (username/password, client credentials or a"
                " refresh token with client_id) so it can be renewed",
            )
        self._token = self._renewed(stale or self._token)
        return self._token

    @contextlib.contextmanager
    def _chain(self) -> Iterator[str | None]:
        """The rotation entry of the presented refresh token, held for the duration; else None."""
        if self.rotations is None:
            yield None
            return
        with self.rotations.held(self.strategy.presented_refresh) as name:
            yield name

    def _first(self) -> Token:
        with self._chain() as chain:
            remembered = self.rotations.current(chain) if chain else None
            if remembered is None:
                return self.strategy.obtain()
            if not remembered.needs_renewal(self.margin):
                return remembered  # the presented pair was rotated earlier in the run: its live token
            token = self._exchange(remembered)
            self.rotations.remember(chain, token)
            return token

    def _renewed(self, stale: Token | None) -> Token:
        with self._chain() as chain:
            remembered = self.rotations.current(chain) if chain else None
            if (remembered is not None and not remembered.needs_renewal(self.margin)
                    and (stale is None or remembered.access_token != stale.access_token)):
                return remembered  # another task or fork rotated it meanwhile
            token = self._exchange(remembered or self._token)
            if chain:
                self.rotations.remember(chain, token)
            return token

    def _exchange(self, base: Token | None) -> Token:
        """A new token: ``base``'s refresh token when it has one, else (or when it is spent) the grant."""
        if base is not None and base.refresh_token and self.endpoint is not None and self.endpoint.client_id:
            try:
                return exchange_refresh_token(self.endpoint, base.refresh_token)
            except ProcessMakerError as error:
                if not (self.strategy.from_scratch
                        and (error.code in STALE_GRANT_CODES or answer_lost(error))):
                    raise
                # the refresh token is spent or revoked, or its answer was lost (so it may be spent):
                # the original grant (a password, client credentials) still works and is safe to repeat
        return self.strategy.obtain()


class LockedAuthenticator:
    """A token provider behind a lock: threads share one token and renew it once."""

    def __init__(self, inner: TokenProvider) -> None:
        self._inner = inner
        self._lock = threading.RLock()

    def token(self) -> Token:
        with self._lock:
            return self._inner.token()

    def renew(self, stale: Token | None = None) -> Token:
        with self._lock:
            return self._inner.renew(stale)

    def can_renew(self) -> bool:
        with self._lock:
            return self._inner.can_renew()


def token_endpoint_for(options: ConnectionOptions, transport: Any) -> TokenEndpoint:
    values = options.values
    return TokenEndpoint(
        transport, options.token_endpoint, values.get("client_id"), values.get("client_secret"), options.scope_string,
    )


def build_strategy(options: ConnectionOptions, endpoint: TokenEndpoint, *, code: str | None = None,
                   redirect_uri: str | None = None, code_verifier: str | None = None) -> AuthStrategy:
    values = options.values
    grant = options.grant_type
    if grant == "password":
        return PasswordGrant(endpoint, values["username"], values["password"])
    if grant == "client_credentials":
        return ClientCredentialsGrant(endpoint)
    if grant == "refresh_token":
        return RefreshTokenGrant(endpoint, values["refresh_token"])
    if grant == "authorization_code":
        if not code:
            raise ValueError("the authorization_code grant needs a code")
        return AuthorizationCodeGrant(endpoint, code, redirect_uri, code_verifier)
    if grant == "token":
        return StaticToken(values["access_token"], values.get("refresh_token"))
    raise ValueError(f"unknown grant_type {grant!r}")


def build_authenticator(options: ConnectionOptions, transport: Any, *, margin: float = 30.0,
                        store: TokenStore | None = None, **code_flow: Any) -> Authenticator:
    """The Authenticator of ``options``; with ``store``, refresh-token rotations are remembered in it."""
    endpoint = token_endpoint_for(options, transport)
    rotations = Rotations(store, endpoint) if store is not None else None
    return Authenticator(build_strategy(options, endpoint, **code_flow), endpoint, margin=margin, rotations=rotations)
