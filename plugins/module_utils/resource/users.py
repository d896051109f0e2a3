# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Users: soft-deleted and restored, the caller and system users protected, an email change that
needs the acting user's password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
    Current,
    Field,
    Kind,
    norm_dict,
)

USER_STATUSES = ("ACTIVE", "INACTIVE", "OUT_OF_OFFICE", "SCHEDULED", "BLOCKED")


class UsersKind(Kind):
    name = "users"
    path = "users"
    singular = "user"
    rank = 40  # after the groups and settings they may depend on, before memberships
    identity = ("username",)
    fields = (
        Field("username"),
        Field("email", required_on_create=True, nullable=False),
        Field("firstname", required_on_create=True, nullable=False),
        Field("lastname", required_on_create=True, nullable=False),
        Field("status", choices=USER_STATUSES, create_default="ACTIVE", nullable=False),
        Field("password", write_only=True, required_on_create=True, nullable=False),
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

    def protection(self, raw: Mapping, context: Context) -> tuple:
        if context.caller_id is not None and str(raw.get("id")) == str(context.caller_id):
            return "the user this task authenticates as", True
        if raw.get("is_system"):
            return "a system user", True
        if raw.get("is_administrator"):
            return "an administrator (purge never removes one; list it with state=absent to delete it)", False
        return None, False

    def check_change(self, changes: Mapping, context: Context) -> str | None:
        if "email" in changes and not context.actor_password:
            return ("changing the email of a user needs the acting user's password (ProcessMaker asks for it as"
                    " valpassword); authenticate with grant_type=password, or leave email out")
        return None

    def same(self, name: str, wanted: Any, current: Current) -> bool:
        if name == "meta":  # the collection's own records in meta (a permissions fingerprint) are not the item's
            return norm_dict(_own(wanted)) == norm_dict(_own(current.values.get("meta")))
        return super().same(name, wanted, current)

    def update_body(self, current: Current, values: Mapping, context: Context) -> dict:
        body = super().update_body(current, values, context)
        if "meta" in values:  # keep the collection's records the item does not know about
            kept = {key: value for key, value in (current.raw.get("meta") or {}).items() if key.startswith(RESERVED)}
            body["meta"] = dict(values["meta"] or {}, **kept) or None
        if "email" in values and context.actor_password:
            body["valpassword"] = context.actor_password  # ProcessMaker: an email change needs the actor's password
        return body


# keys of a user's meta that the collection writes itself (processmaker_core_permissions, ...)
RESERVED = "processmaker_core_"


def _own(meta: Any) -> Any:
    """A meta without the collection's own records."""
    if not isinstance(meta, Mapping):
        return meta
    return {key: value for key, value in meta.items() if not str(key).startswith(RESERVED)}
