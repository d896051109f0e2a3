"""Modules and module_utils run on the managed node's Python, which may be 3.9: import them and run
the pure logic under the oldest Python found here (skipped when there is none)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import ansible
import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO / "tests" / "output" / "collections"


def oldest_python() -> str | None:
    """A working python3.9 (or 3.10): on PATH or under pyenv (whose shims may not run)."""
    for version in ("3.9", "3.10"):
        candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")))
        candidates += [found for found in [shutil.which(f"python{version}")] if found]
        for candidate in candidates:
            probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, timeout=30, check=False)
            if probe.returncode == 0:
                return candidate
    return None


PYTHON = oldest_python()

SMOKE = textwrap.dedent(
    """
    import sys
    assert sys.version_info < (3, 11), sys.version
    from ansible_collections.processmaker.core.plugins.module_utils import (
        auth, client, errors, module, options, packages, pagination, personal_tokens, pkce, redaction, retry,
        token_store, tokens, transport)
    from ansible_collections.processmaker.core.plugins.module_utils.resource import (
        converge, executor, kinds, model, planner)
    from ansible_collections.processmaker.core.plugins.modules import pm_api, pm_package, pm_resource, pm_token

    opts = options.resolve_connection({"url": "https://pm.example.com", "username": "u", "password": "p",
                                       "client_id": "2"}, {"url", "username", "password", "client_id"}, {})
    assert opts.grant_type == "password" and opts.api_base_url == "https://pm.example.com/api/1.0"
    assert pkce.s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    token = tokens.Token("a", expires_at=1777636800.5, obtained_at=1777633200.5)
    assert token.to_result(now=1777633200.5)["expires_at"] == "2026-05-01T12:00:00.500000Z"
    assert tokens.parse_iso8601("2025-01-31T12:34:56.000000Z") == 1738326896.0
    error = errors.error_from_response(422, "application/json", b'{"message": "bad", "errors": {"a": ["x"]}}',
                                       method="POST", url="https://pm.example.com/api/1.0/users")
    assert "a: x" in str(error)
    assert retry.RetryPolicy(rand=lambda: 1.0).next_delay(1, 0) == 0.5
    assert pagination.total_pages({"total": 25, "per_page": 10}) == 3
    assert redaction.Redactor(["p@ss word"])("x p%40ss+word y") == "x ******** y"
    entries = converge.entries_from({"config": {"groups": [{"name": "Ops"}], "users": None}, "state": "present",
                                     "purge": False, "update_secrets": "on_create"})
    assert [entry.kind.name for entry in entries] == ["groups"]
    print("ok", sys.version_info[:2])
    """
)


@pytest.mark.skipif(PYTHON is None, reason="no Python 3.9 or 3.10 on this machine")
def test_module_side_code_runs_on_old_python(tmp_path):
    # only ansible itself goes on the path: the controller's other packages may not support 3.9
    (tmp_path / "ansible").symlink_to(Path(ansible.__file__).parent)
    env = {"PYTHONPATH": f"{COLLECTIONS_ROOT}{os.pathsep}{tmp_path}", "PATH": os.environ.get("PATH", "")}
    done = subprocess.run([PYTHON, "-c", SMOKE], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
