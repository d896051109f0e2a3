"""How processes, screens and scripts sit in categories (ProcessMaker's ``HasCategories``).

``*_category_id`` accepts one id or a comma-separated list. The first id is stored in the asset's own
column and all of them in ``category_assignments``; reading the attribute gives the assigned ids
joined with commas (a string, even for one id) or, when nothing is assigned, the raw column.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..http import Context, ValidationFailed
from ..store import Store
from ..validation import MESSAGES, Validator, format_message, taken, validate

T = TypeVar("T")


@dataclass(frozen=True)
class AssetKind:
    kind: str  # categories.kind
    table: str
    model: str  # the PHP class, as stored in category_assignments.assignable_type
    category_column: str


PROCESS = AssetKind("process", "processes", "ProcessMaker\\Models\\Process", "process_category_id")
SCREEN = AssetKind("screen", "screens", "ProcessMaker\\Models\\Screen", "screen_category_id")
SCRIPT = AssetKind("script", "scripts", "ProcessMaker\\Models\\Script", "script_category_id")
ASSET_KINDS = {asset.kind: asset for asset in (PROCESS, SCREEN, SCRIPT)}


def split_ids(value: Any) -> list[str]:
    """``explode(',', $value)``: the parts as given (the rule checks that each one exists)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(part).strip() for part in value]
    return [part.strip() for part in str(value).split(",")]


def is_empty(value: Any) -> bool:
    """PHP's ``empty()`` for request input."""
    return value in (None, "", "0", 0, False, [], {})


def assigned_ids(store: Store, asset: AssetKind, asset_id: int) -> list[int]:
    rows = store.all(
        "SELECT category_id FROM category_assignments WHERE assignable_type = ? AND assignable_id = ?"
        " ORDER BY position, category_id",
        (asset.model, asset_id),
    )
    return [row["category_id"] for row in rows]


def category_attribute(store: Store, asset: AssetKind, row: dict[str, Any]) -> Any:
    """The ``*_category_id`` getter: assigned ids comma-joined, else the raw column."""
    ids = assigned_ids(store, asset, row["id"])
    return ",".join(str(i) for i in ids) if ids else row[asset.category_column]


def sync_categories(store: Store, asset: AssetKind, asset_id: int, ids: list[int]) -> bool:
    """``categories()->sync($ids)``; True when the assignments changed."""
    wanted = list(dict.fromkeys(ids))
    if assigned_ids(store, asset, asset_id) == wanted:
        return False
    with store.transaction():
        store.execute(
            "DELETE FROM category_assignments WHERE assignable_type = ? AND assignable_id = ?", (asset.model, asset_id)
        )
        for position, category_id in enumerate(wanted):
            store.insert(
                "category_assignments",
                {"category_id": category_id, "assignable_type": asset.model, "assignable_id": asset_id,
                 "position": position},
            )
    return True


def unassign_all(store: Store, asset: AssetKind, asset_id: int) -> None:
    store.execute(
        "DELETE FROM category_assignments WHERE assignable_type = ? AND assignable_id = ?", (asset.model, asset_id)
    )


def count_assets(store: Store, asset: AssetKind, category_id: int) -> int:
    """Assets of this kind in the category: by their column or by an assignment."""
    sql = (
        f'SELECT COUNT(*) FROM "{asset.table}" WHERE {asset.category_column} = ? OR id IN '
        "(SELECT assignable_id FROM category_assignments WHERE assignable_type = ? AND category_id = ?)"
    )
    return int(store.scalar(sql, (category_id, asset.model, category_id)) or 0)


def category_exists(store: Store, kind: str, raw_id: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM categories WHERE id = ? AND kind = ?", (raw_id, kind)))


@dataclass
class CategoryRule:
    """``ProcessMaker\\Validation\\CategoryRule`` for a present value: every listed id must exist."""

    kind: str

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        assert validator.store is not None
        if isinstance(value, (dict, bool)):
            return ["Invalid category"]
        if all(part and category_exists(validator.store, self.kind, part) for part in split_ids(value)):
            return []
        return ["Invalid category"]


def require_category(body: dict[str, Any], attribute: str, creating: bool) -> None:
    """The empty case of CategoryRule, which runs a nested ``required`` validator and lets its exception
    escape: a new asset without a category gets that one error only, whatever else is wrong."""
    if creating and is_empty(body.get(attribute)):
        raise ValidationFailed({attribute: [format_message(MESSAGES["required"], attribute)]})


@dataclass
class CategoryExists:
    """``exists:process_categories,id`` (categories of one kind share the sandbox's table)."""

    kind: str

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        assert validator.store is not None
        if isinstance(value, (list, dict, bool)) or not category_exists(validator.store, self.kind, str(value)):
            return [validator.message("exists", attribute)]
        return []


def category_ids_from_input(value: Any) -> list[int]:
    """The validated input as integer ids, in the order given."""
    return [int(part) for part in split_ids(value) if part.lstrip("-").isdigit()]


def save_asset(ctx: Context, body: dict[str, Any], rules: Any, unique_field: str, write: Callable[[], T]) -> T:
    """Validate and write in one transaction: the unique rule and the UNIQUE index then agree, and a
    writer that loses a race gets the same 422 "has already been taken" as a plain duplicate."""
    try:
        with ctx.store.transaction():
            validate(body, rules, store=ctx.store)
            return write()
    except sqlite3.IntegrityError as error:
        raise taken(unique_field) from error
