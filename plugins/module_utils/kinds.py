# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ONE table of resource kinds ``pm_resource`` converges, and their pure item logic.

Each kind says, as data: its API path, its identity keys, the fields it compares, the write-only
fields (never returned by the API: written on create, and on update only with
``update_secrets=always``), the fields a PUT must repeat (ProcessMaker re-applies the create rules
on update), the statuses each write answers, and its quirks. The few behaviours that cannot be
data (resolving membership names to ids, settings typed by their ``format``) are methods of a
subclass. Nothing here does I/O: the executor lists and writes, the planner decides.

    kind = KINDS["users"]
    desired = kind.normalize_item(0, {"username": "jdoe", ...})   # raises ItemError (one line)
    current = kind.current_items({"users": [...]}, caller_id="1")
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_CLASS = "ProcessMaker\\Models\\User"
GROUP_CLASS = "ProcessMaker\\Models\\Group"

UPDATE_SECRETS_CHOICES = ("always", "on_create")

_TRUE = frozenset(("y", "yes", "on", "1", "true", "t"))
_FALSE = frozenset(("n", "no", "off", "0", "false", "f", ""))


class ItemError(ValueError):
    """An item the kind cannot accept; str() is one line naming the item index and the field."""


# ---------------------------------------------------------------------------------------------
# Value normalization: the same functions read desired items and API objects, so both compare.


def norm_str(value: Any) -> Any:
    """How the server keeps a text field: trimmed (TrimStrings), "" becomes null."""
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
    return str(value).strip().casefold()


def wire_value(value: Any) -> Any:
    """Booleans go out as 1/0: ProcessMaker's edit_username_password middleware runs a loose PHP
    ``in_array('password', $fields)`` over the body values, which ``true`` matches."""
    if isinstance(value, bool):
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------
# The item model shared by the planner and the executor.


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "str"  # str | bool | int | dict | raw
    write_only: bool = False  # never returned by the API
    choices: tuple = ()
    create_default: Any = None  # applied only when creating
    required_on_create: bool = False
    nullable: bool = True  # False: the API requires a value on every write, so an item cannot clear it
    doc: str = ""

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


# ---------------------------------------------------------------------------------------------
# Kinds


