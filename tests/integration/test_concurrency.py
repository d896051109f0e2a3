"""Concurrency (issue "Reliability and security", part 5): many hosts and forks sharing one token through
the lookups' cache, and two ansible-playbook processes converging the same configuration at the same
time. Everything is counted by the sandbox and checked through the API; each test writes its figures
to tests/output/reliability/<test>.json."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pm_integration import (
    OUTPUT_DIR,
    REPO_ROOT,
    LeakGuard,
    PlaybookRun,
    Runner,
    _base_env,
    _command,
    ok,
    served,
)
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(REPO_ROOT / "bench"))
from bulk_data import BENCH_PASSWORD, make_config

FIGURES_DIR = OUTPUT_DIR / "reliability"


def record_figures(test: str, figures: dict[str, Any]) -> None:
    """Print the measured figures and keep them as tests/output/reliability/<test>.json."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(figures, indent=2, sort_keys=True)
    (FIGURES_DIR / f"{test}.json").write_text(text + "\n")
    print(text)


def api_requests(counters: dict) -> dict[str, int]:
    return {route: count for route, count in counters["requests"].items() if " /api/" in route}


# ---------------------------------------------------------------------------------------------
# 50 hosts, 25 forks, every host calling the API with the lookup's token: one token for the run.

HOSTS = 50
FORKS = 25


def inventory(pb: Runner, hosts: int) -> str:
    lines = ["all:", "  vars:", "    ansible_connection: local", f"    ansible_python_interpreter: {sys.executable}",
             "  hosts:"]
    lines += [f"    host{number:02d}:" for number in range(1, hosts + 1)]
    path = pb.tmp / "inventory.yml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.deep
