"""Screens (ScreenController, the Screen model)."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..store import Store
from ..validation import RuleSet, Unique
from .assets import AssetModel, fillable_values
from .base import Columns, Query, Row, sortable
from .categories import SCREEN, CategoryRule

COLUMNS: Columns = {
    "id": "int", "uuid": "text", "screen_category_id": "int", "title": "text", "description": "text",
    "type": "text", "config": "json", "computed": "json", "custom_css": "text", "status": "text", "key": "text",
    "watchers": "json", "translations": "json", "asset_type": "text", "is_template": "int", "is_default": "int",
    "created_at": "date", "updated_at": "date",
}
# Screen::$guarded is id and the timestamps; these are the columns a body may set.
FILLABLE = [
    "title", "description", "type", "config", "computed", "custom_css", "status", "key", "watchers",
    "translations", "asset_type", "is_template", "is_default",
]
NOT_NULL = {"type", "status", "is_template", "is_default"}
SORTABLE = sortable(COLUMNS, "s.")


def rules(existing: int | None = None) -> RuleSet:
    """Screen::rules($existing); an empty category is handled first by ``require_category``."""
    return {
        "title": ["required", Unique("screens", "title", existing), "alpha_spaces"],
        "description": ["required"],
        "type": ["required"],
        "screen_category_id": [CategoryRule("screen")],
    }


def values(store: Store, body: dict[str, Any]) -> Row:
    return MODEL.with_first_category(body, fillable_values(body, COLUMNS, FILLABLE, NOT_NULL))


MODEL = AssetModel(SCREEN, COLUMNS, "title", rules, values)


def delete(store: Store, screen: Row) -> None:
    if screen["is_default"]:
        raise ValidationError({"is_default": "Default screens cannot be deleted"}, "Cannot delete a default screen")
    MODEL.delete(store, screen)


def query(filter_text: str | None, types: list[str], key: str | None) -> Query:
    """Screens outside system categories; ``type`` takes a comma-separated list."""
    listing = Query("screens s LEFT JOIN categories c ON c.id = s.screen_category_id",
                    ["c.is_system IS NULL OR c.is_system = 0"], columns="s.*", tie_breaker="s.id")
    listing.matching(filter_text, "s.title", "s.description", "c.name")
    if types:
        listing.also(f"s.type IN ({', '.join('?' * len(types))})", *types)
    if key:
        listing.also("s.key = ?", key)
    return listing
