"""ProcessMaker's v2 export package: the asset types it carries, its encryption, its file name.

A package is ``{"type": "<root>_package", "version": "2", "root": <root uuid>, "name": <root name>,
"export": {<uuid>: <asset>}}``; each asset is ``ExporterBase::toArray()`` (``exporter``, ``type``,
``model``, ``mode``, ``dependents``, ``name``, ``attributes`` = the raw table row, ...). With a password,
``export`` becomes base64(16-byte IV + AES-256-CBC ciphertext of the JSON-encoded ``export``) with the
raw SHA-256 of the password as key, and ``"encrypted": true`` is added.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..php import json_decode
from . import processes, screens, scripts
from .base import Columns
from .categories import COLUMNS as CATEGORY_COLUMNS

VERSION = "2"
EXPORTERS = "ProcessMaker\\ImportExport\\Exporters\\"
MODELS = "ProcessMaker\\Models\\"
MODES = ("update", "discard", "copy")

@dataclass(frozen=True)
class AssetType:
    """One kind of asset a package can hold, with what the exporter and importer need to know."""

    basename: str  # the model's class basename: "Process", "ScreenCategory"
    exporter: str
    table: str
    columns: Columns  # the table's columns (what ``attributes`` may hold)
    name_column: str
    fallback: tuple[str, ...]  # ExporterBase::$fallbackMatchColumn: matched when the uuid is unknown
    category_kind: str = ""  # for the three category types: categories.kind
    asset_kind: str = ""  # for processes, screens, scripts: categories.kind of their categories
    hidden_attributes: tuple[str, ...] = ()  # left out of ``attributes`` (ScreenExporter drops its category)
    # ExporterBase::$discard: never put in a package, only named by the dependents that refer to it (users,
    # groups); an import links those dependents to what the target has (by uuid, else the fallback columns)
    explicit_discard: bool = False

    @property
    def model(self) -> str:
        return MODELS + self.basename

    @property
    def type_human(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", " ", self.basename)

    @property
    def type_plural(self) -> str:
        return _plural(self.basename)

    @property
    def type_human_plural(self) -> str:
        return _plural(self.type_human)

    @property
    def info_key(self) -> str:
        """The ``export-info`` group: the snake-cased plural (``process_categories``)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.type_plural).lower()

    def exported_attributes(self, row: dict[str, Any]) -> dict[str, Any]:
        return {name: row.get(name) for name in self.columns if name not in self.hidden_attributes}


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") else word + "es" if word.endswith("s") else word + "s"


PROCESS = AssetType("Process", EXPORTERS + "ProcessExporter", "processes", processes.ALL_COLUMNS, "name", ("name",),
                    asset_kind="process")
SCREEN = AssetType("Screen", EXPORTERS + "ScreenExporter", "screens", screens.COLUMNS, "title", ("key", "title"),
                   asset_kind="screen", hidden_attributes=("screen_category_id",))
SCRIPT = AssetType("Script", EXPORTERS + "ScriptExporter", "scripts", scripts.COLUMNS, "title", ("title",),
                   asset_kind="script")
# Categories are matched by name too (ProcessMaker only by uuid): names are unique per kind, so a
# category of the same name on the target is the same category.
CATEGORY_TYPES = {
    kind: AssetType(f"{kind.title()}Category", EXPORTERS + "CategoryExporter", "categories", CATEGORY_COLUMNS,
                    "name", ("name",), category_kind=kind)
    for kind in ("process", "screen", "script")
}
# The users and groups a process's tasks are assigned to (GroupExporter, UserExporter: explicitly
# discarded, so dependents only; the target's own users and groups are matched by name / email, username).
GROUP = AssetType("Group", EXPORTERS + "GroupExporter", "groups", {}, "name", ("name",), explicit_discard=True)
USER = AssetType("User", EXPORTERS + "UserExporter", "users", {}, "username", ("email", "username"),
                 explicit_discard=True)
