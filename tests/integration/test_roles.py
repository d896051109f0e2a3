"""The roles and playbooks/approval.yml: their molecule scenarios (the full ``molecule test`` sequence, run
from here so that ``make test`` covers them), and the configure role's request budget on a run with nothing
to change.

Molecule scenarios live in extensions/molecule/<role>/ and start their own pm_sandbox (see
extensions/molecule/shared/create.yml); here each runs in a private ephemeral directory, with
``-vvv`` for every playbook, and its whole output goes through the leak check.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pm_integration import REPO_ROOT, LeakGuard, PlaybookRun, Runner, ok, served
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(REPO_ROOT / "bench"))
from bulk_data import BENCH_PASSWORD, make_config

SCENARIOS = ("token", "configure", "service_account", "approval")
MOLECULE = Path(sys.executable).with_name("molecule")
# Literal passwords the scenarios declare (they must never show in the output either).
SCENARIO_SECRETS = ("Molecule-Passw0rd!", "Handmade-Passw0rd!")


def molecule_env(tmp_path: Path, admin_password: str, operator_key: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PM_", "MOLECULE_", "ANSIBLE_"))}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "ephemeral"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
            "ANSIBLE_NOCOLOR": "1",
            "NO_COLOR": "1",
            "PY_COLORS": "0",
            # read by `pm-sandbox serve` in create.yml: the test knows them, so the leak check can look for them
            "PM_SANDBOX_ADMIN_PASSWORD": admin_password,
            "PM_SANDBOX_OPERATOR_KEY": operator_key,
            "PM_SANDBOX_PYTHON": sys.executable,
        }
    )
    return env


@pytest.mark.deep
@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario: str, tmp_path: Path, leak_guard: LeakGuard) -> None:
    """`molecule test -s <role>`: destroy, syntax, create, (prepare), converge, idempotence,
    (side_effect), verify, destroy, against the scenario's own pm_sandbox."""
    assert MOLECULE.exists(), f"molecule is not installed next to {sys.executable}: pip install -r requirements-dev.txt"
    admin_password = "Adm1n-" + secrets.token_urlsafe(18)
    operator_key = secrets.token_urlsafe(24)
    leak_guard.add(admin_password, "sandbox admin password")
    leak_guard.add(operator_key, "sandbox operator key")
    for value in SCENARIO_SECRETS:
        leak_guard.add(value, "a password the scenario declares")
    # `-- -vvv`: every playbook of the sequence shows its module arguments and results, for the leak check
    command = [str(MOLECULE), "test", "-s", scenario, "--", "-vvv"]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=molecule_env(tmp_path, admin_password, operator_key),
                               capture_output=True, text=True, timeout=220, stdin=subprocess.DEVNULL, check=False)
    elapsed = time.monotonic() - started
    run = PlaybookRun(completed.returncode, completed.stdout, completed.stderr, command)
    leak_guard.record(f"molecule test -s {scenario}", run)
    (tmp_path / "molecule.log").write_text(run.output)
    assert completed.returncode == 0, f"molecule test -s {scenario} failed after {elapsed:.0f}s:\n{run.tail(120)}"
    sequence = yaml.safe_load((REPO_ROOT / "extensions" / "molecule" / scenario / "molecule.yml").read_text())
    for step in ("converge", "idempotence", "verify", "destroy"):  # those the scenario's sequence has
        if step in sequence["scenario"]["test_sequence"]:
            assert re.search(rf"\b{step}\W+Executed: Successful", run.output), f"{step} did not run:\n{run.tail(60)}"
    assert "Idempotence test failed" not in run.output
    # destroy stopped the sandbox and removed its folder (database, credentials, token files)
    assert not (tmp_path / "ephemeral" / "sandbox").exists()


# ---------------------------------------------------------------------------------------------
# The configure role on N users, twice: the second run changes nothing and only lists.

USERS = 150
PER_PAGE = 50
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def pages(count: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(count / per_page))


