# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Requests and tasks through ProcessMaker's API: start a process, follow a request, complete a task.

    process = find_process(client, "Change approval")            # by id or by name
    event = start_event(client, process, None)                    # the only none start event
    request = start(client, process["id"], event, {"change": "CHG-1"})
    request = Watch(client, timeout=300, poll_interval=2).until(request["id"], Until(status="COMPLETED"))

ProcessMaker starts a request with ``POST /process_events/{process}?event={start event}`` (the body is
the request's data, 201 with the request), reads one with ``GET /requests/{id}?include=data,assigned``
(its data, and its tokens but script tasks, each with its user: the open tasks and the end events
reached, all in one GET: a wait makes exactly one GET per poll), and cancels one with
``PUT /requests/{id}`` ``{status: CANCELED}``; a task is completed with
``PUT /tasks/{id}`` ``{status: COMPLETED, data}`` by its assignee (or an administrator), which merges the
data into the request's and moves the request on.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DONE_STATUSES = frozenset(("COMPLETED", "CANCELED", "ERROR"))
REQUEST_STATUSES = ("ACTIVE", "COMPLETED", "CANCELED", "ERROR")


def find_process(client: Any, process: Any) -> dict:
    """The process of an id, or of an exact name (one-line error when none or several match)."""
    text = str(process).strip()
    if text.isdigit():
        return client.get(f"processes/{text}").json
    listed = client.paginate("processes", query={"filter": text}).items
    named = [item for item in listed if isinstance(item, Mapping) and item.get("name") == text]
    if len(named) != 1:
        found = "no process" if not named else f"{len(named)} processes (ids {', '.join(str(p.get('id')) for p in named)})"
        raise ProcessMakerError(f"process: {found} named {text!r} on {client.options.base_url}", code="not_found",
                                hint="Give the process id, or its exact name")
    return dict(named[0])


def none_start_events(bpmn: str) -> list:
    """[(id, name)] of the start events that need no trigger (no event definition): the ones a request
    can be started at through the API."""
    try:
        root = ET.fromstring(bpmn)
    except ET.ParseError as error:
        raise ProcessMakerError(f"the process's BPMN cannot be read ({error})", code="bad_bpmn") from None
    events = []
    for element in root.iter(BPMN + "startEvent"):
        if not any(child.tag.endswith("EventDefinition") for child in element):
            events.append((element.get("id"), element.get("name")))
    return events


def start_event(client: Any, process: Mapping, event: str | None) -> str:
    """The start event to trigger: the one given, else the process's only none start event."""
    if event:
        return event
    bpmn = client.get(f"processes/{process['id']}/bpmn").text
    events = none_start_events(bpmn)
    if len(events) == 1:
        return events[0][0]
    listed = ", ".join(f"{event_id} ({name})" if name else str(event_id) for event_id, name in events)
    raise ProcessMakerError(
        f"process {process.get('name')!r} has {len(events)} start events a request can start at"
        + (f" ({listed}); set event to one of them" if events else "; it cannot be started through the API"),
        code="ambiguous_event")


def start(client: Any, process_id: Any, event: str, data: Mapping | None) -> dict:
    """A new request (201, ProcessMaker's ProcessRequest resource)."""
    return client.post(f"process_events/{process_id}", query={"event": event}, json=dict(data or {}),
                       expected_status=(200, 201)).json


def read(client: Any, request_id: Any) -> dict:
    """The request with its data and its tokens (ProcessRequest's ``assigned`` relation): one GET."""
    return client.get(f"requests/{request_id}", query={"include": "data,assigned"}).json


def _tokens(request: Mapping, element_type: str) -> list:
    return [token for token in request.get("assigned") or []
            if isinstance(token, Mapping) and token.get("element_type") == element_type]


def open_tasks(request: Mapping) -> list:
    """The request's open tasks (user and manual tasks), as the modules return them."""
    return [{**{key: task.get(key) for key in TASK_KEYS}, "assignee": assignee(task)}
            for task in _tokens(request, "task") if task.get("status") == "ACTIVE"]


def end_events(request: Mapping) -> list:
    """The end events the request reached (``element_id``, ``element_name``)."""
    return [{"element_id": token.get("element_id"), "element_name": token.get("element_name")}
            for token in _tokens(request, "end_event")]


TASK_KEYS = ("id", "element_id", "element_name", "element_type", "status", "user_id", "due_at")


def assignee(task: Mapping) -> str | None:
    """The username of a task's assignee (its ``user``), None when unassigned or not included."""
    user = task.get("user")
    return str(user["username"]) if isinstance(user, Mapping) and user.get("username") else None


def cancel(client: Any, request_id: Any) -> None:
    client.put(f"requests/{request_id}", json={"status": "CANCELED"}, expected_status=(200, 204))


@dataclass(frozen=True)
class Until:
    """What a wait waits for: a request status, or an open task (by element id or name)."""

    status: str | None = None
    task: str | None = None

    def has_task(self, tasks: list) -> bool:
        return self.task is not None and any(self.task in (t.get("element_id"), t.get("element_name")) for t in tasks)

    def has_status(self, request: Mapping) -> bool:
        return self.status is not None and request.get("status") == self.status

    def describe(self) -> str:
        wanted = []
        if self.status:
            wanted.append(f"status {self.status}")
        if self.task:
            wanted.append(f"an open task {self.task!r}")
        return " or ".join(wanted)


@dataclass
class Watch:
    """A bounded wait: exactly one GET per poll (the request with its tokens), at most one poll per
    ``poll_interval``, none past ``timeout``."""

    client: Any
    timeout: float
    poll_interval: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    polls: int = field(default=0)

    def until(self, request_id: Any, until: Until) -> dict:
        """The request once ``until`` holds; ProcessMakerError when it ended otherwise or time ran out."""
        deadline = self.clock() + self.timeout
        while True:
            started = self.clock()
            self.polls += 1
            request = read(self.client, request_id)
            if until.has_status(request) or until.has_task(open_tasks(request)):
                return request
            if request.get("status") in DONE_STATUSES:  # it will not change any more
                raise ProcessMakerError(self._stuck(request_id, request, until, "it ended"), code="request_ended")
            wait = max(0.0, self.poll_interval - (self.clock() - started))
            if self.clock() + wait > deadline:
                raise ProcessMakerError(
                    self._stuck(request_id, request, until, f"wait_timeout={self.timeout:g}s reached"),
                    code="timed_out", hint="Raise wait_timeout, or complete the open tasks")
            self.sleep(wait)

    @staticmethod
    def _stuck(request_id: Any, request: Mapping, until: Until, why: str) -> str:
        tasks = ", ".join(f"{t.get('element_name') or t.get('element_id')!r} (assigned to {t['assignee'] or 'nobody'})"
                          for t in open_tasks(request)) or "none"
        return (f"request {request_id} did not reach {until.describe()} ({why}): it is {request.get('status')}"
                f"{request_error(request)}, open tasks: {tasks}")


def request_error(request: Mapping) -> str:
    """`` (<the last error ProcessMaker logged on the request>)``, or nothing."""
    errors = request.get("errors")
    last = errors[-1] if isinstance(errors, list) and errors else None
    message = last.get("message") if isinstance(last, Mapping) else None
    return f" ({' '.join(str(message).split())})" if message else ""


def request_result(request: Mapping) -> dict:
    """What pm_request returns about a request (read with ``read``)."""
    return {"request_id": request.get("id"), "status": request.get("status"), "data": request.get("data") or {},
            "tasks": open_tasks(request), "end_events": end_events(request), "process_id": request.get("process_id")}
