# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PKCE (RFC 7636) with S256, the ``state`` value, and the authorization URL of the code flow."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import urlencode

VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_code_verifier(entropy_bytes: int = 32) -> str:
    """A random verifier: 32 bytes give the 43-character minimum of RFC 7636 section 4.1."""
    return _b64url(secrets.token_bytes(entropy_bytes))


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(code_verifier))) without padding (RFC 7636 section 4.2)."""
    if not VERIFIER_PATTERN.match(verifier):
        raise ValueError("code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state() -> str:
    """An unguessable ``state`` to tie the authorization response to this request (CSRF)."""
    return secrets.token_urlsafe(24)


def authorization_url(
    authorize_endpoint: str,
    *,
    client_id: str,
    redirect_uri: str | None,
    state: str,
    code_challenge: str,
    scope: str | None = None,
    extra: dict | None = None,
) -> str:
    params = [("response_type", "code"), ("client_id", client_id)]
    if redirect_uri:
        params.append(("redirect_uri", redirect_uri))
    if scope:
        params.append(("scope", scope))
    params += [("state", state), ("code_challenge", code_challenge), ("code_challenge_method", "S256")]
    params += sorted((extra or {}).items())
    separator = "&" if "?" in authorize_endpoint else "?"
    return authorize_endpoint + separator + urlencode(params)
