#!/usr/bin/env python3
"""Throughput of pm_sandbox: start-up time, then authenticated ``GET /api/1.0/users`` under load.

Starts a real sandbox process on loopback (``pm_sandbox.testing.SandboxProcess``), measures how long
it takes from launch to a healthy ``/_sandbox/health``, gets an admin token with the password grant,
then runs N client *processes* (so the client side is not GIL-bound in one interpreter), each with
one keep-alive ``requests.Session``, sending requests back to back for a fixed duration. Prints
requests/s, latency percentiles, the error count and the ratio to the 300 req/s target; exits 1 when
any request failed (a non-200 answer or a connection error), 2 on a set-up failure.

    .venv/bin/python bench/sandbox_throughput.py                  # 8 clients, 10 s
    .venv/bin/python bench/sandbox_throughput.py --clients 4 --duration 5 --json
    .venv/bin/python bench/sandbox_throughput.py --profile /tmp/sandbox.pstats   # cProfile the worker

``--profile`` runs the sandbox worker with one cProfile profiler per thread and writes the merged
statistics when the sandbox stops; ``--profile-top N`` prints the N costliest functions.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from pm_sandbox.testing import SandboxProcess

TARGET_RPS = 300.0

# For --profile: a sitecustomize module put on the sandbox's PYTHONPATH. It adds gunicorn hooks that
# profile every thread of the worker (cProfile is per thread) and merge the statistics into one file
# when the worker exits. The sandbox itself runs unchanged ("python -m pm_sandbox serve ...").
PROFILE_SITECUSTOMIZE = textwrap.dedent(
    """
    import cProfile, os, pstats, sys, threading

    OUT = os.environ.get("PM_SANDBOX_PROFILE")
    profiles = []
    lock = threading.Lock()

    def start_thread_profile(*_):
        sys.setprofile(None)  # this thread only; threads started later still get the hook
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()

    def post_fork(arbiter, worker):
        threading.setprofile(start_thread_profile)  # threads started from now on (the request pool)
        start_thread_profile()  # and the worker's main thread (accept loop, poller)

    def worker_exit(arbiter, worker):
        stats = None
        for profile in profiles:
            profile.disable()
            profile.create_stats()
            if not profile.stats:
                continue
            if stats is None:
                stats = pstats.Stats(profile)
            else:
                stats.add(profile)
        if stats is not None:
            stats.dump_stats(OUT)

    if OUT:
        from pm_sandbox import server

        original = server.SandboxServer.load_config

        def load_config(self):
            original(self)
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("worker_exit", worker_exit)

        server.SandboxServer.load_config = load_config
    """
)


def enable_profiling(profile_path: str) -> None:
    """Make the next sandbox started from this process run its worker under cProfile."""
    directory = Path(tempfile.mkdtemp(prefix="pm-sandbox-profile-"))
    (directory / "sitecustomize.py").write_text(PROFILE_SITECUSTOMIZE)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")]))
    os.environ["PM_SANDBOX_PROFILE"] = profile_path


def client(
    index: int, url: str, token: str, start_at: float, stop_at: float, timeout: float, results: Any
) -> None:
    """One load generator: back-to-back requests on one keep-alive connection until ``stop_at``."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    latencies: list[float] = []
    errors: dict[str, int] = {}
    first_error = ""
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        began = time.perf_counter()
        try:
            response = session.get(url, headers=headers, timeout=timeout)
            response.content  # noqa: B018 - read the whole body
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                key = f"HTTP {response.status_code}"
                errors[key] = errors.get(key, 0) + 1
                first_error = first_error or f"{key}: {response.text[:200]}"
                continue
        except requests.RequestException as error:
            key = type(error).__name__
            errors[key] = errors.get(key, 0) + 1
            first_error = first_error or f"{key}: {error}"
            continue
        latencies.append(elapsed)
    session.close()
    results.put({"index": index, "latencies": latencies, "errors": errors, "first_error": first_error})


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def run(args: argparse.Namespace) -> int:
    extra = ["--threads", str(args.threads)] if args.threads else []
    if args.profile:
        enable_profiling(str(Path(args.profile).resolve()))
    sandbox = SandboxProcess(extra_args=extra)
    launched = time.perf_counter()
    try:
        sandbox.start()
    except RuntimeError as error:
        print(f"sandbox did not start: {error}", file=sys.stderr)
        return 2
    startup = time.perf_counter() - launched
    try:
        host = urlsplit(sandbox.url).hostname
        if host not in ("127.0.0.1", "::1", "localhost"):
            print(f"refusing to load a non-loopback address: {sandbox.url}", file=sys.stderr)
            return 2
        token = sandbox.admin_token()
        url = sandbox.url + args.path
        probe = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if probe.status_code != 200:
            print(f"GET {args.path} answered {probe.status_code}: {probe.text[:300]}", file=sys.stderr)
            return 2
        sandbox.reset_counters()

        context = mp.get_context("fork")
        results = context.Queue()
        start_at = time.time() + 0.5  # every client starts together, after its interpreter is ready
        stop_at = start_at + args.duration
        workers = [
            context.Process(target=client, args=(i, url, token, start_at, stop_at, args.timeout, results))
            for i in range(args.clients)
        ]
        for worker in workers:
            worker.start()
        collected = []
        deadline = stop_at + args.timeout + 30
        while len(collected) < len(workers) and time.time() < deadline:
            try:
                collected.append(results.get(timeout=max(0.1, deadline - time.time())))
            except Exception:  # noqa: BLE001 - queue.Empty: a client is stuck; reported below
                break
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
        server_side = sandbox.counters()
    finally:
        sandbox.stop()
        shutil.rmtree(sandbox.workdir, ignore_errors=True)

    latencies = sorted(value for result in collected for value in result["latencies"])
    errors: dict[str, int] = {}
    for result in collected:
        for key, count in result["errors"].items():
            errors[key] = errors.get(key, 0) + count
    missing = len(workers) - len(collected)
    if missing:
        errors["client did not report"] = missing
    error_count = sum(errors.values())
    total = len(latencies) + error_count
    rps = len(latencies) / args.duration
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "startup_s": round(startup, 3),
        "clients": args.clients,
        "duration_s": args.duration,
        "path": args.path,
        "requests": total,
        "ok": len(latencies),
        "server_counted": server_side["requests"].get("GET /api/1.0/users", server_side["total"]),
        "requests_per_s": round(rps, 1),
        "latency_ms": {
            "mean": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p95": round(percentile(latencies, 0.95) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(latencies[-1] * 1000, 2) if latencies else None,
        },
        "errors": error_count,
        "error_kinds": errors,
        "target_rps": TARGET_RPS,
        "ratio_to_target": round(rps / TARGET_RPS, 2),
    }
    first_errors = [result["first_error"] for result in collected if result["first_error"]]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        lat = report["latency_ms"]
        print(f"machine        : {report['machine']['cores']} cores, Python {report['machine']['python']}")
        print(f"start-up       : {report['startup_s']:.3f} s (launch -> /_sandbox/health 200; target < 2 s)")
        print(f"load           : {args.clients} client processes x {args.duration:g} s, GET {args.path}")
        print(f"requests       : {total} ({report['ok']} ok; server counted {report['server_counted']})")
        print(f"throughput     : {report['requests_per_s']:.1f} req/s")
        print(f"latency (ms)   : p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}")
        print(f"errors         : {error_count} {errors if errors else ''}".rstrip())
        print(f"vs target      : {report['ratio_to_target']:.2f} x {TARGET_RPS:g} req/s")
    for line in first_errors[:3]:
        print(f"first error: {line}", file=sys.stderr)
    if args.profile:
        print_profile(args.profile, args.profile_top)
    return 1 if error_count else 0


def print_profile(path: str, top: int) -> None:
    import pstats

    if not Path(path).exists():
        print(f"no profile written to {path}", file=sys.stderr)
        return
    print(f"\nprofile of the sandbox worker (all threads): {path}")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes (default 8)")
    parser.add_argument("--path", default="/api/1.0/users", help="path to GET (default /api/1.0/users)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--threads", type=int, default=0, help="sandbox worker threads (default: its own)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the sandbox worker, write pstats to FILE")
    parser.add_argument("--profile-top", type=int, default=25, help="functions to print with --profile")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.clients <= 0:
        parser.error("--duration and --clients must be positive")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