class Kind:
    name = ""
    path = ""  # below api_path
    singular = ""
    identity: tuple = ()  # identity field names (part of ``fields``)
    fields: tuple = ()  # every field an item may set, identity included
    put_repeats: tuple = ()  # fields every PUT must carry (from the current object when not changed)
    create_status: tuple = (201,)
    update_status: tuple = (204,)
    delete_status: tuple = (204,)
    update_returns_object = False
    can_create = True
    can_update = True
    can_delete = True
    purgeable = True
    soft_delete = False  # deleted objects are kept and can be restored (users)
    deleted_path: str | None = None
    restore_path: str | None = None
    create_idempotent = False  # the server answers an existing one without creating: safe to retry
    server_per_page = 10  # the API's default page size (we always ask for a big one)
    lookup_param = "filter"  # query parameter that narrows a list to find one item again
    notes: tuple = ()  # quirks, in words (docs and tests read them)

    # ---- table helpers ------------------------------------------------------------------
    def field(self, name: str) -> Field:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def field_names(self) -> tuple:
        return tuple(item.name for item in self.fields)

    @property
    def write_only_fields(self) -> tuple:
        return tuple(item.name for item in self.fields if item.write_only)

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

    # ---- desired items -------------------------------------------------------------------
    def normalize_item(self, index: int, raw: Any) -> Desired:
        """Validate one task item. Raises ItemError: ``items[3]: unknown field 'emial' ...``."""
        where = self.check_shape(index, raw)
        values = {}
        for name, value in raw.items():
            try:
                values[name] = self.field(name).normalize(value)
            except (TypeError, ValueError) as error:
                raise ItemError(f"{where}: field {name!r} {error}") from None
        for name in self.identity:
            if values.get(name) is None:
                raise ItemError(f"{where}: missing identity field {name!r} for kind {self.name}")
        self.check_item(where, values)
        key = self.key_of(values)
        return Desired(index=index, key=key, values=values, label=self.label_of(values))

    def check_shape(self, index: int, raw: Any) -> str:
        """An item is a mapping of this kind's fields; returns where it is (``items[3]``)."""
        where = f"items[{index}]"
        if not isinstance(raw, Mapping):
            raise ItemError(f"{where}: each item must be a mapping of fields, got {type(raw).__name__}")
        unknown = sorted(str(name) for name in raw if name not in self.field_names)
        if unknown:
            raise ItemError(
                f"{where}: unknown field {unknown[0]!r} for kind {self.name}"
                f" (fields: {', '.join(self.field_names)})"
            )
        return where

    def check_item(self, where: str, values: dict) -> None:
        """Kind-specific item rules (raise ItemError)."""

    def key_of(self, values: Mapping) -> tuple:
        return tuple(identity_key(values[name]) for name in self.identity)

    def label_of(self, values: Mapping) -> str:
        return "/".join(str(values[name]) for name in self.identity)

    def identity_of(self, values: Mapping) -> dict:
        return {name: values.get(name) for name in self.identity}

    def readable(self, values: Mapping) -> dict:
        """The values as a diff shows them (write-only fields left out; the planner masks them)."""
        return {name: value for name, value in values.items() if name not in self.write_only_fields}

    def missing_on_create(self, values: Mapping) -> list:
        return [item.name for item in self.fields if item.required_on_create and values.get(item.name) is None]

    def create_values(self, desired: Desired) -> dict:
        values = {item.name: item.create_default for item in self.fields if item.create_default is not None}
        values.update({name: value for name, value in desired.values.items() if value is not None})
        return values

    def same(self, name: str, wanted: Any, current: Current) -> bool:
        return wanted == current.values.get(name)

    def unresolved(self, values: Mapping, refs: Mapping) -> list:
        """Objects of other kinds the item names that do not exist (yet)."""
        return []

    # ---- current objects ---------------------------------------------------------------------
    def current_items(self, lists: Mapping, caller_id: Any = None) -> list:
        """Objects of this kind from the listed pages (``lists`` maps a path to its items)."""
        return [item for item in (self.to_current(raw, lists, caller_id) for raw in lists.get(self.path, []))
                if item is not None]

    def deleted_items(self, lists: Mapping) -> list:
        if not self.deleted_path:
            return []
        items = []
        for raw in lists.get(self.deleted_path, []):
            item = self.to_current(raw, lists, None)
            if item is not None:
                item.deleted = True
                items.append(item)
        return items

    def to_current(self, raw: Any, lists: Mapping, caller_id: Any) -> Current | None:
        if not isinstance(raw, Mapping) or any(raw.get(name) is None for name in self.identity):
            return None
        values = {}
        for item in self.fields:
            if item.write_only or item.name not in raw:
                continue
            try:
                values[item.name] = NORMALIZERS[item.type](raw[item.name])
            except (TypeError, ValueError):
                values[item.name] = raw[item.name]
        protected, locked = self.protection(raw, caller_id)
        return Current(key=self.key_of(raw), id=raw.get("id"), values=values, label=self.label_of(raw),
                       raw=dict(raw), protected=protected, locked=locked)

    def protection(self, raw: Mapping, caller_id: Any) -> tuple:
        """(reason purge must leave the object alone or None, whether even state=absent must)."""
        return None, False

    def applied(self, current: Current | None, values: Mapping) -> dict:
        """What the server holds after writing ``values`` (for apply_plan and check-mode chaining)."""
        result = dict(current.values) if current is not None else {}
        for name, value in values.items():
            if name in self.field_names and not self.field(name).write_only:
                result[name] = value
        return result

    # ---- request bodies ------------------------------------------------------------------------
    def create_body(self, values: Mapping, refs: Mapping | None = None) -> dict:
        return {name: wire_value(value) for name, value in values.items() if value is not None}

    def update_body(self, current: Current, values: Mapping, refs: Mapping | None = None,
                    extras: Mapping | None = None) -> dict:
        body = {}
        for name in self.put_repeats:
            if name in current.raw:
                body[name] = current.raw[name]
        for name, value in values.items():
            body[name] = wire_value(value)
        return body

    def lookup(self, values: Mapping, refs: Mapping | None = None) -> tuple:
        """(path, query) of a list request that finds the item again (before retrying a create)."""
        return self.path, {self.lookup_param: str(values[self.identity[0]])}

    def matches(self, raw: Mapping, values: Mapping, refs: Mapping | None = None) -> bool:
        """Whether a listed object is the item (same identity)."""
        return all(raw.get(name) is not None for name in self.identity) and self.key_of(raw) == self.key_of(values)

    def describe(self) -> dict:
        """The kind as data (docs, tests)."""
        return {
            "path": self.path,
            "identity": list(self.identity),
            "fields": [item.name for item in self.fields if item.name not in self.identity],
            "write_only": list(self.write_only_fields),
            "put_repeats": list(self.put_repeats),
            "statuses": {"create": list(self.create_status), "update": list(self.update_status),
                         "delete": list(self.delete_status)},
            "create": self.can_create,
            "update": self.can_update,
            "delete": self.can_delete,
            "purge": self.purgeable,
            "notes": list(self.notes),
        }


