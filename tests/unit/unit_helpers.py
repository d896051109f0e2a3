"""Helpers for the unit tests: a scripted HTTP server on 127.0.0.1, token builders, options.

The server answers from a script (per method and path, consumed in order, the last answer
repeating) and records every request, so tests check what our code sent over a real socket
without mocking any of it.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
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


def make_pki(directory) -> dict:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def issue(name, issuer_name=None, issuer_key=None, ca=False, san=None, usage=None):
        # the extensions Python 3.13's VERIFY_X509_STRICT (default in ssl.create_default_context) wants:
        # a critical BasicConstraints and a KeyUsage on the CA, key identifiers, a SAN on the server
        key = ec.generate_private_key(ec.SECP256R1())
        signing_key = issuer_key or key
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name or subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=not ca, encipher_only=False,
                decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
                           critical=False)
        )
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = builder.sign(signing_key, hashes.SHA256())
        return key, cert

    ca_key, ca_cert = issue("test CA", ca=True)
    server_key, server_cert = issue("127.0.0.1", ca_cert.subject, ca_key,
                                    san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
                                    usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client_key, client_cert = issue("ansible", ca_cert.subject, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    paths = {}
    for label, key, cert in (("ca", ca_key, ca_cert), ("server", server_key, server_cert),
                             ("client", client_key, client_cert)):
        cert_path = directory / f"{label}.pem"
        key_path = directory / f"{label}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        paths[label] = str(cert_path)
        paths[label + "_key"] = str(key_path)
    return paths
