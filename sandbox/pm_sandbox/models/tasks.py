"""Tasks (TaskController, the Task resource, ProcessRequestTokenPolicy): the human-task tokens of requests.

``GET /tasks`` lists tokens whose ``element_type`` is ``task`` (user and manual tasks), with the filters of
TaskControllerIndexMethods; ``PUT /tasks/{id}`` with ``status: COMPLETED`` merges ``data`` into the
request data and moves the request on. Only the assignee (or an administrator) may see or complete a task.

Deviations (see the README): no self-service tasks, reassignment (``user_id``) answers 422; ``pmql`` is not
evaluated (400); the list items carry ``process_request``, ``process``, ``user`` and ``draft`` the way
the eager loads put them there, as the sandbox serializes those models.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Aborted, Forbidden, ServerError, ValidationError
from ..php import is_numeric
from ..store import Store, db_timestamp
from . import base, permissions, process_requests, processes, users
from .base import Query, Row, Table
from .engine import Engine

TOKENS = Table("process_request_tokens")
COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "user_id": "int", "process_id": "int", "process_request_id": "int",
    "element_id": "text", "element_type": "text", "element_index": "int", "element_name": "text", "status": "text",
    "completed_at": "date", "due_at": "date", "initiated_at": "date", "riskchanges_at": "date", "created_at": "date",
    "updated_at": "date", "subprocess_request_id": "int", "subprocess_start_event_id": "text",
    "self_service_groups": "json", "token_properties": "json", "is_self_service": "int", "due_notified": "int",
    "is_priority": "bool", "is_actionbyemail": "bool", "is_emailsent": "bool",
}
TASK_ALREADY_CLOSED = "Task already closed"
REASSIGN_UNSUPPORTED = "pm_sandbox does not support task reassignment"
PMQL_INVALID = "PMQL Is Invalid."
FILTER_FIELDS = {"process_id": "t.process_id", "user_id": "t.user_id", "status": "t.status",
                 "element_id": "t.element_id", "element_name": "t.element_name",
                 "process_request_id": "t.process_request_id"}
INCLUDES = ("data", "user", "requestor", "processRequest", "definition", "bpmnTagName", "process")


def advance_status(row: Row) -> str:
    """ProcessRequestToken::getAdvanceStatusAttribute (a missing due date counts as due now)."""
    status = row["status"]
    if status == "CLOSED":
        return "completed"
    if status == "TRIGGERED":
        return "triggered"
    if status == "ACTIVE":
        due = row.get("due_at")
        overdue = due is None or due <= db_timestamp()
        return "overdue" if overdue else "open"
    return "open"


def attributes(row: Row) -> Row:
    """``ProcessRequestToken::toArray()`` without relations: the columns (data hidden), ``advanceStatus``."""
    result = base.serialize_columns(row, COLUMNS)
    result["advanceStatus"] = advance_status(row)
    return result


def _definition_properties(store: Store, row: Row) -> tuple[Row, str | None]:
    request = process_requests.REQUESTS.find(store, row["process_request_id"])
    if request is None:
        return {}, None
    element = process_requests.definition_of(store, request).element(row["element_id"])
    if element is None:
        return {}, None
    return dict(element.attributes), element.tag


def serialize(store: Store, row: Row, include: list[str], *, listed: bool = False) -> Row:
    """The Task resource (``listed``: with the relations ``GET /tasks`` eager-loads)."""
    result = attributes(row)
    request = process_requests.REQUESTS.find(store, row["process_request_id"])
    process = processes.MODEL.table.find(store, row["process_id"])
    if listed:
        process_request = None
        if request is not None:
            process_request = process_requests.attributes(request)
            process_request["process"] = processes.serialize(store, process) if process else None
        result["process_request"] = process_request
        result["process"] = processes.serialize(store, process) if process else None
        result["user"] = _user(store, row["user_id"])
        result["draft"] = None
    for name in INCLUDES:
        if name not in include:
            continue
        if name == "data":
            data = process_requests.data_of(request) if request else None
            result["data"] = data if data is not None else {}
        elif name == "user":
            result["user"] = _user(store, row["user_id"])
        elif name == "requestor":
            result["requestor"] = _user(store, request["user_id"]) if request else None
        elif name == "processRequest":
            result["process_request"] = process_requests.serialize(store, request) if request else None
        elif name == "definition":
            result["definition"] = _definition_properties(store, row)[0]
        elif name == "bpmnTagName":
            result["bpmn_tag_name"] = _definition_properties(store, row)[1]
        elif name == "process":
            result["process"] = processes.serialize(store, process) if process else None
    result["can_view_parent_request"] = False  # the sandbox starts no sub-processes
    return result


def _user(store: Store, user_id: int | None) -> Row | None:
    user = users.ANY.find(store, user_id) if user_id is not None else None
    return users.serialize(user) if user else None


# ---- the policy ---------------------------------------------------------------------------------------


def can_view(user: Row, task: Row) -> bool:
    """ProcessRequestTokenPolicy::view (and ::update): the assignee; administrators pass everything."""
    return permissions.is_admin(user) or task["user_id"] == user["id"]


def require_assignee(user: Row, task: Row) -> None:
    if not can_view(user, task):
        raise Forbidden()


# ---- completing -----------------------------------------------------------------------------------------


def update(store: Store, task: Row, user: Row, body: dict[str, Any], raw: Any) -> Row:
    """TaskController::update: ``status: COMPLETED`` with ``data`` (read from the raw JSON, not the sanitized
    input), else a reassignment (not supported), else an empty 422."""
    require_assignee(user, task)
    if body.get("status") == "COMPLETED":
        complete(store, task, raw.get("data") if isinstance(raw, dict) and "data" in raw else _MISSING)
        return TOKENS.get(store, task["id"])
    if body.get("user_id") not in (None, "", 0, "0", False, [], {}):
        raise ValidationError({"user_id": [REASSIGN_UNSUPPORTED]}, REASSIGN_UNSUPPORTED)
    raise Aborted(422)


_MISSING = object()


def complete(store: Store, task: Row, data: Any) -> None:
    with store.transaction():
        fresh = TOKENS.get(store, task["id"])
        if fresh["status"] == "CLOSED":
            raise Aborted(422, TASK_ALREADY_CLOSED)
        if data is _MISSING or fresh["element_type"] != "task" or fresh["status"] != "ACTIVE":
            raise ServerError()  # $data['data'] undefined, or not an activity to complete
        if data in (None, []):
            data = {}
        if not isinstance(data, dict):
            raise ServerError()  # WorkflowManager::completeTask(array $data)
        data = process_requests.sanitize_task_data(data)
        request = process_requests.REQUESTS.get(store, fresh["process_request_id"])
        instance = process_requests.load(store, request)
        env = process_requests.environment(store, request)
        token = next(t for t in instance.tokens if t.key == fresh["id"])
        Engine(process_requests.definition_of(store, request), instance, env).complete(token, data)
        process_requests.store_instance(store, request, instance, env.now())


# ---- listing ---------------------------------------------------------------------------------------------


def query(store: Store, user: Row, args: dict[str, str]) -> Query:
    """TaskController::index's query (before ordering)."""
    listing = Query(
        "process_request_tokens t LEFT JOIN process_requests r ON r.id = t.process_request_id"
        " LEFT JOIN users u ON u.id = t.user_id", ["t.element_type = 'task'"], columns="t.*", tie_breaker="t.id")
    text = args.get("filter") or ""
    if text:
        like = f"%{text}%"
        listing.also("t.element_name LIKE ? OR t.status LIKE ? OR r.name LIKE ? OR u.firstname LIKE ?"
                     " OR u.lastname LIKE ?", *[like] * 5)
    for name, column in FILTER_FIELDS.items():
        if name not in args:
            continue
        value = args[name]
        if name == "process_request_id" and args.get("include_sub_tasks"):
            listing.also(f"{column} = ? OR t.process_request_id IN (SELECT id FROM process_requests WHERE "
                         "parent_request_id = ?)", value, value)
        elif is_numeric(value):
            listing.also(f"{column} = ?", value)
        else:
            listing.also(f"{column} LIKE ?", value)
    if (args.get("non_system") or "").lower() in ("1", "true", "on", "yes"):
        process_requests.non_system(listing, "t.process_id")
    status_filter = args.get("statusfilter") or ""
    if status_filter:
        statuses = [part.strip().upper() for part in status_filter.split(",")]
        listing.also(f"t.status IN ({','.join('?' * len(statuses))})", *statuses)
    if not (permissions.is_admin(user) or permissions.holds_any(store, user, "view-all_requests")):
        listing.also("t.user_id = ?", user["id"])
    if (args.get("overdue") or "").lower() in ("1", "true", "on", "yes"):
        listing.also("t.due_at < ? AND t.status = 'ACTIVE'", db_timestamp())
    return listing


