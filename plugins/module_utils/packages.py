# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process packages: ProcessMaker's v2 export/import API as ``pm_package`` uses it.

    asset = find_asset(client, "process", name="Loan Request")        # or by id
    package = client.get(f"export/manifest/process/{asset['id']}").json  # never encrypted
    same = same_package(existing_file_content, package, password)       # decrypts when it can

    preview = import_preview(client, content, password)                 # read-only
    plans = plan_import(preview["manifest"], default_mode, overrides)   # pure: create/update/unchanged/...
    do_import(client, content, import_options(plans), password)

An import is ``unchanged`` when every asset would be updated in place (the preview's ``mode`` is
``update``) with exactly the attributes the server already has (``attributes`` against
``existing_attributes``): that is how the server itself decides not to write a row.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)

# type -> (list path, name column)
ASSET_TYPES = {"process": ("processes", "name"), "screen": ("screens", "title"), "script": ("scripts", "title")}
MODES = ("update", "copy", "discard")


class PackageError(ValueError):
    """A package or an option pm_package cannot use; str() is one line."""


def find_asset(client: Any, asset_type: str, asset_id: Any = None, name: str | None = None,
               per_page: int = 1000) -> dict:
    """The process, screen or script with this id, or this exact name (title), case-insensitively."""
    path, column = ASSET_TYPES[asset_type]
    if asset_id is not None:
        response = client.get(f"{path}/{asset_id}", expected_status=(200, 204, 404))
        if response.status != 200 or not isinstance(response.json, dict):  # processes: 204 when unknown
            raise PackageError(f"no {asset_type} with id {asset_id}")
        return response.json
    wanted = str(name).strip().casefold()
    pages = client.paginate(path, query={"filter": str(name).strip()}, per_page=per_page)
    matches = [item for item in pages.items
               if isinstance(item, Mapping) and str(item.get(column, "")).strip().casefold() == wanted]
    if not matches:
        raise PackageError(f"no {asset_type} with {column} {name!r}")
    return dict(matches[0])


def asset_name(asset_type: str, asset: Mapping) -> str:
    return str(asset.get(ASSET_TYPES[asset_type][1]) or "")


# ---------------------------------------------------------------------------------------------
# Package files


def load_package(content: bytes, where: str) -> dict:
    try:
        package = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PackageError(f"{where} is not a JSON export package; give a file written by an export") from None
    if not isinstance(package, dict) or "export" not in package or "root" not in package:
        raise PackageError(f"{where} is not a ProcessMaker export package (no export/root); give a file written by"
                           " an export")
    return package


