"""``/processes`` (ProcessController): list, show, create, update, archive, restore, the BPMN.

Quirks kept from ProcessMaker: an unknown id on show answers 204 with no body; update answers 200 with
the resource and drops the ``name`` rule when no name is sent; delete archives; BPMN that does not
load fails a create (422) but is only recorded in ``warnings`` on update.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, HttpError, Router, empty_response, json_response
from ..security import new_uuid
from ..store import Store, db_timestamp
from ..validation import RuleSet, Unique, validate
from . import authz, bpmn
from .asset_categories import (
    PROCESS,
    CategoryExists,
    category_attribute,
    category_ids_from_input,
    save_asset,
    sync_categories,
)
from .categories import serialize_category
from .columns import Columns, dirty, serialize_columns, stored
from .common import (
    Row,
    json_or_none,
    like,
    load,
    order_clause,
    php_truthy,
    query_value,
    read_body,
    sql_list,
)
from .users import serialize_user

router = Router()

# processes columns in table order; bpmn, svg (hidden) and notification_settings (shown as
# ``notifications``) are not part of the resource.
COLUMNS: Columns = {
    "id": "int", "uuid": "text", "process_category_id": "int", "user_id": "int", "description": "text",
    "name": "text", "cancel_screen_id": "int", "request_detail_screen_id": "int", "status": "text",
    "is_valid": "int", "package_key": "text", "pause_timer_start": "int", "deleted_at": "date",
    "created_at": "date", "updated_at": "date", "start_events": "json", "warnings": "json",
    "self_service_tasks": "json", "signal_events": "json", "conditional_events": "json", "properties": "json",
    "case_title": "text", "asset_type": "text", "is_template": "int", "updated_by": "int",
}
STORED_ONLY: Columns = {"bpmn": "text", "svg": "text", "notification_settings": "json"}
FILLABLE = [
    "name", "description", "status", "process_category_id", "cancel_screen_id", "request_detail_screen_id",
    "pause_timer_start", "case_title", "properties", "package_key", "svg",
]
SORTABLE = {
    name: f"p.{name} COLLATE NOCASE" if kind == "text" else f"p.{name}"
    for name, kind in COLUMNS.items() if kind != "json"
}
PROCESS_BY_ID = "SELECT * FROM processes WHERE id = ?"

# Process::$requestNotifiableTypes × $requestNotificationTypes
NOTIFIABLE_TYPES = ("requester", "assignee", "participants")
NOTIFICATION_TYPES = ("started", "canceled", "completed")


def process_rules(existing: int | None = None, *, name_sent: bool = True) -> RuleSet:
    """Process::rules($existing); the controller drops ``name`` on an update that does not send one."""
    rules: RuleSet = {
        "name": ["required", Unique("processes", "name", existing), "alpha_spaces"],
        "description": ["required"],
        "status": ["in:ACTIVE,INACTIVE,ARCHIVED"],
        "process_category_id": [CategoryExists("process")],
        "bpmn": ["nullable"],
        "case_title": ["nullable", "max:200"],
    }
    if not name_sent:
        del rules["name"]
    return rules


def chosen_notifications(raw: str | None) -> dict[str, dict[str, bool]]:
    """The stored request notification settings (anything unreadable counts as none chosen)."""
    chosen = json_or_none(raw)
    if not isinstance(chosen, dict):
        return {}
    return {who: dict(kinds) for who, kinds in chosen.items() if isinstance(kinds, dict)}


def notifications(raw: str | None) -> dict[str, dict[str, bool]]:
    chosen = chosen_notifications(raw)
    return {
        notifiable: {kind: bool(chosen.get(notifiable, {}).get(kind)) for kind in NOTIFICATION_TYPES}
        for notifiable in NOTIFIABLE_TYPES
    }


def serialize_process(store: Store, row: Row, include: list[str] | None = None) -> Row:
    """The Process resource: the model's attributes (minus bpmn, svg) plus its appends and extras."""
    data = serialize_columns(row, COLUMNS)
    data["process_category_id"] = category_attribute(store, PROCESS, row)
    events = data["start_events"] or []
    data["has_timer_start_events"] = bpmn.has_timer_start_events(events)
    data["projects"] = []
    data["notifications"] = notifications(row["notification_settings"])
    data["task_notifications"] = {}
    include = include or []
    if "user" in include:
        user = store.one("SELECT * FROM users WHERE id = ?", (row["user_id"],))
        data["user"] = serialize_user(user) if user else None
    if "category" in include:
        category = store.one("SELECT * FROM categories WHERE id = ?", (row["process_category_id"],))
        data["category"] = serialize_category(category) if category else []
    if "events" in include:
        data["events"] = events
    if "svg" in include:
        data["svg"] = row["svg"]
    properties = data["properties"]
    data["manager_id"] = properties.get("manager_id") if isinstance(properties, dict) else None
    return data


