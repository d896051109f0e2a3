# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ProcessMakerModule``: AnsibleModule plus the connection options, a client and clean failures.

    module = ProcessMakerModule(argument_spec=dict(name=dict(type="str")), supports_check_mode=True)
    client = module.client()            # resolves options, fails with one line when they are wrong
    try:
        response = client.get("users")
    except ProcessMakerError as error:
        module.fail_from_error(error)   # fail_json(msg=<one line>, error={status, code, ...})
"""

from __future__ import annotations

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib
from ansible.module_utils.common.validation import check_type_int
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    redact_text,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    ConnectionOptions,
    OptionError,
    RuleSet,
    connection_argument_spec,
    explicit_from_module_args,
    resolve_connection,
)
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
)


def _defused(value: Any) -> Any:
    """A value ansible-core's int check cannot even reject (it raises OverflowError or ValueError for
    .inf or "1e5000"), as text it rejects cleanly: "argument 'retries' ... cannot be converted"."""
    if isinstance(value, (str, float)):
        try:
            check_type_int(value)
        except TypeError:
            pass
        except (ArithmeticError, ValueError):
            return f"{str(value)[:40]} (out of range)"
    return value


def defuse_integers(params: Any, spec: dict) -> None:
    """Make every int option (and list of ints) safe for ansible-core's argument validation."""
    if not isinstance(params, dict):
        return
    for name, option in spec.items():
        for key in (name, *option.get("aliases", ())):
            if key not in params:
                continue
            if option.get("type") == "int":
                params[key] = _defused(params[key])
            elif option.get("elements") == "int" and isinstance(params[key], list):
                params[key] = [_defused(item) for item in params[key]]


class ProcessMakerModule(AnsibleModule):
    def __init__(self, argument_spec: dict | None = None, rules: RuleSet | None = None, **kwargs: Any) -> None:
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        rule_kwargs = (rules or RuleSet()).as_module_kwargs()
        rule_kwargs.update(kwargs)
        super().__init__(argument_spec=spec, **rule_kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._connection: ConnectionOptions | None = None
        self._secrets: list = []

    def _load_params(self) -> None:
        super()._load_params()
        defuse_integers(self.params, self.argument_spec)

    def connection_options(self, grant_hint: str | None = None, **resolve_kwargs: Any) -> ConnectionOptions:
        """Task args and module_defaults over PM_* environment variables over defaults; fails the
        task with one line when the options do not add up."""
        if self._connection is None:
            try:
                raw = _load_params()
            except Exception:  # noqa: BLE001 - only for the task/env split; fall back to "all set"
                raw = self.params
            explicit = explicit_from_module_args(raw)
            try:
                self._connection = resolve_connection(
                    self.params, explicit, os.environ, grant_hint=grant_hint, **resolve_kwargs
                )
            except OptionError as error:
                self.fail_json(msg=str(error))
            for secret in self._connection.secret_values():
                self.no_log_values.add(secret)  # values from PM_* variables are masked too
            self._secrets = self._connection.secret_values()
        return self._connection

    def add_secret(self, value: str | None) -> None:
        """Mask a secret learned at run time (a token) in every later message."""
        if value:
            self._secrets.append(value)

    def client(self, grant_hint: str | None = None, **code_flow: Any) -> ProcessMakerClient:
        options = self.connection_options(grant_hint)
        return ProcessMakerClient.from_options(options, warn=self.warn, **code_flow)

    def fail_json(self, msg: Any = "", **kwargs: Any) -> None:
        """Every failure is one line, whatever a value quoted in it holds: Ansible's own argument
        errors quote values as given (``state: "present\\n"``), and so may ours."""
        super().fail_json(msg=" ".join(str(msg).split()), **kwargs)

    def fail_from_error(self, error: Exception, **result: Any) -> None:
        """fail_json with the one-line message, and the structured error for ProcessMakerError."""
        if isinstance(error, ProcessMakerError):
            result["error"] = error.to_dict()
            message = error.one_line(self._secrets)
        else:
            message = redact_text(str(error), self._secrets)
        self.fail_json(msg=message, **result)
