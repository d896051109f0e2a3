"""Environment variables (EnvironmentVariablesController). The value is write-only: the model hides it."""

from __future__ import annotations

from typing import Any

from ..php import filled
from ..store import Store
from ..validation import RuleSet, Unique, validate
from . import base
from .base import Query, Row, Table

TABLE = Table("environment_variables")
COLUMNS: base.Columns = {  # no "value": no response ever carries it
    "id": "int", "uuid": "text", "name": "text", "description": "text", "created_at": "datetime",
    "updated_at": "datetime",
}
SORTABLE = base.sortable(COLUMNS)
MESSAGES = {
    # resources/lang/en/environmentVariables.php
    "name.regex": "Name has to start with a letter and can contain only letters, numbers, and underscores (_).",
}


def rules(existing: int | None = None) -> RuleSet:
    """EnvironmentVariable::rules($existing)."""
    return {
        "name": ["required", "regex:/^[a-zA-Z][a-zA-Z_$0-9]*$/", Unique("environment_variables", "name", existing)],
        "description": ["required"],
        "value": ["nullable"],
    }


def serialize(row: Row) -> Row:
    return base.serialize_columns(row, COLUMNS)


def _save(store: Store, body: dict[str, Any], checks: RuleSet, write: Any) -> Any:
    validate(body, checks, store=store, messages=MESSAGES)
    return base.save(
        store, write, check=lambda: validate(body, checks, store=store, messages=MESSAGES), unique="name"
    )


def _columns(body: dict[str, Any]) -> Row:
    return {"name": base.text_value(body.get("name")), "description": base.text_value(body.get("description"))}


def create(store: Store, body: dict[str, Any]) -> Row:
    columns = base.new_row({**_columns(body), "value": base.text_value(body.get("value"))})
    return _save(store, body, rules(), lambda: TABLE.insert(store, columns))


def update(store: Store, variable: Row, body: dict[str, Any]) -> Row:
    columns = base.touched(_columns(body))
    if filled(body.get("value")):  # an empty value keeps the stored one
        columns["value"] = base.text_value(body["value"])
    _save(store, body, rules(variable["id"]), lambda: TABLE.update(store, variable["id"], columns))
    return TABLE.get(store, variable["id"])


def query(filter_text: str | None) -> Query:
    return Query("environment_variables").matching(filter_text, "name", "description")
