"""Every /api/1.0 route: 401 without a token, 403 without the permission, 404 for an unknown id,
the fallback for a non-numeric id, and the check order model (404) → permission (403) → rules (422)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAUTHORIZED,
    add_member,
    create_group,
    no_token,
    user_with_token,
)

VIEW_USERS = {"message": "Not authorized to view users."}
UPDATE_USER = {"message": "Not authorized to update this user."}
VIEW_GROUPS = {"message": "Not authorized to view groups."}
TOKEN = "0" * 80
CATEGORY_PATHS = ["process_categories", "screen_categories", "script_categories"]


@pytest.fixture(scope="module")
def world(sandbox: SandboxProcess) -> dict[str, Any]:
    """One of everything, and a user that holds no permission at all."""
    sandbox.reset()
    nobody, token = user_with_token(sandbox, "nobody")
    group = create_group(sandbox, "Access Group")
    member = add_member(sandbox, group["id"], nobody["id"]).json()
    variable = sandbox.api("POST", "/environment_variables", json={"name": "ACCESS", "description": "d"}).json()
    categories = {
        path: sandbox.api("POST", f"/{path}", json={"name": f"Access {path}", "status": "ACTIVE"}).json()["id"]
        for path in CATEGORY_PATHS
    }
    setting = sandbox.api("GET", "/settings?per_page=1").json()["data"][0]
    return {
        "nobody": nobody, "token": token, "admin": sandbox.credentials["admin"]["id"], "group": group["id"],
        "member": member["id"], "variable": variable["id"], "categories": categories, "setting": setting["id"],
    }


def routes(world: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, expected 403 body for a user without permissions) for every route."""
    admin, group, member, variable, setting = (
        world["admin"], world["group"], world["member"], world["variable"], world["setting"],
    )
    listed: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/users", VIEW_USERS),
        ("GET", f"/users/{admin}", UPDATE_USER),
        ("GET", "/deleted_users", UNAUTHORIZED),
        ("POST", "/users", UNAUTHORIZED),
        ("PUT", "/users/restore", UNAUTHORIZED),
        ("PUT", f"/users/{admin}", UPDATE_USER),
        ("DELETE", f"/users/{admin}", UNAUTHORIZED),
        ("PUT", f"/users/{admin}/groups", UNAUTHORIZED),
        ("GET", f"/users/{admin}/tokens", UPDATE_USER),
        ("GET", f"/users/{admin}/tokens/{TOKEN}", UPDATE_USER),
        ("POST", f"/users/{admin}/tokens", UPDATE_USER),
        ("DELETE", f"/users/{admin}/tokens/{TOKEN}", UPDATE_USER),
        ("GET", "/groups", VIEW_GROUPS),
        ("GET", f"/groups/{group}", VIEW_GROUPS),
        ("POST", "/groups", UNAUTHORIZED),
        ("PUT", f"/groups/{group}", UNAUTHORIZED),
        ("DELETE", f"/groups/{group}", UNAUTHORIZED),
        ("GET", f"/groups/{group}/users", UNAUTHORIZED),
        ("GET", f"/groups/{group}/groups", UNAUTHORIZED),
        ("GET", "/group_members", VIEW_GROUPS),
        ("GET", f"/group_members/{member}", UNAUTHORIZED),
        ("POST", "/group_members", UNAUTHORIZED),
        ("DELETE", f"/group_members/{member}", UNAUTHORIZED),
        ("GET", "/group_members_available", None),
        ("GET", "/user_members_available", UNAUTHORIZED),
        ("GET", "/environment_variables", UNAUTHORIZED),
        ("GET", f"/environment_variables/{variable}", UNAUTHORIZED),
        ("POST", "/environment_variables", UNAUTHORIZED),
        ("PUT", f"/environment_variables/{variable}", UNAUTHORIZED),
        ("DELETE", f"/environment_variables/{variable}", UNAUTHORIZED),
        ("GET", "/settings", UNAUTHORIZED),
        ("POST", "/settings", UNAUTHORIZED),
        ("PUT", f"/settings/{setting}", UNAUTHORIZED),
        ("DELETE", f"/settings/{setting}", UNAUTHORIZED),
        ("GET", "/permissions", None),
        ("PUT", "/permissions", UNAUTHORIZED),
    ]
    for path, category in world["categories"].items():
        listed += [
            ("GET", f"/{path}", UNAUTHORIZED),
            ("GET", f"/{path}/{category}", UNAUTHORIZED),
            ("POST", f"/{path}", UNAUTHORIZED),
            ("PUT", f"/{path}/{category}", UNAUTHORIZED),
            ("DELETE", f"/{path}/{category}", UNAUTHORIZED),
        ]
    return listed


