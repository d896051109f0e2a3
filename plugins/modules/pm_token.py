# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_token
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Get ProcessMaker OAuth 2.0 access tokens and manage personal access tokens
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.1.0
description:
  - Gets an access token in each way ProcessMaker (Laravel Passport) issues one, as in its "Getting an
    Access Token" guide, and works with any RFC 6749 authorization server through O(token_url).
  - V(password), V(client_credentials) and V(refresh_token) grants ask the token endpoint once. Token
    requests are form encoded with C(client_id) in the body.
  - V(authorization_code) is two steps. Without O(code) or O(callback_url) the module returns
    RV(authorization_url) (with a fresh RV(state) and a PKCE S256 challenge) and the RV(code_verifier)
    to keep; send a person there. With the O(code) (or the whole O(callback_url)) they were redirected
    with, it exchanges the code, checking O(expected_state) when given.
  - With O(grant_type=token) (or just O(access_token)) it validates the given token (a personal access
    token, say) against the API and returns its owner and expiry.
  - With O(name) or O(token_id) it manages personal access tokens of a user through
    C(/api/1.0/users/{user}/tokens), authenticated by any of the above. O(state=present) creates one
    (returned once, as the server never shows it again); O(state=absent) revokes.
attributes:
  check_mode:
    support: full
    details:
      - Token requests are not configuration changes; they run in check mode so later tasks can read.
      - Creating or revoking a personal access token is reported and not done.
  diff_mode:
    support: none
options:
  code:
    description:
      - Authorization code the person was redirected back with. Implies O(grant_type=authorization_code).
    type: str
  callback_url:
    description:
      - The whole URL the person was redirected to (with C(code) and C(state), or C(error)). Instead of
        O(code) and O(received_state).
    type: str
  code_verifier:
    description:
      - The PKCE verifier returned by the first step. Needed when the authorization URL carried a challenge.
    type: str
  expected_state:
    description:
      - The RV(state) returned by the first step. When set, the state that came back (from O(callback_url) or
        O(received_state)) must equal it, or the task fails (the response may be forged).
    type: str
  received_state:
    description: The C(state) the person was redirected back with, when O(code) is given separately.
    type: str
  authorize_params:
    description: Extra query parameters for the authorization URL, for example V(prompt=consent) as a mapping.
    type: dict
  name:
    description:
      - Name of a personal access token of O(user). Selects personal access token management.
    type: str
  token_id:
    description:
      - ID of a personal access token, to revoke it with O(state=absent).
    type: str
  user:
    description:
      - Owner of the personal access token, a user ID or an exact username.
      - Default is the user the connection authenticates as (the C(sub) of its access token).
    type: str
  state:
    description:
      - With O(name) or O(token_id). V(present) creates the personal access token when the user has none by
        that name; V(absent) revokes every token with that name (or the one with O(token_id)).
    type: str
    default: present
    choices: [present, absent]
  recreate:
    description:
      - With O(state=present), revoke the user's tokens named O(name) and create a new one even if one exists.
        Use it to rotate a token whose value was lost.
    type: bool
    default: false
notes:
  - "The module returns tokens, and C(no_log) cannot hide return values: put C(no_log: true) on every task that
    registers its result, and pass the tokens to later tasks as O(access_token)."
  - C(changed) is V(true) only when a personal access token is created or revoked. Issuing an OAuth token is
    reported as unchanged (it changes no configuration), so plays that log in stay idempotent.
  - ProcessMaker's API rejects C(client_credentials) tokens (they carry no user); the grant is there for other
    RFC 6749 servers and APIs that accept client tokens.
