"""Settings (SettingController, the Setting model), and the settings a fresh ProcessMaker has.

Seeded: the ``Log-In Options`` and ``Session Control`` upgrades
(``2023_11_30_185738_add_password_policies_settings``, ``2023_12_06_182508_add_session_control_settings``),
the iframe whitelist default, and one hidden setting. The ``password-policies.*`` settings drive the
password rules of users.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..errors import Conflict, ServerError
from ..php import date_iso8601, truthy
from ..store import Store, db_timestamp
from ..validation import PasswordPolicy, RuleSet, Unique, validate
from . import base
from .base import Query, Row, Table

TABLE = Table("settings")
# SettingController::$fields: the only accepted order_by values (anything else sorts by name).
SORTABLE = {
    "id": "id", "key": "key COLLATE NOCASE", "config": "config COLLATE NOCASE", "name": "name COLLATE NOCASE",
    "helper": "helper COLLATE NOCASE", "group": '"group" COLLATE NOCASE', "group_id": "group_id",
    "format": "format COLLATE NOCASE", "created_at": "created_at", "updated_at": "updated_at",
}
FILLABLE = ["key", "config", "format", "name", "helper", "group", "group_id", "hidden", "ui"]
RAW_FORMATS = {"text", "textarea", "file", "choice", "range"}
TWO_FACTOR = "password-policies.2fa_enabled"

LOGIN_OPTIONS = "Log-In Options"
SESSION_CONTROL = "Session Control"
_NO_COPY = {"deleteSettingEnabled": False, "copySettingEnabled": False}

# (key, format, config, name, helper, group, hidden, ui)
SETTINGS: list[tuple[str, str, Any, str | None, str | None, str | None, bool, dict[str, Any] | None]] = [
    ("password-policies.users_can_change", "boolean", True, "Password set by user",
     "Allow to users to change their own password.", LOGIN_OPTIONS, False, {"order": 10001, **_NO_COPY}),
    ("password-policies.numbers", "boolean", True, "Numeric characters",
     "Passwords must contain minimum one numeric character.", LOGIN_OPTIONS, False, {"order": 10002, **_NO_COPY}),
    ("password-policies.uppercase", "boolean", True, "Uppercase characters",
     "Passwords must contain minimum one uppercase character.", LOGIN_OPTIONS, False, {"order": 10003, **_NO_COPY}),
    ("password-policies.special", "boolean", True, "Special characters",
     "Passwords must contain minimum one special character.", LOGIN_OPTIONS, False, {"order": 10004, **_NO_COPY}),
    ("password-policies.maximum_length", "text", None, "Maximum length",
     "Maximum password length allowed.", LOGIN_OPTIONS, False, {"order": 10005, **_NO_COPY}),
    ("password-policies.minimum_length", "text", 8, "Minimum length",
     "Minimum password length allowed.", LOGIN_OPTIONS, False, {"order": 10006, **_NO_COPY}),
    ("password-policies.expiration_days", "text", None, "Password expiration",
     "Password will expire in the days configured here.", LOGIN_OPTIONS, False, {"order": 10007, **_NO_COPY}),
    ("password-policies.login_attempts", "text", 5, "Login failed",
     "Number of consecutive unsuccessful login attempts before block the login action momentarily.",
     LOGIN_OPTIONS, False, {"order": 10008, "isNotEmpty": True, **_NO_COPY}),
    ("password-policies.2fa_enabled", "boolean", False, "Require Two Step Authentication",
     "Enhance security with an additional authentication step for user verification.", LOGIN_OPTIONS, False,
     {"order": 10009}),
    ("password-policies.2fa_method", "checkboxes", [], "Two Step Authentication Method",
     "A security code will be sent to all selected methods.", LOGIN_OPTIONS, False,
     {"order": 10010, "options": ["By email", "By message to phone number", "Authenticator App"], **_NO_COPY,
      "testSettingEndpoint": "2fa/test"}),
    ("session-control.ip_restriction", "choice", 0, "IP restriction",
     "Restrict logins made by the same user from the same IP.", SESSION_CONTROL, False,
     {"order": 10101, "options": ["Disabled", "Block duplicate session", "Kill existing session"], **_NO_COPY}),
    ("session-control.device_restriction", "choice", 0, "Device restriction",
     "Restricts logins made by the same user from different devices.", SESSION_CONTROL, False,
     {"order": 10102, "options": ["Disabled", "Block duplicate session", "Kill existing session"], **_NO_COPY}),
    ("session.lifetime", "text", 120, "Session Inactivity",
     "Time a session is allowed to be idle. This timing is measured in minutes.", SESSION_CONTROL, False,
     {"order": 10103, **_NO_COPY}),
    ("white_list_frame.default", "text", None, "Default URL", None, "IFrame Whitelist Config", False, None),
    # Written by the "customize UI" page; never listed by GET /settings.
    ("css-override", "array", {"variables": "[]", "sansSerifFont": "'Open Sans'"}, "Custom CSS", None, None, True, None),
]



def stored_config(value: Any) -> str | None:
    """How a config value lands in the ``settings.config`` text column."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def seed(store: Store) -> None:
    now = db_timestamp()
    for key, fmt, config, name, helper, group, hidden, ui in SETTINGS:
        store.execute(
            'INSERT OR IGNORE INTO settings (key, config, name, helper, "group", format, hidden, readonly, ui, '
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (key, stored_config(config), name, helper, group, fmt, int(hidden),
             None if ui is None else json.dumps(ui, separators=(",", ":")), now, now),
        )


