"""Port of ProcessMaker's ``tests/Feature/Api/ProcessTest.php`` (the 4.15-era generation of the file, with
``testFilterBookmarked``, ``testUpdateCancelRequest`` and the multiple-diagram check).

The BPMN documents the PHP test loads from ``ProcessMaker/templates`` and ``tests/Feature/Api/processes``
(SingleTask, OnlyStartElement, ProcessWithErrors, C.4.0-export, ProcessStartTimerEvent) are written here
anew with the property each test relies on. ``$process->usersCanStart($node)->attach($user)`` is the start
event's ``pm:assignment="user"`` and ``pm:assignedUsers`` in the BPMN, which is how a process gets it over
the API. ResourceAssertionsTrait::assertModelUpdate also compares the saved process version, which no
served route shows; the rest of it is ported.

Not ported (see README.md): the ``/start_processes`` tests (``testStartRequestList*``,
``testProcessManagerCanStartARequest``, ``testWebEntryFilteredFromStartEvents``), the request tests
(``testProcessManagerCanStartProcessWithTwoStartEvents``, ``testProcessEventsTrigger``, ``testCreateRequest``,
``testTriggerStartEventWeb``), ``testShowProcess`` (skipped upstream), the versions and drafts
(``testUpdateProcessVersions``, ``testUpdateDraftProcess``, ``testDiscardDraft``) and the media routes
(``testGetMediaImagesRoute``, ``testDeleteMediaImages``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from php_port import (
    ERROR_STRUCTURE,
    assert_array_subset,
    assert_json_structure,
    ok,
    unique,
)

URL = "/processes"
STRUCTURE = ["id", "process_category_id", "user_id", "description", "name", "status", "created_at", "updated_at"]

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd"'
)


def definitions(body: str, diagrams: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="Definitions_port" '
            f'targetNamespace="http://bpmn.io/schema/bpmn">\n{body}\n{diagrams}\n</bpmn:definitions>')


def diagram(number: int, shapes: str) -> str:
    return (f'  <bpmndi:BPMNDiagram id="Diagram_{number}">\n    <bpmndi:BPMNPlane id="Plane_{number}" '
            f'bpmnElement="ProcessId">\n{shapes}\n    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>')


def shape(element: str, x: int) -> str:
    return (f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">'
            f'<dc:Bounds x="{x}" y="100" width="36" height="36"/></bpmndi:BPMNShape>')


def single_task(start_attributes: str = "") -> str:
    """A start event ``StartEventUID``, one task, an end event (the shape of SingleTask.bpmn)."""
    body = f"""  <bpmn:process id="ProcessId" name="Single task" isExecutable="true">
    <bpmn:startEvent id="StartEventUID" name="Start Event"{start_attributes}>
      <bpmn:outgoing>flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:task id="TaskUID" name="Review">
      <bpmn:incoming>flow_1</bpmn:incoming>
      <bpmn:outgoing>flow_2</bpmn:outgoing>
    </bpmn:task>
    <bpmn:endEvent id="EndEventUID" name="End Event">
      <bpmn:incoming>flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_1" sourceRef="StartEventUID" targetRef="TaskUID"/>
    <bpmn:sequenceFlow id="flow_2" sourceRef="TaskUID" targetRef="EndEventUID"/>
  </bpmn:process>"""
    shapes = "\n".join(shape(element, x) for element, x in (("StartEventUID", 100), ("TaskUID", 200), ("EndEventUID", 300)))
    return definitions(body, diagram(1, shapes))


def only_start_element() -> str:
    body = """  <bpmn:process id="ProcessId" name="Only start" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Start Event"/>
  </bpmn:process>"""
    return definitions(body, diagram(1, shape("node_1", 150)))


def with_schema_errors() -> str:
    """Loads as XML but breaks the BPMN schema: an element BPMN does not define, a flow without its target."""
    body = """  <bpmn:process id="ProcessId" name="Broken" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Start Event"/>
    <bpmn:notAnActivity id="node_2" name="Nothing"/>
    <bpmn:sequenceFlow id="flow_1" sourceRef="node_1"/>
  </bpmn:process>"""
    return definitions(body, diagram(1, shape("node_1", 150)))


def two_diagrams() -> str:
    """A valid process drawn in two BPMNDiagram elements (like C.4.0-export.bpmn)."""
    body = """  <bpmn:process id="ProcessId" name="Drawn twice" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Start Event"/>
  </bpmn:process>"""
    return definitions(body, diagram(1, shape("node_1", 150)) + "\n" + diagram(2, shape("node_1", 450)).replace(
        'id="node_1_di"', 'id="node_1_di_2"'))


def start_timer() -> str:
    """A timer start event (ProcessStartTimerEvent.bpmn)."""
    body = """  <bpmn:process id="ProcessId" name="Timer" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Every day">
      <bpmn:timerEventDefinition id="timer_1">
        <bpmn:timeCycle>R/2025-01-01T08:00:00Z/P1D</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:startEvent>
  </bpmn:process>"""
    return definitions(body, diagram(1, shape("node_1", 150)))


# ---- ResourceAssertionsTrait ---------------------------------------------------------------------


def assert_correct_model_listing(client, query: str, expected_meta: dict[str, Any]):
    response = client.call("GET", URL + query)
    assert response.status_code == 200, response.text
    assert_json_structure({"data": {"*": STRUCTURE}}, response.json())
    data, meta = response.json()["data"], response.json()["meta"]
    assert_array_subset(expected_meta, meta)
    assert len(data) == meta["count"]
    return response


def assert_model_sorting(pm, query: str, first_row: dict[str, Any]) -> None:
    data = assert_correct_model_listing(pm.api, query, {}).json()["data"]
    assert_array_subset(first_row, data[0])


DO_NOT_SEND = object()  # ResourceAssertionsTrait::$DO_NOT_SEND


def make(pm, attributes: dict[str, Any]) -> dict[str, Any]:
    """``Process::factory()->make($attributes)->toArray()`` without the DO_NOT_SEND keys (``user_id`` is never
    sent): name, description, status, a new category, and the appended ``projects`` (``"[]"`` without the
    projects package)."""
    array: dict[str, Any] = {"name": unique("Factory process"), "description": "Made by the factory",
                             "status": "ACTIVE", "projects": "[]"}
    if "process_category_id" not in attributes:
        array["process_category_id"] = pm.factory.category("process")["id"]
    array.update(attributes)
    return {key: value for key, value in array.items() if value is not DO_NOT_SEND}


def assert_correct_model_creation(pm, attributes: dict[str, Any]) -> None:
    array = make(pm, attributes)
    response = pm.api.call("POST", URL, array)
    assert response.status_code == 201, response.text
    assert_json_structure(STRUCTURE, response.json())
    assert_array_subset(array, response.json())


def assert_model_creation_fails(pm, attributes: dict[str, Any], errors: list[str]) -> None:
    response = pm.api.call("POST", URL, make(pm, attributes))
    assert response.status_code == 422, response.text
    assert_json_structure(ERROR_STRUCTURE, response.json())
    assert_json_structure({"errors": errors}, response.json())


def assert_model_update(pm, fields: dict[str, Any]) -> None:
    base = pm.factory.process()
    pm.factory.set_columns("processes", base["id"], created_at="2025-01-01 09:00:00")  # created yesterday
    response = pm.api.call("PUT", f"{URL}/{base['id']}", fields)
    assert response.status_code == 200, response.text
    assert_json_structure(STRUCTURE, response.json())
    assert_array_subset(fields, response.json())


def assert_model_update_fails(pm, fields: dict[str, Any], errors: list[str]) -> None:
    base = pm.factory.process()
    response = pm.api.call("PUT", f"{URL}/{base['id']}", fields)
    assert response.status_code == 422, response.text
    assert_json_structure(ERROR_STRUCTURE, response.json())
    assert_json_structure({"errors": errors}, response.json())


def json_fragment(data: Any, key: str, value: Any) -> bool:
    """``assertJsonFragment([$key => $value])``: some object in the document has it."""
    if isinstance(data, dict):
        return (data.get(key) == value) or any(json_fragment(item, key, value) for item in data.values())
    if isinstance(data, list):
        return any(json_fragment(item, key, value) for item in data)
    return False


# ---- the tests -----------------------------------------------------------------------------------


def test_testProcessesListing(pm) -> None:
    """ProcessTest::testProcessesListing"""
    initial = pm.api.call("GET", URL).json()["meta"]["total"]
    for _ in range(20):
        pm.factory.process()
    assert_correct_model_listing(pm.api, "?page=2&per_page=10", {
        "total": initial + 20, "count": 10, "per_page": 10, "current_page": 2,
        "total_pages": math.ceil((initial + 20) / 10),
    })


def test_testProcessesListingWithNoAdminUser(pm) -> None:
    """ProcessTest::testProcessesListingWithNoAdminUser"""
    user = pm.factory.user()
    pm.factory.give_permissions(user, "view-processes")
    initial = pm.api.call("GET", URL).json()["meta"]["total"]
    pm.factory.process(bpmn=single_task(f' pm:assignment="user" pm:assignedUsers="{user["id"]}"'))
    assert_correct_model_listing(pm.factory.acting_as(user), "?page=1&per_page=10", {
        "total": 1, "count": 1, "per_page": 10, "current_page": 1, "total_pages": math.ceil((initial + 1) / 10),
    })


def test_testProcessesListingWithNoAdminGroup(pm) -> None:
    """ProcessTest::testProcessesListingWithNoAdminGroup"""
    user = pm.factory.user()
    group = pm.factory.group(name="Test Group", status="ACTIVE")
    pm.factory.member(group, user)
    pm.factory.give_group_permissions(group, "view-processes")
    initial = pm.api.call("GET", URL).json()["meta"]["total"]
    pm.factory.process(bpmn=single_task(f' pm:assignment="group" pm:assignedGroups="{group["id"]}"'))
    assert_correct_model_listing(pm.factory.acting_as(user), "?page=1&per_page=10", {
        "total": 1, "count": 1, "per_page": 10, "current_page": 1, "total_pages": math.ceil((initial + 1) / 10),
    })


def test_testProcessListDates(pm) -> None:
    """ProcessTest::testProcessListDates"""
    new_entity = pm.factory.process(name="processTestTimezone")
    row = pm.api.call("GET", URL + "?filter=processTestTimezone").json()["data"][0]
    assert row["updated_at"] == new_entity["updated_at"]
    assert row["created_at"] == new_entity["created_at"]


def test_testFiltering(pm) -> None:
    """ProcessTest::testFiltering"""
    initial_not_archived = pm.api.call("GET", URL).json()["meta"]["total"]
    initial_archived = pm.api.call("GET", URL + "?status=archived").json()["meta"]["total"]
    for status, count in (("ACTIVE", 10), ("INACTIVE", 15), ("ARCHIVED", 20)):
        for _ in range(count):
            pm.factory.process(status=status)
    response = assert_correct_model_listing(pm.api, "?status=active&include=category&per_page=10", {
        "total": initial_not_archived + 10 + 15, "count": 10, "per_page": 10,
    })
    assert_json_structure({"*": ["category"]}, response.json()["data"])
    response = assert_correct_model_listing(pm.api, "?status=archived&include=category,user&per_page=10", {
        "total": initial_archived + 20, "count": 10, "per_page": 10,
    })
    assert_json_structure({"*": ["category", "user"]}, response.json()["data"])


def test_testSorting(pm) -> None:
    """ProcessTest::testSorting"""
    pm.factory.process(name="aaaaaa", description="bbbbbb")
    pm.factory.process(name="zzzzz", description="yyyyy")
    assert_model_sorting(pm, "?order_by=name&order_direction=asc", {"name": "aaaaaa"})
    assert_model_sorting(pm, "?order_by=name&order_direction=DESC", {"name": "zzzzz"})
    assert_model_sorting(pm, "?order_by=description&order_direction=desc", {"description": "yyyyy"})


def test_testFilterBookmarked(pm) -> None:
    """ProcessTest::testFilterBookmarked

    The sandbox serves no bookmark routes, so no process is bookmarked: ``Bookmark::factory()`` has no
    HTTP counterpart and every ``bookmark_id`` is 0, with or without ``bookmark=true``.
    """
    for _ in range(5):
        pm.factory.process()
    response = pm.api.call("GET", URL + "?per_page=5&page=1")
    assert len(response.json()["data"]) == 5
    assert response.json()["data"][0]["bookmark_id"] == 0

    pm.factory.process()
    response = pm.api.call("GET", URL + "?per_page=5&page=1&bookmark=true")
    assert len(response.json()["data"]) == 5


def test_testFilterCategory(pm) -> None:
    """ProcessTest::testFilterCategory"""
    category_a = pm.factory.category("process")
    category_b = pm.factory.category("process")
    for _ in range(5):
        pm.factory.process(process_category_id=category_b["id"])
    assert len(pm.api.call("GET", URL + "?per_page=5&page=1").json()["data"]) == 5
    assert len(pm.api.call("GET", f"{URL}?category={category_a['id']}").json()["data"]) == 0
    assert len(pm.api.call("GET", f"{URL}?category={category_b['id']}").json()["data"]) == 5


def test_testPagination(pm) -> None:
    """ProcessTest::testPagination"""
    initial = pm.api.call("GET", URL).json()["meta"]["total"] + pm.api.call(
        "GET", URL + "?status=archived").json()["meta"]["total"]  # Process::all()->count()
    for _ in range(7):
        pm.factory.process()
    assert len(pm.api.call("GET", URL + "?per_page=5&page=1").json()["data"]) == 5
    assert len(pm.api.call("GET", URL + "?per_page=5&page=2").json()["data"]) == (2 + initial) % 5


def test_testProcessCreation(pm) -> None:
    """ProcessTest::testProcessCreation"""
    assert_model_creation_fails(pm, {"process_category_id": None}, [])
    assert_correct_model_creation(pm, {"process_category_id": pm.factory.category("process")["id"]})
    assert_correct_model_creation(pm, {"process_category_id": DO_NOT_SEND})


def test_testCreateProcessWithBPMN(pm) -> None:
    """ProcessTest::testCreateProcessWithBPMN"""
    array = make(pm, {"process_category_id": DO_NOT_SEND})
    array["bpmn"] = only_start_element().strip()
    response = pm.api.call("POST", URL, array)
    assert response.status_code == 201, response.text
    assert_json_structure(STRUCTURE, response.json())
    stored = pm.api.call("GET", f"{URL}/{response.json()['id']}/bpmn").text
    assert stored.strip() == array["bpmn"]


def test_testCreateProcessFieldsValidation(pm) -> None:
    """ProcessTest::testCreateProcessFieldsValidation"""
    assert_model_creation_fails(pm, {"name": None, "process_category_id": DO_NOT_SEND}, ["name"])
    pm.factory.process(name="Some name")
    assert_model_creation_fails(pm, {"name": "Some name", "process_category_id": DO_NOT_SEND}, ["name"])

    assert_model_creation_fails(pm, {"process_category_id": "id-not-exists"}, ["process_category_id"])


def test_testValidateBpmnWhenCreatingAProcess(pm) -> None:
    """ProcessTest::testValidateBpmnWhenCreatingAProcess"""
    array = make(pm, {"process_category_id": DO_NOT_SEND})
    array["bpmn"] = with_schema_errors().strip()
    assert pm.api.call("POST", URL, array).status_code == 422


def test_testValidateInvalidXmlWhenCreatingAProcess(pm) -> None:
    """ProcessTest::testValidateInvalidXmlWhenCreatingAProcess"""
    array = make(pm, {"process_category_id": DO_NOT_SEND})
    array["bpmn"] = "foo"
    assert pm.api.call("POST", URL, array).status_code == 422


def test_testUpdateProcess(pm) -> None:
    """ProcessTest::testUpdateProcess"""
    assert_model_update(pm, {"name": "Eligendi quo quidem.", "description": "test"})


def test_testUpdateProcessWithCategoryNull(pm) -> None:
    """ProcessTest::testUpdateProcessWithCategoryNull"""
    assert_model_update_fails(pm, {"name": "A new name", "process_category_id": None, "description": "test"}, [])


def test_testUpdateProcessWithCategory(pm) -> None:
    """ProcessTest::testUpdateProcessWithCategory"""
    category = pm.factory.category("process")
    assert_model_update(pm, {"name": "Another name", "process_category_id": category["id"], "description": "test"})


def test_testUpdateProcessFails(pm) -> None:
    """ProcessTest::testUpdateProcessFails"""
    assert_model_update_fails(pm, {"name": "", "description": ""}, ["name", "description"])
    assert_model_update_fails(pm, {"process_category_id": "process_category_id_not_exists"}, ["process_category_id"])
    pm.factory.process(name="Some name")
    assert_model_update_fails(pm, {"name": "Some name"}, ["name"])


def test_testUpdateBPMN(pm) -> None:
    """ProcessTest::testUpdateBPMN"""
    process = pm.factory.process(bpmn=only_start_element())
    new_bpmn = single_task().strip()
    response = pm.api.call("PUT", f"{URL}/{process['id']}",
                           {"name": "test name", "description": "test description", "bpmn": new_bpmn})
    assert response.status_code == 200, response.text
    assert_json_structure(STRUCTURE, response.json())
    assert pm.api.call("GET", f"{URL}/{process['id']}/bpmn").text.strip() == new_bpmn


def test_testUpdateInvalidBPMN(pm) -> None:
    """ProcessTest::testUpdateInvalidBPMN"""
    process = pm.factory.process()
    response = pm.api.call("PUT", f"{URL}/{process['id']}", {"bpmn": "Invalid BPMN content"})
    assert response.status_code == 422, response.text
    assert_json_structure(ERROR_STRUCTURE, response.json())


def test_testArchiveRestore(pm) -> None:
    """ProcessTest::testArchiveRestore"""
    process_id = pm.factory.process(status="ACTIVE")["id"]

    def listed(query: str = "") -> bool:
        return json_fragment(pm.api.call("GET", URL + query).json(), "id", process_id)

    assert listed()
    assert not listed("?status=archived")
    assert pm.api.call("DELETE", f"{URL}/{process_id}").status_code == 204
    assert listed("?status=archived")
    assert not listed()
    assert pm.api.call("PUT", f"{URL}/{process_id}/restore").status_code == 200
    assert listed()
    assert not listed("?status=archived")


def test_testStartPermissionForNode(pm) -> None:
    """ProcessTest::testStartPermissionForNode

    ``$process->usersCanStart($node)`` follows the start event's assignment in the BPMN; over HTTP the
    start events a user may start are the ``events`` a non-administrator gets with ``?include=events``.
    """
    user = pm.factory.user()
    pm.factory.give_permissions(user, "view-processes")
    acting = pm.factory.acting_as(user)
    process = pm.factory.process(status="ACTIVE", bpmn=single_task())
    url = f"{URL}/{process['id']}"

    assigned = single_task(f' pm:assignment="user" pm:assignedUsers="{user["id"]}"')
    ok(pm.api.call("PUT", url, {"description": "d", "bpmn": assigned}), 200)
    events = acting.call("GET", url + "?include=events").json()["events"]
    assert [event["id"] for event in events] == ["StartEventUID"]

    ok(pm.api.call("PUT", url, {"description": "d", "bpmn": single_task()}), 200)
    assert acting.call("GET", url + "?include=events").json()["events"] == []


def test_testStartProcessesWithPermission(pm) -> None:
    """ProcessTest::testStartProcessesWithPermission"""
    user = pm.factory.user()
    pm.factory.give_permissions(user, "view-processes")
    pm.factory.process(status="ACTIVE", bpmn=single_task(f' pm:assignment="user" pm:assignedUsers="{user["id"]}"'))
    pm.factory.process(status="ACTIVE")
    response = pm.factory.acting_as(user).call("GET", URL + "?include=events")
    assert response.status_code == 200
    events = [event for process in response.json()["data"] for event in process["events"]]
    assert len(events) == 1


def test_testHasPauseTimerStartEvents(pm) -> None:
    """ProcessTest::testHasPauseTimerStartEvents (``has_timer_start_events`` as the resource shows it)"""
    process = pm.factory.process(status="ACTIVE", bpmn=start_timer())
    assert pm.api.call("GET", f"{URL}/{process['id']}").json()["has_timer_start_events"] is True
    process = pm.factory.process(status="ACTIVE", bpmn=single_task())
    assert pm.api.call("GET", f"{URL}/{process['id']}").json()["has_timer_start_events"] is False


def test_testCreateProcessWithMultipleBPMNDiagrams(pm) -> None:
    """ProcessTest::testCreateProcessWithMultipleBPMNDiagrams"""
    array = make(pm, {"process_category_id": DO_NOT_SEND})
    array["bpmn"] = two_diagrams()
    response = pm.api.call("POST", URL, array)
    assert response.status_code == 422
    error = response.json()
    assert "errors" in error
    assert "Multiple diagrams are not supported" in error["errors"]["bpmn"]


def test_testUpdateScriptCategories(pm) -> None:
    """ProcessTest::testUpdateScriptCategories"""
    process = pm.factory.process()
    categories = f"{pm.factory.category('process')['id']},{pm.factory.category('process')['id']}"
    response = pm.api.call("PUT", f"{URL}/{process['id']}",
                           {"name": "name process", "description": "Description.", "process_category_id": categories})
    assert response.status_code == 200


def test_testProcessManager(pm) -> None:
    """ProcessTest::testProcessManager (``$process->manager`` read back through the API)"""
    process = pm.factory.process()
    manager = pm.factory.user()
    url = f"{URL}/{process['id']}"
    response = pm.api.call("PUT", url, {"name": "Process with manager", "description": "Description.",
                                        "manager_id": manager["id"]})
    assert response.status_code == 200
    response = pm.api.call("GET", url)
    assert response.status_code == 200
    assert response.json()["manager_id"] == manager["id"]
    process_json = pm.api.call("GET", URL + "?filter=Process+with+manager").json()["data"][0]
    assert process_json["manager_id"] == manager["id"]


def test_testUpdateCancelRequest(pm) -> None:
    """ProcessTest::testUpdateCancelRequest (``$process->properties`` read back through the API)"""
    process = pm.factory.process()
    url = f"{URL}/{process['id']}"
    payload: dict[str, Any] = {"name": "Process", "description": "Description.",
                               "cancel_request": {"users": [], "groups": []}}
    pm.api.call("PUT", url, payload)
    assert pm.api.call("GET", url).json()["properties"] is None

    payload["cancel_request"]["pseudousers"] = ["manager"]
    pm.api.call("PUT", url, payload)
    assert pm.api.call("GET", url).json()["properties"]["manager_can_cancel_request"] is True

    payload["cancel_request"]["pseudousers"] = []
    pm.api.call("PUT", url, payload)
    assert pm.api.call("GET", url).json()["properties"]["manager_can_cancel_request"] is False
