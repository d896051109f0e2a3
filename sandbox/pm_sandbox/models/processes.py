"""Processes (ProcessController, the Process model): create, update, archive, restore, the BPMN.

Quirks kept from ProcessMaker: update drops the ``name`` rule when no name is sent; delete archives;
BPMN that does not load fails a create (422) but is only recorded in ``warnings`` on update.
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..php import truthy
from ..store import Store
from ..validation import RuleSet, Unique, validate
from . import base, bpmn, categories, users
from .assets import AssetModel
from .base import Query, Row
from .categories import PROCESS, CategoryExists

# processes columns in table order; bpmn, svg (hidden) and notification_settings (shown as
# ``notifications``) are not part of the resource.
COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "process_category_id": "int", "user_id": "int", "description": "text",
    "name": "text", "cancel_screen_id": "int", "request_detail_screen_id": "int", "status": "text",
    "is_valid": "int", "package_key": "text", "pause_timer_start": "int", "deleted_at": "date",
    "created_at": "date", "updated_at": "date", "start_events": "json", "warnings": "json",
    "self_service_tasks": "json", "signal_events": "json", "conditional_events": "json", "properties": "json",
    "case_title": "text", "asset_type": "text", "is_template": "int", "updated_by": "int",
}
STORED_ONLY: base.Columns = {"bpmn": "text", "svg": "text", "notification_settings": "json"}
ALL_COLUMNS: base.Columns = {**COLUMNS, **STORED_ONLY}
FILLABLE = [
    "name", "description", "status", "process_category_id", "cancel_screen_id", "request_detail_screen_id",
    "pause_timer_start", "case_title", "properties", "package_key", "svg",
]
SORTABLE = base.sortable(COLUMNS, "p.")
MODEL = AssetModel(PROCESS, COLUMNS, "name")

# Process::$requestNotifiableTypes x $requestNotificationTypes
NOTIFIABLE_TYPES = ("requester", "assignee", "participants")
NOTIFICATION_TYPES = ("started", "canceled", "completed")


def rules(existing: int | None = None, *, name_sent: bool = True) -> RuleSet:
    """Process::rules($existing); the controller drops ``name`` on an update that does not send one."""
    checks: RuleSet = {
        "name": ["required", Unique("processes", "name", existing), "alpha_spaces"],
        "description": ["required"],
        "status": ["in:ACTIVE,INACTIVE,ARCHIVED"],
        "process_category_id": [CategoryExists("process")],
        "bpmn": ["nullable"],
        "case_title": ["nullable", "max:200"],
    }
    if not name_sent:
        del checks["name"]
    return checks


def chosen_notifications(raw: str | None) -> dict[str, dict[str, bool]]:
    """The stored request notification settings (anything unreadable counts as none chosen)."""
    chosen = base.json_or_none(raw)
    if not isinstance(chosen, dict):
        return {}
    return {who: dict(kinds) for who, kinds in chosen.items() if isinstance(kinds, dict)}


def notifications(raw: str | None) -> dict[str, dict[str, bool]]:
    chosen = chosen_notifications(raw)
    return {
        notifiable: {kind: bool(chosen.get(notifiable, {}).get(kind)) for kind in NOTIFICATION_TYPES}
        for notifiable in NOTIFIABLE_TYPES
    }


def manager_id(row: Row) -> Any:
    """The process manager lives inside ``properties``."""
    properties = base.json_or_none(row.get("properties"))
    return properties.get("manager_id") if isinstance(properties, dict) else None


def serialize(store: Store, row: Row, include: list[str] | None = None) -> Row:
    """The Process resource: the model's attributes (minus bpmn, svg) plus its appends and extras."""
    events = base.json_or_none(row["start_events"]) or []
    data = MODEL.serialize(store, row, {"has_timer_start_events": bpmn.has_timer_start_events(events)})
    data["notifications"] = notifications(row["notification_settings"])
    data["task_notifications"] = {}
    include = include or []
    if "user" in include:
        user = users.ANY.find(store, row["user_id"])
        data["user"] = users.serialize(user) if user else None
    if "category" in include:
        category = store.one("SELECT * FROM categories WHERE id = ?", (row["process_category_id"],))
        data["category"] = categories.serialize(category) if category else []
    if "events" in include:
        data["events"] = events
    if "svg" in include:
        data["svg"] = row["svg"]
    data["manager_id"] = manager_id(row)
    return data


def bpmn_columns(definition: str) -> Row:
    """What saving a process derives from its BPMN."""
    return {
        "bpmn": definition,
        "start_events": base.stored("json", bpmn.start_events(definition)),
        "self_service_tasks": base.stored("json", {}),
        "signal_events": base.stored("json", []),
        "conditional_events": base.stored("json", []),
    }


