"""Helpers of the integration tests: running ansible-playbook for real, and checking for leaks.

Every run goes through ``run_playbook`` (``ansible-playbook -vvv``) or ``run_playbook_in_terminal``
(on a pseudo-terminal, for ``pause`` prompts), and every test has a ``LeakGuard`` (autouse fixture)
that, when the test ends, checks the output of every run it made for the secrets involved: the
sandboxes' admin password, client secrets and operator key, anything a test declares with
``leak_guard.add(...)``, the tokens plays saved to ``secrets_dir`` (files written with mode 0600 by
a ``no_log`` task, see ``keep_secret``), the tokens in the lookups' token cache, and anything
shaped like a ProcessMaker JWT or an opaque refresh token / authorization code.

Tests write small playbooks with the ``pb`` fixture (``Runner``): it points the plays at a
sandbox through ``PM_*`` environment variables, gives them ``secrets_dir`` and ``results_dir``
variables and a private token cache, and reads back what they saved.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import yaml
from pm_sandbox.testing import SandboxProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO_ROOT / "tests" / "output" / "collections"
OUTPUT_DIR = REPO_ROOT / "tests" / "output"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
PYTHON = sys.executable


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str
    command: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def recap(self, host: str = "localhost") -> dict[str, int]:
        """ok/changed/failed... of one host's line in PLAY RECAP."""
        for line in self.stdout.splitlines()[::-1]:
            if line.startswith(host + " ") and "ok=" in line:
                return {key: int(value) for key, value in (part.split("=") for part in line.split()[2:])}
        return {}

    def warnings(self) -> list[str]:
        """The ``[WARNING]: ...`` messages, one string each.

        ansible-core 2.17 wraps a warning at the terminal width (79 columns without a terminal, COLUMNS
        is not read) into lines of its own, breaking at spaces: a line on stderr after a warning's that
        is not blank and starts no new message (``[WARNING]``, ``[ERROR]``...) continues it.
        """
        messages: list[str] = []
        open_message = False
        for line in self.stderr.splitlines() + [""] + self.stdout.splitlines():
            if line.startswith("[WARNING]"):
                messages.append(line.rstrip())
                open_message = True
            elif open_message and line.strip() and not line.startswith("["):
                messages[-1] += " " + line.strip()
            else:
                open_message = False
        return messages

    def tail(self, lines: int = 60) -> str:
        """The end of the output for assertion messages, with known secrets and token shapes masked."""
        text = "\n".join(self.output.splitlines()[-lines:])
        for sandbox in SANDBOXES:
            if sandbox.credentials:
                for value in sandbox_secrets(sandbox):
                    text = text.replace(value, "<secret>")
        return OPAQUE_PATTERN.sub("<opaque>", JWT_PATTERN.sub("<jwt>", text))


def sandbox_env(sandbox: SandboxProcess, *, client: str = "password_client") -> dict[str, str]:
    creds = sandbox.credentials
    return {
        "PM_URL": creds["url"],
        "PM_CLIENT_ID": creds[client]["client_id"],
        "PM_CLIENT_SECRET": creds[client]["client_secret"],
        "PM_USERNAME": creds["admin"]["username"],
        "PM_PASSWORD": creds["admin"]["password"],
    }


def _base_env(env: dict[str, str | None] | None, tmp_path: Path | None) -> dict[str, str]:
    # PM_* variables of the developer's shell must not reach the plays: tests say what they set.
    full_env = {key: value for key, value in os.environ.items() if not key.startswith("PM_")}
    full_env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
            "ANSIBLE_CONFIG": str(REPO_ROOT / "tools" / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str((tmp_path or OUTPUT_DIR) / "ansible-local"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            # results printed as JSON, not tools/ansible.cfg's YAML: a string is never folded across lines (the leak
            # guard reads the output), and it costs ~9% less CPU at -vvv
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            # save_test_result: the tests' own action (a result to a 0600 file, in-process; copy costs ~1 s of CPU)
            "ANSIBLE_ACTION_PLUGINS": str(Path(__file__).with_name("action_plugins")),
        }
    )
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)  # None unsets
        else:
            full_env[key] = value
    return full_env


