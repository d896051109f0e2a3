"""processmaker.core.pm_resource with real ansible-playbook runs (-vvv, leak-checked) against a live
sandbox: converge every kind, a second run that writes nothing and lists each kind in
ceil(N / per_page) pages (counted by the sandbox), exact check mode, masked diffs, purge, absent,
restoring soft-deleted users, the write-only policy, lost answers to creates, and the EXAMPLES."""

from __future__ import annotations

import ast
import json
import math
import textwrap
from pathlib import Path

import pytest
import yaml
from pm_integration import (
    REPO_ROOT,
    Runner,
    assert_clean_failure,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

PASSWORD = "Conv3rge!pass"
NEW_PASSWORD = "R0tated!pass"
ENV_VALUE = "s3cr3t-env-value-42"
# secrets reach the plays as extra vars ({{ pw }}, ...), as a vault would give them
SECRET_VARS = {"pw": PASSWORD, "new_pw": NEW_PASSWORD, "env_value": ENV_VALUE}


def play(tasks: str, *saved: str) -> str:
    """A one-play playbook on localhost: the tasks (YAML), then a save_result task per registered name
    (saved as <name>.json; names are prefixed r_ in the plays: ``groups`` is a magic variable)."""
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    lines += ["    " + line for line in textwrap.dedent(tasks).strip("\n").splitlines()]
    lines += ["    " + save_result("r_" + name, name) for name in saved]
    return "\n".join(lines) + "\n"


def run(pb: Runner, tasks: str, *saved: str, args: list | None = None):
    return pb.play(play(tasks, *saved), extra_vars=SECRET_VARS, args=args)


def writes(counters: dict) -> dict:
    """API requests that change something (POST/PUT/DELETE/PATCH under /api)."""
    return {key: count for key, count in counters["requests"].items()
            if key.split(" ", 1)[0] in ("POST", "PUT", "DELETE", "PATCH") and " /api/" in key}


def listed(sandbox: SandboxProcess, path: str, **params) -> list:
    body = sandbox.api("GET", path, params={"per_page": 5000, **params}).json()
    return body["data"]


def by(items: list, key: str) -> dict:
    return {item[key]: item for item in items}


def users_yaml(count: int, prefix: str = "user", indent: int = 2) -> str:
    return "\n".join(
        " " * indent + f"- {{username: {prefix}{n:04d}, firstname: F{n}, lastname: L{n}, email: {prefix}{n}@example.com,"
        f" password: \"{{{{ pw }}}}\", title: T{n % 3}}}"
        for n in range(count)
    )


KINDS = ["settings", "process_categories", "screen_categories", "script_categories", "environment_variables",
         "groups", "users", "group_members"]


def config(count: int, per_page: int) -> str:
    members = "\n".join(f"    - {{group: {'Sales' if n % 2 else 'EMEA'}, user: user{n:04d}}}" for n in range(count))
    return play(f"""
        - name: Settings
          processmaker.core.pm_resource:
            kind: settings
            per_page: {per_page}
            items:
              - {{key: password-policies.minimum_length, config: 9}}
              - {{key: password-policies.2fa_enabled, config: false}}
              - {{key: session.lifetime, config: "90"}}
              - {{key: password-policies.2fa_method, config: ["By email"]}}
          register: r_settings
        - name: Process categories
          processmaker.core.pm_resource:
            kind: process_categories
            per_page: {per_page}
            items: [{{name: Finance}}, {{name: Legal, status: INACTIVE}}]
          register: r_process_categories
        - name: Screen categories
          processmaker.core.pm_resource: {{kind: screen_categories, per_page: {per_page}, items: [{{name: Forms}}]}}
          register: r_screen_categories
        - name: Script categories
          processmaker.core.pm_resource: {{kind: script_categories, per_page: {per_page}, items: [{{name: Tools}}]}}
          register: r_script_categories
        - name: Environment variables
          processmaker.core.pm_resource:
            kind: environment_variables
            per_page: {per_page}
            items:
              - {{name: crm_url, description: CRM endpoint, value: "{{{{ env_value }}}}"}}
              - {{name: plain_var}}
          register: r_environment_variables
        - name: Groups
          processmaker.core.pm_resource:
            kind: groups
            per_page: {per_page}
            items:
              - {{name: Sales, description: Sales team}}
              - {{name: EMEA, description: Region}}
              - {{name: Dormant, status: INACTIVE}}
          register: r_groups
        - name: Users
          processmaker.core.pm_resource:
            kind: users
            per_page: {per_page}
            items:
        __USERS__
          register: r_users
        - name: Memberships
          processmaker.core.pm_resource:
            kind: group_members
            per_page: {per_page}
            items:
              - {{group: Sales, member_group: EMEA}}
        __MEMBERS__
          register: r_group_members
    """.replace("        __USERS__", users_yaml(count, indent=14)).replace("        __MEMBERS__", "\n".join(
        "          " + line for line in members.splitlines())), *KINDS)


@pytest.fixture
def secrets(leak_guard):
    for value in SECRET_VARS.values():
        leak_guard.add(value, "an item secret")


def test_converge_every_kind_then_a_second_run_writes_nothing(pb: Runner, clean_sandbox: SandboxProcess,
                                                               secrets) -> None:
    count, per_page = 60, 25
    playbook = pb.write(config(count, per_page))
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    assert all(pb.result(kind)["changed"] for kind in KINDS)
    summaries = {kind: pb.result(kind)["summary"] for kind in KINDS}
    assert summaries["users"]["created"] == count and summaries["group_members"]["created"] == count + 1
    assert summaries["settings"] == {"created": 0, "updated": 3, "restored": 0, "deleted": 0, "unchanged": 1,
                                     "skipped": 0}
    assert pb.result("users")["requests"]["write"] == count

    # the server says so, through its API
    users = by(listed(clean_sandbox, "/users"), "username")
    assert len(users) == count + 1 and users["user0007"]["title"] == "T1" and users["user0007"]["status"] == "ACTIVE"
    assert {r["id"] for r in pb.result("users")["results"]} == {users[f"user{n:04d}"]["id"] for n in range(count)}
    groups = by(listed(clean_sandbox, "/groups"), "name")
    assert groups["Dormant"]["status"] == "INACTIVE" and groups["Sales"]["description"] == "Sales team"
    assert len(listed(clean_sandbox, "/group_members")) == count + 1
    assert len(listed(clean_sandbox, f"/groups/{groups['Sales']['id']}/users")) == count // 2
    assert [g["name"] for g in listed(clean_sandbox, f"/groups/{groups['Sales']['id']}/groups")] == ["EMEA"]
    variables = by(listed(clean_sandbox, "/environment_variables"), "name")
    assert variables["plain_var"]["description"] == "plain_var" and "value" not in variables["crm_url"]
    assert by(listed(clean_sandbox, "/process_categories"), "name")["Legal"]["status"] == "INACTIVE"
    assert [c["name"] for c in listed(clean_sandbox, "/screen_categories")] == ["Forms"]
    settings = by(listed(clean_sandbox, "/settings"), "key")
    assert settings["password-policies.minimum_length"]["config"] == "9"
    assert settings["session.lifetime"]["config"] == "90"
    assert settings["password-policies.2fa_method"]["config"] == ["By email"]
    assert clean_sandbox.password_token("user0003", PASSWORD)["access_token"]  # the password it was given

    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    counters = clean_sandbox.counters()
    assert writes(counters) == {}, "an unchanged configuration writes nothing"
    for kind in KINDS:
        result = pb.result(kind)
        assert result["changed"] is False and result["requests"]["write"] == 0, kind
        assert all(item["action"] == "unchanged" for item in result["results"]), kind
    pages = {path: math.ceil(len(listed(clean_sandbox, "/" + path)) / per_page) for path in
             ("users", "groups", "group_members", "environment_variables", "process_categories", "settings")}
    assert pages["users"] == 3
    # each task lists its own kind once; group_members also lists users and groups to resolve names
    assert served(counters, "GET /api/1.0/users") == 2 * pages["users"]
    assert served(counters, "GET /api/1.0/groups") == 2 * pages["groups"]
    assert served(counters, "GET /api/1.0/group_members") == pages["group_members"]
    assert served(counters, "GET /api/1.0/settings") == pages["settings"]
    assert served(counters, "GET /api/1.0/environment_variables") == pages["environment_variables"]
    assert served(counters, "GET /api/1.0/process_categories") == pages["process_categories"]
    assert served(counters, "GET /api/1.0/deleted_users") == 0
    assert pb.result("users")["requests"] == {"list": pages["users"], "write": 0, "lookup": 0}


@pytest.mark.parametrize(("count", "per_page"), [(120, 50), (240, 1000)])
def test_list_requests_per_kind_are_ceil_n_over_per_page(pb: Runner, clean_sandbox: SandboxProcess, secrets,
                                                         count: int, per_page: int) -> None:
    playbook = pb.write(play(f"""
        - processmaker.core.pm_resource:
            kind: users
            per_page: {per_page}
            items:
        __USERS__
          register: r_users
    """.replace("        __USERS__", users_yaml(count, indent=14)), "users"))
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    assert pb.result("users")["changed"] is False
    counters = clean_sandbox.counters()
    total = count + 1  # and the administrator
    assert served(counters, "GET /api/1.0/users") == math.ceil(total / per_page)
    assert writes(counters) == {}
    assert set(counters["requests"]) == {"POST /oauth/token", "GET /api/1.0/users"}


def test_check_mode_predicts_exactly_and_writes_nothing(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    clean_sandbox.api("POST", "/groups", json={"name": "Old", "description": "to purge"})
    clean_sandbox.api("POST", "/groups", json={"name": "Sales", "description": "old text"})
    playbook = pb.write(play("""
        - processmaker.core.pm_resource:
            kind: groups
            purge: true
            items:
              - {name: Sales, description: Sales team}
              - {name: New}
          register: r_groups
        - processmaker.core.pm_resource:
            kind: users
            items:
              - {username: jdoe, firstname: J, lastname: D, email: j@example.com, password: "{{ pw }}"}
          register: r_users
        - processmaker.core.pm_resource:
            kind: group_members
            items:
              - {group: New, user: jdoe}
          register: r_members
    """, "groups", "users", "members"))
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    check = ok(pb.run(playbook, extra_vars=SECRET_VARS, args=["--check", "--diff"]))
    assert writes(clean_sandbox.counters()) == {}
    predicted = {name: pb.result(name) for name in ("groups", "users", "members")}
    assert all(result["changed"] for result in predicted.values())
    assert [(r["identity"]["name"], r["action"]) for r in predicted["groups"]["results"]] == [
        ("Sales", "update"), ("New", "create"), ("Old", "delete")]
    assert predicted["groups"]["results"][2]["reason"] == "purge"
    assert predicted["groups"]["diff"]["before"]["Sales"]["description"] == "old text"
    assert predicted["groups"]["diff"]["after"]["Sales"]["description"] == "Sales team"
    assert "Old" in predicted["groups"]["diff"]["before"] and "Old" not in predicted["groups"]["diff"]["after"]
    assert predicted["users"]["diff"]["after"]["jdoe"]["password"] == "********"
    # the membership names a group and a user only an earlier task would create: predicted, with a warning
    assert predicted["members"]["results"][0]["action"] == "create"
    assert "do not exist yet" in " ".join(check.output.split())  # ansible-core < 2.19 wraps warnings
    assert [g["name"] for g in listed(clean_sandbox, "/groups")] == ["Old", "Sales"]

    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    done = {name: pb.result(name) for name in ("groups", "users", "members")}
    for name in done:
        assert [(r["identity"], r["action"]) for r in done[name]["results"]] == \
               [(r["identity"], r["action"]) for r in predicted[name]["results"]], name
        assert done[name]["summary"] == predicted[name]["summary"]
    assert sorted(g["name"] for g in listed(clean_sandbox, "/groups")) == ["New", "Sales"]


def test_diff_masks_secrets_and_vvv_shows_none(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    clean_sandbox.api("POST", "/environment_variables", json={"name": "crm_url", "description": "d", "value": "old"})
    output = ok(run(pb, """
        - processmaker.core.pm_resource:
            kind: environment_variables
            update_secrets: always
            items:
              - {name: crm_url, description: d, value: "{{ env_value }}"}
          register: r_variables
        - processmaker.core.pm_resource:
            kind: users
            items:
              - {username: jdoe, firstname: J, lastname: D, email: j@example.com, password: "{{ pw }}"}
          register: r_users
    """, "variables", "users", args=["--diff"])).output
    variables = pb.result("variables")
    assert variables["results"][0]["action"] == "update" and variables["results"][0]["changes"] == ["value"]
    assert variables["diff"]["after"]["crm_url"]["value"] == "********"
    assert pb.result("users")["diff"]["after"]["jdoe"]["password"] == "********"
    assert '"password": "********"' in output and '"value": "********"' in output
    # -vvv shows the module arguments: the secrets there are masked too (the leak guard checks every run)
    assert ENV_VALUE not in output and PASSWORD not in output


def test_purge_never_removes_the_caller_system_users_or_administrators(pb: Runner, clean_sandbox: SandboxProcess,
                                                                      secrets) -> None:
    admin = clean_sandbox.credentials["admin"]
    for name in ("keep", "extra1", "extra2", "boss"):
        body = {"username": name, "firstname": "F", "lastname": "L", "email": f"{name}@example.com",
                "status": "ACTIVE", "password": PASSWORD}
        assert clean_sandbox.api("POST", "/users", json=body).status_code == 201
    boss = by(listed(clean_sandbox, "/users"), "username")["boss"]
    clean_sandbox.api("PUT", "/permissions", json={"user_id": boss["id"], "is_administrator": True})
    ok(run(pb, """
        - processmaker.core.pm_resource:
            kind: users
            purge: true
            items: [{username: keep}]
          register: r_users
        - name: What purge left alone is not a skipped task (no reserved "skipped" key in the result)
          ansible.builtin.assert:
            that: [r_users is not skipped, r_users.skipped is not defined, r_users.summary.skipped == 2]
    """, "users"))
    result = pb.result("users")
    deleted = sorted(r["identity"]["username"] for r in result["results"] if r["action"] == "delete")
    assert deleted == ["extra1", "extra2"]
    assert "skipped" not in result
    skipped = {s["identity"]["username"]: s["reason"] for s in result["purge_skipped"]}
    assert skipped[admin["username"]] == "the user this task authenticates as"
    assert skipped["boss"].startswith("an administrator")
    assert sorted(u["username"] for u in listed(clean_sandbox, "/users")) == sorted([admin["username"], "boss", "keep"])
    # the system user (never listed by the API) is still there
    anon = clean_sandbox.api("GET", f"/users/{admin['id'] + 1}")
    assert anon.status_code == 200 and anon.json()["username"] == "_pm4_anon_user"


def test_purge_of_memberships_and_absent(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    ok(run(pb, """
        - processmaker.core.pm_resource:
            kind: groups
            items: [{name: Sales}, {name: EMEA}]
        - processmaker.core.pm_resource:
            kind: users
            items:
              - {username: a1, firstname: A, lastname: One, email: a1@example.com, password: "{{ pw }}"}
              - {username: a2, firstname: A, lastname: Two, email: a2@example.com, password: "{{ pw }}"}
        - processmaker.core.pm_resource:
            kind: group_members
            items:
              - {group: Sales, user: a1}
              - {group: Sales, user: a2}
              - {group: EMEA, user: a1}
              - {group: Sales, member_group: EMEA}
        - processmaker.core.pm_resource:
            kind: group_members
            purge: true
            items:
              - {group: Sales, user: a1}
          register: r_purged
        - processmaker.core.pm_resource:
            kind: environment_variables
            items: [{name: gone_soon, description: x}]
        - processmaker.core.pm_resource:
            kind: environment_variables
            state: absent
            items: [{name: gone_soon}, {name: never_was}]
          register: r_absent_vars
        - processmaker.core.pm_resource:
            kind: groups
            state: absent
            items: [{name: EMEA}]
          register: r_absent_groups
    """, "purged", "absent_vars", "absent_groups"))
    purged = pb.result("purged")
    assert purged["summary"]["deleted"] == 3 and purged["summary"]["unchanged"] == 1
    a1 = by(listed(clean_sandbox, "/users"), "username")["a1"]
    assert [(m["name"], m["member_id"]) for m in listed(clean_sandbox, "/group_members")] == [("Sales", a1["id"])]
    assert [r["action"] for r in pb.result("absent_vars")["results"]] == ["delete", "unchanged"]
    assert listed(clean_sandbox, "/environment_variables") == []
    assert [r["action"] for r in pb.result("absent_groups")["results"]] == ["delete"]
    assert [g["name"] for g in listed(clean_sandbox, "/groups")] == ["Sales"]


def test_absent_never_deletes_the_caller(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    admin = clean_sandbox.credentials["admin"]["username"]
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    run(pb, f"""
        - processmaker.core.pm_resource:
            kind: users
            state: absent
            items: [{{username: {admin}}}]
          register: r_outcome
          ignore_errors: true
    """, "outcome")
    assert_clean_failure(pb.result("outcome"), "items[0]", "refusing to delete the user this task authenticates as")
    assert writes(clean_sandbox.counters()) == {}


def test_a_soft_deleted_user_is_restored_with_its_password(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    playbook = pb.write(play("""
        - processmaker.core.pm_resource:
            kind: users
            items:
              - {username: back, firstname: B, lastname: Ack, email: back@example.com, password: "{{ new_pw }}",
                 title: Again}
          register: r_users
    """, "users"))
    body = {"username": "back", "firstname": "B", "lastname": "Ack", "email": "back@example.com", "status": "ACTIVE",
            "password": PASSWORD, "title": "First"}
    created = clean_sandbox.api("POST", "/users", json=body).json()
    assert clean_sandbox.api("DELETE", f"/users/{created['id']}").status_code == 204
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    (result,) = pb.result("users")["results"]
    assert result["action"] == "restore" and result["id"] == created["id"]
    assert set(result["changes"]) == {"title", "password"}
    counters = clean_sandbox.counters()
    assert served(counters, "PUT /api/1.0/users/restore") == 1 and served(counters, "POST /api/1.0/users") == 0
    user = clean_sandbox.api("GET", f"/users/{created['id']}").json()
    assert user["status"] == "ACTIVE" and user["title"] == "Again"
    assert clean_sandbox.password_token("back", NEW_PASSWORD)["access_token"]
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    assert pb.result("users")["results"][0]["action"] == "unchanged"


def test_update_secrets_always_rotates_and_on_create_leaves_alone(pb: Runner, clean_sandbox: SandboxProcess,
                                                                  secrets) -> None:
    def converge(password_var: str, policy: str) -> dict:
        ok(run(pb, f"""
            - processmaker.core.pm_resource:
                kind: users
                update_password: {policy}
                items:
                  - {{username: rot, firstname: R, lastname: Ot, email: rot@example.com, password: "{{{{ {password_var} }}}}"}}
              register: r_users
        """, "users"))
        return pb.result("users")["results"][0]

    assert converge("pw", "on_create")["action"] == "create"
    assert converge("new_pw", "on_create")["action"] == "unchanged"
    assert clean_sandbox.password_token("rot", PASSWORD)["access_token"]
    rotated = converge("new_pw", "always")
    assert rotated["action"] == "update" and rotated["changes"] == ["password"]
    assert clean_sandbox.password_token("rot", NEW_PASSWORD)["access_token"]


def test_an_email_change_uses_the_acting_users_password(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    body = {"username": "mail", "firstname": "M", "lastname": "Ail", "email": "old@example.com", "status": "ACTIVE",
            "password": PASSWORD}
    created = clean_sandbox.api("POST", "/users", json=body).json()
    ok(run(pb, """
        - processmaker.core.pm_resource:
            kind: users
            items: [{username: mail, email: new@example.com, status: INACTIVE}]
          register: r_users
    """, "users"))
    assert pb.result("users")["results"][0]["changes"] == ["email", "status"]
    user = clean_sandbox.api("GET", f"/users/{created['id']}").json()
    assert user["email"] == "new@example.com" and user["status"] == "INACTIVE" and user["firstname"] == "M"


def test_bad_items_fail_in_one_line_before_any_write(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    run(pb, """
        - processmaker.core.pm_resource:
            kind: users
            items:
              - {username: ok1, firstname: A, lastname: B, email: a@example.com, password: "{{ pw }}"}
              - {username: ok2, emial: typo@example.com, password: "{{ pw }}"}
          register: r_typo
          ignore_errors: true
        - processmaker.core.pm_resource:
            kind: settings
            purge: true
            items: []
          register: r_purge_settings
          ignore_errors: true
        - processmaker.core.pm_resource:
            kind: group_members
            items: [{group: Nope, user: nobody}]
          register: r_unknown_names
          ignore_errors: true
    """, "typo", "purge_settings", "unknown_names")
    assert_clean_failure(pb.result("typo"), "items[1]", "unknown field 'emial'")
    assert_clean_failure(pb.result("purge_settings"), "purge is not supported for kind settings")
    assert_clean_failure(pb.result("unknown_names"), "items[0]", "group 'Nope' and user 'nobody' do not exist")
    counters = clean_sandbox.counters()
    assert writes(counters) == {}
    assert served(counters, "GET /api/1.0/settings") == 0, "options are checked before anything is listed"
    assert served(counters, "GET /api/1.0/users") == 1, "only the memberships task listed (to resolve names)"


def file_users(count: int) -> list:
    return [{"username": f"file{n:03d}", "firstname": "F", "lastname": f"L{n}", "email": f"file{n}@example.com",
             "password": PASSWORD} for n in range(count)]


def test_items_from_a_file_and_a_report_of_changes_only(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    """src: the module reads the items (JSON or YAML) itself; report=changes lists only what is written."""
    count = 30
    users_file = pb.write(json.dumps(file_users(count)), "users.json")
    yaml_file = pb.write(textwrap.dedent(f"""
        # YAML, with a date the API takes as text
        - username: dated
          firstname: D
          lastname: Ated
          email: dated@example.com
          password: "{PASSWORD}"
          birthdate: 1990-01-02
    """), "users.yml")
    playbook = pb.write(play(f"""
        - processmaker.core.pm_resource:
            kind: users
            src: {users_file}
            report: changes
          register: r_from_json
        - processmaker.core.pm_resource:
            kind: users
            src: {yaml_file}
          register: r_from_yaml
    """, "from_json", "from_yaml"))
    ok(pb.run(playbook))
    first = pb.result("from_json")
    assert first["changed"] is True and first["summary"]["created"] == count
    assert [r["identity"]["username"] for r in first["results"]] == [f"file{n:03d}" for n in range(count)]
    assert all(r["action"] == "create" and "password" in r["changes"] for r in first["results"])
    users = by(listed(clean_sandbox, "/users"), "username")
    assert {f"file{n:03d}" for n in range(count)} <= set(users) and users["dated"]["birthdate"] == "1990-01-02"
    assert clean_sandbox.password_token("file007", PASSWORD)["access_token"]
    assert pb.result("from_yaml")["results"][0]["action"] == "create"

    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(pb.run(playbook))
    again = pb.result("from_json")
    assert again["changed"] is False and again["results"] == [], "report=changes lists no unchanged item"
    assert again["summary"]["unchanged"] == count and again["summary"]["created"] == 0
    assert [r["action"] for r in pb.result("from_yaml")["results"]] == ["unchanged"], "report=all lists every item"
    counters = clean_sandbox.counters()
    assert writes(counters) == {} and served(counters, "GET /api/1.0/users") == 2


def test_a_bad_items_file_fails_in_one_line_without_quoting_it(pb: Runner, clean_sandbox: SandboxProcess,
                                                                  secrets) -> None:
    broken = pb.tmp / "broken.yml"
    broken.write_text(f'- {{username: x, password: "{PASSWORD}", email: [\n')
    mapping = pb.write(json.dumps({"users": file_users(1)}), "mapping.json")
    typo = pb.write(json.dumps([*file_users(1), {"username": "t", "emial": "t@example.com", "password": PASSWORD}]),
                    "typo.json")
    (pb.tmp / "folder").mkdir()
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    tasks = "\n".join(f"""
        - processmaker.core.pm_resource:
            kind: users
            {source}
          register: r_{name}
          ignore_errors: true""" for name, source in (
        ("missing", f"src: {pb.tmp / 'nowhere.json'}"), ("broken", f"src: {broken}"), ("mapping", f"src: {mapping}"),
        ("typo", f"src: {typo}"), ("folder", f"src: {pb.tmp / 'folder'}"),
        ("both", f"src: {typo}\n            items: []")))
    run(pb, tasks, "missing", "broken", "mapping", "typo", "folder", "both")
    assert_clean_failure(pb.result("missing"), "src", "nowhere.json", "no such file", "JSON or YAML file")
    message = assert_clean_failure(pb.result("broken"), "src", "broken.yml", "not valid YAML or JSON", "(line 2, column 1)")
    assert PASSWORD not in message
    assert_clean_failure(pb.result("mapping"), "src", "mapping.json", "holds a dict, not a list")
    assert_clean_failure(pb.result("typo"), f"src {typo}: items[1]", "unknown field 'emial'")
    assert_clean_failure(pb.result("folder"), "src", "is a directory")
    assert_clean_failure(pb.result("both"), "mutually exclusive", "src", "items")
    assert writes(clean_sandbox.counters()) == {}
    assert served(clean_sandbox.counters(), "GET /api/1.0/users") == 0, "the file is checked before any request"


def test_lost_answers_to_creates_never_make_duplicates(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    count = 30
    clean_sandbox.set_faults([{"route": "POST /api/1.0/users", "probability": 0.3, "kinds": ["502", "drop"],
                               "when": "after"}], seed=3)
    try:
        ok(run(pb, """
            - processmaker.core.pm_resource:
                kind: users
                items:
            __USERS__
              register: r_users
        """.replace("            __USERS__", users_yaml(count, "lost", indent=18)), "users"))
    finally:
        clean_sandbox.clear_faults()
    counters = clean_sandbox.counters()
    result = pb.result("users")
    assert counters["faults_injected_total"] >= 3
    assert sum(bool(r.get("adopted")) for r in result["results"]) == counters["faults_injected_total"]
    assert result["requests"]["lookup"] == counters["faults_injected_total"]
    assert served(counters, "POST /api/1.0/users") == count
    users = [u for u in listed(clean_sandbox, "/users") if u["username"].startswith("lost")]
    assert len(users) == count and len({u["username"] for u in users}) == count
    assert sorted(r["id"] for r in result["results"]) == sorted(u["id"] for u in users)


def test_a_failed_write_fails_the_task_after_the_others(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    run(pb, """
        - processmaker.core.pm_resource:
            kind: groups
            items: [{name: Fine}, {name: "Bad <name> & *"}, {name: Also fine}]
          register: r_groups
          ignore_errors: true
    """, "groups")
    result = pb.result("groups")
    message = assert_clean_failure(result, "1 of 3 groups writes failed", "items[1]")
    assert "HTTP 422" in message
    assert [r.get("error") is not None for r in result["results"]] == [False, True, False]
    assert sorted(g["name"] for g in listed(clean_sandbox, "/groups")) == ["Also fine", "Fine"]


# --- a whole configuration in one task ----------------------------------------------------------------

RESOURCES = """
- processmaker.core.pm_resource:
    per_page: 25
    resources:
      - kind: group_members
        purge: true
        items:
          - {group: Sales, member_group: EMEA}
__MEMBERS__
      - kind: users
        items:
__USERS__
      - kind: groups
        items: [{name: Sales}, {name: EMEA}]
      - kind: environment_variables
        update_secrets: always
        items: [{name: crm_url, value: "{{ env_value }}"}]
      - kind: groups
        state: absent
        items: [{name: Legacy}]
  register: r_configuration
"""


def test_resources_converge_in_one_task_listing_each_kind_once(pb: Runner, clean_sandbox: SandboxProcess,
                                                                secrets) -> None:
    count = 60
    clean_sandbox.api("POST", "/groups", json={"name": "Legacy"})
    members = "\n".join(f"          - {{group: {'Sales' if n % 2 else 'EMEA'}, user: user{n:04d}}}" for n in range(count))
    tasks = RESOURCES.replace("__MEMBERS__", members).replace("__USERS__", users_yaml(count, indent=10))
    playbook = pb.write(play(tasks, "configuration"))
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    ok(pb.run(playbook, extra_vars=SECRET_VARS, args=["--check", "--diff"]))
    predicted = pb.result("configuration")
    assert writes(clean_sandbox.counters()) == {}
    order = [(entry["kind"], entry["state"]) for entry in predicted["resources"]]
    assert order == [("environment_variables", "present"), ("groups", "present"), ("users", "present"),
                     ("group_members", "present"), ("groups", "absent")]
    members_plan = predicted["resources"][3]
    # memberships of groups and users the same task would create: predicted exactly, no warning
    assert members_plan["summary"]["created"] == count + 1 and "not exist yet" not in json_text(predicted)
    assert predicted["summary"]["created"] == 1 + 2 + count + count + 1
    assert predicted["diff"]["after"]["users: user0001"]["password"] == "********"

    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    done = pb.result("configuration")
    assert [(e["kind"], e["summary"]) for e in done["resources"]] == [(e["kind"], e["summary"]) for e in predicted["resources"]]
    assert sorted(g["name"] for g in listed(clean_sandbox, "/groups")) == ["EMEA", "Sales"]
    assert len(listed(clean_sandbox, "/group_members")) == count + 1

    clean_sandbox.reset_counters()
    ok(pb.run(playbook, extra_vars=SECRET_VARS))
    again = pb.result("configuration")
    counters = clean_sandbox.counters()
    # only the environment variable (update_secrets: always) is written again
    assert writes(counters) == {"PUT /api/1.0/environment_variables/{environment_variable}": 1}
    assert [e["kind"] for e in again["resources"] if e["changed"]] == ["environment_variables"]
    assert served(counters, "GET /api/1.0/users") == math.ceil((count + 1) / 25), "users are listed once per task"
    assert served(counters, "GET /api/1.0/groups") == 1
    assert served(counters, "GET /api/1.0/group_members") == math.ceil((count + 1) / 25)


def json_text(value) -> str:
    import json

    return json.dumps(value)


def test_resources_entries_are_checked_before_anything(pb: Runner, clean_sandbox: SandboxProcess, secrets) -> None:
    clean_sandbox.reset_counters()
    run(pb, """
        - processmaker.core.pm_resource:
            resources:
              - {kind: groups, items: [{name: A}]}
              - {kind: groups, items: [{name: B}]}
          register: r_twice
          ignore_errors: true
        - processmaker.core.pm_resource:
            resources:
              - {kind: groups, items: [{name: A}]}
              - {kind: users, items: [{username: x, mail: y}]}
          register: r_bad_item
          ignore_errors: true
        - processmaker.core.pm_resource:
            kind: groups
            resources: [{kind: groups}]
          register: r_both
          ignore_errors: true
    """, "twice", "bad_item", "both")
    assert_clean_failure(pb.result("twice"), "resources[1]: kind groups with state=present is listed twice")
    assert_clean_failure(pb.result("bad_item"), "resources (users, state=present): items[0]: unknown field 'mail'")
    assert_clean_failure(pb.result("both"), "mutually exclusive")
    assert clean_sandbox.counters()["requests"] == {}


# --- the EXAMPLES block runs -------------------------------------------------------------------------

def examples(module: str) -> list:
    tree = ast.parse((REPO_ROOT / "plugins" / "modules" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError(module)


@pytest.mark.deep
def test_the_examples_run(pb: Runner, clean_sandbox: SandboxProcess, tmp_path: Path, leak_guard) -> None:
    creds = clean_sandbox.credentials
    secrets = {"jdoe_password": "Jd0e!password", "rroe_password": "Rr0e!password", "asmith_password": "Asm1th!password"}
    for value in secrets.values():
        leak_guard.add(value)
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump(examples("pm_resource"), sort_keys=False))
    variables = {"pm_url": creds["url"], "pm_client_id": creds["password_client"]["client_id"],
                 "pm_client_secret": creds["password_client"]["client_secret"],
                 "pm_username": creds["admin"]["username"], "pm_password": creds["admin"]["password"], **secrets}
    env = {"PM_TOKEN_CACHE_DIR": str(pb.cache_dir)}  # no PM_* connection variables: the examples say it all
    ok(pb.run(playbook, extra_vars=variables, env=env))
    users = by(listed(clean_sandbox, "/users"), "username")
    assert users["jdoe"]["title"] == "Account manager" and "rroe" not in users  # the second play deletes rroe
    assert "rroe" in by(listed(clean_sandbox, "/deleted_users"), "username")
    groups = by(listed(clean_sandbox, "/groups"), "name")
    assert sorted(groups) == ["EMEA", "Sales", "Support"]
    # the third play's memberships purge left only Support/asmith
    assert [(m["group_id"], m["member_id"]) for m in listed(clean_sandbox, "/group_members")] == [
        (groups["Support"]["id"], users["asmith"]["id"])]
    assert by(listed(clean_sandbox, "/settings"), "key")["password-policies.minimum_length"]["config"] == "10"
    assert clean_sandbox.password_token("jdoe", secrets["jdoe_password"])["access_token"]
    ok(pb.run(playbook, extra_vars=variables, env=env))  # and again: rroe comes back, then goes again
