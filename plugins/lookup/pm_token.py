# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: pm_token
short_description: A ProcessMaker access token, asked for once per credential across a whole run
version_added: 0.1.0
description:
  - Returns an access token for the connection options, for O(processmaker.core.pm_api#module:access_token)
    or any templated C(Authorization) header.
  - Tokens go through a shared on-disk cache, so every task, host and fork of a run (and later runs, until
    the token expires) that asks with the same credential gets the same token, and the server is asked once.
    Concurrent forks wait on a file lock instead of racing. A cached token is renewed O(refresh_margin)
    seconds before it expires, with its refresh token when it has one.
  - Works with the V(password), V(client_credentials) and V(refresh_token) grants (cached), and V(token)
    (the given O(access_token) is returned as it is). The authorization code flow needs a person; use
    M(processmaker.core.pm_token) for it.
requirements:
  - requests >= 2.28 (Python library), on the controller
author:
  - processmaker.core maintainers (@processmaker-core)
extends_documentation_fragment:
  - processmaker.core.connection.plugins
  - processmaker.core.connection.cache
options:
  _terms:
    description: Not used; give no terms.
    required: false
notes:
  - The token is a secret. Lookups are evaluated where they are used, so prefer passing
    V(lookup('processmaker.core.pm_token'\)) straight to O(processmaker.core.pm_api#module:access_token)
    over storing it in a fact, and set C(no_log=true) on tasks that print or register it.
  - The cache holds tokens (never passwords or client secrets) in files readable only by the user.
seealso:
  - module: processmaker.core.pm_token
  - plugin: processmaker.core.pm_api
    plugin_type: lookup
"""

EXAMPLES = r"""
# The lookup reads pm_* variables (pm_url, pm_client_id, ...), then PM_* environment variables
# (PM_URL, PM_CLIENT_ID, PM_CLIENT_SECRET, PM_USERNAME, PM_PASSWORD, ...), like the modules.
- name: One token for every host and task of the play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Call the API with the cached token
      processmaker.core.pm_api:
        path: users
        query:
          per_page: 1
        access_token: "{{ lookup('processmaker.core.pm_token') }}"

    - name: Renew tokens five minutes before they expire
      processmaker.core.pm_api:
        path: groups
        access_token: "{{ lookup('processmaker.core.pm_token', refresh_margin=300) }}"

    - name: A token straight from the server, not cached
      processmaker.core.pm_api:
        path: users
        query:
          per_page: 1
        access_token: "{{ lookup('processmaker.core.pm_token', cache=false) }}"
"""

RETURN = r"""
_raw:
  description: The access token (one element). B(Secret.)
  type: list
  elements: str
"""

from ansible_collections.processmaker.core.plugins.plugin_utils.lookup import (
    ProcessMakerLookup,
)


class LookupModule(ProcessMakerLookup):
    NAME = "processmaker.core.pm_token"
    CODE_FLOW_HINT = "use the processmaker.core.pm_token module"

    def run(self, terms, variables=None, **kwargs):
        if terms:
            self.fail(f"takes no terms, only options (got {len(terms)})")
        with self.talking(self.connect(variables, kwargs)) as client:
            return [client.token.access_token]
