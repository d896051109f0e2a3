"""The sandbox as a process: start-up, signals, the credentials file, CLI safety checks, TLS,
body limits, restarts on the same database, and the answers for unknown paths and methods.

Each test here that needs special flags starts its own server; the plain HTTP checks use the
session's shared sandbox.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pm_sandbox.testing import SandboxProcess

STARTUP_BOUND_S = 5.0  # generous: the target (< 2 s) is measured and reported by bench/sandbox_throughput.py
STOP_BOUND_S = 5.0


class Server:
    """A ``pm-sandbox serve`` child started by hand, for what SandboxProcess hides (timing, signals)."""

    def __init__(self, workdir: Path, args: list[str]) -> None:
        self.workdir = workdir
        self.credentials_path = workdir / "credentials.json"
        self.log_path = workdir / "server.log"
        self.args = [
            sys.executable, "-m", "pm_sandbox", "serve", "--port", "0",
            "--db", str(workdir / "sandbox.sqlite"), "--credentials", str(self.credentials_path),
            *args,
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.credentials: dict[str, Any] = {}
        self.startup_seconds = 0.0

    def start(self, timeout: float = 20.0, **request_kwargs: Any) -> Server:
        self.credentials_path.unlink(missing_ok=True)
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}: {self.log()}")
            if self.credentials_path.exists():
                self.credentials = json.loads(self.credentials_path.read_text())
                try:
                    response = requests.get(self.url + "/_sandbox/health", timeout=2, **request_kwargs)
                    if response.status_code == 200:
                        self.startup_seconds = time.monotonic() - started
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.01)
        raise AssertionError(f"server not healthy within {timeout}s: {self.log()}")

    @property
    def url(self) -> str:
        return self.credentials["url"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int, *, group: bool) -> float:
        """Send ``signum`` (to the whole process group when ``group``, like Ctrl-C) and time the exit."""
        assert self.process is not None
        sent = time.monotonic()
        if group:
            os.killpg(self.process.pid, signum)
        else:
            os.kill(self.process.pid, signum)
        self.process.wait(timeout=STOP_BOUND_S + 10)
        return time.monotonic() - sent

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def start(*args: str, name: str = "run", **request_kwargs: Any) -> Server:
        workdir = tmp_path / name
        workdir.mkdir(exist_ok=True)
        server = Server(workdir, list(args))
        servers.append(server)
        return server.start(**request_kwargs)

    yield start
    for server in servers:
        server.kill()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pm_sandbox", "serve", "--port", "0", *args],
        capture_output=True, text=True, timeout=30, check=False,
    )


def assert_clean_log(text: str) -> None:
    assert "Traceback" not in text, text
    assert "[ERROR]" not in text, text
    assert "[WARNING]" not in text, text  # e.g. "Worker (pid:N) was sent SIGKILL!"


# --- start-up and shutdown ---------------------------------------------------------------------


def test_startup_is_quick_and_health_answers(start_server: Any, record_property: Any) -> None:
    server = start_server()
    record_property("startup_seconds", round(server.startup_seconds, 3))
    print(f"start-up (Popen -> /_sandbox/health 200): {server.startup_seconds:.3f} s")
    assert server.startup_seconds < STARTUP_BOUND_S
    response = requests.get(server.url + "/_sandbox/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("signum", "group"),
    [
        pytest.param(signal.SIGTERM, False, id="SIGTERM-to-server"),
        pytest.param(signal.SIGTERM, True, id="SIGTERM-to-process-group"),
        pytest.param(signal.SIGINT, False, id="SIGINT-to-server"),
        pytest.param(signal.SIGINT, True, id="SIGINT-to-process-group-like-ctrl-c"),
    ],
)
def test_signal_stops_cleanly_after_finishing_the_request_in_flight(
    start_server: Any, signum: int, group: bool
) -> None:
    server = start_server()
    key = {"X-Sandbox-Key": server.credentials["operator_key"]}
    requests.put(
        server.url + "/_sandbox/faults",
        json={"rules": [{"route": "GET /api/1.0/*", "latency_ms": [1500, 1500]}]},
        headers=key, timeout=5,
    ).raise_for_status()
    in_flight: dict[str, Any] = {}
    keep_alive = requests.Session()  # the client keeps its connection open after the answer

    def slow_request() -> None:
        try:
            in_flight["response"] = keep_alive.get(server.url + "/api/1.0/users", timeout=10)
        except requests.RequestException as error:  # pragma: no cover - reported by the assert below
            in_flight["error"] = error

    client = threading.Thread(target=slow_request)
    client.start()
    time.sleep(0.5)  # the request is now sleeping in the worker (for 1.5 s)
    took = server.signal(signum, group=group)
    client.join(timeout=10)
    keep_alive.close()
    assert server.process is not None and server.process.returncode == 0, server.log()
    assert took < STOP_BOUND_S
    assert "error" not in in_flight, in_flight
    assert in_flight["response"].status_code == 401  # answered (after the guard), not cut off
    assert_clean_log(server.log())


def test_ctrl_c_while_first_requests_arrive_never_hangs(start_server: Any) -> None:
    """Ctrl-C (SIGINT to the group) landing while the worker hands new connections to its thread pool.

    gunicorn's own gthread quick stop deadlocked in that window (about one run in five here) until
    the arbiter SIGKILLed the worker after 3 s; SandboxWorker makes a quick stop a graceful one.
    """
    for run in range(8):
        server = start_server(name=f"run{run}")
        barrier = threading.Barrier(17)

        def hit(url: str = server.url, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                requests.get(url + "/_sandbox/health", timeout=10)
            except requests.RequestException:
                pass  # refused once the listener is closed: expected

        clients = [threading.Thread(target=hit) for _ in range(16)]
        for client in clients:
            client.start()
        barrier.wait()
        time.sleep(0.005)
        took = server.signal(signal.SIGINT, group=True)
        for client in clients:
            client.join(timeout=10)
        assert server.process is not None and server.process.returncode == 0, server.log()
        assert took < STOP_BOUND_S, f"run {run}: stop took {took:.2f} s\n{server.log()}"
        assert_clean_log(server.log())


# --- credentials file and command line -----------------------------------------------------------


def test_credentials_file_is_private_and_complete(start_server: Any, tmp_path: Path) -> None:
    stale = tmp_path / "run" / "credentials.json"
    stale.parent.mkdir()
    stale.write_text("{}")
    os.chmod(stale, 0o644)  # a world-readable leftover must not keep its mode
    server = start_server()
    mode = stat.S_IMODE(server.credentials_path.stat().st_mode)
    assert mode == 0o600, oct(mode)
    document = server.credentials
    assert set(document) == {
        "url", "api_url", "token_url", "authorize_url", "operator_key", "operator_header", "admin",
        "password_client", "authorization_code_client", "personal_access_client", "pid",
    }
    url = document["url"]
    assert url.startswith("http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0  # --port 0 wrote the real port
    assert document["api_url"] == url + "/api/1.0"
    assert document["token_url"] == url + "/oauth/token"
    assert document["authorize_url"] == url + "/oauth/authorize"
    assert document["operator_header"] == "X-Sandbox-Key"
    assert len(document["operator_key"]) >= 24
    assert document["pid"] == server.process.pid  # type: ignore[union-attr]
    assert set(document["admin"]) == {"id", "username", "password"}
    assert document["admin"]["username"] == "admin"
    assert len(document["admin"]["password"]) >= 8
    for name in ("password_client", "personal_access_client"):
        assert set(document[name]) == {"client_id", "client_secret"}
        assert document[name]["client_id"].isdigit()
        assert len(document[name]["client_secret"]) == 40
    code_client = document["authorization_code_client"]
    assert set(code_client) == {"client_id", "client_secret", "redirect_uri"}
    assert code_client["redirect_uri"] == "http://127.0.0.1:8976/callback"
    ids = {document[name]["client_id"] for name in ("password_client", "personal_access_client")}
    assert len(ids | {code_client["client_id"]}) == 3
    answer = requests.get(url + "/_sandbox/counters", headers={"X-Sandbox-Key": document["operator_key"]}, timeout=5)
    assert answer.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_non_loopback_host_is_refused_without_allow_remote(host: str) -> None:
    result = run_cli("--host", host)
    assert result.returncode == 2
    assert f"--host {host} is not a loopback address" in result.stderr
    assert "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key must be given together"),
        (["--tls-key", "key.pem"], "--tls-cert and --tls-key must be given together"),
        (["--tls-client-ca", "ca.pem"], "--tls-client-ca needs --tls-cert and --tls-key"),
        (["--bcrypt-cost", "3"], "--bcrypt-cost must be between 4 and 31"),
        (["--token-ttl", "0"], "--token-ttl must be a positive number of seconds"),
        (["--pat-ttl", "-1"], "--pat-ttl must be a positive number of seconds"),
        (["--code-ttl", "0"], "--code-ttl must be a positive number of seconds"),
    ],
)
def test_unusable_settings_are_refused(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"pm-sandbox: error: {message}"


# --- HTTPS ---------------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
    hosts: list[str] | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signing_key = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _write(directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Any]:
    """A test CA, a server certificate for 127.0.0.1, a client certificate, and a rogue client."""
    directory = tmp_path / "pki"
    directory.mkdir()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("pm-sandbox test CA", ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _issue(
        "127.0.0.1", server_key, (ca, ca_key), usage=ExtendedKeyUsageOID.SERVER_AUTH, hosts=["127.0.0.1", "localhost"]
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _issue("test client", client_key, (ca, ca_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
    rogue_ca = _issue("someone else's CA", rogue_ca_key, None, ca=True)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue = _issue("rogue client", rogue_key, (rogue_ca, rogue_ca_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    ca_path, _ = _write(directory, "ca", ca, ca_key)
    return {
        "ca": ca_path,
        "server": _write(directory, "server", server, server_key),
        "client": _write(directory, "client", client, client_key),
        "rogue": _write(directory, "rogue", rogue, rogue_key),
    }


def test_https_with_a_test_ca(start_server: Any, pki: dict[str, Any]) -> None:
    cert, key = pki["server"]
    server = start_server("--tls-cert", cert, "--tls-key", key, verify=pki["ca"])
    assert server.url.startswith("https://127.0.0.1:")
    response = requests.get(server.url + "/_sandbox/health", verify=pki["ca"], timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(server.url + "/_sandbox/health", timeout=5)  # default trust store: unknown CA
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.url.replace("https://", "http://") + "/_sandbox/health", timeout=5)


def test_tls_client_ca_requires_a_client_certificate(start_server: Any, pki: dict[str, Any]) -> None:
    cert, key = pki["server"]
    server = start_server(
        "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", pki["ca"], verify=pki["ca"], cert=pki["client"]
    )
    response = requests.get(server.url + "/_sandbox/health", verify=pki["ca"], cert=pki["client"], timeout=5)
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):  # SSLError or reset: no certificate
        requests.get(server.url + "/_sandbox/health", verify=pki["ca"], timeout=5)
    with pytest.raises(requests.exceptions.ConnectionError):  # signed by a CA the server does not trust
        requests.get(server.url + "/_sandbox/health", verify=pki["ca"], cert=pki["rogue"], timeout=5)
    again = requests.get(server.url + "/_sandbox/health", verify=pki["ca"], cert=pki["client"], timeout=5)
    assert again.status_code == 200  # refused handshakes did not hurt the server


def test_tls_clients_stalled_in_the_handshake_neither_stall_the_server_nor_stay(
    start_server: Any, pki: dict[str, Any]
) -> None:
    """A TLS handshake is driven without blocking a worker thread, and bounded by --read-timeout."""
    cert, key = pki["server"]
    server = start_server("--tls-cert", cert, "--tls-key", key, "--read-timeout", "3", verify=pki["ca"])
    address = (server.url.split("//")[1].split(":")[0], int(server.url.rsplit(":", 1)[1]))
    started = time.monotonic()
    stalled = []
    for _ in range(20):  # more than the 16 worker threads
        sock = socket.create_connection(address, timeout=10)
        sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello, no more
        stalled.append(sock)
    try:
        time.sleep(0.5)
        for _ in range(2):
            asked = time.monotonic()
            response = requests.get(server.url + "/_sandbox/health", verify=pki["ca"], timeout=30)
            assert response.status_code == 200
            assert time.monotonic() - asked < 1.0
        for sock in stalled:  # closed once the deadline passed
            sock.settimeout(max(0.1, started + 3 + 3 - time.monotonic()))
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    finally:
        for sock in stalled:
            sock.close()
    assert time.monotonic() - started >= 2.5


# --- request limits ------------------------------------------------------------------------------


def test_body_over_max_body_bytes_is_refused_with_413(start_server: Any) -> None:
    server = start_server("--max-body-bytes", "1024")
    url = server.url + "/api/1.0/groups"
    json_type = {"Content-Type": "application/json", "Accept": "application/json"}
    too_large = requests.post(url, data=b"x" * 1025, headers=json_type, timeout=5)
    assert too_large.status_code == 413
    assert too_large.json() == {"message": "Content Too Large"}
    at_limit = requests.post(url, data=b"x" * 1024, headers=json_type, timeout=5)
    assert at_limit.status_code == 401  # size accepted, then the Bearer guard answers
    assert at_limit.json() == {"error": "Unauthenticated."}
    # A chunked body has no Content-Length; it is measured while read.
    chunked = requests.post(url, data=iter([b"x" * 700, b"x" * 700]), headers=json_type, timeout=5)
    assert chunked.request.headers["Transfer-Encoding"] == "chunked"
    assert chunked.status_code == 413
    assert chunked.json() == {"message": "Content Too Large"}
    token = requests.post(server.url + "/oauth/token", data={"grant_type": "password", "pad": "x" * 2000}, timeout=5)
    assert token.status_code == 413
    # A chunked body under the limit still reaches the handler intact.
    key = {"X-Sandbox-Key": server.credentials["operator_key"], "Content-Type": "application/json"}
    rules = {"rules": [{"route": "GET /nothing", "probability": 0.5}], "seed": 7}
    put = requests.put(server.url + "/_sandbox/faults", data=iter([json.dumps(rules).encode()]), headers=key, timeout=5)
    assert put.request.headers["Transfer-Encoding"] == "chunked"
    assert put.status_code == 200
    assert put.json()["seed"] == 7
    assert put.json()["rules"][0]["route"] == "GET /nothing"


# --- persistence -------------------------------------------------------------------------------


def test_restart_on_the_same_database_keeps_data_and_secrets(tmp_path: Path) -> None:
    workdir = tmp_path / "persist"
    workdir.mkdir()
    with SandboxProcess(workdir=str(workdir)) as first:
        before = dict(first.credentials)
        token = first.admin_token()
        group = first.api("POST", "/groups", json={"name": "Survives Restart", "status": "ACTIVE"})
        assert group.status_code == 201, group.text
        user = first.api(
            "POST", "/users",
            json={
                "username": "persisted", "firstname": "Per", "lastname": "Sisted", "email": "p@example.com",
                "status": "ACTIVE", "password": "Persist3d!pass",
            },
        )
        assert user.status_code == 201, user.text
    assert first.process is not None and first.process.returncode == 0
    with SandboxProcess(workdir=str(workdir)) as second:
        after = second.credentials
        assert after["admin"] == before["admin"]
        for name in ("password_client", "authorization_code_client", "personal_access_client"):
            assert after[name] == before[name]
        # The access token issued before the restart is still valid (same signing key, same rows).
        same = second.api("GET", f"/groups/{group.json()['id']}", token=token)
        assert same.status_code == 200
        assert same.json()["name"] == "Survives Restart"
        users = second.api("GET", "/users", params={"filter": "persisted"}, token=token)
        assert users.status_code == 200
        assert [row["username"] for row in users.json()["data"]] == ["persisted"]
        assert second.password_token("persisted", "Persist3d!pass")["token_type"] == "Bearer"


# --- routing edges -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/nope", "/api", "/api/2.0/users", "/oauth/nothing-here"])
def test_unknown_path_outside_the_api_is_404(sandbox: SandboxProcess, method: str, path: str) -> None:
    response = requests.request(method, sandbox.url + path, headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 404
    assert response.reason == "Not Found"
    assert response.json() == {"message": "Not Found"}


def test_wrong_method_on_a_known_path_is_405_with_laravels_message(sandbox: SandboxProcess) -> None:
    # ProcessMaker's GroupsTest::testDeleteGroupNotExist: DELETE /api/1.0/groups/ is a 405.
    response = requests.delete(sandbox.api_url + "/groups/", headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 405
    assert response.reason == "Method Not Allowed"
    assert response.headers["Allow"] == "GET, HEAD, POST"
    assert response.json() == {
        "message": "The DELETE method is not supported for route api/1.0/groups. Supported methods: GET, HEAD, POST."
    }
    assert "api\\/1.0\\/groups" in response.text  # Laravel's json_encode escapes slashes
    patch = requests.patch(sandbox.api_url + "/users/1", headers={"Accept": "application/json"}, timeout=5)
    assert patch.status_code == 405
    assert patch.json() == {
        "message": "The PATCH method is not supported for route api/1.0/users/1. Supported methods: GET, HEAD, PUT, DELETE."
    }
