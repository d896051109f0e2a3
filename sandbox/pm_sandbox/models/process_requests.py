"""Requests (ProcessRequestController, ProcessController::triggerStartEvent, the ProcessRequest model and
its policy): start one, list, show, cancel, edit data, complete from ERROR, delete, the map's token info.

A request's state lives in ``process_requests`` and ``process_request_tokens``; ``load`` turns the rows
into an ``engine.Instance``, the engine moves it, ``store_instance`` writes back what changed, all in one
write transaction, so two users completing the same task serialize and the second sees it closed.

Deviations (see the README): ``type=all`` keeps the user filter for users who are not administrators
(ProcessMaker clears every where clause, which for them fails); ``pmql`` is not evaluated (400); the
resource's ``include`` knows ``data``, ``user``, ``participants``, ``process`` and ``assigned``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from ..errors import Forbidden, NotFound, ServerError, ValidationError
from ..php import strip_tags
from ..security import new_uuid
from ..store import Store, db_timestamp, utcnow
from ..validation import Unique, validate
from . import base, permissions, process_versions, processes, users
from .base import Query, Row, Table
from .definition import Definition
from .definition import parse as parse_definition
from .engine import Engine, Instance, Token, timestamp

REQUESTS = Table("process_requests")
TOKENS = Table("process_request_tokens")

# The ProcessRequest resource: attributes in column order (data is hidden).
COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "process_id": "int", "process_collaboration_id": "int", "user_id": "int",
    "participant_id": "text", "callable_id": "text", "status": "text", "name": "text", "completed_at": "date",
    "initiated_at": "date", "created_at": "date", "updated_at": "date", "process_version_id": "int",
    "signal_events": "json", "errors": "json", "do_not_sanitize": "json", "parent_request_id": "int",
    "case_number": "int", "case_title": "text", "case_title_formatted": "text", "user_viewed_at": "date",
}
SORTABLE = {name: f"r.{sql}" for name, sql in base.sortable(COLUMNS).items()}
STATUSES = ("ACTIVE", "COMPLETED", "ERROR", "CANCELED")
NOT_AUTHORIZED_CANCEL = "Not authorized to cancel this request."
NOT_AUTHORIZED_COMPLETE = "Not authorized to complete this request."
NOT_AUTHORIZED_EDIT = "Not authorized to edit request data."
ONLY_ERROR = "Only requests with status: ERROR can be manually completed"
PMQL_UNSUPPORTED = "pm_sandbox does not evaluate PMQL; filter with type, filter and the list parameters"
NOT_NONE_START = "pm_sandbox starts requests from none start events only; {event} has a {definition}"
FILL_COLUMNS = ("process_id", "process_collaboration_id", "user_id", "participant_id", "callable_id", "status",
                "data", "name", "completed_at", "initiated_at", "process_version_id", "signal_events", "errors",
                "do_not_sanitize", "parent_request_id", "case_number", "case_title", "case_title_formatted",
                "user_viewed_at")
JSON_FILL = {"data", "signal_events", "errors", "do_not_sanitize"}


# ---- serializing -------------------------------------------------------------------------------------


def data_of(row: Row) -> Any:
    return base.json_or_none(row["data"])


def attributes(row: Row) -> Row:
    """``ProcessRequest::attributesToArray()``: the columns, casts applied, ``data`` hidden."""
    return base.serialize_columns(row, COLUMNS)


def serialize(store: Store, row: Row, include: list[str] | None = None, *, listed: bool = False) -> Row:
    """The ProcessRequests resource (``listed``: as ``GET /requests`` shows it)."""
    include = include or []
    result = attributes(row)
    if listed:
        result["process_version_alternative"] = "A"
    for name in include:  # the relations ProcessRequest::$allowedIncludes eager-loads
        if name == "process" and "process" not in result:
            process = processes.MODEL.table.find(store, row["process_id"])
            result["process"] = processes.serialize(store, process) if process else None
        elif name == "participants" and "participants" not in result:
            result["participants"] = participants(store, row["id"])
        elif name == "assigned" and "assigned" not in result:
            from . import tasks  # tasks serializes tokens and imports this module

            tokens = store.all("SELECT * FROM process_request_tokens WHERE process_request_id = ? AND element_type"
                               " <> 'scriptTask' ORDER BY id", (row["id"],))
            result["assigned"] = [{**tasks.attributes(token), "user": _user(store, token["user_id"])}
                                  for token in tokens]
    if "data" in include:
        result["data"] = data_of(row)
    if "user" in include:
        result["user"] = _user(store, row["user_id"])
    return result


def _user(store: Store, user_id: int | None) -> Row | None:
    user = users.ANY.find(store, user_id) if user_id is not None else None
    return users.serialize(user) if user else None


def participants(store: Store, request_id: int) -> list[Row]:
    rows = store.all(
        "SELECT DISTINCT u.* FROM users u JOIN process_request_tokens t ON t.user_id = u.id"
        " WHERE t.process_request_id = ? AND u.deleted_at IS NULL ORDER BY u.id", (request_id,))
    return [users.serialize(row) for row in rows]


# ---- the engine's environment ------------------------------------------------------------------------


class StoreEnvironment:
    """What the engine asks, answered from the store (``engine.Environment``)."""

    def __init__(self, store: Store, request_id: int, process_id: int, version: Row | None) -> None:
        self.store = store
        self.request_id = request_id
        self.process_id = process_id
        self.version = version
        self.moment = utcnow().replace(microsecond=0)

    def now(self) -> dt.datetime:
        return self.moment

    def user_attributes(self, user_id: int) -> dict[str, Any] | None:
        row = users.ACTIVE.find(self.store, user_id)
        if row is None:
            return None
        data = users.serialize(row)  # attributesToArray(): the hidden password out, the fullname append in
        data.pop("remember_token", None)
        return data

    def group_users(self, group_ids: list[int]) -> list[int]:
        """Process::getConsolidatedUsers: members that are not INACTIVE, and those of ACTIVE subgroups."""
        found: set[int] = set()
        seen: set[int] = set()
        pending = list(group_ids)
        while pending:
            group_id = pending.pop()
            if group_id in seen:
                continue
            seen.add(group_id)
            for member in self.store.all(
                "SELECT gm.member_id, gm.member_type, u.status AS user_status, g.status AS group_status"
                " FROM group_members gm LEFT JOIN users u ON gm.member_type = ? AND u.id = gm.member_id"
                " LEFT JOIN groups g ON gm.member_type = ? AND g.id = gm.member_id WHERE gm.group_id = ?",
                (base.USER_CLASS, base.GROUP_CLASS, group_id),
            ):
                if member["member_type"] == base.USER_CLASS and member["user_status"] not in (None, "INACTIVE"):
                    found.add(member["member_id"])
                elif member["member_type"] == base.GROUP_CLASS and member["group_status"] == "ACTIVE":
                    pending.append(member["member_id"])
        return sorted(found)

    def last_assignee(self, element_id: str) -> tuple[bool, int | None]:
        row = self.store.one(
            "SELECT user_id FROM process_request_tokens WHERE process_id = ? AND element_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT 1", (self.process_id, element_id))
        return (row is not None, row["user_id"] if row else None)

    def manager_id(self) -> int | None:
        return process_versions.manager_id(self.version)

    def request_attributes(self) -> dict[str, Any]:
        return attributes(REQUESTS.get(self.store, self.request_id))


# ---- loading and storing an instance ------------------------------------------------------------------


def definition_of(store: Store, request: Row) -> Definition:
    version = process_versions.version_of(store, request)
    if version is not None:
        text = version["bpmn"]
    else:
        process = processes.MODEL.table.find(store, request["process_id"])
        text = process["bpmn"] if process else ""
    try:
        return parse_definition(text)
    except ValueError as error:
        raise ServerError() from error


def load(store: Store, request: Row) -> Instance:
    data = data_of(request)
    tokens = [
        Token(
            element_id=row["element_id"], element_type=row["element_type"], element_name=row["element_name"],
            status=row["status"], key=row["id"], user_id=row["user_id"], completed_at=row["completed_at"],
            due_at=row["due_at"], initiated_at=row["initiated_at"], riskchanges_at=row["riskchanges_at"],
            data=base.json_or_none(row["data"]), arrived_via=row["arrived_via"], changed=False,
        )
        for row in store.all("SELECT * FROM process_request_tokens WHERE process_request_id = ? ORDER BY id",
                             (request["id"],))
    ]
    return Instance(
        callable_id=request["callable_id"], user_id=request["user_id"], status=request["status"],
        data=data if isinstance(data, dict) else {}, tokens=tokens, errors=base.json_or_none(request["errors"]),
        completed_at=request["completed_at"],
    )


def environment(store: Store, request: Row) -> StoreEnvironment:
    return StoreEnvironment(store, request["id"], request["process_id"], process_versions.version_of(store, request))


def store_instance(store: Store, request: Row, instance: Instance, moment: dt.datetime) -> None:
    """Write the request's columns and every token the engine touched."""
    now = timestamp(moment)
    REQUESTS.update(store, request["id"], {
        "status": instance.status,
        "data": base.stored("json", instance.data),
        "errors": base.stored("json", instance.errors) if instance.errors is not None else None,
        "completed_at": instance.completed_at,
        "updated_at": now,
    })
    for token in instance.tokens:
        if not token.changed:
            continue
        columns = {
            "user_id": token.user_id, "element_id": token.element_id, "element_type": token.element_type,
            "element_name": token.element_name, "status": token.status, "completed_at": token.completed_at,
            "due_at": token.due_at, "initiated_at": token.initiated_at, "riskchanges_at": token.riskchanges_at,
            "data": base.stored("json", token.data) if token.data is not None else None,
            "arrived_via": token.arrived_via, "updated_at": now,
        }
        if token.key is None:
            token.key = store.insert("process_request_tokens", {
                **columns, "uuid": new_uuid(), "process_id": request["process_id"],
                "process_request_id": request["id"], "created_at": now, "self_service_groups": "[]",
                "token_properties": "[]",
            })
        else:
            TOKENS.update(store, token.key, columns)
        token.changed = False


