"""Scripts (ScriptController, the Script model). Scripts with a ``key`` are system scripts and are never listed.

Script executors are not a resource here: the sandbox has one fixed executor per language, as an
installation with the usual executor packages would (``config('script-runners')``).
"""

from __future__ import annotations

from typing import Any

from ..validation import RuleSet, Unique
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

# Script executor id -> language. lua and r are deprecated: kept for existing scripts, refused on create.
EXECUTORS = {1: "php", 2: "javascript", 3: "python", 4: "csharp", 5: "java", 6: "lua", 7: "r", 8: "php-nayra"}
DEPRECATED_LANGUAGES = {"lua", "r"}


def languages(creating: bool) -> list[str]:
    return [lang for lang in EXECUTORS.values() if not (creating and lang in DEPRECATED_LANGUAGES)]


def rules(existing: int | None = None) -> RuleSet:
    """Script::rules($existing); an empty category is handled first by ``require_category``."""
    creating = existing is None
    return {
        "key": [Unique("scripts", "key", existing)],
        "title": ["required", "string", Unique("scripts", "title", existing), "alpha_spaces"],
        "language": ["required_without:script_executor_id", "in:" + ",".join(languages(creating))],
        "script_executor_id": ["required_without:language", "in:" + ",".join(str(i) for i in EXECUTORS)],
        "description": ["required"],
        "run_as_user_id": ["required"],
        "timeout": ["integer", "min:0", "max:65535"],
        "retry_attempts": ["integer", "min:0", "max:65535"],
        "retry_wait_time": ["integer", "min:0", "max:65535"],
        "script_category_id": [CategoryRule("script")],
    }


def default_executor(language: str | None) -> int | None:
    """Script::setDefaultExecutor: the first executor for the language."""
    return next((executor for executor, lang in EXECUTORS.items() if lang == (language or "").lower()), None)


def values(body: dict[str, Any]) -> Row:
    """The fillable fields a body sends; language and executor each follow the other when only one is sent."""
    columns = fillable_values(body, COLUMNS, FILLABLE, NOT_NULL)
    if columns.get("script_executor_id") and "language" not in columns:
        columns["language"] = EXECUTORS[columns["script_executor_id"]]
    elif "language" in columns and not columns.get("script_executor_id"):
        columns["script_executor_id"] = default_executor(columns["language"])
    return MODEL.with_first_category(body, columns)


MODEL = AssetModel(SCRIPT, COLUMNS, "title", rules, values)


def query(filter_text: str | None) -> Query:
    listing = Query("scripts s LEFT JOIN categories c ON c.id = s.script_category_id",
                    ["s.key IS NULL", "c.is_system IS NULL OR c.is_system = 0"], columns="s.*", tie_breaker="s.id")
    return listing.matching(filter_text, "s.title", "s.description", "s.language", "c.name")
