"""/groups, /groups/{group}/users, /groups/{group}/groups."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    GROUP_CLASS,
    NOT_FOUND,
    add_member,
    create_group,
    create_user,
    user_with_token,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
GROUP_KEYS = ["id", "uuid", "name", "description", "status", "manager_id", "enabled_2fa", "created_at", "updated_at"]


def test_create_show_update_delete(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/groups", json={"name": "Sales Team", "description": "Sells"})
    assert response.status_code == 201
    group = response.json()
    assert list(group) == GROUP_KEYS
    assert (group["name"], group["description"], group["status"], group["manager_id"], group["enabled_2fa"]) == (
        "Sales Team", "Sells", "ACTIVE", None, False)
    assert ISO.match(group["created_at"])
    assert clean_sandbox.api("GET", f"/groups/{group['id']}").json() == group

    response = clean_sandbox.api("PUT", f"/groups/{group['id']}", json={"name": "Sales", "status": "INACTIVE"})
    assert (response.status_code, response.content) == (204, b"")
    after = clean_sandbox.api("GET", f"/groups/{group['id']}").json()
    assert (after["name"], after["status"], after["description"]) == ("Sales", "INACTIVE", "Sells")

    response = clean_sandbox.api("DELETE", f"/groups/{group['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", f"/groups/{group['id']}").json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["The Name field is required."]}),
        ({"name": "x" * 256}, {"name": ["The Name field must not be greater than 255 characters."]}),
        ({"name": "Bad/Name"}, {"name": ["The Name may only contain alphanumeric characters."]}),
        ({"name": 12}, {"name": ["The Name field must be a string."]}),
        ({"name": "Ok", "status": "ARCHIVED"}, {"status": ["The selected Status is invalid."]}),
    ],
)
def test_create_validation(clean_sandbox: SandboxProcess, body: dict, errors: dict) -> None:
    response = clean_sandbox.api("POST", "/groups", json=body)
    first = next(iter(errors.values()))[0]
    assert (response.status_code, response.json()) == (422, {"message": first, "errors": errors})


def test_names_are_unique_but_a_group_keeps_its_own(clean_sandbox: SandboxProcess) -> None:
    create_group(clean_sandbox, "Ops")
    other = create_group(clean_sandbox, "Dev's team")
    response = clean_sandbox.api("POST", "/groups", json={"name": "ops"})
    assert response.json() == {"message": "The Name has already been taken.",
                               "errors": {"name": ["The Name has already been taken."]}}
    assert clean_sandbox.api("PUT", f"/groups/{other['id']}", json={"name": "Ops"}).status_code == 422
    assert clean_sandbox.api("PUT", f"/groups/{other['id']}", json={"name": "Dev's team"}).status_code == 204
    response = clean_sandbox.api("PUT", f"/groups/{other['id']}", json={"description": "no name"})
    assert response.json()["errors"] == {"name": ["The Name field is required."]}


def test_html_is_stripped_from_names(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "<b>Bold</b> Team")
    assert group["name"] == "Bold Team"


def test_two_factor_setting_forces_enabled_2fa(clean_sandbox: SandboxProcess) -> None:
    settings = clean_sandbox.api("GET", "/settings?filter=2fa_enabled").json()["data"]
    assert [s["key"] for s in settings] == ["password-policies.2fa_enabled"]
    group = create_group(clean_sandbox, "Before")
    clean_sandbox.api("PUT", f"/settings/{settings[0]['id']}", json={"key": settings[0]["key"], "config": True})
    assert create_group(clean_sandbox, "After")["enabled_2fa"] is True
    assert clean_sandbox.api("GET", f"/groups/{group['id']}").json()["enabled_2fa"] is True


def test_list_with_members_count_and_status(clean_sandbox: SandboxProcess) -> None:
    busy = create_group(clean_sandbox, "Busy")
    create_group(clean_sandbox, "Idle", status="INACTIVE")
    for name in ("u1", "u2"):
        add_member(clean_sandbox, busy["id"], create_user(clean_sandbox, name)["id"])
    body = clean_sandbox.api("GET", "/groups?include=membersCount").json()
    assert [(g["name"], g["group_members_count"]) for g in body["data"]] == [("Busy", 2), ("Idle", 0)]
    assert "group_members_count" not in clean_sandbox.api("GET", "/groups").json()["data"][0]
    assert [g["name"] for g in clean_sandbox.api("GET", "/groups?status=INACTIVE").json()["data"]] == ["Idle"]


def test_viewing_groups_is_allowed_by_process_permissions_too(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Visible")
    _, token = user_with_token(clean_sandbox, "designer", "create-processes")
    assert clean_sandbox.api("GET", "/groups", token=token).json()["meta"]["total"] == 1
    assert clean_sandbox.api("GET", f"/groups/{group['id']}", token=token).json()["name"] == "Visible"


def test_users_and_groups_of_a_group(clean_sandbox: SandboxProcess) -> None:
    parent = create_group(clean_sandbox, "Parent")
    child = create_group(clean_sandbox, "Child")
    create_group(clean_sandbox, "Unrelated")
    add_member(clean_sandbox, parent["id"], child["id"], GROUP_CLASS)
    for name in ("zoe", "adam"):
        add_member(clean_sandbox, parent["id"], create_user(clean_sandbox, name, firstname=name.title())["id"])
    create_user(clean_sandbox, "outsider")
    users = clean_sandbox.api("GET", f"/groups/{parent['id']}/users").json()
    assert [u["username"] for u in users["data"]] == ["adam", "zoe"]
    assert users["meta"]["total"] == 2
    filtered = clean_sandbox.api("GET", f"/groups/{parent['id']}/users?filter=Zoe%20User").json()
    assert [u["username"] for u in filtered["data"]] == ["zoe"]
    groups = clean_sandbox.api("GET", f"/groups/{parent['id']}/groups").json()
    assert [g["name"] for g in groups["data"]] == ["Child"]
    assert clean_sandbox.api("GET", f"/groups/{child['id']}/groups").json()["data"] == []


def test_deleting_a_group_removes_its_memberships(clean_sandbox: SandboxProcess) -> None:
    parent = create_group(clean_sandbox, "Outer")
    child = create_group(clean_sandbox, "Inner")
    user = create_user(clean_sandbox, "inside")
    add_member(clean_sandbox, parent["id"], child["id"], GROUP_CLASS)
    add_member(clean_sandbox, child["id"], user["id"])
    assert clean_sandbox.api("DELETE", f"/groups/{child['id']}").status_code == 204
    assert clean_sandbox.api("GET", f"/groups/{parent['id']}/groups").json()["data"] == []
    assert clean_sandbox.api("GET", "/group_members").json()["meta"]["total"] == 0
