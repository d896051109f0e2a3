"""/users/{user}/tokens: the personal access token lifecycle."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import NOT_FOUND, UNAUTHENTICATED, create_user, user_with_token

CARBON = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$")
TOKEN_KEYS = ["id", "user_id", "client_id", "name", "scopes", "revoked", "created_at", "updated_at", "expires_at"]
CLIENT_KEYS = ["id", "user_id", "name", "provider", "redirect", "personal_access_client", "password_client",
               "revoked", "created_at", "updated_at"]
NOT_YOURS = {"message": "Not authorized to update this user."}


def test_lifecycle(clean_sandbox: SandboxProcess) -> None:
    me, password_token = user_with_token(clean_sandbox, "owner")
    response = clean_sandbox.api("POST", f"/users/{me['id']}/tokens", token=password_token, json={"name": "ci"})
    assert response.status_code == 200
    created = response.json()
    assert list(created) == ["accessToken", "token"]
    token = created["token"]
    assert list(token) == TOKEN_KEYS
    assert re.fullmatch(r"[0-9a-f]{80}", token["id"])
    assert (token["user_id"], token["name"], token["scopes"], token["revoked"]) == (me["id"], "ci", [], False)
    assert CARBON.match(token["created_at"]) and CARBON.match(token["expires_at"])
    expires = dt.datetime.strptime(token["expires_at"], "%Y-%m-%dT%H:%M:%S.000000Z")
    created_at = dt.datetime.strptime(token["created_at"], "%Y-%m-%dT%H:%M:%S.000000Z")
    assert 365 <= (expires - created_at).days <= 366

    pat = created["accessToken"]
    assert clean_sandbox.api("GET", f"/users/{me['id']}", token=pat).json()["username"] == "owner"

    listed = clean_sandbox.api("GET", f"/users/{me['id']}/tokens", token=pat).json()
    assert listed["meta"]["total"] == 1  # the password-grant token is not a personal one
    assert listed["meta"]["per_page"] == 10
    item = listed["data"][0]
    assert list(item) == [*TOKEN_KEYS, "client"]
    assert {k: item[k] for k in TOKEN_KEYS} == token
    assert list(item["client"]) == CLIENT_KEYS
    assert item["client"]["personal_access_client"] is True
    assert "secret" not in item["client"]

    shown = clean_sandbox.api("GET", f"/users/{me['id']}/tokens/{token['id']}", token=pat)
    assert (shown.status_code, shown.json()) == (200, token)

    response = clean_sandbox.api("DELETE", f"/users/{me['id']}/tokens/{token['id']}", token=password_token)
    assert (response.status_code, response.content) == (204, b"")
    response = clean_sandbox.api("GET", f"/users/{me['id']}", token=pat)
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    assert clean_sandbox.api("GET", f"/users/{me['id']}/tokens", token=password_token).json()["meta"]["total"] == 0
    # A revoked token is still found by id (revoked: true); unknown ids are 404 with two different bodies.
    shown = clean_sandbox.api("GET", f"/users/{me['id']}/tokens/{token['id']}", token=password_token).json()
    assert shown["revoked"] is True


def test_unknown_token(clean_sandbox: SandboxProcess) -> None:
    admin = clean_sandbox.credentials["admin"]["id"]
    response = clean_sandbox.api("GET", f"/users/{admin}/tokens/{'ab' * 40}")
    assert (response.status_code, response.json()) == (404, [])
    response = clean_sandbox.api("DELETE", f"/users/{admin}/tokens/{'ab' * 40}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    # Another user's token is unknown under this user.
    other, _ = user_with_token(clean_sandbox, "other")
    token = clean_sandbox.api("POST", f"/users/{other['id']}/tokens", json={"name": "theirs"}).json()["token"]
    assert clean_sandbox.api("GET", f"/users/{admin}/tokens/{token['id']}").status_code == 404
    assert clean_sandbox.api("DELETE", f"/users/{admin}/tokens/{token['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["The Name field is required."]}),
        ({"name": "n" * 256}, {"name": ["The Name field must not be greater than 255 characters."]}),
        ({"name": "scoped", "scopes": ["read"]}, {"scopes": ["The selected Scopes is invalid."]}),
        ({"name": "scoped", "scopes": "read"}, {"scopes": ["The Scopes field must be an array.",
                                                            "The selected Scopes is invalid."]}),
    ],
)
def test_create_validation(clean_sandbox: SandboxProcess, body: dict, errors: dict) -> None:
    admin = clean_sandbox.credentials["admin"]["id"]
    response = clean_sandbox.api("POST", f"/users/{admin}/tokens", json=body)
    messages = [m for texts in errors.values() for m in texts]
    message = messages[0] + (" (and 1 more error)" if len(messages) == 2 else "")
    assert (response.status_code, response.json()) == (422, {"message": message, "errors": errors})


def test_empty_scopes_are_fine(clean_sandbox: SandboxProcess) -> None:
    admin = clean_sandbox.credentials["admin"]["id"]
    response = clean_sandbox.api("POST", f"/users/{admin}/tokens", json={"name": "plain", "scopes": []})
    assert (response.status_code, response.json()["token"]["scopes"]) == (200, [])


def test_who_may_create_and_read_tokens(clean_sandbox: SandboxProcess) -> None:
    target = create_user(clean_sandbox, "target")
    _, editor_token = user_with_token(clean_sandbox, "editor", "edit-users", "view-users")
    # edit-users is not enough to mint a token for someone else: only the user or an administrator.
    response = clean_sandbox.api("POST", f"/users/{target['id']}/tokens", token=editor_token, json={"name": "x"})
    assert (response.status_code, response.json()) == (403, NOT_YOURS)
    response = clean_sandbox.api("POST", f"/users/{target['id']}/tokens", json={"name": "by admin"})
    assert response.status_code == 200
    assert response.json()["token"]["user_id"] == target["id"]
    listed = clean_sandbox.api("GET", f"/users/{target['id']}/tokens", token=editor_token).json()
    assert [t["name"] for t in listed["data"]] == ["by admin"]
    token_id = response.json()["token"]["id"]
    assert clean_sandbox.api("DELETE", f"/users/{target['id']}/tokens/{token_id}", token=editor_token).status_code == 204


def test_list_pages_in_tens(clean_sandbox: SandboxProcess) -> None:
    admin = clean_sandbox.credentials["admin"]["id"]
    for index in range(12):
        assert clean_sandbox.api("POST", f"/users/{admin}/tokens", json={"name": f"t{index}"}).status_code == 200
    first = clean_sandbox.api("GET", f"/users/{admin}/tokens").json()
    assert (first["meta"]["total"], first["meta"]["count"], first["meta"]["last_page"]) == (12, 10, 2)
    second = clean_sandbox.api("GET", f"/users/{admin}/tokens?page=2").json()
    assert second["meta"]["count"] == 2
    names = {t["name"] for t in first["data"]} | {t["name"] for t in second["data"]}
    assert names == {f"t{index}" for index in range(12)}
