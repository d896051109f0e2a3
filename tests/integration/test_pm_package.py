"""processmaker.core.pm_package with real ansible-playbook runs (-vvv, leak-checked) against live
sandboxes: export to a file (idempotent, plain and password protected), import into a reset sandbox
(identical afterwards), the re-import that changes nothing, check mode, per-asset modes, clean
failures, and the EXAMPLES promoting a process from one sandbox to another."""

from __future__ import annotations

import ast
import json
import os
import stat
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pm_integration import (
    REPO_ROOT,
    SANDBOXES,
    Runner,
    assert_clean_failure,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

PACKAGE_PASSWORD = "Pkg-pa55word!"
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:pm="http://processmaker.com/BPMN/2.0/Schema.xsd" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="ProcessId" name="Loan" isExecutable="true">
    <bpmn:startEvent id="node_1" name="Apply" pm:screenRef="{form}"/>
    <bpmn:task id="node_2" name="Review" pm:screenRef="{form}"/>
    <bpmn:scriptTask id="node_3" name="Score" pm:scriptRef="{script}"/>
    <bpmn:endEvent id="node_4" name="Done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def created(response: Any) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def build_world(sandbox: SandboxProcess) -> dict:
    """A process with a category, a screen used twice, a cancel screen and a script (and their categories)."""
    categories = {
        kind: created(sandbox.api("POST", f"/{kind}_categories", json={"name": name, "status": "ACTIVE"}))
        for kind, name in (("process", "Finance"), ("screen", "Forms"), ("script", "Tools"))
    }
    form = created(sandbox.api("POST", "/screens", json={
        "title": "Loan Form", "description": "Applicant data", "type": "FORM",
        "screen_category_id": categories["screen"]["id"],
        "config": [{"name": "Page 1", "items": [{"component": "FormInput", "config": {"name": "amount"}}]}]}))
    cancel = created(sandbox.api("POST", "/screens", json={
        "title": "Cancel Notice", "description": "Shown on cancel", "type": "DISPLAY",
        "screen_category_id": categories["screen"]["id"]}))
    script = created(sandbox.api("POST", "/scripts", json={
        "title": "Score Applicant", "description": "Risk score", "language": "python", "code": "return {'score': 7}",
        "run_as_user_id": sandbox.credentials["admin"]["id"], "script_category_id": categories["script"]["id"]}))
    process = created(sandbox.api("POST", "/processes", json={
        "name": "Loan Request", "description": "Small loans", "process_category_id": categories["process"]["id"],
        "bpmn": BPMN.replace("{form}", str(form["id"])).replace("{script}", str(script["id"])),
        "cancel_screen_id": cancel["id"]}))
    return {"categories": categories, "form": form, "cancel": cancel, "script": script, "process": process}


def manifest(sandbox: SandboxProcess, kind: str, asset_id: int) -> dict:
    response = sandbox.api("GET", f"/export/manifest/{kind}/{asset_id}")
    assert response.status_code == 200, response.text
    return response.json()


def listed(sandbox: SandboxProcess, path: str) -> list:
    return sandbox.api("GET", path, params={"per_page": 1000}).json()["data"]


def imports(counters: dict) -> int:
    return served(counters, "POST /api/1.0/import/do-import")


def play(tasks: str, *saved: str) -> str:
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    lines += ["    " + line for line in textwrap.dedent(tasks).strip("\n").splitlines()]
    lines += ["    " + save_result("r_" + name, name) for name in saved]
    return "\n".join(lines) + "\n"


def run(pb: Runner, tasks: str, *saved: str, args: list | None = None, extra: dict | None = None):
    variables = {"package_password": PACKAGE_PASSWORD, "tmp": str(pb.tmp), **(extra or {})}
    return pb.play(play(tasks, *saved), extra_vars=variables, args=args)


@pytest.fixture
def secret(leak_guard) -> None:
    leak_guard.add(PACKAGE_PASSWORD, "the package password")


@pytest.fixture(scope="module")
def production() -> Iterator[SandboxProcess]:
    """A second sandbox to promote packages to (it shares the first one's nothing)."""
    with SandboxProcess() as process:
        SANDBOXES.append(process)
        yield process


# --- export ------------------------------------------------------------------------------------

def test_export_writes_a_package_once_and_check_mode_writes_nothing(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    export = """
        - processmaker.core.pm_package:
            state: exported
            name: loan request
            dest: "{{ tmp }}/loan.json"
          register: r_export
    """
    ok(run(pb, export, "export", args=["--diff"]))
    result = pb.result("export")
    path = pb.tmp / "loan.json"
    assert result["changed"] is True and result["dest"] == str(path) and result["encrypted"] is False
    assert result["root"] == {"type": "process", "uuid": world["process"]["uuid"], "name": "Loan Request",
                              "id": world["process"]["id"]}
    assert sorted((a["type"], a["name"]) for a in result["assets"]) == sorted([
        ("Process", "Loan Request"), ("ProcessCategory", "Finance"), ("Screen", "Cancel Notice"),
        ("Screen", "Loan Form"), ("Script", "Score Applicant"), ("ScreenCategory", "Forms"),
        ("ScriptCategory", "Tools")])
    assert result["diff"]["before"] == {"assets": []} and len(result["diff"]["after"]["assets"]) == 7
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == manifest(clean_sandbox, "process", world["process"]["id"])

    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(run(pb, export, "export"))
    assert pb.result("export")["changed"] is False
    counters = clean_sandbox.counters()
    assert served(counters, "POST /api/1.0/export/*/download/*") == 0, "an unchanged export only reads the manifest"

    ok(run(pb, """
        - processmaker.core.pm_package:
            state: exported
            type: script
            id: "{{ script_id }}"
            dest: "{{ tmp }}/script.json"
          check_mode: true
          register: r_check
    """, "check", extra={"script_id": world["script"]["id"]}))
    assert pb.result("check")["changed"] is True and not (pb.tmp / "script.json").exists()


@pytest.mark.deep
def test_export_then_import_into_a_reset_sandbox_is_identical(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    ok(run(pb, """
        - processmaker.core.pm_package: {state: exported, type: process, id: "{{ process_id }}", dest: "{{ tmp }}/loan.json"}
    """, extra={"process_id": world["process"]["id"]}))
    package = json.loads((pb.tmp / "loan.json").read_text())
    original = {path: listed(clean_sandbox, path) for path in ("/screens", "/scripts", "/process_categories")}

    clean_sandbox.reset()
    assert listed(clean_sandbox, "/processes") == []
    importing = """
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/loan.json"
          register: r_import
    """
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(run(pb, importing, "import", args=["--check", "--diff"]))
    predicted = pb.result("import")
    assert predicted["changed"] is True and predicted["summary"]["created"] == 7 and predicted["root"]["id"] is None
    assert imports(clean_sandbox.counters()) == 0 and listed(clean_sandbox, "/processes") == []

    ok(run(pb, importing, "import"))
    result = pb.result("import")
    assert result["changed"] is True and result["summary"] == predicted["summary"]
    (process,) = listed(clean_sandbox, "/processes")
    assert result["root"] == {"uuid": package["root"], "type": "process", "name": "Loan Request", "id": process["id"]}
    # identical: the server exports exactly the package it was given
    assert manifest(clean_sandbox, "process", process["id"]) == package
    assert {path: listed(clean_sandbox, path) for path in original} == original

    clean_sandbox.reset_counters()
    ok(run(pb, importing, "import"))
    again = pb.result("import")
    assert again["changed"] is False and again["summary"]["unchanged"] == 7
    assert all(asset["action"] == "unchanged" and asset["id"] is not None for asset in again["assets"])
    assert again["root"]["id"] == process["id"]
    assert imports(clean_sandbox.counters()) == 0, "an identical package is not imported again"


def test_a_changed_asset_is_updated_and_the_diff_says_what(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    world = build_world(clean_sandbox)
    ok(run(pb, '- processmaker.core.pm_package: {state: exported, name: Loan Request, dest: "{{ tmp }}/loan.json"}'))
    form = world["form"]
    assert clean_sandbox.api("PUT", f"/screens/{form['id']}", json={
        "title": "Loan Form", "description": "Changed by hand", "type": "FORM"}).status_code == 204
    ok(run(pb, """
        - processmaker.core.pm_package: {state: imported, src: "{{ tmp }}/loan.json"}
          register: r_import
    """, "import", args=["--diff"]))
    result = pb.result("import")
    assert result["changed"] is True and result["summary"]["updated"] == 1 and result["summary"]["unchanged"] == 6
    (updated,) = [a for a in result["assets"] if a["action"] == "update"]
    assert updated["name"] == "Loan Form" and updated["id"] == form["id"] and "description" in updated["changes"]
    assert result["diff"]["before"]["Screen: Loan Form"]["description"] == "Changed by hand"
    assert result["diff"]["after"]["Screen: Loan Form"]["description"] == "Applicant data"
    assert clean_sandbox.api("GET", f"/screens/{form['id']}").json()["description"] == "Applicant data"


def test_password_protected_packages(pb: Runner, clean_sandbox: SandboxProcess, secret) -> None:
    build_world(clean_sandbox)
    export = """
        - processmaker.core.pm_package:
            state: exported
            type: screen
            name: Loan Form
            dest: "{{ tmp }}/form.json"
            package_password: "{{ package_password }}"
          register: r_export
    """
    ok(run(pb, export, "export"))
    assert pb.result("export")["changed"] is True and pb.result("export")["encrypted"] is True
    package = json.loads((pb.tmp / "form.json").read_text())
    assert package["encrypted"] is True and isinstance(package["export"], str)
    ok(run(pb, export, "export"))
    assert pb.result("export")["changed"] is False, "the encrypted file is compared after decrypting it"

    clean_sandbox.reset()
    ok(run(pb, """
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/form.json"
          register: r_no_password
          ignore_errors: true
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/form.json"
            package_password: wrong-password
          register: r_wrong
          ignore_errors: true
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/form.json"
            package_password: "{{ package_password }}"
          register: r_import
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/form.json"
            package_password: "{{ package_password }}"
          register: r_again
    """, "no_password", "wrong", "import", "again"))
    assert_clean_failure(pb.result("no_password"), "password required", "package_password")
    assert_clean_failure(pb.result("wrong"), "incorrect password", "package_password")
    assert pb.result("import")["changed"] is True and pb.result("again")["changed"] is False
    assert [s["title"] for s in listed(clean_sandbox, "/screens")] == ["Loan Form"]


def test_per_asset_modes(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    build_world(clean_sandbox)
    ok(run(pb, '- processmaker.core.pm_package: {state: exported, name: Loan Request, dest: "{{ tmp }}/loan.json"}'))
    clean_sandbox.reset_counters()
    ok(run(pb, """
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/loan.json"
            asset_modes:
              Loan Request: copy
              "Screen:Cancel Notice": discard
          register: r_copy
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/loan.json"
            asset_modes: {Nothing like it: copy}
          register: r_unknown
          ignore_errors: true
        - processmaker.core.pm_package:
            state: imported
            src: "{{ tmp }}/loan.json"
            mode: discard
          register: r_discard
    """, "copy", "unknown", "discard"))
    copy = {a["name"]: a for a in pb.result("copy")["assets"]}
    assert copy["Loan Request"]["action"] == "copy" and copy["Cancel Notice"]["action"] == "discard"
    assert copy["Loan Form"]["action"] == "unchanged" and pb.result("copy")["changed"] is True
    assert sorted(p["name"] for p in listed(clean_sandbox, "/processes")) == ["Loan Request", "Loan Request 2"]
    assert imports(clean_sandbox.counters()) == 1
    assert_clean_failure(pb.result("unknown"), "asset_modes names 'Nothing like it'", "Process:Loan Request")
    assert pb.result("discard")["changed"] is False and pb.result("discard")["summary"]["discarded"] == 7


def test_a_lost_import_answer_is_checked_not_sent_again(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    build_world(clean_sandbox)
    ok(run(pb, '- processmaker.core.pm_package: {state: exported, name: Loan Request, dest: "{{ tmp }}/loan.json"}'))
    clean_sandbox.reset()
    clean_sandbox.set_faults([{"route": "POST /api/1.0/import/do-import", "probability": 1.0, "kinds": ["502"],
                               "when": "after"}], seed=1)
    try:
        ok(run(pb, """
            - processmaker.core.pm_package: {state: imported, src: "{{ tmp }}/loan.json"}
              register: r_import
        """, "import"))
    finally:
        clean_sandbox.clear_faults()
    counters = clean_sandbox.counters()
    assert imports(counters) == 1 and counters["faults_injected_total"] == 1
    assert served(counters, "POST /api/1.0/import/preview") == 2  # before, and to see that the lost one landed
    (process,) = listed(clean_sandbox, "/processes")
    assert pb.result("import")["changed"] is True and pb.result("import")["root"]["id"] == process["id"]


def test_export_failures_are_one_line(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    run(pb, """
        - processmaker.core.pm_package: {state: exported, name: No such process, dest: "{{ tmp }}/x.json"}
          register: r_unknown
          ignore_errors: true
        - processmaker.core.pm_package: {state: exported, type: script, id: 4242, dest: "{{ tmp }}/x.json"}
          register: r_unknown_id
          ignore_errors: true
        - processmaker.core.pm_package: {state: exported, dest: "{{ tmp }}/x.json"}
          register: r_nothing
          ignore_errors: true
        - processmaker.core.pm_package: {state: imported, src: "{{ tmp }}/missing.json"}
          register: r_missing
          ignore_errors: true
        - processmaker.core.pm_package: {state: imported}
          register: r_no_src
          ignore_errors: true
    """, "unknown", "unknown_id", "nothing", "missing", "no_src")
    assert_clean_failure(pb.result("unknown"), "no process with name 'No such process'")
    assert_clean_failure(pb.result("unknown_id"), "script", "4242")
    assert_clean_failure(pb.result("nothing"), "needs id or name")
    assert_clean_failure(pb.result("missing"), "cannot read", "missing.json")
    assert_clean_failure(pb.result("no_src"), "src")
    assert not (pb.tmp / "x.json").exists()


# --- the EXAMPLES block runs, promoting between two sandboxes -----------------------------------------

def examples() -> list:
    tree = ast.parse((REPO_ROOT / "plugins" / "modules" / "pm_package.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError("EXAMPLES")


def login(sandbox: SandboxProcess) -> dict:
    creds = sandbox.credentials
    return {"url": sandbox.url, "client_id": creds["password_client"]["client_id"],
            "client_secret": creds["password_client"]["client_secret"], "username": creds["admin"]["username"],
            "password": creds["admin"]["password"]}


@pytest.mark.deep
def test_the_examples_run(pb: Runner, clean_sandbox: SandboxProcess, production: SandboxProcess, secret) -> None:
    production.reset()
    build_world(clean_sandbox)
    (pb.tmp / "packages").mkdir()
    playbook = pb.tmp / "examples.yml"
    playbook.write_text(yaml.safe_dump(examples(), sort_keys=False))
    staging = login(clean_sandbox)
    variables = {"staging": staging, "production": login(production), "package_password": PACKAGE_PASSWORD,
                 **{f"pm_{key}": value for key, value in staging.items()}}
    env = {"PM_TOKEN_CACHE_DIR": str(pb.cache_dir)}  # no PM_* login: the examples say everything
    ok(pb.run(playbook, extra_vars=variables, env=env))
    package = json.loads((pb.tmp / "packages" / "loan_request.json").read_text())
    (process,) = listed(production, "/processes")
    assert process["name"] == "Loan Request" and process["uuid"] == package["root"]
    assert manifest(production, "process", process["id"]) == package, "promoted identically"
    assert json.loads((pb.tmp / "packages" / "loan_form.json").read_text())["encrypted"] is True
    # the second play imported the screen as a copy next to the original
    assert sorted(s["title"] for s in listed(clean_sandbox, "/screens")) == ["Cancel Notice", "Loan Form", "Loan Form 2"]

    production.reset_counters()
    ok(pb.run(playbook, extra_vars=variables, env=env))
    assert imports(production.counters()) == 0, "production already has exactly this package"
    assert len(listed(production, "/processes")) == 1


# --- docs ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["pm_package", "pm_resource"])
def test_ansible_doc_renders_and_matches_the_argument_spec(module: str) -> None:
    import subprocess
    import sys

    from ansible_collections.processmaker.core.plugins.module_utils.options import (
        connection_argument_spec,
    )
    from pm_integration import COLLECTIONS_ROOT

    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT), "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "--json", f"processmaker.core.{module}"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0 and "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr
    doc = json.loads(done.stdout)[f"processmaker.core.{module}"]
    text = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), f"processmaker.core.{module}"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert text.returncode == 0 and "ERROR" not in text.stderr and "OPTIONS" in text.stdout, text.stderr
    assert doc["examples"].strip() and doc["return"]
    options = doc["doc"]["options"]
    code = __import__(f"ansible_collections.processmaker.core.plugins.modules.{module}", fromlist=["ARGUMENT_SPEC"])
    spec = dict(connection_argument_spec(), **code.ARGUMENT_SPEC)
    assert set(options) == set(spec)
    for name, definition in spec.items():
        assert options[name]["type"] == definition.get("type", "str"), name
        assert options[name].get("default") == definition.get("default"), name
        assert options[name].get("choices") == definition.get("choices"), name
        assert options[name].get("aliases", []) == definition.get("aliases", []), name
        assert bool(options[name].get("required")) == bool(definition.get("required")), name
    attributes = doc["doc"]["attributes"]
    assert attributes["check_mode"]["support"] == "full" and attributes["diff_mode"]["support"] == "full"
    assert attributes["action_group"]["membership"] == ["processmaker.core.all"]
