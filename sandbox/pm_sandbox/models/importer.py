"""Apply a v2 package (ProcessMaker's Importer, ``Manifest::fromArray`` and the exporters' ``import()``).

Each asset of the package gets a mode from the import options (``{<uuid>: {"mode": ...}}``, or a
global ``{"mode": ...}``; default ``update``):

* ``update``: the asset with the package's uuid, failing that the one with the same name/title (a
  screen also by ``key``; "fallback match"), is updated in place and takes the package's uuid. With
  no match it is created with the package's uuid (the plan then says ``new``).
* ``copy``: a new asset with a new uuid.
* ``discard``: nothing is written; references to it point at the matching asset already installed,
  or are cleared when there is none.

Created and updated assets keep the package's ``created_at``/``updated_at`` (Eloquent fills them from
the attributes and only stamps what is not set). A name/title another asset already uses gets
" 2", " 3", ... appended (``updateDuplicateAttributes``). References are rewritten to the ids on this
instance: categories (``*_category_id`` and the category links), the BPMN's ``pm:screenRef`` and
``pm:scriptRef`` (only the attribute value is touched), ``cancel_screen_id`` and
``request_detail_screen_id``. A process keeps its owner on update and belongs to the importing user
when created; a script keeps its run-as user when that user exists here, else the first administrator.

Task assignments (ProcessExporter::importAssignments): the users and groups a package's process assigns
tasks to are never in the package (they are explicitly discarded), only named by its ``user_assignment``
and ``group_assignment`` dependents. Each is linked to the user or group here with the same uuid, else
the same name (a group) or email, then username (a user; soft-deleted ones count, as ``withTrashed``
finds them); per element, ``pm:assignedUsers`` / ``pm:assignedGroups`` become the ids found (the ones not
found are left out, so nobody may be left) and ``pm:assignment`` the dependents' ``assignmentType``:
ProcessMaker takes it from the last assignment dependent for every element (a loop variable that
outlives its loop), and so does the sandbox. The BPMN's references (screens, scripts, assignments) are
rewritten only when the first import option naming an asset of the package has no ``saveAssetsMode`` or
``saveAllAssets`` (ProcessExporter::importAssetsByMode); otherwise the BPMN keeps the package's ids.

Writes compare first, like Eloquent's dirty check: a row is written only when a column differs and
category links only when the set differs. Importing a package identical to what is installed
therefore changes nothing. What a client can observe to tell:

* before importing: ``POST /import/preview`` returns, per asset, ``mode`` (``update``/``new``),
  ``attributes`` (what the import would write) and ``existing_attributes`` (the installed row; the same
  raw column values). The package is already installed when every asset is in mode ``update`` and
  each key of ``attributes`` equals ``existing_attributes``;
* after importing: ``GET /export/manifest/{type}/{id}`` (or the assets' resources) compared with the
  same calls before: identical when nothing changed. ``updated_at`` alone is a weaker signal: an
  asset the import changes takes the package's ``updated_at``, not the time of the import.

The answer itself (``{"processId": <root id>, "message": null}``) is the same either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError
from ..security import new_uuid
from ..store import Store, db_timestamp
from . import bpmn, categories, script_executors
from .base import Columns, Row, dirty, stored, to_int
from .packages import (
    BY_MODEL,
    IMPORT_ORDER,
    LINKED_ONLY,
    MODES,
    PROCESS,
    SCRIPT,
    AssetType,
    PackageError,
)

# NOT NULL columns, filled when a package leaves them out or null.
DEFAULTS: dict[str, Row] = {
    "processes": {"status": "ACTIVE", "is_valid": 1, "pause_timer_start": 0, "is_template": 0},
    "screens": {"type": "FORM", "status": "ACTIVE", "is_template": 0, "is_default": 0},
    "scripts": {"language": "php", "timeout": 60, "status": "ACTIVE", "retry_attempts": 0, "retry_wait_time": 5,
                "is_template": 0},
    "categories": {"status": "ACTIVE", "is_system": 0},
}
_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)")


def read_options(raw: Any) -> dict[str, Any]:
    """The import options, checked like ``Options``/``Manifest::getModel`` check a mode."""
    if raw in (None, "", []):
        return {}
    if not isinstance(raw, dict):
        raise ValidationError({"options": ["The options must be a JSON object."]})
    for key, value in raw.items():
        mode = value.get("mode") if isinstance(value, dict) else value if key == "mode" else None
        if mode is None:
            continue
        if mode == "new":
            raise ValidationError({"options": ['Mode "new" can only be set by the system.']})
        if mode not in MODES:
            raise ValidationError({"options": [f"Invalid mode: {mode}"]})
    return raw


def _normalize(columns: Columns, name: str, value: Any) -> Any:
    """A package attribute as this database stores it."""
    kind = columns[name]
    if value is None:
        return None
    if kind == "int":
        return to_int(value)
    if kind == "json":
        return value if isinstance(value, str) else stored("json", value)
    if kind == "date":
        match = _ISO.match(str(value))
        return f"{match.group(1)} {match.group(2)}" if match else str(value)
    return value if isinstance(value, str) else stored("text", value)


def _meta(dependent: Row) -> Row:
    meta = dependent.get("meta")
    return meta if isinstance(meta, dict) else {}


def _increment(name: str) -> str:
    """ExporterBase::incrementString: "Name" → "Name 2" → "Name 3"."""
    match = re.search(r" (\d+)$", name)
    return f"{name[: match.start()]} {int(match.group(1)) + 1}" if match else f"{name} 2"


@dataclass
class Planned:
    uuid: str
    info: Row
    asset: AssetType
    mode: str  # update, new, copy or discard
    existing: Row | None
    matched_by: str | None
    target_id: int | None = None  # the asset's id here, once known
    values: Row | None = None
    category_ids: list[int] = field(default_factory=list)


def plan(store: Store, package: Row, options: Row, user_id: int | None) -> Importer:
    """What importing ``package`` would do; a package whose root is not an asset is invalid (422 on ``file``)."""
    try:
        return Importer(store, package, options, user_id)
    except PackageError as error:
        raise ValidationError({"file": [str(error)]}) from error


def import_package(store: Store, package: Row, options: Row, user_id: int | None) -> int | None:
    """Plan and write against one snapshot; the id of the root asset here."""
    with store.transaction():
        return plan(store, package, options, user_id).run()


class Importer:
    def __init__(self, store: Store, package: Row, options: Row, user_id: int | None) -> None:
        self.store = store
        self.package = package
        self.options = options
        self.user_id = user_id
        self.plans: dict[str, Planned] = {}
        for uuid, info in package["export"].items():
            asset = BY_MODEL.get(info.get("model", ""))
            if asset is not None:  # Manifest::checkClasses: unknown classes are skipped
                self.plans[uuid] = self._plan(uuid, info, asset)
        if package["root"] not in self.plans:
            raise PackageError("The package's root asset is not a process, screen or script.")

    # ---- planning ----------------------------------------------------------------------------
    def mode_option(self, uuid: str) -> str:
        chosen = self.options.get(uuid)
        if isinstance(chosen, dict) and "mode" in chosen:
            return chosen["mode"]
        return self.options.get("mode", "update") if isinstance(self.options.get("mode"), str) else "update"

    def _plan(self, uuid: str, info: Row, asset: AssetType) -> Planned:
        mode = self.mode_option(uuid)
        existing, matched_by = self.find(asset, uuid, info.get("attributes") or {})
        if existing is None and mode != "discard":
            mode = "new"
        planned = Planned(uuid, info, asset, mode, existing, matched_by)
        if mode in ("update", "discard") and existing is not None:
            planned.target_id = existing["id"]
        return planned

    def find(self, asset: AssetType, uuid: str, attributes: Row) -> tuple[Row | None, str | None]:
        """ExporterBase::modelFinder: by uuid, then by each fallback column."""
        kind = " AND kind = ?" if asset.category_kind else ""
        extra = (asset.category_kind,) if asset.category_kind else ()
        row = self.store.one(f'SELECT * FROM "{asset.table}" WHERE uuid = ?{kind}', (uuid, *extra))
        if row is not None:
            return row, "uuid"
        for column in asset.fallback:
            value = attributes.get(column)
            if value in (None, ""):
                continue
            row = self.store.one(
                f'SELECT * FROM "{asset.table}" WHERE "{column}" = ? COLLATE NOCASE{kind} ORDER BY id LIMIT 1',
                (value, *extra),
            )
            if row is not None:
                return row, column
        return None, None

    def resolve(self, dependent: Row) -> int | None:
        """The id here of what a dependent names: the planned asset, else an installed match."""
        planned = self.plans.get(dependent.get("uuid", ""))
        if planned is not None:
            return planned.target_id
        model = dependent.get("modelClass", "")
        asset = BY_MODEL.get(model) or LINKED_ONLY.get(model)
        if asset is None:
            return None
        row, _ = self.find(asset, dependent.get("uuid", ""), dependent.get("fallbackMatches") or {})
        return row["id"] if row else None

    def dependents(self, planned: Planned, *types: str) -> list[Row]:
        return [d for d in planned.info.get("dependents") or [] if isinstance(d, dict) and d.get("type") in types]

    # ---- the row an asset gets -----------------------------------------------------------------
    def build(self, planned: Planned, now: str) -> Row:
        asset = planned.asset
        attributes = {
            name: _normalize(asset.columns, name, value)
            for name, value in (planned.info.get("attributes") or {}).items()
            if name in asset.columns and name != "id"
        }
        if planned.mode == "update":
            assert planned.existing is not None
            values = {name: planned.existing[name] for name in asset.columns}
        else:
            values = {name: None for name in asset.columns if name != "id"}
        values.update(attributes)
        for name, default in DEFAULTS[asset.table].items():
            if values.get(name) is None:
                values[name] = default
        if not values.get(asset.name_column):
            values[asset.name_column] = str(planned.info.get("name") or "unknown")
        values["uuid"] = new_uuid() if planned.mode == "copy" else planned.uuid
        values["created_at"] = values.get("created_at") or now
        values["updated_at"] = values.get("updated_at") or now
        if asset.asset_kind:
            ids = [self.resolve(d) for d in self.dependents(planned, "categories")]
            planned.category_ids = [i for i in ids if i is not None]
            values[f"{asset.asset_kind}_category_id"] = planned.category_ids[0] if planned.category_ids else None
        if asset is PROCESS:
            self._process_references(planned, values)
        if asset is SCRIPT:
            self._script_references(values)
        values[asset.name_column] = self.unique_name(planned, values[asset.name_column])
        return values

    def _process_references(self, planned: Planned, values: Row) -> None:
        definition = values.get("bpmn") or bpmn.DEFAULT_BPMN
        if self.saves_all_assets():
            for dependent in self.dependents(planned, "screens", "scripts"):
                attribute = "screenRef" if dependent["type"] == "screens" else "scriptRef"
                definition = bpmn.set_reference(definition, _meta(dependent).get("path", ""), attribute,
                                                self.resolve(dependent))
            definition = self._assignments(planned, definition)
        values["bpmn"] = definition
        for column, kind in (("cancel_screen_id", "cancel-screen"), ("request_detail_screen_id", "request-detail-screen")):
            found = self.dependents(planned, kind)
            values[column] = self.resolve(found[0]) if found else None
        values["user_id"] = planned.existing["user_id"] if planned.mode == "update" and planned.existing else self.user_id

    def _assignments(self, planned: Planned, definition: str) -> str:
        """ProcessExporter::importAssignments: each element's users and groups, as the ids found here."""
        ids: dict[tuple[str, str], list[int | None]] = {}
        assignment_type = None
        for kind, attribute in (("user_assignment", "assignedUsers"), ("group_assignment", "assignedGroups")):
            for dependent in self.dependents(planned, kind):
                ids.setdefault((attribute, str(_meta(dependent).get("path", ""))), []).append(self.resolve(dependent))
                assignment_type = _meta(dependent).get("assignmentType")  # the last one wins, for every element
        for (attribute, path), found in ids.items():
            definition = bpmn.set_attribute(definition, path, "assignment", str(assignment_type or ""))
            definition = bpmn.set_attribute(definition, path, attribute, ",".join(str(i) for i in found if i))
        return definition

    def saves_all_assets(self) -> bool:
        """ProcessExporter::importAssetsByMode: the ``saveAssetsMode`` of the first option that names an asset
        of the package (ProcessMaker looks no further, even when that option has none)."""
        for uuid, option in self.options.items():
            if uuid in self.package["export"]:
                mode = option.get("saveAssetsMode") if isinstance(option, dict) else None
                return mode in (None, "saveAllAssets")
        return True

    def _script_references(self, values: Row) -> None:
        if not self.store.scalar("SELECT 1 FROM users WHERE id = ?", (values.get("run_as_user_id"),)):
            values["run_as_user_id"] = self.store.scalar(
                "SELECT id FROM users WHERE is_administrator = 1 AND deleted_at IS NULL ORDER BY id LIMIT 1"
            )
        if values.get("script_executor_id") not in script_executors.ids(self.store):
            values["script_executor_id"] = script_executors.default_for(self.store, values.get("language"))

    def unique_name(self, planned: Planned, name: str) -> str:
        asset = planned.asset
        own = planned.existing["id"] if planned.mode == "update" and planned.existing else None
        kind = " AND kind = ?" if asset.category_kind else ""
        extra = (asset.category_kind,) if asset.category_kind else ()
        for _ in range(1000):
            taken = self.store.scalar(
                f'SELECT 1 FROM "{asset.table}" WHERE "{asset.name_column}" = ? COLLATE NOCASE AND id IS NOT ?{kind}',
                (name, own, *extra),
            )
            if not taken:
                return name
            name = _increment(name)
        raise PackageError("Can not fix duplicate attribute after 1000 iterations")

    # ---- preview and import --------------------------------------------------------------------
    def ordered(self) -> list[Planned]:
        return sorted(self.plans.values(), key=lambda p: IMPORT_ORDER.index(p.asset.model))

    def preview(self) -> Row:
        """``Importer::previewImport``: the manifest with what the import would do to each asset."""
        now = db_timestamp()
        for planned in self.ordered():
            if planned.mode != "discard":
                planned.values = self.build(planned, now)
        manifest = {}
        for uuid, planned in self.plans.items():
            if planned.mode == "discard":
                continue
            existing = planned.existing
            manifest[uuid] = {
                **planned.info,
                "mode": planned.mode,
                "attributes": planned.asset.exported_attributes(planned.values or {}),
                "existing_id": existing["id"] if existing else None,
                "existing_attributes": {name: existing[name] for name in planned.asset.columns} if existing else None,
                "existing_name": existing[planned.asset.name_column] if existing else None,
                "matched_by": planned.matched_by,
            }
        return manifest

    def run(self) -> int | None:
        """``Importer::doImport`` in one transaction; the id of the root asset here."""
        now = db_timestamp()
        with self.store.transaction():
            for planned in self.ordered():
                if planned.mode == "discard":
                    continue
                values = self.build(planned, now)
                self.save(planned, values)
        return self.plans[self.package["root"]].target_id

    def save(self, planned: Planned, values: Row) -> None:
        asset = planned.asset
        if planned.mode == "update":
            assert planned.existing is not None
            changed = dirty(planned.existing, {k: v for k, v in values.items() if k != "id"}, asset.columns)
            if changed:
                self.store.update(asset.table, planned.existing["id"], changed)
            planned.target_id = planned.existing["id"]
        else:
            row = {name: value for name, value in values.items() if name != "id"}
            if asset.category_kind:
                row["kind"] = asset.category_kind
            planned.target_id = self.store.insert(asset.table, row)
        if asset.asset_kind:
            kind = categories.ASSET_KINDS[asset.asset_kind]
            categories.sync(self.store, kind, planned.target_id, planned.category_ids)

