"""/processes: list, show (204 when unknown), create, update (200), archive, restore, the BPMN."""

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
PROCESS_KEYS = [
    "id", "uuid", "process_category_id", "user_id", "description", "name", "cancel_screen_id",
    "request_detail_screen_id", "status", "is_valid", "package_key", "pause_timer_start", "deleted_at", "created_at",
    "updated_at", "start_events", "warnings", "self_service_tasks", "signal_events", "conditional_events",
    "properties", "case_title", "asset_type", "is_template", "updated_by", "has_timer_start_events", "projects",
    "notifications", "task_notifications", "manager_id",
]
NO_NOTIFICATIONS = {who: {"started": False, "canceled": False, "completed": False}
                    for who in ("requester", "assignee", "participants")}
TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" id="d1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="P1" name="Timed" isExecutable="true">
    <bpmn:startEvent id="start" name="Every day"><bpmn:timerEventDefinition/></bpmn:startEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def category(sandbox: SandboxProcess, name: str, path: str = "process_categories", **fields: Any) -> int:
    response = sandbox.api("POST", f"/{path}", json={"name": name, "status": "ACTIVE", **fields})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def create_process(sandbox: SandboxProcess, name: str, **fields: Any) -> dict[str, Any]:
    response = sandbox.api("POST", "/processes", json={"name": name, "description": f"{name} process", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_without_bpmn_uses_the_single_start_event_template(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Leave Request")
    assert list(process) == PROCESS_KEYS
    admin = clean_sandbox.credentials["admin"]["id"]
    assert (process["name"], process["status"], process["user_id"], process["process_category_id"]) == (
        "Leave Request", "ACTIVE", admin, None)
    assert ISO.match(process["created_at"]) and ISO.match(process["updated_at"]) and process["deleted_at"] is None
    assert [(e["id"], e["name"], e["eventDefinitions"]) for e in process["start_events"]] == [
        ("node_1", "Start Event", [])]
    assert (process["has_timer_start_events"], process["warnings"], process["notifications"]) == (
        False, None, NO_NOTIFICATIONS)
    assert "bpmn" not in process and "svg" not in process
    assert clean_sandbox.api("GET", f"/processes/{process['id']}").json() == process

    bpmn = clean_sandbox.api("GET", f"/processes/{process['id']}/bpmn")
    assert bpmn.status_code == 200
    assert bpmn.headers["Content-Disposition"] == "attachment; filename=bpmnProcess.bpmn"
    assert '<bpmn:startEvent id="node_1"' in bpmn.text


def test_create_from_a_bpmn_file_and_a_category(clean_sandbox: SandboxProcess) -> None:
    finance = category(clean_sandbox, "Finance")
    response = clean_sandbox.api(
        "POST", "/processes", data={"name": "Timed", "description": "d", "process_category_id": str(finance)},
        files={"file": ("process.bpmn", TIMER_BPMN.encode(), "application/xml")},
    )
    assert response.status_code == 201, response.text
    process = response.json()
    # HasCategories: the getter joins the assigned ids into a string.
    assert process["process_category_id"] == str(finance)
    assert process["has_timer_start_events"] is True
    assert process["start_events"][0]["eventDefinitions"] == [{"$type": "timerEventDefinition"}]
    assert clean_sandbox.api("GET", f"/processes/{process['id']}/bpmn").text == TIMER_BPMN  # the file as sent


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["The Name field is required."], "description": ["The Description field is required."]}),
        ({"name": "Bad/Name", "description": "d", "status": "DRAFT"},
         {"name": ["The Name may only contain alphanumeric characters."], "status": ["The selected Status is invalid."]}),
        ({"name": "Ok", "description": "d", "process_category_id": 999},
         {"process_category_id": ["The selected Process category id is invalid."]}),
        ({"name": "Ok", "description": "d", "case_title": "x" * 201},
         {"case_title": ["The Case title field must not be greater than 200 characters."]}),
    ],
)
def test_create_validation(clean_sandbox: SandboxProcess, body: dict, errors: dict) -> None:
    response = clean_sandbox.api("POST", "/processes", json=body)
    messages = [m for ms in errors.values() for m in ms]
    message = messages[0] + (f" (and {len(messages) - 1} more error)" if len(messages) == 2 else "")
    assert (response.status_code, response.json()) == (422, {"message": message, "errors": errors})


def test_a_category_of_another_kind_does_not_exist_for_processes(clean_sandbox: SandboxProcess) -> None:
    screens = category(clean_sandbox, "Forms", "screen_categories")
    response = clean_sandbox.api("POST", "/processes", json={"name": "P", "description": "d",
                                                              "process_category_id": screens})
    assert response.json()["errors"] == {"process_category_id": ["The selected Process category id is invalid."]}