# ---- starting ---------------------------------------------------------------------------------------------


def parse_process(process: Row) -> Definition:
    try:
        return parse_definition(process["bpmn"])
    except ValueError as error:
        raise ServerError() from error


def start(store: Store, process: Row, event_id: str | None, data: dict[str, Any], user: Row | None) -> Row:
    """ProcessController::triggerStartEvent: a new request from the start event ``event_id``, run until it
    waits (a task) or ends."""
    definition = parse_process(process)
    event = definition.element(event_id or "")
    if not event_id or event is None:
        raise NotFound()
    if event.tag != "startEvent":
        raise ServerError()  # WorkflowManager::triggerStartEvent() wants a StartEventInterface
    if event.event_definitions:
        message = NOT_NONE_START.format(event=event.id, definition=event.event_definitions[0])
        raise ValidationError({"event": [message]}, message)
    with store.transaction():
        version = process_versions.current_version(store, process)
        user_id = user["id"] if user else None
        now = db_timestamp()
        title = process.get("case_title") or ""
        case_number = int(store.scalar("SELECT COALESCE(MAX(case_number), 0) + 1 FROM process_requests") or 1)
        request = REQUESTS.insert(store, {
            "uuid": new_uuid(), "process_id": process["id"], "user_id": user_id, "callable_id": event.process_id,
            "status": "ACTIVE", "data": base.stored("json", data), "name": process["name"], "initiated_at": now,
            "created_at": now, "updated_at": now, "process_version_id": version["id"], "signal_events": "[]",
            "do_not_sanitize": "[]", "case_number": case_number,
            "case_title": render_title(title, data, formatted=False) if title else process["name"],
            "case_title_formatted": render_title(title, data, formatted=True) if title else process["name"],
        })
        instance = load(store, request)
        env = environment(store, request)
        Engine(definition, instance, env).start(event.id)
        store_instance(store, request, instance, env.now())
        return REQUESTS.get(store, request["id"])


