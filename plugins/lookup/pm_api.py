# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: pm_api
short_description: Read from the ProcessMaker REST API (GET only), to template data into plays
version_added: 0.1.0
description:
  - GETs each term (an API path) and returns its JSON body, or with O(all_pages) every item of a paginated
    list merged into one list.
  - Read only. For writes use M(processmaker.core.pm_api).
  - Authenticates like M(processmaker.core.pm_api), with tokens shared through the same cache as the
    P(processmaker.core.pm_token#lookup) lookup, so lookups across hosts and forks ask for one token.
requirements:
  - requests >= 2.28 (Python library), on the controller
author:
  - processmaker.core maintainers (@processmaker-core)
extends_documentation_fragment:
  - processmaker.core.connection.plugins
  - processmaker.core.connection.cache
options:
  _terms:
    description:
      - API paths, relative to O(api_path) (V(users)) or from the server root (V(/api/1.1/...)).
    required: true
    type: list
    elements: str
  query:
    description: Query string parameters for every term.
    type: dict
  all_pages:
    description:
      - Follow ProcessMaker's pagination and return the merged C(data) list of every page instead of
        the body. With no C(per_page) in O(query), 100 is used.
    type: bool
    default: false
  max_items:
    description: With O(all_pages), fail when the list has more items than this. V(0) means no limit.
    type: int
    default: 10000
seealso:
  - module: processmaker.core.pm_api
  - plugin: processmaker.core.pm_token
    plugin_type: lookup
"""

EXAMPLES = r"""
# Connection options come from pm_* variables or PM_* environment variables, as for pm_token.
- name: Template API data into a play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Usernames of every active user
      ansible.builtin.debug:
        msg: >-
          {{ lookup('processmaker.core.pm_api', 'users', query={'status': 'ACTIVE'}, all_pages=true)
             | map(attribute='username') | list }}

    - name: How many groups there are, from the first page's meta
      ansible.builtin.debug:
        msg: "{{ lookup('processmaker.core.pm_api', 'groups', query={'per_page': 1}).meta.total }} groups"

    - name: Several paths at once with query()
      ansible.builtin.debug:
        msg: "{{ query('processmaker.core.pm_api', 'users/1', 'groups') | length }} answers"
"""

RETURN = r"""
_raw:
  description:
    - One element per term, the decoded JSON body; with O(all_pages), the list of every item.
  type: list
  elements: raw
"""

from ansible.module_utils.common.validation import check_type_bool
from ansible_collections.processmaker.core.plugins.plugin_utils.lookup import (
    ProcessMakerLookup,
)


class LookupModule(ProcessMakerLookup):
    NAME = "processmaker.core.pm_api"
    CODE_FLOW_HINT = "get a token with the processmaker.core.pm_token module and pass it as access_token"

    def run(self, terms, variables=None, **kwargs):
        if not terms:
            self.fail("needs at least one API path")
        if kwargs.get("all_pages") is not None:  # Ansible reads a lookup's bool loosely: "maybe" would be false
            try:
                check_type_bool(kwargs["all_pages"])
            except TypeError:
                self.fail(f"all_pages must be true or false, not {kwargs['all_pages']!r}")
        results = []
        with self.talking(self.connect(variables, kwargs)) as client:
            query = self.get_option("query") or {}
            all_pages = self.get_option("all_pages")
            if (self.get_option("max_items") or 0) < 0:
                self.fail(f"max_items must be 0 (no limit) or more, not {self.get_option('max_items')}")
            max_items = self.get_option("max_items") or None
            for term in terms:
                path = str(term)
                if all_pages:
                    pages = client.paginate(path, query=query, max_items=max_items)
                    results.append(pages.items if pages.paginated else pages.last_response.json)
                else:
                    response = client.get(path, query=query)
                    results.append(response.json if response.is_json else response.text)
        return results
