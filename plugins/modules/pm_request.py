# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_request
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Start ProcessMaker requests, wait for them, cancel them (smoke tests, approval gates)
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.2.0
description:
  - Starts a request of a process, as ProcessMaker's API does it (C(POST /api/1.0/process_events/{process}) with the
    start event and the request's data), and can wait until it completes, reaches a status, or waits at a task.
    A deployment pipeline uses it to check that an imported process works (a smoke test), or to hold at an
    approval. Start the approval request, wait while a person (or M(processmaker.core.pm_task)) completes the task,
    then read the decision from RV(data).
  - With O(request_id) it follows (or cancels) an existing request instead of starting one.
  - A wait reads the request once per O(poll_interval) (one C(GET /api/1.0/requests/{id}) with its data and its
    tokens, nothing else) and stops at O(wait_timeout), failing in one line that names the request's status and
    its open tasks with their assignees.
attributes:
  check_mode:
    support: full
    details: Starts and cancels nothing; an existing request (O(request_id)) is read once, without waiting.
  diff_mode:
    support: none
options:
  process:
    description:
      - The process to start a request of, by id or by exact name. Needed to start one.
    type: str
  event:
    description:
      - The id of the start event to trigger (the BPMN element id, such as V(node_1)). By default the process's
        only start event without a trigger (a none start event); with several, the task fails naming them.
    type: str
  data:
    description: The request's data (a mapping), as the body of the start.
    type: dict
  request_id:
    description:
      - An existing request to follow (O(state=completed), O(wait_for)) or cancel (O(state=canceled)), instead of
        starting one.
    type: str
  state:
    description:
      - V(started) starts a request (always, so the task is changed), and returns once it is started (or, with
        O(wait_for), once that is reached).
      - V(completed) starts a request (or follows O(request_id)) and waits until its status is V(COMPLETED) (or
        O(wait_for) is reached); a request that ends otherwise (V(ERROR), V(CANCELED)) fails the task.
      - V(canceled) cancels O(request_id) (unchanged when it is canceled already).
    type: str
    default: started
    choices: [started, completed, canceled]
  wait_for:
    description:
      - Wait until the request has this O(wait_for.status), or has an open task O(wait_for.task) (either reached
        ends the wait).
    type: dict
    suboptions:
      status:
        description: A request status.
        type: str
        choices: [ACTIVE, COMPLETED, CANCELED, ERROR]
      task:
        description: The BPMN element id or name of a task (an approval task, say).
        type: str
  wait_timeout:
    description:
      - Seconds a wait may last, from 1 to 86400.
      - Named so because O(timeout) is already taken by the connection's options (the HTTP timeout of each
        request the module makes).
    type: float
    default: 300
  poll_interval:
    description: Seconds between two reads of the request while waiting (one request each), from 0.1 to 3600.
    type: float
    default: 2
notes:
  - ProcessMaker checks that the connection's user may start the process (the start event's assignment); a refusal
    is its 403, reported in one line.
  - pm_sandbox does not run script tasks (it has no script executor); see its README.
seealso:
  - module: processmaker.core.pm_task
  - module: processmaker.core.pm_package
"""

EXAMPLES = r"""
- name: Smoke-test a promoted process, then hold at an approval gate
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
    - name: Smoke test, a request of the imported process reaches its first task
      processmaker.core.pm_request:
        process: Change approval
        data:
          change: SMOKE-TEST
        wait_for:
          task: Approve change
        wait_timeout: 60
        poll_interval: 1
      register: smoke

    - name: Cancel the smoke test's request
      processmaker.core.pm_request:
        request_id: "{{ smoke.request_id }}"
        state: canceled

    - name: Start a change approval and wait until it waits for the approver
      processmaker.core.pm_request:
        process: Change approval
        data:
          change: CHG-1042
        wait_for:
          task: Approve change
      register: approval

    - name: The approver decides (here the administrator; see processmaker.core.pm_task for the approver's play)
      processmaker.core.pm_task:
        request_id: "{{ approval.request_id }}"
        task: Approve change
        data:
          approved: true

    - name: Wait for the decision
      processmaker.core.pm_request:
        request_id: "{{ approval.request_id }}"
        state: completed
        wait_timeout: 3600
        poll_interval: 10
      register: decided

    - name: Go on only when approved
      ansible.builtin.assert:
        that: decided.data.approved | bool
        fail_msg: "change CHG-1042 was rejected (end event {{ decided.end_events | map(attribute='element_name') | join(', ') }})"
"""

RETURN = r"""
error:
  description: The decoded failure (see M(processmaker.core.pm_api)).
  returned: on failure from the server
  type: dict
request_id:
  description: The request's id.
  returned: when there is a request (not when check mode skipped starting one)
  type: int
  sample: 42
status:
  description: The request's status when the module returned (V(ACTIVE), V(COMPLETED), V(CANCELED), V(ERROR)).
  returned: when there is a request
  type: str
  sample: COMPLETED
data:
  description: The request's data (what it started with, merged with what its tasks added).
  returned: when there is a request
  type: dict
  sample: {change: CHG-1042, approved: true}
tasks:
  description: The request's open tasks (C(id), C(element_id), C(element_name), C(element_type), C(status),
    C(user_id), C(due_at), and C(assignee), the assignee's username).
  returned: when there is a request
  type: list
  elements: dict
  sample: [{id: 7, element_id: node_2, element_name: Approve change, element_type: task, status: ACTIVE,
            user_id: 5, due_at: "2025-01-04T10:00:00+00:00", assignee: approver}]
end_events:
  description: The end events the request reached (C(element_id), C(element_name)); empty while it runs.
  returned: when there is a request
  type: list
  elements: dict
  sample: [{element_id: node_4, element_name: Change approved}]
process_id:
  description: The process of the request.
  returned: when there is a request
  type: int
event:
  description: The start event triggered.
  returned: when a request was started (or would be, in check mode)
  type: str
polls:
  description: How many times the request was read while waiting (one GET each).
  returned: always
  type: int
"""

from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)
from ansible_collections.processmaker.core.plugins.module_utils.request_task import (
    run_request,
)

ARGUMENT_SPEC = {
    "process": {"type": "str"},
    "event": {"type": "str"},
    "data": {"type": "dict"},
    "request_id": {"type": "str"},
    "state": {"type": "str", "default": "started", "choices": ["started", "completed", "canceled"]},
    "wait_for": {"type": "dict", "options": {
        "status": {"type": "str", "choices": ["ACTIVE", "COMPLETED", "CANCELED", "ERROR"]},
        "task": {"type": "str"},
    }},
    "wait_timeout": {"type": "float", "default": 300.0},
    "poll_interval": {"type": "float", "default": 2.0},
}


def main():
    module = ProcessMakerModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                                mutually_exclusive=[["process", "request_id"]],
                                required_one_of=[["process", "request_id"]])
    run_request(module)


if __name__ == "__main__":
    main()
