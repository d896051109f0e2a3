"""What the sandbox does to stay safe on a shared machine: private files, bounded reads, no tracebacks.

The database holds the seeded admin password, the client secrets, the app key and the RSA key that
signs access tokens: whoever reads it can sign an administrator's token. The credentials file holds
the same secrets. Both are created 0600, and never through a path another local user could have
prepared.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from pm_sandbox.seed import write_credentials
from pm_sandbox.store import Store
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import token_for, user_with_token


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run with a given umask (the usual 022 makes new files world-readable unless asked otherwise)."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- 9: the database and the credentials file ---------------------------------------------------


def test_database_and_its_wal_and_shm_files_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    with umask(0o022):
        store = Store(path)
        with store.transaction():
            store.set_meta("probe", "written")  # a write: SQLite now has its -wal and -shm files
        reader = Store(path)  # a second connection, as a second worker thread would open
        assert reader.get_meta("probe") == "written"
    try:
        for name in ("sandbox.sqlite", "sandbox.sqlite-wal", "sandbox.sqlite-shm"):
            assert (tmp_path / name).exists(), name
            assert mode(tmp_path / name) == 0o600, (name, oct(mode(tmp_path / name)))
            assert os.lstat(tmp_path / name).st_uid == os.getuid()
    finally:
        store.close()
        reader.close()


def test_an_existing_world_readable_database_is_narrowed_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with umask(0o022):
        Store(path).close()
    os.chmod(path, 0o644)  # as an older sandbox left it
    Store(path).close()
    assert mode(path) == 0o600


def _predictable_temp(target: Path) -> Path:
    """The temporary name the credentials writer used to use: guessable by any local user."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def test_credentials_writer_never_follows_a_prepared_symlink(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "creds.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n")
    _predictable_temp(target).symlink_to(victim)
    with umask(0o022):
        write_credentials(str(target), {"admin": {"password": "s3cret"}})
    assert victim.read_text() == "not yours\n"  # the secrets did not land behind the link
    assert not target.is_symlink()
    assert mode(target) == 0o600
    assert os.lstat(target).st_uid == os.getuid()
    assert '"s3cret"' in target.read_text()


def test_credentials_writer_never_reuses_a_prepared_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "creds.json"
    planted = _predictable_temp(target)
    planted.write_text("planted\n")
    os.chmod(planted, 0o666)  # someone else's file, writable and readable by all
    planted_inode = os.lstat(planted).st_ino
    with umask(0o022):
        write_credentials(str(target), {"admin": {"password": "s3cret"}})
    assert os.lstat(target).st_ino != planted_inode  # a file of our own, not the planted one
    assert mode(target) == 0o600
    assert os.lstat(target).st_uid == os.getuid()
    if planted.exists():
        assert planted.read_text() == "planted\n"


def test_credentials_writer_replaces_a_prepared_symlink_at_the_final_path(tmp_path: Path) -> None:
    target = tmp_path / "creds.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n")
    target.symlink_to(victim)
    write_credentials(str(target), {"admin": {"password": "s3cret"}})
    assert victim.read_text() == "not yours\n"
    assert not target.is_symlink()
    assert mode(target) == 0o600