# ---- users -------------------------------------------------------------------------------------

USER_STATUSES = ("ACTIVE", "INACTIVE", "OUT_OF_OFFICE", "SCHEDULED", "BLOCKED")


class UsersKind(Kind):
    name = "users"
    path = "users"
    singular = "user"
    identity = ("username",)
    fields = (
        Field("username", doc="Login name (identity, case-insensitive like the server's unique rule)."),
        Field("email", required_on_create=True, nullable=False),
        Field("firstname", required_on_create=True, nullable=False),
        Field("lastname", required_on_create=True, nullable=False),
        Field("status", choices=USER_STATUSES, create_default="ACTIVE", nullable=False),
        Field("password", write_only=True, required_on_create=True, nullable=False,
              doc="Write-only: set on create (and restore); on update only with update_secrets=always."),
        Field("title"), Field("address"), Field("city"), Field("state"), Field("postal"), Field("country"),
        Field("phone"), Field("fax"), Field("cell"), Field("birthdate"), Field("timezone"),
        Field("datetime_format"), Field("language"),
        Field("meta", "dict"),
        Field("force_change_password", "bool"),
        Field("email_task_notification", "bool"),
    )
    # PUT /users/{id} re-applies the create rules; an absent or empty meta is stored as null.
    put_repeats = ("username", "firstname", "lastname", "email", "status", "meta")
    update_status = (204,)
    delete_status = (204,)
    soft_delete = True
    deleted_path = "deleted_users"
    restore_path = "users/restore"
    notes = (
        "PUT answers 204 with no body and needs username, firstname, lastname, email and status every time",
        "DELETE is a soft delete: the user leaves every group and PUT /users/restore brings it back (200 [])",
        "changing an email needs the acting user's own password (valpassword)",
        "system users (is_system) are not listed; purge never removes the caller or an administrator",
    )

    def protection(self, raw: Mapping, caller_id: Any) -> tuple:
        if caller_id is not None and str(raw.get("id")) == str(caller_id):
            return "the user this task authenticates as", True
        if raw.get("is_system"):
            return "a system user", True
        if raw.get("is_administrator"):
            return "an administrator (purge never removes one; list it with state=absent to delete it)", False
        return None, False

    def update_body(self, current: Current, values: Mapping, refs: Mapping | None = None,
                    extras: Mapping | None = None) -> dict:
        body = super().update_body(current, values, refs, extras)
        if "email" in values and (extras or {}).get("valpassword"):
            body["valpassword"] = extras["valpassword"]  # ProcessMaker: an email change needs the actor's password
        return body


# ---- groups ------------------------------------------------------------------------------------


class GroupsKind(Kind):
    name = "groups"
    path = "groups"
    singular = "group"
    identity = ("name",)
    fields = (
        Field("name"),
        Field("description"),
        Field("status", choices=("ACTIVE", "INACTIVE"), create_default="ACTIVE", nullable=False),
    )
    put_repeats = ("name", "description", "status")
    notes = ("PUT answers 204 with no body; name is required on every PUT",
             "DELETE removes the group's memberships and permissions with it")