_MUSTACHE = re.compile(r"\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([\w.]+)\s*\}\}")


def render_title(template: str, data: dict[str, Any], *, formatted: bool) -> str:
    """ProcessRequest::evaluateCaseTitle for plain ``{{ variable }}`` tags (200 characters at most)."""

    def lookup(path: str) -> str:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or isinstance(value, (dict, list)):
            return ""
        return "1" if value is True else "" if value is False else str(value)

    def replace(match: re.Match[str]) -> str:
        raw, escaped = match.group(1), match.group(2)
        text = lookup(raw or escaped)
        if escaped:
            text = html.escape(text, quote=True)
        return f"<b>{text}</b>" if formatted else text

    return _MUSTACHE.sub(replace, template)[:200]


# ---- the policy ------------------------------------------------------------------------------------------------


def has_participated(store: Store, request: Row, user: Row) -> bool:
    return store.scalar("SELECT 1 FROM process_request_tokens WHERE process_request_id = ? AND user_id = ? LIMIT 1",
                        (request["id"], user["id"])) is not None


def can_view(store: Store, user: Row, request: Row) -> bool:
    """ProcessRequestPolicy::view."""
    if permissions.is_admin(user) or request["user_id"] == user["id"] or has_participated(store, request, user):
        return True
    if permissions.holds_any(store, user, "edit-request_data"):
        return True
    version = process_versions.version_of(store, request)
    if user["id"] in process_versions.edit_data_users(version):
        return True
    return permissions.holds_any(store, user, "view-all_requests")