def order(requested: str | None, direction: str | None) -> str:
    """TaskControllerIndexMethods::applyColumnOrdering (an unknown column is the controller's 422)."""
    chosen = (direction or "asc").lower()
    if chosen not in ("asc", "desc"):
        raise ServerError()
    reverse = "DESC" if chosen == "asc" else "ASC"
    clauses = []
    for column in (requested or "updated_at").split(","):
        parts = column.split(".")
        table = parts[0] if len(parts) > 1 else "process_request_tokens"
        name = parts[-1]
        if table == "data":
            path = ".".join(parts[1:])
            if not re.fullmatch(r"[\w.]+", path):
                raise Aborted(422, PMQL_INVALID)
            value = f"json_extract(r.data, '$.{path}')"
            clauses += [f"({value} IS NULL) {reverse}", f"{value} {chosen.upper()}"]
        elif column == "user.name":
            clauses += [f"(t.user_id IS NULL) {chosen.upper()}", f"u.firstname {chosen.upper()}",
                        f"u.lastname {chosen.upper()}"]
        elif column == "status":
            clauses.append(f"CASE t.status WHEN 'ACTIVE' THEN 'In Progress' ELSE t.status END {chosen.upper()}")
        elif "." not in column:
            if column not in COLUMNS:
                raise Aborted(422, PMQL_INVALID)
            clauses.append(f't."{column}" {chosen.upper()}')
        elif table in ("process_requests", "process_request", "processRequests"):
            if name == "id":
                clauses.append(f"t.process_request_id {chosen.upper()}")
            elif name in process_requests.COLUMNS:
                clauses.append(f'r."{name}" {chosen.upper()}')
            else:
                raise Aborted(422, PMQL_INVALID)
    return ", ".join(clauses) or f"t.updated_at {chosen.upper()}"


def in_overdue(rows: list[Row]) -> int:
    """How many tasks of the page are past their due date."""
    now = db_timestamp()
    return sum(1 for row in rows if row.get("due_at") and row["due_at"] < now)
