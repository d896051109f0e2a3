"""The design assets (processes, screens, scripts): what the three share, and the one path they are saved by.

Each asset declares its columns once as ``{name: type}``; serializing, request values, the dirty check
and the importer all convert through them. A save validates and writes (the row and its category
links) in one write transaction, so the unique rule and the UNIQUE index agree and a writer that loses
a race gets the same 422 "has already been taken" as a plain duplicate. Like Eloquent, an update that
changes nothing writes nothing and keeps ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..php import empty
from ..store import Store
from ..validation import RuleSet, validate
from . import base, categories
from .base import Row, Table
from .categories import AssetKind


def fillable_values(body: dict[str, Any], columns: base.Columns, fillable: list[str], not_null: set[str]) -> Row:
    """The fillable fields a body sends, as columns; null for a NOT NULL column keeps the stored value."""
    values = {name: base.stored(columns[name], body[name]) for name in fillable if name in body}
    for name in not_null:
        if name in values and values[name] is None:
            del values[name]
    return values


@dataclass(frozen=True)
class AssetModel:
    kind: AssetKind
    columns: base.Columns  # the columns the resource shows
    name_column: str  # unique per table: "name" or "title"
    rules: Callable[[int | None], RuleSet] | None = None  # Model::rules($existing), for create() and update()
    values: Callable[[Store, dict[str, Any]], Row] | None = None  # the body's fillable fields as columns

    @property
    def table(self) -> Table:
        return Table(self.kind.table)

    def serialize(self, store: Store, row: Row, extra: Row | None = None) -> Row:
        """The model's attributes, the ``*_category_id`` accessor, ``extra`` appends, then ``projects``."""
        data = base.serialize_columns(row, self.columns)
        data[self.kind.category_column] = categories.attribute(store, self.kind, row)
        data.update(extra or {})
        data["projects"] = []
        return data

    def category_ids(self, body: dict[str, Any]) -> list[int] | None:
        """The categories a body assigns (None: leave them as they are)."""
        value = body.get(self.kind.category_column)
        return None if empty(value) else categories.ids_from_input(value)

    def with_first_category(self, body: dict[str, Any], values: Row) -> Row:
        """The asset's own category column holds the first assigned category."""
        ids = self.category_ids(body)
        if ids is not None:
            values[self.kind.category_column] = ids[0]
        return values

    # ---- create and update for screens and scripts (processes add their BPMN around the same saves)
    def create(self, store: Store, body: dict[str, Any]) -> Row:
        assert self.rules is not None and self.values is not None
        categories.require_category(body, self.kind.category_column, creating=True)
        checks = self.rules(None)
        validate(body, checks, store=store)
        return self.insert(store, body, checks, base.new_row(self.values(store, body)), self.category_ids(body))

    def update(self, store: Store, row: Row, body: dict[str, Any]) -> None:
        assert self.rules is not None and self.values is not None
        checks = self.rules(row["id"])
        validate(body, checks, store=store)
        changes = self.changes(row, self.values(store, body))
        self.write(store, row, body, checks, changes, self.category_ids(body))

    def changes(self, row: Row, values: Row, columns: base.Columns | None = None) -> Row:
        changed = base.dirty(row, values, columns or self.columns)
        return base.touched(changed) if changed else changed

    # ---- the one save path
    def insert(self, store: Store, body: dict[str, Any], checks: RuleSet, values: Row,
               category_ids: list[int] | None) -> Row:
        def write() -> Row:
            row = self.table.insert(store, values)
            if category_ids is not None:
                categories.sync(store, self.kind, row["id"], category_ids)
            return row

        return base.save(store, write, check=lambda: validate(body, checks, store=store), unique=self.name_column)

    def write(self, store: Store, row: Row, body: dict[str, Any], checks: RuleSet, changes: Row,
              category_ids: list[int] | None) -> None:
        def write() -> None:
            self.table.update(store, row["id"], changes)
            if category_ids is not None:
                categories.sync(store, self.kind, row["id"], category_ids)

        base.save(store, write, check=lambda: validate(body, checks, store=store), unique=self.name_column)

    def delete(self, store: Store, row: Row) -> None:
        with store.transaction():
            categories.unassign_all(store, self.kind, row["id"])
            self.table.delete(store, row["id"])
