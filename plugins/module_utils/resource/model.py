# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The item model of ``pm_resource``: fields, desired items, current objects, and the ``Kind`` base.

A kind says, as data: its API path, its identity keys, the fields it compares, the write-only fields
(never returned by the API: written on create, and on update only with ``update_secrets=always``),
the fields a PUT must repeat (ProcessMaker re-applies the create rules on update), the statuses each
write answers, where it stands in the order a configuration is applied, and its quirks. What cannot
be data, a kind answers for itself through the hooks of ``Kind`` (what it lists first, what it
resolves from the listings, what a change needs, how it reads its identity back): no other layer
ever tests a kind's name. Nothing here does I/O: the executor lists and writes, the planner decides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

UPDATE_SECRETS_CHOICES = ("always", "on_create")

_TRUE = frozenset(("y", "yes", "on", "1", "true", "t"))
_FALSE = frozenset(("n", "no", "off", "0", "false", "f", ""))


class ItemError(ValueError):
    """An item the kind cannot accept; str() is one line naming the item index and the field."""


# ---------------------------------------------------------------------------------------------
# Value normalization: the same functions read desired items and API objects, so both compare.


def norm_str(value: Any) -> Any:
    """How the server keeps a text field: trimmed (TrimStrings), "" becomes null."""
    if value.__class__ is str:  # nearly every value, of every item and every listed object
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        raise TypeError("must be a string")
    text = str(value).strip()
    return text or None