def rules(existing: int | None) -> RuleSet:
    """Setting::rules($existing): only the key is checked."""
    return {"key": ["required", Unique("settings", "key", existing)]}


def typed_config(fmt: str, raw: str | None) -> Any:
    """Setting::getConfigAttribute: the stored text read according to ``format``."""
    if fmt in RAW_FORMATS:
        return raw
    if fmt == "boolean":
        return truthy(raw)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def serialize(row: Row) -> Row:
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
        "created_at": date_iso8601(row["created_at"]),
        "updated_at": date_iso8601(row["updated_at"]),
    }


def query(group: str | None, filter_text: str | None) -> Query:
    """The visible settings, of one group ("System" = no group), matching ``filter`` case-insensitively."""
    listing = Query("settings", ["hidden = 0"])
    if group == "System":
        listing.also('"group" IS NULL')
    elif group:
        listing.also('"group" = ?', group)
    if filter_text:
        listing.also(
            'LOWER(key) LIKE ? OR LOWER(name) LIKE ? OR LOWER(helper) LIKE ? OR LOWER("group") LIKE ?',
            *[f"%{filter_text.lower()}%"] * 4,
        )
    return listing


def update(store: Store, setting: Row, body: dict[str, Any]) -> None:
    """Write a config. Turning 2FA on or off applies it to every group."""
    validate(body, rules(setting["id"]), store=store)
    config = stored_config(body.get("config"))
    with store.transaction():
        TABLE.update(store, setting["id"], base.touched({"config": config}))
        if setting["key"] == TWO_FACTOR:
            store.execute("UPDATE groups SET enabled_2fa = ?", (int(truthy(config)),))


def create(store: Store, body: dict[str, Any]) -> None:
    """SettingController::store: any fillable field; a key that exists is a 409."""
    now = db_timestamp()
    columns: dict[str, Any] = {"created_at": now, "updated_at": now}
    for name in FILLABLE:
        if name not in body:
            continue
        value = body[name]
        if name == "config":
            columns[name] = stored_config(value)
        elif name == "ui":
            columns[name] = None if value is None else json.dumps(value, separators=(",", ":"))
        elif name == "hidden":
            columns[name] = int(truthy(value))
        else:
            columns[name] = base.text_value(value)
    # The settings migration declares hidden DEFAULT 1: a setting added without it is not listed.
    columns.setdefault("hidden", 1)
    if columns.get("format") is None:
        columns["format"] = "array"
    if columns.get("key") is None:
        raise ServerError("An error occurred while saving the setting.")
    duplicate = Conflict(f"The \"{body.get('name') or body.get('key')}\" you're trying to add already exists.")

    def check() -> None:
        if store.scalar("SELECT 1 FROM settings WHERE key = ? COLLATE NOCASE", (columns["key"],)):
            raise duplicate

    try:
        base.save(store, lambda: store.insert("settings", columns), check=check)
    except sqlite3.IntegrityError as error:
        raise duplicate from error


def password_policy(store: Store) -> PasswordPolicy:
    """The password rules as the ``password-policies.*`` settings configure them (PM reads these into config)."""
    rows = store.all("SELECT key, config FROM settings WHERE key LIKE 'password-policies.%'")
    config = {row["key"].split(".", 1)[1]: row["config"] for row in rows}

    def flag(name: str) -> bool:
        raw = config.get(name)
        return True if raw is None else raw not in ("", "0", "false")

    def number(name: str, default: int | None) -> int | None:
        try:
            return int(config[name]) if config.get(name) not in (None, "") else default
        except ValueError:
            return default

    return PasswordPolicy(
        minimum_length=number("minimum_length", 8) or 8,
        maximum_length=number("maximum_length", None),
        numbers=flag("numbers"),
        symbols=flag("special"),
        uppercase=flag("uppercase"),
    )
