"""Column types of the design assets (processes, screens, scripts): request value → column → JSON.

Each resource module declares its columns once as ``{name: type}``; the resource serializer, the
request handlers and the importer all convert through here.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from .common import iso8601, json_or_none, text_value

ColumnType = Literal["int", "json", "text", "date"]
Columns = dict[str, ColumnType]


def to_int(value: Any) -> int | None:
    """What MySQL keeps of a value sent for an integer column (non-numbers become null here)."""
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def stored(column_type: ColumnType, value: Any) -> Any:
    """A request value as the column stores it (the ``array`` cast JSON-encodes whatever it gets)."""
    if value is None:
        return None
    if column_type == "int":
        return to_int(value)
    if column_type == "json":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text_value(value)


def shown(column_type: ColumnType, raw: Any) -> Any:
    """A column as the model's ``toArray()`` shows it (casts applied, dates in PHP ``c``)."""
    if column_type == "json":
        return json_or_none(raw)
    if column_type == "date":
        return iso8601(raw)
    return raw


def serialize_columns(row: dict[str, Any], columns: Columns) -> dict[str, Any]:
    return {name: shown(column_type, row.get(name)) for name, column_type in columns.items()}


def dirty(current: dict[str, Any], values: dict[str, Any], columns: Columns) -> dict[str, Any]:
    """Eloquent's dirty check: the values that differ from the stored row (JSON compared decoded)."""
    changed = {}
    for name, value in values.items():
        old = current.get(name)
        same = old == value
        if not same and columns.get(name) == "json" and old is not None and value is not None:
            same = json_or_none(old) == json_or_none(value)
        if not same:
            changed[name] = value
    return changed