def can_update(store: Store, user: Row, request: Row) -> bool:
    """ProcessRequestPolicy::update."""
    if permissions.is_admin(user) or request["user_id"] == user["id"]:
        return True
    version = process_versions.version_of(store, request)
    return (process_versions.can_cancel(store, user, version) or permissions.holds_any(store, user, "edit-request_data")
            or process_versions.can_edit_data(store, user, version))


def can_destroy(user: Row, request: Row) -> bool:
    """ProcessRequestPolicy::destroy: the requester (and administrators)."""
    return permissions.is_admin(user) or request["user_id"] == user["id"]


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise Forbidden(message) if message else Forbidden()


# ---- updating ----------------------------------------------------------------------------------------------------


def update(store: Store, request: Row, user: Row, body: dict[str, Any]) -> None:
    """ProcessRequestController::update: cancel, manual completion, a data edit, or the plain fields."""
    status = body.get("status")
    if status == "CANCELED":
        version = process_versions.version_of(store, request)
        require(process_versions.can_cancel(store, user, version), NOT_AUTHORIZED_CANCEL)
        _change_instance(store, request, lambda engine: engine.cancel(), status="CANCELED")
        return
    if status == "COMPLETED":
        require(permissions.is_admin(user), NOT_AUTHORIZED_COMPLETE)
        if request["status"] != "ERROR":
            raise ValidationError({"status": [ONLY_ERROR]})
        _change_instance(store, request, lambda engine: engine.terminate())
        return
    if list(body) in (["data"], ["data", "task_element_id"]):
        _edit_data(store, request, user, body)
        return
    checks = {
        "name": ["required", "string", "max:100", Unique("process_requests", "name", request["id"]), "alpha_spaces"],
        "data": ["required"],
        "status": ["in:" + ",".join(STATUSES)],
        "process_id": ["required", "exists:processes,id"],
        "process_collaboration_id": ["nullable"],
        "user_id": ["exists:users,id"],
    }
    validate(body, checks, store=store)
    columns = {name: (base.stored("json", body[name]) if name in JSON_FILL else base.text_value(body[name]))
               for name in FILL_COLUMNS if name in body}
    if columns:
        with store.transaction():
            REQUESTS.update(store, request["id"], base.touched(columns))


