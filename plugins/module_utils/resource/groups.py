# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Groups: all data, no code."""

from __future__ import annotations

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Field,
    Kind,
)


class GroupsKind(Kind):
    name = "groups"
    path = "groups"
    singular = "group"
    rank = 30
    identity = ("name",)
    fields = (
        Field("name"),
        Field("description"),
        Field("status", choices=("ACTIVE", "INACTIVE"), create_default="ACTIVE", nullable=False),
    )
    put_repeats = ("name", "description", "status")
    notes = ("PUT answers 204 with no body; name is required on every PUT",
             "DELETE removes the group's memberships and permissions with it")