def configure_twice(pb: Runner, sandbox: SandboxProcess, config_file: Path) -> tuple[PlaybookRun, dict, PlaybookRun, dict]:
    extra = {"bench_config_file": str(config_file), "bench_per_page": PER_PAGE}
    first = ok(pb.run(REPO_ROOT / "bench" / "configure.yml", extra_vars=extra))
    first_counters = sandbox.counters()
    sandbox.reset_counters()
    second = ok(pb.run(REPO_ROOT / "bench" / "configure.yml", extra_vars=extra))
    return first, first_counters, second, sandbox.counters()


@pytest.mark.slow
def test_configure_second_run_only_lists(pb: Runner, clean_sandbox: SandboxProcess, tmp_path: Path) -> None:
    config = make_config(USERS)
    groups, members = len(config["groups"]), len(config["group_members"])
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    pb.guard.add(BENCH_PASSWORD, "the users' password")

    first, first_counters, second, counters = configure_twice(pb, clean_sandbox, config_file)

    # the first run created everything, one request per object
    assert first.recap()["changed"] == 1, first.tail()  # one pm_resource task for every kind
    assert served(first_counters, "POST /api/1.0/users") == USERS
    assert served(first_counters, "POST /api/1.0/groups") == groups
    assert served(first_counters, "POST /api/1.0/group_members") == members
    users_on_server = USERS + 1  # and the admin
    assert clean_sandbox.api("GET", "/users", params={"per_page": 1}).json()["meta"]["total"] == users_on_server

    # the second: changed=0, no write at all (the one POST is the token role's login), only list pages
    assert second.recap()["changed"] == 0, second.tail()
    requests = counters["requests"]
    writes = {route: n for route, n in requests.items() if route.split()[0] in WRITES and route != "POST /oauth/token"}
    assert writes == {}, writes
    assert requests.get("POST /oauth/token") == 1  # one login for the whole run (the token role)
    # The role's one pm_resource task lists each collection once, in pages of per_page: users (also
    # used to resolve the memberships' usernames), deleted users (to restore rather than recreate),
    # groups, memberships: at most ceil(N / per_page) list requests per kind.
    budget = {
        "GET /api/1.0/users": pages(users_on_server),
        "GET /api/1.0/deleted_users": pages(0),
        "GET /api/1.0/groups": pages(groups),
        "GET /api/1.0/group_members": pages(members),
    }
    reads = {route: n for route, n in requests.items() if route.startswith("GET ")}
    assert set(reads) <= set(budget), f"unexpected requests: {sorted(set(reads) - set(budget))}"
    for route, most in budget.items():
        assert reads.get(route, 0) <= most, f"{route}: {reads.get(route)} requests, at most {most} expected"
    assert reads["GET /api/1.0/users"] == math.ceil(users_on_server / PER_PAGE)
    assert reads["GET /api/1.0/groups"] == math.ceil(groups / PER_PAGE)
    assert sum(requests.values()) == 1 + sum(reads.values())