ROOT_TYPES = {"process": PROCESS, "screen": SCREEN, "script": SCRIPT}
BY_MODEL = {asset.model: asset for asset in (PROCESS, SCREEN, SCRIPT, *CATEGORY_TYPES.values())}
# What a dependent may name without the package holding it.
LINKED_ONLY = {asset.model: asset for asset in (GROUP, USER)}
# Import order: what others refer to is saved first.
IMPORT_ORDER = [*(asset.model for asset in CATEGORY_TYPES.values()), SCRIPT.model, SCREEN.model, PROCESS.model]


class PackageError(Exception):
    """A package the importer cannot read; ``password`` marks the 400 password errors."""

    def __init__(self, message: str, *, password: bool = False) -> None:
        super().__init__(message)
        self.password = password


def _key(password: str) -> bytes:
    return hashlib.sha256(password.encode()).digest()


def encrypt(package: dict[str, Any], password: str) -> dict[str, Any]:
    plain = json.dumps(package["export"], separators=(",", ":"), ensure_ascii=False).encode()
    padder = padding.PKCS7(128).padder()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(_key(password)), modes.CBC(iv)).encryptor()
    cipher = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    return {**package, "export": base64.b64encode(iv + cipher).decode(), "encrypted": True}


def decrypt(package: dict[str, Any], password: str | None) -> dict[str, Any]:
    """Importer::handlePasswordDecrypt: the package with a readable ``export``."""
    if not package.get("encrypted"):
        return package
    if not password:
        raise PackageError("password required", password=True)
    try:
        raw = base64.b64decode(str(package.get("export", "")), validate=True)
        decryptor = Cipher(algorithms.AES(_key(password)), modes.CBC(raw[:16])).decryptor()
        padded = decryptor.update(raw[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        export = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (ValueError, UnicodeDecodeError) as error:
        raise PackageError("incorrect password", password=True) from error
    result = {key: value for key, value in package.items() if key != "encrypted"}
    result["export"] = export
    return result


def read_package(content: bytes, password: str | None) -> dict[str, Any]:
    """Parse, decrypt and check the shape of an uploaded package."""
    try:
        package = json_decode(content)
    except ValueError as error:
        raise PackageError("The file is not a JSON export package.") from error
    if not isinstance(package, dict):
        raise PackageError("The file is not a JSON export package.")
    package = decrypt(package, password)
    export = package.get("export")
    if str(package.get("version")) != VERSION or not isinstance(export, dict) or package.get("root") not in export:
        raise PackageError("The file is not a version 2 export package.")
    for info in export.values():
        if not isinstance(info, dict) or not isinstance(info.get("attributes"), dict):
            raise PackageError("The file is not a version 2 export package.")
        if not isinstance(info.get("dependents", []), list):
            raise PackageError("The file is not a version 2 export package.")
    return package


def file_name(name: str) -> str:
    """ExportController::download: ``strtolower(str_replace(' ', '_', $name)) . '.json'``."""
    return name.replace(" ", "_").lower() + ".json"


def content_disposition(name: str) -> str:
    """Symfony's HeaderUtils::makeDisposition('attachment', $name) with an ASCII fallback."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '%/\\"' else "_" for c in name)
    quoted = fallback if re.fullmatch(r"[a-zA-Z0-9!#$%&'*.^_`|~-]+", fallback) else '"' + fallback + '"'  # HeaderUtils::quote
    header = f"attachment; filename={quoted}"
    if fallback != name:
        header += "; filename*=utf-8''" + quote(name, safe="")
    return header


def export_info(package: dict[str, Any]) -> str:
    """The ``export-info`` header: what the package holds, grouped by type."""
    exported: dict[str, dict[str, Any]] = {}
    for info in package["export"].values():
        asset = BY_MODEL.get(info.get("model", ""))
        if asset is None:
            continue
        group = exported.setdefault(
            asset.info_key, {"name": asset.type_human, "name_plural": asset.type_human_plural, "ids": []}
        )
        group["ids"].append(info["attributes"].get("id"))
    return json.dumps({"exported": exported, "name": package["name"]}, separators=(",", ":"))
