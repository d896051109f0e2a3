"""Port of ProcessMaker's ``tests/Feature/Api/EnvironmentVariablesTest.php``.

The value is write-only (no response carries it): where the PHP test reads ``$variable->value``
through the model, the port reads the stored column. Not ported: ``it_should_store_values_as_encrypted``
(encryption at rest of the database column; see README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import assert_json_structure

URL = "/environment_variables"


def named(pm, name: str) -> list[dict]:
    """The variables called ``name`` (``assertDatabaseHas``/``Missing`` on name and description)."""
    rows = pm.api.call("GET", URL + "?per_page=100").json()["data"]
    return [row for row in rows if row["name"] == name]


def test_it_should_create_an_environment_variable(pm) -> None:
    """EnvironmentVariablesTest::it_should_create_an_environment_variable"""
    data = {"name": "testvariable", "description": "test description", "value": "testsecret"}
    assert pm.api.call("POST", URL, data).status_code == 201
    assert [row["description"] for row in named(pm, "testvariable")] == ["test description"]


def test_it_should_have_validation_errors_on_name_uniqueness_during_create(pm) -> None:
    """EnvironmentVariablesTest::it_should_have_validation_errors_on_name_uniqueness_during_create"""
    pm.factory.environment_variable(name="testname", description="first")
    response = pm.api.call("POST", URL, {"name": "testname", "description": "test", "value": "testvalue"})
    assert response.status_code == 422
    assert [row["description"] for row in named(pm, "testname")] == ["first"]


def test_it_should_not_allow_whitespace_in_variable_name(pm) -> None:
    """EnvironmentVariablesTest::it_should_not_allow_whitespace_in_variable_name"""
    response = pm.api.call("POST", URL, {"name": "test name", "description": "test", "value": "testvalue"})
    assert response.status_code == 422


def test_it_should_successfully_return_an_environment_variable(pm) -> None:
    """EnvironmentVariablesTest::it_should_successfully_return_an_environment_variable"""
    variable = pm.factory.environment_variable(name="testname", value="testvalue")
    response = pm.api.call("GET", f"{URL}/{variable['id']}")
    assert response.status_code == 200
    assert_json_structure(["id", "name", "description"], response.json())


def test_it_should_have_validation_errors_on_name_uniqueness_during_update(pm) -> None:
    """EnvironmentVariablesTest::it_should_have_validation_errors_on_name_uniqueness_during_update"""
    variable = pm.factory.environment_variable(name="testname", value="testvalue")
    pm.factory.environment_variable(name="anothername", value="testvalue")
    data = {"name": "anothername", "description": "testdescription", "value": "differentvalue"}
    assert pm.api.call("PUT", f"{URL}/{variable['id']}", data).status_code == 422


def test_it_should_successfully_update_an_environment_variable(pm) -> None:
    """EnvironmentVariablesTest::it_should_successfully_update_an_environment_variable"""
    variable = pm.factory.environment_variable(name="testname", value="testvalue")
    data = {"name": "newname", "description": "newdescription", "value": "newvalue"}
    assert pm.api.call("PUT", f"{URL}/{variable['id']}", data).status_code == 200
    assert [(row["id"], row["description"]) for row in named(pm, "newname")] == [(variable["id"], "newdescription")]
    assert pm.factory.column("environment_variables", variable["id"], "value") == "newvalue"


def test_it_should_return_paginated_environment_variables_during_index(pm) -> None:
    """EnvironmentVariablesTest::it_should_return_paginated_environment_variables_during_index"""
    for row in pm.api.call("GET", URL + "?per_page=100").json()["data"]:
        pm.api.call("DELETE", f"{URL}/{row['id']}")
    for _ in range(50):
        pm.factory.environment_variable()
    response = pm.api.call("GET", URL)
    assert response.status_code == 200
    data = response.json()
    assert len(data["data"]) == 10
    assert data["meta"]["total"] == 50


def test_it_should_return_filtered_environment_variables(pm) -> None:
    """EnvironmentVariablesTest::it_should_return_filtered_environment_variables"""
    for _ in range(50):
        pm.factory.environment_variable()
    pm.factory.environment_variable(name="matchingfield")
    response = pm.api.call("GET", URL + "?filter=matchingfield")
    assert response.status_code == 200
    data = response.json()
    assert len(data["data"]) == 1
    assert data["meta"]["total"] == 1
    assert data["meta"]["filter"] == "matchingfield"


def test_it_should_successfully_remove_environment_variable(pm) -> None:
    """EnvironmentVariablesTest::it_should_successfully_remove_environment_variable"""
    variable = pm.factory.environment_variable(name="testname", value="testvalue")
    assert pm.api.call("DELETE", f"{URL}/{variable['id']}").status_code == 200
    assert named(pm, "testname") == []
    assert pm.factory.column("environment_variables", variable["id"], "value") is None


def test_it_value_does_not_change_if_value_is_null(pm) -> None:
    """EnvironmentVariablesTest::it_value_does_not_change_if_value_is_null"""
    variable = pm.factory.environment_variable(name="testname", value="testvalue")
    data = {"name": "newname", "description": "newdescription", "value": ""}
    assert pm.api.call("PUT", f"{URL}/{variable['id']}", data).status_code == 200
    assert [(row["id"], row["description"]) for row in named(pm, "newname")] == [(variable["id"], "newdescription")]
    assert pm.factory.column("environment_variables", variable["id"], "value") == "testvalue"
