"""The rest of ProcessMaker's setup surface through real ansible-playbook runs (-vvv, leak-checked) against a
live sandbox: auth clients (pm_auth_client, through the web login), permissions and script executors
(pm_resource kinds), and playbooks/bootstrap.yml from the administrator's login alone. Everything is
checked through the API (as the user concerned where it matters) and the sandbox's request counters."""

from __future__ import annotations

import json

import pytest
from pm_integration import (
    REPO_ROOT,
    LeakGuard,
    Runner,
    api_writes,
    assert_clean_failure,
    keep_secret,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

PASSWORD = "Setup-Surface-pa55!"


def token_status(sandbox: SandboxProcess, client_id: str, secret: str) -> int:
    """What the token endpoint answers a password grant with this client (the admin's login)."""
    admin = sandbox.credentials["admin"]
    response = sandbox.session().post(sandbox.token_url, data={
        "grant_type": "password", "client_id": client_id, "client_secret": secret, "username": admin["username"],
        "password": admin["password"], "scope": "*"}, timeout=30)
    return response.status_code


# --- auth clients ---------------------------------------------------------------------------------

AUTH_CLIENT_PLAY = f"""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: The pipeline's auth client
          processmaker.core.pm_auth_client:
            name: ci-pipeline
            types: "{{{{ types | default(['password_client']) }}}}"
            redirect: "{{{{ redirect | default(omit) }}}}"
            recreate: "{{{{ rotate | default(false) }}}}"
            state: "{{{{ wanted | default('present') }}}}"
          register: client
          no_log: true
        {keep_secret("client")}
"""


def test_auth_client_lifecycle_through_the_web_login(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    env = pb.env(PM_CLIENT_ID=None, PM_CLIENT_SECRET=None)  # only the administrator's login
    ok(pb.play(AUTH_CLIENT_PLAY, env=env))
    created = pb.secret("client")
    assert created["changed"] and created["action"] == "create"
    assert token_status(clean_sandbox, created["client_id"], created["client_secret"]) == 200

    clean_sandbox.reset_counters()
    ok(pb.play(AUTH_CLIENT_PLAY, env=env))
    again = pb.secret("client")
    assert not again["changed"] and again["client_id"] == created["client_id"]
    assert again["client_secret"] == created["client_secret"]  # ProcessMaker lists secrets: a later run has it
    assert api_writes(clean_sandbox.counters()) == {}
    assert served(clean_sandbox.counters(), "POST /login") == 1  # the admin UI's login, once

    ok(pb.play(AUTH_CLIENT_PLAY, env=env, extra_vars={"types": ["authorization_code_grant"],
                                                      "redirect": "http://127.0.0.1:8976/callback"}))
    updated = pb.secret("client")
    assert updated["action"] == "update" and updated["auth_client"]["types"] == ["authorization_code_grant"]

    ok(pb.play(AUTH_CLIENT_PLAY, env=env, extra_vars={"rotate": True}))
    rotated = pb.secret("client")
    assert rotated["action"] == "recreate" and rotated["client_secret"] != created["client_secret"]
    assert token_status(clean_sandbox, created["client_id"], created["client_secret"]) == 401  # revoked with it
    assert token_status(clean_sandbox, rotated["client_id"], rotated["client_secret"]) == 200

    ok(pb.play(AUTH_CLIENT_PLAY, env=env, extra_vars={"wanted": "absent"}))
    assert pb.secret("client")["action"] == "delete"
    assert token_status(clean_sandbox, rotated["client_id"], rotated["client_secret"]) == 401  # revoked
    ok(pb.play(AUTH_CLIENT_PLAY, env=env, extra_vars={"wanted": "absent"}))
    assert pb.secret("client")["action"] == "unchanged"  # gone: nothing left to delete


def test_auth_client_check_mode_and_a_refused_login(pb: Runner, clean_sandbox: SandboxProcess,
                                                    leak_guard: LeakGuard) -> None:
    env = pb.env(PM_CLIENT_ID=None, PM_CLIENT_SECRET=None)
    # no no_log here: in check mode a client to create has no secret yet, and the diff shows
    run = ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_auth_client:
                name: ci-pipeline
              register: predicted
            {save_result("predicted")}
    """, env=env, args=["--check", "--diff"]))
    predicted = pb.result("predicted")
    assert predicted["changed"] and predicted["action"] == "create" and "client_id" not in predicted
    assert predicted["diff"]["after"] == {"name": "ci-pipeline", "types": ["password_client"], "redirect": None}
    assert "password_client" in run.stdout
    assert api_writes(clean_sandbox.counters()) == {}
    leak_guard.add("Not-the-admin-pw-1", "wrong password")
    refused = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_auth_client:
                name: ci-pipeline
                password: "{{{{ wrong }}}}"
              register: refused
              ignore_errors: true
            {save_result("refused")}
    """, env=env, extra_vars={"wrong": "Not-the-admin-pw-1"})
    ok(refused)
    assert_clean_failure(pb.result("refused"), "login form refused the credentials", "username and password")


# --- permissions ------------------------------------------------------------------------------------

PERMISSIONS_PLAY = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: A user, a group, a membership and their permissions, in one task
          processmaker.core.pm_resource:
            config:
              users:
                - {username: auditor, firstname: A, lastname: U, email: auditor@example.com, password: "{{ pw }}"}
                - {username: outsider, firstname: O, lastname: U, email: outsider@example.com, password: "{{ pw }}"}
              groups:
                - {name: Readers}
              group_members:
                - {group: Readers, user: auditor}
              permissions:
                - {user: auditor, permissions: "{{ user_permissions | default(['view-users']) }}"}
                - {group: Readers, permissions: [view-groups]}
                - {user: outsider, permissions: []}
          register: applied
"""


def as_user(sandbox: SandboxProcess, username: str) -> dict[str, int]:
    """What a user may do, checked through the API with a token of its own."""
    token = sandbox.password_token(username, PASSWORD)["access_token"]
    return {
        "list users": sandbox.api("GET", "/users", token=token).status_code,
        "create a user": sandbox.api("POST", "/users", token=token, json={
            "username": f"made-by-{username}", "firstname": "M", "lastname": "B", "email": f"m-{username}@example.com",
            "password": PASSWORD, "status": "ACTIVE"}).status_code,
        "list groups": sandbox.api("GET", "/groups", token=token).status_code,
        "list environment variables": sandbox.api("GET", "/environment_variables", token=token).status_code,
    }


def test_a_user_can_do_exactly_what_the_permissions_kind_granted(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    pb.guard.add(PASSWORD, "the users' password")
    ok(pb.play(PERMISSIONS_PLAY + "        " + save_result("applied") + "\n", extra_vars={"pw": PASSWORD}))
    assert pb.result("applied")["changed"]
    # the user's own permission (view-users) and the group's (view-groups): those, and nothing else
    assert as_user(clean_sandbox, "auditor") == {"list users": 200, "create a user": 403, "list groups": 200,
                                                 "list environment variables": 403}
    assert as_user(clean_sandbox, "outsider") == {"list users": 403, "create a user": 403, "list groups": 403,
                                                  "list environment variables": 403}
    groups = clean_sandbox.api("GET", "/groups", params={"include": "permissions", "filter": "Readers"}).json()["data"]
    assert [p["name"] for p in groups[0]["permissions"]] == ["view-groups"]

    clean_sandbox.reset_counters()
    ok(pb.play(PERMISSIONS_PLAY + "        " + save_result("applied") + "\n", extra_vars={"pw": PASSWORD}))
    assert not pb.result("applied")["changed"]
    assert api_writes(clean_sandbox.counters()) == {}  # the set read back (group) or fingerprinted (users)

    ok(pb.play(PERMISSIONS_PLAY + "        " + save_result("applied") + "\n",
               extra_vars={"pw": PASSWORD, "user_permissions": ["view-users", "create-users"]}))
    entry = {e["kind"]: e for e in pb.result("applied")["resources"]}["permissions"]
    assert entry["summary"]["updated"] == 1 and entry["summary"]["unchanged"] == 2
    assert as_user(clean_sandbox, "auditor")["create a user"] == 201


def test_permissions_of_someone_who_does_not_exist_fail_clearly(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_resource:
                kind: permissions
                items:
                  - {{user: ghost, permissions: [view-users]}}
              register: ghost
              ignore_errors: true
            {save_result("ghost")}
    """))
    assert_clean_failure(pb.result("ghost"), "no user 'ghost' on the server", "kind users")
    assert api_writes(clean_sandbox.counters()) == {}