def norm_bool(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    raise ValueError("must be a boolean")


def norm_int(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("must be an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("must be an integer") from None


def norm_dict(value: Any) -> Any:
    """JSON objects (users' ``meta``): empty means null (ProcessMaker stores an empty meta as null)."""
    if value is None or value == {} or value == []:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("must be a mapping")
    return json.loads(json.dumps(value, sort_keys=True))


def norm_raw(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return json.loads(json.dumps(value, sort_keys=True)) if value is not None else None


NORMALIZERS = {"str": norm_str, "bool": norm_bool, "int": norm_int, "dict": norm_dict, "raw": norm_raw}


def identity_key(value: Any) -> str:
    """Identity values compare like MySQL's default collation: trimmed and case-insensitive."""
    return (value if value.__class__ is str else str(value)).strip().casefold()


def wire_value(value: Any) -> Any:
    """Booleans go out as 1/0: ProcessMaker's edit_username_password middleware runs a loose PHP
    ``in_array('password', $fields)`` over the body values, which ``true`` matches."""
    if isinstance(value, bool):
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "str"  # str | bool | int | dict | raw
    write_only: bool = False  # never returned by the API
    choices: tuple = ()
    create_default: Any = None  # applied only when creating
    required_on_create: bool = False
    nullable: bool = True  # False: the API requires a value on every write, so an item cannot clear it

    def normalize(self, value: Any) -> Any:
        value = NORMALIZERS[self.type](value)
        if value is None and not self.nullable:
            raise ValueError("cannot be empty (ProcessMaker requires it)")
        if self.choices and value is not None and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)} (got {value!r})")
        return value


@dataclass
class Desired:
    """One item of the task, validated and normalized. ``values`` holds only the fields given."""

    index: int
    key: tuple
    values: dict
    label: str

    def secrets(self, kind: Kind) -> list:
        return [name for name in kind.write_only_fields if self.values.get(name) is not None]


@dataclass
class Current:
    """One object the server has, normalized. ``raw`` is the API object (for the PUT repeats)."""

    key: tuple
    id: Any
    values: dict
    label: str
    raw: dict = field(default_factory=dict)
    deleted: bool = False
    protected: str | None = None  # why purge must leave it alone
    locked: bool = False  # never deleted, even when an item asks (the caller, system rows)


@dataclass(frozen=True)
class Write:
    """One request of an update (most kinds make one; some must make more, in order)."""

    method: str
    path: str
    body: Any
    statuses: tuple


@dataclass
class Settled:
    """What a kind whose writes the server finishes in the background found when it waited for them."""

    errors: dict = field(default_factory=dict)  # action number -> why it did not end well (one line)
    warnings: list = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What a kind's hooks may know about the run, built once per kind by ``Kind.context``."""

    caller_id: Any = None  # the user the task authenticates as (never purged, never deleted)
    actor_password: str | None = None  # the acting user's password (password grant), for writes that need it
    names: Mapping = field(default_factory=dict)  # what the kind resolved from the listings (names -> ids)


# ---------------------------------------------------------------------------------------------
# The kind


class Kind:
    name = ""
    path = ""  # below api_path
    singular = ""
    rank = 50  # where the kind stands when a configuration is applied: what others refer to comes first
    identity: tuple = ()  # identity field names (part of ``fields``)
    fields: tuple = ()  # every field an item may set, identity included
    put_repeats: tuple = ()  # fields every PUT must carry (from the current object when not changed)
    create_status: tuple = (201,)
    update_status: tuple = (204,)
    delete_status: tuple = (204,)
    can_create = True
    can_delete = True
    purgeable = True
    soft_delete = False  # deleted objects are kept and can be restored (users)
    deleted_path: str | None = None
    restore_path: str | None = None
    create_idempotent = False  # the server answers an existing one without creating: safe to retry
    lookup_param = "filter"  # query parameter that narrows a list to find one item again
    notes: tuple = ()  # quirks, in words (docs and tests read them)

    # ---- table helpers ------------------------------------------------------------------
    # Worked out once per kind (kinds are singletons, their tables class data): the hooks below run for
    # every item and every listed object, 10,000 of each in a large task.
    def field(self, name: str) -> Field:
        return self._fields_by_name[name]

    @cached_property
    def _fields_by_name(self) -> dict:
        return {item.name: item for item in self.fields}

    @cached_property
    def field_names(self) -> tuple:
        return tuple(item.name for item in self.fields)

    @cached_property
    def _field_name_set(self) -> frozenset:
        return frozenset(self.field_names)

    @cached_property
    def write_only_fields(self) -> tuple:
        return tuple(item.name for item in self.fields if item.write_only)

    @cached_property
    def not_compared_fields(self) -> frozenset:
        """Fields never compared with the server: the identity (matched case-insensitively) and the
        write-only ones (never read back)."""
        return frozenset(self.identity) | frozenset(self.write_only_fields)

    @cached_property
    def _read_back(self) -> tuple:
        """(name, normalizer) of the fields a listed object is read for."""
        return tuple((item.name, NORMALIZERS[item.type]) for item in self.fields if not item.write_only)

    @property
    def compared_fields(self) -> tuple:
        """Fields compared with the server (everything readable but the identity)."""
        return tuple(item.name for item in self.fields if not item.write_only and item.name not in self.identity)

    @property
    def lists(self) -> tuple:
        """Paths listed (once per task) to know the current state of this kind."""
        return (self.path,)

    def item_path(self, object_id: Any) -> str:
        return f"{self.path}/{object_id}"

    def context(self, lists: Mapping, caller_id: Any = None, actor_password: str | None = None) -> Context:
        """The run's context for this kind's hooks (what it resolves from the listings goes in ``names``)."""
        return Context(caller_id=caller_id, actor_password=actor_password)

    # ---- desired items -------------------------------------------------------------------
    def normalize_item(self, index: int, raw: Any) -> Desired:
        """Validate one task item. Raises ItemError: ``items[3]: unknown field 'emial' ...``."""
        where = self.check_shape(index, raw)
        values = {}
        fields = self._fields_by_name
        for name, value in raw.items():
            try:
                values[name] = fields[name].normalize(value)
            except (TypeError, ValueError) as error:
                raise ItemError(f"{where}: field {name!r} {error}") from None
        for name in self.identity:
            if values.get(name) is None:
                raise ItemError(f"{where}: missing identity field {name!r} for kind {self.name}")
        self.check_item(where, values)
        return Desired(index=index, key=self.key_of(values), values=values, label=self.label_of(values))

    def check_shape(self, index: int, raw: Any) -> str:
        """An item is a mapping of this kind's fields; returns where it is (``items[3]``)."""
        where = f"items[{index}]"
        if not isinstance(raw, Mapping):
            raise ItemError(f"{where}: each item must be a mapping of fields, got {type(raw).__name__}")
        known = self._field_name_set
        unknown = sorted(str(name) for name in raw if name not in known)
        if unknown:
            raise ItemError(
                f"{where}: unknown field {unknown[0]!r} for kind {self.name}"
                f" (fields: {', '.join(self.field_names)})"
            )
        return where

    def check_item(self, where: str, values: dict) -> None:
        """Kind-specific item rules (raise ItemError)."""

    def missing(self, desired: Desired) -> str:
        """Why an item of a kind that is never created here names nothing on the server."""
        return (f"no {self.singular} with {self.identity[0]} {desired.label!r} on the server ({self.name} are defined"
                " by ProcessMaker and only updated here; the API lists only the visible ones)")

    def check_change(self, changes: Mapping, context: Context) -> str | None:
        """Why the server would refuse these changes of an existing object, or None."""
        return None

    def key_of(self, values: Mapping) -> tuple:
        if len(self.identity) == 1:  # most kinds: read for every item and every listed object
            return (identity_key(values[self.identity[0]]),)
        return tuple(identity_key(values[name]) for name in self.identity)

    def label_of(self, values: Mapping) -> str:
        if len(self.identity) == 1:
            return str(values[self.identity[0]])
        return "/".join(str(values[name]) for name in self.identity)

    def identity_of(self, values: Mapping) -> dict:
        return {name: values.get(name) for name in self.identity}

    def readable(self, values: Mapping) -> dict:
        """The values as a diff shows them (write-only fields left out; the planner masks them)."""
        hidden = self.write_only_fields
        return {name: value for name, value in values.items() if name not in hidden}

    def missing_on_create(self, values: Mapping) -> list:
        return [item.name for item in self.fields if item.required_on_create and values.get(item.name) is None]

    def create_values(self, desired: Desired) -> dict:
        values = {item.name: item.create_default for item in self.fields if item.create_default is not None}
        values.update({name: value for name, value in desired.values.items() if value is not None})
        return values

    def same(self, name: str, wanted: Any, current: Current) -> bool:
        return wanted == current.values.get(name)

    def unresolved(self, values: Mapping, context: Context) -> list:
        """Objects of other kinds the item names that do not exist (yet)."""
        return []

    # ---- current objects ---------------------------------------------------------------------
    def current_items(self, lists: Mapping, context: Context) -> list:
        """Objects of this kind from the listed pages (``lists`` maps a path to its items)."""
        return [item for item in (self.to_current(raw, context) for raw in lists.get(self.path, []))
                if item is not None]

    def deleted_items(self, lists: Mapping) -> list:
        if not self.deleted_path:
            return []
        items = []
        for raw in lists.get(self.deleted_path, []):
            item = self.to_current(raw, Context())
            if item is not None:
                item.deleted = True
                items.append(item)
        return items

    def to_current(self, raw: Any, context: Context) -> Current | None:
        if not isinstance(raw, Mapping):
            return None
        for name in self.identity:
            if raw.get(name) is None:
                return None
        values = {}
        for name, normalize in self._read_back:
            if name in raw:
                try:
                    values[name] = normalize(raw[name])
                except (TypeError, ValueError):
                    values[name] = raw[name]
        protected, locked = self.protection(raw, context)
        # raw is the listing's own object, not a copy: nothing changes one (the planner and the inventory
        # make new mappings), and a listing of 10,000 users need not be held twice
        return Current(key=self.key_of(raw), id=raw.get("id"), values=values, label=self.label_of(raw),
                       raw=raw, protected=protected, locked=locked)

    def protection(self, raw: Mapping, context: Context) -> tuple:
        """(reason purge must leave the object alone or None, whether even state=absent must)."""
        return None, False

    def applied(self, current: Current | None, values: Mapping) -> dict:
        """What the server holds after writing ``values`` (for apply_plan and check-mode chaining)."""
        result = dict(current.values) if current is not None else {}
        fields = self._fields_by_name
        for name, value in values.items():
            if name in fields and not fields[name].write_only:
                result[name] = value
        return result

    def listed(self, values: Mapping, object_id: Any, context: Context) -> dict:
        """How a listing shows an object this task created (so later kinds see it without listing again)."""
        return dict(self.applied(None, values), id=object_id,
                    **{name: values.get(name) for name in self.identity})

    # ---- request bodies ------------------------------------------------------------------------
    def create_body(self, values: Mapping, context: Context) -> dict:
        return {name: wire_value(value) for name, value in values.items() if value is not None}

    def update_body(self, current: Current, values: Mapping, context: Context) -> dict:
        body = {}
        for name in self.put_repeats:
            if name in current.raw:
                body[name] = current.raw[name]
        for name, value in values.items():
            body[name] = wire_value(value)
        return body

    def update_requests(self, current: Current, values: Mapping, context: Context) -> list:
        """The requests that update an object: a PUT of the object, unless the kind says otherwise."""
        return [Write("PUT", self.item_path(current.id), self.update_body(current, values, context), self.update_status)]

    def settle(self, client: Any, written: list, timeout: float) -> Settled:
        """Wait for what the server finishes after answering (``written``: (number, action, outcome) of the
        writes that succeeded); most kinds are done when the write is answered."""
        return Settled()

    def lookup(self, values: Mapping, context: Context) -> tuple:
        """(path, query) of a list request that finds the item again (before retrying a create)."""
        return self.path, {self.lookup_param: str(values[self.identity[0]])}

    def matches(self, raw: Mapping, values: Mapping, context: Context) -> bool:
        """Whether a listed object is the item (same identity, read as the kind reads its objects)."""
        current = self.to_current(raw, context)
        return current is not None and current.key == self.key_of(values)
