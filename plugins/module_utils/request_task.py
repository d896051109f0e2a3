# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``pm_request`` and ``pm_task`` do with their arguments (the modules are their docs and specs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils import (
    process_requests as pr,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)

LIMITS = {"wait_timeout": (1.0, 86400.0), "poll_interval": (0.1, 3600.0)}


def _checked(module: Any) -> None:
    params = module.params
    for name, (low, high) in LIMITS.items():
        value = params[name]
        if not low <= value <= high:  # NaN fails this too
            module.fail_json(msg=f"{name} must be from {low:g} to {high:g} seconds, not {value!r}")
    if params["state"] == "canceled" and not params["request_id"]:
        module.fail_json(msg="state=canceled needs request_id (the request to cancel)")
    if params["state"] == "started" and params["request_id"] and params["wait_for"] is None:
        module.fail_json(msg="state=started starts a new request; to follow request_id use state=completed or wait_for")
    wait_for = params["wait_for"] or {}
    if params["state"] == "canceled" and params["wait_for"] is not None:
        module.fail_json(msg="state=canceled cancels at once; leave wait_for out (or wait first, in a task of its own)")
    if params["wait_for"] is not None and not (wait_for.get("status") or wait_for.get("task")):
        module.fail_json(msg="wait_for needs status or task (what to wait for)")


def run_request(module: Any) -> None:
    _checked(module)
    params = module.params
    wait_for = params["wait_for"] or {}
    until = pr.Until(status=wait_for.get("status"), task=wait_for.get("task"))
    if params["state"] == "completed" and not (until.status or until.task):
        until = pr.Until(status="COMPLETED")
    waits = bool(until.status or until.task)
    client = module.client()
    watch = pr.Watch(client, timeout=params["wait_timeout"], poll_interval=params["poll_interval"])
    result: dict = {"changed": False, "polls": 0}
    try:
        if params["request_id"]:
            request_id = params["request_id"]
            if waits and not module.check_mode:  # the wait's first poll is its first read
                request = watch.until(request_id, until)
            else:
                request = pr.read(client, request_id)
            if params["state"] == "canceled":
                result["changed"] = request.get("status") != "CANCELED"
                if result["changed"] and not module.check_mode:
                    pr.cancel(client, request_id)
                    request = pr.read(client, request_id)
        else:
            process = pr.find_process(client, params["process"])
            result["event"] = event = pr.start_event(client, process, params["event"])
            result["changed"] = True
            if module.check_mode:
                result["process_id"] = process.get("id")
                module.exit_json(**result)
            request = pr.start(client, process["id"], event, params["data"])
            request = watch.until(request["id"], until) if waits else pr.read(client, request["id"])
        result.update(pr.request_result(request))
    except ProcessMakerError as error:
        result["polls"] = watch.polls
        module.fail_from_error(error, **result)
    finally:
        client.close()
    result["polls"] = watch.polls
    module.exit_json(**result)


TASK_FIELDS = ("id", "element_id", "element_name", "element_type", "status", "user_id", "process_request_id",
               "due_at", "completed_at")


def _task_view(task: Mapping) -> dict:
    return {key: task.get(key) for key in TASK_FIELDS if key in task}


def _assignee(task: Mapping) -> str:
    name = pr.assignee(task)
    if name:
        return f"{name} (user {task.get('user_id')})"
    return f"user {task.get('user_id')}" if task.get("user_id") is not None else "nobody yet (a self-service task)"


def _refused(error: ProcessMakerError, module: Any, task: Mapping | None) -> None:
    """The hint of ProcessMaker's 403 on a task: who may complete it, and who the connection is."""
    me = module.params.get("username")
    who = f"the connection's user {me!r}" if me else "the connection's user"
    if task is not None:
        error.hint = (f"Only the task's assignee, {_assignee(task)}, or an administrator may complete it, not {who}:"
                      " connect as that user")
    else:
        error.hint = (f"Only a task's assignee or an administrator may see or complete it, and ProcessMaker shows"
                      f" the assignee to nobody else ({who} is neither): connect as the assignee (for a task"
                      " assigned to a group, one of its members)")


def find_task(client: Any, request_id: Any, element: str) -> tuple:
    """(the open task of that element, or None; the last task of that element, open or completed).

    ProcessMaker lists a non-administrator only the tasks assigned to them: when the element is not
    listed, reading the request tells "not yours" (its 403) from "no such task"."""
    tasks = client.paginate("tasks", query={"process_request_id": request_id, "include": "user"}).items
    named = [task for task in tasks
             if isinstance(task, Mapping) and element in (task.get("element_id"), task.get("element_name"))]
    open_ones = [task for task in named if task.get("status") == "ACTIVE"]
    if not named:
        pr.read(client, request_id)  # ProcessMaker's 403 when the request is not the connection's to see
        opened = [task.get("element_name") or task.get("element_id") for task in tasks
                  if isinstance(task, Mapping) and task.get("status") == "ACTIVE"]
        raise ProcessMakerError(f"request {request_id} has no task {element!r} that the connection's user may see"
                                f" (its open tasks: {', '.join(map(repr, opened)) or 'none'})", code="not_found",
                                hint="Give the task's BPMN element id or name; a user who is not an administrator"
                                     " sees only the tasks assigned to them")
    return (dict(open_ones[0]) if open_ones else None), dict(named[-1])


def run_task(module: Any) -> None:
    params = module.params
    client = module.client()
    result: dict = {"changed": False}
    open_task = None
    try:
        if params["task_id"]:
            task = client.get(f"tasks/{params['task_id']}", query={"include": "user"}).json
            open_task = task if task.get("status") == "ACTIVE" else None
        else:
            open_task, task = find_task(client, params["request_id"], params["task"])
        result["task"] = _task_view(open_task or task)
        if open_task is not None:
            result["changed"] = True
            if not module.check_mode:
                done = client.put(f"tasks/{open_task['id']}",
                                  json={"status": "COMPLETED", "data": params["data"] or {}}).json
                result["task"] = _task_view(done if isinstance(done, Mapping) else open_task)
                request = pr.read(client, open_task.get("process_request_id"))
                result["request_status"] = request.get("status")
    except ProcessMakerError as error:
        if error.status == 403:
            _refused(error, module, open_task)
        module.fail_from_error(error, **result)
    finally:
        client.close()
    module.exit_json(**result)
