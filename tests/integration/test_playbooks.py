"""The collection's playbooks (playbooks/*.yml) against a live sandbox, checked from the server side."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml
from approve_in_browser import approve
from pm_integration import (
    REPO_ROOT,
    LeakGuard,
    PlaybookRun,
    Runner,
    ok,
    run_playbook_in_terminal,
    served,
)
from pm_sandbox.testing import SandboxProcess

PLAYBOOKS = REPO_ROOT / "playbooks"
APPROVE = REPO_ROOT / "tools" / "approve_in_browser.py"


def code_flow_env(pb: Runner, sandbox: SandboxProcess) -> dict:
    client = sandbox.credentials["authorization_code_client"]
    return pb.env(
        PM_CODE_CLIENT_ID=client["client_id"],
        PM_CODE_CLIENT_SECRET=client["client_secret"],
        PM_REDIRECT_URI=client["redirect_uri"],
    )


def approve_command(*extra: str) -> str:
    return " ".join(shlex.quote(part) for part in (sys.executable, str(APPROVE), *extra))


def test_token_playbook_password_grant_then_users(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    run = ok(pb.run(PLAYBOOKS / "token.yml"))
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 1}
    assert counters["requests"]["GET /api/1.0/users"] == 1
    assert "Password grant: got a Bearer token for admin (id 1)" in run.stdout
    assert "GET /users answered 200 with 1 user(s): admin" in run.stdout


@pytest.mark.parametrize("printed", ["code", "callback_url"])
def test_authorize_playbook_with_approve_command(pb: Runner, clean_sandbox: SandboxProcess, printed: str) -> None:
    run = ok(pb.run(PLAYBOOKS / "authorize.yml", env=code_flow_env(pb, clean_sandbox),
                    extra_vars={"pm_approve_command": approve_command("--print", printed)}))
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"authorization_code": 1}
    assert counters["requests"]["POST /oauth/authorize"] == 1  # the consent page was approved
    assert counters["requests"]["GET /api/1.0/users"] == 1
    assert "Authorization code grant: got a Bearer token acting as admin" in run.stdout
    assert ("state checked" in run.stdout) == (printed == "callback_url")
    assert "GET /users answered 200" in run.stdout
    assert run.recap()["skipped"] == 2  # the pause prompt and the failure report


def test_authorize_playbook_failing_approve_command_is_reported(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    env = code_flow_env(pb, clean_sandbox)
    env["PM_APPROVE_PASSWORD"] = "not-the-password-1A!"
    pb.guard.add(env["PM_APPROVE_PASSWORD"], "wrong approve password")
    run = pb.run(PLAYBOOKS / "authorize.yml", env=env, extra_vars={"pm_approve_command": approve_command()})
    assert run.returncode == 2
    assert "pm_approve_command failed with exit status 1: approve_in_browser: the server did not accept the login" in run.stdout
    assert clean_sandbox.counters()["tokens_issued_total"] == 0


def test_authorize_playbook_asks_like_input(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """No approve command: the pause prompt asks for the code; a person (us) pastes the redirect URL."""
    admin = clean_sandbox.credentials["admin"]
    typed: dict[str, str] = {}

    def person(screen: str) -> str | None:
        if "Enter the authorization code" not in screen:
            return None
        url = re.search(r"Open (http\S+) , sign in", screen).group(1)
        typed["callback"] = approve(url, admin["username"], admin["password"])
        pb.guard.add(typed["callback"], "pasted callback URL")
        return typed["callback"]

    run = run_playbook_in_terminal(PLAYBOOKS / "authorize.yml", respond=person, env=code_flow_env(pb, clean_sandbox),
                                   extra_vars=pb.extra(None), tmp_path=pb.tmp)
    assert run.returncode == 0, run.tail()
    assert "(output is hidden)" in run.stdout  # the code is not echoed
    assert "state checked" in run.stdout
    assert clean_sandbox.counters()["tokens_issued"] == {"authorization_code": 1}


def test_pat_playbook_creates_ci_account_uses_and_revokes(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ci_password = "Ci-Account-Pass-42!"
    pb.guard.add(ci_password, "CI account password")
    run = ok(pb.run(PLAYBOOKS / "pat.yml", extra_vars={"pm_ci_password": ci_password}))
    assert "CI account ci-pipeline (id" in run.stdout and ") created." in run.stdout
    assert "The token acts as ci-pipeline" in run.stdout
    assert "the API now answers 401" in run.stdout

    users = clean_sandbox.api("GET", "/users", params={"filter": "ci-pipeline"}).json()["data"]
    assert [user["username"] for user in users] == ["ci-pipeline"]
    ci_id = users[0]["id"]
    # the CI account exists with the password the play gave it; its PAT is revoked (none active)
    clean_sandbox.password_token("ci-pipeline", ci_password)
    assert clean_sandbox.api("GET", f"/users/{ci_id}/tokens").json()["data"] == []
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"].get("personal_access") == 1
    assert served(counters, "POST /api/1.0/users/*/tokens") == 1
    assert served(counters, "DELETE /api/1.0/users/*/tokens/*") == 1

    # a second run finds the account instead of creating it
    run = ok(pb.run(PLAYBOOKS / "pat.yml", extra_vars={"pm_ci_password": ci_password}))
    assert ") already there." in run.stdout
    assert clean_sandbox.counters()["requests"]["POST /api/1.0/users"] == 1


def test_demo_playbook_runs_every_flow(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    run = ok(pb.run(PLAYBOOKS / "demo.yml", env=code_flow_env(pb, clean_sandbox),
                    extra_vars={"pm_approve_command": approve_command()}))
    for text in ("Password grant: got a Bearer token", "Authorization code grant: got a Bearer token",
                 "The token acts as ci-pipeline", "the API now answers 401", "pm_token lookup: GET /users answered 200"):
        assert text in run.stdout
    issued = clean_sandbox.counters()["tokens_issued"]
    assert issued["authorization_code"] == 1
    assert issued["personal_access"] == 1
    # 5. the configure role applied the example configuration once; the second pass wrote nothing
    assert "second run: changed=False (2 users, 3 memberships unchanged)" in run.stdout, run.tail()
    assert_demo_configuration(clean_sandbox)


def assert_demo_configuration(sandbox: SandboxProcess) -> None:
    """The server holds playbooks/configure.yml's configuration, once."""
    def names(path: str, key: str = "name") -> list[str]:
        return sorted(item[key] for item in sandbox.api("GET", path, params={"per_page": 1000}).json()["data"])

    assert names("/users", "username") == ["admin", "ci-pipeline", "jdoe", "rroe"]
    assert names("/groups") == ["Finance team", "Managers"]
    assert names("/process_categories") == ["Finance", "Human Resources"]
    assert names("/environment_variables") == ["erp_api_key"]
    members = sandbox.api("GET", "/group_members", params={"per_page": 1000}).json()["data"]
    assert len(members) == 3
    setting = sandbox.api("GET", "/settings", params={"filter": "session.lifetime"}).json()["data"]
    assert [str(item["config"]) for item in setting if item["key"] == "session.lifetime"] == ["60"]
    writes = {route: count for route, count in sandbox.counters()["requests"].items()
              if route.split()[0] in ("POST", "PUT", "DELETE") and "/api/1.0/" in route and "tokens" not in route}
    # one write per object: 2 categories, 1 variable, 2 groups, 2 users (+ pat.yml's ci-pipeline),
    # 3 memberships, 1 setting
    assert writes == {"POST /api/1.0/process_categories": 2, "POST /api/1.0/environment_variables": 1,
                      "POST /api/1.0/groups": 2, "POST /api/1.0/users": 3, "POST /api/1.0/group_members": 3,
                      "PUT /api/1.0/settings/{setting}": 1}, writes



