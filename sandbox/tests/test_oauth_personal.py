"""issue_personal_access_token / serialize_token (called by the /users/{user}/tokens API) and the
guard's ctx.user / ctx.token, run in-process against the database of a live sandbox whose HTTP
guard then accepts the token."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.app import SandboxApp
from pm_sandbox.config import Settings
from pm_sandbox.http import Context, Unauthenticated
from pm_sandbox.oauth import (
    authenticate_bearer,
    issue_personal_access_token,
    serialize_token,
)
from pm_sandbox.oauth.errors import OAuthError
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import (
    HEX80,
    NOT_FOUND,
    api_status,
    create_client,
    jwt_parts,
    query,
)

CARBON = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000Z")


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture(scope="module")
def app(sb: SandboxProcess) -> SandboxApp:
    """A second app on the same database file: same keys, same rows."""
    return SandboxApp(Settings(db_path=str(sb.workdir / "sandbox.sqlite"), operator_key="x"))


def context(app: SandboxApp, authorization: str | None = None) -> Context:
    headers = {"Authorization": authorization} if authorization else {}
    request = EnvironBuilder(path="/api/1.0/users", headers=headers).get_request()
    return Context(request, app.store, app.settings, counters=app.counters)


def test_issue_personal_access_token(sb: SandboxProcess, app: SandboxApp) -> None:
    admin_id = sb.credentials["admin"]["id"]
    client_id = int(sb.credentials["personal_access_client"]["client_id"])
    app.counters.reset()
    access_token, token = issue_personal_access_token(context(app), admin_id, "CI token", [])

    assert list(token) == ["id", "user_id", "client_id", "name", "scopes", "revoked", "created_at", "updated_at",
                           "expires_at"]
    assert HEX80.fullmatch(token["id"])
    assert (token["user_id"], token["client_id"], token["name"], token["scopes"], token["revoked"]) == (
        admin_id, client_id, "CI token", [], False,
    )
    for key in ("created_at", "updated_at", "expires_at"):
        assert CARBON.fullmatch(token[key]), token[key]
    assert int(token["expires_at"][:4]) == int(token["created_at"][:4]) + 1
    assert token["expires_at"][4:10] == token["created_at"][4:10] or token["created_at"][5:10] == "02-29"

    claims = jwt_parts(access_token)[1]
    assert (claims["jti"], claims["aud"], claims["sub"], claims["scopes"]) == (
        token["id"], str(client_id), str(admin_id), [],
    )
    assert api_status(sb, access_token) == (404, NOT_FOUND)  # the live server accepts it
    assert app.counters.snapshot()["tokens_issued"] == {"personal_access": 1}

    row = query(sb, "SELECT * FROM oauth_access_tokens WHERE id = ?", (token["id"],))[0]
    assert row["name"] == "CI token"
    assert serialize_token(row) == token


def test_scopes_of_personal_access_tokens(sb: SandboxProcess, app: SandboxApp) -> None:
    admin_id = sb.credentials["admin"]["id"]
    access_token, token = issue_personal_access_token(context(app), admin_id, "all", ["*"])
    assert token["scopes"] == ["*"]
    assert jwt_parts(access_token)[1]["scopes"] == ["*"]
    with pytest.raises(OAuthError) as raised:
        issue_personal_access_token(context(app), admin_id, "bad", ["read"])
    assert (raised.value.status, raised.value.body) == (400, {
        "error": "invalid_scope",
        "error_description": "The requested scope is invalid, unknown, or malformed",
        "hint": "Check the `read` scope",
        "message": "The requested scope is invalid, unknown, or malformed",
    })


def test_newest_personal_access_client_is_used(sb: SandboxProcess, app: SandboxApp) -> None:
    newest = create_client(sb, "Newer PAT Client", "http://localhost", personal=True)
    _, token = issue_personal_access_token(context(app), sb.credentials["admin"]["id"], "newest", [])
    assert token["client_id"] == int(newest)


def test_serialize_token_casts(sb: SandboxProcess) -> None:
    row = {"id": "a" * 80, "user_id": 7, "client_id": 1, "name": None, "scopes": '["*"]', "revoked": 1,
           "created_at": "2025-01-31 12:34:56", "updated_at": "2025-02-01 00:00:00", "expires_at": None}
    assert serialize_token(row) == {
        "id": "a" * 80, "user_id": 7, "client_id": 1, "name": None, "scopes": ["*"], "revoked": True,
        "created_at": "2025-01-31T12:34:56.000000Z", "updated_at": "2025-02-01T00:00:00.000000Z",
        "expires_at": None,
    }


def test_guard_sets_user_and_token(sb: SandboxProcess, app: SandboxApp) -> None:
    access_token, token = issue_personal_access_token(context(app), sb.credentials["admin"]["id"], "guard", [])
    ctx = context(app, "Bearer " + access_token)
    authenticate_bearer(ctx)
    assert ctx.user is not None and ctx.token is not None
    assert (ctx.user["id"], ctx.user["username"]) == (sb.credentials["admin"]["id"], "admin")
    assert (ctx.token["id"], ctx.token["name"], ctx.token["revoked"]) == (token["id"], "guard", 0)
    with pytest.raises(Unauthenticated):
        authenticate_bearer(context(app, "bearer " + access_token))
