"""Start and stop a real pm_sandbox process from tests (ours and our users').

    with SandboxProcess(extra_args=["--token-ttl", "3"]) as sandbox:
        requests.get(sandbox.api_url + "/users", headers=sandbox.admin_headers())

Uses only the standard library and ``requests`` so it can run from any test suite.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from typing import Self  # Python 3.11+; only read by type checkers here


class SandboxProcess:
    def __init__(
        self,
        extra_args: list[str] | None = None,
        *,
        workdir: str | None = None,
        python: str = sys.executable,
        start_timeout: float = 20.0,
    ) -> None:
        self.extra_args = list(extra_args or [])
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="pm-sandbox-test-"))
        self.python = python
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.credentials: dict[str, Any] = {}
        self._admin_token: str | None = None

    # lifecycle
    def start(self) -> SandboxProcess:
        credentials = self.workdir / "credentials.json"
        credentials.unlink(missing_ok=True)
        args = [
            self.python, "-m", "pm_sandbox", "serve", "--port", "0",
            "--db", str(self.workdir / "sandbox.sqlite"),
            "--credentials", str(credentials),
            "--token-rate-limit", "0",
            *self.extra_args,
        ]
        self.log_path = self.workdir / "sandbox.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pm-sandbox exited with {self.process.returncode}: {self.log_text()}")
            if credentials.exists():
                self.credentials = json.loads(credentials.read_text())
                if self._healthy():
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pm-sandbox did not start within {self.start_timeout}s: {self.log_text()}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._own_dir:  # the temporary folder holds the database and the credentials (secrets)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def _healthy(self) -> bool:
        try:
            return self.session().get(self.url + "/_sandbox/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    # convenience
    @property
    def url(self) -> str:
        return self.credentials["url"]

    @property
    def api_url(self) -> str:
        return self.credentials["api_url"]

    @property
    def token_url(self) -> str:
        return self.credentials["token_url"]

    @property
    def credentials_path(self) -> Path:
        return self.workdir / "credentials.json"

    def session(self) -> requests.Session:
        """A session that trusts ``<workdir>/ca.pem`` and presents ``<workdir>/client.pem`` (with
        ``client.key``) when those files exist, for a sandbox served with --tls-cert / --tls-client-ca."""
        session = requests.Session()
        ca = self.workdir / "ca.pem"
        if ca.exists():
            session.verify = str(ca)
            session.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, replaces session.verify
        client_cert, client_key = self.workdir / "client.pem", self.workdir / "client.key"
        if client_cert.exists():
            session.cert = (str(client_cert), str(client_key)) if client_key.exists() else str(client_cert)
        return session

    def operator(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {self.credentials["operator_header"]: self.credentials["operator_key"]}
        return self.session().request(method, self.url + "/_sandbox" + path, headers=headers, timeout=10, **kwargs)

    def counters(self) -> dict[str, Any]:
        response = self.operator("GET", "/counters")
        response.raise_for_status()
        return response.json()

    def reset_counters(self) -> None:
        self.operator("DELETE", "/counters").raise_for_status()

    def set_faults(self, rules: list[dict[str, Any]], seed: int | None = None) -> None:
        self.operator("PUT", "/faults", json={"rules": rules, "seed": seed}).raise_for_status()

    def clear_faults(self) -> None:
        self.operator("DELETE", "/faults").raise_for_status()

    def reset(self) -> None:
        self.operator("POST", "/reset").raise_for_status()
        self._admin_token = None

    def password_token(self, username: str | None = None, password: str | None = None) -> dict[str, Any]:
        client = self.credentials["password_client"]
        response = self.session().post(
            self.token_url,
            data={
                "grant_type": "password",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "username": username or self.credentials["admin"]["username"],
                "password": password or self.credentials["admin"]["password"],
            },
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def admin_token(self) -> str:
        if self._admin_token is None:
            self._admin_token = self.password_token()["access_token"]
        return self._admin_token

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token()}", "Accept": "application/json"}

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token or self.admin_token()}"}
        headers.update(kwargs.pop("headers", {}))
        return self.session().request(method, self.api_url + path, headers=headers, timeout=30, **kwargs)
