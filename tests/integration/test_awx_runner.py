"""The AWX / AAP credential type (extensions/awx/credential_type.yml), applied the way AWX applies it.

AWX runs a job through ansible-runner: it renders each of the credential type's ``injectors``
templates with the credential's inputs (Jinja2 ``ImmutableSandboxedEnvironment``, default
``Undefined`` so an input left empty renders as ``""``; ``file`` templates become 0600 files under
the private data dir's ``env/`` whose paths are ``tower.filename[.<name>]``), writes the resulting
environment to ``<private_data_dir>/env/envvars`` and calls ``ansible_runner.run``. This test does
the same with ``playbooks/token.yml`` against a real pm_sandbox, then checks on the server's
counters that a token was issued and the users were listed, and that no secret is in the runner's
stdout, events or job-event artifacts.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pm_integration import (
    COLLECTIONS_ROOT,
    REPO_ROOT,
    LeakGuard,
    PlaybookRun,
    sandbox_secrets,
)
from pm_sandbox.testing import SandboxProcess

ansible_runner = pytest.importorskip("ansible_runner")

CREDENTIAL_TYPE = REPO_ROOT / "extensions" / "awx" / "credential_type.yml"
PLAYBOOK = REPO_ROOT / "playbooks" / "token.yml"


def load_credential_type() -> dict[str, Any]:
    return yaml.safe_load(CREDENTIAL_TYPE.read_text())


def inject(credential_type: dict[str, Any], inputs: dict[str, Any], private_data_dir: Path) -> dict[str, str]:
    """What AWX's CredentialType.inject_credential does for ``file`` and ``env`` injectors."""
    namespace: dict[str, Any] = dict(inputs)
    for field in credential_type["inputs"]["fields"]:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False  # AWX: a missing boolean is False
    tower = SimpleNamespace()
    namespace["tower"] = tower
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    sandbox_env = ImmutableSandboxedEnvironment()
    injectors = credential_type["injectors"]
    for label, template in injectors.get("file", {}).items():
        fd, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(fd, "w") as handle:
            handle.write(sandbox_env.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not isinstance(getattr(tower, "filename", None), SimpleNamespace):
                tower.filename = SimpleNamespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
    return {name: sandbox_env.from_string(template).render(**namespace) for name, template in injectors["env"].items()}


def test_credential_type_shape() -> None:
    """Every injector uses declared inputs; secrets are marked secret; the env is PM_* only."""
    credential_type = load_credential_type()
    assert set(credential_type) >= {"name", "kind", "description", "inputs", "injectors"}
    assert credential_type["kind"] == "cloud"
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    assert len(fields) == len(credential_type["inputs"]["fields"]), "duplicate input ids"
    assert set(credential_type["inputs"]["required"]) <= set(fields)
    for field in fields.values():
        assert field["type"] in {"string", "boolean"} and field.get("label"), field
    assert {name for name, field in fields.items() if field.get("secret")} == {"client_secret", "password", "access_token"}
    env = credential_type["injectors"]["env"]
    assert all(name.startswith("PM_") for name in env)
    assert {"PM_URL", "PM_CLIENT_ID", "PM_CLIENT_SECRET", "PM_USERNAME", "PM_PASSWORD", "PM_TOKEN"} <= set(env)
    # The option table reads these variables; an injector for a variable nobody reads would be a bug.
    options_py = (REPO_ROOT / "plugins" / "module_utils" / "options.py").read_text()
    for name in env:
        assert f'"{name}"' in options_py, f"{name} is not an environment variable of the collection's options"


def test_empty_inputs_render_empty(tmp_path: Path) -> None:
    """Inputs left empty render as "", which the collection treats as unset; no CA file is pointed to."""
    env = inject(load_credential_type(), {"url": "https://pm.example.com"}, tmp_path)
    assert env["PM_URL"] == "https://pm.example.com"
    assert {value for name, value in env.items() if name != "PM_URL"} == {""}


def test_ca_cert_becomes_a_private_file(tmp_path: Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    env = inject(load_credential_type(), {"url": "https://pm.example.com", "ca_cert": pem}, tmp_path)
    path = Path(env["PM_CA_PATH"])
    assert path.parent == tmp_path / "env" and path.read_text() == pem
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_token_playbook_through_ansible_runner(sandbox: SandboxProcess, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, leak_guard: LeakGuard) -> None:
    sandbox.reset()
    for name in [name for name in os.environ if name.startswith("PM_")]:
        monkeypatch.delenv(name)  # only the credential may say where and who
    creds = sandbox.credentials
    inputs = {
        "url": creds["url"],
        "client_id": creds["password_client"]["client_id"],
        "client_secret": creds["password_client"]["client_secret"],
        "username": creds["admin"]["username"],
        "password": creds["admin"]["password"],
        "validate_certs": "true",
    }

    private_data_dir = tmp_path / "awx-job"
    (private_data_dir / "project").mkdir(parents=True)
    (private_data_dir / "project" / "token.yml").write_text(PLAYBOOK.read_text())
    (private_data_dir / "inventory").mkdir()
    (private_data_dir / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    injected = inject(load_credential_type(), inputs, private_data_dir)
    job_env = {
        # What AWX sets for every job: its collections path (the project's installed collections)
        # and the interpreter of the execution environment.
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
        "ANSIBLE_CONFIG": str(REPO_ROOT / "tools" / "ansible.cfg"),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_NOCOLOR": "1",
        "PM_TOKEN_CACHE_DIR": str(tmp_path / "token-cache"),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    (private_data_dir / "env" / "envvars").write_text(yaml.safe_dump({**job_env, **injected}))

    result = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook="token.yml",
        inventory=str(private_data_dir / "inventory" / "hosts"),
        verbosity=3,
        quiet=True,
        ident="job-1",
        timeout=300,
    )
    stdout = result.stdout.read()
    events = list(result.events)
    artifacts = private_data_dir / "artifacts" / "job-1"
    job_events = "\n".join(path.read_text() for path in sorted((artifacts / "job_events").glob("*.json")))

    # The leak guard checks the sandbox's secrets, token shapes and anything added here.
    for name in ("client_secret", "password"):  # the credential type's secret inputs that are set
        leak_guard.add(inputs[name], f"credential input {name}")
    for label, text in (("runner stdout", stdout), ("runner events", json.dumps(events)), ("job_events", job_events)):
        leak_guard.record(f"ansible-runner {label}", PlaybookRun(result.rc or 0, text, "", ["ansible-playbook", "-vvv"]))
    for secret in (inputs["client_secret"], inputs["password"], *sandbox_secrets(sandbox)):
        assert secret not in stdout and secret not in job_events

    assert result.status == "successful", stdout[-3000:]
    assert result.rc == 0
    assert result.stats["ok"].get("localhost", 0) >= 4 and not result.stats["failures"]
    counters = sandbox.counters()
    assert counters["tokens_issued"] == {"password": 1}
    assert counters["requests"]["GET /api/1.0/users"] == 1
    assert "GET /users answered 200 with 1 user(s): admin" in stdout
    # The credential, not the test's environment, reached the play: the task that read PM_* ran.
    assert any(event.get("event") == "runner_on_ok" and event["event_data"].get("task", "").startswith("Step 3")
               for event in events)
