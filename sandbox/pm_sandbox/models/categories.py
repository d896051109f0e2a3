"""Process, screen and script categories (one shape, three kinds in one table), and how processes,
screens and scripts sit in them (ProcessMaker's ``HasCategories``).

``*_category_id`` accepts one id or a comma-separated list. The first id is stored in the asset's own
column and all of them in ``category_assignments``; reading the attribute gives the assigned ids
joined with commas (a string, even for one id) or, when nothing is assigned, the raw column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from ..php import empty
from ..store import Store
from ..validation import MESSAGES, RuleSet, Unique, Validator, format_message, validate
from . import base
from .base import Query, Row, Table


@dataclass(frozen=True)
class AssetKind:
    """What can sit in a category: processes, screens or scripts."""

    kind: str  # categories.kind
    table: str
    model: str  # the PHP class, as stored in category_assignments.assignable_type
    category_column: str
    plural: str  # for the in-use 422 ("processes")


PROCESS = AssetKind("process", "processes", "ProcessMaker\\Models\\Process", "process_category_id", "processes")
SCREEN = AssetKind("screen", "screens", "ProcessMaker\\Models\\Screen", "screen_category_id", "screens")
SCRIPT = AssetKind("script", "scripts", "ProcessMaker\\Models\\Script", "script_category_id", "scripts")
ASSET_KINDS = {asset.kind: asset for asset in (PROCESS, SCREEN, SCRIPT)}

COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "name": "text", "status": "text", "is_system": "int", "created_at": "date",
    "updated_at": "date",
}
SORTABLE = base.sortable(COLUMNS)


@dataclass(frozen=True)
class Kind:
    """One of the three category resources."""

    assets: AssetKind
    path: str  # URL segment
    param: str  # route parameter
    permission: str  # e.g. "process-categories" in view-process-categories
    count_include: str = ""  # include= value that adds "<assets>_count"

    @property
    def table(self) -> Table:
        return Table("categories", scope=f"kind = '{self.assets.kind}'")


KINDS = [
    Kind(PROCESS, "process_categories", "process_category", "process-categories", count_include="processesCount"),
    Kind(SCREEN, "screen_categories", "screen_category", "screen-categories"),
    Kind(SCRIPT, "script_categories", "script_category", "script-categories"),
]


def rules(kind: Kind, existing: int | None = None) -> RuleSet:
    """ProcessCategory::rules($existing) (screen and script categories are the same)."""
    return {
        "name": ["required", "string", "max:100", Unique("categories", "name", existing, {"kind": kind.assets.kind}),
                 "alpha_spaces"],
        "status": ["required", "string", "in:ACTIVE,INACTIVE"],
    }


def serialize(row: Row) -> Row:
    return base.serialize_columns(row, COLUMNS)


def query(kind: Kind, filter_text: str | None, status: str | None) -> Query:
    listing = Query("categories", ["kind = ?", "is_system = 0"], [kind.assets.kind])
    listing.matching(filter_text, "name", "status")
    if status:
        listing.also("status LIKE ?", f"%{status}%")
    return listing


def _columns(body: dict[str, Any]) -> Row:
    return {"name": base.text_value(body["name"]), "status": base.text_value(body["status"])}


def create(store: Store, kind: Kind, body: dict[str, Any]) -> Row:
    validate(body, rules(kind), store=store)
    columns = base.new_row({"kind": kind.assets.kind, **_columns(body)})
    return base.save(store, lambda: kind.table.insert(store, columns),
                check=lambda: validate(body, rules(kind), store=store), unique="name")


def update(store: Store, kind: Kind, category: Row, body: dict[str, Any]) -> Row:
    checks = rules(kind, category["id"])
    validate(body, checks, store=store)
    columns = base.touched(_columns(body))
    base.save(store, lambda: kind.table.update(store, category["id"], columns),
         check=lambda: validate(body, checks, store=store), unique="name")
    return kind.table.get(store, category["id"])


def delete(store: Store, kind: Kind, category: Row) -> None:
    """A category that still holds assets stays (422 with their count)."""
    in_use = count_assets(store, kind.assets, category["id"])
    if in_use:
        plural = kind.assets.plural
        raise ValidationError({plural: in_use}, f"The item should not have associated {plural}")
    kind.table.delete(store, category["id"])


# ---- assets in categories (HasCategories) ---------------------------------------------------------


def split_ids(value: Any) -> list[str]:
    """``explode(',', $value)``: the parts as given (the rule checks that each one exists)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(part).strip() for part in value]
    return [part.strip() for part in str(value).split(",")]


def ids_from_input(value: Any) -> list[int]:
    """The validated input as integer ids, in the order given."""
    return [int(part) for part in split_ids(value) if part.lstrip("-").isdigit()]


def assigned_ids(store: Store, asset: AssetKind, asset_id: int) -> list[int]:
    rows = store.all(
        "SELECT category_id FROM category_assignments WHERE assignable_type = ? AND assignable_id = ?"
        " ORDER BY position, category_id",
        (asset.model, asset_id),
    )
    return [row["category_id"] for row in rows]


def attribute(store: Store, asset: AssetKind, row: Row) -> Any:
    """The ``*_category_id`` getter: assigned ids comma-joined, else the raw column."""
    ids = assigned_ids(store, asset, row["id"])
    return ",".join(str(i) for i in ids) if ids else row[asset.category_column]


def sync(store: Store, asset: AssetKind, asset_id: int, ids: list[int]) -> bool:
    """``categories()->sync($ids)``; True when the assignments changed."""
    wanted = list(dict.fromkeys(ids))
    if assigned_ids(store, asset, asset_id) == wanted:
        return False
    with store.transaction():
        unassign_all(store, asset, asset_id)
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


def exists(store: Store, kind: str, raw_id: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM categories WHERE id = ? AND kind = ?", (raw_id, kind)))


@dataclass
class CategoryRule:
    """``ProcessMaker\\Validation\\CategoryRule`` for a present value: every listed id must exist."""

    kind: str

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        assert validator.store is not None
        if isinstance(value, (dict, bool)):
            return ["Invalid category"]
        if all(part and exists(validator.store, self.kind, part) for part in split_ids(value)):
            return []
        return ["Invalid category"]


def require_category(body: dict[str, Any], attribute: str, creating: bool) -> None:
    """The empty case of CategoryRule, which runs a nested ``required`` validator and lets its exception
    escape: a new asset without a category gets that one error only, whatever else is wrong."""
    if creating and empty(body.get(attribute)):
        raise ValidationError({attribute: [format_message(MESSAGES["required"], attribute)]})


@dataclass
class CategoryExists:
    """``exists:process_categories,id`` (categories of one kind share the sandbox's table)."""

    kind: str

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        assert validator.store is not None
        if isinstance(value, (list, dict, bool)) or not exists(validator.store, self.kind, str(value)):
            return [validator.message("exists", attribute)]
        return []
