"""Port of ProcessMaker's ``tests/Feature/Api/GroupMembersTest.php``.

``GroupMember::factory()->create()`` makes a new group and a new user for the membership. The
``member_id``/``member_type`` parameters of ``/group_members_available`` travel, as in the PHP test, in
the JSON body of a GET (Laravel's ``$request->input()`` merges the JSON body with the query).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import GROUP_CLASS, USER_CLASS, assert_json_structure, ok

URL = "/group_members"
STRUCTURE = ["id", "group_id", "member_id", "member_type", "updated_at", "created_at"]


def factory_member(pm) -> dict:
    """``GroupMember::factory()->create()``."""
    return pm.factory.member(pm.factory.group(), pm.factory.user())


def test_testGetGroupMemberList(pm) -> None:
    """GroupMembersTest::testGetGroupMemberList

    Under ProcessMaker 4.15 ``GroupMemberController::index`` answers 403 to a user holding neither
    ``view-groups`` nor ``view-users`` (the stored PHP file predates that check), so the regular user
    holds ``view-groups``; what is tested, that such a user only sees its own memberships, is unchanged.
    """
    assert pm.api.call("GET", URL).status_code == 200
    group1 = pm.factory.group(name="Group that admin belongs to")
    group2 = pm.factory.group(name="Group that other user belongs to")
    other_user = pm.factory.user(status="ACTIVE")
    pm.factory.member(group1, {"id": pm.admin_id})
    pm.factory.member(group2, other_user)

    data = pm.api.call("GET", URL).json()["data"]
    assert len(data) == 2
    assert data[0]["name"] == "Group that admin belongs to"
    assert data[1]["name"] == "Group that other user belongs to"

    pm.factory.give_permissions(other_user, "view-groups")
    data = pm.factory.acting_as(other_user).call("GET", URL).json()["data"]
    assert len(data) == 1
    assert data[0]["name"] == "Group that other user belongs to"


def test_testNotCreatedForParameterRequired(pm) -> None:
    """GroupMembersTest::testNotCreatedForParameterRequired"""
    response = pm.api.call("POST", URL, {})
    assert response.status_code == 422
    assert "message" in response.json()


def test_testCreateGroupMembershipForUser(pm) -> None:
    """GroupMembersTest::testCreateGroupMembershipForUser (the relations read back through the API)"""
    user = pm.factory.user()
    group = pm.factory.group()
    response = pm.api.call("POST", URL, {"group_id": group["id"], "member_id": user["id"], "member_type": USER_CLASS})
    assert response.status_code == 201
    # $user->groupMembersFromMemberable()->first()->group is $group
    memberships = pm.api.call("GET", URL, {"member_id": user["id"]}).json()["data"]
    assert [row["group_id"] for row in memberships] == [group["id"]]
    # $group->groupMembers()->first()->member is $user
    members = pm.api.call("GET", f"/groups/{group['id']}/users").json()["data"]
    assert [row["id"] for row in members] == [user["id"]]


def test_testCreateGroupMembershipForGroup(pm) -> None:
    """GroupMembersTest::testCreateGroupMembershipForGroup"""
    group1 = pm.factory.group()
    group2 = pm.factory.group()
    response = pm.api.call("POST", URL, {"group_id": group1["id"], "member_id": group2["id"], "member_type": GROUP_CLASS})
    assert response.status_code == 201
    # $group1->groupMembers()->first()->member is $group2
    nested = pm.api.call("GET", f"/groups/{group1['id']}/groups").json()["data"]
    assert [row["id"] for row in nested] == [group2["id"]]
    # $group2->groupMembersFromMemberable()->first()->group is $group1
    created = response.json()
    assert created["group"]["id"] == group1["id"] and created["member"]["id"] == group2["id"]


def test_testGetGroupMember(pm) -> None:
    """GroupMembersTest::testGetGroupMember"""
    response = pm.api.call("GET", f"{URL}/{factory_member(pm)['id']}")
    assert response.status_code == 200
    assert_json_structure(STRUCTURE, response.json())


def test_testDeleteGroupMember(pm) -> None:
    """GroupMembersTest::testDeleteGroupMember"""
    assert pm.api.call("DELETE", f"{URL}/{factory_member(pm)['id']}").status_code == 204


def test_testDeleteGroupMemberNotExist(pm) -> None:
    """GroupMembersTest::testDeleteGroupMemberNotExist (``make()->id`` is null: ``DELETE /group_members/``)"""
    assert pm.api.call("DELETE", URL + "/").status_code == 405


def test_testMembersAllGroupAvailable(pm) -> None:
    """GroupMembersTest::testMembersAllGroupAvailable"""
    for _ in range(15):
        pm.factory.group(status="ACTIVE")
    user = pm.factory.user(status="ACTIVE")
    response = pm.api.call("GET", "/group_members_available", {"member_id": user["id"], "member_type": USER_CLASS})
    assert response.json()["meta"]["total"] == 15
    assert response.status_code == 200


def test_testMembersOnlyGroupAvailable(pm) -> None:
    """GroupMembersTest::testMembersOnlyGroupAvailable"""
    user = pm.factory.user(status="ACTIVE")
    for _ in range(10):  # GroupMember::factory(10)->create(['member_id' => $user->id, ...]): ten new groups
        ok(pm.api.call("POST", URL, {"group_id": pm.factory.group()["id"], "member_id": user["id"],
                                     "member_type": USER_CLASS}), 201)
    for _ in range(15):
        pm.factory.group(status="ACTIVE")
    response = pm.api.call("GET", "/group_members_available", {"member_id": user["id"], "member_type": USER_CLASS})
    assert response.json()["meta"]["total"] == 15
    assert response.status_code == 200
