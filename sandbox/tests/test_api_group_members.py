"""/group_members, /group_members_available, /user_members_available."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    GROUP_CLASS,
    NOT_FOUND,
    USER_CLASS,
    add_member,
    create_group,
    create_user,
    user_with_token,
)

PLAIN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def test_create_returns_the_membership_with_group_and_member(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Crew")
    user = create_user(clean_sandbox, "sailor")
    response = add_member(clean_sandbox, group["id"], user["id"])
    assert response.status_code == 201
    member = response.json()
    assert list(member) == ["id", "group_id", "member_id", "member_type", "created_at", "updated_at", "group", "member"]
    assert (member["group_id"], member["member_id"], member["member_type"]) == (group["id"], user["id"], USER_CLASS)
    assert PLAIN.match(member["created_at"]) and PLAIN.match(member["updated_at"])
    assert member["group"] == clean_sandbox.api("GET", f"/groups/{group['id']}").json()
    assert member["member"] == clean_sandbox.api("GET", f"/users/{user['id']}").json()
    shown = clean_sandbox.api("GET", f"/group_members/{member['id']}").json()
    assert shown == {k: member[k] for k in ("id", "group_id", "member_id", "member_type", "created_at", "updated_at")}


def test_an_existing_membership_is_201_empty_list_before_validation(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Again")
    user = create_user(clean_sandbox, "twice")
    assert add_member(clean_sandbox, group["id"], user["id"]).status_code == 201
    response = add_member(clean_sandbox, group["id"], user["id"])
    assert (response.status_code, response.json()) == (201, [])
    assert clean_sandbox.api("GET", "/group_members").json()["meta"]["total"] == 1


def test_validation_and_missing_models(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Target")
    response = clean_sandbox.api("POST", "/group_members", json={})
    assert (response.status_code, response.json()) == (422, {
        "message": "The Group id field is required. (and 2 more errors)",
        "errors": {
            "group_id": ["The Group id field is required."],
            "member_id": ["The Member id field is required."],
            "member_type": ["The Member type field is required."],
        },
    })
    response = clean_sandbox.api("POST", "/group_members",
                                 json={"group_id": group["id"], "member_id": 1, "member_type": "Robot"})
    assert response.json()["errors"] == {"member_type": ["The selected Member type is invalid."]}
    assert add_member(clean_sandbox, 999999, 1).json() == NOT_FOUND
    assert add_member(clean_sandbox, group["id"], 999999).json() == NOT_FOUND
    assert add_member(clean_sandbox, group["id"], 999999, GROUP_CLASS).status_code == 404


def test_a_group_can_be_a_member(clean_sandbox: SandboxProcess) -> None:
    outer = create_group(clean_sandbox, "Outer")
    inner = create_group(clean_sandbox, "Inner")
    member = add_member(clean_sandbox, outer["id"], inner["id"], GROUP_CLASS).json()
    assert member["member"] == clean_sandbox.api("GET", f"/groups/{inner['id']}").json()


def test_delete(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Short")
    member = add_member(clean_sandbox, group["id"], create_user(clean_sandbox, "brief")["id"]).json()
    response = clean_sandbox.api("DELETE", f"/group_members/{member['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", f"/group_members/{member['id']}").json() == NOT_FOUND


def test_list_joins_the_group_and_limits_non_administrators(clean_sandbox: SandboxProcess) -> None:
    first = create_group(clean_sandbox, "First", description="one")
    second = create_group(clean_sandbox, "Second")
    me, token = user_with_token(clean_sandbox, "viewer", "view-groups")
    other = create_user(clean_sandbox, "other")
    add_member(clean_sandbox, first["id"], me["id"])
    add_member(clean_sandbox, second["id"], other["id"])
    everything = clean_sandbox.api("GET", "/group_members").json()
    assert [(m["name"], m["description"], m["member_id"]) for m in everything["data"]] == [
        ("First", "one", me["id"]), ("Second", None, other["id"])]
    assert list(everything["data"][0]) == [
        "id", "group_id", "member_id", "member_type", "created_at", "updated_at", "name", "description"]
    only_other = clean_sandbox.api("GET", f"/group_members?member_id={other['id']}").json()
    assert [m["name"] for m in only_other["data"]] == ["Second"]
    # A non-administrator sees its own rows, whatever member_id it asks for.
    mine = clean_sandbox.api("GET", f"/group_members?member_id={other['id']}", token=token).json()
    assert [m["name"] for m in mine["data"]] == ["First"]
    _, users_token = user_with_token(clean_sandbox, "userviewer", "view-users")
    assert clean_sandbox.api("GET", "/group_members", token=users_token).status_code == 200


def test_groups_available(clean_sandbox: SandboxProcess) -> None:
    alpha = create_group(clean_sandbox, "Alpha")
    beta = create_group(clean_sandbox, "Beta")
    create_group(clean_sandbox, "Gamma")
    create_group(clean_sandbox, "Dormant", status="INACTIVE")
    user = create_user(clean_sandbox, "joiner")
    add_member(clean_sandbox, beta["id"], user["id"])
    add_member(clean_sandbox, alpha["id"], beta["id"], GROUP_CLASS)

    def names(query: str) -> list[str]:
        return [g["name"] for g in clean_sandbox.api("GET", "/group_members_available?" + query).json()["data"]]

    assert names("") == ["Alpha", "Beta", "Gamma"]
    assert names(f"member_id={user['id']}&member_type={USER_CLASS}") == ["Alpha", "Gamma"]
    assert names(f"group_id={alpha['id']}") == ["Gamma"]
    assert names("filter=amm") == ["Gamma"]
    assigned = clean_sandbox.api(
        "GET", f"/group_members_available?member_id={user['id']}&member_type={USER_CLASS}&order_by=assigned"
    ).json()
    assert [(g["name"], g["assigned"]) for g in assigned["data"]] == [
        ("Beta", True), ("Alpha", False), ("Gamma", False)]
    _, token = user_with_token(clean_sandbox, "anyone")
    assert clean_sandbox.api("GET", "/group_members_available", token=token).status_code == 200


def test_users_available(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Pool")
    inside = create_user(clean_sandbox, "inside", firstname="Ina")
    create_user(clean_sandbox, "outside", firstname="Otto")
    create_user(clean_sandbox, "asleep", firstname="Abe", status="INACTIVE")
    add_member(clean_sandbox, group["id"], inside["id"])
    body = clean_sandbox.api("GET", f"/user_members_available?group_id={group['id']}").json()
    assert [u["username"] for u in body["data"]] == ["admin", "outside"]  # by firstname: Admin, Otto
    body = clean_sandbox.api("GET", "/user_members_available?filter=ott").json()
    assert [u["username"] for u in body["data"]] == ["outside"]
