#!/usr/bin/python
# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/floor.py's reference for Ansible's own cost: a module that takes N items (like pm_resource's) and
returns one result per item in pm_resource's shape, doing nothing else (no request, no validation of its
own). What a playbook pays to hand a module N items and get N results back, whatever the module does."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={"items": {"type": "list", "elements": "dict", "default": []}})
    items = module.params["items"]
    results = [{"identity": {"username": item.get("username")}, "action": "unchanged", "id": index + 2,
                "index": index} for index, item in enumerate(items)]
    # the arguments summarised as pm_resource summarises a long list of items
    module.exit_json(changed=False, results=results, invocation={"module_args": {"items": f"({len(items)} items)"}})


if __name__ == "__main__":
    main()
