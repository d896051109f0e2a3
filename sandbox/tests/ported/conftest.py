"""Fixtures of the ported ProcessMaker feature tests: the session's sandbox back to its seed for each test."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from php_port import Client, Factory


@dataclass
class PM:
    """What a ProcessMaker feature test has: ``apiCall`` as the administrator ``$this->user``, the
    factories, and the sandbox itself."""

    sandbox: SandboxProcess
    api: Client
    factory: Factory

    @property
    def admin_id(self) -> int:
        return int(self.sandbox.credentials["admin"]["id"])


@pytest.fixture
def pm(sandbox: SandboxProcess) -> PM:
    sandbox.reset()
    return PM(sandbox, Client(sandbox), Factory(sandbox))
