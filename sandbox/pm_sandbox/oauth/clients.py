"""OAuth clients: create, lookup, secret check, which grants a client may use, redirect URI matching, and
the rules of ProcessMaker's client API (``Auth\\ClientController``, the ``AuthClient`` resource).

Rules of Passport 12's ``Bridge\\ClientRepository`` and league's ``RedirectUriValidator``.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import ServerError
from ..models.base import Columns, Row, Table, serialize_columns, text_value
from ..php import date_carbon_json, empty, in_array
from ..security import random_string
from ..store import Store, db_timestamp
from ..validation import validate

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


# ---- ProcessMaker's client API (Auth\\ClientController, web routes /oauth/clients) ---------------------

TYPES = ("authorization_code_grant", "password_client", "personal_access_client")
# The controller's one custom message, keyed by rule: it answers every ``min`` failure.
MIN_TYPES = "The Auth-Client must have at least :min item chosen."
_MYSQL_NUMBER = re.compile(r"^[ \t\n\r\x0b\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def resource(row: Row, **given: Any) -> Row:
    """The ``AuthClient`` resource: the plain secret, and ``types`` derived from the row (a non-empty
    redirect means the authorization code grant). ``given`` are values the controller just filled in, which
    the resource shows as the request sent them (Eloquent keeps the PHP value until the model is read again)."""
    types = []
    if not empty(row["redirect"]):
        types.append("authorization_code_grant")
    if row["personal_access_client"]:
        types.append("personal_access_client")
    if row["password_client"]:
        types.append("password_client")
    return {
        "id": row["id"],
        "name": given.get("name", row["name"]),
        "secret": row["secret"],
        "redirect": row["redirect"],
        "revoked": bool(row["revoked"]),
        "types": types,
        "created_at": date_carbon_json(row["created_at"]),
        "updated_at": date_carbon_json(row["updated_at"]),
    }


def active(store: Store) -> list[Row]:
    """``Client::where('revoked', false)->get()``: every active client, whoever created it."""
    return store.all("SELECT * FROM oauth_clients WHERE revoked = 0 ORDER BY id")


def find_any(store: Store, raw_id: str) -> Row | None:
    """``ClientRepository::find``: revoked or not. MySQL compares the integer key with the string from the
    URL as a number, so ``5abc`` finds client 5 and ``abc`` finds nothing."""
    match = _MYSQL_NUMBER.match(raw_id)
    if match is None:
        return None
    number = float(match.group(0))
    if not number.is_integer():
        return None
    return store.one("SELECT * FROM oauth_clients WHERE id = ?", (int(number),))


def _type_values(types: Any) -> list[Any]:
    return list(types.values()) if isinstance(types, dict) else list(types) if isinstance(types, list) else []


def validate_input(data: dict[str, Any]) -> None:
    """The controller's ``validate()``: ``name`` required|max:255, ``types`` array|min:1|required with each
    item one of the three types, and ``redirect`` required|url|max:2000 when the types ask for the code grant."""
    rules: dict[str, list[Any]] = {"name": ["required", "max:255"], "types": ["array", "min:1", "required"]}
    flat = dict(data)
    types = data.get("types")
    if isinstance(types, (list, dict)):
        for key, value in (types.items() if isinstance(types, dict) else enumerate(types)):
            rules[f"types.{key}"] = ["in:" + ",".join(TYPES)]
            flat[f"types.{key}"] = value
        if in_array("authorization_code_grant", _type_values(types)):
            rules["redirect"] = ["required", "url", "max:2000"]
    validate(flat, rules, messages={"min": MIN_TYPES})


def _columns(data: dict[str, Any]) -> Row:
    types = _type_values(data["types"])
    name = data["name"]
    if isinstance(name, (list, dict)):
        raise ServerError()  # Eloquent cannot save an array in a string column ("Array to string conversion")
    redirect = data.get("redirect") if in_array("authorization_code_grant", types) else ""
    return {
        "name": text_value(name),
        "redirect": text_value(redirect),
        "personal_access_client": int(in_array("personal_access_client", types)),
        "password_client": int(in_array("password_client", types)),
    }


def api_create(store: Store, user_id: int, data: dict[str, Any]) -> Row:
    """ClientController::store: ``ClientRepository::create`` of a confidential client owned by the acting user.
    It does not register a personal access client (no ``oauth_personal_access_clients`` row), and the
    provider stays null."""
    validate_input(data)
    columns = _columns(data)
    now = db_timestamp()
    with store.transaction():
        row = TABLE.insert(store, {
            **columns, "user_id": user_id, "secret": random_string(40), "provider": None, "revoked": 0,
            "created_at": now, "updated_at": now,
        })
    return resource(row, name=data["name"])


def api_update(store: Store, row: Row, data: dict[str, Any]) -> Row:
    """ClientController::update: the four columns, written only when something changed (Eloquent's save)."""
    validate_input(data)
    columns = _columns(data)
    changed = {name: value for name, value in columns.items() if row[name] != value}
    if changed:
        changed["updated_at"] = db_timestamp()
        with store.transaction():
            TABLE.update(store, row["id"], changed)
    fresh = {**row, **changed}
    return resource(fresh, name=data["name"])


def revoke(store: Store, row: Row) -> None:
    """ClientRepository::delete: ``$client->tokens()->update(['revoked' => true])`` (the access tokens; their
    refresh tokens stay as they are, unusable since the refresh grant checks the client), then the client."""
    now = db_timestamp()
    with store.transaction():
        store.execute("UPDATE oauth_access_tokens SET revoked = 1, updated_at = ? WHERE client_id = ?", (now, row["id"]))
        if not row["revoked"]:
            TABLE.update(store, row["id"], {"revoked": 1, "updated_at": now})