# ---- group members -----------------------------------------------------------------------------


class GroupMembersKind(Kind):
    """Items ``{group: Sales, user: jdoe}`` or ``{group: Sales, member_group: EMEA}``, by name."""

    name = "group_members"
    path = "group_members"
    singular = "membership"
    identity = ("group", "member_type", "member")
    fields = (
        Field("group", doc="Name of the group."),
        Field("user", doc="Username of a member user (or member_group)."),
        Field("member_group", doc="Name of a member group (or user)."),
    )
    can_update = False
    create_idempotent = True  # POST of an existing (group, member) answers 201 [] and creates nothing
    notes = ("POST answers 201 with the membership, or 201 [] when it exists already (nothing created)",
             "there is no update: a membership is created or deleted; deleted by its row id")

    @property
    def lists(self) -> tuple:
        return ("users", "groups", "group_members")

    @property
    def compared_fields(self) -> tuple:
        return ()

    def normalize_item(self, index: int, raw: Any) -> Desired:
        where = self.check_shape(index, raw)
        values = {}
        for name in self.field_names:
            try:
                values[name] = norm_str(raw.get(name))
            except (TypeError, ValueError) as error:
                raise ItemError(f"{where}: field {name!r} {error}") from None
        if values["group"] is None:
            raise ItemError(f"{where}: missing identity field 'group' for kind group_members")
        if (values["user"] is None) == (values["member_group"] is None):
            raise ItemError(f"{where}: set exactly one of 'user' or 'member_group' (the member of {values['group']!r})")
        if values["user"] is not None:
            member = {"group": values["group"], "member_type": "user", "member": values["user"]}
        else:
            member = {"group": values["group"], "member_type": "group", "member": values["member_group"]}
        return Desired(index=index, key=self.key_of(member), values=member, label=self.label_of(member))

    def key_of(self, values: Mapping) -> tuple:
        return (identity_key(values["group"]), values["member_type"], identity_key(values["member"]))

    def label_of(self, values: Mapping) -> str:
        return f"{values['group']}/{values['member_type']}:{values['member']}"

    def identity_of(self, values: Mapping) -> dict:
        other = "user" if values.get("member_type") == "user" else "member_group"
        return {"group": values.get("group"), other: values.get("member")}

    def readable(self, values: Mapping) -> dict:
        return self.identity_of(values)

    @staticmethod
    def refs(lists: Mapping) -> dict:
        """Name -> id maps of users and groups (and back), from the listed pages."""
        users = [u for u in lists.get("users", []) if isinstance(u, Mapping) and u.get("username") is not None]
        groups = [g for g in lists.get("groups", []) if isinstance(g, Mapping) and g.get("name") is not None]
        return {
            "user": {identity_key(u["username"]): u.get("id") for u in users},
            "group": {identity_key(g["name"]): g.get("id") for g in groups},
            "user_names": {str(u.get("id")): u["username"] for u in users},
            "group_names": {str(g.get("id")): g["name"] for g in groups},
        }

    def current_items(self, lists: Mapping, caller_id: Any = None) -> list:
        refs = self.refs(lists)
        items = []
        for raw in lists.get(self.path, []):
            if not isinstance(raw, Mapping):
                continue
            group = refs["group_names"].get(str(raw.get("group_id"))) or raw.get("name")
            member_type = "user" if raw.get("member_type") == USER_CLASS else "group"
            names = refs["user_names"] if member_type == "user" else refs["group_names"]
            member = names.get(str(raw.get("member_id")))
            protected = None
            if group is None:
                group, protected = f"#{raw.get('group_id')}", "its group is not listed"
            if member is None:
                member = f"#{raw.get('member_id')}"
                protected = f"its member ({member_type} #{raw.get('member_id')}) is not listed (a system user?)"
            elif member_type == "user" and caller_id is not None and str(raw.get("member_id")) == str(caller_id):
                protected = "a membership of the user this task authenticates as"
            values = {"group": group, "member_type": member_type, "member": member}
            items.append(Current(key=self.key_of(values), id=raw.get("id"), values=values,
                                 label=self.label_of(values), raw=dict(raw), protected=protected))
        return items

    def unresolved(self, values: Mapping, refs: Mapping) -> list:
        """Names of the item that the server does not have (yet)."""
        missing = []
        if identity_key(values["group"]) not in refs.get("group", {}):
            missing.append(f"group {values['group']!r}")
        if identity_key(values["member"]) not in refs.get(values["member_type"], {}):
            missing.append(f"{values['member_type']} {values['member']!r}")
        return missing

    def create_body(self, values: Mapping, refs: Mapping | None = None) -> dict:
        refs = refs or {}
        return {
            "group_id": refs["group"][identity_key(values["group"])],
            "member_id": refs[values["member_type"]][identity_key(values["member"])],
            "member_type": USER_CLASS if values["member_type"] == "user" else GROUP_CLASS,
        }

    def lookup(self, values: Mapping, refs: Mapping | None = None) -> tuple:
        body = self.create_body(values, refs)
        return self.path, {"member_id": body["member_id"]}

    def matches(self, raw: Mapping, values: Mapping, refs: Mapping | None = None) -> bool:
        body = self.create_body(values, refs)
        return (str(raw.get("group_id")) == str(body["group_id"]) and str(raw.get("member_id")) == str(body["member_id"])
                and raw.get("member_type") == body["member_type"])

    def describe(self) -> dict:
        described = super().describe()
        described["identity"] = ["group", "user | member_group"]
        described["fields"] = []
        return described