def bpmn_columns(definition: str) -> dict[str, Any]:
    """What saving a process derives from its BPMN."""
    events = bpmn.start_events(definition)
    return {
        "bpmn": definition,
        "start_events": stored("json", events),
        "self_service_tasks": stored("json", {}),
        "signal_events": stored("json", []),
        "conditional_events": stored("json", []),
    }


def process_values(body: dict[str, Any], current: Row | None) -> dict[str, Any]:
    """The fillable fields a body sends, as columns (``manager_id`` lives in ``properties``)."""
    columns = {**COLUMNS, **STORED_ONLY}
    values = {name: stored(columns[name], body[name]) for name in FILLABLE if name in body}
    if "process_category_id" in body:
        ids = category_ids_from_input(body["process_category_id"])
        values["process_category_id"] = ids[0] if ids else None
    if values.get("status") is None:
        values.pop("status", None)  # NOT NULL DEFAULT 'ACTIVE'
    if values.get("pause_timer_start") is None:
        values.pop("pause_timer_start", None)
    if "manager_id" in body:
        properties = json_or_none(values.get("properties") or (current or {}).get("properties"))
        if not isinstance(properties, dict):
            properties = {}
        properties["manager_id"] = stored("int", body["manager_id"])
        values["properties"] = stored("json", properties)
    if "notifications" in body and isinstance(body["notifications"], dict):
        chosen = chosen_notifications((current or {}).get("notification_settings"))
        for notifiable in NOTIFIABLE_TYPES:
            for kind in NOTIFICATION_TYPES:
                value = (body["notifications"].get(notifiable) or {}).get(kind)
                if value is not None:
                    chosen.setdefault(notifiable, {})[kind] = php_truthy(value) and value not in ("false", "off", "no")
        values["notification_settings"] = stored("json", chosen)
    return values


def _includes(ctx: Context) -> list[str]:
    return [part for part in (query_value(ctx, "include") or "").split(",") if part]


def _reread(ctx: Context, process_id: int, status: int) -> Response:
    row = ctx.store.one(PROCESS_BY_ID, (process_id,))
    assert row is not None
    return json_response(serialize_process(ctx.store, row, _includes(ctx)), status)


@router.route("GET", "/api/1.0/processes")
def index(ctx: Context) -> Response:
    authz.require(ctx, "view-processes")
    status = query_value(ctx, "status")
    where = ["c.is_system IS NULL OR c.is_system = 0", "p.status IN ('ACTIVE', 'INACTIVE')"]
    if status == "archived":
        where = ["p.status = 'ARCHIVED'"]
    elif status == "all":  # ProcessController: Process::active()
        where = ["p.status = 'ACTIVE'"]
    params: list[Any] = []
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append(
            "p.name LIKE ? OR p.description LIKE ? OR p.status = ? OR u.firstname LIKE ? OR u.lastname LIKE ?"
            " OR c.name LIKE ?"
        )
        params.extend([like(filter_text), like(filter_text), filter_text, *[like(filter_text)] * 3])
    category = query_value(ctx, "category")
    if category:
        where.append(
            "p.process_category_id = ? OR p.id IN (SELECT assignable_id FROM category_assignments"
            " WHERE assignable_type = ? AND category_id = ?)"
        )
        params.extend([category, PROCESS.model, category])
    category_status = query_value(ctx, "cat_status")
    if category_status:
        where.append("c.status = ?")
        params.append(category_status)
    joins = " FROM processes p LEFT JOIN categories c ON c.id = p.process_category_id LEFT JOIN users u ON u.id = p.user_id"
    includes = _includes(ctx)
    return sql_list(
        ctx,
        select="SELECT p.*" + joins,
        count="SELECT COUNT(*)" + joins,
        where=where,
        params=params,
        order=order_clause(ctx, SORTABLE, "name", "asc"),
        serialize=lambda row: serialize_process(ctx.store, row, includes),
        tie_breaker="p.id",
    )


