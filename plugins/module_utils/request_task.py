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
    if params["state"] == "started" and params["request_id"]:
        module.fail_json(msg="state=started starts a new request; to follow request_id use state=completed or wait_for")
    wait_for = params["wait_for"] or {}
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
            if params["state"] == "canceled":
                result["changed"] = pr.read(client, request_id).get("status") != "CANCELED"
                if result["changed"] and not module.check_mode:
                    pr.cancel(client, request_id)
            elif waits and not module.check_mode:
                watch.until(request_id, until)
        else:
            process = pr.find_process(client, params["process"])
            result["event"] = event = pr.start_event(client, process, params["event"])
            result["changed"] = True
            if module.check_mode:
                result["process_id"] = process.get("id")
                module.exit_json(**result)
            request_id = pr.start(client, process["id"], event, params["data"])["id"]
            if waits:
                watch.until(request_id, until)
        result.update(pr.request_result(pr.read(client, request_id), pr.active_tasks(client, request_id)))
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
    user = task.get("user")
    if isinstance(user, Mapping) and user.get("username"):
        return f"{user['username']} (user {task.get('user_id')})"
    return f"user {task.get('user_id')}" if task.get("user_id") is not None else "nobody yet (a self-service task)"


def find_task(client: Any, request_id: Any, element: str) -> tuple:
    """(the open task of that element, or None; whether one of that element was completed already)."""
    tasks = client.paginate("tasks", query={"process_request_id": request_id, "include": "user"}).items
    named = [task for task in tasks if isinstance(task, Mapping) and element in (task.get("element_id"),
                                                                                  task.get("element_name"))]
    open_ones = [task for task in named if task.get("status") == "ACTIVE"]
    if not named:
        opened = [task.get("element_name") or task.get("element_id") for task in tasks
                  if isinstance(task, Mapping) and task.get("status") == "ACTIVE"]
        raise ProcessMakerError(f"request {request_id} has no task {element!r} (its open tasks: "
                                f"{', '.join(map(repr, opened)) or 'none'})", code="not_found",
                                hint="Give the task's BPMN element id or name")
    return (dict(open_ones[0]) if open_ones else None), dict(named[-1])


def run_task(module: Any) -> None:
    params = module.params
    client = module.client()
    result: dict = {"changed": False}
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
                try:
                    done = client.put(f"tasks/{open_task['id']}",
                                      json={"status": "COMPLETED", "data": params["data"] or {}}).json
                except ProcessMakerError as error:
                    if error.status == 403:
                        error.hint = (f"Only the task's assignee, {_assignee(open_task)}, or an administrator may"
                                      " complete it: connect as that user")
                    raise
                result["task"] = _task_view(done if isinstance(done, Mapping) else open_task)
                request = pr.read(client, open_task.get("process_request_id"))
                result["request_status"] = request.get("status")
    except ProcessMakerError as error:
        module.fail_from_error(error, **result)
    finally:
        client.close()
    module.exit_json(**result)
