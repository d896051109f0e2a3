"""Integration fixtures: a real pm_sandbox process and a way to run real ansible-playbook against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pm_sandbox.testing import SandboxProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO_ROOT / "tests" / "output" / "collections"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def recap(self) -> dict[str, int]:
        """ok/changed/failed... of the localhost line in PLAY RECAP."""
        for line in self.stdout.splitlines()[::-1]:
            if line.startswith("localhost") and "ok=" in line:
                return {key: int(value) for key, value in (part.split("=") for part in line.split()[2:])}
        return {}


def sandbox_env(sandbox: SandboxProcess, *, client: str = "password_client") -> dict[str, str]:
    creds = sandbox.credentials
    return {
        "PM_URL": creds["url"],
        "PM_CLIENT_ID": creds[client]["client_id"],
        "PM_CLIENT_SECRET": creds[client]["client_secret"],
        "PM_USERNAME": creds["admin"]["username"],
        "PM_PASSWORD": creds["admin"]["password"],
    }


def run_playbook(
    playbook: str | Path,
    *,
    env: dict[str, str] | None = None,
    extra_vars: dict[str, Any] | None = None,
    args: list[str] | None = None,
    verbosity: int = 3,
    inventory: str | None = None,
    tmp_path: Path | None = None,
    timeout: int = 600,
) -> PlaybookRun:
    """Run ansible-playbook for real; -vvv by default so every run is also a leak check."""
    full_env = dict(os.environ)
    full_env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
            "ANSIBLE_CONFIG": str(REPO_ROOT / "tools" / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str((tmp_path or REPO_ROOT / "tests" / "output") / "ansible-local"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        }
    )
    full_env.update(env or {})
    command = [ANSIBLE_PLAYBOOK, str(playbook)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    if inventory:
        command += ["-i", inventory]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    command += args or []
    completed = subprocess.run(
        command, env=full_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return PlaybookRun(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture
def clean_sandbox(sandbox: SandboxProcess) -> SandboxProcess:
    sandbox.reset()
    return sandbox
