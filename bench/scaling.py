#!/usr/bin/env python3
"""Scaling checks: does anything grow worse than linearly with the size of the work?

Each check runs at a small and a 10 times larger size, ``--repeat`` times, and prints the wall and CPU
times, the requests the sandbox saw, and the growth of the time beyond the fixed cost of a playbook
(bench/floor_fixed.yml: one pm_api call), where 10x is linear:

- **config**: bench/configure.yml (the token role, then the configure role's one pm_resource task with
  ``config``) converging N users with their own passwords, N // 20 groups and one membership per user,
  N = 1,000 and 10,000 (500 groups, 10,000 memberships), on a fresh sandbox: a first run, then a run with
  nothing to change;
- **all_pages**: bench/all_pages.yml, ``pm_api`` with ``all_pages`` listing the N users of that sandbox
  (per_page 1000);
- **token lookup**: bench/token_hosts.yml, the ``pm_token`` lookup on each of H hosts (H = 20 and 200,
  forks 25), against the same playbook without the lookup (Ansible's own cost per host); the lookup's
  shared cache must ask the server for one token whatever H (each run starts with an empty cache).

    .venv/bin/python bench/scaling.py                    # all three, 3 repetitions (about 15 minutes)
    .venv/bin/python bench/scaling.py --checks token --repeat 5
    .venv/bin/python bench/scaling.py --json scaling.json

Not a test: nothing here asserts a time. Exits 1 when a run failed or a no-change run wrote anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench_support import (
    Bench,
    fmt,
    fresh_sandbox,
    load_average,
    machine,
    server_total,
    summary,
    temporary_dir,
)
from bulk_data import make_config

CHECKS = ("config", "all_pages", "token")


def config_check(bench: Bench, size: int, args: argparse.Namespace, workdir: Path) -> dict:
    config_file = workdir / f"config-{size}.json"
    config_file.write_text(json.dumps(make_config(size, distinct_passwords=True)))
    extra = {"bench_config_file": str(config_file), "bench_per_page": 1000, "bench_concurrency": 8}
    with fresh_sandbox(args.bcrypt_cost) as sandbox:
        first = bench.playbook(sandbox, "configure.yml", extra_vars=extra, timeout=args.timeout)
        totals = {path: server_total(sandbox, path) for path in ("users", "groups", "group_members")}
        again = bench.playbook(sandbox, "configure.yml", extra_vars=extra, timeout=args.timeout)
        fixed = bench.playbook(sandbox, "floor_fixed.yml", timeout=args.timeout)
        listed = None
        if "all_pages" in args.checks:
            listed = bench.playbook(sandbox, "all_pages.yml", extra_vars={"bench_expected": size + 1},
                                    timeout=args.timeout)
    return {"first": first, "again": again, "fixed": fixed, "all_pages": listed, "totals": totals}


def token_check(bench: Bench, hosts: int, args: argparse.Namespace, workdir: Path, sandbox: object,
                rep: int) -> dict:
    inventory = workdir / f"hosts-{hosts}.ini"
    inventory.write_text("[bench]\n" + "".join(f"host{number:04d}\n" for number in range(hosts))
                         + "\n[bench:vars]\nansible_connection=local\n")
    # an empty token cache for each run: with the cache of an earlier run the lookup asks for no token at all
    runs = {}
    for name, lookup in (("lookup", True), ("without", False)):
        cache = workdir / f"token-cache-{hosts}-{rep}-{name}"
        runs[name] = bench.playbook(sandbox, "token_hosts.yml", args=["-i", str(inventory), "--forks", "25"],
                                    extra_vars={"bench_lookup": lookup}, timeout=args.timeout,
                                    env={"PM_TOKEN_CACHE_DIR": str(cache)})
    return runs


def growth(small: dict, large: dict, fixed_small: float, fixed_large: float) -> float | None:
    """How many times the time beyond the fixed cost grew from the small size to the large one."""
    below, above = small - fixed_small, large - fixed_large
    return above / below if below > 0 else None


def run_checks(args: argparse.Namespace, bench: Bench, workdir: Path) -> tuple:
    results: dict = {"config": {}, "token": {}}
    problems = []
    for rep in range(args.repeat):
        if "config" in args.checks or "all_pages" in args.checks:
            for size in args.sizes:
                print(f"  config N={size:,} repetition {rep + 1}/{args.repeat} ...", end="", flush=True)
                done = config_check(bench, size, args, workdir)
                results["config"].setdefault(size, []).append(done)
                listed = done["all_pages"]
                print(f" first {done['first'].seconds:.2f} s, no change {done['again'].seconds:.2f} s,"
                      f" fixed {done['fixed'].seconds:.2f} s"
                      + (f", all_pages {listed.seconds:.2f} s" if listed else ""), flush=True)
                for name in ("first", "again", "fixed", "all_pages"):
                    if done[name] is not None and done[name].returncode != 0:
                        problems.append(f"config N={size} {name} failed: {done[name].output[-600:]}")
                if done["again"].writes:
                    problems.append(f"config N={size}: the no-change run wrote {done['again'].writes} times")
                expected = {"users": size + 1, "groups": max(5, size // 20), "group_members": size}
                if done["totals"] != expected:
                    problems.append(f"config N={size}: the server has {done['totals']}, not {expected}")
        if "token" in args.checks:
            with fresh_sandbox(args.bcrypt_cost) as sandbox:
                fixed = bench.playbook(sandbox, "floor_fixed.yml", timeout=args.timeout)
                for hosts in args.hosts:
                    print(f"  token lookup H={hosts} repetition {rep + 1}/{args.repeat} ...", end="", flush=True)
                    done = token_check(bench, hosts, args, workdir, sandbox, rep)
                    done["fixed"] = fixed
                    results["token"].setdefault(hosts, []).append(done)
                    print(f" with the lookup {done['lookup'].seconds:.2f} s, without {done['without'].seconds:.2f} s,"
                          f" tokens asked {done['lookup'].requests.get('POST oauth/token', 0)}", flush=True)
                    for name in ("lookup", "without"):
                        if done[name].returncode != 0:
                            problems.append(f"token H={hosts} {name} failed: {done[name].output[-600:]}")
                    asked = done["lookup"].requests.get("POST oauth/token", 0)
                    if asked != 1:
                        problems.append(f"token H={hosts}: {asked} tokens asked (one expected, from an empty cache)")
    return results, problems


def report(results: dict, args: argparse.Namespace) -> str:
    lines = [(f"{machine()}; sandbox bcrypt cost {args.bcrypt_cost}; {args.repeat} repetitions; median (min to max);"
             f" CPU is the user + system time of ansible-playbook and everything it started"), ""]
    configs = results["config"]
    if configs:
        lines += ["| check | size | run | wall | CPU | beyond the fixed cost | requests (first repetition) |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for size, reps in sorted(configs.items()):
            for name, label in (("first", "config, first run"), ("again", "config, no change"),
                                ("all_pages", "pm_api all_pages"), ("fixed", "fixed (one pm_api call)")):
                runs = [rep[name] for rep in reps if rep[name] is not None]
                if not runs:
                    continue
                beyond = summary([run.seconds - rep["fixed"].seconds for run, rep in zip(runs, reps)])
                routes = ", ".join(f"{route} {count}" for route, count in runs[0].requests.items())
                lines.append(f"| {label} | {size:,} users | {name} | {fmt(summary([r.seconds for r in runs]))} |"
                             f" {fmt(summary([r.cpu_seconds for r in runs]), ' s')} |"
                             f" {fmt(beyond) if name != 'fixed' else '-'} | {routes} |")
        sizes = sorted(configs)
        if len(sizes) == 2:
            small, large = sizes
            lines += ["", (f"Growth from {small:,} to {large:,} users ({large // small}x the work) of the time beyond the"
                      " fixed cost, per repetition:")]
            for name, label in (("first", "config, first run"), ("again", "config, no change"),
                                ("all_pages", "pm_api all_pages")):
                values = [growth(a[name].seconds, b[name].seconds, a["fixed"].seconds, b["fixed"].seconds)
                          for a, b in zip(configs[small], configs[large]) if a[name] is not None and b[name] is not None]
                values = [value for value in values if value is not None]
                if values:
                    lines.append(f"- {label}: {fmt(summary(values), 'x', 1)}")
            for small_rep, large_rep in zip(configs[small][:1], configs[large][:1]):
                for name in ("first", "again", "all_pages"):
                    if small_rep[name] is not None:
                        lines.append(f"- peak RSS, {name}: controller {small_rep[name].controller_mib} ->"
                                     f" {large_rep[name].controller_mib} MiB, module {small_rep[name].module_mib} ->"
                                     f" {large_rep[name].module_mib} MiB")
    tokens = results["token"]
    if tokens:
        lines += ["", ("| hosts (forks 25) | with the lookup | without it (Ansible's cost) | the lookup's cost | per host |"
                  " CPU with / without | tokens asked |"), "| --- | --- | --- | --- | --- | --- | --- |"]
        for hosts, reps in sorted(tokens.items()):
            own = summary([rep["lookup"].seconds - rep["without"].seconds for rep in reps])
            per_host = summary([1000 * (rep["lookup"].seconds - rep["without"].seconds) / hosts for rep in reps])
            asked = [rep["lookup"].requests.get("POST oauth/token", 0) for rep in reps]
            lines.append(f"| {hosts} | {fmt(summary([r['lookup'].seconds for r in reps]))} |"
                         f" {fmt(summary([r['without'].seconds for r in reps]))} | {fmt(own)} | {fmt(per_host, ' ms', 1)} |"
                         f" {fmt(summary([r['lookup'].cpu_seconds for r in reps]), '')} /"
                         f" {fmt(summary([r['without'].cpu_seconds for r in reps]), '')} | {asked} |")
    lines += ["", f"Load average: {load_average()} (1, 5, 15 min) at the end"]
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", nargs="+", choices=CHECKS, default=list(CHECKS))
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 10000], help="users (default 1000 10000)")
    parser.add_argument("--hosts", type=int, nargs=2, default=[20, 200], help="hosts (default 20 200)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bcrypt-cost", type=int, default=4)
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--logs", metavar="DIR")
    args = parser.parse_args(argv)
    print(f"scaling: {', '.join(args.checks)}; {machine()}; load average {load_average()}", flush=True)
    with temporary_dir("pm-scaling-") as tmp:
        bench = Bench(Path(tmp), Path(args.logs) if args.logs else None)
        results, problems = run_checks(args, bench, Path(tmp))
    print()
    print(report(results, args))
    if args.json:
        plain = {check: {size: [{name: {key: value for key, value in vars(run).items() if key != "output"}
                                 if hasattr(run, "seconds") else run for name, run in rep.items()} for rep in reps]
                         for size, reps in by_size.items()} for check, by_size in results.items()}
        Path(args.json).write_text(json.dumps({"settings": vars(args), "results": plain}, indent=2, default=str))
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
