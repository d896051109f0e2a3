# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pm_package
author:
  - processmaker.core maintainers (@processmaker-core)
short_description: Export and import ProcessMaker process, screen and script packages
extends_documentation_fragment:
  - processmaker.core.connection
  - processmaker.core.module
version_added: 0.1.0
description:
  - Promotes processes, screens and scripts from one ProcessMaker environment to the next with
    ProcessMaker's version 2 export/import API.
  - O(state=exported) writes the package of a process, screen or script (found by O(id) or O(name)),
    with everything it depends on (screens and scripts of a process, categories), to O(dest). The
    file is only rewritten when the package differs from what O(dest) holds (a password protected
    file is compared after decrypting it), so repeated exports of an unchanged asset are not changed.
  - O(state=imported) imports the package file O(src). Before importing, the server's import preview
    is compared with what is installed; importing a package that is already installed exactly as
    it is reports C(changed=false) and writes nothing.
  - Each asset of a package is imported in a mode. V(update) (the default) updates the asset the
    server finds by uuid, else by name, or creates it; V(copy) always creates a new copy; V(discard)
    leaves it out (references then point at the asset of the same name already installed).
  - "Check mode: exports compare with the manifest (C(GET /export/manifest)) and write no file; imports
    run only the preview. C(--diff) shows the attributes an import changes per asset."
requirements:
  - cryptography (Python library), only to compare a password-protected package with the file already at O(dest)
attributes:
  check_mode:
    support: full
    details: Reads the manifest or the import preview; writes no file and imports nothing.
  diff_mode:
    support: full
    details: The attributes an import writes, per asset; for an export, the assets of the old and new file.
options:
  state:
    description: V(exported) writes a package file from the server; V(imported) imports a package file.
    type: str
    required: true
    choices: [exported, imported]
  type:
    description: What to export (the root asset of the package).
    type: str
    choices: [process, screen, script]
    default: process
  id:
    description: Id of the asset to export. Give O(id) or O(name).
    type: int
  name:
    description: Name of the process, or title of the screen or script, to export (exact, case-insensitive).
    type: str
  dest:
    description:
      - File to write the package to (O(state=exported)). A new file is created with mode 0600.
    type: path
  src:
    description: Package file to import (O(state=imported)), as written by an export.
    type: path
  package_password:
    description:
      - With O(state=exported), protect the package with this password (ProcessMaker encrypts its content).
      - With O(state=imported), the password of a protected package.
    type: str
  mode:
    description: Import mode of every asset of the package not named in O(asset_modes).
    type: str
    default: update
    choices: [update, copy, discard]
  asset_modes:
    description:
      - Import modes of single assets, as a mapping of an asset (its uuid, its name, or C(Type:name) such as
        C(Screen:Loan Form)) to V(update), V(copy) or V(discard).
      - Naming an asset the package does not hold fails the task.
    type: dict
notes:
  - An export finds processes among the active and inactive ones (not archived ones).
  - "An import with O(mode=copy) (or an asset in V(copy)) always changes: it creates new copies."
seealso:
  - module: processmaker.core.pm_resource
  - module: processmaker.core.pm_api
"""

EXAMPLES = r"""
- name: Promote a process from staging to production (two servers, two logins)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Export the process from staging, with its screens, scripts and categories
      processmaker.core.pm_package:
        url: "{{ staging.url }}"
        client_id: "{{ staging.client_id }}"
        client_secret: "{{ staging.client_secret }}"
        username: "{{ staging.username }}"
        password: "{{ staging.password }}"
        state: exported
        type: process
        name: Loan Request
        dest: "{{ playbook_dir }}/packages/loan_request.json"
      register: exported

    - name: Show what the package holds
      ansible.builtin.debug:
        msg: "{{ exported.assets | map(attribute='name') | list }}"

    - name: Import it into production (nothing changes when production already has exactly this package)
      processmaker.core.pm_package:
        url: "{{ production.url }}"
        client_id: "{{ production.client_id }}"
        client_secret: "{{ production.client_secret }}"
        username: "{{ production.username }}"
        password: "{{ production.password }}"
        state: imported
        src: "{{ playbook_dir }}/packages/loan_request.json"
      register: imported

    - name: Show the id of the process in production
      ansible.builtin.debug:
        msg: "Loan Request is process {{ imported.root.id }} ({{ imported.summary }})"

