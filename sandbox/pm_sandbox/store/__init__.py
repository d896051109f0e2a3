"""SQLite storage for pm_sandbox.

One connection per thread (sqlite3 connections must not be shared across threads), WAL journal so
readers never block the writer, and ``BEGIN IMMEDIATE`` for every write transaction so two
concurrent writers serialize on the database lock instead of failing half-way with SQLITE_BUSY.

The file holds every secret of the sandbox (admin password, client secrets, app key, signing key),
so it is created 0600 before SQLite opens it; SQLite gives its ``-wal`` and ``-shm`` files the mode
of the database file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def db_timestamp(moment: dt.datetime | None = None) -> str:
    """The form every timestamp is stored in: UTC, second precision, ISO 8601 without offset."""
    return (moment or utcnow()).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def db_timestamp_at(unix_time: float) -> str:
    """``db_timestamp`` of a Unix time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix_time))


def _create_private(path: str) -> None:
    """Create the database file with mode 0600 (never through a symlink), or narrow an existing one."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        for name in (path, path + "-wal", path + "-shm"):  # e.g. left 0644 by an older sandbox
            try:
                if os.stat(name).st_mode & 0o077:
                    os.chmod(name, 0o600)
            except (FileNotFoundError, PermissionError):
                pass
        return
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
    finally:
        os.close(fd)


class Store:
    """Thread-safe access to one SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        _create_private(self.path)
        self._local = threading.local()
        # executescript commits on its own; the schema is idempotent (IF NOT EXISTS).
        self.connection().executescript(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # Small helpers so models read like queries, not cursor plumbing.
    def one(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        row = self.connection().execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.connection().execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.connection().execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.connection().execute(sql, params)

    def insert(self, table: str, values: dict[str, Any]) -> int:
        columns = ", ".join(f'"{name}"' for name in values)
        marks = ", ".join("?" for _ in values)
        cursor = self.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', tuple(values.values()))
        return int(cursor.lastrowid or 0)

    def update(self, table: str, row_id: Any, values: dict[str, Any], key: str = "id") -> None:
        if not values:
            return
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        self.execute(f'UPDATE "{table}" SET {assignments} WHERE "{key}" = ?', (*values.values(), row_id))

    def get_meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
