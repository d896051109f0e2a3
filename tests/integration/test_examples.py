"""Every EXAMPLES block of every module and lookup runs against the sandbox, as written.

Each plugin's EXAMPLES (read from the source, without importing it) becomes a playbook: full plays
are run as they are, a list of tasks is wrapped in a play on localhost. The plays get the sandbox's
``PM_*`` environment variables and, as extra variables, the ``pm_*`` variables they use without
defining them, and the values a reader supplies (user passwords, the logins of the servers a promotion
goes between), from the tables below; what an example expects to find on a server (the process
pm_package's examples promote) is created first (``PRECONDITIONS``). A ``pause`` that asks a person is
answered on a pseudo-terminal:
the authorization URL it shows is approved by tools/approve_in_browser.py's ``approve`` and the URL
the browser would land on is typed in.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from approve_in_browser import approve
from pm_integration import (
    REPO_ROOT,
    SANDBOXES,
    Runner,
    ok,
    run_playbook_in_terminal,
    unexpected_traceback,
)
from pm_sandbox.testing import SandboxProcess
from test_pm_package import build_world
from test_requests_tasks import APPROVED_END, approval_world, ended_at

PLUGINS = sorted(
    path for kind in ("modules", "lookup") for path in (REPO_ROOT / "plugins" / kind).glob("*.py")
    if not path.name.startswith("_")
)


def example_vars(sandbox: SandboxProcess) -> dict[str, str]:
    creds = sandbox.credentials
    return {
        "pm_url": creds["url"],
        "pm_client_id": creds["password_client"]["client_id"],
        "pm_client_secret": creds["password_client"]["client_secret"],
        "pm_username": creds["admin"]["username"],
        "pm_password": creds["admin"]["password"],
        "pm_code_client_id": creds["authorization_code_client"]["client_id"],
        "pm_code_client_secret": creds["authorization_code_client"]["client_secret"],
        "pm_redirect_uri": creds["authorization_code_client"]["redirect_uri"],
    }


# Variables other examples use for values a reader supplies (user passwords and the like): secrets.
READER_SUPPLIED = {
    "jdoe_password": "Jdoe-Example-Passw0rd!",
    "rroe_password": "Rroe-Example-Passw0rd!",
    "asmith_password": "Asmith-Example-Passw0rd!",
    "package_password": "Package-Example-Passw0rd!",
}

# Variables examples use for the login of a server (url, client_id, client_secret, username, password):
# staging is the test's sandbox, production a second one (reset first).
SERVER_LOGINS = ("staging", "production")

# What an example expects a server to hold already, made through the API before the example runs.
PRECONDITIONS: dict[str, Callable[[SandboxProcess, Path], object]] = {
    # a process "Loan Request" with its screens (one is "Loan Form" in category "Forms"), script and categories;
    # the examples write their packages into {{ playbook_dir }}/packages
    "modules/pm_package": lambda sandbox, tmp: (build_world(sandbox), (tmp / "packages").mkdir(exist_ok=True)),
    # the approval process (playbooks/files/approval-package.json), its group "Change approvers" with jdoe in it
    "modules/pm_request": lambda sandbox, tmp: approval_world(sandbox, "jdoe", READER_SUPPLIED["jdoe_password"]),
    "modules/pm_task": lambda sandbox, tmp: approval_world(sandbox, "jdoe", READER_SUPPLIED["jdoe_password"]),
}


def server_login(sandbox: SandboxProcess) -> dict[str, str]:
    creds = sandbox.credentials
    return {"url": creds["url"], "client_id": creds["password_client"]["client_id"],
            "client_secret": creds["password_client"]["client_secret"], "username": creds["admin"]["username"],
            "password": creds["admin"]["password"]}


@pytest.fixture(scope="module")
def second_sandbox() -> Iterator[SandboxProcess]:
    """The production server of the promotion examples (started only when an example uses it)."""
    with SandboxProcess() as process:
        SANDBOXES.append(process)
        yield process


def examples_of(path: Path) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no EXAMPLES")


def as_playbook(text: str) -> list[dict]:
    documents = yaml.safe_load(text)
    assert isinstance(documents, list) and documents, "EXAMPLES must be a YAML list of plays or tasks"
    if all(isinstance(item, dict) and "hosts" in item for item in documents):
        return documents
    return [{"name": "EXAMPLES", "hosts": "localhost", "gather_facts": False, "tasks": documents}]


def defined_vars(plays: list[dict]) -> set[str]:
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, dict):
            for key in ("vars",):
                if isinstance(node.get(key), dict):
                    names.update(node[key])
            if isinstance(node.get("register"), str):
                names.add(node["register"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(plays)
    return names


def used_vars(plays: list[dict]) -> set[str]:
    """pm_* and READER_SUPPLIED names in the Jinja expressions of the plays (not in comments, names or prose)."""
    return {name for name in jinja_names(plays) if name.startswith("pm_") or name in READER_SUPPLIED or name in SERVER_LOGINS}


def jinja_names(plays: list[dict]) -> set[str]:
    """Every variable-like name in the Jinja expressions of the plays (not in comments, names or prose)."""
    expressions: list[str] = []

    def visit(node: object, key: str | None = None) -> None:
        if isinstance(node, dict):
            for child_key, value in node.items():
                visit(value, str(child_key))
        elif isinstance(node, list):
            for value in node:
                visit(value, key)
        elif isinstance(node, str):
            expressions.extend(re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", node, re.DOTALL) and
                               [a + b for a, b in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", node, re.DOTALL)])
            if key in ("when", "that", "changed_when", "failed_when", "until"):
                expressions.append(node)

    visit(plays)
    return {name for text in expressions for name in re.findall(r"(?<![.\w'\"])([a-z][a-z0-9_]*)\b", text)}


def needs_a_person(plays: list[dict]) -> bool:
    return "ansible.builtin.pause" in yaml.safe_dump(plays) or "'pause'" in repr(plays)


@pytest.mark.deep
@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_examples_run(plugin: Path, pb: Runner, clean_sandbox: SandboxProcess, request: pytest.FixtureRequest) -> None:
    text = examples_of(plugin)
    plays = as_playbook(text)
    used = used_vars(plays) - defined_vars(plays)
    known: dict[str, object] = {**example_vars(clean_sandbox), **READER_SUPPLIED}
    for name in used & set(READER_SUPPLIED):
        pb.guard.add(READER_SUPPLIED[name], name)
    if used & set(SERVER_LOGINS):
        production: SandboxProcess = request.getfixturevalue("second_sandbox")
        production.reset()
        known.update(staging=server_login(clean_sandbox), production=server_login(production))
        for name in used & set(SERVER_LOGINS):
            pb.guard.add(known[name]["client_secret"], f"{name} client secret")
            pb.guard.add(known[name]["password"], f"{name} password")
    setup = PRECONDITIONS.get(f"{plugin.parent.name}/{plugin.stem}")
    if setup:
        setup(clean_sandbox, pb.tmp)
    unknown = used - set(known)
    assert not unknown, f"the examples use variables this test does not define: {sorted(unknown)}"
    extra = {name: known[name] for name in sorted(used)}
    playbook = pb.write(yaml.safe_dump(plays, sort_keys=False), name=f"examples-{plugin.parent.name}-{plugin.stem}.yml")
    env = pb.env()

    if needs_a_person(plays):
        admin = clean_sandbox.credentials["admin"]

        def person(screen: str) -> str | None:
            match = re.search(r"Open (http\S+/oauth/authorize\?\S+)", screen)
            if not match or not screen.rstrip().endswith(":"):
                return None
            callback = approve(match.group(1), admin["username"], admin["password"])
            pb.guard.add(callback, "callback URL the person pasted")
            return callback

        run = run_playbook_in_terminal(playbook, respond=person, env=env, extra_vars=extra, tmp_path=pb.tmp)
        assert run.returncode == 0, run.tail()
    else:
        run = ok(pb.run(playbook, env=env, extra_vars=extra))
    recap = run.recap()
    assert recap["failed"] == 0 and recap["ok"] > 0, run.tail()
    assert not unexpected_traceback(run.output), run.tail()

    if plugin.stem == "pm_api" and plugin.parent.name == "modules":
        # the example created, renamed and deleted a group
        groups = clean_sandbox.api("GET", "/groups").json()["data"]
        assert [group["name"] for group in groups] == []
        assert clean_sandbox.counters()["requests"].get("POST /api/1.0/groups") == 1
    if plugin.stem == "pm_package" and plugin.parent.name == "modules":
        # the example promoted the process from staging to production
        production = request.getfixturevalue("second_sandbox")
        assert [p["name"] for p in production.api("GET", "/processes").json()["data"]] == ["Loan Request"]
    if plugin.stem in ("pm_request", "pm_task") and plugin.parent.name == "modules":
        # the examples smoke-tested (and canceled) one request, and jdoe or the admin approved another
        requests = clean_sandbox.api("GET", "/requests?type=all&include=data").json()["data"]
        statuses = sorted((r["status"], r["data"].get("change")) for r in requests)
        wanted = {"pm_request": [("CANCELED", "SMOKE-TEST"), ("COMPLETED", "CHG-1042")],
                  "pm_task": [("COMPLETED", "CHG-1042")]}[plugin.stem]
        assert statuses == wanted, statuses
        approved = next(r for r in requests if r["status"] == "COMPLETED")
        assert approved["data"]["approved"] is True and ended_at(clean_sandbox, approved["id"]) == [APPROVED_END]
    if plugin.stem == "pm_token" and plugin.parent.name == "modules":
        issued = clean_sandbox.counters()["tokens_issued"]
        assert issued.get("authorization_code") == 1 and issued.get("refresh_token") == 1
        assert clean_sandbox.api("GET", "/users/1/tokens").json()["data"] == []  # the PAT was revoked