def test_every_route_needs_a_token(sandbox: SandboxProcess, world: dict[str, Any]) -> None:
    for method, path, _ in routes(world):
        response = no_token(sandbox, method, path, json={})
        assert (method, path, response.status_code, response.json()) == (method, path, 401, UNAUTHENTICATED)


def test_a_user_without_permissions_is_refused_with_the_controller_message(
    sandbox: SandboxProcess, world: dict[str, Any]
) -> None:
    nobody_admin_body = {"username": "admin", "firstname": "A", "lastname": "U", "email": "admin@processmaker.com",
                         "status": "ACTIVE"}
    for method, path, forbidden in routes(world):
        body = nobody_admin_body if path == f"/users/{world['admin']}" else {}
        response = sandbox.api(method, path, token=world["token"], json=body)
        if forbidden is None:
            assert (method, path, response.status_code) == (method, path, 200)
        else:
            assert (method, path, response.status_code, response.json()) == (method, path, 403, forbidden)


def test_nothing_was_changed_by_the_refused_calls(sandbox: SandboxProcess, world: dict[str, Any]) -> None:
    assert sandbox.api("GET", f"/users/{world['admin']}").json()["deleted_at"] is None
    assert sandbox.api("GET", f"/groups/{world['group']}").status_code == 200
    assert sandbox.api("GET", f"/group_members/{world['member']}").status_code == 200
    assert sandbox.api("GET", f"/environment_variables/{world['variable']}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/999999"), ("PUT", "/users/999999"), ("DELETE", "/users/999999"),
        ("PUT", "/users/999999/groups"), ("GET", "/users/999999/tokens"), ("POST", "/users/999999/tokens"),
        ("GET", f"/users/999999/tokens/{TOKEN}"), ("DELETE", f"/users/999999/tokens/{TOKEN}"),
        ("GET", "/groups/999999"), ("PUT", "/groups/999999"), ("DELETE", "/groups/999999"),
        ("GET", "/groups/999999/users"), ("GET", "/groups/999999/groups"),
        ("GET", "/group_members/999999"), ("DELETE", "/group_members/999999"),
        ("GET", "/environment_variables/999999"), ("PUT", "/environment_variables/999999"),
        ("DELETE", "/environment_variables/999999"),
        ("GET", "/process_categories/999999"), ("PUT", "/process_categories/999999"),
        ("DELETE", "/process_categories/999999"),
        ("GET", "/screen_categories/999999"), ("PUT", "/screen_categories/999999"),
        ("DELETE", "/screen_categories/999999"),
        ("GET", "/script_categories/999999"), ("PUT", "/script_categories/999999"),
        ("DELETE", "/script_categories/999999"),
        ("PUT", "/settings/999999"), ("DELETE", "/settings/999999"),
    ],
)
def test_unknown_numeric_id_is_the_api_fallback_404(
    sandbox: SandboxProcess, world: dict[str, Any], method: str, path: str
) -> None:
    response = sandbox.api(method, path, json={})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_missing_model_is_404_before_the_permission_check(
    sandbox: SandboxProcess, world: dict[str, Any], method: str
) -> None:
    for path in ("/users/999999", "/groups/999999", "/environment_variables/999999", "/settings/999999"):
        if method == "GET" and path == "/settings/999999":
            continue  # there is no GET /settings/{setting}
        response = sandbox.api(method, path, token=world["token"], json={})
        assert (path, response.status_code, response.json()) == (path, 404, NOT_FOUND)


def test_permission_is_checked_before_validation(sandbox: SandboxProcess, world: dict[str, Any]) -> None:
    response = sandbox.api("POST", "/groups", token=world["token"], json={})
    assert (response.status_code, response.json()) == (403, UNAUTHORIZED)


@pytest.mark.parametrize(
    "path",
    ["/users/abc", "/groups/abc", "/group_members/abc", "/environment_variables/x1", "/process_categories/abc",
     "/users/1abc/tokens", "/no_such_resource"],
)
def test_non_numeric_id_falls_back_to_404(sandbox: SandboxProcess, world: dict[str, Any], path: str) -> None:
    response = sandbox.api("GET", path)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    anonymous = no_token(sandbox, "GET", path)
    assert (anonymous.status_code, anonymous.json()) == (401, UNAUTHENTICATED)


def test_non_get_on_a_non_numeric_id_is_405(sandbox: SandboxProcess, world: dict[str, Any]) -> None:
    response = sandbox.api("PUT", "/users/abc", json={})
    assert response.status_code == 405
    assert response.json() == {
        "message": "The PUT method is not supported for route api/1.0/users/abc. Supported methods: GET, HEAD."
    }