def decrypt_export(package: Mapping, password: str | None) -> Any:
    """The readable ``export`` of a package; raises PackageError when it cannot be read.

    Encrypted packages: base64(IV + AES-256-CBC(JSON)) with SHA-256(password) as the key
    (ProcessMaker's ExportEncrypted); needs the ``cryptography`` library (ansible-core's own).
    """
    if not package.get("encrypted"):
        return package.get("export")
    if not password:
        raise PackageError("the package is password protected")
    try:
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        raise PackageError("reading a password protected package here needs the cryptography library") from None
    try:
        raw = base64.b64decode(str(package.get("export", "")), validate=True)
        key = hashlib.sha256(password.encode("utf-8")).digest()
        decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
        padded = decryptor.update(raw[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return json.loads((unpadder.update(padded) + unpadder.finalize()).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise PackageError("the package password does not open the package") from None


def same_package(existing: bytes | None, package: Mapping, password: str | None) -> bool:
    """Whether a file already holds ``package`` (a plain manifest), protected exactly as asked:
    encrypted with ``password`` when one is given, plain otherwise."""
    if existing is None:
        return False
    try:
        current = load_package(existing, "dest")
    except PackageError:
        return False
    if bool(current.get("encrypted")) != bool(password):
        return False
    try:
        export = decrypt_export(current, password)
    except PackageError:
        return False
    strip = {key: value for key, value in current.items() if key not in ("export", "encrypted")}
    wanted = {key: value for key, value in package.items() if key not in ("export", "encrypted")}
    return strip == wanted and _canonical(export) == _canonical(package.get("export"))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def package_assets(package: Mapping, password: str | None = None) -> list:
    """[{uuid, type, name}] of a package (empty when it cannot be read)."""
    try:
        export = decrypt_export(package, password)
    except PackageError:
        return []
    if not isinstance(export, Mapping):
        return []
    return [{"uuid": uuid, "type": info.get("type"), "name": info.get("name")}
            for uuid, info in export.items() if isinstance(info, Mapping)]


# ---------------------------------------------------------------------------------------------
# Import planning (pure)


@dataclass
class AssetPlan:
    uuid: str
    type: str
    name: str
    mode: str  # what we ask for: update | copy | discard
    action: str  # create | update | copy | unchanged | discard
    existing_id: Any = None
    changes: list = field(default_factory=list)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return self.action in ("create", "update", "copy")

    @property
    def label(self) -> str:
        return f"{self.type}: {self.name}"

    def result(self) -> dict:
        result = {"uuid": self.uuid, "type": self.type, "name": self.name, "mode": self.mode, "action": self.action,
                  "id": self.existing_id}
        if self.changes:
            result["changes"] = list(self.changes)
        return result


def mode_for(asset: Mapping, uuid: str, default: str, overrides: Mapping) -> str:
    for key in (uuid, f"{asset.get('type')}:{asset.get('name')}", asset.get("name")):
        for given, mode in overrides.items():
            if key is not None and str(given).strip().casefold() == str(key).strip().casefold():
                return mode
    return default


def check_modes(overrides: Mapping) -> None:
    """Every asset_modes value must be a mode (checked before anything is sent)."""
    for given, mode in overrides.items():
        if not isinstance(mode, str) or mode not in MODES:
            raise PackageError(f"asset_modes[{given!r}] must be one of {', '.join(MODES)}, not {mode!r}")


def check_overrides(manifest: Mapping, overrides: Mapping) -> None:
    """Every override must name an asset of the package (by uuid, name or Type:name) with a known mode."""
    check_modes(overrides)
    assets = {uuid: asset for uuid, asset in manifest.items() if isinstance(asset, Mapping)}
    known = set()
    for uuid, asset in assets.items():
        known.update(str(key).strip().casefold() for key in (uuid, asset.get("name"), f"{asset.get('type')}:{asset.get('name')}"))
    for given in overrides:
        if str(given).strip().casefold() not in known:
            names = ", ".join(sorted(f"{a.get('type')}:{a.get('name')}" for a in assets.values()))
            raise PackageError(f"asset_modes names {given!r}, which is not in the package (assets: {names})")


def plan_import(manifest: Mapping, default: str = "update", overrides: Mapping | None = None) -> list:
    """What importing does to each asset, from ``POST /import/preview``'s manifest."""
    overrides = dict(overrides or {})
    check_overrides(manifest, overrides)
    plans = []
    for uuid, asset in manifest.items():
        if not isinstance(asset, Mapping):
            continue
        mode = mode_for(asset, uuid, default, overrides)
        plan = AssetPlan(uuid, str(asset.get("type") or ""), str(asset.get("name") or ""), mode, "unchanged",
                         asset.get("existing_id"))
        wanted = asset.get("attributes") or {}
        existing = asset.get("existing_attributes")
        if mode == "discard":
            plan.action = "discard"
        elif mode == "copy":
            plan.action, plan.existing_id = "copy", None
            plan.after = dict(wanted)
        elif asset.get("mode") != "update" or not isinstance(existing, Mapping):
            plan.action, plan.existing_id = "create", None
            plan.after = dict(wanted)
        else:
            changed = sorted(name for name, value in wanted.items() if existing.get(name) != value)
            if changed:
                plan.action, plan.changes = "update", changed
                plan.before = {name: existing.get(name) for name in changed}
                plan.after = {name: wanted[name] for name in changed}
        plans.append(plan)
    return plans


def import_options(plans: list) -> dict:
    """The do-import ``options``: every asset's mode, spelled out."""
    return {plan.uuid: {"mode": plan.mode} for plan in plans}


# ---------------------------------------------------------------------------------------------
# Calls


def _parts(content: bytes, filename: str, options: Mapping | None = None) -> dict:
    files = {"file": (filename, content, "application/json")}
    if options is not None:
        files["options"] = ("options.json", json.dumps(options).encode("utf-8"), "application/json")
    return files


def _password_failure(error: ProcessMakerError) -> PackageError | None:
    if error.status == 400 and "password" in (error.message or "").lower():
        return PackageError(f"the server cannot open the package: {error.message}; check package_password")
    return None


def import_preview(client: Any, content: bytes, password: str | None, filename: str = "package.json") -> dict:
    """POST /import/preview (reads only: safe to repeat)."""
    try:
        response = client.post("import/preview", files=_parts(content, filename),
                               data={"password": password} if password else None, safe_to_retry=True)
    except ProcessMakerError as error:
        raise _password_failure(error) or error from None
    body = response.json if isinstance(response.json, dict) else {}
    if not isinstance(body.get("manifest"), dict):
        raise ProcessMakerError("the import preview has no manifest", status=response.status, method="POST",
                                url=response.url, code="invalid_preview",
                                hint="Check that the server offers ProcessMaker's v2 import API")
    return body


def do_import(client: Any, content: bytes, options: Mapping, password: str | None,
              filename: str = "package.json") -> Any:
    """POST /import/do-import; returns the root asset's id on this server."""
    try:
        response = client.post("import/do-import", files=_parts(content, filename, options),
                               data={"password": password} if password else None)
    except ProcessMakerError as error:
        raise _password_failure(error) or error from None
    body = response.json if isinstance(response.json, dict) else {}
    return body.get("processId")
