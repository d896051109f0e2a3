"""Shared helpers of the request and task tests (no tests here): BPMN builders and request plumbing."""

from __future__ import annotations

from typing import Any

import requests
from pm_sandbox.testing import SandboxProcess

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" id="Definitions_1" '
    'targetNamespace="http://bpmn.io/schema/bpmn" exporter="ProcessMaker Modeler" exporterVersion="1.0">\n'
    '  <bpmn:process id="ProcessId" name="ProcessName" isExecutable="true">\n'
)
TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"


def bpmn(nodes: str, *flows: tuple[Any, ...], start: str = "node_1", start_attributes: str = "") -> str:
    """A definition: a none start event ``start``, ``nodes`` (XML) and flows ``(id, source, target[, condition])``."""
    text = HEAD + f'    <bpmn:startEvent id="{start}" name="Start Event" {start_attributes}/>\n' + nodes
    for flow in flows:
        flow_id, source, target = flow[:3]
        condition = f"<bpmn:conditionExpression>{flow[3]}</bpmn:conditionExpression>" if len(flow) > 3 else ""
        text += f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{condition}' \
                "</bpmn:sequenceFlow>\n"
    return text + TAIL


def single_task(task_attributes: str = "", start: str = "node_1", start_attributes: str = "") -> str:
    """Start -> one task (``node_2``, "Task 1") -> end: the shape of ProcessMaker's SingleTask template."""
    return bpmn(
        f'    <bpmn:task id="node_2" name="Task 1" {task_attributes}/>\n    <bpmn:endEvent id="node_3" name="End"/>\n',
        ("node_4", start, "node_2"), ("node_5", "node_2", "node_3"), start=start, start_attributes=start_attributes,
    )


def approval(group_id: int) -> str:
    """The approval scenario: a group's task, then an exclusive gateway on ``approved == true``."""
    return bpmn(
        f'    <bpmn:task id="node_2" name="Approve" pm:assignment="group" pm:assignedGroups="{group_id}"/>\n'
        '    <bpmn:exclusiveGateway id="node_3" name="Approved?" default="node_8"/>\n'
        '    <bpmn:endEvent id="node_4" name="Approved"/>\n'
        '    <bpmn:endEvent id="node_5" name="Rejected"/>\n',
        ("node_6", "node_1", "node_2"), ("node_7", "node_2", "node_3"),
        ("node_9", "node_3", "node_4", "approved == true"), ("node_8", "node_3", "node_5"),
    )


ONLY_START = bpmn("")
END_ONLY = bpmn('    <bpmn:endEvent id="node_2" name="End"/>\n', ("node_3", "node_1", "node_2"))
BROKEN = bpmn(
    '    <bpmn:intermediateCatchEvent id="node_2" name="Wait"><bpmn:timerEventDefinition/>'
    "</bpmn:intermediateCatchEvent>\n", ("node_3", "node_1", "node_2"),
)


def create_process(sandbox: SandboxProcess, name: str, definition: str, token: str | None = None,
                   **fields: Any) -> dict[str, Any]:
    response = sandbox.api("POST", "/processes", token=token,
                           json={"name": name, "description": f"{name} process", "bpmn": definition, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def start_request(sandbox: SandboxProcess, process_id: int, data: dict[str, Any] | None = None,
                  token: str | None = None, event: str = "node_1") -> requests.Response:
    return sandbox.api("POST", f"/process_events/{process_id}?event={event}", token=token, json=data or {})


def started(sandbox: SandboxProcess, process_id: int, data: dict[str, Any] | None = None, token: str | None = None,
            event: str = "node_1") -> dict[str, Any]:
    response = start_request(sandbox, process_id, data, token, event)
    assert response.status_code == 201, response.text
    return response.json()


def active_task(sandbox: SandboxProcess, request_id: int) -> dict[str, Any]:
    response = sandbox.api("GET", f"/tasks?process_request_id={request_id}&status=ACTIVE")
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["total"] == 1, response.json()
    return response.json()["data"][0]


def complete_task(sandbox: SandboxProcess, task_id: int, data: dict[str, Any], token: str | None = None
                  ) -> requests.Response:
    return sandbox.api("PUT", f"/tasks/{task_id}", token=token, json={"status": "COMPLETED", "data": data})


def request_of(sandbox: SandboxProcess, request_id: int, include: str = "data") -> dict[str, Any]:
    response = sandbox.api("GET", f"/requests/{request_id}?include={include}")
    assert response.status_code == 200, response.text
    return response.json()
