"""Helpers for the unit tests: a scripted HTTP server on 127.0.0.1, token builders, options.

The server answers from a script (per method and path, consumed in order, the last answer
repeating) and records every request, so tests check what our code sent over a real socket
without mocking any of it.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

from ansible_collections.processmaker.core.plugins.module_utils.options import (
    resolve_connection,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict) -> str:
    """An unsigned JWT-shaped token: our code reads claims, the server verifies signatures."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "RS256"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}.{b64url(b'signature')}"


_counter = [0]


def token_body(*, sub: str | None = "1", expires_in: int | None = 3600, refresh: bool = True,
               exp: float | None = None) -> dict:
    _counter[0] += 1
    now = time.time()
    claims = {"aud": "2", "jti": f"{_counter[0]:080x}", "iat": now + 0.123456, "nbf": now + 0.123456,
              "exp": exp if exp is not None else now + (expires_in or 3600) + 0.654321,
              "sub": sub if sub is not None else "", "scopes": []}
    body: dict = {"token_type": "Bearer", "access_token": make_jwt(claims)}
    if expires_in is not None:
        body["expires_in"] = expires_in
    if refresh:
        body["refresh_token"] = f"def50200{_counter[0]:0200x}"
    return body


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/json")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        if self.body is None:
            return b"", self.headers.get("Content-Type", "application/json")
        return json.dumps(self.body).encode(), "application/json"


Responder = Reply | Callable[[Recorded], Reply]


class ScriptedServer:
    def __init__(self, ssl_context: Any = None) -> None:
        self.script: dict[tuple[str, str], list[Responder]] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                                    dict(self.headers.items()), body)
                with server.lock:
                    server.requests.append(recorded)
                    queue = server.script.get((self.command, parts.path))
                    if not queue:
                        responder: Responder = Reply(404, {"error": "Not Found"})
                    else:
                        responder = queue.pop(0) if len(queue) > 1 else queue[0]
                reply = responder(recorded) if callable(responder) else responder
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    self.close_connection = True
                    return
                payload, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def on(self, method: str, path: str, *responders: Responder) -> None:
        self.script[(method, path)] = list(responders)

    def seen(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Sleeps:
    """A sleep that records and advances a fake clock: retry timing without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def connection(url: str, **values: Any):
    """ConnectionOptions as a task would give them (no environment)."""
    values.setdefault("retry_backoff", 0.001)
    given = {"url": url, **values}
    return resolve_connection(given, set(given), environ={})


# --- running plugins in-process ------------------------------------------------------------------

from ansible.release import __version__ as ansible_version

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19+
except ImportError:  # ansible-core 2.17, 2.18: the serialized args in basic._ANSIBLE_ARGS
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        serialized = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", serialized):
            yield


# ansible-core 2.21 returns invocation.module_args only with its INJECT_INVOCATION setting (earlier
# versions always did): the tests ask for it, so that what it would show is checked on every version.
INJECTS_INVOCATION_ON_REQUEST = tuple(int(part) for part in ansible_version.split(".")[:2]) >= (2, 21)


def run_module(module: Any, args: dict) -> dict:
    """Run a module's main() in-process: its JSON result plus ``_rc`` and ``_raw`` (the output). Any
    exception but the SystemExit of exit_json/fail_json propagates: a traceback fails the test."""
    if INJECTS_INVOCATION_ON_REQUEST:
        args = {"_ansible_inject_invocation": True, **args}
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit as exited:
            rc = exited.code
        else:
            raise AssertionError(f"{module.__name__} returned without exit_json or fail_json")
    result = json.loads(out.getvalue())
    result["_rc"] = rc
    result["_raw"] = out.getvalue()
    return result


COLLECTIONS_ROOT = Path(__file__).resolve().parents[1] / "output" / "collections"

# Runs lookups the way a play's worker does (Ansible's plugin loader), one process for many calls
# (the loader takes a second to start). A clean failure is {"error"}, a crash {"crash": traceback}.
LOOKUP_RUNNER = textwrap.dedent(
    """
    import json, sys, traceback
    from ansible.errors import AnsibleError
    from ansible.plugins.loader import init_plugin_loader, lookup_loader
    init_plugin_loader([sys.argv[1]])
    results = []
    for call in json.load(sys.stdin):
        plugin = lookup_loader.get("processmaker.core." + call["plugin"])
        try:
            results.append({"result": plugin.run(call["terms"], call["variables"], **call["kwargs"])})
        except AnsibleError as error:
            results.append({"error": str(error.message)})
        except Exception:  # a crash: the test reports it
            results.append({"crash": traceback.format_exc()})
    print(json.dumps(results))
    """
)


def run_lookups(calls: list[dict], env: dict[str, str]) -> list[dict]:
    """Each call {"plugin", "terms", "variables", "kwargs"} -> {"result"} / {"error"} / {"crash"}."""
    done = subprocess.run([sys.executable, "-c", LOOKUP_RUNNER, str(COLLECTIONS_ROOT)], input=json.dumps(calls),
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