def values(body: dict[str, Any], current: Row | None) -> Row:
    """The fillable fields a body sends, as columns (``manager_id`` lives in ``properties``)."""
    columns = {name: base.stored(ALL_COLUMNS[name], body[name]) for name in FILLABLE if name in body}
    if "process_category_id" in body:
        ids = categories.ids_from_input(body["process_category_id"])
        columns["process_category_id"] = ids[0] if ids else None
    for name in ("status", "pause_timer_start"):  # NOT NULL with a default
        if columns.get(name) is None:
            columns.pop(name, None)
    if "manager_id" in body:
        properties = base.json_or_none(columns.get("properties") or (current or {}).get("properties"))
        if not isinstance(properties, dict):
            properties = {}
        properties["manager_id"] = base.stored("int", body["manager_id"])
        columns["properties"] = base.stored("json", properties)
    if "notifications" in body and isinstance(body["notifications"], dict):
        chosen = chosen_notifications((current or {}).get("notification_settings"))
        for notifiable in NOTIFIABLE_TYPES:
            for kind in NOTIFICATION_TYPES:
                value = (body["notifications"].get(notifiable) or {}).get(kind)
                if value is not None:
                    chosen.setdefault(notifiable, {})[kind] = truthy(value) and value not in ("false", "off", "no")
        columns["notification_settings"] = base.stored("json", chosen)
    return columns


def create(store: Store, body: dict[str, Any], user_id: int | None) -> Row:
    checks = rules()
    validate(body, checks, store=store)
    definition = body.get("bpmn")
    if definition is not None:
        problems = bpmn.errors(definition)
        if problems:
            raise ValidationError({"bpmn": problems}, bpmn.NOT_VALID)
    else:
        definition = bpmn.DEFAULT_BPMN
    columns = base.new_row({**values(body, None), **bpmn_columns(definition)}, user_id=user_id)
    category_ids = categories.ids_from_input(body["process_category_id"]) if "process_category_id" in body else None
    return MODEL.insert(store, body, checks, columns, category_ids)


def update(store: Store, process: Row, body: dict[str, Any], user_id: int | None) -> Row:
    checks = rules(process["id"], name_sent="name" in body)
    validate(body, checks, store=store)
    columns = values(body, process)
    columns["warnings"] = None
    if "bpmn" in body and body["bpmn"] is not None:
        problems = bpmn.errors(body["bpmn"])
        if problems:  # schema problems are kept as warnings, the definition is saved anyway
            warnings = [{"title": "Schema Validation", "text": text} for text in problems]
            columns["warnings"] = base.stored("json", warnings)
            columns["bpmn"] = body["bpmn"]
        else:
            columns.update(bpmn_columns(body["bpmn"]))
    changes = MODEL.changes(process, columns, ALL_COLUMNS)
    if changes:
        changes["updated_by"] = user_id
    category_ids = None
    if "process_category_id" in body and changes.get("process_category_id") is not None:
        category_ids = categories.ids_from_input(body["process_category_id"])
    MODEL.write(store, process, body, checks, changes, category_ids)
    return MODEL.table.get(store, process["id"])


def set_status(store: Store, process: Row, status: str) -> Row:
    """Archive (delete) and restore: only the status changes."""
    if process["status"] != status:
        MODEL.table.update(store, process["id"], base.touched({"status": status}))
    return MODEL.table.get(store, process["id"])


def query(status: str | None, filter_text: str | None, category: str | None, category_status: str | None) -> Query:
    where = ["c.is_system IS NULL OR c.is_system = 0", "p.status IN ('ACTIVE', 'INACTIVE')"]
    if status == "archived":
        where = ["p.status = 'ARCHIVED'"]
    elif status == "all":  # ProcessController: Process::active()
        where = ["p.status = 'ACTIVE'"]
    listing = Query(
        "processes p LEFT JOIN categories c ON c.id = p.process_category_id LEFT JOIN users u ON u.id = p.user_id",
        where, columns="p.*", tie_breaker="p.id",
    )
    if filter_text:
        listing.also(
            "p.name LIKE ? OR p.description LIKE ? OR p.status = ? OR u.firstname LIKE ? OR u.lastname LIKE ?"
            " OR c.name LIKE ?",
            *[f"%{filter_text}%"] * 2, filter_text, *[f"%{filter_text}%"] * 3,
        )
    if category:
        listing.also(
            "p.process_category_id = ? OR p.id IN (SELECT assignable_id FROM category_assignments"
            " WHERE assignable_type = ? AND category_id = ?)",
            category, PROCESS.model, category,
        )
    if category_status:
        listing.also("c.status = ?", category_status)
    return listing