@pytest.mark.parametrize("leftover_mode", [0o644, 0o600])
def test_credentials_writer_leaves_no_temporary_files(tmp_path: Path, leftover_mode: int) -> None:
    target = tmp_path / "creds.json"
    target.write_text("{}")
    os.chmod(target, leftover_mode)
    write_credentials(str(target), {"url": "http://127.0.0.1:1"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["creds.json"]
    assert mode(target) == 0o600


# --- 10: slow and idle clients ----------------------------------------------------------------

READ_TIMEOUT = 3  # seconds; --read-timeout for these tests (the default is longer)
SLOW_CLIENTS = 20  # more than the 16 worker threads
IDLE_CLIENTS = 17


def _connect(sandbox: SandboxProcess) -> socket.socket:
    parts = urlsplit(sandbox.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes the connection; fails if it is still open at ``deadline``."""
    received = b""
    while True:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            return received
        except TimeoutError:
            raise AssertionError(f"connection still open; received {received!r}") from None
        if not data:
            return received
        received += data


def _closed_by_server(answer: bytes) -> bool:
    """Dropped, or answered 408 (and then dropped)."""
    return answer == b"" or answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_slow_and_idle_clients_cannot_stall_the_server() -> None:
    with SandboxProcess(["--read-timeout", str(READ_TIMEOUT)]) as sb:
        idle = [_connect(sb) for _ in range(IDLE_CLIENTS)]
        slow = [_connect(sb) for _ in range(SLOW_CLIENTS)]
        started = time.monotonic()
        for sock in slow:
            sock.sendall(b"GET /_sandbox/health HTTP/1.1\r\nHost: sandbox\r\n")
        stop = threading.Event()

        def trickle() -> None:  # one more header line every 2 s: the head never ends
            line = 0
            while not stop.wait(2):
                line += 1
                for sock in slow:
                    with contextlib.suppress(OSError):
                        sock.sendall(f"X-Slow-{line}: 1\r\n".encode())

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            time.sleep(0.5)  # accepted by now, and each slow one has sent part of its request
            for _ in range(3):
                asked = time.monotonic()
                response = requests.get(sb.url + "/_sandbox/health", timeout=30)
                took = time.monotonic() - asked
                assert response.status_code == 200
                assert took < 1.0, f"health took {took:.2f} s behind {SLOW_CLIENTS} slow and {IDLE_CLIENTS} idle clients"
                time.sleep(0.7)
            # Past the deadline (checked about once a second) the server closes them all.
            limit = started + READ_TIMEOUT + 3
            for sock in slow + idle:
                answer = _read_until_closed(sock, limit)
                assert _closed_by_server(answer), answer
            assert time.monotonic() - started >= READ_TIMEOUT - 0.5  # not before the deadline
        finally:
            stop.set()
            trickler.join(timeout=5)
            for sock in slow + idle:
                sock.close()
        assert "Traceback" not in sb.log_text()


def test_a_request_body_that_never_arrives_is_answered_408() -> None:
    with SandboxProcess(["--read-timeout", str(READ_TIMEOUT)]) as sb:
        sock = _connect(sb)
        try:
            sock.sendall(
                b"POST /oauth/token HTTP/1.1\r\nHost: sandbox\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type="
            )
            sent = time.monotonic()
            for _ in range(READ_TIMEOUT + 2):  # a byte a second: a trickle never resets the deadline
                time.sleep(1)
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")
            answer = _read_until_closed(sock, sent + READ_TIMEOUT + 4)
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
        assert answer.endswith(b'{"message":"Request Timeout."}'), answer
        # The server is fine afterwards, and said nothing alarming in its log.
        assert requests.get(sb.url + "/_sandbox/health", timeout=5).status_code == 200
        assert "Traceback" not in sb.log_text()


# --- 11: JSON nested deeper than PHP decodes ----------------------------------------------------

JSON = {"Content-Type": "application/json"}
NAME_REQUIRED = {"message": "The Name field is required.", "errors": {"name": ["The Name field is required."]}}


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def new_log(sandbox: SandboxProcess, offset: int) -> str:
    return sandbox.log_path.read_bytes()[offset:].decode(errors="replace")


def test_json_nested_past_phps_depth_limit_is_no_input(sandbox: SandboxProcess) -> None:
    """PHP's json_decode gives up past 512 levels; Laravel then sees an empty body: the usual 422."""
    offset = sandbox.log_path.stat().st_size
    response = sandbox.api("POST", "/groups", data=nested(100_000), headers=JSON)
    assert (response.status_code, response.json()) == (422, NAME_REQUIRED)
    # The limit itself: 512 levels decode (name is then an array), 513 do not (name is missing).
    at_limit = sandbox.api("POST", "/groups", data='{"name":' + nested(511, "") + "}", headers=JSON)
    assert at_limit.status_code == 422
    assert at_limit.json()["errors"]["name"][0] == "The Name field must be a string."
    past_limit = sandbox.api("POST", "/groups", data='{"name":' + nested(512, "") + "}", headers=JSON)
    assert (past_limit.status_code, past_limit.json()) == (422, NAME_REQUIRED)
    # The token endpoint reads the same empty body: no grant type.
    token = requests.post(sandbox.token_url, data=nested(100_000), headers=JSON, timeout=30)
    assert token.status_code == 400
    assert token.json()["error"] == "unsupported_grant_type"
    log = new_log(sandbox, offset)
    assert "Traceback" not in log and "RecursionError" not in log, log


def test_deep_json_elsewhere_is_refused_without_a_traceback(clean_sandbox: SandboxProcess) -> None:
    sandbox = clean_sandbox
    offset = sandbox.log_path.stat().st_size
    key = {sandbox.credentials["operator_header"]: sandbox.credentials["operator_key"]}
    faults = requests.put(sandbox.url + "/_sandbox/faults", data=nested(100_000), headers=JSON | key, timeout=30)
    assert (faults.status_code, faults.json()) == (400, {"message": "Send a JSON object."})
    package = sandbox.api("POST", "/import/preview", files={"file": ("deep.json", nested(100_000))})
    assert package.status_code == 422
    assert package.json()["errors"] == {"file": ["The file is not a JSON export package."]}
    log = new_log(sandbox, offset)
    assert "Traceback" not in log and "RecursionError" not in log, log


# --- 12: the command line: a default credentials file, a clear word when the port is taken ------

STARTED = re.compile(r"^pm-sandbox listening on (\S+) \(pid (\d+)\); credentials in (.+)$")


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pm_sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _start_up_line(process: subprocess.Popen[str], timeout: float = 30) -> tuple[str, list[str]]:
    """The "listening on" line, and every line written before it."""
    assert process.stderr is not None
    lines: list[str] = []
    found: dict[str, str] = {}

    def read() -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            lines.append(line.rstrip("\n"))
            if line.startswith("pm-sandbox listening on"):
                found["line"] = line.rstrip("\n")
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert "line" in found, f"no start-up line within {timeout}s: {lines}"
    return found["line"], lines


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _secrets(document: dict) -> list[str]:
    return [
        document["admin"]["password"], document["operator_key"],
        *(document[name]["client_secret"] for name in ("password_client", "authorization_code_client",
                                                        "personal_access_client")),
    ]


def test_serve_without_credentials_writes_them_to_a_private_file_next_to_the_database(tmp_path: Path) -> None:
    database = tmp_path / "data" / "sandbox.sqlite"
    database.parent.mkdir()
    process = _serve("--db", str(database))
    try:
        line, before = _start_up_line(process)
        match = STARTED.match(line)
        assert match, line
        url, path = match.group(1), Path(match.group(3))
        assert path == tmp_path / "data" / "sandbox.credentials.json"
        assert mode(path) == 0o600
        assert os.lstat(path).st_uid == os.getuid()
        document = json.loads(path.read_text())
        assert document["url"] == url
        assert requests.post(document["token_url"], timeout=10, data={
            "grant_type": "password", "username": "admin", "password": document["admin"]["password"],
            **document["password_client"],
        }).status_code == 200
        printed = "\n".join(before)
        for secret in _secrets(document):
            assert secret not in printed  # the path, never the secrets
    finally:
        _stop(process)
    assert process.stdout is not None and all(secret not in process.stdout.read() for secret in _secrets(document))


def test_serve_without_credentials_or_database_keeps_both_in_its_temporary_directory() -> None:
    process = _serve()
    try:
        line, _ = _start_up_line(process)
        match = STARTED.match(line)
        assert match, line
        path = Path(match.group(3))
        assert path.name == "credentials.json"
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700
        assert json.loads(path.read_text())["url"] == match.group(1)
    finally:
        _stop(process)
    assert not path.parent.exists()  # removed with the temporary database when the sandbox stops


def test_a_port_in_use_is_one_clear_line_and_a_quick_exit() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pm_sandbox", "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )
        took = time.monotonic() - started
    finally:
        taken.close()
    assert result.returncode != 0
    assert result.stderr == (
        f"pm-sandbox: port {port} on 127.0.0.1 is in use; pick another with --port (or --port 0 for a free one)\n"
    )
    assert result.stdout == ""
    assert took < 3, f"took {took:.1f} s"


# --- 13: an upstream behaviour kept on purpose ---------------------------------------------------


def test_edit_users_alone_may_set_an_administrators_password(clean_sandbox: SandboxProcess) -> None:
    """ProcessMaker's ValidateEditUserAndPasswordPermission asks for ``edit-user-and-password`` only when
    the username changes or ``in_array('password', $fields)``, which looks at the body's *values*: a
    body that sets the ``password`` key passes with ``edit-users`` alone, for any user, an administrator
    included. The sandbox reproduces that faithfully (see "Security notes" in sandbox/README.md)."""
    sandbox = clean_sandbox
    admin_id = sandbox.credentials["admin"]["id"]
    _, token = user_with_token(sandbox, "helpdesk", "edit-users")
    admin = sandbox.api("GET", f"/users/{admin_id}").json()
    body = {name: admin[name] for name in ("username", "firstname", "lastname", "email", "status")}
    try:
        response = sandbox.api("PUT", f"/users/{admin_id}", token=token, json=body | {"password": "Taken-0ver!"})
        assert (response.status_code, response.content) == (204, b"")
        assert token_for(sandbox, admin["username"], "Taken-0ver!")  # the administrator's password changed
        # What does need edit-user-and-password: another username, or the value "password" in the body.
        forbidden = {"message": "Not authorized to update the username and password."}
        renamed = sandbox.api("PUT", f"/users/{admin_id}", token=token, json=body | {"username": "root"})
        assert (renamed.status_code, renamed.json()) == (403, forbidden)
        valued = sandbox.api("PUT", f"/users/{admin_id}", token=token, json=body | {"title": "password"})
        assert (valued.status_code, valued.json()) == (403, forbidden)
    finally:
        sandbox.reset()  # the seeded administrator password again, for the tests that follow
