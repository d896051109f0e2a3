# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_resource
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Converge ProcessMaker users, groups, memberships, permissions, settings and other configuration
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.1.0
description:
  - Makes one kind of ProcessMaker object look like a declared list of O(items), in one task. It
    creates what is missing, updates what differs, deletes what O(state=absent) names and, with
    O(purge), what the list does not name.
  - Lists what the server has once per task, in big pages (O(per_page)), compares, and writes only
    the differences, with up to O(concurrency) requests in flight. A run with nothing to change
    makes no write request at all.
  - Honest under C(--check) (the same plan, nothing written) and C(--diff) (before and after of
    every object that changes, secrets shown as C(********)).
  - A create whose answer was lost (HTTP 5xx, dropped connection) is looked up by its identity before
    it is sent again, so an unreliable network never creates a duplicate.
  - "Identities match case-insensitively, like the server's unique rules. Fields an item does not
    set are left as they are on the server."
  - "Fields per kind (identity first):"
  - "V(users): C(username); C(email), C(firstname), C(lastname) and C(password) (required to create one),
    C(status) (V(ACTIVE) when created; V(INACTIVE), V(OUT_OF_OFFICE), V(SCHEDULED), V(BLOCKED)), C(title),
    C(address), C(city), C(state), C(postal), C(country), C(phone), C(fax), C(cell), C(birthdate),
    C(timezone), C(datetime_format), C(language), C(meta) (a mapping), C(force_change_password),
    C(email_task_notification) (booleans). Deleting a user is a soft delete in ProcessMaker; a deleted user
    listed again is restored (C(PUT /users/restore)), not created anew. Changing an email needs the acting
    user's password, so it works with O(grant_type=password)."
  - "V(groups): C(name); C(description), C(status) (V(ACTIVE) when created, or V(INACTIVE))."
  - "V(group_members): C(group) and either C(user) (a username) or C(member_group) (a group name), for example
    V({group: Sales, user: jdoe}). Memberships are created or deleted, never updated."
  - "V(environment_variables): C(name); C(description) (the name when not given), C(value) (write-only)."
  - "V(process_categories), V(screen_categories), V(script_categories): C(name); C(status) (V(ACTIVE) when
    created, or V(INACTIVE))."
  - "V(settings): C(key); C(config), typed by the setting's format (a boolean, a number or text, a list or a
    mapping). Settings are only updated: ProcessMaker defines them, so they are neither created nor deleted
    and O(purge) does not apply."
  - "V(permissions): C(user) (a username) or C(group) (a group name); C(permissions), the whole list of permission
    names (C(PUT /permissions) replaces the set, so V([]) removes them all); C(is_administrator) (users only);
    C(force) (grant again even when nothing seems to differ). ProcessMaker's API shows a group's permissions
    (C(GET /groups?include=permissions)) but never a user's: for a user the kind records a fingerprint of the set
    it granted in the user's C(meta) (key C(processmaker_core_permissions)) and grants again only when the declared
    set differs from it, so a change made in the web UI is not seen (use C(force)). The users and groups must
    exist (create them in an earlier entry of the same task: this kind is applied after them). Granting needs
    an administrator (or C(edit-users) for users)."
  - "V(script_executors): C(title); C(language) (required to create one: V(php), V(javascript), V(python),
    V(csharp), V(java), ...), C(description), C(config) (Dockerfile lines added to the language's image). A create
    or an update starts an image build on the server; the task waits for the builds it started, up to
    O(settle_timeout), where the server shows their state (ProcessMaker reports builds only over its websocket:
    then the task warns and does not wait), and fails naming a build that failed. Only administrators manage
    executors; ProcessMaker refuses to delete one that scripts use."
attributes:
  check_mode:
    support: full
    details: Lists the server (GET requests) and returns the exact plan; writes nothing.
  diff_mode:
    support: full
    details: RV(diff) has the before and after of every object that changes; write-only fields are C(********).
options:
  kind:
    description:
      - The kind of object O(items) lists. Give O(kind) (with O(items)), O(resources) or O(config).
    type: str
    choices: [users, groups, group_members, environment_variables, process_categories, screen_categories,
              script_categories, settings, permissions, script_executors]
  items:
    description:
      - The objects, as mappings of the kind's fields (see the description for each kind's fields).
      - Each object may appear once (by identity). A field set to V(null) or an empty string is cleared.
      - Write-only fields (a user's C(password), an environment variable's C(value)) are kept out of every
        result, diff, warning and error.
      - No items (with O(purge)) means none of the kind should exist.
      - Mutually exclusive with O(src).
    type: list
    elements: dict
  src:
    description:
      - "A JSON or YAML file holding the list of O(items), read by the module on the host the task runs on
        (the controller with C(connection: local) or C(delegate_to: localhost)), instead of O(items)."
      - "The items are the same mappings as in O(items), checked the same way; errors name the file and the item
        (C(src /path/users.json: items[3]: ...)) and never quote the file's contents."
      - For thousands of objects. Items given in O(items) pass through Ansible's templating and argument
        handling on their way in; from a file they cost only their parsing (a JSON file most quickly), and their
        write-only values never enter the task's arguments.
      - "YAML dates and times are read as text (C(birthdate: 1990-01-01) is the string the API takes)."
      - Only with O(kind).
    type: path
    version_added: 0.2.0
  resources:
    description:
      - A whole configuration in one task, instead of O(kind) and O(items) - one entry per kind (and state).
      - The entries are applied in dependency order whatever their order here (settings, categories,
        environment variables, groups, users, memberships), then the O(state=absent) entries in reverse.
        Each kind is listed once for the whole task, so memberships resolve the names of the users and groups
        the task lists (or creates) without listing them again, and check mode predicts memberships of groups
        and users that the same task would create.
      - A kind whose writes fail stops the task before the kinds after it.
    type: list
    elements: dict
    suboptions:
      kind:
        description: The kind of the entry's items.
        type: str
        required: true
        choices: [users, groups, group_members, environment_variables, process_categories, screen_categories,
                  script_categories, settings, permissions, script_executors]
      items:
        description: The objects of this kind, as for O(items).
        type: list
        elements: dict
        default: []
      state:
        description: As O(state), for this entry.
        type: str
        default: present
        choices: [present, absent]
      purge:
        description: As O(purge), for this entry.
        type: bool
        default: false
      update_secrets:
        description: As O(update_secrets), for this entry (the task's O(update_secrets) when not set).
        type: str
        choices: [always, on_create]
  config:
    description:
      - "A whole configuration as a mapping of kind to what it should hold, instead of O(kind) or O(resources),
        for example C({groups: [{name: Sales}], users: {items: [...], purge: true}}). This is the shape the
        C(processmaker.core.configure) role takes."
      - A kind's value is the list of its items, or a mapping with C(items) and optionally C(state), C(purge)
        and C(update_secrets); the task's O(state), O(purge) (for the kinds that can be purged) and
        O(update_secrets) apply where it sets none. A kind whose value is null is left alone.
      - Applied like O(resources), in dependency order; each kind is listed once for the whole task.
    type: dict
  state:
    description:
      - V(present) creates and updates the O(items); V(absent) deletes them (only their identity is read).
      - With O(resources), each entry has its own; with O(config), the default of every kind.
      - V(absent) never deletes the user the task authenticates as.
    type: str
    default: present
    choices: [present, absent]
  purge:
    description:
      - With O(state=present), also delete every object of the kind that O(items) does not list.
      - Never deletes the user the task authenticates as, system users, administrators, or memberships of the
        calling user or of members the API does not list; those are reported in RV(purge_skipped).
      - In check mode, RV(results) lists what it would delete (C(action=delete), C(reason=purge)).
      - Not available for V(settings). With O(resources) or O(config), each entry can set its own; the task's
        applies to the kinds O(config) lists without one.
    type: bool
    default: false
  update_secrets:
    description:
      - When to write write-only fields (a user's C(password), an environment variable's C(value)), which the API
        never returns and so cannot be compared.
      - V(on_create) writes them only when the object is created (or a deleted user restored); a later run with
        the same items is unchanged.
      - V(always) writes them on every run, so those items are always reported changed (use it to rotate).
      - Like the O(ansible.builtin.user#module:update_password) option of M(ansible.builtin.user).
    type: str
    default: on_create
    choices: [always, on_create]
    aliases: [update_password]
  concurrency:
    description:
      - Write requests in flight at once (a bounded pool of threads sharing one token and connection pool).
      - V(1) writes one object after the other; at most V(64).
    type: int
    default: 8
  settle_timeout:
    description:
      - Seconds to wait, after the writes of a kind whose objects the server finishes in the background (the image
        builds of V(script_executors)), for them to finish.
    type: float
    default: 600
  per_page:
    description:
      - Page size of the list requests. Existing objects are listed once per task, so a kind with N objects
        costs ceil(N / per_page) list requests.
    type: int
    default: 1000
  report:
    description:
      - Which items RV(results) lists (and each RV(resources) entry's C(results)).
      - V(all) lists every item, then every object a purge deletes.
      - V(changes) lists only what is written (or, in check mode, would be) and the writes that failed; RV(summary)
        still counts every item. For thousands of items, most of them unchanged on most runs - each result
        passes through Ansible's masking, the controller and the callbacks.
    type: str
    default: all
    choices: [all, changes]
    version_added: 0.2.0
notes:
  - Each task lists what it needs once. V(group_members) also lists users and groups, to resolve names to ids;
    with O(resources), every kind is listed once for the whole task.
  - Write-only values never appear in the task's result. RV(results) and RV(diff) name the fields written, never
    their values; C(invocation.module_args) (shown at C(-vvv)) and the system log show them as C(********); a
    message that quotes the server masks them in every form they travel in. Unlike C(no_log) values, they do not
    mask the same text where it appears as something else (a password equal to a username leaves the username
    shown), which keeps a task with thousands of passwords as fast as one without.
  - Failures of single writes do not stop the others; the task then fails with the first error and the count,
    and RV(results) says which items failed.
seealso:
  - module: processmaker.core.pm_api
  - module: processmaker.core.pm_package
  - module: ansible.builtin.user
"""

EXAMPLES = r"""
- name: Converge an instance's people and configuration
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
    - name: Groups
      processmaker.core.pm_resource:
        kind: groups
        items:
          - name: Sales
            description: Sales team
          - name: EMEA
            description: Europe, Middle East and Africa
            status: ACTIVE

    - name: Users (passwords are set when a user is created; later runs leave them alone)
      processmaker.core.pm_resource:
        kind: users
        items:
          - username: jdoe
            firstname: Jane
            lastname: Doe
            email: jdoe@example.com
            password: "{{ jdoe_password }}"
            title: Account manager
          - username: rroe
            firstname: Richard
            lastname: Roe
            email: rroe@example.com
            password: "{{ rroe_password }}"
            status: INACTIVE
      register: users

    - name: Show what happened to each user
      ansible.builtin.debug:
        msg: "{{ users.results | map(attribute='action') | list }} ({{ users.summary }})"

    - name: Memberships, by name
      processmaker.core.pm_resource:
        kind: group_members
        items:
          - group: Sales
            user: jdoe
          - group: Sales
            member_group: EMEA

    - name: Environment variables (values are write-only)
      processmaker.core.pm_resource:
        kind: environment_variables
        items:
          - name: crm_api_url
            description: CRM endpoint used by scripts
            value: https://crm.example.com/api

    - name: Categories
      processmaker.core.pm_resource:
        kind: process_categories
        items:
          - name: Finance
          - name: Human Resources

    - name: Settings (only updated; their format decides the type of config)
      processmaker.core.pm_resource:
        kind: settings
        items:
          - key: password-policies.minimum_length
            config: 10
          - key: session.lifetime
            config: 60

- name: Remove and purge
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
    - name: Delete a user (ProcessMaker keeps it soft-deleted; listing it again restores it)
      processmaker.core.pm_resource:
        kind: users
        state: absent
        items:
          - username: rroe

    - name: What would purging groups remove? (check mode; see results and purge_skipped)
      processmaker.core.pm_resource:
        kind: groups
        purge: true
        items:
          - name: Sales
          - name: EMEA
      check_mode: true
      register: would_purge

    - name: Show the groups a purge would delete
      ansible.builtin.debug:
        msg: "{{ would_purge.results | selectattr('reason', 'defined') | selectattr('reason', 'eq', 'purge')
                 | map(attribute='identity') | list }}"

    - name: Rotate an environment variable's value
      processmaker.core.pm_resource:
        kind: environment_variables
        update_secrets: always
        items:
          - name: crm_api_url
            value: https://crm2.example.com/api

- name: A whole configuration in one task (each kind listed once; applied in dependency order)
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
    - name: Converge groups, users and memberships together
      processmaker.core.pm_resource:
        resources:
          - kind: group_members
            purge: true
            items:
              - {group: Support, user: asmith}
          - kind: users
            items:
              - username: asmith
                firstname: Ann
                lastname: Smith
                email: asmith@example.com
                password: "{{ asmith_password }}"
          - kind: groups
            items:
              - name: Support
      register: configuration

    - name: Show the totals
      ansible.builtin.debug:
        msg: "{{ configuration.summary }}"
"""

RETURN = r"""
error:
  description: The decoded failure when listing failed (see M(processmaker.core.pm_api)).
  returned: on failure from the server
  type: dict
changed:
  description: Whether anything was (or, in check mode, would be) written.
  returned: always
  type: bool
kind:
  description: The kind converged.
  returned: with O(kind)
  type: str
  sample: users
resources:
  description:
    - With O(resources) or O(config), one entry per kind in the order applied, each with C(kind), C(state), C(changed),
      C(results), C(summary), C(purge_skipped) and C(requests) as described for a single kind.
  returned: with O(resources) or O(config)
  type: list
  elements: dict
  sample:
    - {kind: groups, state: present, changed: true, results: [], summary: {created: 2}, purge_skipped: [], requests: {list: 1}}
results:
  description:
    - One entry per item, in order, then one per object a purge deletes. In check mode, the predictions.
    - With O(report=changes), only the entries of what is written (or would be).
  returned: with O(kind)
  type: list
  elements: dict
  contains:
    index:
      description: Position of the item in O(items) (absent for purge deletions).
      type: int
    identity:
      description: "The identity of the object, for example C({username: jdoe}) or C({group: Sales, user: jdoe})."
      type: dict
    action:
      description: V(create), V(update), V(restore) (a soft-deleted user brought back), V(delete) or V(unchanged).
      type: str
    id:
      description: The object's id on the server (null for an object not created yet, as in check mode).
      type: raw
    changes:
      description: Names of the fields written (secrets named, never shown).
      type: list
      elements: str
      returned: when something is written
    reason:
      description: V(purge) for objects deleted because O(items) does not list them, V(absent) for O(state=absent).
      type: str
      returned: for deletions and absent items
    adopted:
      description: True when a create's answer was lost, or the create was refused because the identity was
        taken (another play created the object since this task listed the kind), and the object was found on
        the server and used instead of being created again.
      type: bool
      returned: when it happened
    error:
      description: Why this item's write failed (one line).
      type: str
      returned: when it failed
  sample:
    - {index: 0, identity: {username: jdoe}, action: create, id: 12, changes: [email, firstname, lastname, password]}
    - {index: 1, identity: {username: rroe}, action: unchanged, id: 13}
summary:
  description:
    - How many items each action concerned (C(created), C(updated), C(restored), C(deleted), C(unchanged)), and
      how many objects purge left alone (C(skipped)).
    - With O(resources) or O(config), the totals over every kind.
  returned: always
  type: dict
  sample: {created: 1, updated: 0, restored: 0, deleted: 0, unchanged: 1, skipped: 0}
purge_skipped:
  description:
    - Objects O(purge) did not delete, and why (the calling user, administrators, system users...).
    - Not named C(skipped), a key Ansible reserves for skipped tasks (C(is skipped) would be true).
    - C(summary.skipped) counts them.
  returned: with O(kind)
  type: list
  elements: dict
  sample: [{identity: {username: admin}, id: 1, reason: the user this task authenticates as}]
diff:
  description:
    - Before and after of every object that changes, keyed by identity. An object missing on one side does not
      exist there. Write-only fields are C(********).
    - "With O(resources) or O(config), keyed C(kind: identity)."
  returned: with C(--diff)
  type: dict
  sample: {before: {}, after: {jdoe: {username: jdoe, email: jdoe@example.com, status: ACTIVE, password: "********"}}}
requests:
  description:
    - Requests this task made, by purpose, retries by the transport aside. C(list) counts list pages, C(write)
      the POST, PUT and DELETE requests, C(lookup) the searches made before repeating a create whose answer
      was lost.
  returned: with O(kind)
  type: dict
  sample: {list: 1, write: 2, lookup: 0}
"""

from ansible_collections.processmaker.core.plugins.module_utils.auth import (
    LockedAuthenticator,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.converge import (
    Converge,
    entries_from,
    item_lists,
    shown_arguments,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.executor import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PER_PAGE,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.items_file import (
    read_items,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.kinds import (
    KINDS,
    secret_values,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    UPDATE_SECRETS_CHOICES,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    PlanError,
)

MAX_CONCURRENCY = 64  # requests in flight; each is a pooled connection and a thread

ARGUMENT_SPEC = {
    "kind": {"type": "str", "choices": list(KINDS)},
    "items": {"type": "list", "elements": "dict"},
    "src": {"type": "path"},
    "resources": {
        "type": "list",
        "elements": "dict",
        "options": {
            "kind": {"type": "str", "required": True, "choices": list(KINDS)},
            "items": {"type": "list", "elements": "dict", "default": []},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "purge": {"type": "bool", "default": False},
            "update_secrets": {"type": "str", "choices": list(UPDATE_SECRETS_CHOICES), "no_log": False},
        },
    },
    "config": {"type": "dict"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "purge": {"type": "bool", "default": False},
    "update_secrets": {"type": "str", "default": "on_create", "choices": list(UPDATE_SECRETS_CHOICES),
                       "aliases": ["update_password"], "no_log": False},
    "concurrency": {"type": "int", "default": DEFAULT_CONCURRENCY},
    "per_page": {"type": "int", "default": DEFAULT_PER_PAGE},
    "settle_timeout": {"type": "float", "default": 600.0},
    "report": {"type": "str", "default": "all", "choices": ["all", "changes"]},
}
EXCLUSIVE = [["kind", "resources", "config"], ["items", "resources"], ["items", "config"], ["src", "items"],
             ["src", "resources"], ["src", "config"]]


class ResourceModule(ProcessMakerModule):
    """Write-only item fields are secrets from the moment the arguments are read, before validation, so
    even an argument error cannot show one. They are masked by field in the result (``shown_params``) and
    by value in every message, never added to Ansible's no_log_values (see ``Redactor.no_log_forms``)."""

    def _load_params(self):
        super()._load_params()
        # a text item (k=v) becomes a mapping only in validation: its secrets are learnt again then
        self._text_items = any(isinstance(item, str) for items in item_lists(self.params) for item in items)
        self._learn_secrets()

    def _learn_secrets(self):
        for items in item_lists(self.params):
            self._learn_secrets_of(items)

    def _learn_secrets_of(self, items):
        for value in secret_values(items):
            self.redact.add(value, json_only=True)  # item fields only ever travel in JSON bodies

    def shown_params(self):
        return shown_arguments(self.params) if isinstance(self.params, dict) else self.params

    def checked_entries(self):
        params = self.params
        if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
            self.fail_json(msg=f"concurrency must be from 1 to {MAX_CONCURRENCY} (got {params['concurrency']})")
        if params["per_page"] < 1:
            self.fail_json(msg=f"per_page must be at least 1 (got {params['per_page']})")
        if not 0 <= params["settle_timeout"] <= 86400:  # NaN fails this too
            self.fail_json(msg=f"settle_timeout must be from 0 to 86400 seconds (got {params['settle_timeout']})")
        if self._text_items:
            self._learn_secrets()
        if params["src"] is not None:
            return self._entries_from_file(params["src"])
        try:
            return entries_from(params, check_mode=self.check_mode)
        except PlanError as error:
            self.fail_json(msg=str(error))

    def _entries_from_file(self, path):
        """The kind's items read from ``src``; their secrets are learnt before anything can quote them."""
        try:
            items = read_items(path)  # its errors name src and the file
        except PlanError as error:
            self.fail_json(msg=str(error))
        self._learn_secrets_of(items)
        try:
            return entries_from(dict(self.params, items=items), check_mode=self.check_mode)
        except PlanError as error:
            self.fail_json(msg=f"src {path}: {error}")


def main():
    module = ResourceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=EXCLUSIVE,
                            required_one_of=[["kind", "resources", "config"]])
    entries = module.checked_entries()
    connection = module.connection_options()
    client = module.client(wrap=LockedAuthenticator, connections=module.params["concurrency"])
    run = Converge(client, check_mode=module.check_mode, concurrency=module.params["concurrency"],
                   per_page=module.params["per_page"], redact=module.redact, actor_password=connection.actor_password,
                   settle_timeout=module.params["settle_timeout"])
    multi = module.params["kind"] is None

    def result():
        report = run.report(multi=multi, diff=module._diff, changes_only=module.params["report"] == "changes")
        if "diff" in report:  # the server's values of what changes: masked like a message that quotes the server
            report["diff"] = module.masked(report["diff"])
        return dict(report, **({} if multi else {"kind": module.params["kind"]}))

    try:
        run.apply(entries)
    except PlanError as error:
        module.fail_json(msg=str(error), **result())
    except ProcessMakerError as error:
        module.fail_from_error(error, **result())
    finally:
        client.close()
    for warning in run.warnings():
        module.warn(warning)
    if run.failures:
        failed, writes, kind = run.failures, run.kinds[-1].plan.writes, run.kinds[-1].entry.kind.name
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        module.fail_json(msg=f"{len(failed)} of {len(writes)} {kind} writes failed; first: {failed[0]}{more}", **result())
    module.exit_json(**result())


if __name__ == "__main__":
    main()
