"""The v2 import/export API: manifest, download (plain and password-protected), preview, do-import with
the update/copy/discard modes, a round trip into a reset sandbox and the re-import that changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAUTHORIZED,
    create_group,
    create_user,
    no_token,
    user_with_token,
)

CATEGORY_PATHS = {"process": "process_categories", "screen": "screen_categories", "script": "script_categories"}
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="ProcessId" name="Loan" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Apply" pm:screenRef="{form}"/>
    <bpmn:task id="node_2" name="Review &gt; decide" pm:screenRef="{form}" pm:assignment="requester"/>
    <bpmn:scriptTask id="node_3" name="Score" pm:scriptRef="{script}"/>
    <bpmn:endEvent id="node_4" name="Done"/>
  </bpmn:process>
</bpmn:definitions>
"""


# ---- helpers -----------------------------------------------------------------------------------


def created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def build_world(sb: SandboxProcess) -> dict[str, Any]:
    """A process with a category, two screens (a BPMN one and the cancel screen) and a script."""
    categories = {
        kind: created(sb.api("POST", f"/{path}", json={"name": name, "status": "ACTIVE"}))
        for (kind, path), name in zip(CATEGORY_PATHS.items(), ("Finance", "Forms", "Tools"))
    }
    form = created(sb.api("POST", "/screens", json={
        "title": "Loan Form", "description": "Applicant data", "type": "FORM",
        "screen_category_id": categories["screen"]["id"],
        "config": [{"name": "Page 1", "items": [{"component": "FormInput", "config": {"name": "amount"}}]}],
        "computed": [], "watchers": []}))
    cancel = created(sb.api("POST", "/screens", json={
        "title": "Cancel Notice", "description": "Shown on cancel", "type": "DISPLAY",
        "screen_category_id": categories["screen"]["id"]}))
    script = created(sb.api("POST", "/scripts", json={
        "title": "Score Applicant", "description": "Risk score", "language": "python", "code": "return {'score': 7}",
        "run_as_user_id": sb.credentials["admin"]["id"], "timeout": 30,
        "script_category_id": categories["script"]["id"]}))
    process = created(sb.api("POST", "/processes", json={
        "name": "Loan Request", "description": "Small loans", "process_category_id": categories["process"]["id"],
        "bpmn": BPMN.replace("{form}", str(form["id"])).replace("{script}", str(script["id"])),
        "cancel_screen_id": cancel["id"], "case_title": "Loan {{amount}}"}))
    return {"categories": categories, "form": form, "cancel": cancel, "script": script, "process": process}


def download(sb: SandboxProcess, kind: str, asset_id: int, **body: Any) -> requests.Response:
    response = sb.api("POST", f"/export/{kind}/download/{asset_id}", json=body)
    assert response.status_code == 200, response.text
    return response


def upload(sb: SandboxProcess, path: str, package: bytes, *, options: Any = None, password: str | None = None,
           token: str | None = None) -> requests.Response:
    files: dict[str, Any] = {"file": ("package.json", package, "application/json")}
    if options is not None:
        files["options"] = ("options.json", json.dumps(options).encode(), "application/json")
    data = {"password": password} if password is not None else {}
    return sb.api("POST", path, token=token, files=files, data=data)


def do_import(sb: SandboxProcess, package: bytes, **kwargs: Any) -> int:
    response = upload(sb, "/import/do-import", package, **kwargs)
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["processId", "message"] and response.json()["message"] is None
    return response.json()["processId"]


def listed(sb: SandboxProcess, path: str) -> list[dict[str, Any]]:
    body = sb.api("GET", f"{path}{'&' if '?' in path else '?'}per_page=100").json()
    assert body["meta"]["total"] == len(body["data"])
    return body["data"]