# --- script executors --------------------------------------------------------------------------------

EXECUTOR_PLAY = f"""
    - hosts: localhost
      gather_facts: false
      tasks:
        - processmaker.core.pm_resource:
            kind: script_executors
            items:
              - title: Python with requests
                language: python
                description: Scripts that call HTTP APIs
                config: "{{{{ config | default('RUN pip install requests') }}}}"
            settle_timeout: 60
          register: executor
          ignore_errors: true
        {save_result("executor")}
"""


def executors(sandbox: SandboxProcess) -> dict:
    return {e["title"]: e for e in sandbox.api("GET", "/script-executors").json()["data"]}


def test_a_script_executor_is_built_and_a_failed_build_named(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(EXECUTOR_PLAY))
    created = pb.result("executor")
    assert created["changed"] and not created.get("failed")
    built = executors(clean_sandbox)["Python with requests"]
    assert built["sandbox_build"]["status"] == "done" and built["config"] == "RUN pip install requests"

    clean_sandbox.reset_counters()
    ok(pb.play(EXECUTOR_PLAY))
    assert not pb.result("executor")["changed"] and api_writes(clean_sandbox.counters()) == {}

    ok(pb.play(EXECUTOR_PLAY, extra_vars={"config": "RUN exit 3"}))
    message = assert_clean_failure(pb.result("executor"), "Python with requests", "image build failed",
                                   "check the executor's config")
    assert "1 of 1 script_executors writes failed" in message
    assert executors(clean_sandbox)["Python with requests"]["sandbox_build"]["status"] == "failed"


# --- bootstrap ------------------------------------------------------------------------------------------

