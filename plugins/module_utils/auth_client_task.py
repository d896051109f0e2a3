# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``pm_auth_client`` does with its arguments: log in, find the client by name, converge it."""

from __future__ import annotations

from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils import auth_clients
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import RuleSet
from ansible_collections.processmaker.core.plugins.module_utils.web_session import (
    WebSession,
)

# The web login needs a username and a password, never an OAuth client: bootstrapping a fresh instance
# starts before there is one.
WEB_LOGIN_RULES = RuleSet(required_together=(("username", "password"),), required_by=(("client_key", ("client_cert",)),))


def spec_of(module: Any) -> auth_clients.ClientSpec:
    params = module.params
    name = (params["name"] or "").strip()
    if not name:
        module.fail_json(msg="name is empty; give the auth client's name")
    types = tuple(dict.fromkeys(params["types"] or ()))
    if not types:
        module.fail_json(msg="types is empty; give at least one of " + ", ".join(auth_clients.CLIENT_TYPES))
    redirect = (params["redirect"] or "").strip() or None
    if "authorization_code_grant" in types and not redirect:
        module.fail_json(msg="types has authorization_code_grant, which needs redirect (the flow's redirect URL)")
    return auth_clients.ClientSpec(name=name, types=types, redirect=redirect)


def _shown(client: dict | None) -> dict:
    """The result's view of a client: its id and secret apart, the rest without the secret."""
    if client is None:
        return {}
    result: dict = {"client_id": str(client["id"]) if client.get("id") is not None else None,
                    "auth_client": {key: value for key, value in client.items() if key != "secret"}}
    if client.get("secret"):
        result["client_secret"] = client["secret"]
    return result


def run(module: Any) -> None:
    spec = spec_of(module)
    # the web login is a password login, whatever token the task (or module_defaults) also carries
    options = module.connection_options("password", rules=WEB_LOGIN_RULES)
    client = module.client("password")
    session = WebSession(client.transport, options)
    params = module.params
    try:
        session.login()
        current = auth_clients.find(session, spec.name)
        if params["state"] == "absent":
            action = "delete" if current else "unchanged"
            after = None
        elif current is None:
            action, after = "create", None
        elif params["recreate"]:
            action, after = "recreate", None
        else:
            action = "update" if auth_clients.differs(spec, current) else "unchanged"
            after = current
        if not module.check_mode:
            if action in ("delete", "recreate"):
                auth_clients.delete(session, current["id"])
            if action in ("create", "recreate"):
                after = auth_clients.create(session, spec)
            elif action == "update":
                after = auth_clients.update(session, current["id"], spec)
        elif action in ("create", "recreate"):
            after = None  # not created: no id, no secret yet
    except ProcessMakerError as error:
        module.fail_from_error(error, changed=False)
    finally:
        client.close()
    result: dict = {"changed": action != "unchanged", "action": action}
    result.update(_shown(after))
    if module._diff and action != "unchanged":
        result["diff"] = {"before": auth_clients.readable(current) if current else {},
                          "after": {} if params["state"] == "absent" else spec.readable()}
    module.exit_json(**result)