- name: Password protected packages and per-asset modes
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
    - name: Export a screen, encrypted
      processmaker.core.pm_package:
        state: exported
        type: screen
        name: Loan Form
        dest: "{{ playbook_dir }}/packages/loan_form.json"
        package_password: "{{ package_password }}"

    - name: Import it as a copy, keeping the installed category
      processmaker.core.pm_package:
        state: imported
        src: "{{ playbook_dir }}/packages/loan_form.json"
        package_password: "{{ package_password }}"
        mode: copy
        asset_modes:
          "ScreenCategory:Forms": discard
"""

RETURN = r"""
error:
  description: The decoded failure from the server (see M(processmaker.core.pm_api)).
  returned: on failure from the server
  type: dict
changed:
  description: Whether the file was (or would be) written, or the import wrote (or would write) anything.
  returned: always
  type: bool
dest:
  description: The package file written.
  returned: when O(state=exported)
  type: str
src:
  description: The package file imported.
  returned: when O(state=imported)
  type: str
root:
  description:
    - The package's root asset. For an export, the exported asset; for an import, the asset on this server (C(id)
      is null in check mode when it would be created).
  returned: always
  type: dict
  sample: {type: process, uuid: 9f0c..., name: Loan Request, id: 12}
encrypted:
  description: Whether the exported file is password protected.
  returned: when O(state=exported)
  type: bool
assets:
  description:
    - The assets of the package. For an import, with the mode asked for, the C(action) (V(create), V(update), V(copy),
      V(unchanged) or V(discard)), the C(id) of the installed asset it updates, and C(changes) (attribute names).
  returned: always
  type: list
  elements: dict
  sample: [{uuid: 9f0c..., type: Process, name: Loan Request, mode: update, action: unchanged, id: 12}]
summary:
  description:
    - How many assets each import action concerns, keyed C(created), C(updated), C(copied), C(unchanged) and
      C(discarded).
  returned: when O(state=imported)
  type: dict
  sample: {created: 0, updated: 1, copied: 0, unchanged: 4, discarded: 0}
diff:
  description:
    - "With C(--diff), the attributes an import changes, per asset (keyed C(Type: name)); for an export, the assets
      of the file before and after."
  returned: with C(--diff) when something changes
  type: dict
