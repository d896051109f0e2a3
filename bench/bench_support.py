"""What bench/floor.py and bench/scaling.py share: running ansible-playbook or a script against a sandbox,
timing it, counting the sandbox's requests, and measuring peak memory (RSS) on the way.

Memory: the module's peak RSS is exact (the module runs under a small interpreter wrapper that waits
for it with ``os.wait4`` and records ``ru_maxrss``); the controller's is the highest ``VmHWM`` (each
process's own peak RSS, kept by the kernel) of ``ansible-playbook`` and its forked workers, read every
20 ms while they run. A script's peak is its ``ru_maxrss``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import ensure_collection_link
from pm_sandbox.testing import SandboxProcess

ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# The interpreter Ansible runs modules with: runs the real one and appends its peak RSS (KiB) to a file.
WRAPPER = """#!{python} -S
import os, sys
pid = os.fork()
if pid == 0:
    os.execv({python!r}, [{python!r}] + sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
with open({out!r}, "a") as out:
    out.write("%d\\n" % usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Run:
    """One timed run: wall seconds, exit code, the sandbox's request counts, peak RSS in MiB."""

    seconds: float
    returncode: int
    requests: dict = field(default_factory=dict)
    controller_mib: float | None = None
    module_mib: float | None = None
    cpu_seconds: float | None = None  # user + system time of the run's processes (the server's aside)
    output: str = ""

    @property
    def writes(self) -> int:
        return sum(n for route, n in self.requests.items()
                   if route.split()[0] in WRITE_METHODS and route != "POST oauth/token")

    @property
    def changed(self) -> int | None:
        for line in self.output.splitlines()[::-1]:
            if line.startswith("localhost ") and "changed=" in line:
                return int(re.search(r"changed=(\d+)", line).group(1))
        return None


def requests_by_route(counters: dict) -> dict:
    """``{"GET users": 3, "POST users": 100, ...}`` from the sandbox's counters (API prefix dropped)."""
    routes: dict = {}
    for route, count in counters.get("requests", {}).items():
        method, _, path = route.partition(" ")
        key = f"{method} {path.replace('/api/1.0/', '').lstrip('/')}"
        routes[key] = routes.get(key, 0) + count
    return dict(sorted(routes.items()))


def sandbox_env(sandbox: SandboxProcess) -> dict:
    creds = sandbox.credentials
    return {"PM_URL": creds["url"], "PM_CLIENT_ID": str(creds["password_client"]["client_id"]),
            "PM_CLIENT_SECRET": creds["password_client"]["client_secret"],
            "PM_USERNAME": creds["admin"]["username"], "PM_PASSWORD": creds["admin"]["password"]}


class Bench:
    """A work folder with the interpreter wrapper, the collection view and the environment of the runs."""

    def __init__(self, workdir: Path, logs: Path | None = None) -> None:
        self.workdir = workdir
        self.logs = logs
        self.collections = ensure_collection_link()
        self.rss_file = workdir / "module-rss.txt"
        self.python = workdir / "python-rss"
        self.python.write_text(WRAPPER.format(python=sys.executable, out=str(self.rss_file)))
        self.python.chmod(0o755)
        self.runs = 0

    def env(self, sandbox: SandboxProcess | None, **extra: str) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PM_", "ANSIBLE_"))}
        env.update({"ANSIBLE_COLLECTIONS_PATH": str(self.collections),
                    "ANSIBLE_CONFIG": str(REPO / "tools" / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-local"),
                    "ANSIBLE_PYTHON_INTERPRETER": str(self.python),
                    "PM_TOKEN_CACHE_DIR": str(self.workdir / "token-cache")})
        if sandbox is not None:
            env.update(sandbox_env(sandbox))
        env.update(extra)
        return env

    def playbook(self, sandbox: SandboxProcess, playbook: str, *, extra_vars: dict | None = None,
                 args: list[str] | None = None, timeout: float = 3600, env: dict | None = None) -> Run:
        command = [ANSIBLE_PLAYBOOK, str(REPO / "bench" / playbook), *(args or [])]
        # a variable, not only the setting: the implicit localhost has the controller's Python as its own
        command += ["-e", json.dumps({**(extra_vars or {}), "ansible_python_interpreter": str(self.python)})]
        self.rss_file.write_text("")
        return self._timed(command, sandbox, {**self.env(sandbox), **(env or {})}, timeout, module=True,
                           label=playbook)

    def script(self, sandbox: SandboxProcess, script: str, *args: str, timeout: float = 3600,
               env: dict | None = None) -> Run:
        command = [sys.executable, str(REPO / "bench" / script), *args]
        return self._timed(command, sandbox, {**self.env(sandbox), **(env or {})}, timeout, module=False,
                           label=script)

    def _timed(self, command: list, sandbox: SandboxProcess, env: dict, timeout: float, *, module: bool,
               label: str) -> Run:
        sandbox.reset_counters()
        peaks: dict = {}
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True)
        reader = threading.Thread(target=lambda: peaks.__setitem__("output", process.stdout.read()), daemon=True)
        reader.start()
        done = threading.Event()
        watcher = None
        if module:
            watcher = threading.Thread(target=_watch_controller, args=(process.pid, done, peaks), daemon=True)
            watcher.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)  # the whole run's ru_maxrss, for a script
        except ChildProcessError:
            status, usage = 0, None
        seconds = time.monotonic() - started
        done.set()
        process.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout)
        if watcher is not None:
            watcher.join(5)
        output = peaks.get("output", "")
        self.runs += 1
        if self.logs is not None:
            self.logs.mkdir(parents=True, exist_ok=True)
            (self.logs / f"{self.runs:03d}-{Path(label).stem}.log").write_text(output)
        run = Run(round(seconds, 3), process.returncode, requests_by_route(sandbox.counters()), output=output)
        if usage is not None:
            run.cpu_seconds = round(usage.ru_utime + usage.ru_stime, 3)
        if module:
            run.controller_mib = _mib(peaks.get("controller"))
            sizes = [int(line) for line in self.rss_file.read_text().split()] if self.rss_file.exists() else []
            run.module_mib = _mib(max(sizes) if sizes else None)
        elif usage is not None:
            run.controller_mib = _mib(usage.ru_maxrss)
        return run


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _watch_controller(root: int, done: threading.Event, peaks: dict) -> None:
    """The highest VmHWM of ansible-playbook and its forked workers (not of the module they start, which runs
    another program: the interpreter wrapper measures it exactly)."""
    while not done.is_set():
        pending = [root]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    command = handle.read()
                with open(f"/proc/{pid}/status") as handle:
                    status = handle.read()
            except OSError:
                continue
            if b"ansible-playbook" not in command:
                continue  # the shell and the module under it
            match = re.search(r"VmHWM:\s+(\d+)", status)
            if match:
                peaks["controller"] = max(peaks.get("controller", 0), int(match.group(1)))
            pending.extend(_children(pid))
        time.sleep(0.02)


def fresh_sandbox(bcrypt_cost: int) -> SandboxProcess:
    return SandboxProcess(extra_args=["--bcrypt-cost", str(bcrypt_cost)], start_timeout=60)


def server_total(sandbox: SandboxProcess, path: str) -> int:
    return sandbox.api("GET", "/" + path, params={"per_page": 1}).json()["meta"]["total"]


def summary(values: list) -> dict:
    """Median and spread (min, max) of the figures that are not None."""
    values = [value for value in values if value is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(stat: dict, unit: str = " s", digits: int = 2) -> str:
    if stat["median"] is None:
        return "-"
    if stat["n"] == 1:
        return f"{stat['median']:.{digits}f}{unit}"
    return f"{stat['median']:.{digits}f}{unit} ({stat['min']:.{digits}f} to {stat['max']:.{digits}f})"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    import platform

    import ansible

    return (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, ansible-core {ansible.__version__}")


def temporary_dir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix)
