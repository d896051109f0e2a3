"""/permissions: the seeded catalogue, assigning permissions to users and groups, reading a group's
permissions (``GET /groups?include=permissions``), and the permission each resource asks for."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    GROUP_CLASS,
    NOT_FOUND,
    UNAUTHORIZED,
    create_group,
    grant,
    user_with_token,
)

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


def test_without_permission_names_the_direct_permissions_are_removed(clean_sandbox: SandboxProcess) -> None:
    user, token = user_with_token(clean_sandbox, "dropped", "view-groups")
    response = clean_sandbox.api("PUT", "/permissions", json={"user_id": user["id"], "is_administrator": False})
    assert response.status_code == 204
    assert clean_sandbox.api("GET", "/groups", token=token).status_code == 403
    # Not an array: whereIn fails (500), after is_administrator was saved.
    response = clean_sandbox.api("PUT", "/permissions", json={
        "user_id": user["id"], "is_administrator": True, "permission_names": "view-groups"})
    assert (response.status_code, response.json()) == (500, {"message": "Server Error"})
    assert clean_sandbox.api("GET", f"/users/{user['id']}").json()["is_administrator"] is True
    # A JSON object counts as an array: its values are the names.
    group = create_group(clean_sandbox, "Object Names")
    response = clean_sandbox.api("PUT", "/permissions", json={
        "group_id": group["id"], "permission_names": {"a": "view-users"}})
    assert response.status_code == 204


def test_a_groups_permissions_are_read_with_include(clean_sandbox: SandboxProcess) -> None:
    """GroupController::index eager-loads ``include``; Group hides nothing, so ``permissions`` shows each
    permission with its morphToMany pivot. It is the only read path: users hide the relation."""
    group = create_group(clean_sandbox, "Auditors")
    empty = create_group(clean_sandbox, "Nothing")
    clean_sandbox.api("PUT", "/permissions", json={
        "group_id": group["id"], "permission_names": ["view-users", "view-groups"]})
    body = clean_sandbox.api("GET", "/groups", params={"include": "membersCount,permissions"}).json()
    by_name = {item["name"]: item for item in body["data"]}
    assert list(by_name["Auditors"])[-2:] == ["group_members_count", "permissions"]
    held = by_name["Auditors"]["permissions"]
    assert sorted(item["name"] for item in held) == ["view-groups", "view-users"]
    first = held[0]
    assert list(first) == ["id", "uuid", "name", "title", "group", "created_at", "updated_at", "pivot"]
    assert first["pivot"] == {"assignable_id": group["id"], "permission_id": first["id"],
                              "assignable_type": GROUP_CLASS}
    assert by_name["Nothing"]["permissions"] == [] and by_name["Nothing"]["id"] == empty["id"]
    assert "permissions" not in clean_sandbox.api("GET", "/groups").json()["data"][0]
    # GET /groups/{id} ignores include; users never show their permissions.
    assert "permissions" not in clean_sandbox.api("GET", f"/groups/{group['id']}?include=permissions").json()
    user, _ = user_with_token(clean_sandbox, "holder", "view-users")
    assert "permissions" not in clean_sandbox.api("GET", f"/users/{user['id']}?include=permissions").json()
    listed = clean_sandbox.api("GET", "/users", params={"include": "permissions", "filter": "holder"}).json()
    assert "permissions" not in listed["data"][0]


# (list path, permission to list or None, create path, permission to create)
VIEW_THEN_CREATE = [
    ("/users", "view-users", "/users", "create-users"),
    ("/groups", "view-groups", "/groups", "create-groups"),
    ("/environment_variables", "view-environment_variables", "/environment_variables", "create-environment_variables"),
    ("/process_categories", "view-process-categories", "/process_categories", "create-process-categories"),
    ("/screen_categories", "view-screen-categories", "/screen_categories", "create-screen-categories"),
    ("/script_categories", "view-script-categories", "/script_categories", "create-script-categories"),
    ("/settings", "view-settings", "/settings", "update-settings"),
    ("/processes", "view-processes", "/processes", "create-processes"),
    ("/screens", None, "/screens", "create-screens"),
    ("/scripts", "view-scripts", "/scripts", "create-scripts"),
]


@pytest.mark.parametrize(("listed", "view", "created", "create"), VIEW_THEN_CREATE)
def test_viewing_does_not_allow_creating(clean_sandbox: SandboxProcess, listed: str, view: str | None, created: str,
                                         create: str) -> None:
    user, token = user_with_token(clean_sandbox, "viewer", *([view] if view else []))
    assert clean_sandbox.api("GET", listed, token=token).status_code == 200
    response = clean_sandbox.api("POST", created, token=token, json={})
    assert (response.status_code, response.json()) == (403, UNAUTHORIZED)
    grant(clean_sandbox, user["id"], *([view] if view else []), create)
    response = clean_sandbox.api("POST", created, token=token, json={})
    assert response.status_code not in (401, 403), response.text  # past the permission check (validation next)


def test_script_executors_need_an_administrator(clean_sandbox: SandboxProcess) -> None:
    every = [name for names in clean_sandbox.api("GET", "/permissions").json().values() for name in
             (item["name"] for item in names)]
    user, token = user_with_token(clean_sandbox, "almighty", *every)
    assert clean_sandbox.api("GET", "/script-executors", token=token).status_code == 403
    clean_sandbox.api("PUT", "/permissions", json={"user_id": user["id"], "is_administrator": True,
                                                   "permission_names": []})
    assert clean_sandbox.api("GET", "/script-executors", token=token).status_code == 200