@pytest.mark.deep  # three runs of the whole playbook; its guide's examples run in make test-deep too
def test_bootstrap_from_the_administrators_login(pb: Runner, clean_sandbox: SandboxProcess,
                                                leak_guard: LeakGuard) -> None:
    """A fresh instance and only the admin login: an auth client, a token with it, then a configuration with
    permissions and a script executor. --check --diff first predicts it; the second run changes nothing."""
    playbook = REPO_ROOT / "playbooks" / "bootstrap.yml"
    admin_only = pb.env(PM_CLIENT_ID=None, PM_CLIENT_SECRET=None)
    secrets = {"pm_bootstrap_secrets_dir": str(pb.secrets_dir)}
    predicted = ok(pb.run(playbook, env=pb.env(), extra_vars=secrets, args=["--check", "--diff"]))
    assert api_writes(clean_sandbox.counters()) == {}
    for expected in ("ci-pipeline", "release-managers", "script_executors: Python with requests",
                     "permissions: group:release-managers"):
        assert expected in predicted.stdout, (expected, predicted.tail())

    first = ok(pb.run(playbook, env=admin_only, extra_vars=secrets))
    assert first.recap()["changed"] >= 2
    client = json.loads((pb.secrets_dir / "ci-pipeline.json").read_text())
    leak_guard.add(client["client_secret"], "the bootstrap client's secret")
    assert token_status(clean_sandbox, client["client_id"], client["client_secret"]) == 200
    assert "Python with requests" in executors(clean_sandbox)
    groups = clean_sandbox.api("GET", "/groups", params={"include": "permissions"}).json()["data"]
    managers = next(g for g in groups if g["name"] == "release-managers")
    assert sorted(p["name"] for p in managers["permissions"]) == ["export-processes", "import-processes"]

    clean_sandbox.reset_counters()
    second = ok(pb.run(playbook, env=admin_only, extra_vars=secrets))
    assert second.recap()["changed"] == 0, second.tail()
    assert api_writes(clean_sandbox.counters()) == {}


# --- the service_account role's own auth client and permissions ------------------------------------------

SERVICE_ACCOUNT_PLAY = """
    - hosts: localhost
      connection: local
      gather_facts: false
      roles:
        - role: processmaker.core.service_account
          vars:
            service_account_username: deployer
            service_account_permissions: [view-users]
            service_account_group_permissions: [export-processes]
            service_account_token_file: "{{ secrets_dir }}/deployer.token"
            service_account_auth_client: deployer-pipeline
            service_account_auth_client_file: "{{ secrets_dir }}/deployer-pipeline.json"
"""


def service_account_group(sandbox: SandboxProcess) -> dict:
    groups = sandbox.api("GET", "/groups", params={"include": "permissions"}).json()["data"]
    return next(g for g in groups if g["name"] == "deployer service account")


def test_service_account_role_creates_its_auth_client_and_grants_through_the_permissions_kind(
        pb: Runner, clean_sandbox: SandboxProcess, leak_guard: LeakGuard) -> None:
    play = pb.write(SERVICE_ACCOUNT_PLAY)
    first = ok(pb.run(play))
    assert first.recap()["changed"] > 0
    client_file = pb.secrets_dir / "deployer-pipeline.json"
    assert client_file.stat().st_mode & 0o777 == 0o600
    client = json.loads(client_file.read_text())
    leak_guard.add(client["client_secret"], "the service account's client secret")
    assert token_status(clean_sandbox, client["client_id"], client["client_secret"]) == 200

    # the group's set is read back from the server; the user's is the fingerprint in its meta
    assert [p["name"] for p in service_account_group(clean_sandbox)["permissions"]] == ["export-processes"]
    user = next(u for u in clean_sandbox.api("GET", "/users", params={"filter": "deployer"}).json()["data"]
                if u["username"] == "deployer")
    assert "processmaker_core_permissions" in (user["meta"] or {})
    token = (pb.secrets_dir / "deployer.token").read_text().strip()
    assert clean_sandbox.api("GET", "/users", token=token).status_code == 200  # view-users, its own
    assert clean_sandbox.api("GET", "/groups", token=token).status_code == 403  # nothing else

    clean_sandbox.reset_counters()
    assert ok(pb.run(play)).recap()["changed"] == 0
    assert api_writes(clean_sandbox.counters()) == {}


@pytest.mark.deep
def test_service_account_role_puts_back_a_group_permission_removed_in_the_web_ui(
        pb: Runner, clean_sandbox: SandboxProcess, leak_guard: LeakGuard) -> None:
    """A third run of the role (make test-deep: the first two are the test above)."""
    play = pb.write(SERVICE_ACCOUNT_PLAY)
    ok(pb.run(play))
    leak_guard.add(json.loads((pb.secrets_dir / "deployer-pipeline.json").read_text())["client_secret"],
                   "the service account's client secret")
    group = service_account_group(clean_sandbox)
    clean_sandbox.api("PUT", "/permissions", json={"group_id": group["id"], "permission_names": []})
    again = ok(pb.run(play))
    assert again.recap()["changed"] == 1
    assert [p["name"] for p in service_account_group(clean_sandbox)["permissions"]] == ["export-processes"]
