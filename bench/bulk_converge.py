#!/usr/bin/env python3
"""Bulk converge: N users with groups and memberships, (a) with the configure role, (b) with a plain
``ansible.builtin.uri`` loop playbook, each on a fresh pm_sandbox, a first run and a run with nothing
to change. Prints wall time, requests per kind (the sandbox's own counters) and the ratios.

    .venv/bin/python bench/bulk_converge.py                      # N = 100 and 1000, both ways
    .venv/bin/python bench/bulk_converge.py --users 100          # one size
    .venv/bin/python bench/bulk_converge.py --skip-uri-above 100 # the uri loop only for N <= 100
    .venv/bin/python bench/bulk_converge.py --json results.json  # the figures, machine-readable

The configuration (bench/bulk_data.py): N users, max(5, N // 20) groups, one membership per user.
(a) is bench/configure.yml: the token role (one login), then the configure role (one pm_resource task
for every kind: a list page or two per kind, then only the writes needed, 8 at a time). (b) is bench/uri_loop.yml:
a token by uri, then for each group, user and membership a GET that looks it up (filter) and a POST
when it is missing, one task per step looping over the items, as ProcessMaker's guide (Step 4: plain
requests with a bearer token) and a careful Ansible user would have it.

Every sandbox hashes passwords with bcrypt at ``--bcrypt-cost`` (default 4, the sandbox's own default;
ProcessMaker uses Laravel's 10), which every user create pays on the server; the report states it.
Each ansible-playbook run is bounded by ``--timeout`` seconds. Wall times include ansible-playbook's
start-up (about 1-2 s on this machine). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bulk_data import group_count, make_config
from conftest import ensure_collection_link
from pm_sandbox.testing import SandboxProcess

PLAYBOOKS = {"configure": REPO / "bench" / "configure.yml", "uri": REPO / "bench" / "uri_loop.yml"}
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def playbook_env(sandbox: SandboxProcess, collections: Path, workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PM_", "ANSIBLE_"))}
    creds = sandbox.credentials
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_CONFIG": str(REPO / "tools" / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PM_URL": creds["url"],
            "PM_CLIENT_ID": creds["password_client"]["client_id"],
            "PM_CLIENT_SECRET": creds["password_client"]["client_secret"],
            "PM_USERNAME": creds["admin"]["username"],
            "PM_PASSWORD": creds["admin"]["password"],
        }
    )
    return env


def recap(stdout: str) -> dict[str, int]:
    for line in stdout.splitlines()[::-1]:
        if line.startswith("localhost ") and "ok=" in line:
            return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
    return {}


def requests_by_kind(counters: dict[str, Any]) -> dict[str, int]:
    """``{"GET users": 3, "POST users": 100, ...}`` from the sandbox's counters (API prefix dropped)."""
    kinds: dict[str, int] = {}
    for route, count in counters.get("requests", {}).items():
        method, _, path = route.partition(" ")
        path = path.replace("/api/1.0/", "").lstrip("/")
        kinds[f"{method} {path}"] = kinds.get(f"{method} {path}", 0) + count
    return dict(sorted(kinds.items(), key=lambda item: (item[0].split()[1], item[0])))


def run_once(approach: str, sandbox: SandboxProcess, env: dict[str, str], config_file: Path, args: argparse.Namespace,
             log: Path) -> dict[str, Any]:
    extra = {"bench_config_file": str(config_file), "bench_per_page": args.per_page,
             "bench_concurrency": args.concurrency}
    command = [ANSIBLE_PLAYBOOK, str(PLAYBOOKS[approach]), "-e", json.dumps(extra)]
    sandbox.reset_counters()
    started = time.monotonic()
    try:
        completed = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=args.timeout,
                                   stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as expired:
        log.write_text(str(expired.stdout or "") + str(expired.stderr or ""))
        return {"seconds": None, "timed_out": True, "returncode": None}
    seconds = time.monotonic() - started
    log.write_text(completed.stdout + completed.stderr)
    counters = sandbox.counters()
    kinds = requests_by_kind(counters)
    writes = sum(n for kind, n in kinds.items() if kind.split()[0] in WRITE_METHODS and kind != "POST oauth/token")
    return {
        "seconds": round(seconds, 2),
        "timed_out": False,
        "returncode": completed.returncode,
        "changed": recap(completed.stdout).get("changed"),
        "requests_total": sum(kinds.values()),
        "writes": writes,
        "requests": kinds,
        "tokens_issued": counters.get("tokens_issued_total"),
    }


def server_totals(sandbox: SandboxProcess) -> dict[str, int]:
    totals = {}
    for path in ("users", "groups", "group_members"):
        totals[path] = sandbox.api("GET", "/" + path, params={"per_page": 1}).json()["meta"]["total"]
    return totals


def measure(approach: str, users: int, args: argparse.Namespace, collections: Path) -> dict[str, Any]:
    config = make_config(users)
    with tempfile.TemporaryDirectory(prefix="pm-bench-") as tmp:
        workdir = Path(tmp)
        config_file = workdir / "config.json"
        config_file.write_text(json.dumps(config))
        logs = Path(args.logs) if args.logs else workdir
        logs.mkdir(parents=True, exist_ok=True)
        with SandboxProcess(extra_args=["--bcrypt-cost", str(args.bcrypt_cost)]) as sandbox:
            env = playbook_env(sandbox, collections, workdir)
            result: dict[str, Any] = {"approach": approach, "users": users, "groups": len(config["groups"]),
                                      "memberships": len(config["group_members"])}
            print(f"  {approach:9s} N={users}: first run ...", end="", flush=True)
            first = run_once(approach, sandbox, env, config_file, args, logs / f"{approach}-{users}-first.log")
            result["first"] = first
            print(f" {describe_seconds(first)}", end="", flush=True)
            if first.get("returncode") == 0:
                result["server_after_first"] = server_totals(sandbox)
            if first.get("returncode") == 0 and not args.first_only:
                print(", no-change run ...", end="", flush=True)
                second = run_once(approach, sandbox, env, config_file, args, logs / f"{approach}-{users}-second.log")
                result["second"] = second
                print(f" {describe_seconds(second)}", flush=True)
            else:
                print(" (no second run)" if args.first_only else " (failed or timed out: no second run)", flush=True)
        return result