@pytest.mark.deep
@pytest.mark.slow
def test_make_demo(leak_guard: LeakGuard) -> None:
    """tools/demo.py (`make demo`) starts its own sandbox, runs demo.yml, prints the counters, stops it."""
    command = [sys.executable, str(REPO_ROOT / "tools" / "demo.py"), "-vvv"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PM_")}
    completed = subprocess.run(command, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    run = PlaybookRun(completed.returncode, completed.stdout, completed.stderr, command + ["ansible-playbook -vvv"])
    demo = REPO_ROOT / ".demo"
    leak_guard.record("tools/demo.py -vvv", run)
    leak_guard.watch(demo / "token-cache")
    creds = json.loads((demo / "credentials.json").read_text())
    leak_guard.add(creds["admin"]["password"], "demo admin password")
    leak_guard.add(creds["operator_key"], "demo operator key")
    for client in ("password_client", "authorization_code_client", "personal_access_client"):
        leak_guard.add(creds[client]["client_secret"], f"demo {client} secret")
    demo_vars = yaml.safe_load((PLAYBOOKS / "configure.yml").read_text())[0]["vars"]
    leak_guard.add(demo_vars["demo_initial_password"], "configure demo users' password")
    leak_guard.add(demo_vars["demo_erp_api_key"], "configure demo environment variable value")
    assert run.returncode == 0, run.tail()
    for text in ("Password grant: got a Bearer token", "Authorization code grant: got a Bearer token",
                 "state checked", "The token acts as ci-pipeline", "the API now answers 401",
                 "pm_token lookup: GET /users answered 200", "users 2 created",
                 "second run: changed=False (2 users, 3 memberships unchanged)", "==> pm_sandbox stopped"):
        assert text in run.stdout
    # a summary key named "update" printed Jinja's dict.update ("<built-in method update of ...>")
    assert "built-in method" not in run.stdout and "users 2 created, 0 updated" in run.stdout
    issued = re.search(r"tokens issued: (\d+) \((.*)\)", run.stdout)
    assert issued and "authorization_code: 1" in issued.group(2) and "personal_access: 1" in issued.group(2)
