#!/usr/bin/env python3
"""The floor: pm_resource against the fewest requests a plain script makes for the same work.

For N users (N = 1,000 and 10,000; 100,000 too with --big), each way on a fresh sandbox
(``pm_sandbox.testing.SandboxProcess --bcrypt-cost 4``):

- **raw**: bench/raw_floor.py, plain Python and ``requests``: one token, the list pages, a POST for each
  missing user, 8 in flight;
- **collection**: bench/floor.yml, a playbook with one ``processmaker.core.pm_resource`` task (kind users,
  the N items with a password each read from a JSON file by the module (``src``), ``report: changes``,
  per_page 1000, concurrency 8), as pm_resource's documentation advises for thousands of objects;
- **items in the task**: bench/floor_items.yml, the same task with the items in its arguments and every item
  in its results (the defaults), run with nothing to change;
- **fixed**: bench/floor_fixed.yml, a playbook with one ``pm_api`` call: what any playbook costs.

Each way runs twice: a first run that creates the N users, then a run with nothing to change. Every
figure is repeated ``--repeat`` times (the order of the ways alternates) and printed as the median and
the spread; the ratios are taken within each repetition (same load), then summarised the same way.
The items have distinct passwords (``--same-password`` gives them one, as bench/bulk_data.py does),
which is what used to make the collection's no-change run grow with N squared.

    .venv/bin/python bench/floor.py                      # N = 1,000 and 10,000, 3 repetitions
    .venv/bin/python bench/floor.py --sizes 1000 --repeat 5
    .venv/bin/python bench/floor.py --big                # and 100,000 (memory reported too; long)
    .venv/bin/python bench/floor.py --json floor.json --logs /tmp/floor-logs

Not a test: nothing here asserts a time. Exits 1 when a run failed, left the server in the wrong state
or wrote anything in a no-change run.
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

BENCH_PASSWORD = "Bench-Passw0rd!"


def make_items(count: int, same_password: bool) -> list:
    """N users as bench/bulk_data.py makes them; each with its own password unless ``same_password``."""
    return [{"username": f"bench-user-{i:06d}", "firstname": "Bench", "lastname": f"User {i}",
             "email": f"bench-user-{i:06d}@example.com",
             "password": BENCH_PASSWORD if same_password else f"{BENCH_PASSWORD}{i:06d}"} for i in range(count)]


def raw_way(bench: Bench, items_file: Path, args: argparse.Namespace) -> dict:
    with fresh_sandbox(args.bcrypt_cost) as sandbox:
        first = bench.script(sandbox, "raw_floor.py", str(items_file), timeout=args.timeout)
        users = server_total(sandbox, "users")
        again = bench.script(sandbox, "raw_floor.py", str(items_file), timeout=args.timeout)
    return {"first": first, "again": again, "users_after_first": users}


def collection_way(bench: Bench, items_file: Path, args: argparse.Namespace) -> dict:
    extra = {"bench_items_file": str(items_file), "bench_per_page": 1000, "bench_concurrency": 8}
    with fresh_sandbox(args.bcrypt_cost) as sandbox:
        first = bench.playbook(sandbox, "floor.yml", extra_vars=extra, timeout=args.timeout)
        users = server_total(sandbox, "users")
        again = bench.playbook(sandbox, "floor.yml", extra_vars=extra, timeout=args.timeout)
        items = bench.playbook(sandbox, "floor_items.yml", extra_vars=extra, timeout=args.timeout)
        fixed = bench.playbook(sandbox, "floor_fixed.yml", timeout=args.timeout)
        ansible = bench.playbook(sandbox, "floor_ansible.yml", extra_vars=extra, timeout=args.timeout)
    return {"first": first, "again": again, "items": items, "fixed": fixed, "ansible": ansible,
            "users_after_first": users}


def problems_of(size: int, raw: dict, collection: dict) -> list:
    problems = []
    for way, result in (("raw", raw), ("collection", collection)):
        for name in ("first", "again", "items", "fixed", "ansible"):
            run = result.get(name)
            if run is not None and run.returncode != 0:
                problems.append(f"N={size} {way} {name} run failed (rc={run.returncode}): {run.output[-400:]}")
        if result["users_after_first"] != size + 1:
            problems.append(f"N={size} {way}: {result['users_after_first']} users after the first run, not {size + 1}")
        for name in ("again", "items"):
            if name in result and result[name].writes:
                problems.append(f"N={size} {way}: the no-change run ({name}) wrote {result[name].writes} times")
    for name in ("again", "items"):
        if collection[name].changed:
            problems.append(f"N={size}: the collection's no-change run ({name}) reported"
                            f" changed={collection[name].changed}")
    return problems


def measure(size: int, args: argparse.Namespace, bench: Bench, workdir: Path) -> tuple:
    items_file = workdir / f"users-{size}.json"
    items_file.write_text(json.dumps(make_items(size, args.same_password)))
    reps, problems = [], []
    for rep in range(args.repeat):
        ways = [("raw", raw_way), ("collection", collection_way)]
        if rep % 2:
            ways.reverse()  # neither way always runs first (the load drifts)
        result: dict = {"load_before": load_average()}
        for name, way in ways:
            print(f"  N={size:,} repetition {rep + 1}/{args.repeat}: {name} ...", end="", flush=True)
            result[name] = way(bench, items_file, args)
            done = result[name]
            extra = (f", items in the task {done['items'].seconds:.2f} s, fixed {done['fixed'].seconds:.2f} s,"
                     f" Ansible's share {done['ansible'].seconds:.2f} s" if "fixed" in done else "")
            print(f" first {done['first'].seconds:.2f} s, no change {done['again'].seconds:.2f} s{extra}", flush=True)
        result["load_after"] = load_average()
        problems += problems_of(size, result["raw"], result["collection"])
        reps.append(result)
    return reps, problems


def figures(size: int, reps: list) -> dict:
    """Medians and spreads of every figure and of the ratios taken within each repetition."""
    def runs(way: str, name: str) -> list:
        return [rep[way][name] for rep in reps]

    def seconds(way: str, name: str) -> dict:
        return summary([run.seconds for run in runs(way, name)])

    first_ratio = [rep["collection"]["first"].seconds / rep["raw"]["first"].seconds for rep in reps]
    beyond = [rep["collection"]["again"].seconds - rep["collection"]["fixed"].seconds for rep in reps]
    first_beyond = [rep["collection"]["first"].seconds - rep["collection"]["fixed"].seconds for rep in reps]
    again_ratio = [(rep["collection"]["again"].seconds - rep["collection"]["fixed"].seconds)
                   / rep["raw"]["again"].seconds for rep in reps]
    items_beyond = [rep["collection"]["items"].seconds - rep["collection"]["fixed"].seconds for rep in reps]
    ansible_share = [rep["collection"]["ansible"].seconds - rep["collection"]["fixed"].seconds for rep in reps]
    own = [rep["collection"]["items"].seconds - rep["collection"]["ansible"].seconds for rep in reps]
    return {
        "size": size,
        "raw_first": seconds("raw", "first"), "raw_again": seconds("raw", "again"),
        "collection_first": seconds("collection", "first"), "collection_again": seconds("collection", "again"),
        "fixed": seconds("collection", "fixed"),
        "first_ratio": summary(first_ratio), "first_beyond_fixed_ratio": summary(
            [value / rep["raw"]["first"].seconds for value, rep in zip(first_beyond, reps)]),
        "again_beyond_fixed": summary(beyond), "again_beyond_fixed_over_raw": summary(again_ratio),
        "items": seconds("collection", "items"), "items_beyond_fixed": summary(items_beyond),
        "ansible": seconds("collection", "ansible"), "ansible_beyond_fixed": summary(ansible_share),
        "items_beyond_ansible": summary(own),
        "cpu": {name: summary([rep["collection"][name].cpu_seconds for rep in reps])
                for name in ("first", "again", "items", "fixed", "ansible")},
        "raw_cpu": {name: summary([rep["raw"][name].cpu_seconds for rep in reps]) for name in ("first", "again")},
        "per_object_ms": {
            "raw_again": summary([1000 * run.seconds / size for run in runs("raw", "again")]),
            "collection_again_beyond_fixed": summary([1000 * value / size for value in beyond]),
        },
        "rss_mib": {
            "raw_first": summary([run.controller_mib for run in runs("raw", "first")]),
            "controller_first": summary([run.controller_mib for run in runs("collection", "first")]),
            "module_first": summary([run.module_mib for run in runs("collection", "first")]),
            "controller_again": summary([run.controller_mib for run in runs("collection", "again")]),
            "module_again": summary([run.module_mib for run in runs("collection", "again")]),
            "controller_fixed": summary([run.controller_mib for run in runs("collection", "fixed")]),
            "module_fixed": summary([run.module_mib for run in runs("collection", "fixed")]),
        },
        "requests": {way: {name: reps[0][way][name].requests for name in ("first", "again")}
                     for way in ("raw", "collection")},
        "load": [(rep["load_before"], rep["load_after"]) for rep in reps],
    }


def report(all_figures: list, args: argparse.Namespace) -> str:
    lines = [(f"{machine()}; sandbox bcrypt cost {args.bcrypt_cost}; {args.repeat} repetitions; items with"
             f" {'one password' if args.same_password else 'distinct passwords'}; median (min to max)"), "",
             ("| N users | raw, first | collection, first | first: collection / raw | raw, no change |"
             " collection, no change | fixed playbook | no change beyond fixed | beyond fixed / raw no change |"),
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for f in all_figures:
        lines.append(f"| {f['size']:,} | {fmt(f['raw_first'])} | {fmt(f['collection_first'])} |"
                     f" {fmt(f['first_ratio'], 'x')} | {fmt(f['raw_again'])} | {fmt(f['collection_again'])} |"
                     f" {fmt(f['fixed'])} | {fmt(f['again_beyond_fixed'])} | {fmt(f['again_beyond_fixed_over_raw'], 'x', 1)} |")
    lines += ["", ("| N users | no change, items in the task (floor_items.yml) | its cost beyond fixed |"
                   " Ansible's share: items in, results out (bench_items module) | its cost beyond fixed |"
                   " items in the task beyond Ansible's share |"),
              "| --- | --- | --- | --- | --- | --- |"]
    for f in all_figures:
        lines.append(f"| {f['size']:,} | {fmt(f['items'])} | {fmt(f['items_beyond_fixed'])} | {fmt(f['ansible'])} |"
                     f" {fmt(f['ansible_beyond_fixed'])} | {fmt(f['items_beyond_ansible'])} |")
    lines += ["", ("| N users | CPU s, collection: first / no change / no change, items in the task / fixed /"
                   " Ansible's share | CPU s, raw: first / no change |"), "| --- | --- | --- |"]
    for f in all_figures:
        cpu, raw_cpu = f["cpu"], f["raw_cpu"]
        shares = " / ".join(fmt(cpu[n], "") for n in ("first", "again", "items", "fixed", "ansible"))
        lines.append(f"| {f['size']:,} | {shares} | {fmt(raw_cpu['first'], '')} / {fmt(raw_cpu['again'], '')} |")
    lines += ["", ("| N users | no change, per object: raw | collection beyond fixed | peak RSS, MiB: raw script |"
              " controller (first / no change / fixed) | module (first / no change / fixed) |"),
              "| --- | --- | --- | --- | --- | --- |"]
    for f in all_figures:
        rss, per = f["rss_mib"], f["per_object_ms"]
        lines.append(
            f"| {f['size']:,} | {fmt(per['raw_again'], ' ms', 3)} | {fmt(per['collection_again_beyond_fixed'], ' ms', 3)} |"
            f" {fmt(rss['raw_first'], '', 0)} | {fmt(rss['controller_first'], '', 0)} / {fmt(rss['controller_again'], '', 0)}"
            f" / {fmt(rss['controller_fixed'], '', 0)} | {fmt(rss['module_first'], '', 0)} /"
            f" {fmt(rss['module_again'], '', 0)} / {fmt(rss['module_fixed'], '', 0)} |")
    lines += ["", "Requests (the sandbox's counters, first repetition):"]
    for f in all_figures:
        for way, runs in f["requests"].items():
            for name, routes in runs.items():
                text = ", ".join(f"{route} {count}" for route, count in routes.items())
                lines.append(f"- N={f['size']:,} {way} {'first' if name == 'first' else 'no change'}: {text}")
    lines += ["", "Load average (1, 5, 15 min) before and after each repetition:"]
    for f in all_figures:
        lines.append(f"- N={f['size']:,}: " + "; ".join(f"{before} -> {after}" for before, after in f["load"]))
    lines += ["", ("Targets at N = 10,000 (issue 11): no change at most 1.0 s beyond the fixed cost; first run within"
              " 1.3x of the raw script.")]
    for f in all_figures:
        if f["size"] == 10000:
            beyond, first = f["again_beyond_fixed"]["median"], f["first_ratio"]["median"]
            cpu_again, cpu_fixed = f["cpu"]["again"]["median"], f["cpu"]["fixed"]["median"]
            cpu = (f"; CPU {cpu_again - cpu_fixed:.2f} s beyond the fixed playbook's"
                   if cpu_again is not None and cpu_fixed is not None else "")
            lines.append(f"- no change beyond fixed: {beyond:.2f} s ({'met' if beyond <= 1.0 else 'NOT met'}{cpu});"
                         f" first run: {first:.2f}x the raw script ({'met' if first <= 1.3 else 'NOT met'})")
            items = f["items_beyond_fixed"]["median"]
            lines.append(f"- for the record, no change with the items in the task (floor_items.yml): {items:.2f} s"
                         " beyond fixed")
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="N users (default 1000 10000)")
    parser.add_argument("--big", action="store_true", help="also N = 100,000 (about half an hour)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every figure (default 3)")
    parser.add_argument("--bcrypt-cost", type=int, default=4, help="pm-sandbox --bcrypt-cost (default 4)")
    parser.add_argument("--same-password", action="store_true", help="one password for every item")
    parser.add_argument("--timeout", type=int, default=7200, help="bound on one run, seconds")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--logs", metavar="DIR", help="keep the output of every run here")
    args = parser.parse_args(argv)
    sizes = args.sizes + ([100000] if args.big and 100000 not in args.sizes else [])

    print(f"floor: N = {', '.join(f'{n:,}' for n in sizes)}; {machine()}; load average {load_average()}", flush=True)
    all_figures, problems = [], []
    with temporary_dir("pm-floor-") as tmp:
        workdir = Path(tmp)
        bench = Bench(workdir, Path(args.logs) if args.logs else None)
        for size in sizes:
            reps, found = measure(size, args, bench, workdir)
            problems += found
            all_figures.append(figures(size, reps))
    print()
    print(report(all_figures, args))
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": vars(args), "figures": all_figures}, indent=2, default=str))
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
