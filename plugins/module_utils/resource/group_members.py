# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Group memberships, named by group, user and group names: the API speaks ids, so the kind resolves
names from the users and groups listings (its context) and reads its rows back through them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
    Current,
    Desired,
    Field,
    ItemError,
    Kind,
    identity_key,
    norm_str,
)

USER_CLASS = "ProcessMaker\\Models\\User"
GROUP_CLASS = "ProcessMaker\\Models\\Group"


class GroupMembersKind(Kind):
    """Items ``{group: Sales, user: jdoe}`` or ``{group: Sales, member_group: EMEA}``."""

    name = "group_members"
    path = "group_members"
    singular = "membership"
    rank = 50  # after the users and groups it names
    identity = ("group", "member_type", "member")
    fields = (Field("group"), Field("user"), Field("member_group"))
    create_idempotent = True  # POST of an existing (group, member) answers 201 [] and creates nothing
    notes = ("POST answers 201 with the membership, or 201 [] when it exists already (nothing created)",
             "there is no update: a membership is created or deleted; deleted by its row id")

    @property
    def lists(self) -> tuple:
        return ("users", "groups", "group_members")

    @property
    def compared_fields(self) -> tuple:
        return ()  # nothing to update: a membership exists or not

    def context(self, lists: Mapping, caller_id: Any = None, actor_password: str | None = None) -> Context:
        """Name -> id maps of users and groups (and back), from the listed pages."""
        users = [u for u in lists.get("users", []) if isinstance(u, Mapping) and u.get("username") is not None]
        groups = [g for g in lists.get("groups", []) if isinstance(g, Mapping) and g.get("name") is not None]
        names = {
            "user": {identity_key(u["username"]): u.get("id") for u in users},
            "group": {identity_key(g["name"]): g.get("id") for g in groups},
            "user_names": {str(u.get("id")): u["username"] for u in users},
            "group_names": {str(g.get("id")): g["name"] for g in groups},
        }
        return Context(caller_id=caller_id, actor_password=actor_password, names=names)

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
        member_type = "user" if values["user"] is not None else "group"
        member = {"group": values["group"], "member_type": member_type,
                  "member": values["user"] if member_type == "user" else values["member_group"]}
        return Desired(index=index, key=self.key_of(member), values=member, label=self.label_of(member))

    def label_of(self, values: Mapping) -> str:
        return f"{values['group']}/{values['member_type']}:{values['member']}"

    def identity_of(self, values: Mapping) -> dict:
        other = "user" if values.get("member_type") == "user" else "member_group"
        return {"group": values.get("group"), other: values.get("member")}

    def readable(self, values: Mapping) -> dict:
        return self.identity_of(values)

    def to_current(self, raw: Any, context: Context) -> Current | None:
        """A membership row (ids) read back as names through the listings."""
        if not isinstance(raw, Mapping):
            return None
        names = context.names
        group = names["group_names"].get(str(raw.get("group_id"))) or raw.get("name")
        member_type = "user" if raw.get("member_type") == USER_CLASS else "group"
        member = names[member_type + "_names"].get(str(raw.get("member_id")))
        protected = None
        if group is None:
            group, protected = f"#{raw.get('group_id')}", "its group is not listed"
        if member is None:
            member = f"#{raw.get('member_id')}"
            protected = f"its member ({member_type} #{raw.get('member_id')}) is not listed (a system user?)"
        elif (member_type == "user" and context.caller_id is not None
              and str(raw.get("member_id")) == str(context.caller_id)):
            protected = "a membership of the user this task authenticates as"
        values = {"group": group, "member_type": member_type, "member": member}
        return Current(key=self.key_of(values), id=raw.get("id"), values=values, label=self.label_of(values),
                       raw=dict(raw), protected=protected)

    def unresolved(self, values: Mapping, context: Context) -> list:
        """Names of the item that the server does not have (yet)."""
        missing = []
        if identity_key(values["group"]) not in context.names.get("group", {}):
            missing.append(f"group {values['group']!r}")
        if identity_key(values["member"]) not in context.names.get(values["member_type"], {}):
            missing.append(f"{values['member_type']} {values['member']!r}")
        return missing

    def create_body(self, values: Mapping, context: Context) -> dict:
        names = context.names
        return {
            "group_id": names["group"][identity_key(values["group"])],
            "member_id": names[values["member_type"]][identity_key(values["member"])],
            "member_type": USER_CLASS if values["member_type"] == "user" else GROUP_CLASS,
        }

    def listed(self, values: Mapping, object_id: Any, context: Context) -> dict:
        try:
            return dict(self.create_body(values, context), id=object_id)  # rows carry ids, not names
        except (KeyError, TypeError):  # names only planned (check mode): nothing to resolve them to
            return {"id": object_id}

    def lookup(self, values: Mapping, context: Context) -> tuple:
        return self.path, {"member_id": self.create_body(values, context)["member_id"]}
