# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_api
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Call any ProcessMaker REST API endpoint
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.1.0
description:
  - Sends one request to the ProcessMaker 4 REST API (or, with O(all_pages), every page of a list)
    and returns the answer. This is Step 4 of ProcessMaker's "Getting an Access Token" guide, done
    with the token handling, retries and error reporting of the collection.
  - Authenticates with any of the collection's ways (see O(grant_type)); a token rejected with
    HTTP 401 is renewed once when the credentials allow it.
  - Retries 429 on any method (honouring C(Retry-After)), and 500, 502, 503, 504, dropped connections
    and corrupt bodies on idempotent methods, with exponential backoff; each retry is a warning.
  - Failures are one line saying what failed, what the server said and what to do; the decoded
    error (status, code, message, field errors) is in RV(error).
attributes:
  check_mode:
    support: full
    details: GET and HEAD requests run in check mode; other methods are reported as changed and not sent.
  diff_mode:
    support: none
options:
  method:
    description: HTTP method.
    type: str
    default: GET
    choices: [GET, POST, PUT, PATCH, DELETE, HEAD]
  path:
    description:
      - API path. Relative paths (V(users), V(users/1/tokens)) are below O(url) + O(api_path).
      - A path starting with C(/) is taken from the server root (V(/api/1.1/...)).
      - A full URL must point at O(url)'s server; the token is never sent anywhere else.
    type: str
    required: true
  query:
    description:
      - Query string parameters. Lists repeat the key; booleans are sent as V(true)/V(false).
      - ProcessMaker list endpoints read C(page), C(per_page), C(filter), C(order_by), C(order_direction),
        C(include), C(pmql).
    type: dict
  body:
    description:
      - JSON body (any JSON value). Not with GET or HEAD (use O(query)).
      - A string is sent as it is (as C(ansible.builtin.uri) does), so a JSON document written as text,
        or one from C(to_json), is not encoded a second time; C(Content-Type) is C(application/json)
        unless O(headers) sets another.
    type: raw
  form:
    description:
      - Form fields. Sent as C(application/x-www-form-urlencoded), or as C(multipart/form-data)
        together with O(files). Not with GET or HEAD.
    type: dict
  files:
    description:
      - Files to upload as C(multipart/form-data), as a mapping of form field name to local file path
        (on the host the module runs on), for example V(file=/tmp/process.json) as a one-entry mapping.
      - Each path is expanded as a C(type=path) option is (C(~) and environment variables).
    type: dict
  headers:
    description:
      - Extra request headers. C(Authorization) cannot be set here (use O(access_token)).
      - Values are one line of Latin-1 text (numbers are sent as text).
    type: dict
  dest:
    description:
      - Save the response body to this file instead of returning it (downloads, exports).
      - For GET, the task is changed only when the file's content changed.
    type: path
  status_code:
    description:
      - Statuses that count as success. Any other status fails the task. Default is any 2xx.
    type: list
    elements: int
  all_pages:
    description:
      - Follow ProcessMaker's pagination (C({data, meta}) with C(meta.total_pages)) and return every
        item in RV(data). Only for GET.
      - When O(query) has no C(per_page), 100 is used to keep the number of requests low.
    type: bool
    default: false
  max_items:
    description:
      - With O(all_pages), fail (instead of returning a silently truncated list) when the list has
        more items than this. V(0) means no limit.
    type: int
    default: 10000
notes:
  - Writes (POST, PUT, PATCH, DELETE) report C(changed=true); use C(changed_when) for calls that do not
    change anything (for example a POST that only searches).
  - "The module does not hide the body of a request: put C(no_log: true) on tasks whose O(body) holds
    secrets such as user passwords."
seealso:
  - module: processmaker.core.pm_token
  - plugin: processmaker.core.pm_api
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Step 4 of the guide, with the collection
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
    - name: List the first page of users
      processmaker.core.pm_api:
        path: users
        query:
          per_page: 5
          order_by: username
      register: first_page

    - name: Show how many users there are
      ansible.builtin.debug:
        msg: "{{ first_page.meta.total }} users, first page has {{ first_page.data | length }}"

    - name: Every user, all pages merged
      processmaker.core.pm_api:
        path: users
        all_pages: true
        max_items: 5000
      register: everyone

    - name: Create a group
      processmaker.core.pm_api:
        method: POST
        path: groups
        body:
          name: "Ansible reviewers"
          description: Created by Ansible
          status: ACTIVE
        status_code: [201]
      register: group

    - name: Rename it (ProcessMaker answers 204 to group updates)
      processmaker.core.pm_api:
        method: PUT
        path: "groups/{{ group.json.id }}"
        body:
          name: "Ansible approvers"
          description: Created by Ansible
          status: ACTIVE

    - name: Delete it again
      processmaker.core.pm_api:
        method: DELETE
        path: "groups/{{ group.json.id }}"

    - name: Or call it with a token from the lookup (asked for once per run, shared by every host)
      processmaker.core.pm_api:
        path: users
        query:
          per_page: 1
        access_token: "{{ lookup('processmaker.core.pm_token') }}"