def describe_seconds(run: dict[str, Any]) -> str:
    if run.get("timed_out"):
        return "timed out"
    if run.get("returncode") != 0:
        return f"FAILED (rc={run.get('returncode')})"
    return f"{run['seconds']:.1f} s"


def check(result: dict[str, Any], config_users: int) -> list[str]:
    """Both approaches must leave the same server state, and the second run must change nothing."""
    problems = []
    expected = {"users": config_users + 1, "groups": result["groups"], "group_members": result["memberships"]}
    if result.get("server_after_first") not in (None, expected):
        problems.append(f"{result['approach']} N={config_users}: server has {result['server_after_first']},"
                        f" expected {expected}")
    second = result.get("second") or {}
    if second.get("returncode") == 0 and (second.get("changed") or second.get("writes")):
        problems.append(f"{result['approach']} N={config_users}: the no-change run changed {second.get('changed')}"
                        f" task(s) and sent {second.get('writes')} write(s)")
    return problems


def format_kinds(kinds: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in kinds.items())


def ratio(slow: dict[str, Any] | None, fast: dict[str, Any] | None) -> float | None:
    if not slow or not fast or slow.get("returncode") != 0 or fast.get("returncode") != 0:
        return None
    return slow["seconds"] / fast["seconds"] if fast["seconds"] else None


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        (f"bcrypt cost {args.bcrypt_cost} (pm-sandbox --bcrypt-cost; ProcessMaker uses 10), per_page {args.per_page},"
         f" concurrency {args.concurrency}; {os.cpu_count()} CPUs, Python {platform.python_version()}"),
        "",
        "| N users | groups | memberships | way | run | wall | requests | writes | changed | requests per kind |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for run_name in ("first", "second"):
            run = result.get(run_name)
            if run is None:
                continue
            wall = describe_seconds(run)
            lines.append(
                f"| {result['users']} | {result['groups']} | {result['memberships']} | {result['approach']} |"
                f" {'first' if run_name == 'first' else 'no change'} | {wall} | {run.get('requests_total', '-')} |"
                f" {run.get('writes', '-')} | {run.get('changed', '-')} | {format_kinds(run.get('requests', {}))} |"
            )
    lines += ["", "| N users | first run: uri / configure | no-change run: uri / configure | targets |",
              "| --- | --- | --- | --- |"]
    for users in sorted({result["users"] for result in results}):
        by_way = {result["approach"]: result for result in results if result["users"] == users}
        if "uri" not in by_way or "configure" not in by_way:
            continue
        first = ratio(by_way["uri"].get("first"), by_way["configure"].get("first"))
        second = ratio(by_way["uri"].get("second"), by_way["configure"].get("second"))
        verdict = []
        if first is not None:
            verdict.append(f"first >= 20x {'met' if first >= 20 else 'NOT met'}")
        if second is not None:
            verdict.append(f"no-change >= 50x {'met' if second >= 50 else 'NOT met'}")
        lines.append(f"| {users} | {fmt_ratio(first)} | {fmt_ratio(second)} | {'; '.join(verdict) or '-'} |")
    return "\n".join(lines)


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 1000], help="sizes N (default 100 1000)")
    parser.add_argument("--approaches", nargs="+", choices=sorted(PLAYBOOKS), default=["configure", "uri"])
    parser.add_argument("--skip-uri-above", type=int, default=None, metavar="N",
                        help="run the uri loop only for sizes up to N (it takes minutes at N=1000)")
    parser.add_argument("--bcrypt-cost", type=int, default=4, help="pm-sandbox --bcrypt-cost (default 4)")
    parser.add_argument("--per-page", type=int, default=1000, help="configure_per_page (default 1000)")
    parser.add_argument("--concurrency", type=int, default=8, help="configure_concurrency (default 8)")
    parser.add_argument("--timeout", type=int, default=3600, help="bound on one ansible-playbook run, seconds")
    parser.add_argument("--first-only", action="store_true",
                        help="skip the no-change runs (they do not depend on --bcrypt-cost: no password is hashed)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--logs", metavar="DIR", help="keep the ansible-playbook output of every run here")
    args = parser.parse_args(argv)

    collections = ensure_collection_link()
    print(f"bulk converge: N = {', '.join(map(str, args.users))}; groups = max(5, N // 20)"
          f" ({', '.join(str(group_count(n)) for n in args.users)}); one membership per user;"
          f" sandbox bcrypt cost {args.bcrypt_cost}", flush=True)
    results = []
    problems: list[str] = []
    for users in args.users:
        for approach in args.approaches:
            if approach == "uri" and args.skip_uri_above is not None and users > args.skip_uri_above:
                print(f"  uri       N={users}: skipped (--skip-uri-above {args.skip_uri_above})", flush=True)
                continue
            result = measure(approach, users, args, collections)
            results.append(result)
            problems += check(result, users)
    text = report(results, args)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": vars(args), "results": results}, indent=2))
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    failed = [r for r in results if (r.get("first") or {}).get("returncode") != 0]
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