def test_roles_have_argument_specs_and_readme() -> None:
    """Every role documents each variable it reads in meta/argument_specs.yml and has a README."""
    for role in ("token", "configure", "service_account"):
        base = REPO_ROOT / "roles" / role
        specs = yaml.safe_load((base / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        assert "main" in specs, role
        defaults = yaml.safe_load((base / "defaults" / "main.yml").read_text()) or {}
        documented = {name for entry in specs.values() for name in entry.get("options", {})}
        assert set(defaults) <= documented, f"{role}: undocumented defaults {sorted(set(defaults) - documented)}"
        for name in defaults:
            assert name.startswith(role + "_"), f"{role}: variable {name} lacks the role prefix"
        assert (base / "README.md").stat().st_size > 500, role


def test_configure_check_mode_predicts_and_writes_nothing(pb: Runner, clean_sandbox: SandboxProcess,
                                                          tmp_path: Path) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(make_config(12)))
    pb.guard.add(BENCH_PASSWORD, "the users' password")
    run = ok(pb.run(REPO_ROOT / "bench" / "configure.yml", extra_vars={"bench_config_file": str(config_file)},
                    args=["--check", "--diff"]))
    assert run.recap()["changed"] == 1, run.tail()  # the one pm_resource task would change things
    # the diff predicts each object (keyed "kind: identity"); the password shows masked only
    for key in ("groups: bench-group-000", "users: bench-user-00011", "group_members: bench-group-000/user:bench-user-00000"):
        assert key in run.stdout, (key, run.tail())
    assert '"password": "********"' in run.stdout, run.tail()
    requests = clean_sandbox.counters()["requests"]
    assert [route for route in requests if not route.startswith("GET ") and route != "POST /oauth/token"] == []
    assert clean_sandbox.api("GET", "/users", params={"per_page": 1}).json()["meta"]["total"] == 1


SERVICE_ACCOUNT_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      access_token: "{{ processmaker_token | default(omit) }}"
  roles:
    - processmaker.core.token
    - role: processmaker.core.service_account
      vars:
        service_account_username: robot
        service_account_group_permissions: [view-users]
        service_account_token_file: "{{ secrets_dir }}/robot.token"
        service_account_permissions: "{{ robot_permissions | default([]) }}"
"""


def live_tokens(sandbox: SandboxProcess, username: str) -> list[str]:
    users = sandbox.api("GET", "/users", params={"filter": username}).json()["data"]
    user_id = next(user["id"] for user in users if user["username"] == username)
    return [token["id"] for token in sandbox.api("GET", f"/users/{user_id}/tokens").json()["data"]]


@pytest.mark.deep
def test_service_account_replaces_a_lost_token_and_refuses_unknown_permissions(
        pb: Runner, clean_sandbox: SandboxProcess) -> None:
    play = pb.write(SERVICE_ACCOUNT_PLAY)
    first = ok(pb.run(play))
    assert first.recap()["changed"] > 0
    token_file = pb.secrets_dir / "robot.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    before = live_tokens(clean_sandbox, "robot")
    assert len(before) == 1
    # the file's token works, and may list users (its group's permission)
    token = token_file.read_text().strip()
    assert clean_sandbox.api("GET", "/users", token=token).status_code == 200

    clean_sandbox.reset_counters()
    assert ok(pb.run(play)).recap()["changed"] == 0
    writes = [route for route in clean_sandbox.counters()["requests"]
              if route.split()[0] in WRITES and route != "POST /oauth/token"]
    assert writes == []

    token_file.unlink()  # lost: the server never shows a token twice, so a new one replaces it
    assert ok(pb.run(play)).recap()["changed"] > 0
    after = live_tokens(clean_sandbox, "robot")
    assert len(after) == 1 and after != before
    assert clean_sandbox.api("GET", "/users", token=token).status_code == 401  # the old one is revoked
    assert clean_sandbox.api("GET", "/users", token=token_file.read_text().strip()).status_code == 200

    clean_sandbox.reset_counters()
    refused = pb.run(play, extra_vars={"robot_permissions": ["view-users", "fly-to-the-moon"]})
    assert refused.returncode != 0
    assert "Unknown permission name(s) fly-to-the-moon" in refused.stdout
    assert [route for route in clean_sandbox.counters()["requests"] if route.split()[0] in WRITES
            and route != "POST /oauth/token"] == []


def test_configure_shape_errors_come_from_pm_resource_in_one_line(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """The role hands its whole configuration to pm_resource's config option: the module checks the shape
    and orders the kinds, so a wrong shape fails there, naming the kind, before any write."""
    play = pb.write("""
        - hosts: localhost
          gather_facts: false
          roles:
            - role: processmaker.core.configure
              vars:
                configure_config: "{{ bad_config }}"
    """)
    for bad, says in (({"groups": "Sales"}, "config.groups: must be a list of items"),
                      ({"users": {"items": [], "stat": "absent"}}, "config.users: unknown key 'stat'"),
                      ({"groups": [{"name": "Sales", "colour": "red"}]}, "config.groups: items[0]: unknown field 'colour'"),
                      ({"settings": {"items": [], "purge": True}}, "config.settings: purge is not supported")):
        run = pb.run(play, extra_vars={"bad_config": bad})
        assert run.returncode != 0
        assert says in run.stdout, run.tail()
    writes = [route for route in clean_sandbox.counters()["requests"]
              if route.split()[0] in WRITES and route != "POST /oauth/token"]
    assert writes == []
