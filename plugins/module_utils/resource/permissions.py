# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Permissions of a user or a group: items ``{user: jdoe, permissions: [...], is_administrator: false}``
or ``{group: Sales, permissions: [...]}``.

``PUT /permissions`` replaces the holder's whole set (``permission_names``; a user's ``is_administrator``
too). Reading them back, ProcessMaker's API offers one path, for groups only: ``GET /groups?include=
permissions``; a user's permissions are hidden on every route (``is_administrator`` is shown). So the kind
compares a group's set with the server's, and for a user records a fingerprint of the set it granted in
the user's ``meta`` (``processmaker_core_permissions``) and grants again only when the declared set differs
from it. A change made to a user's permissions in the web UI is not seen: an item with ``force: true``
grants its set again on every run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
    Current,
    Desired,
    Field,
    ItemError,
    Kind,
    Write,
    identity_key,
    norm_bool,
    norm_str,
)

FINGERPRINT = "processmaker_core_permissions"  # the key in a user's meta
GROUPS_WITH_PERMISSIONS = "groups?include=permissions"


def fingerprint(names: Any) -> str:
    """What a user's meta records of the set granted: a digest, not the names."""
    return hashlib.sha256(json.dumps(sorted(set(names or ()))).encode("utf-8")).hexdigest()[:32]


