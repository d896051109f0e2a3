"""The system data of a fresh ProcessMaker: its permission list and a realistic set of settings.

Permissions: ``database/seeders/PermissionSeeder.php`` (titles are ``ucwords`` of the name with
``-``/``_`` as spaces), with the ``Requests`` group renamed ``Cases and Requests`` by the upgrade
``2024_11_19_161132_create_permission_view_all_cases_all_requests``, plus the permissions that
migrations/upgrades add (``view-settings``, ``update-settings``, ``view-security-logs``,
``view-process-catalog``).

Settings: the ``Log-In Options`` and ``Session Control`` upgrades
(``2023_11_30_185738_add_password_policies_settings``, ``2023_12_06_182508_add_session_control_settings``),
the iframe whitelist default, and one hidden setting.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..security import new_uuid
from ..store import Store, db_timestamp

PERMISSION_GROUPS: dict[str, list[str]] = {
    "Processes": [
        "archive-processes", "create-processes", "edit-processes", "export-processes", "import-processes",
        "view-processes", "create-process-categories", "delete-process-categories", "edit-process-categories",
        "view-process-categories",
    ],
    "Process Templates": [
        "delete-process-templates", "create-process-templates", "edit-process-templates",
        "export-process-templates", "import-process-templates", "view-process-templates",
    ],
    "Process Translations": [
        "create-process-translations", "view-process-translations", "import-process-translations",
        "export-process-translations", "edit-process-translations", "cancel-process-translations",
        "delete-process-translations",
    ],
    "Environment Variables": [
        "create-environment_variables", "delete-environment_variables", "edit-environment_variables",
        "view-environment_variables",
    ],
    "Groups": ["create-groups", "delete-groups", "edit-groups", "view-groups"],
    "Screens": [
        "create-screens", "delete-screens", "edit-screens", "view-screens", "export-screens", "import-screens",
        "create-screen-categories", "delete-screen-categories", "edit-screen-categories", "view-screen-categories",
    ],
    "Scripts": [
        "create-scripts", "delete-scripts", "edit-scripts", "view-scripts", "create-script-categories",
        "delete-script-categories", "edit-script-categories", "view-script-categories",
    ],
    "Users": [
        "create-users", "delete-users", "edit-users", "view-users", "view-other-users-profiles",
        "edit-personal-profile", "publish-screen-templates",
    ],
    "Username and Password": ["edit-user-and-password"],
    "Cases and Requests": [
        "view-all_cases", "view-all_requests", "view-my_requests", "edit-request_data", "edit-task_data",
    ],
    "Files (API)": ["create-files", "view-files", "edit-files", "delete-files"],
    "Task Assignments (API)": [
        "create-task_assignments", "view-task_assignments", "edit-task_assignments", "delete-task_assignments",
    ],
    "Auth Clients": ["create-auth_clients", "view-auth_clients", "edit-auth_clients", "delete-auth_clients"],
    "Signals": ["create-signals", "view-signals", "edit-signals", "delete-signals"],
    "Settings": ["view-settings", "update-settings"],
    "Security Logs": ["view-security-logs"],
    "Process Catalog": ["view-process-catalog"],
}


def permission_title(name: str) -> str:
    """ucwords(preg_replace('/(\\-|_)/', ' ', $name))."""
    return " ".join(word[:1].upper() + word[1:] for word in re.sub(r"[-_]", " ", name).split(" "))


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


def seed_defaults(store: Store) -> None:
    now = db_timestamp()
    for group, names in PERMISSION_GROUPS.items():
        for name in names:
            title = {"view-all_cases": "View All Cases"}.get(name, permission_title(name))
            store.execute(
                'INSERT OR IGNORE INTO permissions (uuid, name, title, "group", created_at, updated_at) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                (new_uuid(), name, title, group, now, now),
            )
    for key, fmt, config, name, helper, group, hidden, ui in SETTINGS:
        store.execute(
            'INSERT OR IGNORE INTO settings (key, config, name, helper, "group", format, hidden, readonly, ui, '
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (key, stored_config(config), name, helper, group, fmt, int(hidden),
             None if ui is None else json.dumps(ui, separators=(",", ":")), now, now),
        )
