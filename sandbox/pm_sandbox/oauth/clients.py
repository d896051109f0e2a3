"""OAuth clients: create, lookup, secret check, which grants a client may use, redirect URI matching.

Rules of Passport 12's ``Bridge\\ClientRepository`` and league's ``RedirectUriValidator``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..models.base import Columns, Row, Table, serialize_columns
from ..php import empty
from ..security import random_string
from ..store import Store, db_timestamp

TABLE = Table("oauth_clients")
# Passport's Client model (``secret`` hidden, Carbon dates).
COLUMNS: Columns = {
    "id": "int", "user_id": "int", "name": "text", "provider": "text", "redirect": "text",
    "personal_access_client": "bool", "password_client": "bool", "revoked": "bool", "created_at": "carbon",
    "updated_at": "carbon",
}


@dataclass
class Client:
    row: dict[str, Any]
    # The client id exactly as the request gave it (a form string or a JSON number). league
    # compares it strictly with the id stored in codes and refresh tokens, so "3" is not 3.
    identifier: Any

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def confidential(self) -> bool:
        return not empty(self.row["secret"])

    @property
    def first_party(self) -> bool:
        return bool(self.row["personal_access_client"]) or bool(self.row["password_client"])

    @property
    def redirect_uris(self) -> list[str]:
        return (self.row["redirect"] or "").split(",")

    def handles_grant(self, grant_type: str) -> bool:
        if grant_type == "authorization_code":
            return not self.first_party
        if grant_type == "personal_access":
            return bool(self.row["personal_access_client"]) and self.confidential
        if grant_type == "password":
            return bool(self.row["password_client"])
        if grant_type == "client_credentials":
            return self.confidential
        return True

    def secret_matches(self, secret: str | None) -> bool:
        # Passport compares plain secrets with hash_equals (PM does not hash client secrets).
        return hmac.compare_digest((self.row["secret"] or "").encode(), (secret or "").encode())


def serialize(row: Row) -> Row:
    return serialize_columns(row, COLUMNS)


def create(store: Store, name: str, redirect: str, *, password: bool = False, personal: bool = False) -> Row:
    """ClientRepository::create (``passport:client``): a confidential client with a random 40-letter secret;
    a password client uses the ``users`` provider, a personal access client is registered as one."""
    now = db_timestamp()
    row = TABLE.insert(store, {
        "name": name, "secret": random_string(40), "provider": "users" if password else None, "redirect": redirect,
        "personal_access_client": int(personal), "password_client": int(password), "created_at": now,
        "updated_at": now,
    })
    if personal:
        store.insert("oauth_personal_access_clients", {"client_id": row["id"], "created_at": now, "updated_at": now})
    return row


def client_key(identifier: Any) -> int | None:
    """The integer primary key a client id refers to, or None when it cannot name a client."""
    if isinstance(identifier, bool):
        return None
    if isinstance(identifier, int):
        return identifier
    if isinstance(identifier, str) and identifier.isascii() and identifier.isdigit():
        return int(identifier)
    return None


def find_active(store: Store, identifier: Any) -> Client | None:
    key = client_key(identifier)
    if key is None:
        return None
    row = store.one("SELECT * FROM oauth_clients WHERE id = ? AND revoked = 0", (key,))
    return Client(row, identifier) if row else None


def redirect_allowed(redirect_uri: str, allowed: list[str]) -> bool:
    """Exact match, except that the port is ignored for http://127.0.0.1 and http://[::1] (RFC 8252)."""
    if _is_loopback(redirect_uri):
        wanted = _without_port(redirect_uri)
        return any(wanted is not None and wanted == _without_port(uri) for uri in allowed)
    return redirect_uri in allowed


def _split_authority(netloc: str) -> tuple[str, str, str] | None:
    """(userinfo@, host, port) of an authority, or None when the port is not a number."""
    userinfo, _, hostport = netloc.rpartition("@")
    prefix = userinfo + "@" if _ else ""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return None
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        port = rest.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    if port and not port.isdigit():
        return None
    return prefix, host, port


def _is_loopback(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    authority = _split_authority(parts.netloc)
    return parts.scheme == "http" and authority is not None and authority[1] in ("127.0.0.1", "[::1]")


def _without_port(uri: str) -> str | None:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    authority = _split_authority(parts.netloc)
    if authority is None:
        return None
    return parts._replace(netloc=authority[0] + authority[1]).geturl()
