"""Port of ProcessMaker's ``tests/Feature/Api/GroupsTest.php``.

The stored version of the PHP file predates ProcessMaker's capitalised validation attributes: it looks
for "The name has already been taken". ProcessMaker 4.15 says "The Name has already been taken" (its
``validation.php`` ``:Attribute``; ScriptsTest asserts that very text for ``title`` shown as Name), so
the port asserts the 4.15 text.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import assert_json_structure

URL = "/groups"
STRUCTURE = ["id", "name", "description", "status", "updated_at", "created_at"]


def test_testNotCreatedForParameterRequired(pm) -> None:
    """GroupsTest::testNotCreatedForParameterRequired"""
    response = pm.api.call("POST", URL, {})
    assert response.status_code == 422
    assert "message" in response.json()


def test_testCreateGroup(pm) -> None:
    """GroupsTest::testCreateGroup"""
    response = pm.api.call("POST", URL, {"name": "newgroup", "status": "ACTIVE"})
    assert response.status_code == 201


def test_testNotCreateGroupWithGroupnameExists(pm) -> None:
    """GroupsTest::testNotCreateGroupWithGroupnameExists"""
    pm.factory.group(name="mytestname")
    response = pm.api.call("POST", URL, {"name": "mytestname"})
    assert response.status_code == 422
    assert "message" in response.json()


def test_testListGroup(pm) -> None:
    """GroupsTest::testListGroup"""
    existing = pm.api.call("GET", URL).json()["meta"]["total"]
    for _ in range(10):
        pm.factory.group()
    response = pm.api.call("GET", URL)
    assert response.status_code == 200
    assert_json_structure([{"data": {"*": STRUCTURE}}, "meta"], response.json())
    assert response.json()["meta"]["total"] == 10 + existing


def test_testGroupListDates(pm) -> None:
    """GroupsTest::testGroupListDates"""
    new_entity = pm.factory.group(name="tetGroupTimezone")
    row = pm.api.call("GET", URL + "?filter=tetGroupTimezone").json()["data"][0]
    assert row["created_at"] == new_entity["created_at"]
    assert row["updated_at"] == new_entity["updated_at"]


def test_testListGroupWithQueryParameter(pm) -> None:
    """GroupsTest::testListGroupWithQueryParameter"""
    pm.factory.group(name="mytestname")
    response = pm.api.call("GET", URL + "?page=1&per_page=4&order_by=name&order_direction=DESC&filter=mytestname")
    assert response.status_code == 200
    assert_json_structure(["data", "meta"], response.json())
    meta = response.json()["meta"]
    assert meta["total"] == 1
    assert meta["sort_by"] == "name"
    assert meta["sort_order"] == "DESC"


def test_testGetGroup(pm) -> None:
    """GroupsTest::testGetGroup"""
    response = pm.api.call("GET", f"{URL}/{pm.factory.group()['id']}")
    assert response.status_code == 200
    assert_json_structure(STRUCTURE, response.json())


def test_testUpdateGroupParametersRequired(pm) -> None:
    """GroupsTest::testUpdateGroupParametersRequired"""
    group = pm.factory.group(name="mytestname")
    response = pm.api.call("PUT", f"{URL}/{group['id']}", {"name": ""})
    assert response.status_code == 422


def test_testUpdateGroup(pm) -> None:
    """GroupsTest::testUpdateGroup"""
    url = f"{URL}/{pm.factory.group()['id']}"
    verify = pm.api.call("GET", url).json()
    assert pm.api.call("PUT", url, {"name": "updatemytestname"}).status_code == 204
    assert pm.api.call("GET", url).json() != verify


def test_testUpdateGroupTitleExists(pm) -> None:
    """GroupsTest::testUpdateGroupTitleExists"""
    pm.factory.group(name="MyGroupName")
    group2 = pm.factory.group()
    response = pm.api.call("PUT", f"{URL}/{group2['id']}", {"name": "MyGroupName"})
    assert response.status_code == 422
    assert "The Name has already been taken" in response.text


def test_testDeleteGroup(pm) -> None:
    """GroupsTest::testDeleteGroup"""
    assert pm.api.call("DELETE", f"{URL}/{pm.factory.group()['id']}").status_code == 204


def test_testDeleteGroupNotExist(pm) -> None:
    """GroupsTest::testDeleteGroupNotExist (``Group::factory()->make()->id`` is null: ``DELETE /groups/``)"""
    assert pm.api.call("DELETE", URL + "/").status_code == 405
