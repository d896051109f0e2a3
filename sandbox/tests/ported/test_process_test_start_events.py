"""The start-event methods of ProcessMaker's tests/Feature/Api/ProcessTest.php (``process_events.trigger``),
ported over HTTP. The rest of ProcessTest is about processes, not requests (see README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent.parent))
from process_helpers import create_process, single_task
from test_api_helpers import create_user, token_for

# ProcessMaker's SingleTask.bpmn template starts at "StartEventUID".
SINGLE_TASK = single_task(start="StartEventUID")


def test_testProcessEventsTrigger(clean_sandbox: SandboxProcess) -> None:
    """ProcessTest::testProcessEventsTrigger (``usersCanStart('StartEventUID')->attach(...)`` is the start event's
    ``pm:assignment="user" pm:assignedUsers``, which ProcessMaker syncs into the same processables)"""
    process = create_process(clean_sandbox, "Trigger Test", SINGLE_TASK)
    user = create_user(clean_sandbox, "starter")
    token = token_for(clean_sandbox, "starter")
    route = f"/process_events/{process['id']}?event=StartEventUID"
    assert clean_sandbox.api("POST", route, token=token).status_code == 403
    assert clean_sandbox.api("PUT", f"/processes/{process['id']}", json={
        "name": "Trigger Test", "description": "d", "bpmn": single_task(
            start="StartEventUID", start_attributes=f'pm:assignment="user" pm:assignedUsers="{user["id"]}"'),
    }).status_code == 200
    assert clean_sandbox.api("POST", route, token=token).status_code == 201


def test_testCreateRequest(clean_sandbox: SandboxProcess) -> None:
    """ProcessTest::testCreateRequest"""
    process = create_process(clean_sandbox, "Create Request", SINGLE_TASK)
    initial_data = {"Field1": "Value of Field 1", "Field2": "htt://www.files.com"}
    response = clean_sandbox.api("POST", f"/process_events/{process['id']}?event=StartEventUID", json=initial_data)
    assert response.status_code == 201
    # The PHP test reads route('api.requests.show', ['request' => ...->process_id]): the process id, which is
    # the request id too in a fresh database.
    shown = clean_sandbox.api("GET", f"/requests/{response.json()['process_id']}?include=data")
    assert "Field1" in shown.json()["data"] and "Field2" in shown.json()["data"]
    assert shown.json()["data"]["Field1"] == initial_data["Field1"]
    assert shown.json()["data"]["Field2"] == initial_data["Field2"]
