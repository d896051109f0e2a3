"""Serve the sandbox with gunicorn: one worker process, a pool of threads, graceful SIGTERM.

One process keeps counters and fault rules in memory and consistent; SQLite (WAL) carries the
data, so the threads see one database. The arbiter seeds the database and writes the credentials
file once the socket listens (with the real port when ``--port 0`` asked for a free one).

A pool thread serves a request only once its whole head has arrived: what a client sends (and, with
TLS, its handshake) is read without blocking and the connection waits on the worker's poller, not in
a thread, until the head is complete. A client gets ``--read-timeout`` seconds for the head and as
long again for the body; then it is answered 408 and closed. Idle and slow clients therefore never
stall the pool.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path
from typing import Any

from gunicorn import http as gunicorn_http
from gunicorn import sock as gunicorn_sock
from gunicorn.app.base import BaseApplication
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread
from gunicorn.workers.gthread import ThreadWorker

from .config import Settings
from .http import ReadDeadline
from .seed import credentials_document, seed_store, write_credentials
from .store import Store

HEAD_END = b"\r\n\r\n"
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: 30\r\n"
    b'Connection: close\r\n\r\n{"message":"Request Timeout."}'
)


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader with a deadline: each read waits only for the time left, and past the
    deadline raises ``ReadDeadline`` (the application answers 408), however slowly the client trickles."""

    deadline: float | None = None  # time.monotonic() value; None = no deadline

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.deadline is None:
            return super().chunk(size_hint)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReadDeadline()
        previous = self.sock.gettimeout()
        self.sock.settimeout(remaining)
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            raise ReadDeadline() from None
        finally:
            self.sock.settimeout(previous)


def _time_out(conn: Any) -> None:
    """Close a connection whose deadline passed, at once (no linger). A client that sent part of a
    request is answered 408 first, best effort; what it sent is discarded so the close sends no RST."""
    sock = conn.sock
    with contextlib.suppress(OSError, ValueError):
        sock.setblocking(False)
        if conn.parser is not None and conn.parser.unreader.buf.getbuffer().nbytes:
            sock.send(TIMED_OUT)
        while sock.recv(65536):
            pass
    conn.close()


