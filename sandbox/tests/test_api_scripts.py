"""/scripts: list, show, create 201, update 204, delete 204; languages, executors and the timeout range."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    META_KEYS,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAUTHORIZED,
    no_token,
    user_with_token,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
SCRIPT_KEYS = [
    "id", "uuid", "key", "title", "description", "language", "code", "timeout", "run_as_user_id", "status",
    "script_category_id", "script_executor_id", "retry_attempts", "retry_wait_time", "asset_type", "is_template",
    "created_at", "updated_at", "projects",
]
CODE = "<?php\nreturn ['total' => $data['a'] + 1];"


def category(sandbox: SandboxProcess, name: str) -> int:
    response = sandbox.api("POST", "/script_categories", json={"name": name, "status": "ACTIVE"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def body_for(title: str, category_id: int, **fields: Any) -> dict[str, Any]:
    return {"title": title, "description": f"{title} script", "language": "php", "code": CODE, "run_as_user_id": 1,
            "script_category_id": category_id, **fields}


def create_script(sandbox: SandboxProcess, title: str, category_id: int, **fields: Any) -> dict[str, Any]:
    response = sandbox.api("POST", "/scripts", json=body_for(title, category_id, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def test_create_show_update_delete(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    script = create_script(clean_sandbox, "Add One", tools)
    assert list(script) == SCRIPT_KEYS
    assert (script["language"], script["code"], script["timeout"], script["script_executor_id"],
            script["script_category_id"], script["retry_attempts"], script["retry_wait_time"]) == (
        "php", CODE, 60, 1, str(tools), 0, 5)
    assert ISO.match(script["created_at"])
    assert clean_sandbox.api("GET", f"/scripts/{script['id']}").json() == script

    response = clean_sandbox.api("PUT", f"/scripts/{script['id']}", json={
        "title": "Add One", "description": "py now", "language": "python", "code": "return {}", "run_as_user_id": 1,
        "timeout": 120})
    assert (response.status_code, response.content) == (204, b"")
    after = clean_sandbox.api("GET", f"/scripts/{script['id']}").json()
    assert (after["language"], after["script_executor_id"], after["timeout"], after["script_category_id"]) == (
        "python", 3, 120, str(tools))

    assert clean_sandbox.api("DELETE", f"/scripts/{script['id']}").status_code == 204
    assert clean_sandbox.api("GET", f"/scripts/{script['id']}").json() == NOT_FOUND


def test_the_executor_gives_the_language(clean_sandbox: SandboxProcess) -> None:
    body = body_for("Js", category(clean_sandbox, "Tools"), script_executor_id=2)
    del body["language"]
    script = clean_sandbox.api("POST", "/scripts", json=body).json()
    assert (script["language"], script["script_executor_id"]) == ("javascript", 2)


def test_a_missing_category_hides_every_other_error(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/scripts", json={})
    assert (response.status_code, response.json()) == (422, {
        "message": "The Script category id field is required.",
        "errors": {"script_category_id": ["The Script category id field is required."]}})


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"title": None, "language": None, "description": None, "run_as_user_id": None}, {
            "title": ["The Name field is required."],
            "language": ["The Language field is required when script executor id is not present."],
            "script_executor_id": ["The Script executor id field is required when language is not present."],
            "description": ["The Description field is required."],
            "run_as_user_id": ["The Run as user id field is required."]}),
        ({"language": "cobol"}, {"language": ["The selected Language is invalid."]}),
        ({"language": "lua"}, {"language": ["The selected Language is invalid."]}),
        ({"script_executor_id": 99}, {"script_executor_id": ["The selected Script executor id is invalid."]}),
        ({"timeout": -1}, {"timeout": ["The Timeout field must be at least 0."]}),
        ({"timeout": 65536}, {"timeout": ["The Timeout field must not be greater than 65535."]}),
        ({"timeout": "soon"}, {"timeout": ["The Timeout field must be an integer."]}),
        ({"script_category_id": 999}, {"script_category_id": ["Invalid category"]}),
    ],
)
def test_create_validation(clean_sandbox: SandboxProcess, fields: dict, errors: dict) -> None:
    body = {**body_for("Checked", category(clean_sandbox, "Tools")), **fields}
    response = clean_sandbox.api("POST", "/scripts", json=body)
    assert (response.status_code, response.json()["errors"]) == (422, errors)


def test_timeout_bounds_are_accepted(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    assert create_script(clean_sandbox, "Zero", tools, timeout=0)["timeout"] == 0
    assert create_script(clean_sandbox, "Max", tools, timeout="65535")["timeout"] == 65535


def test_deprecated_languages_stay_valid_on_update(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    script = create_script(clean_sandbox, "Legacy", tools)
    response = clean_sandbox.api("PUT", f"/scripts/{script['id']}", json=body_for("Legacy", tools, language="lua"))
    assert response.status_code == 204
    assert clean_sandbox.api("GET", f"/scripts/{script['id']}").json()["language"] == "lua"


def test_titles_and_keys_are_unique_and_keyed_scripts_are_not_listed(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    create_script(clean_sandbox, "Shared", tools)
    response = clean_sandbox.api("POST", "/scripts", json=body_for("shared", tools))
    assert response.json()["errors"] == {"title": ["The Name has already been taken."]}
    system = create_script(clean_sandbox, "System Helper", tools, key="system-helper")
    response = clean_sandbox.api("POST", "/scripts", json=body_for("Other", tools, key="system-helper"))
    assert response.json()["errors"] == {"key": ["The Key has already been taken."]}
    assert [s["title"] for s in clean_sandbox.api("GET", "/scripts").json()["data"]] == ["Shared"]
    assert clean_sandbox.api("GET", f"/scripts/{system['id']}").json()["key"] == "system-helper"
    response = clean_sandbox.api("DELETE", f"/script_categories/{tools}")
    assert (response.status_code, response.json()) == (422, {
        "message": "The item should not have associated scripts", "errors": {"scripts": 2}})


def test_list_filters_orders_and_paginates(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    for title, language in (("Delta", "php"), ("alpha", "python"), ("Charlie", "javascript"), ("Bravo", "python")):
        create_script(clean_sandbox, title, tools, language=language)
    body = clean_sandbox.api("GET", "/scripts?per_page=2&page=2").json()
    assert list(body["meta"]) == META_KEYS
    assert [s["title"] for s in body["data"]] == ["Charlie", "Delta"]
    assert (body["meta"]["total"], body["meta"]["from"], body["meta"]["to"]) == (4, 3, 4)
    assert [s["title"] for s in clean_sandbox.api("GET", "/scripts?filter=python").json()["data"]] == [
        "alpha", "Bravo"]
    titles = [s["title"] for s in clean_sandbox.api("GET", "/scripts?order_by=language&order_direction=DESC").json()["data"]]
    assert titles[0] in ("alpha", "Bravo") and titles[-1] == "Charlie"


def test_tokens_and_permissions(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    script = create_script(clean_sandbox, "Guarded", tools)
    routes = [("GET", "/scripts"), ("GET", f"/scripts/{script['id']}"), ("POST", "/scripts"),
              ("PUT", f"/scripts/{script['id']}"), ("DELETE", f"/scripts/{script['id']}")]
    _, nobody = user_with_token(clean_sandbox, "nobody")
    for method, path in routes:
        response = no_token(clean_sandbox, method, path, json={})
        assert (path, response.status_code, response.json()) == (path, 401, UNAUTHENTICATED)
        response = clean_sandbox.api(method, path, token=nobody, json={})
        assert (method, path, response.status_code, response.json()) == (method, path, 403, UNAUTHORIZED)
    _, viewer = user_with_token(clean_sandbox, "viewer", "view-scripts")
    assert clean_sandbox.api("GET", "/scripts", token=viewer).json()["meta"]["total"] == 1
    assert clean_sandbox.api("GET", f"/scripts/{script['id']}", token=viewer).status_code == 200
    assert clean_sandbox.api("PUT", f"/scripts/{script['id']}", token=viewer, json={}).status_code == 403
    _, author = user_with_token(clean_sandbox, "author", "create-scripts", "edit-scripts", "delete-scripts")
    created = clean_sandbox.api("POST", "/scripts", token=author, json=body_for("Mine", tools))
    assert created.status_code == 201
    assert clean_sandbox.api("PUT", f"/scripts/{created.json()['id']}", token=author,
                             json=body_for("Mine", tools, timeout=5)).status_code == 204
    assert clean_sandbox.api("DELETE", f"/scripts/{created.json()['id']}", token=author).status_code == 204


def test_unknown_ids_are_404(clean_sandbox: SandboxProcess) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = clean_sandbox.api(method, "/scripts/999999", json={})
        assert (method, response.status_code, response.json()) == (method, 404, NOT_FOUND)


def test_an_update_without_changes_keeps_updated_at(clean_sandbox: SandboxProcess) -> None:
    tools = category(clean_sandbox, "Tools")
    script = create_script(clean_sandbox, "Stable", tools)
    time.sleep(1.1)
    assert clean_sandbox.api("PUT", f"/scripts/{script['id']}", json=body_for("Stable", tools)).status_code == 204
    assert clean_sandbox.api("GET", f"/scripts/{script['id']}").json() == script
    assert clean_sandbox.api("PUT", f"/scripts/{script['id']}",
                             json=body_for("Stable", tools, timeout=61)).status_code == 204
    assert clean_sandbox.api("GET", f"/scripts/{script['id']}").json()["updated_at"] > script["updated_at"]
