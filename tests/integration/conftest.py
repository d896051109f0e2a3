"""Integration fixtures: a real pm_sandbox process and a way to run real ansible-playbook against it.

The helpers live in ``pm_integration.py`` and ``tools/approve_in_browser.py`` (importable by the test
modules: this conftest puts both directories on ``sys.path``); the fixtures are here:

- ``sandbox`` (session): a real pm_sandbox process; ``clean_sandbox`` resets it (seeded state,
  counters zeroed, faults off); ``short_ttl_sandbox`` (session): a second one with ``--token-ttl 3``.
- ``leak_guard`` (autouse): every ansible-playbook run of the test (always ``-vvv``) is checked,
  when the test ends, for the secrets involved (see ``LeakGuard``).
- ``pb`` / ``short_pb``: a ``Runner`` that writes small plays into the test's tmp dir and runs them
  against the sandbox with ``PM_*`` environment variables and a private token cache.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # pm_integration, the helpers
sys.path.insert(0, str(HERE.parents[1] / "tools"))  # approve_in_browser, the person of the code flow

from pm_integration import (
    COLLECTIONS_ROOT,
    REPO_ROOT,
    SANDBOXES,
    LeakGuard,
    PlaybookRun,
    Runner,
    run_playbook,
    sandbox_env,
)
from pm_sandbox.testing import SandboxProcess

__all__ = ["COLLECTIONS_ROOT", "REPO_ROOT", "PlaybookRun", "run_playbook", "sandbox_env"]


@pytest.fixture(autouse=True)
def leak_guard() -> Iterator[LeakGuard]:
    guard = LeakGuard()
    LeakGuard.active.append(guard)
    try:
        yield guard
    finally:
        LeakGuard.active.remove(guard)
    guard.check()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        SANDBOXES.append(process)
        yield process


@pytest.fixture
def clean_sandbox(sandbox: SandboxProcess) -> SandboxProcess:
    sandbox.reset()
    return sandbox


@pytest.fixture(scope="session")
def short_ttl_sandbox() -> Iterator[SandboxProcess]:
    """A second sandbox whose access tokens live 3 seconds."""
    with SandboxProcess(extra_args=["--token-ttl", "3"]) as process:
        SANDBOXES.append(process)
        yield process


@pytest.fixture
def pb(sandbox: SandboxProcess, tmp_path: Path, leak_guard: LeakGuard) -> Runner:
    return Runner(sandbox, tmp_path, leak_guard)


@pytest.fixture
def short_pb(short_ttl_sandbox: SandboxProcess, tmp_path: Path, leak_guard: LeakGuard) -> Runner:
    return Runner(short_ttl_sandbox, tmp_path, leak_guard)
