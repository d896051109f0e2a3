"""Serve the sandbox with gunicorn: one worker process, a pool of threads, graceful SIGTERM.

One process keeps counters and fault rules in memory and consistent; SQLite (WAL) carries the
data, so the threads see one database. The arbiter seeds the database and writes the credentials
file once the socket listens (with the real port when ``--port 0`` asked for a free one).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import ssl
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers import gthread
from gunicorn.workers.gthread import ThreadWorker

from .config import Settings
from .seed import credentials_document, seed_store, write_credentials
from .store import Store


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
        document = credentials_document(seeded, self.settings, url)
        if self.settings.credentials_path:
            write_credentials(self.settings.credentials_path, document)
        print(f"pm-sandbox listening on {url} (pid {arbiter.pid})", file=sys.stderr, flush=True)


def serve(settings: Settings) -> None:
    settings.check()
    # Everything the sandbox writes (database, its -wal/-shm, credentials) holds secrets: private.
    os.umask(0o077)
    if not settings.db_path:
        workdir = tempfile.mkdtemp(prefix="pm-sandbox-")
        atexit.register(shutil.rmtree, workdir, True)
        settings.db_path = str(Path(workdir) / "sandbox.sqlite")
    logging.basicConfig(level=logging.INFO if settings.log_requests else logging.WARNING)
    SandboxServer(settings).run()