def _command(playbook: str | Path, verbosity: int, inventory: str | None, extra_vars: dict | None,
             args: list[str] | None) -> list[str]:
    command = [ANSIBLE_PLAYBOOK, str(playbook)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    if inventory:
        command += ["-i", inventory]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    return command + (args or [])


def run_playbook(
    playbook: str | Path,
    *,
    env: dict[str, str | None] | None = None,
    extra_vars: dict[str, Any] | None = None,
    args: list[str] | None = None,
    verbosity: int = 3,
    inventory: str | None = None,
    tmp_path: Path | None = None,
    timeout: int = 600,
) -> PlaybookRun:
    """Run ansible-playbook for real; -vvv by default so every run is also a leak check."""
    command = _command(playbook, verbosity, inventory, extra_vars, args)
    completed = subprocess.run(
        command, check=False, env=_base_env(env, tmp_path), cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    run = PlaybookRun(completed.returncode, completed.stdout, completed.stderr, command)
    _recorded(playbook, run, tmp_path)
    return run


def _recorded(playbook: str | Path, run: PlaybookRun, tmp_path: Path | None) -> None:
    """Hand the run to the leak check, and keep its output in the test's tmp dir for reading after a failure."""
    LeakGuard.record_everywhere(str(playbook), run)
    if tmp_path is not None:
        logs = sorted(tmp_path.glob("*.log"))
        (tmp_path / f"{len(logs) + 1:02d}-{Path(playbook).stem}.log").write_text(run.output)


def run_playbook_in_terminal(
    playbook: str | Path,
    *,
    respond: Callable[[str], str | None],
    env: dict[str, str | None] | None = None,
    extra_vars: dict[str, Any] | None = None,
    verbosity: int = 3,
    tmp_path: Path | None = None,
    timeout: float = 300,
) -> PlaybookRun:
    """Run ansible-playbook on a pseudo-terminal, like a person would, for ``pause`` prompts.

    ``respond(output_so_far)`` is called whenever output arrives until it returns a line to type
    (once); the line is typed followed by Enter. The terminal's echo of that line is removed from
    the transcript (a terminal is not a log); any other appearance of it stays, for the leak check.
    """
    import pty

    master, slave = pty.openpty()

    def controlling_terminal() -> None:  # pause needs stdin to be our terminal
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    command = _command(playbook, verbosity, None, extra_vars, None)
    process = subprocess.Popen(
        command, env=_base_env(env, tmp_path), cwd=REPO_ROOT, stdin=slave, stdout=slave, stderr=slave,
        close_fds=True, preexec_fn=controlling_terminal,  # noqa: PLW1509 - no threads here
    )
    os.close(slave)
    chunks: list[bytes] = []
    answered = False
    typed = ""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
                if not answered:
                    answer = respond(b"".join(chunks).decode("utf-8", "replace"))
                    if answer is not None:
                        time.sleep(0.2)
                        os.write(master, answer.encode() + b"\r")
                        answered, typed = True, answer
            elif process.poll() is not None:
                break
        else:
            process.kill()
        process.wait(timeout=30)
    finally:
        os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    if typed:
        # what the person typed, echoed by their terminal, is not output; anything else showing it is
        text = text.replace(typed, "<typed>", 1)
    run = PlaybookRun(process.returncode, text, "", command)
    _recorded(playbook, run, tmp_path)
    return run


# ---------------------------------------------------------------------------------------------
# Leak checks

SECRET_KEYS = frozenset(
    ("access_token", "refresh_token", "code_verifier", "code", "callback_url", "client_secret", "password",
     "user_input", "stdout", "token", "value")
)
# A JWT (ProcessMaker access tokens and PATs) and defuse-encrypted refresh tokens / authorization codes.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
OPAQUE_PATTERN = re.compile(r"def50200[0-9a-fA-F]{64,}")
SANDBOXES: list[SandboxProcess] = []


def sandbox_secrets(sandbox: SandboxProcess) -> dict[str, str]:
    creds = sandbox.credentials
    secrets = {creds["admin"]["password"]: "admin password", creds["operator_key"]: "sandbox operator key"}
    for client in ("password_client", "authorization_code_client", "personal_access_client"):
        secrets[creds[client]["client_secret"]] = f"{client} secret"
    return secrets


def wire_forms(secret: str) -> dict[str, str]:
    """Each way a secret travels and so may be echoed back by a careless server or proxy (written here
    independently of the collection's own masking): percent-encoded (upper and lower case hex, with and
    without "/" kept, "+" for spaces), JSON-escaped (PHP escapes "/" too), and base64 (alone, and as
    HTTP Basic credentials with each sandbox client id)."""
    forms = {
        "literal": secret,
        "percent-encoded": quote(secret, safe=""),
        "percent-encoded, lower case": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe="")),
        "form-encoded": quote_plus(secret),
        "JSON-escaped": json.dumps(secret)[1:-1],
        "JSON-escaped by PHP": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "base64": base64.b64encode(secret.encode()).decode(),
    }
    for sandbox in SANDBOXES:
        for client in ("password_client", "authorization_code_client", "personal_access_client"):
            client_id = str((sandbox.credentials or {}).get(client, {}).get("client_id", ""))
            if client_id:
                forms[f"Basic credentials of client {client_id}"] = base64.b64encode(
                    f"{client_id}:{secret}".encode()).decode()
    return {name: form for name, form in forms.items() if len(form) >= 6}


