"""/permissions: the seeded catalogue and assigning permissions to users and groups."""

from __future__ import annotations

import sys
from pathlib import Path

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import NOT_FOUND, UNAUTHORIZED, create_group, user_with_token

ADMIN_ONLY = {"message": "You are not authorized to modify administrator privileges"}


def test_catalogue_is_grouped_and_sorted_by_title(clean_sandbox: SandboxProcess) -> None:
    _, token = user_with_token(clean_sandbox, "reader")  # no permission needed
    body = clean_sandbox.api("GET", "/permissions", token=token).json()
    # Groups appear in the order of their first title ("Archive Processes", "Cancel Process Translations", ...).
    assert list(body) == [
        "Processes", "Process Translations", "Auth Clients", "Environment Variables", "Files (API)", "Groups",
        "Process Templates", "Screens", "Scripts", "Signals", "Task Assignments (API)", "Users",
        "Cases and Requests", "Username and Password", "Settings", "Process Catalog", "Security Logs",
    ]
    assert [p["title"] for p in body["Groups"]] == ["Create Groups", "Delete Groups", "Edit Groups", "View Groups"]
    assert [p["name"] for p in body["Environment Variables"]] == [
        "create-environment_variables", "delete-environment_variables", "edit-environment_variables",
        "view-environment_variables"]
    assert [p["title"] for p in body["Username and Password"]] == ["Edit User And Password"]
    first = body["Settings"][0]
    assert list(first) == ["id", "uuid", "name", "title", "group", "created_at", "updated_at"]
    assert (first["name"], first["title"], first["group"]) == ("update-settings", "Update Settings", "Settings")
    assert sum(len(items) for items in body.values()) == 82


def test_assign_and_replace_user_permissions(clean_sandbox: SandboxProcess) -> None:
    user, token = user_with_token(clean_sandbox, "grantee")
    assert clean_sandbox.api("GET", "/environment_variables", token=token).status_code == 403
    response = clean_sandbox.api("PUT", "/permissions", json={
        "user_id": user["id"], "permission_names": ["view-environment_variables", "no-such-permission"]})
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", "/environment_variables", token=token).status_code == 200
    clean_sandbox.api("PUT", "/permissions", json={"user_id": user["id"], "permission_names": ["view-groups"]})
    assert clean_sandbox.api("GET", "/environment_variables", token=token).status_code == 403
    assert clean_sandbox.api("GET", "/groups", token=token).status_code == 200


def test_group_permissions_apply_to_members(clean_sandbox: SandboxProcess) -> None:
    user, token = user_with_token(clean_sandbox, "teammate")
    group = create_group(clean_sandbox, "Readers")
    clean_sandbox.api("POST", "/group_members", json={
        "group_id": group["id"], "member_id": user["id"], "member_type": "ProcessMaker\\Models\\User"})
    clean_sandbox.api("PUT", "/permissions", json={"group_id": group["id"], "permission_names": ["view-settings"]})
    assert clean_sandbox.api("GET", "/settings", token=token).status_code == 200
    clean_sandbox.api("PUT", "/permissions", json={"group_id": group["id"], "permission_names": []})
    assert clean_sandbox.api("GET", "/settings", token=token).status_code == 403


def test_administrator_rights(clean_sandbox: SandboxProcess) -> None:
    _, token = user_with_token(clean_sandbox, "useredit", "edit-users")
    target, target_token = user_with_token(clean_sandbox, "target")
    # A user with edit-users assigns ordinary permissions...
    response = clean_sandbox.api("PUT", "/permissions", token=token,
                                 json={"user_id": target["id"], "permission_names": ["view-users"]})
    assert response.status_code == 204
    assert clean_sandbox.api("GET", "/users", token=target_token).status_code == 200
    # ...but not administrator rights.
    response = clean_sandbox.api("PUT", "/permissions", token=token,
                                 json={"user_id": target["id"], "is_administrator": True, "permission_names": []})
    assert (response.status_code, response.json()) == (403, ADMIN_ONLY)
    response = clean_sandbox.api("PUT", "/permissions", json={"user_id": target["id"], "is_administrator": True})
    assert response.status_code == 204
    assert clean_sandbox.api("GET", "/settings", token=target_token).status_code == 200
    # A non-administrator may not touch an administrator at all.
    response = clean_sandbox.api("PUT", "/permissions", token=token,
                                 json={"user_id": target["id"], "permission_names": ["view-users"]})
    assert (response.status_code, response.json()) == (403, ADMIN_ONLY)
    response = clean_sandbox.api("PUT", "/permissions", json={"user_id": target["id"], "is_administrator": False})
    assert response.status_code == 204
    assert clean_sandbox.api("GET", "/settings", token=target_token).status_code == 403


def test_update_errors(clean_sandbox: SandboxProcess) -> None:
    _, token = user_with_token(clean_sandbox, "plain")
    response = clean_sandbox.api("PUT", "/permissions", token=token, json={"user_id": 1, "permission_names": []})
    assert (response.status_code, response.json()) == (403, UNAUTHORIZED)
    assert clean_sandbox.api("PUT", "/permissions", json={"user_id": 999999}).json() == NOT_FOUND
    assert clean_sandbox.api("PUT", "/permissions", json={"group_id": 999999}).json() == NOT_FOUND
    assert clean_sandbox.api("PUT", "/permissions", json={}).status_code == 404
