"""``/script-executors`` (ScriptExecutorController) and the emulated image build (a sandbox extension:
``sandbox_build`` on the resource, ``GET /_sandbox/executor-builds``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_api_helpers import (
    META_KEYS,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAUTHORIZED,
    no_token,
    user_with_token,
)

SERVER_ERROR = {"message": "Server Error"}
FIELDS = ["id", "uuid", "title", "description", "language", "config", "is_system", "created_at", "updated_at",
          "sandbox_build"]
BUILD_FIELDS = ["id", "status", "exit_code", "pid_file", "queued_at", "started_at", "finished_at"]
SEEDED = [(1, "php"), (2, "javascript"), (3, "python"), (4, "csharp"), (5, "java"), (6, "lua"), (7, "r"),
          (8, "php-nayra")]


@pytest.fixture(scope="module")
def slow() -> Iterator[SandboxProcess]:
    """A sandbox whose builds take 4 s (queued 2 s, building 2 s), to watch each state."""
    with SandboxProcess(extra_args=["--executor-build-seconds", "4"]) as process:
        yield process


def executors(sb: SandboxProcess, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    response = sb.api("GET", "/script-executors", token=token, params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def executor(sb: SandboxProcess, executor_id: int) -> dict[str, Any]:
    return next(item for item in executors(sb) if item["id"] == executor_id)


def create(sb: SandboxProcess, **body: Any) -> int:
    response = sb.api("POST", "/script-executors", json={"title": "Custom PHP", "language": "php", **body})
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["status", "id"] and response.json()["status"] == "started"
    return response.json()["id"]


def wait_for(sb: SandboxProcess, executor_id: int, *statuses: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        build = executor(sb, executor_id)["sandbox_build"]
        if build["status"] in statuses:
            return build
        assert time.monotonic() < deadline, build
        time.sleep(0.05)


def test_list_shows_the_installed_executors(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("GET", "/script-executors")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data", "meta"] and list(body["meta"]) == META_KEYS
    assert (body["meta"]["total"], body["meta"]["per_page"], body["meta"]["count"]) == (8, 10, 8)
    assert [(item["id"], item["language"]) for item in body["data"]] == SEEDED
    first = body["data"][0]
    assert list(first) == FIELDS
    assert (first["title"], first["description"], first["config"], first["is_system"]) == (
        "PHP Executor", "Default PHP Executor", None, 0)
    assert len(first["created_at"]) == 19 and first["created_at"][10] == " "  # ProcessMakerModel: Y-m-d H:i:s
    # Never built through the API: the packages' images exist.
    assert first["sandbox_build"] == {"id": None, "status": "done", "exit_code": 0, "pid_file": None,
                                      "queued_at": None, "started_at": None, "finished_at": None}
    # order_by is passed to the query builder; filter is not applied.
    titles = [item["title"] for item in executors(clean_sandbox, order_by="title", order_direction="desc")]
    assert titles == sorted(titles, key=str.lower, reverse=True)
    assert len(executors(clean_sandbox, filter="python")) == 8
    bad = clean_sandbox.api("GET", "/script-executors", params={"order_by": "nope"})
    assert (bad.status_code, bad.json()) == (500, SERVER_ERROR)


def test_create_builds_and_update_rebuilds(clean_sandbox: SandboxProcess) -> None:
    new_id = create(clean_sandbox, description="With extras", config="RUN composer require guzzlehttp/guzzle")
    assert new_id == 9
    created = executor(clean_sandbox, new_id)
    assert (created["title"], created["language"], created["config"]) == (
        "Custom PHP", "php", "RUN composer require guzzlehttp/guzzle")
    build = wait_for(clean_sandbox, new_id, "done")
    assert build["exit_code"] == 0 and build["finished_at"] >= build["started_at"] >= build["queued_at"]

    response = clean_sandbox.api("PUT", f"/script-executors/{new_id}", json={
        "title": "Custom PHP 2", "language": "php", "config": "RUN exit 1"})
    assert (response.status_code, response.json()) == (200, {"status": "started"})
    failed = wait_for(clean_sandbox, new_id, "failed")
    assert failed["exit_code"] == 1 and failed["id"] != build["id"]
    # An update that changes nothing still rebuilds.
    same = {"title": "Custom PHP 2", "language": "php", "config": "RUN exit 1"}
    assert clean_sandbox.api("PUT", f"/script-executors/{new_id}", json=same).status_code == 200
    builds = clean_sandbox.operator("GET", "/executor-builds").json()["builds"]
    assert [item["script_executor_id"] for item in builds] == [new_id] * 3
    assert builds[0]["dockerfile"].endswith("\nRUN composer require guzzlehttp/guzzle")
    assert builds[1]["dockerfile"].endswith("\nRUN exit 1")
    assert list(builds[0]) == ["id", "script_executor_id", *BUILD_FIELDS[1:], "dockerfile"]


def test_validation_and_unknown_ids(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/script-executors", json={})
    assert (response.status_code, response.json()) == (422, {
        "message": "The Name field is required. (and 1 more error)",
        "errors": {"title": ["The Name field is required."], "language": ["The Language field is required."]},
    })
    response = clean_sandbox.api("POST", "/script-executors", json={"title": "X", "language": "cobol"})
    assert response.json()["errors"] == {"language": ["The selected Language is invalid."]}
    # Deprecated languages are still accepted for executors.
    assert create(clean_sandbox, language="lua") == 9
    response = clean_sandbox.api("PUT", "/script-executors/1", json={"title": "PHP"})
    assert response.json()["errors"] == {"language": ["The Language field is required."]}
    assert clean_sandbox.api("PUT", "/script-executors/999", json={}).json() == NOT_FOUND
    assert clean_sandbox.api("DELETE", "/script-executors/999").json() == NOT_FOUND
    # There is no route to show one executor: the API fallback answers.
    assert (clean_sandbox.api("GET", "/script-executors/1").status_code,
            clean_sandbox.api("GET", "/script-executors/1").json()) == (404, NOT_FOUND)
    assert no_token(clean_sandbox, "GET", "/script-executors/1").json() == UNAUTHENTICATED
    assert clean_sandbox.counters()["requests"]["GET /api/1.0/{fallbackPlaceholder}"] == 3


def test_only_administrators_list_create_and_update(clean_sandbox: SandboxProcess) -> None:
    _, token = user_with_token(clean_sandbox, "scripter", "view-scripts", "create-scripts", "edit-scripts")
    for method, path, body in (("GET", "/script-executors", None), ("POST", "/script-executors", {}),
                               ("PUT", "/script-executors/1", {})):
        response = clean_sandbox.api(method, path, token=token, json=body)
        assert (response.status_code, response.json()) == (403, UNAUTHORIZED), path
    # Anyone may read the languages...
    languages = clean_sandbox.api("GET", "/script-executors/available-languages", token=token)
    assert languages.status_code == 200
    items = languages.json()["languages"]
    assert [item["value"] for item in items] == [language for _, language in SEEDED]
    assert list(items[0]) == ["value", "text", "initDockerfile"] and items[0]["text"] == "PHP"
    # ...and delete an executor: the controller checks nothing there.
    extra = create(clean_sandbox)
    response = clean_sandbox.api("DELETE", f"/script-executors/{extra}", token=token)
    assert (response.status_code, response.json()) == (200, {"status": "done"})


def test_delete_refuses_an_executor_in_use_or_the_last_of_its_language(clean_sandbox: SandboxProcess) -> None:
    extra = create(clean_sandbox, language="python", title="Python with pandas")
    category = clean_sandbox.api("POST", "/script_categories", json={"name": "Tools", "status": "ACTIVE"}).json()
    script = clean_sandbox.api("POST", "/scripts", json={
        "title": "Uses pandas", "description": "d", "script_executor_id": extra, "run_as_user_id": 1,
        "script_category_id": category["id"], "code": "return {}"})
    assert script.status_code == 201, script.text
    assert (script.json()["language"], script.json()["script_executor_id"]) == ("python", extra)
    in_use = "Can not delete executor when it is assigned to scripts."
    response = clean_sandbox.api("DELETE", f"/script-executors/{extra}")
    assert (response.status_code, response.json()) == (422, {"message": in_use, "errors": {"delete": [in_use]}})
    only = "Can not delete the only executor for this language."
    response = clean_sandbox.api("DELETE", "/script-executors/5")  # java
    assert (response.status_code, response.json()) == (422, {"message": only, "errors": {"delete": [only]}})
    assert clean_sandbox.api("DELETE", f"/scripts/{script.json()['id']}").status_code == 204
    assert clean_sandbox.api("DELETE", f"/script-executors/{extra}").json() == {"status": "done"}
    # The seeded python executor is again the only one.
    assert clean_sandbox.api("DELETE", "/script-executors/3").status_code == 422
    # A script may not name an executor that does not exist.
    response = clean_sandbox.api("POST", "/scripts", json={
        "title": "Orphan", "description": "d", "script_executor_id": extra, "run_as_user_id": 1,
        "script_category_id": category["id"]})
    assert response.json()["errors"] == {"script_executor_id": ["The selected Script executor id is invalid."]}


def test_system_executors_are_not_listed(clean_sandbox: SandboxProcess) -> None:
    hidden = create(clean_sandbox, title="Internal", is_system=True)
    assert hidden not in [item["id"] for item in executors(clean_sandbox)]
    # ...but the API still binds them by id.
    response = clean_sandbox.api("PUT", f"/script-executors/{hidden}", json={"title": "Internal", "language": "php"})
    assert response.status_code == 200


def test_build_states_and_cancel(slow: SandboxProcess) -> None:
    slow.reset()
    first = create(slow, title="First")
    second = create(slow, title="Second")
    build = executor(slow, first)["sandbox_build"]
    assert (build["status"], build["pid_file"], build["started_at"]) == ("queued", None, None)
    # The pid file exists only while the build runs.
    response = slow.api("POST", "/script-executors/cancel", json={"pidFile": "/tmp/build_script_executor_nope"})
    assert (response.status_code, response.json()) == (500, SERVER_ERROR)
    running = wait_for(slow, first, "building")
    assert running["pid_file"].startswith("/tmp/build_script_executor_")
    # Builds do not overlap: the second waits for the first.
    assert executor(slow, second)["sandbox_build"]["status"] == "queued"

    # Any user may cancel (no check in the controller).
    _, token = user_with_token(slow, "nobody")
    response = slow.api("POST", "/script-executors/cancel", token=token, json={"pidFile": running["pid_file"]})
    assert response.status_code == 200
    assert list(response.json()) == ["status", "pid"] and response.json()["status"] == "canceled"
    assert response.json()["pid"].isdigit()
    canceled = executor(slow, first)["sandbox_build"]
    assert (canceled["status"], canceled["exit_code"], canceled["pid_file"]) == ("canceled", None, None)
    assert canceled["finished_at"] is not None
    again = slow.api("POST", "/script-executors/cancel", json={"pidFile": running["pid_file"]})
    assert again.status_code == 500
    assert slow.api("POST", "/script-executors/cancel", json={}).status_code == 500
    assert wait_for(slow, second, "done")["exit_code"] == 0