def _walk_secrets(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _walk_secrets(child, str(child_key))
    elif isinstance(value, list):
        for child in value:
            yield from _walk_secrets(child, key)
    elif isinstance(value, str):
        if key in SECRET_KEYS and len(value) >= 8:
            yield value.strip()
        yield from JWT_PATTERN.findall(value)
        yield from OPAQUE_PATTERN.findall(value)


class LeakGuard:
    """Collects secrets and playbook outputs during a test; ``check()`` fails on any leak."""

    active: ClassVar[list[LeakGuard]] = []

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.allowed: set[str] = set()
        self.sources: list[Path] = []
        self.runs: list[tuple[str, PlaybookRun]] = []

    @classmethod
    def record_everywhere(cls, label: str, run: PlaybookRun) -> None:
        for guard in cls.active:
            guard.record(label, run)

    def record(self, label: str, run: PlaybookRun) -> None:
        self.runs.append((label, run))

    def add(self, value: Any, label: str = "secret") -> None:
        if value is not None and len(str(value).strip()) >= 6:
            self.secrets[str(value).strip()] = label

    def allow(self, value: str) -> None:
        """A value the test prints on purpose."""
        self.allowed.add(value.strip())

    def watch(self, path: Path) -> None:
        """A file or directory whose secrets (JSON: secret keys and token shapes; text: all of it) count."""
        self.sources.append(path)

    def _collect(self) -> dict[str, str]:
        secrets = {}
        for sandbox in SANDBOXES:
            if sandbox.credentials:
                secrets.update(sandbox_secrets(sandbox))
        secrets.update(self.secrets)
        for source in self.sources:
            files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
            for path in files:
                try:
                    text = path.read_text(errors="replace")
                except OSError:
                    continue
                try:
                    found = list(_walk_secrets(json.loads(text)))
                except ValueError:
                    found = [text.strip()]
                for value in found:
                    if len(value) >= 8:
                        secrets.setdefault(value, f"secret from {path.name}")
        return {value: label for value, label in secrets.items() if value not in self.allowed}

    def leaks(self) -> list[str]:
        secrets = self._collect()
        forms = {form: (what, encoding) for value, what in secrets.items()
                 for encoding, form in wire_forms(value).items()}
        problems = []
        for label, run in self.runs:
            output = run.output
            for value, (what, encoding) in forms.items():
                if value in output:
                    line = output[: output.index(value)].count("\n") + 1
                    problems.append(f"{label}: the {what} appears in the output ({encoding}, line {line})")
            for pattern, what in ((JWT_PATTERN, "a JWT access token"), (OPAQUE_PATTERN, "an opaque refresh token/code")):
                for match in pattern.finditer(output):
                    if not any(match.group(0) in allowed or allowed in match.group(0) for allowed in self.allowed):
                        line = output[: match.start()].count("\n") + 1
                        problems.append(f"{label}: {what} appears in the output (line {line})")
                        break
            if len(run.command) > 1 and "-vvv" not in run.command:
                problems.append(f"{label}: not run with -vvv")
        return problems

    def check(self) -> None:
        problems = self.leaks()
        assert not problems, "secrets leaked (values not shown):\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Writing and running small playbooks


def keep_secret(var: str, name: str | None = None) -> str:
    """A no_log task (one line of flow YAML) that saves a registered result to secrets_dir, mode 0600,
    for the test to read and the leak check to look for."""
    return (
        f'- {{name: "Keep {var} for the test and the leak check (0600, never printed)", no_log: true, check_mode: false,'
        f' save_test_result: {{content: "{{{{ {var} | to_json }}}}", dest: "{{{{ secrets_dir }}}}/{name or var}.json"}}}}'
    )


def save_result(var: str, name: str | None = None) -> str:
    """A task (one line of flow YAML) that saves a registered result holding no secret to results_dir."""
    return (
        f'- {{name: "Save {var} for the test", check_mode: false, save_test_result: {{content: "{{{{ {var} | to_json }}}}",'
        f' dest: "{{{{ results_dir }}}}/{name or var}.json"}}}}'
    )


def assert_clean_failure(outcome: dict, *needles: str) -> str:
    """A failed task result: one line, no traceback, and it says what the needles say."""
    assert outcome.get("failed") is True, outcome
    message = outcome.get("msg")
    assert isinstance(message, str) and message.strip(), outcome
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    # ansible-core 2.19 adds exception="(traceback unavailable)" to failures at -vvv; a crash has a traceback
    assert "Traceback" not in message and "Traceback" not in str(outcome.get("exception", "")), outcome
    for needle in needles:
        assert needle.lower() in message.lower(), f"{needle!r} not in {message!r}"
    return message


class Runner:
    """Writes plays into the test's tmp dir and runs them against a sandbox."""

    def __init__(self, sandbox: SandboxProcess, tmp_path: Path, guard: LeakGuard) -> None:
        self.sandbox = sandbox
        self.tmp = tmp_path
        self.guard = guard
        self.secrets_dir = tmp_path / "secrets"
        self.results_dir = tmp_path / "results"
        self.cache_dir = tmp_path / "token-cache"
        self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        self.results_dir.mkdir(mode=0o700, exist_ok=True)
        guard.watch(self.secrets_dir)
        guard.watch(self.cache_dir)
        self._count = 0

    def env(self, client: str = "password_client", **overrides: str | None) -> dict[str, str | None]:
        env: dict[str, str | None] = dict(sandbox_env(self.sandbox, client=client))
        env["PM_TOKEN_CACHE_DIR"] = str(self.cache_dir)
        env.update(overrides)
        return env

    def write(self, text: str, name: str | None = None) -> Path:
        self._count += 1
        path = self.tmp / (name or f"play{self._count}.yml")
        path.write_text(textwrap.dedent(text))
        yaml.safe_load(path.read_text())  # a test's own YAML mistakes fail here, clearly
        return path

    def extra(self, extra_vars: dict | None) -> dict:
        return {"secrets_dir": str(self.secrets_dir), "results_dir": str(self.results_dir), **(extra_vars or {})}

    def play(self, text: str, *, env: dict | None = None, extra_vars: dict | None = None, args: list[str] | None = None,
             inventory: str | None = None, name: str | None = None) -> PlaybookRun:
        return self.run(self.write(text, name), env=env, extra_vars=extra_vars, args=args, inventory=inventory)

    def run(self, playbook: Path | str, *, env: dict | None = None, extra_vars: dict | None = None,
            args: list[str] | None = None, inventory: str | None = None) -> PlaybookRun:
        return run_playbook(playbook, env=self.env() if env is None else env, extra_vars=self.extra(extra_vars),
                            args=args, inventory=inventory, tmp_path=self.tmp)

    def result(self, name: str) -> Any:
        return json.loads((self.results_dir / f"{name}.json").read_text())

    def secret(self, name: str) -> Any:
        return json.loads((self.secrets_dir / f"{name}.json").read_text())


# ansible-core 2.17 logs, at -vvv, the traceback of every error a lookup raises, AnsibleErrors raised
# on purpose (a clean failure) included; those are not crashes.
LOOKUP_ERROR_TRACEBACK = re.compile(
    r"exception during Jinja2 execution: Traceback \(most recent call last\):\n(?:  .*\n)+"
    r"ansible\.errors\.Ansible\w*Error: .*"
)


def unexpected_traceback(output: str) -> bool:
    return "Traceback" in LOOKUP_ERROR_TRACEBACK.sub("", output)


def ok(run: PlaybookRun) -> PlaybookRun:
    """Assert the playbook succeeded (with the end of its output when it did not)."""
    assert run.returncode == 0, run.tail()
    assert not unexpected_traceback(run.output), run.tail()
    return run


def served(counters: dict, route: str) -> int:
    """Requests the sandbox served for ``"METHOD /path/*"`` (route parameters written as ``*``).

    Counter keys name parameters ``{user}`` or ``<tokenId>``; both count as ``*`` here.
    """
    wanted = re.sub(r"[{<][^}>]+[}>]", "*", route)
    return sum(
        count for key, count in counters["requests"].items() if re.sub(r"[{<][^}>]+[}>]", "*", key) == wanted
    )


WRITES = ("POST", "PUT", "DELETE", "PATCH")


def api_writes(counters: dict) -> dict:
    """The writes the sandbox served through the API (and ProcessMaker's auth client web routes)."""
    return {key: count for key, count in counters["requests"].items()
            if key.split(" ", 1)[0] in WRITES and (" /api/" in key or " /oauth/clients" in key)}
