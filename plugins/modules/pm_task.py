# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_task
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Complete a ProcessMaker task (an approval, a test double of a person)
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.2.0
description:
  - Completes an open task of a request with the given O(data), as ProcessMaker's API does it
    (C(PUT /api/1.0/tasks/{task}) with C(status=COMPLETED)); the data is merged into the request's data and the
    request moves on. In a pipeline, this is the approver of an approval gate, or the test double of a person in
    a smoke test.
  - The task is found by O(request_id) and O(task) (its BPMN element id or name), or given as O(task_id).
  - Idempotent. A task of that element that was completed already, and no open one, is C(changed=false).
  - The connection's user completes it. ProcessMaker lets only the task's assignee (or an administrator) see and
    complete it; anyone else gets its 403, reported in one line that names the connection's user and the assignee
    when the server shows it (ProcessMaker shows a task's assignee only to that user and to administrators, so a
    user outside the task's group is told to connect as one of its members).
attributes:
  check_mode:
    support: full
    details: Finds the task and reports whether it would be completed; completes nothing.
  diff_mode:
    support: none
options:
  request_id:
    description: The request whose task to complete (with O(task)).
    type: str
  task:
    description: The task's BPMN element id (such as V(node_3)) or its name (such as V(Approve)), with O(request_id).
    type: str
  task_id:
    description: The task's id, instead of O(request_id) and O(task).
    type: str
  state:
    description: V(completed) completes the task.
    type: str
    default: completed
    choices: [completed]
  data:
    description:
      - "Data to complete the task with (merged into the request's data), such as C({approved: true})."
    type: dict
    default: {}
seealso:
  - module: processmaker.core.pm_request
"""

EXAMPLES = r"""
- name: The pipeline starts a change approval
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
    - name: Start it and wait until it waits at the approval task
      processmaker.core.pm_request:
        process: Change approval
        data:
          change: CHG-1042
        wait_for:
          task: Approve change
      register: approval

- name: The approver's play (a member of the group the task is assigned to)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/processmaker.core.all:
      url: "{{ pm_url }}"
      client_id: "{{ pm_client_id }}"
      client_secret: "{{ pm_client_secret }}"
      username: jdoe
      password: "{{ jdoe_password }}"
  tasks:
    - name: Approve change CHG-1042
      processmaker.core.pm_task:
        request_id: "{{ approval.request_id }}"
        task: Approve change
        data:
          approved: true
          comment: Reviewed by the change board
      register: approved

    - name: Show what the task was
      ansible.builtin.debug:
        msg: "task {{ approved.task.id }} ({{ approved.task.element_name }}) is {{ approved.task.status }}"

    - name: Completing it again changes nothing
      processmaker.core.pm_task:
        task_id: "{{ approved.task.id }}"
        data:
          approved: true
"""

RETURN = r"""
error:
  description: The decoded failure (see M(processmaker.core.pm_api)).
  returned: on failure from the server
  type: dict
task:
  description: The task (C(id), C(element_id), C(element_name), C(status), C(user_id), C(process_request_id)).
  returned: when a task was found
  type: dict
  sample: {id: 17, element_id: node_3, element_name: Approve, status: CLOSED, user_id: 5, process_request_id: 42}
request_status:
  description: The request's status after the task was completed.
  returned: when a task was completed
  type: str
  sample: COMPLETED
"""

from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)
from ansible_collections.processmaker.core.plugins.module_utils.request_task import (
    run_task,
)

ARGUMENT_SPEC = {
    "request_id": {"type": "str"},
    "task": {"type": "str"},
    "task_id": {"type": "str"},
    "state": {"type": "str", "default": "completed", "choices": ["completed"]},
    "data": {"type": "dict", "default": {}},
}


def main():
    module = ProcessMakerModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                                required_one_of=[["task_id", "request_id"]],
                                mutually_exclusive=[["task_id", "request_id"], ["task_id", "task"]],
                                required_together=[["request_id", "task"]])
    run_task(module)


if __name__ == "__main__":
    main()
