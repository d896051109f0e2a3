# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings: defined by ProcessMaker (only updated here), their config typed by the setting's format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
    Current,
    Field,
    ItemError,
    Kind,
    norm_bool,
    norm_str,
)

RAW_FORMATS = frozenset(("text", "textarea", "file", "choice", "range"))


def stored_config(value: Any) -> Any:
    """How ProcessMaker writes a config value into its text column."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def config_for_format(fmt: Any, value: Any) -> Any:
    """The config value to send for a setting of ``format`` (a boolean setting gets a real boolean:
    the server casts the stored text, and the string "false" would read back as true)."""
    try:
        if fmt == "boolean":
            return norm_bool(value) if value is not None else False
        if fmt in RAW_FORMATS:
            return norm_str(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"config {error} (the setting's format is {fmt})") from None
    return value


def comparable_config(fmt: Any, value: Any) -> Any:
    """Config in one comparable form, whatever the format."""
    if fmt == "boolean":
        try:
            return bool(norm_bool(value))
        except (TypeError, ValueError):
            return value
    if fmt in RAW_FORMATS:
        return norm_str(stored_config(value))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.loads(json.dumps(value, sort_keys=True)) if value is not None else None


def typed_config(fmt: Any, value: Any) -> Any:
    """What GET /settings answers for a config written as ``value`` (Setting::getConfigAttribute)."""
    stored = stored_config(config_for_format(fmt, value))
    if fmt in RAW_FORMATS:
        return stored
    if fmt == "boolean":
        return stored not in (None, "", "0")
    return json.loads(stored) if stored is not None else None


class SettingsKind(Kind):
    name = "settings"
    path = "settings"
    singular = "setting"
    rank = 0  # first: a setting can change how later objects are created (a user's default timezone)
    identity = ("key",)
    fields = (
        Field("key"),
        Field("config", "raw"),  # the value, typed by the setting's format (boolean, text, array, object...)
    )
    put_repeats = ("key",)
    can_create = False
    can_delete = False
    purgeable = False
    notes = ("there is no single-setting GET: settings are listed (visible ones only) and found by key",
             "PUT /settings/{id} answers 204 and needs key and config",
             "settings are defined by ProcessMaker: they are updated, never created or deleted here")

    def check_item(self, where: str, values: dict) -> None:
        if "config" not in values:
            raise ItemError(f"{where}: missing field 'config' for setting {values['key']!r}")

    def same(self, name: str, wanted: Any, current: Current) -> bool:
        fmt = current.raw.get("format")
        return comparable_config(fmt, wanted) == comparable_config(fmt, current.values.get(name))

    def to_current(self, raw: Any, context: Context) -> Current | None:
        item = super().to_current(raw, context)
        if item is not None:
            item.values["config"] = raw.get("config")  # kept as typed by the server
        return item

    def applied(self, current: Current | None, values: Mapping) -> dict:
        result = dict(current.values) if current is not None else {}
        if "config" in values:
            result["config"] = typed_config(current.raw.get("format") if current else None, values["config"])
        return result

    def update_body(self, current: Current, values: Mapping, context: Context) -> dict:
        return {"key": current.raw.get("key"),
                "config": config_for_format(current.raw.get("format"), values.get("config"))}
