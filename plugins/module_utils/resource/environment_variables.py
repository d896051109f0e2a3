# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Environment variables: a write-only value, and a description the API requires."""

from __future__ import annotations

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Desired,
    Field,
    Kind,
)


class EnvironmentVariablesKind(Kind):
    name = "environment_variables"
    path = "environment_variables"
    singular = "environment variable"
    rank = 20
    identity = ("name",)
    fields = (
        Field("name"),
        Field("description", nullable=False),  # required by the API; the name when creating without one
        Field("value", write_only=True),  # encrypted at rest, never returned
    )
    put_repeats = ("name", "description")
    update_status = (200,)
    delete_status = (200,)
    notes = ("the value is never returned: it is written on create, on update only with update_secrets=always",
             "PUT answers 200 with the object; an empty value keeps the stored one",
             "DELETE answers 200 with an empty body")

    def create_values(self, desired: Desired) -> dict:
        values = super().create_values(desired)
        values.setdefault("description", values["name"])
        return values
