"""ProcessMaker's tests/Feature/Api/TasksTest.php, ported: one test per PHP method, over HTTP.

ProcessMaker's factories create tokens directly; here each task is a real one, reached by starting a
request (``POST /process_events``) of a process whose task is assigned to the user the factory named,
and closed by completing it. Methods that cannot be ported honestly are listed in README.md.
"""

from __future__ import annotations

import math
import re
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent.parent))
from process_helpers import (
    active_task,
    bpmn,
    complete_task,
    create_process,
    request_of,
    single_task,
    started,
)
from test_api_helpers import create_user, db, grant, no_token, token_for

STRUCTURE = [
    "id", "process_request_id", "user_id", "element_id", "element_type", "element_name", "status", "completed_at",
    "due_at", "initiated_at", "riskchanges_at", "updated_at", "created_at",
]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def has_structure(item: dict[str, Any]) -> bool:
    return all(key in item for key in STRUCTURE)


def assigned_to(user_id: int) -> str:
    return f'pm:assignment="user" pm:assignedUsers="{user_id}"'


def tasks_of(sandbox: SandboxProcess, process_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` requests of the process, each waiting at its task; the tasks."""
    return [active_task(sandbox, started(sandbox, process_id)["id"]) for _ in range(count)]


def test_testGetListOfTasks(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testGetListOfTasks"""
    tasks_of(clean_sandbox, create_process(clean_sandbox, "Twenty", single_task())["id"], 20)
    response = clean_sandbox.api("GET", "/tasks?per_page=10&page=2")
    assert response.status_code == 200
    assert response.json()["data"] and all(has_structure(item) for item in response.json()["data"])


def test_testGetListAssignedTasks(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testGetListAssignedTasks"""
    user_1 = create_user(clean_sandbox, "userone")
    user_2 = create_user(clean_sandbox, "usertwo")
    tasks_of(clean_sandbox, create_process(clean_sandbox, "For One", single_task(assigned_to(user_1["id"])))["id"], 2)
    tasks_of(clean_sandbox, create_process(clean_sandbox, "For Two", single_task(assigned_to(user_2["id"])))["id"], 3)
    response = clean_sandbox.api("GET", f"/tasks?user_id={user_1['id']}", token=token_for(clean_sandbox, "userone"))
    assert len(response.json()["data"]) == 2


def test_testGetListClosedTasks(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testGetListClosedTasks"""
    user_1 = create_user(clean_sandbox, "userone")
    grant(clean_sandbox, user_1["id"], "view-all_requests")
    user_2 = create_user(clean_sandbox, "usertwo")
    process = create_process(clean_sandbox, "Closing", single_task(assigned_to(user_2["id"])))
    for task in tasks_of(clean_sandbox, process["id"], 3):
        assert complete_task(clean_sandbox, task["id"], {}).status_code == 200
    tasks_of(clean_sandbox, process["id"], 1)
    response = clean_sandbox.api("GET", "/tasks?status=CLOSED", token=token_for(clean_sandbox, "userone"))
    assert len(response.json()["data"]) == 3


def test_testGetListNonSystemTasks(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testGetListNonSystemTasks (the system category is flagged in the database: ProcessMaker's API
    cannot create one either, its factory sets ``is_system``)"""
    user_1 = create_user(clean_sandbox, "userone")
    user_2 = create_user(clean_sandbox, "usertwo")
    category = clean_sandbox.api("POST", "/process_categories", json={"name": "System", "status": "ACTIVE"}).json()
    with closing(db(clean_sandbox)) as connection:
        connection.execute("UPDATE categories SET is_system = 1 WHERE id = ?", (category["id"],))
    tasks_of(clean_sandbox, create_process(clean_sandbox, "Regular One", single_task(assigned_to(user_1["id"])))["id"],
             2)
    tasks_of(clean_sandbox, create_process(clean_sandbox, "Regular Two", single_task(assigned_to(user_2["id"])))["id"],
             3)
    system = create_process(clean_sandbox, "System One", single_task(assigned_to(user_1["id"])),
                            process_category_id=category["id"])
    tasks_of(clean_sandbox, system["id"], 1)
    response = clean_sandbox.api("GET", f"/tasks?user_id={user_1['id']}&non_system=true")
    assert len(response.json()["data"]) == 2


def test_testTaskListDates(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testTaskListDates"""
    [entity] = tasks_of(clean_sandbox, create_process(clean_sandbox, "testTaskTimezone", single_task())["id"], 1)
    listed = clean_sandbox.api("GET", "/tasks").json()["data"][0]
    shown = clean_sandbox.api("GET", f"/tasks/{entity['id']}").json()
    for column in ("created_at", "updated_at", "due_at"):  # $newEntity->...->format('c')
        assert ISO.match(listed[column]) and listed[column] == shown[column]


def test_testFilteringGetActiveTasks(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testFilteringGetActiveTasks"""
    process = create_process(clean_sandbox, "Active And Closed", single_task())
    tasks_of(clean_sandbox, process["id"], 10)
    for task in tasks_of(clean_sandbox, process["id"], 10):
        complete_task(clean_sandbox, task["id"], {})
    response = clean_sandbox.api("GET", "/tasks?per_page=10&status=ACTIVE")
    assert response.status_code == 200
    assert all(has_structure(item) for item in response.json()["data"])


def test_testFilteringGetOnlyHumanTasks(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testFilteringGetOnlyHumanTasks"""
    process = create_process(clean_sandbox, "Mixed", bpmn(
        '    <bpmn:scriptTask id="node_2" name="Script"/>\n    <bpmn:task id="node_3" name="Human"/>\n',
        ("f1", "node_1", "node_2"), ("f2", "node_2", "node_3")))
    for _ in range(5):
        started(clean_sandbox, process["id"])  # a startEvent, a scriptTask and a task token each
    response = clean_sandbox.api("GET", "/tasks?per_page=100")
    assert response.status_code == 200
    assert sorted({item["element_type"] for item in response.json()["data"]}) == ["task"]


def test_testSorting(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testSorting"""
    _open, closed_task = tasks_of(clean_sandbox, create_process(clean_sandbox, "Sorted", single_task())["id"], 2)
    complete_task(clean_sandbox, closed_task["id"], {})
    response = clean_sandbox.api("GET", "/tasks?order_by=completed_at&order_direction=asc")
    assert response.status_code == 200
    assert all(has_structure(item) for item in response.json()["data"])
    assert response.json()["data"][0]["completed_at"] is None


def test_testSortByRequestName(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testSortByRequestName"""
    process = create_process(clean_sandbox, "By Request", single_task())
    tasks = tasks_of(clean_sandbox, process["id"], 5)
    for task in tasks:
        complete_task(clean_sandbox, task["id"], {})
    request_ids = sorted(task["process_request_id"] for task in tasks)
    response = clean_sandbox.api("GET", "/tasks?order_by=process_request_id&order_direction=asc")
    assert response.status_code == 200
    assert response.json()["data"][0]["process_request_id"] == request_ids[0]
    response = clean_sandbox.api("GET", "/tasks?order_by=process_requests.id,process_requests.name"
                                        "&order_direction=desc")
    assert response.status_code == 200
    assert response.json()["data"][0]["process_request_id"] == request_ids[-1]


def test_testPagination(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testPagination"""
    initial_rows = clean_sandbox.api("GET", "/tasks").json()["meta"]["total"]
    rows_to_add = 10
    tasks_of(clean_sandbox, create_process(clean_sandbox, "Paginated", single_task())["id"], rows_to_add)
    per_page, page = 5, 2
    response = clean_sandbox.api("GET", f"/tasks?per_page={per_page}&page={page}")
    assert len(response.json()["data"]) == per_page
    meta = response.json()["meta"]
    expected = {"total": initial_rows + rows_to_add, "count": per_page, "per_page": per_page, "current_page": page,
                "total_pages": math.ceil((initial_rows + rows_to_add) / per_page)}
    assert {key: meta[key] for key in expected} == expected


def test_testShowTask(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testShowTask"""
    [task] = tasks_of(clean_sandbox, create_process(clean_sandbox, "Show Me", single_task())["id"], 1)
    response = clean_sandbox.api("GET", f"/tasks/{task['id']}")
    assert response.status_code == 200
    assert has_structure(response.json())


def test_testShowTaskWithUser(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testShowTaskWithUser"""
    [task] = tasks_of(clean_sandbox, create_process(clean_sandbox, "Show User", single_task())["id"], 1)
    response = clean_sandbox.api("GET", f"/tasks/{task['id']}?include=user,definition")
    assert response.status_code == 200
    body = response.json()
    assert has_structure(body)
    assert "id" in body["user"] and "email" in body["user"] and "definition" in body


def test_testUpdateTask(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testUpdateTask (ProcessMaker mocks WorkflowManager::completeTask and checks it gets
    ``['foo' => 'bar']``; here the task really completes and the request data shows what it got)"""
    user = create_user(clean_sandbox, "normaluser")
    process = create_process(clean_sandbox, "Update Me", single_task(assigned_to(user["id"])))
    request = started(clean_sandbox, process["id"])
    task = active_task(clean_sandbox, request["id"])
    response = clean_sandbox.api("PUT", f"/tasks/{task['id']}", token=token_for(clean_sandbox, "normaluser"),
                                 json={"status": "COMPLETED", "data": {"foo": "<p>bar</p>"}})
    assert response.status_code == 200
    assert request_of(clean_sandbox, request["id"])["data"] == {"foo": "bar"}


def test_testWithUserWithoutAuthorization(clean_sandbox: SandboxProcess) -> None:
    """TasksTest::testWithUserWithoutAuthorization"""
    [task] = tasks_of(clean_sandbox, create_process(clean_sandbox, "No Token", single_task())["id"], 1)
    response = no_token(clean_sandbox, "GET", f"/tasks/{task['id']}?include=user,definition")
    assert response.status_code == 401
