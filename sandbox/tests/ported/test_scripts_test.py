"""Port of ProcessMaker's ``tests/Feature/Api/ScriptsTest.php``.

Not ported (see README.md): ``testDuplicateScript``, ``testScriptWithoutUser`` (``/scripts/{id}/duplicate``
is not served), ``testPreviewScript``, ``testPreviewScriptFail``, ``testExecutePolicy``,
``testExecuteVersion`` (script execution, broadcast events, policies extended at run time).
``testUpdateScript`` also checks the saved script version, which no served route shows; its HTTP part is
ported.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import assert_json_structure

URL = "/scripts"
STRUCTURE = ["id", "title", "language", "code", "script_category_id", "description"]
PHP_EXECUTOR = 1  # ScriptExecutor::initialExecutor('php')->id on the sandbox


def test_testNotCreatedForParameterRequired(pm) -> None:
    """ScriptsTest::testNotCreatedForParameterRequired"""
    response = pm.api.call("POST", URL)
    assert response.status_code == 422
    assert "message" in response.json()


def test_testCreateScript(pm) -> None:
    """ScriptsTest::testCreateScript"""
    user = pm.factory.user(is_administrator=True)
    category = pm.factory.category("script", status="ACTIVE")
    response = pm.api.call("POST", URL, {
        "title": "Script Title", "script_executor_id": PHP_EXECUTOR, "code": "123", "description": "Description",
        "script_category_id": category["id"], "run_as_user_id": user["id"],
    })
    assert_json_structure(STRUCTURE, response.json())


def test_testCreateCategoryRequired(pm) -> None:
    """ScriptsTest::testCreateCategoryRequired"""
    params = {"title": "Title", "language": "php", "code": "123", "description": "Description",
              "run_as_user_id": pm.admin_id, "script_category_id": ""}
    response = pm.api.call("POST", URL, params)
    assert response.json()["errors"]["script_category_id"][0] == "The Script category id field is required."

    category1 = pm.factory.category("script", status="ACTIVE")
    category2 = pm.factory.category("script", status="ACTIVE")
    params["script_category_id"] = f"{category1['id']},foo"
    response = pm.api.call("POST", URL, params)
    assert response.json()["errors"]["script_category_id"][0] == "Invalid category"

    params["script_category_id"] = f"{category1['id']},{category2['id']}"
    assert pm.api.call("POST", URL, params).status_code == 201

    params["script_category_id"] = category1["id"]
    params["title"] = "other title"
    assert pm.api.call("POST", URL, params).status_code == 201


def test_testNotCreateScriptWithTitleExists(pm) -> None:
    """ScriptsTest::testNotCreateScriptWithTitleExists"""
    script = pm.factory.script(title="Script Title")
    response = pm.api.call("POST", URL, {"title": "Script Title", "language": "php",
                                         "code": "Eum aut voluptatem.", "script_category_id": script["script_category_id"]})
    assert response.status_code == 422
    assert "The Name has already been taken" in response.text


def test_testNotCreateScriptWithKeyExists(pm) -> None:
    """ScriptsTest::testNotCreateScriptWithKeyExists"""
    script = pm.factory.script(key="some-key")
    response = pm.api.call("POST", URL, {"title": "Script Title", "key": "some-key", "code": "123",
                                         "language": "php", "script_category_id": script["script_category_id"]})
    assert response.status_code == 422
    assert "The Key has already been taken" in response.text


def test_testListScripts(pm) -> None:
    """ScriptsTest::testListScripts (faker's randomDigitNotNull scripts: 6)"""
    for script in pm.api.call("GET", URL + "?per_page=100").json()["data"]:
        pm.api.call("DELETE", f"{URL}/{script['id']}")
    total = 6
    for _ in range(total):
        pm.factory.script(code="Eum aut voluptatem necessitatibus.")
    pm.factory.script(key="some-key")  # scripts with a key are never listed
    response = pm.api.call("GET", URL)
    assert response.status_code == 200
    assert_json_structure([{"data": {"*": STRUCTURE}}, "meta"], response.json())
    assert response.json()["meta"]["total"] == total


def test_testScriptListDates(pm) -> None:
    """ScriptsTest::testScriptListDates"""
    new_entity = pm.factory.script(title="tetScriptTimezone")
    row = pm.api.call("GET", URL + "?filter=tetScriptTimezone").json()["data"][0]
    assert row["created_at"] == new_entity["created_at"]
    assert row["updated_at"] == new_entity["updated_at"]


def test_testListScriptsWithQueryParameter(pm) -> None:
    """ScriptsTest::testListScriptsWithQueryParameter"""
    title = "search script title"
    pm.factory.script(title=title)
    per_page = 3
    query = f"?page=1&per_page={per_page}&order_by=description&order_direction=DESC&filter=search+script+title"
    response = pm.api.call("GET", URL + query)
    assert response.status_code == 200
    assert_json_structure([{"data": {"*": STRUCTURE}}, "meta"], response.json())
    meta = response.json()["meta"]
    assert meta["total"] == 1
    assert meta["per_page"] == per_page
    assert meta["current_page"] == 1
    assert meta["last_page"] == 1
    assert meta["filter"] == title
    assert meta["sort_order"] == "DESC"


def test_testGetScript(pm) -> None:
    """ScriptsTest::testGetScript"""
    response = pm.api.call("GET", f"{URL}/{pm.factory.script()['id']}")
    assert response.status_code == 200
    assert_json_structure(STRUCTURE, response.json())


def test_testUpdateScriptParametersRequired(pm) -> None:
    """ScriptsTest::testUpdateScriptParametersRequired"""
    script = pm.factory.script(code="Lorem ipsum " * 50)
    response = pm.api.call("PUT", f"{URL}/{script['id']}", {"title": "", "language": "php", "code": "Dolor sit amet."})
    assert response.status_code == 422


def test_testUpdateScript(pm) -> None:
    """ScriptsTest::testUpdateScript (the HTTP part; the script version it also checks is not served)"""
    user = pm.factory.user(is_administrator=True)
    script = pm.factory.script(description="ufufu")
    response = pm.api.call("PUT", f"{URL}/{script['id']}", {
        "title": script["title"], "language": "lua", "description": "jdbsdfkj", "code": "Dolor sit amet.",
        "run_as_user_id": user["id"], "script_category_id": script["script_category_id"],
    })
    assert response.status_code == 204


def test_testUpdateScriptTitleExists(pm) -> None:
    """ScriptsTest::testUpdateScriptTitleExists"""
    pm.factory.script(title="Some title")
    script2 = pm.factory.script()
    response = pm.api.call("PUT", f"{URL}/{script2['id']}", {"title": "Some title"})
    assert response.status_code == 422
    assert "The Name has already been taken" in response.text


def test_testDeleteScript(pm) -> None:
    """ScriptsTest::testDeleteScript"""
    assert pm.api.call("DELETE", f"{URL}/{pm.factory.script()['id']}").status_code == 204


def test_testDeleteScriptNotExist(pm) -> None:
    """ScriptsTest::testDeleteScriptNotExist (``Script::factory()->make()->id`` is null: ``DELETE /scripts/``)"""
    assert pm.api.call("DELETE", URL + "/").status_code == 405


def test_testFilterByCategory(pm) -> None:
    """ScriptsTest::testFilterByCategory (the factory's lower-case ``active`` statuses written as they are)"""
    name = "Search title Category Screen"
    category = pm.factory.category("script", name=name)
    pm.factory.set_columns("categories", category["id"], status="active")
    script = pm.factory.script(script_category_id=category["id"])
    pm.factory.set_columns("scripts", script["id"], status="active")

    response = pm.api.call("GET", URL + "?filter=Search+title+Category+Screen")
    assert response.status_code == 200
    assert_json_structure(["data", "meta"], response.json())
    json = response.json()
    assert json["meta"]["total"] == 1
    assert json["meta"]["current_page"] == 1
    assert json["meta"]["filter"] == name
    assert_json_structure({"*": STRUCTURE}, json["data"])

    name = "Search category that does not exist"
    response = pm.api.call("GET", URL + "?filter=Search+category+that+does+not+exist")
    assert response.status_code == 200
    json = response.json()
    assert json["meta"]["total"] == 0
    assert json["meta"]["current_page"] == 1
    assert json["meta"]["filter"] == name
    assert_json_structure({"*": STRUCTURE}, json["data"])


def test_testUpdateScriptCategories(pm) -> None:
    """ScriptsTest::testUpdateScriptCategories"""
    script = pm.factory.script()
    runner = pm.factory.user(status="ACTIVE", is_administrator=True)
    categories = f"{pm.factory.category('script')['id']},{pm.factory.category('script')['id']}"
    response = pm.api.call("PUT", f"{URL}/{script['id']}", {
        "title": "Title Script", "language": "php", "description": "Description.", "run_as_user_id": runner["id"],
        "script_category_id": categories,
    })
    assert response.status_code == 204
