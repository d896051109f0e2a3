# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ProcessMaker's auth clients (Admin > Auth Clients), through the web routes the admin UI uses.

ProcessMaker overrides Passport's ``/oauth/clients`` (its ``Auth\\ClientController`` and ``AuthClient``
resource): ``GET`` lists every non-revoked client as ``{data: [...]}`` (secrets included), ``POST``
creates one (201, its plain ``secret``), ``PUT /oauth/clients/{id}`` replaces name, types and redirect
(200), ``DELETE`` revokes the client and every token it issued (204). ``types`` is a list of
``authorization_code_grant`` (then ``redirect`` is required), ``password_client`` and
``personal_access_client``. Names are not unique on the server; here a client is known by its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.web_session import (
    WebSession,
)

CLIENT_TYPES = ("authorization_code_grant", "password_client", "personal_access_client")
PATH = "/oauth/clients"


@dataclass(frozen=True)
class ClientSpec:
    """What the task asks a client to be."""

    name: str
    types: tuple
    redirect: str | None

    def body(self) -> dict:
        body: dict = {"name": self.name, "types": list(self.types)}
        if self.redirect is not None:
            body["redirect"] = self.redirect
        return body

    def readable(self) -> dict:
        return {"name": self.name, "types": sorted(self.types), "redirect": self.redirect or None}


def readable(client: Mapping) -> dict:
    """A client as a diff shows it (never its secret)."""
    return {"name": client.get("name"), "types": sorted(client.get("types") or []),
            "redirect": client.get("redirect") or None}


def differs(spec: ClientSpec, client: Mapping) -> bool:
    """Whether the server's client differs from the task's (types as a set; redirect only where it counts)."""
    if set(spec.types) != set(client.get("types") or []):
        return True
    return "authorization_code_grant" in spec.types and (spec.redirect or None) != (client.get("redirect") or None)


def find(session: WebSession, name: str) -> dict | None:
    """The one non-revoked client of that name, None when there is none; refuses ambiguity."""
    listed = session.request("GET", PATH).json
    clients = listed.get("data") if isinstance(listed, Mapping) else None
    if not isinstance(clients, list):
        raise ProcessMakerError("the auth client list is not a {data: [...]} answer", code="bad_page", method="GET",
                                url=session.base_url + PATH, hint="Check url: the answer did not come from ProcessMaker")
    named = [client for client in clients if isinstance(client, Mapping) and client.get("name") == name]
    if len(named) > 1:
        ids = ", ".join(str(client.get("id")) for client in named)
        raise ProcessMakerError(f"{len(named)} auth clients are named {name!r} (ids {ids}); the module knows a"
                                " client by its name", code="ambiguous",
                                hint="Rename or delete the extra clients in Admin > Auth Clients")
    return dict(named[0]) if named else None


def create(session: WebSession, spec: ClientSpec) -> dict:
    return _client(session.request("POST", PATH, json=spec.body(), expected_status=(200, 201)), session, "POST")


def update(session: WebSession, client_id: Any, spec: ClientSpec) -> dict:
    return _client(session.request("PUT", f"{PATH}/{client_id}", json=spec.body(), expected_status=(200, 201)),
                   session, "PUT")


def delete(session: WebSession, client_id: Any) -> None:
    session.request("DELETE", f"{PATH}/{client_id}", expected_status=(200, 204))


def _client(response: Any, session: WebSession, method: str) -> dict:
    body = response.json
    if isinstance(body, Mapping) and isinstance(body.get("data"), Mapping):
        body = body["data"]  # tolerate a wrapped resource
    if not isinstance(body, Mapping) or body.get("id") is None:
        raise ProcessMakerError("the answer holds no auth client", status=response.status, code="bad_answer",
                                method=method, url=session.base_url + PATH,
                                hint="Check url: the answer did not come from ProcessMaker")
    return dict(body)
