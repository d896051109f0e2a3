"""Fixtures: one real pm_sandbox process per test session, reset to its seed where a test needs it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pm_sandbox.testing import SandboxProcess

REFERENCE_DIR = os.environ.get(
    "PM_REFERENCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "reference")
)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture
def clean_sandbox(sandbox: SandboxProcess) -> SandboxProcess:
    """The shared sandbox, back to its seeded state, counters zeroed, no faults."""
    sandbox.reset()
    return sandbox