def api_state(sb: SandboxProcess) -> dict[str, Any]:
    """Everything the API shows about processes, screens, scripts and their categories."""
    processes = listed(sb, "/processes") + listed(sb, "/processes?status=archived")
    return {
        "processes": [
            {**sb.api("GET", f"/processes/{p['id']}?include=category").json(),
             "bpmn": sb.api("GET", f"/processes/{p['id']}/bpmn").text}
            for p in processes
        ],
        "screens": listed(sb, "/screens"),
        "scripts": listed(sb, "/scripts"),
        **{path: listed(sb, f"/{path}") for path in CATEGORY_PATHS.values()},
    }


def portable(state: dict[str, Any]) -> dict[str, Any]:
    """The state with every database id replaced by the uuid it stands for (ids differ between sandboxes)."""
    uuids = {
        (kind, item["id"]): item["uuid"]
        for kind, path in (("processes", "processes"), ("screens", "screens"), ("scripts", "scripts"),
                           *((k, p) for k, p in ((v, v) for v in CATEGORY_PATHS.values())))
        for item in state[path]
    }

    def ids(kind: str, value: Any) -> Any:
        if value is None:
            return None
        return [uuids[(kind, int(part))] for part in str(value).split(",")]

    def refs(text: str) -> str:
        text = re.sub(r'pm:screenRef="(\d+)"', lambda m: f'pm:screenRef="{uuids[("screens", int(m[1]))]}"', text)
        return re.sub(r'pm:scriptRef="(\d+)"', lambda m: f'pm:scriptRef="{uuids[("scripts", int(m[1]))]}"', text)

    result: dict[str, Any] = {}
    for process in state["processes"]:
        item = {k: v for k, v in process.items() if k not in ("id", "category")}
        item["process_category_id"] = ids("process_categories", process["process_category_id"])
        item["cancel_screen_id"] = ids("screens", process["cancel_screen_id"])
        item["bpmn"] = refs(process["bpmn"])
        item["category"] = {k: v for k, v in process["category"].items() if k != "id"}
        result[process["uuid"]] = item
    for kind, column in (("screens", "screen_category_id"), ("scripts", "script_category_id")):
        for asset in state[kind]:
            result[asset["uuid"]] = {**{k: v for k, v in asset.items() if k != "id"},
                                     column: ids(f"{kind[:-1]}_categories", asset[column])}
    for path in CATEGORY_PATHS.values():
        for category in state[path]:
            result[category["uuid"]] = {k: v for k, v in category.items() if k != "id"}
    return result


def decrypt(export: str, password: str) -> Any:
    raw = base64.b64decode(export)
    decryptor = Cipher(algorithms.AES(hashlib.sha256(password.encode()).digest()), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize()) + unpadder.finalize())


# ---- export ------------------------------------------------------------------------------------


