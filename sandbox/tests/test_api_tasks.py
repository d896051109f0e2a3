"""/tasks: list (filters, order, meta), show (includes), complete."""

from __future__ import annotations

import sys
from pathlib import Path

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from process_helpers import (
    active_task,
    bpmn,
    complete_task,
    create_process,
    request_of,
    single_task,
    started,
)
from test_api_helpers import NOT_FOUND, UNAUTHORIZED, create_user, grant, token_for

TASK_KEYS = [
    "id", "uuid", "user_id", "process_id", "process_request_id", "element_id", "element_type", "element_index",
    "element_name", "status", "completed_at", "due_at", "initiated_at", "riskchanges_at", "created_at",
    "updated_at", "subprocess_request_id", "subprocess_start_event_id", "self_service_groups", "token_properties",
    "is_self_service", "due_notified", "is_priority", "is_actionbyemail", "is_emailsent", "advanceStatus",
]
TWO_TASKS = bpmn(
    '    <bpmn:parallelGateway id="fork"/>\n'
    '    <bpmn:task id="a" name="Alpha" pm:dueIn="1"/>\n    <bpmn:manualTask id="b" name="Beta" pm:dueIn="2"/>\n'
    '    <bpmn:scriptTask id="s" name="Script"/>\n',
    ("f1", "node_1", "fork"), ("f2", "fork", "a"), ("f3", "fork", "b"), ("f4", "fork", "s"),
)


