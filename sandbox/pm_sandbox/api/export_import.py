"""ProcessMaker's generic v2 import/export API (ExportController, ImportController).

* ``GET /export/manifest/{type}/{id}``: the package as JSON (never encrypted).
* ``POST /export/{type}/download/{id}``: JSON body ``{"password"?, "options"?}``; the package as a
  download named ``<lowercased name, spaces→_>.json`` with an ``export-info`` header.
* ``POST /import/preview``: multipart ``file`` (+ ``password``) → ``{manifest, rootUuid, processVersion}``.
* ``POST /import/do-import``: multipart ``file``, ``options`` (a file part holding JSON; a plain form
  field is accepted too; absent = every asset ``update``), ``password`` → ``{processId, message}``.

``{type}`` is ``process``, ``screen`` or ``script``. The package format is in ``models/packages.py``, what
gets exported in ``models/exporter.py``, the import modes and how to tell an already installed package in
``models/importer.py``. Password errors answer 400 ``{"error": "password required" | "incorrect password"}``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..errors import NotFound, ValidationError
from ..http import Context, HttpError, Router, json_response
from ..models.base import Table
from ..models.exporter import Exporter
from ..models.importer import import_package, plan, read_options
from ..models.packages import (
    ROOT_TYPES,
    AssetType,
    PackageError,
    content_disposition,
    encrypt,
    export_info,
    file_name,
    read_package,
)
from ..php import json_decode
from ..validation import MESSAGES, format_message
from .common import require

router = Router()


def _root(ctx: Context) -> tuple[AssetType, dict[str, Any]]:
    asset = ROOT_TYPES.get(ctx.params["type"])
    if asset is None:
        raise NotFound()
    return asset, Table(asset.table).get(ctx.store, ctx.params["id"])


@router.route("GET", "/api/1.0/export/manifest/{type:str}/{id}")
def manifest(ctx: Context) -> Response:
    require(ctx, "export-processes")
    asset, row = _root(ctx)
    return json_response(Exporter(ctx.store).package(asset, row))


@router.route("POST", "/api/1.0/export/{type:str}/download/{id}")
def download(ctx: Context) -> Response:
    # template-authorization: export-<type>-templates, or export-processes.
    require(ctx, "export-processes", f"export-{ctx.params['type']}-templates")
    asset, row = _root(ctx)
    body = ctx.body()
    package = Exporter(ctx.store, body.get("options")).package(asset, row)
    info = export_info(package)
    password = body.get("password")
    if isinstance(password, str) and password:
        package = encrypt(package, password)
    response = json_response(package, headers={"export-info": info})
    response.headers["Content-Disposition"] = content_disposition(file_name(package["name"]))
    return response


def _uploaded_package(ctx: Context) -> dict[str, Any]:
    upload = ctx.request.files.get("file")
    if upload is None:
        raise ValidationError({"file": [format_message(MESSAGES["required"], "file")]})
    try:
        return read_package(upload.read(), ctx.request.form.get("password"))
    except PackageError as error:
        if error.password:
            raise HttpError({"error": str(error)}, 400) from error
        raise ValidationError({"file": [str(error)]}) from error


def _uploaded_options(ctx: Context) -> dict[str, Any]:
    upload = ctx.request.files.get("options")
    raw = upload.read() if upload is not None else ctx.request.form.get("options")
    if raw in (None, b"", ""):
        return {}
    try:
        return read_options(json_decode(raw))
    except ValueError as error:
        raise ValidationError({"options": ["The options must be a JSON object."]}) from error


@router.route("POST", "/api/1.0/import/preview")
def preview(ctx: Context) -> Response:
    require(ctx, "export-processes")
    package = _uploaded_package(ctx)
    manifest = plan(ctx.store, package, {}, _user_id(ctx)).preview()
    return json_response({"manifest": manifest, "rootUuid": package["root"], "processVersion": 0})


@router.route("POST", "/api/1.0/import/do-import")
def do_import(ctx: Context) -> Response:
    require(ctx, "import-processes")
    package = _uploaded_package(ctx)
    options = _uploaded_options(ctx)
    process_id = import_package(ctx.store, package, options, _user_id(ctx))
    return json_response({"processId": process_id, "message": None})


def _user_id(ctx: Context) -> int | None:
    return ctx.user["id"] if ctx.user else None
