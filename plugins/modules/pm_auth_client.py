# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_auth_client
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Manage ProcessMaker auth clients (OAuth clients), the step the guide asks a person to click
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.2.0
description:
  - Creates, updates, rotates and deletes an OAuth client of ProcessMaker (Admin > Auth Clients), the
    C(client_id) and C(client_secret) every token request needs. ProcessMaker's guide "Getting an Access
    Token" starts by asking a person to create one in the web UI; this module does it from a playbook, so
    a fresh instance can be bootstrapped from the administrator's login alone.
  - ProcessMaker serves auth clients on web routes (C(/oauth/clients)) that need a session login, not a
    Bearer token. The module logs in the way the admin UI does, through the C(/login) form (with its CSRF
    token), with the connection's O(username) and O(password) (an administrator, or a user with the
    C(view-auth_clients), C(create-auth_clients), C(edit-auth_clients) and C(delete-auth_clients)
    permissions it needs).
  - A client is known by its O(name). With O(state=present) a missing client is created, one whose
    O(types) or O(redirect) differ is updated, and O(recreate=true) deletes it and creates a new one, with
    a new secret (its tokens are revoked with it). With O(state=absent) it is deleted.
attributes:
  check_mode:
    support: full
    details: Logs in and lists the clients; creates, updates and deletes nothing.
  diff_mode:
    support: full
    details: The client's name, types and redirect before and after; never its secret.
options:
  name:
    description:
      - The client's name, which identifies it. Several clients of the same name make the task fail (rename
        or delete the extra ones).
    type: str
    required: true
  types:
    description:
      - What the client may do. V(password_client) for the password grant (the usual choice of a pipeline),
        V(authorization_code_grant) for the authorization code flow (needs O(redirect)),
        V(personal_access_client) to issue personal access tokens.
      - A client with V(password_client) or V(personal_access_client) counts as first-party, and
        ProcessMaker refuses it the authorization code exchange; give that flow a client of its own.
    type: list
    elements: str
    choices: [authorization_code_grant, password_client, personal_access_client]
    default: [password_client]
  redirect:
    description:
      - The redirect URL of the authorization code flow. Required with V(authorization_code_grant) in
        O(types); ProcessMaker ignores it otherwise.
    type: str
  state:
    description: V(present) creates or updates the client; V(absent) deletes it and revokes its tokens.
    type: str
    default: present
    choices: [present, absent]
  recreate:
    description:
      - With O(state=present), delete the client (its tokens are revoked) and create it again with a new
        secret, a rotation. Always changed.
    type: bool
    default: false
notes:
  - RV(client_secret) is a secret. Register the result with C(no_log=true) and keep the secret where
    secrets belong; the examples write it to a 0600 file.
  - ProcessMaker shows a client's secret to whoever may list the clients, so RV(client_secret) is
    returned for an existing client too (a later run can still get a token with it).
seealso:
  - module: processmaker.core.pm_token
  - name: The service_account role
    description: Creates a service user, its permissions and personal access token, and its own auth client.
    link: https://github.com/processmaker-core/processmaker.core/tree/main/roles/service_account
"""

EXAMPLES = r"""
- name: Bootstrap a pipeline's auth client from the administrator's login
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      url: "{{ pm_url }}"
      username: "{{ pm_username }}"
      password: "{{ pm_password }}"
  tasks:
    - name: An auth client for the password grant
      processmaker.core.pm_auth_client:
        name: ci-pipeline
        types: [password_client]
      register: ci_client
      no_log: true

    - name: A token with it (the password grant, with the login of module_defaults)
      processmaker.core.pm_token:
        grant_type: password
        client_id: "{{ ci_client.client_id }}"
        client_secret: "{{ ci_client.client_secret }}"
      register: login
      no_log: true

    - name: Use the token
      processmaker.core.pm_api:
        path: users
        query:
          per_page: 1
        access_token: "{{ login.access_token }}"

    - name: A client for the authorization code flow
      processmaker.core.pm_auth_client:
        name: ci-browser-login
        types: [authorization_code_grant]
        redirect: http://127.0.0.1:8976/callback

    - name: Rotate the pipeline client's secret
      processmaker.core.pm_auth_client:
        name: ci-pipeline
        recreate: true
      register: rotated
      no_log: true

    - name: Remove the browser client (its tokens are revoked)
      processmaker.core.pm_auth_client:
        name: ci-browser-login
        state: absent
"""

RETURN = r"""
error:
  description: The decoded failure (see M(processmaker.core.pm_api)).
  returned: on failure from the server
  type: dict
client_id:
  description: The client's id (the O(client_id) of token requests).
  returned: when the client exists after the task (or would, in check mode, once created)
  type: str
  sample: "9"
client_secret:
  description:
    - The client's secret. B(Secret.) Register the result with C(no_log=true).
    - Returned for a created client, and for an existing one (ProcessMaker lists secrets).
  returned: when the server showed it
  type: str
auth_client:
  description: The client as the server shows it, without its secret.
  returned: when the client exists after the task
  type: dict
  sample: {id: 9, name: ci-pipeline, types: [password_client], redirect: "", revoked: false}
action:
  description: V(create), V(update), V(recreate), V(delete) or V(unchanged).
  returned: always
  type: str
  sample: create
diff:
  description: The name, types and redirect before and after (with C(--diff)).
  returned: with C(--diff)
  type: dict
"""

from ansible_collections.processmaker.core.plugins.module_utils.auth_client_task import (
    run,
)
from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "types": {"type": "list", "elements": "str", "default": ["password_client"],
              "choices": ["authorization_code_grant", "password_client", "personal_access_client"]},
    "redirect": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "recreate": {"type": "bool", "default": False},
}


def main():
    module = ProcessMakerModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, returns_tokens=True)
    run(module)


if __name__ == "__main__":
    main()
