"""The configure role converges 300 users, their groups and memberships while the sandbox fails 20 %
of the API requests and adds 50-500 ms of latency to every one; the next run changes nothing.

Faults (one seeded stream, first matching rule wins):

- ``POST /api/1.0/users`` and ``POST /api/1.0/group_members``: 20 % of the creates are carried out
  and then answered 500, 502, 503, 429 or a dropped connection (``when: after``): the object exists
  but the client never hears of it. This is what "no duplicates" is about: the create must not be
  sent blindly again, and the play must not fail on the 422 ("taken") of a repeated user create.
- every other API request (listings, lookups, group creates, updates): 20 % refused before anything
  happens with the same kinds (429 with ``Retry-After: 1``).

The second run, with the same rules at 50 % (it makes only a handful of list requests), must
report changed=0 and send no write.

The token role's login (``POST /oauth/token``) is not faulted here; see test_token_faults.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from bulk_data import BENCH_PASSWORD, make_config
from faults_support import (
    api_requests,
    api_writes,
    duplicates,
    faults_by_kind,
    faults_by_route,
    listing,
    record_figures,
)
from pm_integration import Runner, ok, served
from pm_sandbox.testing import SandboxProcess

USERS = 300
SEED = 20240611
KINDS = ["500", "502", "503", "429", "drop"]
LATENCY_MS = [50, 500]
CONCURRENCY = 16  # the sandbox serves 16 threads; latency, not CPU, is what the workers wait for
RETRIES = 10
RETRY_BACKOFF = 0.2
RETRY_MAX_TIME = 60
SECOND_RUN_PROBABILITY = 0.5


def fault_rules(probability: float = 0.2) -> list[dict]:
    lost_answers = {"probability": probability, "kinds": KINDS, "retry_after": 1, "latency_ms": LATENCY_MS,
                    "when": "after"}
    return [
        {"route": "POST /api/1.0/users", **lost_answers},
        {"route": "POST /api/1.0/group_members", **lost_answers},
        {"route": "* /api/1.0/*", **lost_answers, "when": "before"},
    ]


PLAY = f"""
- name: Converge users, groups and memberships with the configure role, through faults
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      access_token: "{{{{ processmaker_token | default(omit) }}}}"
      retries: {RETRIES}
      retry_backoff: {RETRY_BACKOFF}
      retry_max_time: {RETRY_MAX_TIME}
  roles:
    - role: processmaker.core.token
    - role: processmaker.core.configure
      vars:
        configure_config: "{{{{ lookup('ansible.builtin.file', config_file) | from_json }}}}"
        configure_concurrency: {CONCURRENCY}
  post_tasks:
    - name: What pm_resource did, per kind (no secrets)
      ansible.builtin.set_fact:
        converge_report: >-
          {{{{ __configure_resource_task.resources | default([])
               | map('dict2items') | map('rejectattr', 'key', 'in', ['results']) | map('items2dict') | list }}}}
        adopted: >-
          {{{{ __configure_resource_task.resources | default([]) | map(attribute='results') | flatten
               | selectattr('adopted', 'defined') | map(attribute='identity') | list }}}}
    - name: Save them for the test (not a change of the play)
      ansible.builtin.copy:
        content: "{{{{ item.value | to_json }}}}"
        dest: "{{{{ results_dir }}}}/{{{{ item.key }}}}.json"
        mode: "0600"
      loop: "{{{{ {{'converge_report': converge_report, 'adopted': adopted}} | dict2items }}}}"
      loop_control:
        label: "{{{{ item.key }}}}"
      changed_when: false
