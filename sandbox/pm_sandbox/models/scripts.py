"""Scripts (ScriptController, the Script model). Scripts with a ``key`` are system scripts and are never listed.

A script runs in a script executor (``script_executor_id``, models/script_executors.py); the languages are
those of ``config('script-runners')``, as an installation with the usual executor packages has them.
"""

from __future__ import annotations

from typing import Any

from ..store import Store
from ..validation import RuleSet, Unique
from . import script_executors
from .assets import AssetModel, fillable_values
from .base import Columns, Query, Row, sortable
from .categories import SCRIPT, CategoryRule

COLUMNS: Columns = {
    "id": "int", "uuid": "text", "key": "text", "title": "text", "description": "text", "language": "text",
    "code": "text", "timeout": "int", "run_as_user_id": "int", "status": "text", "script_category_id": "int",
    "script_executor_id": "int", "retry_attempts": "int", "retry_wait_time": "int", "asset_type": "text",
    "is_template": "int", "created_at": "date", "updated_at": "date",
}
FILLABLE = [
    "key", "title", "description", "language", "code", "timeout", "run_as_user_id", "status", "script_executor_id",
    "retry_attempts", "retry_wait_time", "asset_type", "is_template",
]
NOT_NULL = {"language", "timeout", "status", "retry_attempts", "retry_wait_time", "is_template"}
SORTABLE = sortable(COLUMNS, "s.")

# lua and r are deprecated: kept for existing scripts, refused on create.
DEPRECATED_LANGUAGES = {"lua", "r"}


def languages(creating: bool) -> list[str]:
    return [lang for lang in script_executors.LANGUAGES if not (creating and lang in DEPRECATED_LANGUAGES)]


def rules(existing: int | None = None) -> RuleSet:
    """Script::rules($existing); an empty category is handled first by ``require_category``."""
    creating = existing is None
    return {
        "key": [Unique("scripts", "key", existing)],
        "title": ["required", "string", Unique("scripts", "title", existing), "alpha_spaces"],
        "language": ["required_without:script_executor_id", "in:" + ",".join(languages(creating))],
        "script_executor_id": ["required_without:language", script_executors.ExecutorExists()],
        "description": ["required"],
        "run_as_user_id": ["required"],
        "timeout": ["integer", "min:0", "max:65535"],
        "retry_attempts": ["integer", "min:0", "max:65535"],
        "retry_wait_time": ["integer", "min:0", "max:65535"],
        "script_category_id": [CategoryRule("script")],
    }


def values(store: Store, body: dict[str, Any]) -> Row:
    """The fillable fields a body sends; language and executor each follow the other when only one is sent
    (Script::setDefaultExecutor picks the language's first executor)."""
    columns = fillable_values(body, COLUMNS, FILLABLE, NOT_NULL)
    if columns.get("script_executor_id") and "language" not in columns:
        columns["language"] = script_executors.language_of(store, columns["script_executor_id"])
    elif "language" in columns and not columns.get("script_executor_id"):
        columns["script_executor_id"] = script_executors.default_for(store, columns["language"])
    return MODEL.with_first_category(body, columns)


MODEL = AssetModel(SCRIPT, COLUMNS, "title", rules, values)


def query(filter_text: str | None) -> Query:
    listing = Query("scripts s LEFT JOIN categories c ON c.id = s.script_category_id",
                    ["s.key IS NULL", "c.is_system IS NULL OR c.is_system = 0"], columns="s.*", tie_breaker="s.id")
    return listing.matching(filter_text, "s.title", "s.description", "s.language", "c.name")