def test_the_process_manifest_lists_the_process_and_what_it_uses(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    created(clean_sandbox.api("POST", "/screens", json={"title": "Unrelated", "description": "d", "type": "FORM",
                                                         "screen_category_id": world["categories"]["screen"]["id"]}))
    process, form, cancel, script = world["process"], world["form"], world["cancel"], world["script"]
    cats = world["categories"]
    response = clean_sandbox.api("GET", f"/export/manifest/process/{process['id']}")
    assert response.status_code == 200
    package = response.json()
    assert {k: package[k] for k in ("type", "version", "root", "name")} == {
        "type": "process_package", "version": "2", "root": process["uuid"], "name": "Loan Request"}
    export = package["export"]
    # Root first, then depth first in the order the process refers to them.
    assert [(a["type"], a["name"]) for a in export.values()] == [
        ("Process", "Loan Request"), ("Screen", "Loan Form"), ("ScreenCategory", "Forms"),
        ("Script", "Score Applicant"), ("ScriptCategory", "Tools"), ("ProcessCategory", "Finance"),
        ("Screen", "Cancel Notice"),
    ]
    root = export[process["uuid"]]
    assert list(root) == [
        "exporter", "type", "type_human", "type_plural", "type_human_plural", "last_modified_by",
        "last_modified_by_id", "model", "force_password_protect", "hidden", "mode", "saveAssetsMode",
        "explicit_discard", "dependents", "name", "description", "process_manager", "process_manager_id",
        "attributes", "extraAttributes", "references",
    ]
    assert (root["exporter"], root["model"], root["mode"], root["saveAssetsMode"], root["description"]) == (
        "ProcessMaker\\ImportExport\\Exporters\\ProcessExporter", "ProcessMaker\\Models\\Process", "update",
        "saveAllAssets", "Small loans")
    assert [(d["type"], d["uuid"], d["meta"]) for d in root["dependents"]] == [
        ("screens", form["uuid"], {"path": '//*[@id="node_1"]'}),
        ("screens", form["uuid"], {"path": '//*[@id="node_2"]'}),
        ("scripts", script["uuid"], {"path": '//*[@id="node_3"]'}),
        ("categories", cats["process"]["uuid"], None),
        ("cancel-screen", cancel["uuid"], None),
    ]
    assert root["dependents"][2]["fallbackMatches"] == {"title": "Score Applicant"}
    assert root["references"] == {"uncategorized-category": False}
    # attributes are the raw row: JSON columns as text, dates as stored, the BPMN included.
    attributes = root["attributes"]
    assert (attributes["id"], attributes["process_category_id"], attributes["cancel_screen_id"]) == (
        process["id"], cats["process"]["id"], cancel["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", attributes["created_at"])
    assert isinstance(attributes["start_events"], str) and f'pm:screenRef="{form["id"]}"' in attributes["bpmn"]
    screen_attributes = export[form["uuid"]]["attributes"]
    assert "screen_category_id" not in screen_attributes  # ScreenExporter leaves it to the dependent
    assert json.loads(screen_attributes["config"]) == form["config"]
    category = export[cats["screen"]["uuid"]]
    assert (category["exporter"], category["type_human"], category["type_human_plural"], category["dependents"]) == (
        "ProcessMaker\\ImportExport\\Exporters\\CategoryExporter", "Screen Category", "Screen Categories", [])
    assert set(category["attributes"]) == {"id", "uuid", "name", "status", "is_system", "created_at", "updated_at"}


@pytest.mark.parametrize("kind", ["screen", "script"])
def test_screens_and_scripts_export_with_their_category(clean_sandbox: SandboxProcess, kind: str) -> None:
    world = build_world(clean_sandbox)
    asset = world["form" if kind == "screen" else "script"]
    package = clean_sandbox.api("GET", f"/export/manifest/{kind}/{asset['id']}").json()
    assert (package["type"], package["root"], package["name"]) == (f"{kind}_package", asset["uuid"], asset["title"])
    assert list(package["export"]) == [asset["uuid"], world["categories"][kind]["uuid"]]
    response = download(clean_sandbox, kind, asset["id"])
    expected = asset["title"].lower().replace(" ", "_") + ".json"
    assert response.headers["Content-Disposition"] == f"attachment; filename={expected}"
    assert response.json() == package


def test_download_names_the_file_and_describes_it(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    response = download(clean_sandbox, "process", world["process"]["id"])
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=loan_request.json"
    info = json.loads(response.headers["export-info"])
    assert info["name"] == "Loan Request"
    assert info["exported"]["processes"] == {"name": "Process", "name_plural": "Processes",
                                             "ids": [world["process"]["id"]]}
    assert sorted(info["exported"]["screens"]["ids"]) == sorted([world["form"]["id"], world["cancel"]["id"]])
    assert info["exported"]["process_categories"]["name_plural"] == "Process Categories"
    assert response.json() == clean_sandbox.api("GET", f"/export/manifest/process/{world['process']['id']}").json()


def test_an_asset_discarded_at_export_stays_a_dependent_only(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    tools = world["categories"]["script"]["uuid"]
    package = download(clean_sandbox, "process", world["process"]["id"],
                       options={tools: {"mode": "discard"}}).json()
    assert tools not in package["export"]
    assert [d["uuid"] for d in package["export"][world["script"]["uuid"]]["dependents"]] == [tools]


def test_a_password_protects_the_export(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    plain = clean_sandbox.api("GET", f"/export/manifest/process/{world['process']['id']}").json()
    response = download(clean_sandbox, "process", world["process"]["id"], password="s3cret")
    package = response.json()
    assert package["encrypted"] is True and isinstance(package["export"], str)
    assert {k: v for k, v in package.items() if k not in ("export", "encrypted")} == {
        k: v for k, v in plain.items() if k != "export"}
    assert decrypt(package["export"], "s3cret") == plain["export"]
    assert json.loads(response.headers["export-info"])["name"] == "Loan Request"


# ---- preview -----------------------------------------------------------------------------------


def test_preview_of_an_installed_package_shows_nothing_to_change(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    package = download(clean_sandbox, "process", world["process"]["id"]).content
    response = upload(clean_sandbox, "/import/preview", package)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["manifest", "rootUuid", "processVersion"]
    assert (body["rootUuid"], body["processVersion"]) == (world["process"]["uuid"], 0)
    for uuid, asset in body["manifest"].items():
        assert (asset["mode"], asset["matched_by"]) == ("update", "uuid")
        assert asset["existing_id"] == asset["attributes"]["id"]
        assert {k: asset["existing_attributes"][k] for k in asset["attributes"]} == asset["attributes"], uuid
    assert body["manifest"][world["form"]["uuid"]]["existing_name"] == "Loan Form"


def test_preview_shows_what_would_change(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    package = download(clean_sandbox, "process", world["process"]["id"]).content
    form = world["form"]
    clean_sandbox.api("PUT", f"/screens/{form['id']}", json={"title": "Loan Form", "description": "edited",
                                                             "type": "FORM"})
    manifest = upload(clean_sandbox, "/import/preview", package).json()["manifest"]
    asset = manifest[form["uuid"]]
    differing = {k for k in asset["attributes"] if asset["attributes"][k] != asset["existing_attributes"][k]}
    assert differing == {"description", "updated_at"} or differing == {"description"}
    assert asset["attributes"]["description"] == "Applicant data"

    clean_sandbox.reset()
    manifest = upload(clean_sandbox, "/import/preview", package).json()["manifest"]
    assert {a["mode"] for a in manifest.values()} == {"new"}
    assert all(a["existing_id"] is None and a["existing_attributes"] is None for a in manifest.values())


# ---- import ------------------------------------------------------------------------------------


def test_round_trip_into_a_reset_sandbox_recreates_identical_assets(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    before = portable(api_state(clean_sandbox))
    package = download(clean_sandbox, "process", world["process"]["id"]).content
    clean_sandbox.reset()
    assert api_state(clean_sandbox) == {
        "processes": [], "screens": [], "scripts": [], **{p: [] for p in CATEGORY_PATHS.values()}}

    process_id = do_import(clean_sandbox, package)
    state = api_state(clean_sandbox)
    assert [p["id"] for p in state["processes"]] == [process_id]
    assert portable(state) == before
    imported = state["processes"][0]
    assert (imported["name"], imported["uuid"], imported["category"]["name"], imported["case_title"]) == (
        "Loan Request", world["process"]["uuid"], "Finance", "Loan {{amount}}")
    form = next(s for s in state["screens"] if s["title"] == "Loan Form")
    assert f'pm:screenRef="{form["id"]}"' in imported["bpmn"]


def test_reimporting_an_identical_package_changes_nothing(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    process_id = world["process"]["id"]
    package = download(clean_sandbox, "process", process_id).content
    before = api_state(clean_sandbox)
    manifest = clean_sandbox.api("GET", f"/export/manifest/process/{process_id}").json()
    time.sleep(1.1)  # a write would now stamp a different second
    assert do_import(clean_sandbox, package) == process_id
    assert api_state(clean_sandbox) == before
    assert clean_sandbox.api("GET", f"/export/manifest/process/{process_id}").json() == manifest

    # ... and so does importing it into a reset sandbox twice.
    clean_sandbox.reset()
    new_id = do_import(clean_sandbox, package)
    once = api_state(clean_sandbox)
    assert do_import(clean_sandbox, package) == new_id
    assert api_state(clean_sandbox) == once


def test_update_mode_restores_the_packaged_content_in_place(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    form, process = world["form"], world["process"]
    package = download(clean_sandbox, "process", process["id"]).content
    clean_sandbox.api("PUT", f"/screens/{form['id']}", json={"title": "Loan Form v2", "description": "edited",
                                                             "type": "DISPLAY"})
    clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"description": "edited"})
    assert do_import(clean_sandbox, package, options={form["uuid"]: {"mode": "update"}}) == process["id"]
    screen = clean_sandbox.api("GET", f"/screens/{form['id']}").json()
    assert screen == form  # same id and uuid, packaged title, type, description and timestamps
    assert clean_sandbox.api("GET", f"/processes/{process['id']}").json()["description"] == "Small loans"
    assert len(listed(clean_sandbox, "/screens")) == 2


def test_update_mode_matches_a_same_named_asset_when_the_uuid_is_unknown(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    package = download(clean_sandbox, "process", world["process"]["id"]).content
    clean_sandbox.reset()
    forms = created(clean_sandbox.api("POST", "/screen_categories", json={"name": "forms", "status": "ACTIVE"}))
    local = created(clean_sandbox.api("POST", "/screens", json={
        "title": "loan form", "description": "local", "type": "FORM", "screen_category_id": forms["id"]}))
    manifest = upload(clean_sandbox, "/import/preview", package).json()["manifest"]
    assert (manifest[world["form"]["uuid"]]["mode"], manifest[world["form"]["uuid"]]["matched_by"],
            manifest[world["form"]["uuid"]]["existing_id"]) == ("update", "title", local["id"])
    assert manifest[world["categories"]["screen"]["uuid"]]["matched_by"] == "name"
    do_import(clean_sandbox, package)
    screen = clean_sandbox.api("GET", f"/screens/{local['id']}").json()
    assert (screen["uuid"], screen["title"], screen["description"], screen["screen_category_id"]) == (
        world["form"]["uuid"], "Loan Form", "Applicant data", str(forms["id"]))
    assert [c["name"] for c in listed(clean_sandbox, "/screen_categories")] == ["Forms"]


def test_copy_mode_creates_new_assets_and_points_the_copies_at_each_other(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    process, form, script = world["process"], world["form"], world["script"]
    package = download(clean_sandbox, "process", process["id"]).content
    before = api_state(clean_sandbox)
    copy = {"mode": "copy"}
    new_id = do_import(clean_sandbox, package, options={process["uuid"]: copy, form["uuid"]: copy,
                                                         world["categories"]["process"]["uuid"]: copy})
    assert new_id != process["id"]
    for key in ("screens", "scripts", "script_categories", "screen_categories"):
        originals = [a for a in api_state(clean_sandbox)[key] if a["id"] in {x["id"] for x in before[key]}]
        assert originals == before[key], key  # nothing installed was touched
    copied = clean_sandbox.api("GET", f"/processes/{new_id}?include=category").json()
    assert (copied["name"], copied["description"], copied["category"]["name"]) == (
        "Loan Request 2", "Small loans", "Finance 2")
    assert copied["uuid"] not in (process["uuid"],) and copied["category"]["uuid"] != world["categories"]["process"]["uuid"]
    form_copy = next(s for s in listed(clean_sandbox, "/screens") if s["title"] == "Loan Form 2")
    assert form_copy["uuid"] != form["uuid"] and form_copy["config"] == form["config"]
    bpmn = clean_sandbox.api("GET", f"/processes/{new_id}/bpmn").text
    assert bpmn.count(f'pm:screenRef="{form_copy["id"]}"') == 2
    assert f'pm:scriptRef="{script["id"]}"' in bpmn  # the script was updated in place, not copied
    assert copied["cancel_screen_id"] == world["cancel"]["id"]
    original = clean_sandbox.api("GET", f"/processes/{process['id']}/bpmn").text
    assert original.count(f'pm:screenRef="{form["id"]}"') == 2


def test_discard_mode_keeps_the_installed_asset(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    process, form = world["process"], world["form"]
    package = download(clean_sandbox, "process", process["id"]).content
    clean_sandbox.api("PUT", f"/screens/{form['id']}", json={"title": "Loan Form", "description": "kept",
                                                             "type": "FORM"})
    clean_sandbox.api("PUT", f"/processes/{process['id']}", json={"description": "edited"})
    do_import(clean_sandbox, package, options={form["uuid"]: {"mode": "discard"}})
    assert clean_sandbox.api("GET", f"/screens/{form['id']}").json()["description"] == "kept"
    assert clean_sandbox.api("GET", f"/processes/{process['id']}").json()["description"] == "Small loans"
    assert clean_sandbox.api("GET", f"/processes/{process['id']}/bpmn").text.count(
        f'pm:screenRef="{form["id"]}"') == 2

    # Discarding an asset the target does not have clears the references to it.
    clean_sandbox.reset()
    new_id = do_import(clean_sandbox, package, options={form["uuid"]: {"mode": "discard"}})
    assert [s["title"] for s in listed(clean_sandbox, "/screens")] == ["Cancel Notice"]
    bpmn = clean_sandbox.api("GET", f"/processes/{new_id}/bpmn").text
    assert bpmn.count('pm:screenRef=""') == 2 and 'name="Review &gt; decide"' in bpmn


def test_a_password_protected_package_imports_with_its_password(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    before = portable(api_state(clean_sandbox))
    package = download(clean_sandbox, "process", world["process"]["id"], password="s3cret").content
    clean_sandbox.reset()
    for path in ("/import/preview", "/import/do-import"):
        response = upload(clean_sandbox, path, package)
        assert (path, response.status_code, response.json()) == (path, 400, {"error": "password required"})
        response = upload(clean_sandbox, path, package, password="wrong")
        assert (path, response.status_code, response.json()) == (path, 400, {"error": "incorrect password"})
    assert api_state(clean_sandbox)["processes"] == []
    preview = upload(clean_sandbox, "/import/preview", package, password="s3cret").json()
    assert preview["rootUuid"] == world["process"]["uuid"] and len(preview["manifest"]) == 7
    do_import(clean_sandbox, package, password="s3cret")
    assert portable(api_state(clean_sandbox)) == before


# ---- errors and permissions --------------------------------------------------------------------


def test_bad_uploads_and_options(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    package = download(clean_sandbox, "process", world["process"]["id"]).content
    response = clean_sandbox.api("POST", "/import/do-import", data={"password": "x"})
    assert (response.status_code, response.json()) == (422, {
        "message": "The File field is required.", "errors": {"file": ["The File field is required."]}})
    for content in (b"not json", b"[]", json.dumps({"version": "1", "root": "x", "export": {}}).encode()):
        response = upload(clean_sandbox, "/import/preview", content)
        assert (response.status_code, list(response.json()["errors"])) == (422, ["file"])
    response = upload(clean_sandbox, "/import/do-import", package, options={world["form"]["uuid"]: {"mode": "new"}})
    assert (response.status_code, response.json()["errors"]) == (
        422, {"options": ['Mode "new" can only be set by the system.']})
    response = upload(clean_sandbox, "/import/do-import", package, options={"mode": "merge"})
    assert (response.status_code, response.json()["errors"]) == (422, {"options": ["Invalid mode: merge"]})
    for path in ("/export/manifest/process/999999", "/export/manifest/widget/1"):
        response = clean_sandbox.api("GET", path)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    response = clean_sandbox.api("POST", "/export/screen/download/999999", json={})
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_tokens_and_permissions(clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    process_id = world["process"]["id"]
    package = download(clean_sandbox, "process", process_id).content
    calls = {
        "manifest": lambda token: clean_sandbox.api("GET", f"/export/manifest/process/{process_id}", token=token),
        "download": lambda token: clean_sandbox.api("POST", f"/export/process/download/{process_id}", token=token,
                                                    json={}),
        "preview": lambda token: upload(clean_sandbox, "/import/preview", package, token=token),
        "import": lambda token: upload(clean_sandbox, "/import/do-import", package, token=token),
    }
    for method, path in (("GET", f"/export/manifest/process/{process_id}"),
                         ("POST", f"/export/process/download/{process_id}"), ("POST", "/import/preview"),
                         ("POST", "/import/do-import")):
        response = no_token(clean_sandbox, method, path)
        assert (path, response.status_code, response.json()) == (path, 401, UNAUTHENTICATED)
    _, nobody = user_with_token(clean_sandbox, "nobody")
    _, exporter = user_with_token(clean_sandbox, "exporter", "export-processes")
    _, importer = user_with_token(clean_sandbox, "importer", "import-processes")
    for name, call in calls.items():
        response = call(nobody)
        assert (name, response.status_code, response.json()) == (name, 403, UNAUTHORIZED)
        assert (name, call(exporter).status_code) == (name, 403 if name == "import" else 200)
        assert (name, call(importer).status_code) == (name, 200 if name == "import" else 403)


# ---- task assignments (ProcessExporter::exportAssignments / importAssignments) ----------------------


def assigned_process(sb: SandboxProcess, group_ids: str, user_ids: str) -> dict[str, Any]:
    definition = BPMN.replace(
        'pm:screenRef="{form}" pm:assignment="requester"',
        f'pm:assignment="user_group" pm:assignedUsers="{user_ids}" pm:assignedGroups="{group_ids}"',
    ).replace(' pm:screenRef="{form}"', "").replace(' pm:scriptRef="{script}"', "")
    return created(sb.api("POST", "/processes", json={"name": "Approval", "description": "Gate", "bpmn": definition}))


def test_task_assignments_export_as_dependents_without_the_users_and_groups(clean_sandbox: SandboxProcess) -> None:
    approvers = create_group(clean_sandbox, "Approvers")
    ann = create_user(clean_sandbox, "ann")
    process = assigned_process(clean_sandbox, f"{approvers['id']},999", f"{ann['id']}")
    package = download(clean_sandbox, "process", process["id"]).json()

    assert list(package["export"]) == [process["uuid"]]  # users and groups are never in a package
    dependents = {d["type"]: d for d in package["export"][process["uuid"]]["dependents"]}
    meta = {"path": '//*[@id="node_2"]', "assignmentType": "user_group"}
    assert dependents["group_assignment"]["uuid"] == approvers["uuid"]
    assert dependents["group_assignment"]["meta"] == meta  # group 999 does not exist: no dependent
    assert dependents["group_assignment"]["fallbackMatches"] == {"name": "Approvers"}
    assert dependents["user_assignment"]["uuid"] == ann["uuid"]
    assert dependents["user_assignment"]["fallbackMatches"] == {"email": ann["email"], "username": "ann"}
    assert [d["type"] for d in package["export"][process["uuid"]]["dependents"]].count("group_assignment") == 1


def test_task_assignments_import_as_the_targets_groups_and_users_by_name(clean_sandbox: SandboxProcess) -> None:
    process = assigned_process(clean_sandbox, str(create_group(clean_sandbox, "Approvers")["id"]),
                               str(create_user(clean_sandbox, "ann")["id"]))
    package = download(clean_sandbox, "process", process["id"]).content
    clean_sandbox.reset()
    create_group(clean_sandbox, "Unrelated")  # the target's ids differ from the source's
    approvers = create_group(clean_sandbox, "approvers")  # matched by name (case-insensitive, like MySQL)

    process_id = do_import(clean_sandbox, package)
    definition = clean_sandbox.api("GET", f"/processes/{process_id}/bpmn").text
    assert f'pm:assignedGroups="{approvers["id"]}"' in definition
    assert 'pm:assignedUsers=""' in definition  # nobody named ann here: left out
    assert 'pm:assignment="user_group"' in definition