class PermissionsKind(Kind):
    name = "permissions"
    path = "permissions"
    singular = "permission set"
    rank = 60  # after the users and groups it names
    identity = ("holder_type", "holder")
    fields = (Field("user"), Field("group"), Field("permissions", "raw"), Field("is_administrator", "bool"),
              Field("force", "bool"))
    can_create = False  # every user and group has a set (maybe empty): it is replaced, never created
    can_delete = False
    purgeable = False
    notes = (("PUT /permissions replaces the whole set; the API reads a group's set (GET /groups?include=permissions),"
              " never a user's: the kind keeps a fingerprint of what it granted in the user's meta"),
             "only an administrator (or edit-users for users) may grant; is_administrator only an administrator")

    @property
    def lists(self) -> tuple:
        # "groups" is shared with the groups kind (so groups a task creates are known), the include for the sets
        return ("users", "groups", GROUPS_WITH_PERMISSIONS)

    @property
    def compared_fields(self) -> tuple:
        return ("grant",)

    # ---- items -----------------------------------------------------------------------------------
    def normalize_item(self, index: int, raw: Any) -> Desired:
        """The set and the administrator flag travel together as one ``grant``: PUT /permissions replaces
        both, so whatever differs, the whole grant is written."""
        where = self.check_shape(index, raw)
        try:
            user, group = norm_str(raw.get("user")), norm_str(raw.get("group"))
        except (TypeError, ValueError) as error:
            raise ItemError(f"{where}: {error}") from None
        if (user is None) == (group is None):
            raise ItemError(f"{where}: set exactly one of 'user' or 'group' (whose permissions these are)")
        names = raw.get("permissions")
        if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
            raise ItemError(f"{where}: field 'permissions' must be the whole list of permission names (ProcessMaker"
                            " replaces the set), [] for none")
        grant: dict = {"permissions": sorted({name.strip() for name in names})}
        for flag in ("is_administrator", "force"):
            if raw.get(flag) is not None:
                if flag == "is_administrator" and group:
                    raise ItemError(f"{where}: is_administrator is for a user, not a group")
                try:
                    grant[flag] = norm_bool(raw[flag])
                except (TypeError, ValueError) as error:
                    raise ItemError(f"{where}: field {flag!r} {error}") from None
        values = {"holder_type": "user" if user else "group", "holder": user or group, "grant": grant}
        return Desired(index=index, key=self.key_of(values), values=values, label=self.label_of(values))

    def missing(self, desired: Desired) -> str:
        holder = desired.values["holder_type"]
        return (f"no {holder} {desired.values['holder']!r} on the server; create it first (kind {holder}s, in an"
                " earlier task or the same task's resources)")

    def key_of(self, values: Mapping) -> tuple:
        return (values["holder_type"], identity_key(values["holder"]))

    def label_of(self, values: Mapping) -> str:
        return f"{values['holder_type']}:{values['holder']}"

    def identity_of(self, values: Mapping) -> dict:
        return {values.get("holder_type"): values.get("holder")}

    def readable(self, values: Mapping) -> dict:
        shown = dict(self.identity_of(values))
        grant = values.get("grant") or {}
        shown.update({name: grant[name] for name in ("permissions", "is_administrator") if name in grant})
        return shown

    # ---- what the server has -----------------------------------------------------------------------
    def current_items(self, lists: Mapping, context: Context) -> list:
        items = []
        for raw in lists.get("users", []):
            if isinstance(raw, Mapping) and raw.get("username") is not None:
                meta = raw.get("meta") if isinstance(raw.get("meta"), Mapping) else {}
                grant = {"fingerprint": meta.get(FINGERPRINT), "is_administrator": bool(raw.get("is_administrator"))}
                items.append(self._current({"holder_type": "user", "holder": raw["username"], "grant": grant}, raw))
        sets = {str(group.get("id")): group.get("permissions") for group in lists.get(GROUPS_WITH_PERMISSIONS, [])
                if isinstance(group, Mapping)}
        for raw in lists.get("groups", []):
            if isinstance(raw, Mapping) and raw.get("name") is not None:
                granted = sets.get(str(raw.get("id"))) or []
                names = sorted({p.get("name") for p in granted if isinstance(p, Mapping) and p.get("name")})
                items.append(self._current({"holder_type": "group", "holder": raw["name"],
                                            "grant": {"permissions": names}}, raw))
        return items

    def _current(self, values: dict, raw: Mapping) -> Current:
        return Current(key=self.key_of(values), id=raw.get("id"), values=values, label=self.label_of(values),
                       raw=dict(raw))

    def same(self, name: str, wanted: Any, current: Current) -> bool:
        have = current.values.get("grant") or {}
        if wanted.get("force"):
            return False
        if current.values["holder_type"] == "group":
            return wanted["permissions"] == have.get("permissions")
        if "is_administrator" in wanted and wanted["is_administrator"] != have.get("is_administrator"):
            return False
        return fingerprint(wanted["permissions"]) == have.get("fingerprint")

    def applied(self, current: Current | None, values: Mapping) -> dict:
        result = dict(current.values) if current is not None else {}
        if "grant" in values:
            wanted = values["grant"]
            grant = dict(result.get("grant") or {})
            if result.get("holder_type") == "user":
                grant["fingerprint"] = fingerprint(wanted["permissions"])
                if "is_administrator" in wanted:
                    grant["is_administrator"] = wanted["is_administrator"]
            else:
                grant["permissions"] = wanted["permissions"]
            result["grant"] = grant
        return result

    # ---- writes ------------------------------------------------------------------------------------
    def update_requests(self, current: Current, values: Mapping, context: Context) -> list:
        holder = current.values["holder_type"]
        grant = values["grant"]
        body: dict = {f"{holder}_id": current.id, "permission_names": list(grant["permissions"])}
        if "is_administrator" in grant:
            body["is_administrator"] = grant["is_administrator"]
        writes = [Write("PUT", "permissions", body, (204,))]
        if holder == "user":
            # the fingerprint in the user's meta (PUT /users/{id} re-applies the create rules: repeat them)
            raw = current.raw
            meta = dict(raw.get("meta") if isinstance(raw.get("meta"), Mapping) else {})
            meta[FINGERPRINT] = fingerprint(grant["permissions"])
            user = {name: raw.get(name) for name in ("username", "firstname", "lastname", "email", "status")}
            writes.append(Write("PUT", f"users/{current.id}", dict(user, meta=meta), (204,)))
        return writes
