# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The table of resource kinds ``pm_resource`` converges: one registration line per kind.

    kind = KINDS["users"]
    desired = kind.normalize_item(0, {"username": "jdoe", ...})   # raises ItemError (one line)

Adding a kind: its own file (a ``Kind`` subclass: data, and the hooks it needs), one line here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.redaction import MASK
from ansible_collections.processmaker.core.plugins.module_utils.resource.categories import (
    CategoriesKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.environment_variables import (
    EnvironmentVariablesKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.group_members import (
    GroupMembersKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.groups import (
    GroupsKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.permissions import (
    PermissionsKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.script_executors import (
    ScriptExecutorsKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.settings import (
    SettingsKind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.users import (
    UsersKind,
)

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
        PermissionsKind(),
        ScriptExecutorsKind(),
    )
}

# The order a whole configuration is applied in: each kind's rank (what later kinds refer to comes first).
DEPENDENCY_ORDER = tuple(sorted(KINDS, key=lambda name: KINDS[name].rank))

SECRET_FIELDS = frozenset(name for kind in KINDS.values() for name in kind.write_only_fields)


def _leaves(value: Any) -> list:
    """Every scalar inside a value, as text (a secret given as a mapping or a list is still a secret)."""
    if isinstance(value, Mapping):
        return [leaf for child in value.values() for leaf in _leaves(child)]
    if isinstance(value, (list, tuple)):
        return [leaf for child in value for leaf in _leaves(child)]
    if value is None or isinstance(value, bool) or value == "":
        return []
    return [str(value)]


class _SecretKeys(dict):
    """Whether a key of an item names a write-only field, matched as the server would not (any case,
    spaces around); worked out once per distinct key, as 10,000 items share a handful of keys."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__()
        self.names = frozenset(name.casefold() for name in names)

    def __missing__(self, key: Any) -> bool:
        secret = self[key] = str(key).strip().casefold() in self.names
        return secret


def secret_values(items: Any, names: Iterable[str] = SECRET_FIELDS) -> list:
    """Every write-only value in raw task items, masked in all output before anything else runs (so
    before validation, which may reject it): keys matched as the server would not (any case, spaces
    around), values of any type (a mapping given as a password is masked leaf by leaf)."""
    found = []
    secret = _SecretKeys(names)
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            for name, value in item.items():
                if secret[name]:
                    found.extend(_leaves(value))
                    if not isinstance(value, str) and value not in (None, ""):
                        found.append(json.dumps(value, sort_keys=True, default=str))
    return found


def masked_items(items: Any, names: Iterable[str] = SECRET_FIELDS) -> Any:
    """Raw task items as a result may show them (``invocation.module_args``): the value of every write-only
    field, keys matched as ``secret_values`` matches them, replaced by ******** whatever its type, and a text
    item that names one (``username=jdoe password=...``, which Ansible reads as a mapping) replaced whole.
    The items themselves are not changed."""
    if not isinstance(items, list):
        return items
    secret = _SecretKeys(names)
    shown = []
    for item in items:
        if isinstance(item, Mapping):
            if any(secret[name] for name in item):
                item = {name: MASK if secret[name] and value not in (None, "") else value
                        for name, value in item.items()}
        elif isinstance(item, str) and any(name in item.casefold() for name in secret.names):
            item = MASK
        shown.append(item)
    return shown
