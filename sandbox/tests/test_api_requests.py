"""/process_events/{process} and /requests: start, list, show, cancel, complete, edit data, delete, tokens."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from process_helpers import (
    BROKEN,
    END_ONLY,
    active_task,
    approval,
    bpmn,
    complete_task,
    create_process,
    request_of,
    single_task,
    start_request,
    started,
)
from test_api_export_import import do_import, download
from test_api_helpers import (
    NOT_FOUND,
    UNAUTHORIZED,
    add_member,
    create_group,
    create_user,
    grant,
    token_for,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
REQUEST_KEYS = [
    "id", "uuid", "process_id", "process_collaboration_id", "user_id", "participant_id", "callable_id", "status",
    "name", "completed_at", "initiated_at", "created_at", "updated_at", "process_version_id", "signal_events",
    "errors", "do_not_sanitize", "parent_request_id", "case_number", "case_title", "case_title_formatted",
    "user_viewed_at",
]


def test_the_approval_scenario(clean_sandbox: SandboxProcess) -> None:
    sandbox = clean_sandbox
    member = create_user(sandbox, "approver")
    create_user(sandbox, "outsider")
    group = create_group(sandbox, "Approvers")
    assert add_member(sandbox, group["id"], member["id"]).status_code == 201
    process = create_process(sandbox, "Change Approval", approval(group["id"]))

    request = started(sandbox, process["id"], {"change": "CHG-1"})
    assert list(request) == REQUEST_KEYS
    assert (request["status"], request["name"], request["callable_id"], request["completed_at"]) == (
        "ACTIVE", "Change Approval", "ProcessId", None)
    task = active_task(sandbox, request["id"])
    assert (task["element_id"], task["element_name"], task["element_type"], task["user_id"]) == (
        "node_2", "Approve", "task", member["id"])
    assert ISO.match(task["due_at"]) and task["advanceStatus"] == "open"

    outsider = complete_task(sandbox, task["id"], {"approved": True}, token=token_for(sandbox, "outsider"))
    assert (outsider.status_code, outsider.json()) == (403, UNAUTHORIZED)
    done = complete_task(sandbox, task["id"], {"approved": True}, token=token_for(sandbox, "approver"))
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["advanceStatus"]) == ("CLOSED", "completed")
    assert ISO.match(done.json()["completed_at"])

    finished = request_of(sandbox, request["id"])
    assert (finished["status"], finished["data"]) == ("COMPLETED", {"change": "CHG-1", "approved": True})
    assert ISO.match(finished["completed_at"])
    reached = sandbox.api("GET", f"/requests/{request['id']}/tokens?element_id=node_4")
    assert reached.status_code == 200
    assert (reached.json()["element_name"], reached.json()["status"]) == ("Approved", "CLOSED")
    assert sandbox.api("GET", f"/requests/{request['id']}/tokens?element_id=node_5").status_code == 404
    assigned = sandbox.api("GET", f"/requests/{request['id']}?include=assigned").json()["assigned"]
    assert [(t["element_id"], t["element_type"], t["status"]) for t in assigned] == [
        ("node_1", "startEvent", "TRIGGERED"), ("node_2", "task", "CLOSED"), ("node_3", "gateway", "CLOSED"),
        ("node_4", "end_event", "CLOSED")]

    again = complete_task(sandbox, task["id"], {"approved": False}, token=token_for(sandbox, "approver"))
    assert (again.status_code, again.json()) == (422, {"message": "Task already closed"})


def test_an_imported_process_runs(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Approvers")
    process = create_process(clean_sandbox, "Change Approval", approval(group["id"]))
    package = download(clean_sandbox, "process", process["id"]).content
    clean_sandbox.reset()
    group = create_group(clean_sandbox, "Approvers")  # the same id again: a reset restarts the sequences
    member = create_user(clean_sandbox, "approver")
    add_member(clean_sandbox, group["id"], member["id"])
    imported = do_import(clean_sandbox, package)
    request = started(clean_sandbox, imported, {"change": "CHG-1"})
    task = active_task(clean_sandbox, request["id"])
    assert task["user_id"] == member["id"]
    assert complete_task(clean_sandbox, task["id"], {"approved": True}, token=token_for(clean_sandbox, "approver")
                         ).status_code == 200
    assert request_of(clean_sandbox, request["id"])["status"] == "COMPLETED"


def test_rejected_requests_take_the_default_flow(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Approvers")
    add_member(clean_sandbox, group["id"], clean_sandbox.credentials["admin"]["id"])
    process = create_process(clean_sandbox, "Change Approval", approval(group["id"]))
    request = started(clean_sandbox, process["id"], {"change": "CHG-2"})
    assert complete_task(clean_sandbox, active_task(clean_sandbox, request["id"])["id"], {"approved": False}
                         ).status_code == 200
    assert clean_sandbox.api("GET", f"/requests/{request['id']}/tokens?element_id=node_5").json()["element_name"] == \
        "Rejected"


def test_while_a_task_is_active_the_data_holds_the_assignee_and_the_request(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "One Task", single_task())
    request = started(clean_sandbox, process["id"], {"a": 1})
    data = request_of(clean_sandbox, request["id"])["data"]
    assert data["a"] == 1
    assert data["_user"]["id"] == clean_sandbox.credentials["admin"]["id"] and "password" not in data["_user"]
    assert data["_request"]["id"] == request["id"] and "data" not in data["_request"]


def test_start_data_goes_through_the_input_middleware(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Only End", END_ONLY)
    request = started(clean_sandbox, process["id"], {"text": "  <b>bold</b> ", "empty": "", "n": 5,
                                                      "nested": {"html": "<i>x</i>"}})
    assert request["status"] == "COMPLETED"
    assert request_of(clean_sandbox, request["id"])["data"] == {"text": "bold", "empty": None, "n": 5,
                                                                "nested": {"html": "x"}}


def test_start_errors(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "One Task", single_task())
    assert clean_sandbox.api("POST", "/process_events/999?event=node_1").json() == NOT_FOUND
    missing = clean_sandbox.api("POST", f"/process_events/{process['id']}", json={})
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    assert start_request(clean_sandbox, process["id"], event="nope").status_code == 404
    assert start_request(clean_sandbox, process["id"], event="node_2").status_code == 500
    timer = create_process(clean_sandbox, "Timer", bpmn("", start="timer").replace(
        'name="Start Event" />', 'name="Start Event"><bpmn:timerEventDefinition/></bpmn:startEvent>'))
    refused = start_request(clean_sandbox, timer["id"], event="timer")
    message = "pm_sandbox starts requests from none start events only; timer has a timerEventDefinition"
    assert (refused.status_code, refused.json()) == (422, {"message": message, "errors": {"event": [message]}})


def test_who_may_start_a_request(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "starter")
    token = token_for(clean_sandbox, "starter")
    nobody = create_process(clean_sandbox, "Nobody", single_task())
    denied = start_request(clean_sandbox, nobody["id"], token=token)
    assert (denied.status_code, denied.json()) == (403, UNAUTHORIZED)
    by_user = create_process(clean_sandbox, "By User", single_task(
        start_attributes=f'pm:assignment="user" pm:assignedUsers="{user["id"]}"'))
    request = started(clean_sandbox, by_user["id"], token=token)
    assert request["user_id"] == user["id"]
    group = create_group(clean_sandbox, "Starters")
    outer = create_group(clean_sandbox, "Everyone")
    add_member(clean_sandbox, group["id"], user["id"])
    add_member(clean_sandbox, outer["id"], group["id"], "ProcessMaker\\Models\\Group")
    by_group = create_process(clean_sandbox, "By Group", single_task(
        start_attributes=f'pm:assignment="group" pm:assignedGroups="{outer["id"]}"'))
    assert start_request(clean_sandbox, by_group["id"], token=token).status_code == 201


def test_an_unsupported_element_puts_the_request_in_error(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Broken", BROKEN)
    request = started(clean_sandbox, process["id"])
    assert request["status"] == "ERROR"
    [error] = request["errors"]
    assert error["message"].startswith('pm_sandbox does not run intermediateCatchEvent "Wait" (node_2)')
    assert (error["element_id"], error["element_name"], error["body"]) == ("node_2", "Wait", "")
    assert ISO.match(error["created_at"])


def test_script_tasks_are_skipped_with_a_marker(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Scripted", bpmn(
        '    <bpmn:scriptTask id="node_2" name="Compute" pm:scriptRef="7"/>\n    <bpmn:endEvent id="node_3"/>\n',
        ("f1", "node_1", "node_2"), ("f2", "node_2", "node_3")))
    request = started(clean_sandbox, process["id"], {"x": 1})
    assert request["status"] == "COMPLETED"
    assert request_of(clean_sandbox, request["id"])["data"] == {
        "x": 1, "_sandbox_script_tasks": [{"element_id": "node_2", "element_name": "Compute", "script_id": 7,
                                           "skipped": True}]}


def test_a_request_runs_the_version_it_started_with(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Versioned", single_task())
    request = started(clean_sandbox, process["id"])
    assert clean_sandbox.api("PUT", f"/processes/{process['id']}", json={
        "name": "Versioned", "description": "d", "bpmn": END_ONLY}).status_code == 200
    complete_task(clean_sandbox, active_task(clean_sandbox, request["id"])["id"], {})
    assert request_of(clean_sandbox, request["id"])["status"] == "COMPLETED"
    newer = started(clean_sandbox, process["id"])
    assert (newer["status"], newer["process_version_id"]) == ("COMPLETED", request["process_version_id"] + 1)


# ---- lists and views ---------------------------------------------------------------------------------------


def test_lists_by_type_filter_and_order(clean_sandbox: SandboxProcess) -> None:
    waiting = create_process(clean_sandbox, "Waiting", single_task())
    done = create_process(clean_sandbox, "Done", END_ONLY)
    active = started(clean_sandbox, waiting["id"], {"rank": 2})
    completed = started(clean_sandbox, done["id"], {"rank": 1})
    canceled = started(clean_sandbox, waiting["id"], {"rank": 3})
    assert clean_sandbox.api("PUT", f"/requests/{canceled['id']}", json={"status": "CANCELED"}).status_code == 204

    def ids(query: str) -> list[int]:
        response = clean_sandbox.api("GET", "/requests" + query)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert ids("?type=in_progress") == [active["id"]]
    assert ids("?type=completed") == [completed["id"]]
    assert ids("?type=started_me&order_by=id") == [active["id"]]
    assert sorted(ids("?type=all")) == sorted([active["id"], completed["id"], canceled["id"]])
    assert ids("?filter=done") == [completed["id"]]
    assert ids("?order_by=data.rank&order_direction=DESC") == [canceled["id"], active["id"], completed["id"]]
    listed = clean_sandbox.api("GET", "/requests?include=data,user&per_page=2").json()
    assert listed["meta"]["total"] == 3 and listed["meta"]["per_page"] == 2 and len(listed["data"]) == 2
    assert listed["data"][0]["process_version_alternative"] == "A"
    assert "data" in listed["data"][0] and listed["data"][0]["user"]["username"] == "admin"
    assert clean_sandbox.api("GET", "/requests?total=true").json() == {"meta": {"total": 3}}
    assert clean_sandbox.api("GET", "/requests?order_by=nope").status_code == 500
    pmql = clean_sandbox.api("GET", "/requests?pmql=id%3D1")
    assert (pmql.status_code, pmql.json()["message"]) == (
        400, "pm_sandbox does not evaluate PMQL; filter with type, filter and the list parameters")


def test_who_sees_a_request(clean_sandbox: SandboxProcess) -> None:
    assignee = create_user(clean_sandbox, "assignee")
    create_user(clean_sandbox, "stranger")
    auditor = create_user(clean_sandbox, "auditor")
    grant(clean_sandbox, auditor["id"], "view-all_requests")
    process = create_process(clean_sandbox, "Assigned", single_task(
        f'pm:assignment="user" pm:assignedUsers="{assignee["id"]}"'))
    request = started(clean_sandbox, process["id"])
    for username, status, total in (("assignee", 200, 1), ("stranger", 403, 0), ("auditor", 200, 1)):
        token = token_for(clean_sandbox, username)
        assert clean_sandbox.api("GET", f"/requests/{request['id']}", token=token).status_code == status
        assert clean_sandbox.api("GET", "/requests", token=token).json()["meta"]["total"] == total
    assert clean_sandbox.api("GET", "/requests/999").json() == NOT_FOUND


# ---- updates -----------------------------------------------------------------------------------------------------


def test_cancel_needs_the_process_cancel_assignment(clean_sandbox: SandboxProcess) -> None:
    requester = create_user(clean_sandbox, "requester")
    token = token_for(clean_sandbox, "requester")
    process = create_process(clean_sandbox, "Cancelable", single_task(
        start_attributes=f'pm:assignment="user" pm:assignedUsers="{requester["id"]}"'))
    first = started(clean_sandbox, process["id"], token=token)
    refused = clean_sandbox.api("PUT", f"/requests/{first['id']}", token=token, json={"status": "CANCELED"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Not authorized to cancel this request."})
    assert clean_sandbox.api("PUT", f"/processes/{process['id']}", json={
        "name": "Cancelable", "description": "d", "cancel_request": {"users": [requester["id"]], "groups": []},
    }).status_code == 200
    assert clean_sandbox.api("PUT", f"/requests/{first['id']}", token=token,
                             json={"status": "CANCELED"}).status_code == 403  # its version said nobody
    second = started(clean_sandbox, process["id"], token=token)
    assert clean_sandbox.api("PUT", f"/requests/{second['id']}", token=token,
                             json={"status": "CANCELED"}).status_code == 204
    assert request_of(clean_sandbox, second["id"])["status"] == "CANCELED"
    tasks = clean_sandbox.api("GET", f"/tasks?process_request_id={second['id']}").json()["data"]
    assert [(t["status"], t["completed_at"]) for t in tasks] == [("CLOSED", None)]


def test_manual_completion_of_a_request_in_error(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "operator")
    token = token_for(clean_sandbox, "operator")
    process = create_process(clean_sandbox, "Broken", BROKEN)
    grant(clean_sandbox, user["id"], "edit-request_data")
    broken = started(clean_sandbox, process["id"])
    refused = clean_sandbox.api("PUT", f"/requests/{broken['id']}", token=token, json={"status": "COMPLETED"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Not authorized to complete this request."})
    fine = started(clean_sandbox, create_process(clean_sandbox, "Fine", single_task())["id"])
    invalid = clean_sandbox.api("PUT", f"/requests/{fine['id']}", json={"status": "COMPLETED"})
    message = "Only requests with status: ERROR can be manually completed"
    assert (invalid.status_code, invalid.json()) == (422, {"message": message, "errors": {"status": [message]}})
    assert clean_sandbox.api("PUT", f"/requests/{broken['id']}", json={"status": "COMPLETED"}).status_code == 204
    completed = request_of(clean_sandbox, broken["id"])
    assert completed["status"] == "COMPLETED" and ISO.match(completed["completed_at"])


def test_editing_request_data(clean_sandbox: SandboxProcess) -> None:
    editor = create_user(clean_sandbox, "editor")
    create_user(clean_sandbox, "assignee")
    process = create_process(clean_sandbox, "Editable", single_task(
        start_attributes=f'pm:assignment="user" pm:assignedUsers="{editor["id"]}"'))
    request = started(clean_sandbox, process["id"], {"a": 1, "b": 2}, token=token_for(clean_sandbox, "editor"))
    token = token_for(clean_sandbox, "editor")
    # The requester passes the route's update policy; the data edit then wants edit-task_data while ACTIVE.
    refused = clean_sandbox.api("PUT", f"/requests/{request['id']}", token=token, json={"data": {"b": 3}})
    assert (refused.status_code, refused.json()) == (403, {"message": "Not authorized to edit request data."})
    outsider = clean_sandbox.api("PUT", f"/requests/{request['id']}", token=token_for(clean_sandbox, "assignee"),
                                 json={"data": {"b": 3}})
    assert (outsider.status_code, outsider.json()) == (403, UNAUTHORIZED)
    grant(clean_sandbox, editor["id"], "edit-task_data")
    assert clean_sandbox.api("PUT", f"/requests/{request['id']}", token=token,
                             json={"data": {"b": 3, "c": "<b>kept</b>"}}).status_code == 204
    data = request_of(clean_sandbox, request["id"])["data"]
    assert (data["a"], data["b"], data["c"]) == (1, 3, "kept")  # SanitizeInput spares top-level "data" only
    missing = clean_sandbox.api("PUT", f"/requests/{request['id']}", json={"data": {}, "task_element_id": "zzz"})
    assert missing.json() == NOT_FOUND


def test_updating_request_fields(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Named", END_ONLY)
    first, second = started(clean_sandbox, process["id"]), started(clean_sandbox, process["id"])
    required = clean_sandbox.api("PUT", f"/requests/{first['id']}", json={"name": None})
    assert required.status_code == 422 and required.json()["errors"]["name"] == ["The Name field is required."]
    taken = clean_sandbox.api("PUT", f"/requests/{first['id']}", json={
        "name": "Named", "data": {"x": 1}, "process_id": process["id"]})
    assert taken.json()["errors"] == {"name": ["The Name has already been taken."]}
    renamed = clean_sandbox.api("PUT", f"/requests/{second['id']}", json={
        "name": "Renamed", "data": {"x": 1}, "process_id": process["id"], "unknown_column": 1})
    assert renamed.status_code == 204
    assert request_of(clean_sandbox, second["id"])["name"] == "Renamed"


def test_deleting_requests(clean_sandbox: SandboxProcess) -> None:
    create_user(clean_sandbox, "stranger")
    process = create_process(clean_sandbox, "Deletable", single_task())
    request = started(clean_sandbox, process["id"])
    refused = clean_sandbox.api("DELETE", f"/requests/{request['id']}", token=token_for(clean_sandbox, "stranger"))
    assert (refused.status_code, refused.json()) == (403, UNAUTHORIZED)
    assert clean_sandbox.api("DELETE", f"/requests/{request['id']}").status_code == 204
    assert clean_sandbox.api("GET", f"/requests/{request['id']}").status_code == 404
    assert clean_sandbox.api("GET", "/tasks").json()["meta"]["total"] == 0
    assert clean_sandbox.api("DELETE", "/requests/").status_code == 405


def test_the_token_information_of_the_map(clean_sandbox: SandboxProcess) -> None:
    process = create_process(clean_sandbox, "Mapped", single_task())
    request = started(clean_sandbox, process["id"])
    base = f"/requests/{request['id']}/tokens"
    missing = clean_sandbox.api("GET", base)
    assert (missing.status_code, missing.json()["errors"]) == (422, {"element_id": ["The Element id field is required."]})
    info = clean_sandbox.api("GET", base + "?element_id=node_2").json()
    assert list(info) == [
        "user_id", "element_id", "element_name", "created_at", "completed_at", "status", "is_sequence_flow",
        "status_translation", "completed_by", "count", "repeat_message", "created_at_formatted",
        "completed_at_formatted", "advanceStatus", "user"]
    assert (info["status_translation"], info["completed_by"], info["count"], info["completed_at_formatted"]) == (
        "In Progress", "-", 1, "-")
    assert info["user"]["fullname"] == "Admin User" and list(info["user"]) == [
        "id", "username", "firstname", "lastname", "fullname"]
    flow = clean_sandbox.api("GET", base + "?element_id=node_4").json()
    assert (flow["is_sequence_flow"], flow["element_id"]) == (True, "node_2")  # the target unless it ran more
    assert clean_sandbox.api("GET", base + "?element_id=999").status_code == 404


@pytest.mark.parametrize("include", ["participants", "process", "user"])
def test_request_includes(clean_sandbox: SandboxProcess, include: str) -> None:
    process = create_process(clean_sandbox, "Included", single_task())
    request = started(clean_sandbox, process["id"])
    shown = request_of(clean_sandbox, request["id"], include)
    value = shown[include]
    if include == "participants":
        assert [user["username"] for user in value] == ["admin"]
    elif include == "process":
        assert value["id"] == process["id"]
    else:
        assert value["username"] == "admin"
