"""``/settings`` (SettingController): list the visible ones, write a config, add and delete."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from werkzeug.wrappers import Response

from ..http import Context, HttpError, Router, empty_response, json_response
from ..store import db_timestamp
from ..validation import RuleSet, Unique, validate
from . import authz
from .common import (
    Row,
    iso8601,
    load,
    order_clause,
    php_truthy,
    query_value,
    read_body,
    sql_list,
    text_value,
)
from .defaults import stored_config

router = Router()

# SettingController::$fields: the only accepted order_by values (anything else sorts by name).
SORTABLE = {
    "id": "id", "key": "key COLLATE NOCASE", "config": "config COLLATE NOCASE", "name": "name COLLATE NOCASE",
    "helper": "helper COLLATE NOCASE", "group": '"group" COLLATE NOCASE', "group_id": "group_id",
    "format": "format COLLATE NOCASE", "created_at": "created_at", "updated_at": "updated_at",
}
FILLABLE = ["key", "config", "format", "name", "helper", "group", "group_id", "hidden", "ui"]
SETTING_BY_ID = "SELECT * FROM settings WHERE id = ?"
RAW_FORMATS = {"text", "textarea", "file", "choice", "range"}


def setting_rules(existing: int | None) -> RuleSet:
    """Setting::rules($existing): only the key is checked."""
    return {"key": ["required", Unique("settings", "key", existing)]}


def typed_config(fmt: str, raw: str | None) -> Any:
    """Setting::getConfigAttribute: the stored text read according to ``format``."""
    if fmt in RAW_FORMATS:
        return raw
    if fmt == "boolean":
        return php_truthy(raw)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def serialize_setting(row: Row) -> Row:
    ui = None
    if row["ui"] is not None:
        try:
            ui = json.loads(row["ui"])
        except ValueError:
            ui = None
    return {
        "id": row["id"],
        "key": row["key"],
        "config": typed_config(row["format"], row["config"]),
        "name": row["name"],
        "helper": row["helper"],
        "group": row["group"] if row["group"] is not None else "System",
        "group_id": row["group_id"],
        "format": row["format"],
        "hidden": bool(row["hidden"]),
        "readonly": bool(row["readonly"]),
        "ui": ui,
        "created_at": iso8601(row["created_at"]),
        "updated_at": iso8601(row["updated_at"]),
    }


@router.route("GET", "/api/1.0/settings")
def index(ctx: Context) -> Response:
    authz.require(ctx, "view-settings")
    where, params = ["hidden = 0"], []
    group = query_value(ctx, "group")
    if group == "System":
        where.append('"group" IS NULL')
    elif group:
        where.append('"group" = ?')
        params.append(group)
    filter_text = query_value(ctx, "filter")
    if filter_text:
        where.append('LOWER(key) LIKE ? OR LOWER(name) LIKE ? OR LOWER(helper) LIKE ? OR LOWER("group") LIKE ?')
        params.extend([f"%{filter_text.lower()}%"] * 4)
    if query_value(ctx, "pmql"):
        # PMQL is not emulated; answer as ProcessMaker does for a query it cannot parse.
        return json_response({"error": "PMQL error"}, 400)
    order = "CAST(json_extract(ui, '$.order') AS INTEGER) ASC, " + order_clause(ctx, SORTABLE, "name", whitelist=True)
    return sql_list(
        ctx,
        select="SELECT * FROM settings",
        count="SELECT COUNT(*) FROM settings",
        where=where,
        params=params,
        order=order,
        serialize=serialize_setting,
        default_per_page=25,
    )


@router.route("PUT", "/api/1.0/settings/{setting}")
def update(ctx: Context) -> Response:
    setting = load(ctx, SETTING_BY_ID, ctx.params["setting"])
    authz.require(ctx, "update-settings")
    body = read_body(ctx)
    validate(body, setting_rules(setting["id"]), store=ctx.store)
    config = stored_config(body.get("config"))
    with ctx.store.transaction():
        ctx.store.update("settings", setting["id"], {"config": config, "updated_at": db_timestamp()})
        if setting["key"] == "password-policies.2fa_enabled":
            # Turning 2FA on or off applies it to every group.
            ctx.store.execute("UPDATE groups SET enabled_2fa = ?", (int(php_truthy(config)),))
    return empty_response(204)


@router.route("POST", "/api/1.0/settings")
def store(ctx: Context) -> Response:
    authz.require(ctx, "update-settings")
    body = read_body(ctx)
    now = db_timestamp()
    values: dict[str, Any] = {"created_at": now, "updated_at": now}
    for name in FILLABLE:
        if name not in body:
            continue
        value = body[name]
        if name == "config":
            values[name] = stored_config(value)
        elif name == "ui":
            values[name] = None if value is None else json.dumps(value, separators=(",", ":"))
        elif name == "hidden":
            values[name] = int(php_truthy(value))
        else:
            values[name] = text_value(value)
    # The settings migration declares hidden DEFAULT 1: a setting added without it is not listed.
    values.setdefault("hidden", 1)
    if values.get("format") is None:
        values["format"] = "array"
    if values.get("key") is None:
        raise HttpError({"message": "An error occurred while saving the setting."}, 500)
    duplicate = HttpError(
        {"message": f"The \"{body.get('name') or body.get('key')}\" you're trying to add already exists."}, 409
    )
    try:
        with ctx.store.transaction():
            if ctx.store.scalar("SELECT 1 FROM settings WHERE key = ? COLLATE NOCASE", (values["key"],)):
                raise duplicate
            ctx.store.insert("settings", values)
    except sqlite3.IntegrityError as error:
        raise duplicate from error
    return json_response([], 201)


@router.route("DELETE", "/api/1.0/settings/{setting}")
def destroy(ctx: Context) -> Response:
    setting = load(ctx, SETTING_BY_ID, ctx.params["setting"])
    authz.require(ctx, "update-settings")
    ctx.store.execute("DELETE FROM settings WHERE id = ?", (setting["id"],))
    return empty_response(204)

