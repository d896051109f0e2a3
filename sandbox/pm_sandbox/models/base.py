"""What the models share: tables with route-model binding, saves under the write lock, column types,
and list queries. Nothing here knows HTTP; failures are ``errors`` domain errors.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..errors import NotFound, ServerError
from ..php import date_carbon_json, date_iso8601, date_plain
from ..security import new_uuid
from ..store import Store, db_timestamp
from ..validation import taken

Row = dict[str, Any]
T = TypeVar("T")

USER_CLASS = "ProcessMaker\\Models\\User"
GROUP_CLASS = "ProcessMaker\\Models\\Group"


# ---- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One table as a model sees it: find a row by id (route-model binding), insert and read it back."""

    name: str
    scope: str = ""  # an extra condition every lookup carries, e.g. "deleted_at IS NULL"

    def find(self, store: Store, key: Any) -> Row | None:
        condition = f" AND {self.scope}" if self.scope else ""
        return store.one(f'SELECT * FROM "{self.name}" WHERE id = ?{condition}', (key,))

    def get(self, store: Store, key: Any) -> Row:
        """The row, or NotFound (the API's 404 ``{"error": "Not Found"}``)."""
        row = self.find(store, key)
        if row is None:
            raise NotFound()
        return row

    def insert(self, store: Store, values: Row) -> Row:
        """Insert and read the row back as the database has it (defaults and the new id filled in)."""
        row = self.find(store, store.insert(self.name, values))
        assert row is not None
        return row

    def update(self, store: Store, key: Any, values: Row) -> None:
        store.update(self.name, key, values)

    def delete(self, store: Store, key: Any) -> None:
        store.execute(f'DELETE FROM "{self.name}" WHERE id = ?', (key,))


def new_row(columns: Row, **more: Any) -> Row:
    """The columns of a new row: a fresh ``uuid`` and both timestamps added (Eloquent's creating event)."""
    now = db_timestamp()
    return {**columns, **more, "uuid": new_uuid(), "created_at": now, "updated_at": now}


def touched(columns: Row) -> Row:
    """The columns of an update, with ``updated_at``."""
    return {**columns, "updated_at": db_timestamp()}


def model_key(value: Any) -> int | None:
    """A model key as Eloquent's ``where('id', $value)`` matches it: integers and digit strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def save(
    store: Store,
    write: Callable[[], T],
    *,
    check: Callable[[], None] | None = None,
    unique: str | None = None,
    index: str | None = None,
) -> T:
    """Run ``check`` (the validation) and ``write`` in one write transaction.

    BEGIN IMMEDIATE serializes writers, so a rule that reads (``unique``) and the write see the same rows;
    a writer that still hits the UNIQUE index of ``unique`` (one named ``index``, if given) gets the
    rule's 422 "has already been taken" rather than a 500.
    """
    try:
        with store.transaction():
            if check is not None:
                check()
            return write()
    except sqlite3.IntegrityError as error:
        if unique is not None and (index is None or index in str(error)):
            raise taken(unique) from error
        raise


# ---- column types: a request value -> the stored column -> what a response shows -------------------

ColumnType = Literal["int", "text", "json", "object", "bool", "date", "datetime", "carbon"]
Columns = dict[str, ColumnType]


def json_or_none(value: str | None, *, as_object: bool = False) -> Any:
    if value is None or value == "":
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    if as_object and decoded == []:
        return {}  # PHP's json_decode of "{}" to an object round-trips as {}
    return decoded


def text_value(value: Any) -> Any:
    """How MySQL stores a value sent for a text column: scalars as text, arrays as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


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


_SHOWN: dict[str, Callable[[Any], Any]] = {
    "json": json_or_none,
    "object": lambda raw: json_or_none(raw, as_object=True),
    "bool": bool,
    "date": date_iso8601,
    "datetime": date_plain,
    "carbon": date_carbon_json,
}


def shown(column_type: ColumnType, raw: Any) -> Any:
    """A column as the model's ``toArray()`` shows it (casts applied, dates in the model's format)."""
    convert = _SHOWN.get(column_type)
    return raw if convert is None else convert(raw)


def serialize_columns(row: Row, columns: Columns) -> Row:
    return {name: shown(column_type, row.get(name)) for name, column_type in columns.items()}


def dirty(current: Row, values: Row, columns: Columns) -> Row:
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


# ---- lists ---------------------------------------------------------------------------------------


@dataclass
class Query:
    """The rows a list endpoint shows: ``SELECT columns FROM source WHERE ...``, counted and paged in SQL."""

    source: str
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    columns: str = "*"
    tie_breaker: str = "id"  # breaks ties in any order, so pages never overlap
    tie_follows_order: bool = True  # DESC lists walk the tie-breaker backwards too

    def also(self, clause: str, *params: Any) -> Query:
        self.where.append(clause)
        self.params.extend(params)
        return self

    def matching(self, text: str | None, *columns: str) -> Query:
        """The ``filter`` parameter: any of ``columns`` contains ``text``."""
        if text:
            self.also(" OR ".join(f"{column} LIKE ?" for column in columns), *[f"%{text}%"] * len(columns))
        return self

    def _condition(self) -> str:
        return (" WHERE " + " AND ".join(f"({clause})" for clause in self.where)) if self.where else ""

    def count(self, store: Store) -> int:
        return int(store.scalar(f"SELECT COUNT(*) FROM {self.source}{self._condition()}", tuple(self.params)) or 0)

    def rows(self, store: Store, order: str, limit: int = -1, offset: int = 0) -> list[Row]:
        # The tie-breaker follows the main direction so a DESC list still walks its index backwards.
        tie = f"{self.tie_breaker} DESC" if self.tie_follows_order and order.endswith(" DESC") else self.tie_breaker
        sql = f"SELECT {self.columns} FROM {self.source}{self._condition()} ORDER BY {order}, {tie} LIMIT ? OFFSET ?"
        return store.all(sql, (*self.params, limit, offset))


def sortable(columns: Columns, prefix: str = "") -> dict[str, str]:
    """The ``order_by`` values a table accepts: its columns (text ones sort case-insensitively, like MySQL's
    collation); JSON columns cannot be sorted."""
    return {
        name: f"{prefix}{name} COLLATE NOCASE" if kind == "text" else f"{prefix}{name}"
        for name, kind in columns.items() if kind not in ("json", "object")
    }


def order_by(
    columns: dict[str, str],
    requested: str | None,
    direction: str | None,
    default_column: str,
    default_direction: str = "ASC",
    *,
    whitelist: bool = False,
) -> str:
    """``ORDER BY`` for ``order_by``/``order_direction``. ``columns`` maps an accepted name to its SQL.

    ProcessMaker passes ``order_by`` straight to the query builder, so an unknown column is a 500 there;
    with ``whitelist`` it is ignored instead (SettingController).
    """
    column = requested or default_column
    if column not in columns:
        if not whitelist:
            raise ServerError()
        column = default_column
    chosen = (direction or default_direction).lower()
    if chosen not in ("asc", "desc"):
        raise ServerError()  # Laravel: Order direction must be "asc" or "desc".
    return f"{columns[column]} {chosen.upper()}"