# ---- environment variables -----------------------------------------------------------------------


class EnvironmentVariablesKind(Kind):
    name = "environment_variables"
    path = "environment_variables"
    singular = "environment variable"
    identity = ("name",)
    fields = (
        Field("name"),
        Field("description", nullable=False, doc="Required by the API; defaults to the name when creating."),
        Field("value", write_only=True,
              doc="Write-only (encrypted at rest, never returned): set on create; on update only with"
                  " update_secrets=always."),
    )
    put_repeats = ("name", "description")
    update_status = (200,)
    update_returns_object = True
    delete_status = (200,)
    notes = ("the value is never returned: it is written on create, on update only with update_secrets=always",
             "PUT answers 200 with the object; an empty value keeps the stored one",
             "DELETE answers 200 with an empty body")

    def create_values(self, desired: Desired) -> dict:
        values = super().create_values(desired)
        values.setdefault("description", values["name"])
        return values


# ---- categories ----------------------------------------------------------------------------------


class CategoriesKind(Kind):
    identity = ("name",)
    fields = (
        Field("name"),
        Field("status", choices=("ACTIVE", "INACTIVE"), create_default="ACTIVE", nullable=False),
    )
    put_repeats = ("name", "status")
    update_status = (200,)
    update_returns_object = True
    notes = ("PUT answers 200 with the object and needs name and status every time",
             "DELETE answers 422 while assets are assigned to the category",
             "system categories are not listed")

    def __init__(self, name: str, singular: str) -> None:
        self.name = name
        self.path = name
        self.singular = singular


# ---- settings ------------------------------------------------------------------------------------

RAW_FORMATS = frozenset(("text", "textarea", "file", "choice", "range"))