class SandboxWorker(ThreadWorker):
    """gunicorn's gthread worker with a quick stop (SIGINT, SIGQUIT) that cannot hang.

    ``ThreadWorker.handle_quit`` shuts the thread pool down from inside the signal handler. When the
    signal lands while the main thread is in ``ThreadPoolExecutor.submit`` (which holds the pool's
    lock, e.g. while it starts a new thread for a request) the handler waits for that lock forever
    and the arbiter SIGKILLs the worker after the graceful timeout. Ctrl-C sends SIGINT to the
    worker and the arbiter (SIGQUIT) at once, so this hit about one Ctrl-C in five under traffic.
    A quick stop is therefore the graceful one (in-flight requests finish, then the worker exits),
    except that idle kept-alive connections are closed at once instead of lingering.

    Ctrl-C and ``kill -TERM -<pgid>`` reach the worker twice (from the terminal and from the
    arbiter); once stopping, the worker blocks further stop signals, since one that arrived while
    the interpreter finalizes (handlers back to default) killed it and the arbiter logged a warning.
    The pool's threads block those signals from birth: the kernel hands a process-directed signal to
    any thread that does not block it, and a pool thread still alive while the interpreter finalizes
    took the default action (death by SIGQUIT, about one Ctrl-C in forty under traffic).
    """

    _quick_stop = False
    _STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        return futures.ThreadPoolExecutor(
            max_workers=self.cfg.threads,
            initializer=signal.pthread_sigmask,
            initargs=(signal.SIG_BLOCK, self._STOP_SIGNALS),
        )

    def init_process(self) -> None:
        self.read_timeout = float(self.app.settings.read_timeout)
        cfg = self.cfg  # past this many bytes without a complete head, the parser refuses the request (431)
        self.head_limit = cfg.limit_request_line + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4
        # gunicorn 27 keeps a kept-alive connection open for 2 s after the worker starts stopping,
        # counted from the end of the request in flight. With the 3 s graceful timeout, a request
        # still running 1 s after SIGTERM got its answer but its worker was then SIGKILLed. The
        # constant is module state of this (forked) worker process only.
        if getattr(gthread, "STOP_KEEPALIVE_LINGER", 0.0) > 0.5:
            gthread.STOP_KEEPALIVE_LINGER = 0.5
        super().init_process()

    def handle_exit(self, sig: int, frame: Any) -> None:
        # Blocked, not ignored: a pending signal whose handler became SIG_IGN is reported as an error.
        signal.pthread_sigmask(signal.SIG_BLOCK, self._STOP_SIGNALS)
        super().handle_exit(sig, frame)

    def handle_quit(self, sig: int, frame: Any) -> None:
        self._quick_stop = True
        self.handle_exit(sig, frame)

    def _cap_keepalive(self, deadline: float) -> None:  # gunicorn 27: called once the worker stops
        super()._cap_keepalive(time.monotonic() if self._quick_stop else deadline)

    # ---- read deadlines ------------------------------------------------------------------------
    # A connection carries ``head_deadline`` while its next request head is awaited. gthread's
    # ``_DEFER`` answer parks it on the poller ("pending") until more bytes arrive.

    def handle(self, conn: Any) -> Any:
        result = self._await_head(conn)
        if result is None:
            result = super().handle(conn)
        if result is False:
            # Here rather than in gthread's finish_request, which runs on the worker's main thread:
            # there the close's linger (up to 2 s for a client that does not hang up) held up every
            # other connection.
            conn.close(graceful=True)
        return result

    def _await_head(self, conn: Any) -> Any:
        """None once a whole request head is buffered; ``gthread._DEFER`` to wait on the poller for more
        of it; False to close (the client left, or its deadline passed)."""
        now = time.monotonic()
        deadline = getattr(conn, "head_deadline", None)
        if deadline is None:
            deadline = conn.head_deadline = now + self.read_timeout
        try:
            if not conn.initialized:
                if not conn.data_ready and not conn.wait_for_data(0):
                    return self._wait_or_close(conn, deadline, now)
                if self.cfg.is_ssl:
                    if not self._tls_ready(conn):
                        return self._wait_or_close(conn, deadline, now)
                else:
                    conn.init()
                conn.parser.unreader = DeadlineUnreader(conn.sock)
            unreader = conn.parser.unreader
            buffered, closed = self._read_available(conn.sock, unreader.take_buffered())
        except (OSError, ValueError):  # TLS handshake failed or timed out, connection reset
            return False
        if HEAD_END in buffered or len(buffered) > self.head_limit:
            unreader.unread(buffered)
            conn.head_deadline = None
            unreader.deadline = time.monotonic() + self.read_timeout  # the body's own deadline
            return None
        if closed:
            return False
        unreader.unread(buffered)
        return self._wait_or_close(conn, deadline, time.monotonic())

    def _tls_ready(self, conn: Any) -> bool:
        """Advance the TLS handshake with what the client has sent, without blocking (gthread's
        ``TConn.init`` would hold a pool thread on a client that stalls half-way); once it is complete
        the connection gets its parser, as ``init`` would give it (HTTP/1: the sandbox offers no h2)."""
        if not isinstance(conn.sock, ssl.SSLSocket):
            conn.sock = gunicorn_sock.ssl_wrap_socket(conn.sock, self.cfg)
        conn.sock.setblocking(False)
        try:
            conn.sock.do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        conn.initialized = True
        conn.parser = gunicorn_http.get_parser(self.cfg, conn.sock, conn.client)
        return True

    def _read_available(self, sock: Any, buffered: bytes) -> tuple[bytes, bool]:
        """Append what the socket holds right now, without blocking; also whether the client closed.

        A plain socket is read with MSG_DONTWAIT, whatever its mode (no extra system calls on the hot
        path); a TLS socket takes no flags, so it is switched to non-blocking for the read.
        """
        tls = isinstance(sock, ssl.SSLSocket)
        if tls:
            sock.setblocking(False)
        try:
            while HEAD_END not in buffered and len(buffered) <= self.head_limit:
                data = sock.recv(65536) if tls else sock.recv(65536, socket.MSG_DONTWAIT)
                if not data:
                    return buffered, True
                buffered += data
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        finally:
            if tls:
                sock.setblocking(True)
        return buffered, False

    def _wait_or_close(self, conn: Any, deadline: float, now: float) -> Any:
        if now < deadline and self.alive:
            return gthread._DEFER
        _time_out(conn)
        return False

    def murder_pending(self) -> None:
        """Also close the waiting connections whose head deadline has passed (gthread only knows the
        keepalive timeout, counted again from every byte a slow client sends)."""
        super().murder_pending()
        now = time.monotonic()
        expired = [conn for conn in self.pending_conns if (getattr(conn, "head_deadline", None) or now + 1) <= now]
        for conn in expired:
            self.pending_conns.remove(conn)
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            _time_out(conn)

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        # The request is answered: draining its unread body is gthread's business, on its own deadline.
        if isinstance(conn.parser.unreader, DeadlineUnreader):
            conn.parser.unreader.deadline = None
        return super()._keepalive_after(conn, keepalive)