def test_the_list_shows_human_tasks_with_the_task_collection_meta(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Two Tasks", TWO_TASKS)
    request = started(clean_sandbox, process["id"])
    listed = clean_sandbox.api("GET", "/tasks?order_by=element_name&filter=a")
    assert listed.status_code == 200
    body = listed.json()
    assert [(t["element_name"], t["element_type"]) for t in body["data"]] == [("Alpha", "task"), ("Beta", "task")]
    item = body["data"][0]
    assert list(item)[: len(TASK_KEYS)] == TASK_KEYS
    assert list(item)[len(TASK_KEYS):] == ["process_request", "process", "user", "draft", "can_view_parent_request"]
    assert (item["process_request"]["id"], item["process_request"]["process"]["id"], item["user"]["username"]) == (
        request["id"], process["id"], "admin")
    assert "data" not in item["process_request"]
    meta = body["meta"]
    assert list(meta)[:6] == ["filter", "sort_by", "sort_order", "count", "total_pages", "in_overdue"]
    assert (meta["filter"], meta["total_pages"], meta["in_overdue"], meta["total"]) == ("a", 1.0, 0, 2)
    assert '"total_pages":1.0' in listed.text

    def names(query: str) -> list[str]:
        response = clean_sandbox.api("GET", "/tasks" + query)
        assert response.status_code == 200, response.text
        return [t["element_name"] for t in response.json()["data"]]

    assert names("?element_id=b") == ["Beta"]
    assert names("?element_name=alpha") == ["Alpha"]  # LIKE, as MySQL compares
    assert names("?order_by=due_at&order_direction=desc") == ["Beta", "Alpha"]
    assert names(f"?process_request_id={request['id']}&order_by=element_name") == ["Alpha", "Beta"]
    assert names("?status=CLOSED") == []
    assert names("?statusfilter=active,closed&order_by=id") == ["Alpha", "Beta"]
    assert names("?order_by=process_requests.id,element_name") == ["Alpha", "Beta"]
    unknown = clean_sandbox.api("GET", "/tasks?order_by=nope")
    assert (unknown.status_code, unknown.json()) == (422, {"message": "PMQL Is Invalid."})
    with_data = clean_sandbox.api("GET", "/tasks?include=data").json()["data"][0]
    # The script task ran after both tasks activated: completing it removed _user and _request, as in ProcessMaker.
    assert list(with_data["data"]) == ["_sandbox_script_tasks"]


def test_users_see_their_own_tasks_unless_they_may_view_all_requests(clean_sandbox: SandboxProcess) -> None:
    worker = create_user(clean_sandbox, "worker")
    auditor = create_user(clean_sandbox, "auditor")
    grant(clean_sandbox, auditor["id"], "view-all_requests")
    mine = create_process(clean_sandbox, "Mine", single_task(f'pm:assignment="user" pm:assignedUsers="{worker["id"]}"'))
    theirs = create_process(clean_sandbox, "Theirs", single_task())
    started(clean_sandbox, mine["id"])
    started(clean_sandbox, theirs["id"])
    assert clean_sandbox.api("GET", "/tasks", token=token_for(clean_sandbox, "worker")).json()["meta"]["total"] == 1
    assert clean_sandbox.api("GET", "/tasks", token=token_for(clean_sandbox, "auditor")).json()["meta"]["total"] == 2
    filtered = clean_sandbox.api("GET", f"/tasks?user_id={worker['id']}").json()["data"]
    assert [t["user_id"] for t in filtered] == [worker["id"]]


def test_show_is_for_the_assignee(clean_sandbox: SandboxProcess) -> None:
    create_user(clean_sandbox, "stranger")
    process = create_process(clean_sandbox, "Shown", single_task('pm:dueIn="5" pm:screenRef=""'))
    request = started(clean_sandbox, process["id"], {"x": 1})
    task = active_task(clean_sandbox, request["id"])
    shown = clean_sandbox.api("GET", f"/tasks/{task['id']}?include=user,definition,data,processRequest,requestor,"
                                     "bpmnTagName")
    assert shown.status_code == 200
    body = shown.json()
    assert list(body)[: len(TASK_KEYS)] == TASK_KEYS
    assert list(body)[len(TASK_KEYS):] == ["data", "user", "requestor", "process_request", "definition",
                                           "bpmn_tag_name", "can_view_parent_request"]
    assert body["definition"] == {"id": "node_2", "name": "Task 1", "dueIn": "5", "screenRef": ""}
    assert (body["bpmn_tag_name"], body["data"]["x"], body["user"]["username"]) == ("task", 1, "admin")
    assert body["process_request"]["id"] == request["id"]
    denied = clean_sandbox.api("GET", f"/tasks/{task['id']}", token=token_for(clean_sandbox, "stranger"))
    assert (denied.status_code, denied.json()) == (403, UNAUTHORIZED)
    assert clean_sandbox.api("GET", "/tasks/999").json() == NOT_FOUND


def test_completing_a_task(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Completed", single_task())
    request = started(clean_sandbox, process["id"], {"keep": "me"})
    task = active_task(clean_sandbox, request["id"])
    url = f"/tasks/{task['id']}"
    no_status = clean_sandbox.api("PUT", url, json={"data": {}})
    assert (no_status.status_code, no_status.json()) == (422, {"message": ""})
    reassign = clean_sandbox.api("PUT", url, json={"user_id": 1})
    assert reassign.status_code == 422
    assert reassign.json()["message"] == "pm_sandbox does not support task reassignment"
    assert clean_sandbox.api("PUT", url, json={"status": "COMPLETED"}).status_code == 500  # $data['data'] undefined
    done = complete_task(clean_sandbox, task["id"], {"text": " <p>bar</p> ", "empty": "", "list": ["<b>x</b>"]})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["advanceStatus"]) == ("CLOSED", "completed")
    assert request_of(clean_sandbox, request["id"])["data"] == {
        "keep": "me", "text": " bar ", "empty": "", "list": ["x"]}  # tags stripped, nothing trimmed
    assert complete_task(clean_sandbox, task["id"], {}).json() == {"message": "Task already closed"}


def test_only_the_assignee_or_an_administrator_completes(clean_sandbox: SandboxProcess) -> None:
    worker = create_user(clean_sandbox, "worker")
    create_user(clean_sandbox, "other")
    process = create_process(clean_sandbox, "Assigned", single_task(
        f'pm:assignment="user" pm:assignedUsers="{worker["id"]}"'))
    first, second = started(clean_sandbox, process["id"]), started(clean_sandbox, process["id"])
    task = active_task(clean_sandbox, first["id"])
    assert complete_task(clean_sandbox, task["id"], {}, token=token_for(clean_sandbox, "other")).json() == UNAUTHORIZED
    assert complete_task(clean_sandbox, task["id"], {}, token=token_for(clean_sandbox, "worker")).status_code == 200
    assert complete_task(clean_sandbox, active_task(clean_sandbox, second["id"])["id"], {}).status_code == 200