def test_names_are_unique(clean_sandbox: SandboxProcess) -> None:
    create_process(clean_sandbox, "Onboarding")
    response = clean_sandbox.api("POST", "/processes", json={"name": "onboarding", "description": "d"})
    assert response.json() == {"message": "The Name has already been taken.",
                               "errors": {"name": ["The Name has already been taken."]}}


def test_invalid_bpmn_fails_a_create_but_is_a_warning_on_update(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/processes", json={"name": "Broken", "description": "d", "bpmn": "<oops"})
    body = response.json()
    assert (response.status_code, body["message"], list(body["errors"])) == (
        422, "The bpm definition is not valid", ["bpmn"])
    assert body["errors"]["bpmn"][0].startswith("DOMDocument::loadXML():")

    process = create_process(clean_sandbox, "Fine")
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"description": "d", "bpmn": "<oops"})
    assert response.status_code == 200
    assert [w["title"] for w in response.json()["warnings"]] == ["Schema Validation"]
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"description": "d", "bpmn": TIMER_BPMN})
    assert (response.json()["warnings"], response.json()["has_timer_start_events"]) == (None, True)


def test_update_answers_200_and_needs_no_name(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Purchase")
    create_process(clean_sandbox, "Other")
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"description": "New text"})
    assert response.status_code == 200
    updated = response.json()
    assert (updated["name"], updated["description"], updated["updated_by"]) == (
        "Purchase", "New text", clean_sandbox.credentials["admin"]["id"])
    assert clean_sandbox.api("GET", f"/processes/{process['id']}").json() == updated

    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={})
    assert (response.status_code, response.json()) == (422, {
        "message": "The Description field is required.",
        "errors": {"description": ["The Description field is required."]}})
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"name": "other", "description": "d"})
    assert response.json()["errors"] == {"name": ["The Name has already been taken."]}
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"name": "Purchase", "description": "d"})
    assert response.status_code == 200


def test_update_category_manager_and_notifications(clean_sandbox: SandboxProcess) -> None:
    first, second = category(clean_sandbox, "First"), category(clean_sandbox, "Second")
    process = create_process(clean_sandbox, "Notify", process_category_id=first)
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={
        "description": "d", "process_category_id": second, "manager_id": 1,
        "notifications": {"requester": {"completed": True}, "assignee": {"started": "true"}},
    })
    updated = response.json()
    assert (updated["process_category_id"], updated["manager_id"], updated["properties"]) == (
        str(second), 1, {"manager_id": 1})
    assert updated["notifications"]["requester"] == {"started": False, "canceled": False, "completed": True}
    assert updated["notifications"]["assignee"]["started"] is True
    with_category = clean_sandbox.api("GET", f"/processes/{process['id']}?include=category,user,events").json()
    assert with_category["category"]["name"] == "Second"
    assert with_category["user"]["username"] == clean_sandbox.credentials["admin"]["username"]
    assert with_category["events"] == updated["start_events"]