def _edit_data(store: Store, request: Row, user: Row, body: dict[str, Any]) -> None:
    """A data edit: ``edit-task_data`` while ACTIVE, else ``edit-request_data``, or the process's EDIT_DATA."""
    permission = "edit-task_data" if request["status"] == "ACTIVE" else "edit-request_data"
    version = process_versions.version_of(store, request)
    allowed = permissions.holds_any(store, user, permission) or process_versions.can_edit_data(store, user, version)
    require(allowed, NOT_AUTHORIZED_EDIT)
    if "task_element_id" in body:
        found = store.scalar("SELECT 1 FROM process_request_tokens WHERE element_id = ? AND process_request_id = ?",
                             (base.text_value(body["task_element_id"]), request["id"]))
        if found is None:
            raise NotFound()
    new = body["data"]
    current = data_of(request)
    if not isinstance(new, dict) or not isinstance(current, (dict, type(None))):
        raise ServerError()  # array_merge() of something that is not an array
    with store.transaction():
        REQUESTS.update(store, request["id"], base.touched({"data": base.stored("json", {**(current or {}), **new})}))


def _change_instance(store: Store, request: Row, change: Any, status: str | None = None) -> None:
    with store.transaction():
        fresh = REQUESTS.get(store, request["id"])
        instance = load(store, fresh)
        env = environment(store, fresh)
        change(Engine(definition_of(store, fresh), instance, env))
        if status is not None:
            instance.status = status
        store_instance(store, fresh, instance, env.now())


def delete(store: Store, request: Row) -> None:
    """ProcessRequest delete: the request, its tokens, and its child requests with theirs."""
    with store.transaction():
        pending = [request["id"]]
        while pending:
            request_id = pending.pop()
            pending.extend(row["id"] for row in store.all(
                "SELECT id FROM process_requests WHERE parent_request_id = ?", (request_id,)))
            store.execute("DELETE FROM process_request_tokens WHERE process_request_id = ?", (request_id,))
            REQUESTS.delete(store, request_id)


# ---- listing -------------------------------------------------------------------------------------------------------


SYSTEM_PROCESSES = (
    "SELECT p.id FROM processes p JOIN categories c ON c.id = p.process_category_id WHERE c.is_system = 1"
    " UNION SELECT ca.assignable_id FROM category_assignments ca JOIN categories c ON c.id = ca.category_id"
    " WHERE c.is_system = 1 AND ca.assignable_type = ?"
)


def non_system(listing: Query, column: str) -> None:
    """HideSystemResources::scopeNonSystem: nothing of a process in a system category."""
    listing.also(f"{column} NOT IN ({SYSTEM_PROCESSES})", processes.PROCESS.model)


def for_user(store: Store, user: Row, listing: Query, alias: str = "r") -> None:
    """ForUserScope::scopeForUser: what a user who is no administrator may list."""
    if permissions.is_admin(user) or permissions.holds_any(store, user, "edit-request_data", "view-all_requests"):
        return
    editable = process_versions.edit_data_process_ids(store, user)
    clauses = [f"{alias}.user_id = ?"]
    params: list[Any] = [user["id"]]
    if editable:
        clauses.append(f"{alias}.process_id IN ({','.join('?' * len(editable))})")
        params.extend(editable)
    if user["username"] != process_versions.ANON_USERNAME:
        clauses.append(f"EXISTS (SELECT 1 FROM process_request_tokens t WHERE t.user_id = ? AND "
                       f"t.process_request_id = {alias}.id)")
        params.append(user["id"])
    listing.also(" OR ".join(clauses), *params)


def query(store: Store, user: Row, request_type: str | None, filter_text: str | None) -> Query:
    listing = Query("process_requests r", columns="r.*", tie_breaker="r.id")
    for_user(store, user, listing)
    if request_type == "started_me":
        listing.also("r.user_id = ?", user["id"]).also("r.status <> 'COMPLETED' AND r.status <> 'CANCELED'")
    elif request_type == "in_progress":
        listing.also("r.status = 'ACTIVE'")
    elif request_type == "completed":
        listing.also("r.status = 'COMPLETED'")
    if filter_text:
        like = f"%{filter_text.lower()}%"
        listing.also(
            "LOWER(r.name) LIKE ? OR LOWER(r.data) LIKE ? OR CAST(r.id AS TEXT) LIKE ? OR LOWER(r.status) LIKE ?"
            " OR r.initiated_at LIKE ? OR r.created_at LIKE ? OR r.updated_at LIKE ?", *[like] * 7)
    non_system(listing, "r.process_id")
    return listing


