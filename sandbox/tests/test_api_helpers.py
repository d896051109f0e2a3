"""Shared helpers of the /api/1.0 tests (no tests here).

The repository runs pytest with ``--import-mode=importlib``, so the test modules put this folder on
``sys.path`` themselves before importing these helpers.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import requests
from pm_sandbox.testing import SandboxProcess

PASSWORD = "Secret-Pass1!"
NOT_FOUND = {"error": "Not Found"}
UNAUTHENTICATED = {"error": "Unauthenticated."}
UNAUTHORIZED = {"message": "This action is unauthorized."}
USER_CLASS = "ProcessMaker\\Models\\User"
GROUP_CLASS = "ProcessMaker\\Models\\Group"

META_KEYS = [
    "filter", "sort_by", "sort_order", "count", "total_pages", "current_page", "from", "last_page", "links",
    "path", "per_page", "to", "total",
]


def user_body(username: str, **fields: Any) -> dict[str, Any]:
    return {
        "username": username,
        "firstname": "Test",
        "lastname": "User",
        "email": f"{username}@example.com",
        "status": "ACTIVE",
        "password": PASSWORD,
        **fields,
    }


def create_user(sandbox: SandboxProcess, username: str, **fields: Any) -> dict[str, Any]:
    response = sandbox.api("POST", "/users", json=user_body(username, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def token_for(sandbox: SandboxProcess, username: str, password: str = PASSWORD) -> str:
    return sandbox.password_token(username, password)["access_token"]


def user_with_token(sandbox: SandboxProcess, username: str, *permissions: str) -> tuple[dict[str, Any], str]:
    """A non-administrator holding exactly ``permissions``, and a token for it."""
    user = create_user(sandbox, username)
    if permissions:
        grant(sandbox, user["id"], *permissions)
    return user, token_for(sandbox, username)


def grant(sandbox: SandboxProcess, user_id: int, *permissions: str) -> None:
    response = sandbox.api("PUT", "/permissions", json={"user_id": user_id, "permission_names": list(permissions)})
    assert response.status_code == 204, response.text


def create_group(sandbox: SandboxProcess, name: str, **fields: Any) -> dict[str, Any]:
    response = sandbox.api("POST", "/groups", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def add_member(sandbox: SandboxProcess, group_id: int, member_id: int, member_type: str = USER_CLASS) -> requests.Response:
    return sandbox.api(
        "POST", "/group_members", json={"group_id": group_id, "member_id": member_id, "member_type": member_type}
    )


def db(sandbox: SandboxProcess) -> sqlite3.Connection:
    """The sandbox's own database file, for bulk test data that would be slow through the API."""
    connection = sqlite3.connect(sandbox.workdir / "sandbox.sqlite", timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def insert_users(sandbox: SandboxProcess, count: int, prefix: str = "bulk") -> None:
    stamp = "2025-01-31 12:34:56"
    rows = [
        (f"uuid-{prefix}-{i}", f"{prefix}{i:05d}@example.com", "x", "Bulk", f"User{i:05d}", f"{prefix}{i:05d}",
         stamp, stamp)
        for i in range(count)
    ]
    with closing(db(sandbox)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO users (uuid, email, password, firstname, lastname, username, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("COMMIT")


def no_token(sandbox: SandboxProcess, method: str, path: str, **kwargs: Any) -> requests.Response:
    return sandbox.session().request(
        method, sandbox.api_url + path, headers={"Accept": "application/json"}, timeout=30, **kwargs
    )