"""


def converge(pb: Runner, config_file: Path, name: str) -> tuple[float, object]:
    started = time.monotonic()
    run = pb.play(PLAY, extra_vars={"config_file": str(config_file)}, name=name)
    return time.monotonic() - started, run


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_configure_converges_300_users_under_faults(pb: Runner, clean_sandbox: SandboxProcess, tmp_path: Path) -> None:
    config = make_config(USERS)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    pb.guard.add(BENCH_PASSWORD, "the users' password")
    groups, members = config["groups"], config["group_members"]

    clean_sandbox.set_faults(fault_rules(), seed=SEED)
    try:
        first_time, first = converge(pb, config_file, "first.yml")
        ok(first)
        first_counters = clean_sandbox.counters()
        first_report = pb.result("converge_report")
        adopted = pb.result("adopted")
        clean_sandbox.clear_faults()

        # --- exactly the configuration on the server, checked through the API with faults off ----------
        users = listing(clean_sandbox, "/users")
        usernames = [user["username"] for user in users]
        assert duplicates(usernames) == {}
        wanted = {user["username"]: user for user in config["users"]}
        assert sorted(usernames) == sorted([*wanted, "admin"])
        for user in users:
            if user["username"] != "admin":
                given = wanted[user["username"]]
                assert (user["firstname"], user["lastname"], user["email"], user["status"]) == (
                    given["firstname"], given["lastname"], given["email"], "ACTIVE"), user
        user_ids = {user["username"]: user["id"] for user in users}

        server_groups = listing(clean_sandbox, "/groups")
        group_names = [group["name"] for group in server_groups]
        assert duplicates(group_names) == {}
        assert sorted(group_names) == sorted(group["name"] for group in groups)
        group_ids = {group["name"]: group["id"] for group in server_groups}

        memberships = listing(clean_sandbox, "/group_members")
        pairs = [(row["group_id"], row["member_type"], row["member_id"]) for row in memberships]
        assert duplicates(pairs) == {}
        assert sorted(pairs) == sorted(
            (group_ids[m["group"]], "ProcessMaker\\Models\\User", user_ids[m["user"]]) for m in members
        )

        # --- the next run, faults on again: nothing to change, nothing written ------------------------
        # It only lists (4 requests), so the rate is raised to 50 % for some of them to fail.
        clean_sandbox.set_faults(fault_rules(SECOND_RUN_PROBABILITY), seed=SEED + 1)
        clean_sandbox.reset_counters()
        second_time, second = converge(pb, config_file, "second.yml")
        second_counters = clean_sandbox.counters()
    finally:
        clean_sandbox.clear_faults()
    ok(second)
    second_report = pb.result("converge_report")

    # first run: the role's one pm_resource task changed things and nothing failed
    assert first.recap()["failed"] == 0 and first.recap()["changed"] == 1, first.tail()
    assert first_counters["faults_injected_total"] > 0
    assert set(faults_by_kind(first_counters)) == set(KINDS), first_counters["faults_injected"]
    # answers to user creates were lost after the user was created; each such user was found by a
    # lookup and adopted (a user whose repeated create also lost its answer counts one fault more)
    lost_user_creates = faults_by_route(first_counters).get("POST /api/1.0/users", 0)
    adopted_users = [identity for identity in adopted if "username" in identity]
    assert 0 < len(adopted_users) <= lost_user_creates
    assert {identity["username"] for identity in adopted_users} <= set(wanted)
    # a membership create repeated after a lost answer is answered 201 [] (it exists): adopted too
    adopted_members = [identity for identity in adopted if "group" in identity]
    assert len(adopted_members) <= faults_by_route(first_counters).get("POST /api/1.0/group_members", 0)
    assert len(adopted_users) + len(adopted_members) == len(adopted)

    # second run: changed=0 with faults on, and not one write reached the server
    assert second.recap()["changed"] == 0 and second.recap()["failed"] == 0, second.tail()
    assert second_counters["faults_injected_total"] > 0
    assert api_writes(second_counters) == {}
    assert all(not entry["changed"] for entry in second_report)
    assert served(second_counters, "POST /oauth/token") == 1  # the token role's one login

    def figures(run: object, counters: dict, report: list, wall: float) -> dict:
        api = api_requests(counters)
        logical = {name: sum(entry["requests"].get(name, 0) for entry in report) for name in ("list", "write", "lookup")}
        return {
            "outcome": "ok" if run.returncode == 0 else "failed",  # type: ignore[attr-defined]
            "recap": run.recap(),  # type: ignore[attr-defined]
            "wall_seconds": round(wall, 1),
            "api_requests_served": sum(api.values()),
            "api_requests_by_route": dict(sorted(api.items())),
            "token_requests_served": served(counters, "POST /oauth/token"),
            "requests_made_by_pm_resource": logical,
            # every API request the server saw beyond the ones pm_resource made: the transport's retries
            "transport_retries": sum(api.values()) - sum(logical.values()),
            "faults_injected_total": counters["faults_injected_total"],
            "faults_injected_by_kind": faults_by_kind(counters),
            "faults_injected_by_route": faults_by_route(counters),
            "retry_warnings_shown": len([w for w in run.warnings() if "retrying in" in w]),  # type: ignore[attr-defined]
        }

    record_figures("test_configure_converges_300_users_under_faults", {
        "setup": {
            "users": USERS, "groups": len(groups), "memberships": len(members), "fault_rules": fault_rules(),
            "seed": [SEED, SEED + 1], "second_run_probability": SECOND_RUN_PROBABILITY, "concurrency": CONCURRENCY, "retries": RETRIES,
            "retry_backoff": RETRY_BACKOFF, "retry_max_time": RETRY_MAX_TIME,
        },
        "first_run": {**figures(first, first_counters, first_report, first_time),
                      "creates_adopted_after_a_lost_answer": {"users": len(adopted_users),
                                                               "group_members": len(adopted_members)}},
        "second_run_faults_on": figures(second, second_counters, second_report, second_time),
        "server_state": {"users": len(usernames), "groups": len(group_names), "memberships": len(pairs),
                         "duplicates": 0, "missing": 0},
    })
