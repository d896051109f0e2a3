# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process, screen and script categories: one kind, three paths."""

from __future__ import annotations

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Field,
    Kind,
)


class CategoriesKind(Kind):
    rank = 10
    identity = ("name",)
    fields = (
        Field("name"),
        Field("status", choices=("ACTIVE", "INACTIVE"), create_default="ACTIVE", nullable=False),
    )
    put_repeats = ("name", "status")
    update_status = (200,)
    notes = ("PUT answers 200 with the object and needs name and status every time",
             "DELETE answers 422 while assets are assigned to the category",
             "system categories are not listed")

    def __init__(self, name: str, singular: str) -> None:
        self.name = name
        self.path = name
        self.singular = singular
