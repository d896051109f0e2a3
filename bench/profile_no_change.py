#!/usr/bin/env python3
"""Where a pm_resource run with nothing to change spends its time, for N users (default 10,000).

Fills a fresh sandbox with N users (bench/raw_floor.py), then:

1. **the module, in-process**: pm_resource's ``main()`` under cProfile (no Ansible around it: the
   arguments are handed over as the controller would), the top functions by own and cumulative time;
2. **the whole playbook**: bench/floor.yml under py-spy (``--subprocesses``, when py-spy is installed:
   requirements-dev.txt has it), the sampled time of each process (the controller, its worker, the
   module) and the functions each spends it in.

    .venv/bin/python bench/profile_no_change.py                # N = 10,000
    .venv/bin/python bench/profile_no_change.py --users 1000 --out /tmp/profiles

Profilers slow the code they watch (cProfile most where many small functions run): read the shares,
not the seconds. bench/floor.py has the unprofiled figures.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench_support import (
    ANSIBLE_PLAYBOOK,
    REPO,
    Bench,
    fresh_sandbox,
    sandbox_env,
    temporary_dir,
)
from floor import make_items


def module_profile(items_file: Path, env: dict, out: Path, top: int) -> str:
    sys.path.insert(0, str(REPO / "tests" / "unit"))
    from ansible_collections.processmaker.core.plugins.modules import pm_resource
    from unit_helpers import patch_module_args

    os.environ.update(env)
    profile = cProfile.Profile()
    # bench/floor.yml's task
    args = {"kind": "users", "src": str(items_file), "report": "changes", "per_page": 1000, "concurrency": 8}
    with patch_module_args(args), \
            contextlib.redirect_stdout(io.StringIO()):
        profile.enable()
        try:
            pm_resource.main()
        except SystemExit:
            pass
        profile.disable()
    profile.dump_stats(str(out / "module.pstats"))
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


def frame_name(frame: str) -> str:
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    return f"{match.group(1)} ({match.group(2).split('/')[-1]})" if match else frame


def spy_summary(raw: Path, rate: int, top: int) -> str:
    """Per process (the deepest ``process`` frame of each stack): its sampled seconds and the functions
    that were on its stack for the most samples."""
    seconds: collections.Counter = collections.Counter()
    on_stack: dict = collections.defaultdict(collections.Counter)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        where = max(i for i, frame in enumerate(frames) if frame.startswith("process "))
        process = re.sub(r'process \d+:"(.{0,60}).*', r"\1", frames[where])
        seconds[process] += int(count)
        for name in {frame_name(frame) for frame in frames[where + 1:] if not frame.startswith("thread")}:
            on_stack[process][name] += int(count)
    lines = []
    for process, samples in seconds.most_common():
        lines.append(f"{samples / rate:6.2f} s  {process}")
        lines += [f"    {count / rate:6.2f}  {name}" for name, count in on_stack[process].most_common(top)]
    return "\n".join(lines)


def playbook_profile(bench: Bench, sandbox: object, items_file: Path, out: Path, top: int) -> str:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return "(py-spy is not installed: pip install -r requirements-dev.txt)"
    raw, rate = out / "playbook.pyspy.txt", 200
    extra = json.dumps({"bench_items_file": str(items_file), "ansible_python_interpreter": sys.executable})
    command = [spy, "record", "--subprocesses", "-r", str(rate), "-f", "raw", "-o", str(raw), "--",
               sys.executable, ANSIBLE_PLAYBOOK, str(REPO / "bench" / "floor.yml"), "-e", extra]
    subprocess.run(command, env=bench.env(sandbox), cwd=REPO, capture_output=True, check=True)
    return spy_summary(raw, rate, top)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--top", type=int, default=25, help="functions shown per list (default 25)")
    parser.add_argument("--out", metavar="DIR", help="keep module.pstats and playbook.pyspy.txt here")
    args = parser.parse_args(argv)
    with temporary_dir("pm-profile-") as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        bench = Bench(Path(tmp))
        items = make_items(args.users, same_password=False)
        items_file = Path(tmp) / "users.json"
        items_file.write_text(json.dumps(items))
        with fresh_sandbox(4) as sandbox:
            filled = bench.script(sandbox, "raw_floor.py", str(items_file))
            print(f"{args.users:,} users created in {filled.seconds:.1f} s; profiling a run with nothing to change",
                  flush=True)
            print("\n== pm_resource's main(), in-process, cProfile ==\n")
            print(module_profile(items_file, sandbox_env(sandbox), out, args.top))
            print("\n== bench/floor.yml, py-spy (every process of the run) ==\n")
            print(playbook_profile(bench, sandbox, items_file, out, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
