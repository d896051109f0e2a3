"""Serve the sandbox with gunicorn: one worker process, a pool of threads, graceful SIGTERM.

One process keeps counters and fault rules in memory and consistent; SQLite (WAL) carries the
data, so the threads see one database. The arbiter seeds the database and writes the credentials
file once the socket listens (with the real port when ``--port 0`` asked for a free one).
"""

from __future__ import annotations

import atexit
import logging
import shutil
import ssl
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from .config import Settings
from .seed import credentials_document, seed_store, write_credentials
from .store import Store


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
            "worker_class": "gthread",
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
    if not settings.db_path:
        workdir = tempfile.mkdtemp(prefix="pm-sandbox-")
        atexit.register(shutil.rmtree, workdir, True)
        settings.db_path = str(Path(workdir) / "sandbox.sqlite")
    logging.basicConfig(level=logging.INFO if settings.log_requests else logging.WARNING)
    SandboxServer(settings).run()
