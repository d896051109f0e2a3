"""The seeded state of a new sandbox: the administrator, the OAuth clients, system data.

Seeded secrets are random per database and kept in the ``meta`` table so a restarted sandbox on
the same database file writes the same credentials file again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .config import Settings
from .models import permissions, script_executors, users
from .models import settings as settings_model
from .oauth import clients
from .oauth.keys import keys_for
from .security import hash_password, random_string, sandbox_password
from .store import Store, db_timestamp

# Tables emptied by a reset; users, oauth_clients are trimmed back to their seeded rows instead.
RESET_TABLES = [
    "process_request_tokens", "process_requests", "process_versions", "processables",
    "category_assignments", "processes", "screens", "scripts", "script_executor_builds", "script_executors",
    "group_members", "groups", "environment_variables", "categories", "settings", "assignables",
    "permissions", "oauth_access_tokens", "oauth_refresh_tokens", "oauth_auth_codes", "web_sessions",
]

ANON_USERNAME = "_pm4_anon_user"


def seed_store(store: Store, settings: Settings) -> dict[str, Any]:
    """Seed an empty database (or read back an already seeded one) and return the credentials."""
    with store.transaction():
        raw = store.get_meta("seed")
        if raw is None:
            seeded = _seed_new(store, settings)
            store.set_meta("seed", json.dumps(seeded))
            _seed_system_data(store)
        else:
            seeded = json.loads(raw)
            _sync_redirect(store, seeded, settings)
            if store.scalar("SELECT COUNT(*) FROM script_executors") == 0:  # a database from before executors
                script_executors.seed(store)
    keys_for(store, settings)  # create the signing keys now, not on the first token request
    return seeded


def reset_store(store: Store, settings: Settings) -> None:
    seeded = json.loads(store.get_meta("seed") or "{}")
    keep_clients = [client["id"] for client in seeded.get("clients", {}).values()]
    with store.transaction():
        for table in RESET_TABLES:
            store.execute(f'DELETE FROM "{table}"')
        store.execute(
            f"DELETE FROM oauth_clients WHERE id NOT IN ({','.join('?' * len(keep_clients))})", tuple(keep_clients)
        )
        store.execute("DELETE FROM users WHERE id NOT IN (?, ?)", (seeded["admin"]["id"], seeded["anon_user_id"]))
        store.execute(
            "DELETE FROM sqlite_sequence WHERE name IN ('groups','group_members','environment_variables',"
            "'categories','settings','permissions','processes','screens','scripts','script_executors',"
            "'script_executor_builds','process_requests','process_request_tokens','process_versions')"
        )
        store.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'users'", (seeded["anon_user_id"],))
        users.ANY.update(
            store,
            seeded["admin"]["id"],
            {
                "password": hash_password(seeded["admin"]["password"], settings.bcrypt_cost),
                "status": "ACTIVE",
                "is_administrator": 1,
                "deleted_at": None,
            },
        )
        _seed_system_data(store)


def _seed_system_data(store: Store) -> None:
    """What a fresh ProcessMaker has: its permission catalogue, settings and the packages' script executors."""
    permissions.seed(store)
    settings_model.seed(store)
    script_executors.seed(store)


def _seed_new(store: Store, settings: Settings) -> dict[str, Any]:
    password = settings.admin_password or sandbox_password()
    admin = users.add(store, {
        "email": "admin@processmaker.com", "firstname": "Admin", "lastname": "User",
        "username": settings.admin_username, "status": "ACTIVE", "is_administrator": 1,
        "password_changed_at": db_timestamp(),
    }, password, settings.bcrypt_cost)
    anonymous = users.add(store, {
        "email": "anonymous-pm4-user@processmaker.com", "firstname": "Anonymous", "lastname": "User",
        "username": ANON_USERNAME, "status": "ACTIVE", "is_system": 1,
    }, random_string(40), settings.bcrypt_cost)

    def client(name: str, redirect: str, **kind: bool) -> dict[str, Any]:
        row = clients.create(store, name, redirect, **kind)
        return {"id": row["id"], "secret": row["secret"], "name": name, "redirect": redirect}

    return {
        "admin": {"id": admin["id"], "username": settings.admin_username, "password": password},
        "anon_user_id": anonymous["id"],
        "clients": {
            "personal_access": client("PmApi", "http://localhost", personal=True),
            "password": client("Password Grant", "http://localhost", password=True),
            "authorization_code": client("Sandbox Authorization Code", settings.redirect_uri),
        },
    }


def _sync_redirect(store: Store, seeded: dict[str, Any], settings: Settings) -> None:
    """A restart with another --redirect-uri updates the authorization-code client."""
    client = seeded["clients"]["authorization_code"]
    if client["redirect"] != settings.redirect_uri:
        client["redirect"] = settings.redirect_uri
        clients.TABLE.update(store, client["id"], {"redirect": settings.redirect_uri})
        store.set_meta("seed", json.dumps(seeded))


def credentials_document(seeded: dict[str, Any], settings: Settings, url: str) -> dict[str, Any]:
    """What tests, the demo and users read: where the sandbox is and how to log in."""
    clients = seeded["clients"]
    return {
        "url": url,
        "api_url": url + "/api/1.0",
        "token_url": url + "/oauth/token",
        "authorize_url": url + "/oauth/authorize",
        "operator_key": settings.operator_key,
        "operator_header": "X-Sandbox-Key",
        "admin": dict(seeded["admin"]),
        "password_client": {"client_id": str(clients["password"]["id"]), "client_secret": clients["password"]["secret"]},
        "authorization_code_client": {
            "client_id": str(clients["authorization_code"]["id"]),
            "client_secret": clients["authorization_code"]["secret"],
            "redirect_uri": clients["authorization_code"]["redirect"],
        },
        "personal_access_client": {
            "client_id": str(clients["personal_access"]["id"]),
            "client_secret": clients["personal_access"]["secret"],
        },
        "pid": os.getpid(),
    }


def write_credentials(path: str, document: dict[str, Any]) -> None:
    """Write atomically with mode 0600 so a reader never sees a half-written or world-readable file.

    The temporary file gets an unpredictable name and is created with ``O_EXCL`` (mkstemp), so a file
    or symlink another local user prepared in a shared directory is never written through; the rename
    then replaces whatever stood at ``path`` (a symlink included) instead of following it.
    """
    target = Path(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