class SandboxServer(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        options: dict[str, Any] = {
            "bind": [f"{host}:{settings.port}"],
            "workers": 1,
            "worker_class": SandboxWorker,
            "threads": settings.threads,
            "graceful_timeout": 3,
            "timeout": 300,
            "keepalive": 30,
            "backlog": 512,
            "proc_name": "pm-sandbox",
            "errorlog": "-",
            "loglevel": "warning",
            "accesslog": "-" if settings.log_requests else None,
            "when_ready": self._when_ready,
            "limit_request_field_size": 16384,
        }
        if settings.tls_cert:
            options["certfile"] = settings.tls_cert
            options["keyfile"] = settings.tls_key
            if settings.tls_client_ca:
                options["ca_certs"] = settings.tls_client_ca
                options["cert_reqs"] = ssl.CERT_REQUIRED
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import SandboxApp  # imported in the worker, after the fork

        return SandboxApp(self.settings)

    def _when_ready(self, arbiter: Any) -> None:
        sock = arbiter.LISTENERS[0].sock
        port = sock.getsockname()[1]
        host = self.settings.host
        shown = f"[{host}]" if ":" in host else host
        url = self.settings.public_url or f"{self.settings.scheme}://{shown}:{port}"
        store = Store(self.settings.db_path)
        seeded = seed_store(store, self.settings)
        store.close()
        path = os.path.abspath(self.settings.credentials_path or default_credentials_path(self.settings.db_path))
        write_credentials(path, credentials_document(seeded, self.settings, url))
        # Where the secrets are, never the secrets themselves.
        print(f"pm-sandbox listening on {url} (pid {arbiter.pid}); credentials in {path}", file=sys.stderr, flush=True)


class StartupError(Exception):
    """The sandbox cannot start; the message says why and what to do, in one line."""


def default_credentials_path(db_path: str) -> str:
    """Next to the database, which holds the same secrets: ``data/sb.sqlite`` -> ``data/sb.credentials.json``."""
    database = Path(db_path)
    return str(database.with_name(database.stem + ".credentials.json"))


def check_can_listen(host: str, port: int) -> None:
    """Bind the address once, as gunicorn will, so a taken port is one clear line instead of gunicorn
    retrying for 5 s and logging each attempt."""
    if port == 0:
        return
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like gunicorn: TIME_WAIT is no conflict
        probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is in use; pick another with --port (or --port 0 for a free one)"
            ) from None
        raise StartupError(f"cannot listen on port {port} of {host}: {error.strerror or error}") from None
    finally:
        probe.close()


def serve(settings: Settings) -> None:
    """Run until stopped. Raises StartupError when the sandbox cannot start.

    Without ``--credentials`` they go next to the database; without ``--db`` both live in a private
    temporary directory that is removed when the sandbox stops.
    """
    settings.check()
    check_can_listen(settings.host, settings.port)
    # Everything the sandbox writes (database, its -wal/-shm, credentials) holds secrets: private.
    os.umask(0o077)
    if not settings.db_path:
        workdir = tempfile.mkdtemp(prefix="pm-sandbox-")
        atexit.register(shutil.rmtree, workdir, True)
        settings.db_path = str(Path(workdir) / "sandbox.sqlite")
        if not settings.credentials_path:
            settings.credentials_path = str(Path(workdir) / "credentials.json")
    logging.basicConfig(level=logging.INFO if settings.log_requests else logging.WARNING)
    SandboxServer(settings).run()