def test_fifty_hosts_twenty_five_forks_one_token(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    started = time.monotonic()
    run = ok(pb.play("""
        - hosts: all
          gather_facts: false
          tasks:
            - name: GET users with the lookup's token
              processmaker.core.pm_api:
                path: users
                access_token: "{{ lookup('processmaker.core.pm_token') }}"
              register: users_call
            - name: GET users/1 with the lookup's token
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{ lookup('processmaker.core.pm_token') }}"
              register: admin_call
            - name: The admin's username through the pm_api lookup (same token cache)
              ansible.builtin.set_fact:
                admin_name: "{{ lookup('processmaker.core.pm_api', 'users/1').username }}"
            - name: Save what this host saw (in-process)
              save_test_result:
                content: >-
                  {{ {'listed': users_call.data | map(attribute='username') | list,
                      'listed_attempts': users_call.attempts, 'admin_status': admin_call.status,
                      'admin': admin_call.json.username, 'admin_attempts': admin_call.attempts,
                      'lookup_admin': admin_name} | to_json }}
                dest: "{{ results_dir }}/{{ inventory_hostname }}.json"
              delegate_to: localhost
    """, inventory=inventory(pb, HOSTS), args=["--forks", str(FORKS)]))
    seconds = time.monotonic() - started
    counters = clean_sandbox.counters()  # before any request of the test's own

    hosts = [f"host{number:02d}" for number in range(1, HOSTS + 1)]
    recaps = {host: run.recap(host) for host in hosts}
    assert all(recap.get("ok") == 4 and recap.get("failed") == 0 and recap.get("unreachable") == 0
               for recap in recaps.values()), run.tail()
    # ONE token for the whole run: 50 hosts x 3 lookups, 25 forks at once, through the shared cache
    assert counters["tokens_issued_total"] == 1, counters["tokens_issued"]
    assert served(counters, "POST /oauth/token") == 1
    # every call succeeded the first time: as many requests as calls, no retry, no other status
    assert served(counters, "GET /api/1.0/users") == HOSTS
    assert served(counters, "GET /api/1.0/users/*") == 2 * HOSTS  # pm_api's and the pm_api lookup's
    assert api_requests(counters) == {"GET /api/1.0/users": HOSTS, "GET /api/1.0/users/{user}": 2 * HOSTS}
    assert all(set(statuses) == {"200"} for route, statuses in counters["statuses"].items()
               if " /api/" in route), counters["statuses"]
    assert counters["faults_injected_total"] == 0
    assert not [line for line in run.warnings() if "retrying" in line], run.warnings()
    seen = {host: pb.result(host) for host in hosts}
    for host, result in seen.items():
        assert "admin" in result["listed"], (host, result)
        assert (result["admin"], result["lookup_admin"], result["admin_status"]) == ("admin", "admin", 200), host
        assert result["listed_attempts"] == result["admin_attempts"] == 1, (host, result)

    record_figures("test_fifty_hosts_twenty_five_forks_one_token", {
        "hosts": HOSTS,
        "forks": FORKS,
        "calls_made": {"pm_api GET users": HOSTS, "pm_api GET users/1": HOSTS, "pm_api lookup users/1": HOSTS},
        "token_cache_reads": 3 * HOSTS,  # 2 pm_token lookups and 1 pm_api lookup per host
        "requests": dict(sorted(counters["requests"].items())),
        "statuses": dict(sorted(counters["statuses"].items())),
        "tokens_issued": counters["tokens_issued"],
        "tokens_issued_total": counters["tokens_issued_total"],
        "faults_injected": counters["faults_injected_total"],
        "retries": 0,
        "outcome": "every host ok, failed=0",
        "wall_seconds": round(seconds, 1),
    })


# ---------------------------------------------------------------------------------------------
# Two plays converging the same configuration at the same time: one copy of everything.

USERS = 60
GROUPS = 6
ENV_VALUES = ("race-env-value-0-7Hq2", "race-env-value-1-9Kp4", "race-env-value-2-3Zt8")
CONFIGURE = REPO_ROOT / "bench" / "configure.yml"  # the token role, then the configure role
# POST routes of the configure role's creates, and the kind behind each
CREATE_ROUTES = {
    "process_categories": "POST /api/1.0/process_categories",
    "environment_variables": "POST /api/1.0/environment_variables",
    "groups": "POST /api/1.0/groups",
    "users": "POST /api/1.0/users",
    "group_members": "POST /api/1.0/group_members",
}


def race_config() -> dict[str, Any]:
    config = make_config(USERS, groups=GROUPS)
    config["environment_variables"] = [
        {"name": f"race_env_{number}", "description": f"Race variable {number}", "value": value}
        for number, value in enumerate(ENV_VALUES)
    ]
    config["process_categories"] = [{"name": f"Race category {number}"} for number in range(3)]
    return config


def start(playbook: Path, env: dict[str, str], extra_vars: dict, log: Path) -> tuple[subprocess.Popen, Any]:
    """ansible-playbook -vvv in the background, its output in a file (a full pipe would stall it)."""
    out = log.open("w+")
    process = subprocess.Popen(_command(playbook, 3, None, extra_vars, None), env=env, cwd=REPO_ROOT,
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True)
    return process, out


def finish(process: subprocess.Popen, out: Any, guard: LeakGuard, label: str) -> PlaybookRun:
    process.wait(timeout=300)
    out.seek(0)
    run = PlaybookRun(process.returncode, out.read(), "", [str(arg) for arg in process.args])
    out.close()
    guard.record(label, run)
    return run


def listed(sandbox: SandboxProcess, path: str) -> list[dict]:
    return sandbox.api("GET", path, params={"per_page": 5000}).json()["data"]


def copies(items: list[dict], key: str) -> Counter:
    return Counter(str(item[key]).casefold() for item in items)


def assert_one_copy_of_everything(sandbox: SandboxProcess, config: dict[str, Any]) -> None:
    users = listed(sandbox, "/users")
    user_copies = copies(users, "username")
    assert all(user_copies[item["username"]] == 1 for item in config["users"]), user_copies
    assert len(users) == USERS + 1  # and the admin
    assert len(set(copies(users, "email"))) == len(users)
    groups = listed(sandbox, "/groups")
    group_copies = copies(groups, "name")
    assert all(group_copies[item["name"].casefold()] == 1 for item in config["groups"]), group_copies
    assert len([g for g in groups if g["name"].startswith("bench-group-")]) == GROUPS
    ids = {"user": {u["username"]: u["id"] for u in users}, "group": {g["name"]: g["id"] for g in groups}}
    members = Counter((m["group_id"], m["member_id"]) for m in listed(sandbox, "/group_members")
                      if m["member_type"].endswith("\\User") and m["member_id"] != ids["user"]["admin"])
    wanted = Counter((ids["group"][item["group"]], ids["user"][item["user"]]) for item in config["group_members"])
    assert members == wanted  # each membership once, and no other
    variables = copies(listed(sandbox, "/environment_variables"), "name")
    assert variables == Counter(item["name"] for item in config["environment_variables"])
    categories = copies([c for c in listed(sandbox, "/process_categories") if c["name"].startswith("Race")], "name")
    assert categories == Counter(item["name"].casefold() for item in config["process_categories"])


# Every create waits 50-150 ms in the sandbox (no fault, only latency): the plays' write phases last
# a couple of seconds, longer than the skew between two ansible-playbook start-ups on a busy machine.
WRITE_LATENCY = {"route": "POST /api/1.0/*", "latency_ms": [50, 150]}


def race(pb: Runner, sandbox: SandboxProcess, config_file: Path, label: str, *,
         second_after_posts: int = 0) -> dict[str, Any]:
    """Two ansible-playbook processes on the same configuration; the second starts at once, or when the
    first has sent ``second_after_posts`` API writes (polled from the sandbox's counters)."""
    sandbox.reset()
    sandbox.set_faults([WRITE_LATENCY], seed=5)
    env = _base_env(pb.env(), pb.tmp)
    extra = pb.extra({"bench_config_file": str(config_file), "bench_per_page": 1000, "bench_concurrency": 8})
    started = time.monotonic()
    first = start(CONFIGURE, env, extra, pb.tmp / f"{label}-a.log")
    second = None
    try:
        if second_after_posts:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and first[0].poll() is None:
                posts = sum(n for route, n in sandbox.counters()["requests"].items()
                            if route.startswith("POST /api/"))
                if posts >= second_after_posts:
                    break
                time.sleep(0.05)
        second = start(CONFIGURE, env, extra, pb.tmp / f"{label}-b.log")
        runs = [finish(*first, pb.guard, f"{label} play A"), finish(*second, pb.guard, f"{label} play B")]
    finally:
        for process, _ in (first, second) if second else (first,):
            if process.poll() is None:  # only after a failure of the test itself
                process.kill()
                process.wait()
    seconds = time.monotonic() - started
    counters = sandbox.counters()
    sandbox.clear_faults()
    for run in runs:
        ok(run)
        assert run.recap()["failed"] == 0, run.tail()
    return {"runs": runs, "counters": counters, "seconds": seconds}


def race_figures(outcome: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    counters = outcome["counters"]
    creates = {}
    for kind, route in CREATE_ROUTES.items():
        statuses = counters["statuses"].get(route, {})
        posts = served(counters, route)
        # raced: creates sent for an object the other play created (422 then adopted, or a membership's 201 [])
        creates[kind] = {"objects": len(config[kind]), "posts": posts, "raced": posts - len(config[kind]),
                         "statuses": dict(sorted(statuses.items()))}
    adopted = [run.stdout.count('"adopted": true') for run in outcome["runs"]]
    return {
        "wall_seconds": round(outcome["seconds"], 1),
        "requests_total": sum(counters["requests"].values()),
        "requests": dict(sorted(counters["requests"].items())),
        "tokens_issued_total": counters["tokens_issued_total"],
        "faults_injected": counters["faults_injected_total"],
        "creates": creates,
        "adopted_per_play": adopted,
        "changed_per_play": [run.recap().get("changed") for run in outcome["runs"]],
    }


@pytest.mark.deep
def test_two_plays_converging_the_same_configuration_at_once_leave_one_copy(
    pb: Runner, clean_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    config = race_config()
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    pb.guard.add(BENCH_PASSWORD, "the users' password")
    for value in ENV_VALUES:
        pb.guard.add(value, "an environment variable's value")
    objects = sum(len(config[kind]) for kind in CREATE_ROUTES)

    figures: dict[str, Any] = {"objects": {kind: len(config[kind]) for kind in CREATE_ROUTES}, "rounds": {}}
    # together: both start at once, list an empty server, and race for every object; staggered: the
    # second starts once the first has sent its first create, lists a server partly converged, and races
    # for the rest
    for label, second_after_posts in (("together", 0), ("staggered", 1)):
        outcome = race(pb, clean_sandbox, config_file, label, second_after_posts=second_after_posts)
        counters = outcome["counters"]
        round_figures = race_figures(outcome, config)
        figures["rounds"][label] = round_figures
        assert_one_copy_of_everything(clean_sandbox, config)
        # both plays logged in once (the token role), and wrote: the creates were raced, not just repeated
        assert counters["tokens_issued_total"] == 2, counters["tokens_issued"]
        assert sum(served(counters, route) for route in CREATE_ROUTES.values()) >= objects
        for kind, route in CREATE_ROUTES.items():
            statuses = counters["statuses"].get(route, {})
            if kind == "group_members":  # an existing membership answers 201 [] (nothing created)
                assert set(statuses) == {"201"}, (kind, statuses)
                continue
            # exactly one create per object landed; every other one was refused as a duplicate (422)
            assert statuses.get("201") == len(config[kind]), (kind, statuses)
            assert set(statuses) <= {"201", "422"}, (kind, statuses)
        refused = sum(counters["statuses"].get(route, {}).get("422", 0) for route in CREATE_ROUTES.values())
        raced_members = round_figures["creates"]["group_members"]["raced"]
        # each create refused because the other play had just made the object was adopted, not failed;
        # so was each membership the other play had made (201 [], nothing created)
        assert sum(round_figures["adopted_per_play"]) == refused + raced_members, round_figures
        assert counters["faults_injected_total"] == 0  # latency only
        if label == "together":
            # the two plays did race for the same objects (both sent creates for some of them)
            assert refused > 0 and sum(served(counters, route) for route in CREATE_ROUTES.values()) > objects

    # a third run has nothing to do
    clean_sandbox.reset_counters()
    third = ok(pb.run(CONFIGURE, extra_vars={"bench_config_file": str(config_file)}))
    assert third.recap()["changed"] == 0, third.tail()
    counters = clean_sandbox.counters()
    writes = {route: n for route, n in counters["requests"].items()
              if route.split()[0] in ("POST", "PUT", "PATCH", "DELETE") and route != "POST /oauth/token"}
    assert writes == {}, writes
    assert_one_copy_of_everything(clean_sandbox, config)
    figures["third_run"] = {"changed": third.recap()["changed"], "writes": 0,
                            "requests_total": sum(counters["requests"].values())}
    record_figures("test_two_plays_converging_the_same_configuration_at_once_leave_one_copy", figures)