seealso:
  - module: processmaker.core.pm_api
  - plugin: processmaker.core.pm_token
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Password grant, then call the API with the token (the guide's Password section and Step 4)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      url: "{{ pm_url }}"
      client_id: "{{ pm_client_id }}"
      client_secret: "{{ pm_client_secret }}"
  tasks:
    - name: Get a token
      processmaker.core.pm_token:
        username: "{{ pm_username }}"
        password: "{{ pm_password }}"
      register: login
      no_log: true

    - name: Use it
      processmaker.core.pm_api:
        path: users
        access_token: "{{ login.access_token }}"
      register: users

    - name: Renew it with its refresh token (the old pair stops working)
      processmaker.core.pm_token:
        refresh_token: "{{ login.refresh_token }}"
      register: renewed
      no_log: true

- name: Authorization code flow with PKCE (the guide's Authorization Code section)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      url: "{{ pm_url }}"
      client_id: "{{ pm_code_client_id }}"
      client_secret: "{{ pm_code_client_secret }}"
      redirect_uri: "{{ pm_redirect_uri }}"
  tasks:
    - name: Build the authorization URL
      processmaker.core.pm_token:
        grant_type: authorization_code
      register: authorize
      no_log: true

    - name: Ask the person to approve and paste the URL they land on
      ansible.builtin.pause:
        prompt: "Open {{ authorize.authorization_url }} , approve, then paste the URL you were sent to"
        echo: false
      register: pasted
      no_log: true  # the pasted URL carries a single-use code

    - name: Exchange the code
      processmaker.core.pm_token:
        callback_url: "{{ pasted.user_input }}"
        code_verifier: "{{ authorize.code_verifier }}"
        expected_state: "{{ authorize.state }}"
      register: login
      no_log: true

- name: Personal access tokens for a CI account
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      url: "{{ pm_url }}"
      client_id: "{{ pm_client_id }}"
      client_secret: "{{ pm_client_secret }}"
      username: "{{ pm_username }}"
      password: "{{ pm_password }}"
  tasks:
    - name: Create a PAT for the admin (returned only when it is created)
      processmaker.core.pm_token:
        name: ci-deploy
        user: admin
      register: pat
      no_log: true

    - name: Check the PAT and see whose it is
      processmaker.core.pm_token:
        access_token: "{{ pat.access_token }}"
      register: checked

    - name: Revoke it
      processmaker.core.pm_token:
        name: ci-deploy
        user: admin
        state: absent
"""

RETURN = r"""
error:
  description: The decoded failure (status, code, message, field_errors, method, url).
  returned: on failure from the server
  type: dict
access_token:
  description: The access token (a JWT for ProcessMaker). B(Secret.) Not returned when validating a given token.
  returned: when a token was issued or a personal access token created
  type: str
token_type:
  description: Token type, C(Bearer).
  returned: when a token was issued or a personal access token created
  type: str
  sample: Bearer
refresh_token:
  description: Refresh token (password, authorization code and refresh grants). B(Secret.) Each use revokes it.
  returned: when the server issued one
  type: str
expires_in:
  description: Seconds until the access token expires.
  returned: when known
  type: int
  sample: 31535999
expires_at:
  description: When the access token expires, ISO 8601 in UTC.
  returned: when known
  type: str
  sample: "2026-05-01T12:00:00.123456Z"
expires_at_epoch:
  description: When the access token expires, in seconds since the epoch.
  returned: when known
  type: int
  sample: 1777636800
scopes:
  description: Scopes of the token (from the response, or the JWT C(scopes) claim).
  returned: when a token was issued or validated
  type: list
  elements: str
  sample: []
valid:
  description:
    - V(true) when the given O(access_token) was validated (O(grant_type=token)); the API accepted it. A token
      the API rejects fails the task instead.
  returned: when a given token was validated
  type: bool
  sample: true
grant_type:
  description: The grant used (V(token) when a given token was validated, V(personal_access) for a new PAT).
  returned: when a token was issued or validated
  type: str
  sample: password
user:
  description: The user the token acts as.
  returned: when known
  type: dict
  contains:
    id:
      description: User ID.
      type: int
    username:
      description: Username (when known).
      type: str
  sample: {"id": 1, "username": "admin"}
authorization_url:
  description: Where to send the person (first step of the authorization code flow).
  returned: when O(grant_type=authorization_code) without a code
  type: str
state:
  description: The fresh C(state) in RV(authorization_url); pass it back as O(expected_state).
  returned: when O(grant_type=authorization_code) without a code
  type: str
code_verifier:
  description: The PKCE verifier to pass back as O(code_verifier). B(Secret.)
  returned: when O(grant_type=authorization_code) without a code
  type: str
code_challenge:
  description: The S256 challenge sent in RV(authorization_url).
  returned: when O(grant_type=authorization_code) without a code
  type: str
personal_access_token:
  description: The personal access token's record (no secret in it).
  returned: with O(name) and O(state=present)
  type: dict
  sample:
    id: 4f1c0d2e
    name: ci-deploy
    user_id: 1
    revoked: false
    expires_at: "2027-01-31T12:34:56.000000Z"
revoked:
  description: IDs of the personal access tokens revoked (or that would be, in check mode).
  returned: with O(state=absent), or O(recreate=true)
  type: list
  elements: str
"""

import hmac
from urllib.parse import parse_qs, urlsplit

from ansible_collections.processmaker.core.plugins.module_utils import (
    personal_tokens as pats,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import RuleSet
from ansible_collections.processmaker.core.plugins.module_utils.pkce import (
    authorization_url,
    new_code_verifier,
    new_state,
    s256_challenge,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import iso8601

ARGUMENT_SPEC = {
    "code": {"type": "str", "no_log": True},
    "callback_url": {"type": "str", "no_log": True},
    "code_verifier": {"type": "str", "no_log": True},
    "expected_state": {"type": "str", "no_log": False},
    "received_state": {"type": "str", "no_log": False},
    "authorize_params": {"type": "dict"},
    "name": {"type": "str"},
    "token_id": {"type": "str", "no_log": False},
    "user": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "recreate": {"type": "bool", "default": False},
}

RULES = RuleSet(
    mutually_exclusive=(
        ("code", "callback_url"),
        ("received_state", "callback_url"),
        ("name", "code"),
        ("name", "callback_url"),
        ("token_id", "code"),
        ("token_id", "callback_url"),
    ),
    required_by=(("received_state", ("code",)),),
)


def token_result(token, now=None):
    result = token.to_result(now)
    return {key: value for key, value in result.items() if value is not None}


def parse_callback(url):
    """code, state, and the OAuth error (if the person denied) from the redirect URL."""
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)

    def first(name):
        values = query.get(name) or [None]
        return values[0]

    return first("code"), first("state"), first("error"), first("error_description") or first("message")


def authorization_step(module, options):
    params = module.params
    verifier = new_code_verifier()
    state = new_state()
    challenge = s256_challenge(verifier)
    url = authorization_url(
        options.authorize_endpoint,
        client_id=options.values["client_id"],
        redirect_uri=options.values.get("redirect_uri"),
        state=state,
        code_challenge=challenge,
        scope=options.scope_string,
        extra={str(k): str(v) for k, v in (params["authorize_params"] or {}).items()},
    )
    module.exit_json(
        changed=False, authorization_url=url, state=state, code_verifier=verifier, code_challenge=challenge,
        code_challenge_method="S256", redirect_uri=options.values.get("redirect_uri"),
    )


def code_from_params(module):
    params = module.params
    code, received_state = params["code"], params["received_state"]
    if params["callback_url"]:
        try:
            code, received_state, error, description = parse_callback(params["callback_url"])
        except ValueError as problem:
            module.fail_json(msg=f"callback_url is not a URL ({problem}); give the URL the browser was redirected to")
        if error:
            detail = ": " + description.rstrip(".") if description else ""
            module.fail_json(msg=f"authorization failed: {error}{detail}. The person denied access or the request was"
                                 " invalid; start the flow again")
        if not code:
            module.fail_json(msg="callback_url has no code parameter; give the URL the browser was redirected to")
    expected = params["expected_state"]
    if expected is not None:
        if received_state is None:
            module.fail_json(msg="expected_state is set but no state came back; give callback_url or received_state")
        if not hmac.compare_digest(str(expected).encode("utf-8", "surrogatepass"),
                                   str(received_state).encode("utf-8", "surrogatepass")):
            module.fail_json(msg="the state that came back does not match expected_state: the redirect may be forged"
                                 " or from another attempt; start the flow again")
    return code


def describe_user(client, user_id, username=None):
    """{id, username}; asks the API for the username when it is not known (best effort)."""
    if user_id is None:
        return None
    if username is None:
        try:
            return pats.user_summary(client.get(f"users/{user_id}").json) or {"id": _int(user_id)}
        except ProcessMakerError:
            return {"id": _int(user_id)}
    return {"id": _int(user_id), "username": username}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def validate_given_token(module, client):
    """grant_type=token: prove the token works and say whose it is and until when."""
    token = client.token
    if token.user_id is not None:
        user = pats.user_summary(client.get(f"users/{token.user_id}").json)
    else:
        client.get("users", query={"per_page": 1}, expected_status=(200, 403))
        user = None
    result = token_result(token)
    for secret in ("access_token", "refresh_token"):
        result.pop(secret, None)  # the caller has it already
    result.update(changed=False, valid=True)
    if user:
        result["user"] = user
    module.exit_json(**result)


def manage_personal_token(module, client):
    params = module.params
    if params["user"]:
        owner = pats.find_user(client, params["user"])
        user_id, user = owner.get("id"), pats.user_summary(owner)
    else:
        user_id = pats.caller_id(client)
        if user_id is None:
            module.fail_json(msg="cannot tell which user the token belongs to; set user (an id or a username)")
        login = client.options.values.get("username") if client.options.grant_type == "password" else None
        user = describe_user(client, user_id, login)
    result = {"changed": False, "user": user}

    if params["state"] == "absent":
        if params["token_id"]:
            info = pats.get_token_info(client, user_id, params["token_id"])
            targets = [info["id"]] if info and not info.get("revoked") else []
        else:
            targets = [item["id"] for item in pats.list_tokens(client, user_id) if item.get("name") == params["name"]]
        if targets and not module.check_mode:
            targets = [token_id for token_id in targets if pats.revoke_token(client, user_id, token_id)]
        result.update(changed=bool(targets), revoked=targets)
        module.exit_json(**result)

    if not params["name"]:
        module.fail_json(msg="state=present needs name (token_id only selects a token to revoke)")
    existing = [item for item in pats.list_tokens(client, user_id) if item.get("name") == params["name"]]
    if existing and not params["recreate"]:
        result["personal_access_token"] = pats.public_token_info(existing[0])
        module.exit_json(**result)
    if module.check_mode:
        result.update(changed=True, revoked=[item["id"] for item in existing] if existing else [])
        module.exit_json(**result)
    revoked = [item["id"] for item in existing if pats.revoke_token(client, user_id, item["id"])]
    token, info = pats.create_token(client, user_id, params["name"])
    module.add_secret(token.access_token)
    result.update(token_result(token))
    result.update(changed=True, personal_access_token=info)
    if params["recreate"]:
        result["revoked"] = revoked
    if token.expires_at is not None:
        result["expires_at"] = iso8601(token.expires_at)
    module.exit_json(**result)


# Options of the code exchange: any of them makes the task an authorization_code exchange, so that an
# empty code or callback_url can never fall through to another grant (password from PM_* variables...).
EXCHANGE_OPTIONS = ("code", "callback_url", "code_verifier", "expected_state", "received_state")


def exchange_grant(module):
    """``authorization_code`` when the task gives any option of the code exchange, else None."""
    params = module.params
    for name in ("code", "callback_url"):
        if params[name] is not None and not params[name].strip():
            module.fail_json(msg=f"{name} is empty: give the {'code' if name == 'code' else 'URL'} the browser was"
                                 f" redirected with, or leave {name} out")
    given = [name for name in EXCHANGE_OPTIONS if params[name] is not None]
    if given and not (params["code"] or params["callback_url"]):
        module.fail_json(msg=f"{' and '.join(given)} belong to the authorization code exchange, which needs code or"
                             " callback_url (the URL the browser was redirected to); give one of them")
    return "authorization_code" if given else None


def main():
    module = ProcessMakerModule(argument_spec=ARGUMENT_SPEC, rules=RULES, supports_check_mode=True,
                                returns_tokens=True)
    params = module.params
    grant_hint = exchange_grant(module)
    options = module.connection_options(grant_hint)
    if grant_hint and options.grant_type != grant_hint:
        given = "code" if params["code"] else "callback_url"
        module.fail_json(msg=f"{given} is for grant_type=authorization_code, not grant_type={options.grant_type};"
                             f" leave grant_type unset to exchange the code, or drop {given}")
    if params["name"] is None and params["token_id"] is None and params["state"] == "absent":
        module.fail_json(msg="state=absent needs name or token_id of the personal access token to revoke")
    if params["token_id"] is not None and not params["name"] and params["state"] == "present":
        module.fail_json(msg="state=present needs name (token_id only selects a token to revoke with state=absent)")

    if options.grant_type == "authorization_code" and not (params["code"] or params["callback_url"]):
        if params["name"] or params["token_id"]:
            module.fail_json(msg="personal access tokens need a token first: finish the authorization code flow"
                                 " (give code or callback_url), or use another grant")
        authorization_step(module, options)

    code_flow = {}
    if options.grant_type == "authorization_code":
        code = code_from_params(module)  # a denial, a missing code or a forged state fail here first
        if params["expected_state"] is not None and not params["code_verifier"]:
            module.fail_json(msg="expected_state is set but code_verifier is not: the authorization URL of the first"
                                 " step carried a PKCE challenge, so the exchange needs its code_verifier; pass the"
                                 " code_verifier the first step returned")
        code_flow = {
            "code": code,
            "redirect_uri": options.values.get("redirect_uri"),
            "code_verifier": params["code_verifier"],
        }
    client = module.client(grant_hint, **code_flow)
    try:
        if params["name"] or params["token_id"]:
            manage_personal_token(module, client)
        if options.grant_type == "token":
            validate_given_token(module, client)
        token = client.token
        module.add_secret(token.access_token)
        module.add_secret(token.refresh_token)
        result = token_result(token)
        if options.grant_type == "authorization_code":
            result["user"] = describe_user(client, token.user_id)  # whoever approved: ask the API
        elif token.user_id is not None:
            result["user"] = {"id": _int(token.user_id)}
            if options.grant_type == "password":
                result["user"]["username"] = options.values.get("username")
        result["changed"] = False
        module.exit_json(**{k: v for k, v in result.items() if v is not None})
    except ProcessMakerError as error:
        module.fail_from_error(error)
    finally:
        client.close()


if __name__ == "__main__":
    main()
