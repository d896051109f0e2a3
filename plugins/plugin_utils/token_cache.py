# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lookups' shared token cache: one token per credential for every task, host and fork of a run.

Entries live in the token store (``module_utils/token_store.py``: a private directory used by file
descriptor, 0600 files, a lock per entry). An entry's name is a keyed hash of what identifies the
credential (url, token_url, client_id, username, grant, scope) *and* of its secrets (client secret,
password, refresh token), so a caller who names the same account with a wrong password or client
secret finds nothing and must ask the server, which refuses. No secret is stored, and renewing an
entry with its refresh token happens only for a caller who found it, that is, who presented the
same secrets. Concurrent forks wait on the entry's lock for the one that asks the server.
"""

from __future__ import annotations

from ansible_collections.processmaker.core.plugins.module_utils.auth import (
    Authenticator,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    ConnectionOptions,
)
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import Token

# Grants whose tokens are shared through the cache: a given token (grant ``token``) is used as it is,
# and an authorization code can be exchanged only once, by the module.
CACHED_GRANTS = frozenset(("password", "client_credentials", "refresh_token"))


def entry_parts(options: ConnectionOptions) -> tuple:
    """What an entry's name is made of: the credential's identity and its secret material."""
    values = options.values
    return (
        "token", options.base_url, options.token_endpoint, values.get("client_id") or "",
        values.get("username") or "", options.grant_type or "", options.scope_string or "",
        values.get("client_secret") or "", values.get("password") or "",
        (values.get("refresh_token") or "") if options.grant_type == "refresh_token" else "",
    )


class CachedAuthenticator:
    """A token provider whose tokens go through the shared cache (the client sees the same interface)."""

    def __init__(self, inner: Authenticator, store: TokenStore, name: str, margin: float = 60.0) -> None:
        self.inner = inner
        self.store = store
        self.name = name
        self.margin = margin
        self._token: Token | None = None

    def token(self) -> Token:
        if self._token is None or self._token.needs_renewal(self.margin):
            self._token = self._get(stale=self._token)
        return self._token

    def can_renew(self) -> bool:
        return self.inner.can_renew()

    def renew(self, stale: Token | None = None) -> Token:
        self._token = self._get(stale=stale or self._token, rejected=True)
        return self._token

    def _get(self, stale: Token | None, rejected: bool = False) -> Token:
        with self.store.locked(self.name) as locked:
            cached = self.store.load(self.name) if locked else None
            same_as_rejected = (
                rejected and stale is not None and cached is not None and cached.access_token == stale.access_token
            )
            if cached is not None and not cached.needs_renewal(self.margin) and not same_as_rejected:
                return cached  # another task or fork got a fresh one meanwhile
            token = self._from_server(cached or (stale if rejected else None))
            if locked and not self.store.store(self.name, token):
                self.store.discard(self.name)
            return token

    def _from_server(self, previous: Token | None) -> Token:
        """Refresh ``previous`` when it can be renewed, else run the grant."""
        if previous is not None and (previous.refresh_token or self.inner.strategy.repeatable):
            return self.inner.renew(previous)
        return self.inner.token()


def cached(inner: Authenticator, options: ConnectionOptions, store: TokenStore | None,
           margin: float = 60.0) -> Authenticator | CachedAuthenticator:
    """The provider a lookup uses: the shared cache for the grants it serves, else ``inner`` itself."""
    name = store.name(*entry_parts(options)) if store is not None and options.grant_type in CACHED_GRANTS else None
    if name is None:
        return inner
    return CachedAuthenticator(inner, store, name, margin)