"""

import os
import tempfile
import time

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    may_have_landed,
)
from ansible_collections.processmaker.core.plugins.module_utils.module import (
    ProcessMakerModule,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import RuleSet
from ansible_collections.processmaker.core.plugins.module_utils.packages import (
    MODES,
    PackageError,
    asset_name,
    check_modes,
    do_import,
    find_asset,
    import_options,
    import_preview,
    load_package,
    package_assets,
    plan_import,
    same_package,
)

ARGUMENT_SPEC = {
    "state": {"type": "str", "required": True, "choices": ["exported", "imported"]},
    "type": {"type": "str", "default": "process", "choices": ["process", "screen", "script"]},
    "id": {"type": "int"},
    "name": {"type": "str"},
    "dest": {"type": "path"},
    "src": {"type": "path"},
    "package_password": {"type": "str", "no_log": True},
    "mode": {"type": "str", "default": "update", "choices": list(MODES)},
    "asset_modes": {"type": "dict"},
}

RULES = RuleSet(
    required_if=(("state", "exported", ("dest",)), ("state", "imported", ("src",))),
    mutually_exclusive=(("id", "name"),),
)


def read_file(module, path, option):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        module.fail_json(msg=f"cannot read {option} {path}: {error.strerror or error}; check {option}")


def write_file(module, dest, content):
    """Write atomically; a new file gets mode 0600 (packages hold scripts and configuration)."""
    directory = os.path.dirname(os.path.abspath(dest)) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg=f"the directory of dest does not exist: {directory}")
    existed = os.path.exists(dest)
    fd, tmp = tempfile.mkstemp(prefix=".pm_package-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        module.atomic_move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if not existed:
        os.chmod(dest, 0o600)


def export(module, client):
    params = module.params
    if params["id"] is None and not params["name"]:
        module.fail_json(msg="state=exported needs id or name (the process, screen or script to export)")
    asset_type, password, dest = params["type"], params["package_password"], params["dest"]
    if not os.path.isdir(os.path.dirname(os.path.abspath(dest)) or "."):
        module.fail_json(msg=f"the directory of dest does not exist: {os.path.dirname(os.path.abspath(dest))};"
                             " create it first or give another dest")
    asset = find_asset(client, asset_type, params["id"], params["name"])
    manifest = client.get(f"export/manifest/{asset_type}/{asset['id']}").json
    if not isinstance(manifest, dict) or "export" not in manifest:
        raise PackageError(f"the server sent no export manifest for {asset_type} {asset['id']}")
    existing = read_file(module, dest, "dest") if os.path.exists(dest) else None
    changed = not same_package(existing, manifest, password)
    result = {
        "changed": changed, "dest": dest, "encrypted": bool(password),
        "root": {"type": asset_type, "uuid": manifest.get("root"), "name": asset_name(asset_type, asset),
                 "id": asset.get("id")},
        "assets": package_assets(manifest),
    }
    if changed and module._diff:
        before = []
        if existing is not None:
            try:
                before = package_assets(load_package(existing, "dest"), password)
            except PackageError:
                before = []
        result["diff"] = {"before_header": dest, "after_header": dest,
                          "before": {"assets": before}, "after": {"assets": result["assets"]}}
    if changed and not module.check_mode:
        response = client.post(f"export/{asset_type}/download/{asset['id']}",
                               json={"password": password} if password else {}, safe_to_retry=True)
        write_file(module, dest, response.body)
    return result


def _installed(plans):
    return all(not plan.writes for plan in plans)


def import_package(module, client):
    params = module.params
    src, password = params["src"], params["package_password"]
    check_modes(params["asset_modes"] or {})
    content = read_file(module, src, "src")
    load_package(content, f"src {src}")  # a clear error for a file that is no package at all
    filename = os.path.basename(src) or "package.json"
    preview = import_preview(client, content, password, filename)
    plans = plan_import(preview["manifest"], params["mode"], params["asset_modes"] or {})
    root_uuid = preview.get("rootUuid")
    root_plan = next((plan for plan in plans if plan.uuid == root_uuid), None)
    changed = not _installed(plans)
    # past participles: a key named "update" would be shadowed by Jinja's dict.update
    counted = {"create": "created", "update": "updated", "copy": "copied", "unchanged": "unchanged",
               "discard": "discarded"}
    summary = dict.fromkeys(counted.values(), 0)
    for plan in plans:
        summary[counted[plan.action]] += 1
    result = {
        "changed": changed, "src": src, "summary": summary,
        "assets": [plan.result() for plan in plans],
        "root": {"uuid": root_uuid, "type": root_plan.type.lower() if root_plan else None,
                 "name": root_plan.name if root_plan else None, "id": root_plan.existing_id if root_plan else None},
    }
    if changed and module._diff:
        result["diff"] = {
            "before": {plan.label: plan.before for plan in plans if plan.writes and plan.action == "update"},
            "after": {plan.label: plan.after for plan in plans if plan.writes},
        }
    if not changed or module.check_mode:
        return result
    options = import_options(plans)
    policy, started, attempt = client.transport.policy, time.monotonic(), 1
    while True:
        try:
            result["root"]["id"] = do_import(client, content, options, password, filename)
            return result
        except ProcessMakerError as error:
            wait = policy.next_delay(attempt, time.monotonic() - started)
            if wait is None or not may_have_landed(error):
                raise
            attempt += 1
            if any(plan.mode == "copy" for plan in plans):
                raise PackageError("the answer to an import with copies was lost; it may have created them, so it"
                                   " is not sent again: check the server before running the task again") from None
            # The answer was lost: did the import land? Ask the preview before sending it again.
            again = plan_import(import_preview(client, content, password, filename)["manifest"], params["mode"],
                                params["asset_modes"] or {})
            if _installed(again):
                landed = next((plan for plan in again if plan.uuid == root_uuid), None)
                result["root"]["id"] = landed.existing_id if landed else None
                return result
            time.sleep(wait)


def main():
    module = ProcessMakerModule(argument_spec=ARGUMENT_SPEC, rules=RULES, supports_check_mode=True)
    client = module.client()
    try:
        if module.params["state"] == "exported":
            result = export(module, client)
        else:
            result = import_package(module, client)
    except PackageError as error:
        module.fail_json(msg=str(error))
    except ProcessMakerError as error:
        module.fail_from_error(error)
    finally:
        client.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
