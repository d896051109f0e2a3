"""Build a v2 package from the database (ProcessMaker's Exporter and its per-type exporters).

What an asset depends on (its ``dependents``):

* a process: the screens and scripts its BPMN refers to (``pm:screenRef`` / ``pm:scriptRef``, one
  dependent per element, ``meta.path`` locating the element), its categories, the users and groups its
  tasks are assigned to (``user_assignment`` / ``group_assignment``, one dependent per element and id,
  ``meta`` = ``{path, assignmentType}``, as ProcessExporter::exportAssignments), its cancel and
  request-detail screens;
* a screen or a script: its categories.

Users and groups are explicitly discarded (GroupExporter, UserExporter ``$discard``): the package never
holds them, their dependents carry what the importer matches them by (``fallbackMatches``: a group's
name, a user's email and username). Process owners and managers, run-as users, script executors,
environment variables, nested screens and watchers are not followed. Assets are listed root first, then
depth first in the order found; an asset whose export option is ``mode: discard`` is left out (it stays
listed as a dependent). A dependent whose asset the package does not hold has ``name: ""``, as
Dependent::getName gives it.
"""

from __future__ import annotations

import json
from typing import Any

from ..store import Store
from . import bpmn, processes
from .base import Row
from .categories import ASSET_KINDS, assigned_ids
from .packages import (
    CATEGORY_TYPES,
    GROUP,
    PROCESS,
    SCREEN,
    SCRIPT,
    USER,
    VERSION,
    AssetType,
)


class Exporter:
    def __init__(self, store: Store, options: dict[str, Any] | None = None) -> None:
        self.store = store
        self.options = options if isinstance(options, dict) else {}
        self.manifest: dict[str, Row] = {}

    def mode(self, uuid: str) -> str:
        chosen = self.options.get(uuid)
        mode = chosen.get("mode") if isinstance(chosen, dict) else None
        return mode if isinstance(mode, str) else "update"

    def package(self, asset: AssetType, row: Row) -> Row:
        self.add(asset, row)
        return {
            "type": f"{asset.basename.lower()}_package",
            "version": VERSION,
            "root": row["uuid"],
            "name": row[asset.name_column],
            "export": {uuid: info for uuid, info in self.manifest.items() if info["mode"] != "discard"},
        }

    # one asset and what it depends on
    def add(self, asset: AssetType, row: Row) -> None:
        info: Row = {}
        self.manifest[row["uuid"]] = info  # listed before its dependents, like Manifest::push
        dependents: list[Row] = []
        references: Row = {}
        for kind, dependent_type, meta, dependent_row in self.dependencies(asset, row):
            if (dependent_row["uuid"] not in self.manifest and self.mode(dependent_row["uuid"]) != "discard"
                    and not dependent_type.explicit_discard):
                self.add(dependent_type, dependent_row)
            dependents.append({
                "type": kind,
                "uuid": dependent_row["uuid"],
                "meta": meta,
                "exporterClass": dependent_type.exporter,
                "modelClass": dependent_type.model,
                "fallbackMatches": {column: dependent_row.get(column) for column in dependent_type.fallback},
                "name": dependent_row[dependent_type.name_column] if dependent_row["uuid"] in self.manifest else "",
                "discard": False,
            })
            if kind == "categories":
                references["uncategorized-category"] = False
        manager_id, manager_name = self.manager(asset, row)
        info.update({
            "exporter": asset.exporter,
            "type": asset.basename,
            "type_human": asset.type_human,
            "type_plural": asset.type_plural,
            "type_human_plural": asset.type_human_plural,
            "last_modified_by": "",
            "last_modified_by_id": None,
            "model": asset.model,
            "force_password_protect": False,
            "hidden": False,
            "mode": self.mode(row["uuid"]),
            "saveAssetsMode": "saveAllAssets",
            "explicit_discard": False,
            "dependents": dependents,
            "name": row[asset.name_column],
            "description": row.get("description"),
            "process_manager": manager_name,
            "process_manager_id": manager_id,
            "attributes": asset.exported_attributes(row),
            "extraAttributes": {"translatedLanguages": self.languages(row)},
            "references": references,
        })

    def dependencies(self, asset: AssetType, row: Row) -> list[tuple[str, AssetType, Any, Row]]:
        """(dependent type, asset type, meta, row) for everything ``row`` refers to that exists."""
        found: list[tuple[str, AssetType, Any, Row]] = []
        if asset is PROCESS:
            for reference in bpmn.references(row["bpmn"]):
                target = SCREEN if reference.kind == "screen" else SCRIPT
                dependent = self.row(target, reference.asset_id)
                if dependent is not None:
                    found.append((f"{reference.kind}s", target, {"path": reference.path}, dependent))
        if asset.asset_kind:
            category_type = CATEGORY_TYPES[asset.asset_kind]
            for category_id in assigned_ids(self.store, ASSET_KINDS[asset.asset_kind], row["id"]) or [
                row.get(f"{asset.asset_kind}_category_id")
            ]:
                category = self.row(category_type, category_id)
                if category is not None:
                    found.append(("categories", category_type, None, category))
        if asset is PROCESS:
            found.extend(self.assignments(row))
            for column, kind in (("cancel_screen_id", "cancel-screen"), ("request_detail_screen_id", "request-detail-screen")):
                screen = self.row(SCREEN, row[column])
                if screen is not None:
                    found.append((kind, SCREEN, None, screen))
        return found

    def assignments(self, row: Row) -> list[tuple[str, AssetType, Any, Row]]:
        """ProcessExporter::exportAssignments: per task, its users then its groups that exist here."""
        found: list[tuple[str, AssetType, Any, Row]] = []
        for assignment in bpmn.assignments(row["bpmn"]):
            meta = {"path": assignment.path, "assignmentType": assignment.assignment_type}
            for kind, target, ids in (("user_assignment", USER, assignment.user_ids),
                                      ("group_assignment", GROUP, assignment.group_ids)):
                for value in ids:
                    dependent = self.row(target, value.strip()) if value.strip().isdigit() else None
                    if dependent is not None:
                        found.append((kind, target, dict(meta), dependent))
        return found

    def row(self, asset: AssetType, asset_id: Any) -> Row | None:
        if asset_id is None:
            return None
        if asset is USER:  # User::find leaves soft-deleted users out
            return self.store.one("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL", (asset_id,))
        if asset.category_kind:
            return self.store.one("SELECT * FROM categories WHERE id = ? AND kind = ?", (asset_id, asset.category_kind))
        return self.store.one(f'SELECT * FROM "{asset.table}" WHERE id = ?', (asset_id,))

    def manager(self, asset: AssetType, row: Row) -> tuple[int | None, str]:
        """ExporterBase::getProcessManager (only processes have one)."""
        if asset is not PROCESS:
            return None, ""
        manager_id = processes.manager_id(row)
        user = self.store.one("SELECT firstname, lastname FROM users WHERE id = ?", (manager_id,)) if manager_id else None
        return (manager_id, f"{user['firstname']} {user['lastname']}") if user else (None, "")

    @staticmethod
    def languages(row: Row) -> Any:
        """ExporterBase::getExtraAttributes: the languages a screen has translations for (``[]`` if none)."""
        translations = json.loads(row["translations"]) if row.get("translations") else None
        return {code: code for code in translations} if isinstance(translations, dict) and translations else []