def stored_config(value: Any) -> Any:
    """How ProcessMaker writes a config value into its text column."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def config_for_format(fmt: Any, value: Any) -> Any:
    """The config value to send for a setting of ``format`` (a boolean setting gets a real boolean:
    the server casts the stored text, and the string "false" would read back as true)."""
    try:
        if fmt == "boolean":
            return norm_bool(value) if value is not None else False
        if fmt in RAW_FORMATS:
            return norm_str(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"config {error} (the setting's format is {fmt})") from None
    return value


def comparable_config(fmt: Any, value: Any) -> Any:
    """Config in one comparable form, whatever the format."""
    if fmt == "boolean":
        try:
            return bool(norm_bool(value))
        except (TypeError, ValueError):
            return value
    if fmt in RAW_FORMATS:
        return norm_str(stored_config(value))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.loads(json.dumps(value, sort_keys=True)) if value is not None else None


def typed_config(fmt: Any, value: Any) -> Any:
    """What GET /settings answers for a config written as ``value`` (Setting::getConfigAttribute)."""
    stored = stored_config(config_for_format(fmt, value))
    if fmt in RAW_FORMATS:
        return stored
    if fmt == "boolean":
        return stored not in (None, "", "0")
    return json.loads(stored) if stored is not None else None


class SettingsKind(Kind):
    name = "settings"
    path = "settings"
    singular = "setting"
    identity = ("key",)
    fields = (
        Field("key"),
        Field("config", "raw", doc="The value, typed by the setting's format (boolean, text, array, object...)."),
    )
    put_repeats = ("key",)
    can_create = False
    can_delete = False
    purgeable = False
    server_per_page = 25
    notes = ("there is no single-setting GET: settings are listed (visible ones only) and found by key",
             "PUT /settings/{id} answers 204 and needs key and config",
             "settings are defined by ProcessMaker: they are updated, never created or deleted here")

    def check_item(self, where: str, values: dict) -> None:
        if "config" not in values:
            raise ItemError(f"{where}: missing field 'config' for setting {values['key']!r}")

    def same(self, name: str, wanted: Any, current: Current) -> bool:
        fmt = current.raw.get("format")
        return comparable_config(fmt, wanted) == comparable_config(fmt, current.values.get(name))

    def to_current(self, raw: Any, lists: Mapping, caller_id: Any) -> Current | None:
        item = super().to_current(raw, lists, caller_id)
        if item is not None:
            item.values["config"] = raw.get("config")  # kept as typed by the server
        return item

    def applied(self, current: Current | None, values: Mapping) -> dict:
        result = dict(current.values) if current is not None else {}
        if "config" in values:
            result["config"] = typed_config(current.raw.get("format") if current else None, values["config"])
        return result

    def update_body(self, current: Current, values: Mapping, refs: Mapping | None = None,
                    extras: Mapping | None = None) -> dict:
        return {"key": current.raw.get("key"), "config": config_for_format(current.raw.get("format"),
                                                                           values.get("config"))}


# ---------------------------------------------------------------------------------------------
# The table

KINDS = {
    kind.name: kind
    for kind in (
        UsersKind(),
        GroupsKind(),
        GroupMembersKind(),
        EnvironmentVariablesKind(),
        CategoriesKind("process_categories", "process category"),
        CategoriesKind("screen_categories", "screen category"),
        CategoriesKind("script_categories", "script category"),
        SettingsKind(),
    )
}

# The order a whole configuration is applied in: what later kinds refer to comes first.
DEPENDENCY_ORDER = (
    "settings", "process_categories", "screen_categories", "script_categories", "environment_variables",
    "groups", "users", "group_members",
)

SECRET_FIELDS = frozenset(name for kind in KINDS.values() for name in kind.write_only_fields)


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ItemError(f"unknown kind {name!r} (kinds: {', '.join(KINDS)})") from None


def _leaves(value: Any) -> list:
    """Every scalar inside a value, as text (a secret given as a mapping or a list is still a secret)."""
    if isinstance(value, Mapping):
        return [leaf for child in value.values() for leaf in _leaves(child)]
    if isinstance(value, (list, tuple)):
        return [leaf for child in value for leaf in _leaves(child)]
    if value is None or isinstance(value, bool) or value == "":
        return []
    return [str(value)]


def secret_values(items: Any, names: Iterable[str] = SECRET_FIELDS) -> list:
    """Every write-only value in raw task items, masked in all output before anything else runs (so
    before validation, which may reject it): keys matched as the server would not (any case, spaces
    around), values of any type (a mapping given as a password is masked leaf by leaf)."""
    found = []
    names = frozenset(name.casefold() for name in names)
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            for name, value in item.items():
                if str(name).strip().casefold() in names:
                    found.extend(_leaves(value))
                    if not isinstance(value, str) and value not in (None, ""):
                        found.append(json.dumps(value, sort_keys=True, default=str))
    return found