def test_delete_archives_and_restore_reactivates(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Seasonal")
    response = clean_sandbox.api("DELETE", f"/processes/{process['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", f"/processes/{process['id']}").json()["status"] == "ARCHIVED"
    assert clean_sandbox.api("GET", "/processes").json()["data"] == []
    assert [p["name"] for p in clean_sandbox.api("GET", "/processes?status=archived").json()["data"]] == ["Seasonal"]
    response = clean_sandbox.api("PUT", f"/processes/{process['id']}/restore")
    assert (response.status_code, response.json()["status"]) == (200, "ACTIVE")
    assert [p["name"] for p in clean_sandbox.api("GET", "/processes").json()["data"]] == ["Seasonal"]


def test_unknown_ids(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("GET", "/processes/999999")
    assert (response.status_code, response.content) == (204, b"")
    for method, path in (("PUT", "/processes/999999"), ("DELETE", "/processes/999999"),
                         ("PUT", "/processes/999999/restore"), ("GET", "/processes/999999/bpmn")):
        response = clean_sandbox.api(method, path, json={})
        assert (path, response.status_code, response.json()) == (path, 404, NOT_FOUND)


def test_list_filters_orders_and_paginates(clean_sandbox: SandboxProcess) -> None:
    finance = category(clean_sandbox, "Finance")
    for name in ("Delta", "alpha", "Charlie", "Bravo"):
        create_process(clean_sandbox, name, **({"process_category_id": finance} if name in ("Delta", "Bravo") else {}))
    create_process(clean_sandbox, "Echo", status="INACTIVE")
    body = clean_sandbox.api("GET", "/processes?per_page=2&page=2").json()
    assert list(body["meta"]) == META_KEYS
    assert [p["name"] for p in body["data"]] == ["Charlie", "Delta"]
    assert (body["meta"]["total"], body["meta"]["last_page"], body["meta"]["per_page"]) == (5, 3, 2)
    names = [p["name"] for p in clean_sandbox.api("GET", "/processes?order_by=name&order_direction=desc").json()["data"]]
    assert names == ["Echo", "Delta", "Charlie", "Bravo", "alpha"]
    assert [p["name"] for p in clean_sandbox.api("GET", f"/processes?category={finance}").json()["data"]] == [
        "Bravo", "Delta"]
    assert [p["name"] for p in clean_sandbox.api("GET", "/processes?filter=Finance").json()["data"]] == [
        "Bravo", "Delta"]
    assert [p["name"] for p in clean_sandbox.api("GET", "/processes?filter=INACTIVE").json()["data"]] == ["Echo"]
    assert [p["name"] for p in clean_sandbox.api("GET", "/processes?status=all").json()["data"]] == [
        "alpha", "Bravo", "Charlie", "Delta"]
    response = clean_sandbox.api("GET", "/processes?order_by=nope")
    assert (response.status_code, response.json()) == (500, {"message": "Server Error"})


def test_a_category_in_use_cannot_be_deleted(clean_sandbox: SandboxProcess) -> None:
    finance = category(clean_sandbox, "Finance")
    create_process(clean_sandbox, "Budget", process_category_id=finance)
    create_process(clean_sandbox, "Invoice", process_category_id=finance)
    counted = clean_sandbox.api("GET", "/process_categories?include=processesCount").json()["data"]
    assert [(c["name"], c["processes_count"]) for c in counted] == [("Finance", 2)]
    response = clean_sandbox.api("DELETE", f"/process_categories/{finance}")
    assert (response.status_code, response.json()) == (422, {
        "message": "The item should not have associated processes", "errors": {"processes": 2}})


def test_tokens_and_permissions(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Guarded")
    routes = [("GET", "/processes"), ("GET", f"/processes/{process['id']}"), ("POST", "/processes"),
              ("PUT", f"/processes/{process['id']}"), ("DELETE", f"/processes/{process['id']}"),
              ("PUT", f"/processes/{process['id']}/restore"), ("GET", f"/processes/{process['id']}/bpmn")]
    _, nobody = user_with_token(clean_sandbox, "nobody")
    for method, path in routes:
        response = no_token(clean_sandbox, method, path, json={})
        assert (path, response.status_code, response.json()) == (path, 401, UNAUTHENTICATED)
        response = clean_sandbox.api(method, path, token=nobody, json={})
        assert (method, path, response.status_code, response.json()) == (method, path, 403, UNAUTHORIZED)
    response = clean_sandbox.api("GET", "/processes/999999", token=nobody)
    assert response.status_code == 403  # the permission is checked before the 204

    _, viewer = user_with_token(clean_sandbox, "viewer", "view-processes")
    assert clean_sandbox.api("GET", "/processes", token=viewer).json()["meta"]["total"] == 1
    assert clean_sandbox.api("GET", f"/processes/{process['id']}/bpmn", token=viewer).status_code == 200
    assert clean_sandbox.api("POST", "/processes", token=viewer, json={}).status_code == 403
    _, archiver = user_with_token(clean_sandbox, "archiver", "archive-processes")
    assert clean_sandbox.api("DELETE", f"/processes/{process['id']}", token=archiver).status_code == 204
    assert clean_sandbox.api("PUT", f"/processes/{process['id']}/restore", token=archiver).status_code == 200
    _, editor = user_with_token(clean_sandbox, "editor", "edit-processes", "create-processes")
    assert clean_sandbox.api("PUT", f"/processes/{process['id']}", token=editor,
                             json={"description": "by editor"}).status_code == 200
    created = clean_sandbox.api("POST", "/processes", token=editor, json={"name": "Mine", "description": "d"}).json()
    assert created["user_id"] != clean_sandbox.credentials["admin"]["id"]


def test_an_update_without_changes_keeps_updated_at(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Stable")
    time.sleep(1.1)
    same = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"name": "Stable",
                                                                        "description": "Stable process"}).json()
    assert (same["updated_at"], same["updated_by"]) == (process["updated_at"], None)
    changed = clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"description": "new"}).json()
    assert changed["updated_at"] > process["updated_at"]