@router.route("GET", "/api/1.0/processes/{process}")
def show(ctx: Context) -> Response:
    authz.require(ctx, "view-processes")
    row = ctx.store.one(PROCESS_BY_ID, (ctx.params["process"],))
    if row is None:
        # response()->json(['message' => 'The requested process was not found'], 204): HTTP 204 has no body.
        return empty_response(204)
    return json_response(serialize_process(ctx.store, row, _includes(ctx)))


def _bpmn_from_request(ctx: Context, body: dict[str, Any]) -> None:
    """A multipart ``file`` part is the BPMN (ProcessController::store)."""
    upload = ctx.request.files.get("file")
    if upload is not None:
        body["bpmn"] = upload.read().decode("utf-8", errors="replace")


@router.route("POST", "/api/1.0/processes")
def store(ctx: Context) -> Response:
    authz.require(ctx, "create-processes")
    body = read_body(ctx, keep_raw=("bpmn", "svg"))
    _bpmn_from_request(ctx, body)
    rules = process_rules()
    validate(body, rules, store=ctx.store)
    definition = body.get("bpmn")
    if definition is not None:
        problems = bpmn.errors(definition)
        if problems:
            raise HttpError({"message": bpmn.NOT_VALID, "errors": {"bpmn": problems}}, 422)
    else:
        definition = bpmn.DEFAULT_BPMN
    now = db_timestamp()
    values = process_values(body, None)
    values.update(bpmn_columns(definition))
    values.update(uuid=new_uuid(), user_id=ctx.user["id"] if ctx.user else None, created_at=now, updated_at=now)

    def write() -> int:
        process_id = ctx.store.insert("processes", values)
        if "process_category_id" in body:
            sync_categories(ctx.store, PROCESS, process_id, category_ids_from_input(body["process_category_id"]))
        return process_id

    process_id = save_asset(ctx, body, rules, "name", write)
    return _reread(ctx, process_id, 201)


@router.route("PUT", "/api/1.0/processes/{process}")
def update(ctx: Context) -> Response:
    process = load(ctx, PROCESS_BY_ID, ctx.params["process"])
    authz.require(ctx, "edit-processes")
    body = read_body(ctx, keep_raw=("bpmn", "svg"))
    rules = process_rules(process["id"], name_sent="name" in body)
    validate(body, rules, store=ctx.store)
    values = process_values(body, process)
    values["warnings"] = None
    if "bpmn" in body and body["bpmn"] is not None:
        problems = bpmn.errors(body["bpmn"])
        if problems:  # schema problems are kept as warnings, the definition is saved anyway
            values["warnings"] = stored("json", [{"title": "Schema Validation", "text": text} for text in problems])
            values["bpmn"] = body["bpmn"]
        else:
            values.update(bpmn_columns(body["bpmn"]))
    values = dirty(process, values, {**COLUMNS, **STORED_ONLY})
    if values:  # like Eloquent, a save without changes writes nothing and keeps updated_at
        values.update(updated_at=db_timestamp(), updated_by=ctx.user["id"] if ctx.user else None)

    def write() -> None:
        ctx.store.update("processes", process["id"], values)
        if "process_category_id" in body and values.get("process_category_id") is not None:
            sync_categories(ctx.store, PROCESS, process["id"], category_ids_from_input(body["process_category_id"]))

    save_asset(ctx, body, rules, "name", write)
    return _reread(ctx, process["id"], 200)


def _set_status(ctx: Context, process: Row, status: str) -> None:
    if process["status"] != status:
        ctx.store.update("processes", process["id"], {"status": status, "updated_at": db_timestamp()})


@router.route("DELETE", "/api/1.0/processes/{process}")
def destroy(ctx: Context) -> Response:
    process = load(ctx, PROCESS_BY_ID, ctx.params["process"])
    authz.require(ctx, "archive-processes")
    _set_status(ctx, process, "ARCHIVED")
    return empty_response(204)


@router.route("PUT", "/api/1.0/processes/{process}/restore")
def restore(ctx: Context) -> Response:
    process = load(ctx, PROCESS_BY_ID, ctx.params["process"])
    authz.require(ctx, "archive-processes")
    _set_status(ctx, process, "ACTIVE")
    return _reread(ctx, process["id"], 200)


@router.route("GET", "/api/1.0/processes/{process}/bpmn")
def download_bpmn(ctx: Context) -> Response:
    process = load(ctx, PROCESS_BY_ID, ctx.params["process"])
    authz.require(ctx, "view-processes")
    response = Response(process["bpmn"], status=200, content_type="application/xml")
    response.headers["Content-Disposition"] = "attachment; filename=bpmnProcess.bpmn"
    return response
