"""Helpers shared by the test_oauth_* modules (no tests here).

The OAuth tests drive real sandbox processes over HTTP; where a test needs state that no endpoint
creates (a revoked client, a public client, a soft-deleted user) it writes to the sandbox's SQLite
file directly, the way an operator with database access would.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from pm_sandbox.testing import SandboxProcess

INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more "
    "than once, or is otherwise malformed."
)
INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is "
    "invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued "
    "to another client."
)
UNSUPPORTED_GRANT = "The authorization grant type is not supported by the authorization server."
INVALID_CLIENT = "Client authentication failed"
INVALID_SCOPE = "The requested scope is invalid, unknown, or malformed"
BAD_CREDENTIALS = "The user credentials were incorrect."
BAD_REFRESH = "The refresh token is invalid."
ACCESS_DENIED = "The resource owner or authorization server denied the request."
UNAUTHENTICATED = {"error": "Unauthenticated."}
NOT_FOUND = {"error": "Not Found"}
HEX80 = re.compile(r"[0-9a-f]{80}")
OPAQUE = re.compile(r"def50200[0-9a-f]{200,}")
ONE_YEAR = 365 * 24 * 3600


def error_body(error: str, description: str, hint: str | None = None) -> dict[str, str]:
    body = {"error": error, "error_description": description}
    if hint is not None:
        body["hint"] = hint
    body["message"] = description
    return body


def assert_oauth_error(
    response: requests.Response,
    status: int,
    error: str,
    description: str,
    hint: str | None = None,
    www_authenticate: str | None = None,
) -> None:
    """Exact status, body (key order included), and the headers league + Symfony send."""
    expected = error_body(error, description, hint)
    assert (response.status_code, response.json()) == (status, expected)
    assert response.text == json.dumps(expected, separators=(",", ":")).replace("/", "\\/")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-cache, private"
    assert "Pragma" not in response.headers
    assert response.headers.get("WWW-Authenticate") == www_authenticate


def assert_token_success(response: requests.Response, *, refresh: bool, ttl: int = ONE_YEAR) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    keys = ["token_type", "expires_in", "access_token"] + (["refresh_token"] if refresh else [])
    assert list(body) == keys
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] in (ttl, ttl - 1)
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert response.headers["Cache-Control"] == "no-store, private"
    assert response.headers["Pragma"] == "no-cache"
    if refresh:
        assert OPAQUE.fullmatch(body["refresh_token"])
    return body


def post_token(sandbox: SandboxProcess, data: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
    return requests.post(sandbox.token_url, data=data, timeout=10, **kwargs)


def password_form(sandbox: SandboxProcess, **overrides: Any) -> dict[str, Any]:
    client = sandbox.credentials["password_client"]
    form = {
        "grant_type": "password",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "username": sandbox.credentials["admin"]["username"],
        "password": sandbox.credentials["admin"]["password"],
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def api_status(sandbox: SandboxProcess, token: str | None, header: str | None = None) -> tuple[int, Any]:
    """Status and body of the API fallback route: 404 with a valid token, 401 without one."""
    headers = {"Accept": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    elif token is not None:
        headers["Authorization"] = "Bearer " + token
    response = requests.get(sandbox.api_url + "/no-such-thing", headers=headers, timeout=10)
    if response.status_code == 401:
        assert "WWW-Authenticate" not in response.headers
    return response.status_code, response.json()


def jwt_parts(token: str) -> tuple[bytes, dict[str, Any]]:
    """The raw header JSON and the claims (unverified), in their original key order."""
    header_b64, payload_b64, _ = token.split(".")
    header = base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4))
    payload = base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4))
    return header, json.loads(payload)


# Database access (the sandbox runs SQLite in WAL mode, so a second connection is safe).
def db(sandbox: SandboxProcess) -> sqlite3.Connection:
    conn = sqlite3.connect(sandbox.workdir / "sandbox.sqlite", timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def query(sandbox: SandboxProcess, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    with closing(db(sandbox)) as conn:
        return [dict(row) for row in conn.execute(sql, params).fetchall()]


def execute(sandbox: SandboxProcess, sql: str, params: tuple = ()) -> int:
    with closing(db(sandbox)) as conn:
        cursor = conn.execute(sql, params)
        return int(cursor.lastrowid or 0)


def private_key(sandbox: SandboxProcess) -> Any:
    pem = query(sandbox, "SELECT value FROM meta WHERE key = 'oauth.private_key'")[0]["value"]
    return serialization.load_pem_private_key(pem.encode(), password=None)


def create_client(
    sandbox: SandboxProcess, name: str, redirect: str, secret: str = "s3cret-s3cret", *, password: bool = False,
    personal: bool = False,
) -> str:
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    client_id = execute(
        sandbox,
        "INSERT INTO oauth_clients (name, secret, redirect, personal_access_client, password_client, revoked,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        (name, secret, redirect, int(personal), int(password), now, now),
    )
    if personal:
        execute(
            sandbox,
            "INSERT INTO oauth_personal_access_clients (client_id, created_at, updated_at) VALUES (?, ?, ?)",
            (client_id, now, now),
        )
    return str(client_id)


def location_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def sign(sandbox: SandboxProcess, claims: dict[str, Any], key: Any = None) -> str:
    """A JWT signed like the sandbox's own (for crafting tokens with chosen times)."""
    return jwt.encode(
        claims, key or private_key(sandbox), algorithm="RS256", headers={"typ": "JWT", "alg": "RS256"},
        sort_headers=False,
    )
