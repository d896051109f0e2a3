"""Test helper (never shipped): write a registered result as JSON to a file with mode 0600.

``ansible.builtin.copy`` does the same with two module runs (a stat, then the copy), about a second of
CPU per call, and the integration tests save a result hundreds of times. This action runs in the
controller's worker and reports ``changed`` as copy does: when the file's content differs.
"""

from __future__ import annotations

import json
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("content", "dest"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        content, dest = self._task.args.get("content"), self._task.args.get("dest")
        if not isinstance(dest, str) or not dest:
            raise AnsibleActionFail("save_test_result needs dest")
        text = content if isinstance(content, str) else json.dumps(content)
        try:
            with open(dest, encoding="utf-8") as existing:
                result["changed"] = existing.read() != text
        except FileNotFoundError:
            result["changed"] = True
        if result["changed"]:
            descriptor = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(text)
        os.chmod(dest, 0o600)
        result["dest"] = dest
        return result
