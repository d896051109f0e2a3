"""/environment_variables: CRUD, validation, and a value that is written but never read back."""

from __future__ import annotations

import re
import sys
from contextlib import closing
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import NOT_FOUND, db

SECRET = "s3cr3t-value-never-shown"
NAME_FORMAT = "Name has to start with a letter and can contain only letters, numbers, and underscores (_)."


def stored_value(sandbox: SandboxProcess, variable_id: int) -> str | None:
    with closing(db(sandbox)) as connection:
        row = connection.execute("SELECT value FROM environment_variables WHERE id = ?", (variable_id,)).fetchone()
    return None if row is None else row[0]


def test_lifecycle_never_returns_the_value(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/environment_variables",
                                 json={"name": "API_KEY", "description": "key", "value": SECRET})
    assert response.status_code == 201
    variable = response.json()
    assert list(variable) == ["id", "uuid", "name", "description", "created_at", "updated_at"]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", variable["created_at"])
    assert stored_value(clean_sandbox, variable["id"]) == SECRET

    shown = clean_sandbox.api("GET", f"/environment_variables/{variable['id']}")
    assert shown.json() == variable
    listed = clean_sandbox.api("GET", "/environment_variables")
    assert listed.json()["data"] == [variable]

    # An empty value keeps the stored one; a new one replaces it. Update answers 200 with the object.
    response = clean_sandbox.api("PUT", f"/environment_variables/{variable['id']}",
                                 json={"name": "API_KEY", "description": "renamed", "value": ""})
    assert response.status_code == 200
    assert response.json()["description"] == "renamed"
    assert stored_value(clean_sandbox, variable["id"]) == SECRET
    clean_sandbox.api("PUT", f"/environment_variables/{variable['id']}",
                      json={"name": "API_KEY", "description": "renamed", "value": "rotated"})
    assert stored_value(clean_sandbox, variable["id"]) == "rotated"

    for text in (shown.text, listed.text, response.text):
        assert SECRET not in text and '"value"' not in text

    response = clean_sandbox.api("DELETE", f"/environment_variables/{variable['id']}")
    assert (response.status_code, response.content) == (200, b"")
    assert clean_sandbox.api("GET", f"/environment_variables/{variable['id']}").json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["The Name field is required."], "description": ["The Description field is required."]}),
        ({"name": "1ABC", "description": "d"}, {"name": [NAME_FORMAT]}),
        ({"name": "has space", "description": "d"}, {"name": [NAME_FORMAT]}),
        ({"name": "OK_NAME", "description": ""}, {"description": ["The Description field is required."]}),
    ],
)
def test_validation(clean_sandbox: SandboxProcess, body: dict, errors: dict) -> None:
    response = clean_sandbox.api("POST", "/environment_variables", json=body)
    messages = [m for texts in errors.values() for m in texts]
    message = messages[0] + (" (and 1 more error)" if len(messages) == 2 else "")
    assert (response.status_code, response.json()) == (422, {"message": message, "errors": errors})


def test_names_are_unique(clean_sandbox: SandboxProcess) -> None:
    first = clean_sandbox.api("POST", "/environment_variables", json={"name": "HOST", "description": "a"}).json()
    second = clean_sandbox.api("POST", "/environment_variables", json={"name": "PORT", "description": "b"}).json()
    response = clean_sandbox.api("POST", "/environment_variables", json={"name": "HOST", "description": "c"})
    assert response.json()["errors"] == {"name": ["The Name has already been taken."]}
    response = clean_sandbox.api("PUT", f"/environment_variables/{second['id']}", json={"name": "HOST", "description": "b"})
    assert response.status_code == 422
    assert clean_sandbox.api("PUT", f"/environment_variables/{first['id']}",
                             json={"name": "HOST", "description": "same"}).status_code == 200


def test_list_filter_and_order(clean_sandbox: SandboxProcess) -> None:
    for name, description in (("B_VAR", "database"), ("A_VAR", "cache"), ("C_VAR", "queue")):
        clean_sandbox.api("POST", "/environment_variables", json={"name": name, "description": description})
    names = [v["name"] for v in clean_sandbox.api("GET", "/environment_variables").json()["data"]]
    assert names == ["A_VAR", "B_VAR", "C_VAR"]
    desc = clean_sandbox.api("GET", "/environment_variables?order_direction=desc").json()["data"]
    assert [v["name"] for v in desc] == ["C_VAR", "B_VAR", "A_VAR"]
    assert [v["name"] for v in clean_sandbox.api("GET", "/environment_variables?filter=queu").json()["data"]] == [
        "C_VAR"]


def test_value_escapes_sanitizing_but_not_trimming(clean_sandbox: SandboxProcess) -> None:
    # SanitizeInput skips "value" ($doNotSanitize); Laravel's TrimStrings still trims it.
    variable = clean_sandbox.api("POST", "/environment_variables",
                                 json={"name": "RAW", "description": "<i>x</i>", "value": "  <tag>&'\"  "}).json()
    assert variable["description"] == "x"
    assert stored_value(clean_sandbox, variable["id"]) == "<tag>&'\""