def order(requested: str | None, direction: str | None) -> str:
    """``orderBy(str_ireplace('.', '->', order_by), order_direction)``: a column, or a JSON path into data."""
    column = requested or "name"
    chosen = (direction or "ASC").lower()
    if chosen not in ("asc", "desc"):
        raise ServerError()
    if column.lower().startswith("data."):
        path = column[5:]
        if not re.fullmatch(r"[\w.]+", path):
            raise ServerError()
        return f"json_extract(r.data, '$.{path}') {chosen.upper()}"
    if column not in SORTABLE:
        raise ServerError()  # Unknown column: the controller rethrows the QueryException
    return f"{SORTABLE[column]} {chosen.upper()}"


# ---- the map's element information (GET /requests/{request}/tokens) ---------------------------------------------------


def token_info(store: Store, request: Row, element_id: Any) -> Row:
    """ProcessRequestController::getRequestToken: the last token at an element (or around a sequence flow)."""
    validate({"element_id": element_id}, {"element_id": ["required", "string"]})
    element = str(element_id)
    is_flow = False
    latest = _max_token_id(store, request["id"], element)
    if latest is None:
        flow = definition_of(store, request).flows.get(element)
        if flow is None:
            raise NotFound()
        targets, sources = _count(store, request["id"], flow.target), _count(store, request["id"], flow.source)
        element = flow.source if sources < targets else flow.target
        is_flow = True
        latest = _max_token_id(store, request["id"], element)
        if latest is None:
            raise NotFound()
    token = TOKENS.get(store, latest)
    count = _count(store, request["id"], element)
    if count == 0:
        raise NotFound()
    user_row = users.ANY.find(store, token["user_id"]) if token["user_id"] is not None else None
    user = None
    if user_row is not None:
        user = {key: user_row[key] for key in ("id", "username", "firstname", "lastname")}
        user["fullname"] = f"{user_row['firstname']} {user_row['lastname']}"
    translated = {"CLOSED": "Completed", "ACTIVE": "In Progress"}.get(token["status"], token["status"])
    from .tasks import advance_status  # tasks imports this module

    return {
        "user_id": token["user_id"],
        "element_id": token["element_id"],
        "element_name": token["element_name"],
        "created_at": base.shown("date", token["created_at"]),
        "completed_at": base.shown("date", token["completed_at"]),
        "status": token["status"],
        "is_sequence_flow": is_flow,
        "status_translation": translated,
        "completed_by": (user["fullname"] if user else "-") if token["completed_at"] else "-",
        "count": count,
        "repeat_message": "The path was repeated one time" if count == 1 else f"The path was repeated {count} times",
        "created_at_formatted": _short_date(token["created_at"]),
        "completed_at_formatted": _short_date(token["completed_at"]) if token["completed_at"] else "-",
        "advanceStatus": advance_status({**token, "due_at": None}),
        "user": user,
    }


def _max_token_id(store: Store, request_id: int, element_id: str) -> int | None:
    return store.scalar("SELECT MAX(id) FROM process_request_tokens WHERE process_request_id = ? AND element_id = ?",
                        (request_id, element_id))


def _count(store: Store, request_id: int, element_id: str) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM process_request_tokens WHERE process_request_id = ? AND"
                            " element_id = ?", (request_id, element_id)) or 0)


def _short_date(value: str) -> str:
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").strftime("%m/%d/%y %H:%M")


def sanitize_task_data(value: Any) -> Any:
    """SanitizeHelper::sanitizeData for a task's data: tags stripped from every string, nothing trimmed."""
    if isinstance(value, dict):
        return {key: sanitize_task_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sanitize_task_data(item) for item in value]
    return strip_tags(value) if isinstance(value, str) else value
