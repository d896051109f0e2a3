# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Users and personal access tokens through ProcessMaker's ``/users/{user}/tokens`` API.

There is no "me" endpoint: the caller is the JWT ``sub`` of the access token in use.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import (
    Token,
    parse_iso8601,
)


def caller_id(client: Any) -> str | None:
    """The user id of the token in use (its JWT ``sub``), or None for opaque/client tokens."""
    return client.token.user_id


def find_user(client: Any, user: Any) -> dict:
    """The user object for an id or a username. Raises ProcessMakerError (404) when none matches."""
    text = str(user).strip()
    if text.isdigit():
        return client.get(f"users/{text}").json
    matches = [
        item for item in client.paginate("users", query={"filter": text}, max_items=10000).items
        if isinstance(item, dict) and item.get("username") == text
    ]
    if not matches:
        # the listing worked (200): say what it did not contain, not that a request failed
        raise ProcessMakerError(
            f"user: no user with username {text!r} on {client.options.base_url}", code="not_found",
            hint="Check user (an id or an exact username)",
        )
    return matches[0]


def user_summary(user: Any) -> dict | None:
    if not isinstance(user, dict):
        return None
    return {"id": user.get("id"), "username": user.get("username")}


def tokens_path(user_id: Any, token_id: Any = None) -> str:
    path = f"users/{user_id}/tokens"
    return path + f"/{token_id}" if token_id is not None else path


def list_tokens(client: Any, user_id: Any) -> list:
    """The user's active personal access tokens (revoked ones are not listed by the server)."""
    return [item for item in client.paginate(tokens_path(user_id)).items if isinstance(item, dict)]


def public_token_info(item: Any) -> dict:
    """What a token object says about itself, minus nothing secret (it has no secret fields)."""
    if not isinstance(item, dict):
        return {}
    keep = ("id", "name", "user_id", "client_id", "scopes", "revoked", "created_at", "updated_at", "expires_at")
    return {key: item.get(key) for key in keep if key in item}


def create_token(client: Any, user_id: Any, name: str, scopes: list | None = None) -> tuple:
    """Create a PAT; returns (Token, token info). ProcessMaker answers 200 {accessToken, token}."""
    body: dict = {"name": name}
    if scopes:
        body["scopes"] = list(scopes)
    response = client.post(tokens_path(user_id), json=body)
    payload = response.json if isinstance(response.json, dict) else {}
    value = payload.get("accessToken") or payload.get("access_token")
    if not isinstance(value, str) or not value:
        raise ProcessMakerError(
            "the server created a token but sent no accessToken", status=response.status, method="POST",
            url=response.url, code="invalid_token_response", hint="Check that url points at ProcessMaker",
        )
    info = public_token_info(payload.get("token"))
    token = Token.from_bearer(value, grant_type="personal_access")
    if token.expires_at is None:
        token.expires_at = parse_iso8601(info.get("expires_at"))
    if token.user_id is None and info.get("user_id") is not None:
        token.user_id = str(info["user_id"])
    return token, info


def get_token_info(client: Any, user_id: Any, token_id: Any) -> dict | None:
    """The token object, or None when the server does not know it (404, body ``[]``)."""
    response = client.get(tokens_path(user_id, token_id), expected_status=(200, 404))
    if response.status == 404 or not isinstance(response.json, dict):
        return None
    return public_token_info(response.json)


def revoke_token(client: Any, user_id: Any, token_id: Any) -> bool:
    """Revoke; True when something was revoked, False when the token was unknown (404)."""
    response = client.delete(tokens_path(user_id, token_id), expected_status=(200, 204, 404))
    return response.status != 404