"""

RETURN = r"""
error:
  description: The decoded failure.
  returned: on failure from the server
  type: dict
  contains:
    status:
      description: HTTP status, or null when no answer came.
      type: int
    code:
      description: Error code (OAuth C(error), or one of ours such as C(connection_error), C(too_many_items)).
      type: str
    message:
      description: What the server said.
      type: str
    field_errors:
      description: Validation errors by field (ProcessMaker's 422 C(errors)).
      type: dict
    method:
      description: HTTP method.
      type: str
    url:
      description: URL without secrets.
      type: str
status:
  description: HTTP status of the (last) response. Not returned when a write was skipped in check mode.
  returned: when a request was sent
  type: int
  sample: 200
json:
  description:
    - Decoded JSON body. With O(all_pages), C({data, meta}) with every item merged.
  returned: when the body is JSON and O(dest) is not set
  type: raw
  sample: {"data": [{"id": 1, "username": "admin"}], "meta": {"total": 1, "total_pages": 1}}
data:
  description: The C(data) key of the body (every page merged with O(all_pages)).
  returned: when the body has a data key
  type: raw
  sample: [{"id": 1, "username": "admin"}]
meta:
  description:
    - The C(meta) key of the body. With O(all_pages), the last page's meta plus C(count) (items returned)
      and C(pages_fetched).
  returned: when the body has a meta key
  type: dict
  sample: {"total": 1, "per_page": 10, "current_page": 1, "total_pages": 1}
content:
  description: The body as text when it is not JSON.
  returned: when the body is not JSON and O(dest) is not set
  type: str
headers:
  description: Response headers.
  returned: when a request was sent
  type: dict
  sample: {"Content-Type": "application/json"}
url:
  description: The URL requested (secrets in the query replaced by C(********)).
  returned: always
  type: str
  sample: https://pm.example.com/api/1.0/users?per_page=5
method:
  description: The HTTP method.
  returned: always
  type: str
  sample: GET
elapsed:
  description: Seconds the call took, retries and pages included.
  returned: when a request was sent
  type: float
  sample: 0.123
pages:
  description: Number of pages fetched.
  returned: when O(all_pages=true)
  type: int
  sample: 3
attempts:
  description: Attempts the (last) request took (more than 1 when it was retried).
  returned: when a request was sent
  type: int
  sample: 1
dest:
  description: Where the body was saved.
  returned: when O(dest) is set
  type: str
"""

import os
import re
import tempfile

from ansible.module_utils.common.validation import check_type_path
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import RuleSet

READ_METHODS = ("GET", "HEAD")

ARGUMENT_SPEC = {
    "method": {"type": "str", "default": "GET", "choices": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]},
    "path": {"type": "str", "required": True},
    "query": {"type": "dict"},
    "body": {"type": "raw"},
    "form": {"type": "dict"},
    "files": {"type": "dict"},
    "headers": {"type": "dict"},
    "dest": {"type": "path"},
    "status_code": {"type": "list", "elements": "int"},
    "all_pages": {"type": "bool", "default": False},
    "max_items": {"type": "int", "default": 10000},
}

RULES = RuleSet(
    mutually_exclusive=(("body", "form"), ("body", "files"), ("all_pages", "dest")),
)


HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def check_headers(headers):
    """(headers as HTTP can carry them, None) or (None, a one-line problem naming the header)."""
    clean = {}
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(str(name)):
            return None, f"headers: {str(name)!r} is not a header name (letters, digits and - only)"
        if value is None:
            clean[name] = None  # requests leaves the header out
            continue
        if not isinstance(value, (str, int, float)):
            return None, f"headers: the value of {name} must be text, not a {type(value).__name__}"
        text = str(value).strip()
        if "\r" in text or "\n" in text:
            return None, f"headers: the value of {name} has a line break; give one line"
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            return None, f"headers: the value of {name} has characters a header cannot carry; use Latin-1 text"
        clean[name] = text
    return clean, None


def read_files(files):
    """Multipart parts for requests, read into memory so a retried request can send them again."""
    parts = {}
    for field, path in (files or {}).items():
        path = check_type_path(path)  # what type=path does to an option (a mapping's values have no type)
        with open(path, "rb") as handle:
            parts[field] = (os.path.basename(path), handle.read())
    return parts


def save_stream(module, raw, dest, write):
    """Stream the body to a temp file next to dest; move it over dest when it differs."""
    directory = os.path.dirname(os.path.abspath(dest)) or "."
    fd, tmp = tempfile.mkstemp(prefix=".pm_api-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in raw.iter_content(65536):
                handle.write(chunk)
        changed = not os.path.exists(dest) or module.sha1(tmp) != module.sha1(dest)
        if changed and write:
            module.atomic_move(tmp, dest)
        return changed
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = ProcessMakerModule(argument_spec=ARGUMENT_SPEC, rules=RULES, supports_check_mode=True)
    params = module.params
    method = params["method"].upper()
    if params["all_pages"] and method != "GET":
        module.fail_json(msg=f"all_pages only works with method=GET (got {method})")
    if not params["path"].strip():
        module.fail_json(msg="path is empty; give an API path such as users, or a path from the server root such as"
                             " /api/1.0/users")
    if method in READ_METHODS:
        sent = [name for name in ("body", "form", "files") if params[name] is not None]
        if sent:
            module.fail_json(msg=f"{' and '.join(sent)} cannot be sent with method={method}; use method POST, PUT,"
                                 f" PATCH or DELETE, or put the parameters of a {method} in query")
    if params["max_items"] < 0:
        module.fail_json(msg=f"max_items must be 0 (no limit) or more, not {params['max_items']}")
    headers, problem = check_headers(params["headers"] or {})
    if problem:
        module.fail_json(msg=problem)
    if any(name.lower() == "authorization" for name in headers):
        module.fail_json(msg="headers must not set Authorization; give the token as access_token")
    expected = params["status_code"] or None
    max_items = params["max_items"] or None

    client = module.client()
    url = client.url_for(params["path"]) if not params["path"].startswith(("http://", "https://")) else None
    result = {"changed": method not in READ_METHODS, "method": method, "url": url}

    if module.check_mode and method not in READ_METHODS:
        result["msg"] = f"check mode: {method} not sent"
        module.exit_json(**result)

    kwargs = {"query": params["query"], "headers": headers, "expected_status": expected}
    try:
        if isinstance(params["body"], str):
            # like ansible.builtin.uri: a string is the body as it is (already JSON), never encoded again
            kwargs["data"] = params["body"].encode("utf-8")
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "application/json"
        elif params["body"] is not None:
            kwargs["json"] = params["body"]
        elif params["form"] is not None or params["files"]:
            kwargs["data"] = params["form"]
            kwargs["files"] = read_files(params["files"]) or None

        if params["all_pages"]:
            pages = client.paginate(params["path"], query=params["query"], max_items=max_items,
                                    headers=headers, expected_status=expected)
            last = pages.last_response
            result.update(status=last.status, headers=last.headers, url=pages.responses[0].url,
                          attempts=last.attempts, pages=pages.pages,
                          elapsed=round(sum(r.elapsed for r in pages.responses), 3))
            if pages.paginated:
                result.update(json={"data": pages.items, "meta": pages.meta}, data=pages.items, meta=pages.meta)
            else:
                result.update(json=last.json, data=last.data, meta=last.meta)
        elif params["dest"]:
            raw = client.request(method, params["path"], stream=True, **kwargs)
            try:
                changed = save_stream(module, raw, params["dest"], write=not module.check_mode)
            finally:
                raw.close()
            result.update(status=raw.status, headers=dict(raw.headers), dest=params["dest"],
                          attempts=raw.attempts, elapsed=round(raw.elapsed, 3))
            if method == "GET":
                result["changed"] = changed
        else:
            response = client.request(method, params["path"], **kwargs)
            result.update(status=response.status, headers=response.headers, url=response.url,
                          attempts=response.attempts, elapsed=round(response.elapsed, 3))
            if response.is_json:
                result.update(json=response.json, data=response.data, meta=response.meta)
            elif response.body:
                result["content"] = response.text
    except ProcessMakerError as error:
        if error.status and 400 <= error.status < 500:
            result["changed"] = False  # the server refused the request: nothing was written
        module.fail_from_error(error, **result)
    except OSError as error:
        module.fail_json(msg=f"cannot read or write a local file: {error}", **result)
    finally:
        client.close()
    if result.get("data") is None:
        result.pop("data", None)
    if result.get("meta") is None:
        result.pop("meta", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
