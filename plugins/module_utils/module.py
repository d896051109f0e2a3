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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.validation import check_type_int
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    CACHE_OPTIONS,
    ConnectionOptions,
    OptionError,
    RuleSet,
    connection_argument_spec,
    explicit_from_module_args,
    resolve_connection,
    resolve_values,
    userinfo_password,
)
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    Redactor,
)
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
)
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
)

# No int option means anything past this; far larger ones cannot even be printed (Python refuses to turn
# an int of more than 4300 digits into text, which ansible-core does to log the arguments).
_INT_LIMIT = 2 ** 63


def _defused(value: Any) -> Any:
    """A value ansible-core's int check cannot even reject (it raises OverflowError for .inf, or turns
    "1e5000" into an int too large to print), as text it rejects cleanly: "argument 'retries' ... cannot
    be converted"."""
    if isinstance(value, (str, float, int)) and not isinstance(value, bool):
        try:
            converted = check_type_int(value)
        except TypeError:
            return value
        except (ArithmeticError, ValueError):
            return f"{str(value)[:40]} (out of range)"
        if abs(converted) >= _INT_LIMIT:
            return f"{value if isinstance(value, str) else type(value).__name__}"[:40] + " (out of range)"
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
            elif option.get("elements") == "int":  # a scalar becomes a one-item list: defuse it too
                value = params[key]
                params[key] = [_defused(item) for item in value] if isinstance(value, list) else _defused(value)


def _masked(value: Any, redact: Any) -> Any:
    """``value`` with every string in it (keys too) masked by ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_masked(key, redact): _masked(child, redact) for key, child in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(child, redact) for child in value]
    return value


class ProcessMakerModule(AnsibleModule):
    def __init__(self, argument_spec: dict | None = None, rules: RuleSet | None = None, *,
                 returns_tokens: bool = False, **kwargs: Any) -> None:
        # returns_tokens: the module returns tokens on purpose (pm_token). Any other module masks, in its
        # result, every token it used as well as the given secrets: a server echoing them cannot leak them.
        self.returns_tokens = returns_tokens
        # masks every wire form of every secret (percent-encoded, JSON-escaped, Basic) in our messages;
        # set before AnsibleModule parses the arguments, which may already fail
        self.redact = Redactor()
        self._connection: ConnectionOptions | None = None
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        rule_kwargs = (rules or RuleSet()).as_module_kwargs()
        rule_kwargs.update(kwargs)
        super().__init__(argument_spec=spec, **rule_kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    def _load_params(self) -> None:
        super()._load_params()
        defuse_integers(self.params, self.argument_spec)
        # which options the task set (module_defaults included), from the arguments as given, before
        # AnsibleModule fills in defaults: those win over PM_* environment variables
        self._explicit = explicit_from_module_args(self.params) if isinstance(self.params, dict) else set()

    def connection_options(self, grant_hint: str | None = None, **resolve_kwargs: Any) -> ConnectionOptions:
        """Task args and module_defaults over PM_* environment variables over defaults; fails the
        task with one line when the options do not add up."""
        if self._connection is None:
            for name in ("url", "token_url", "authorize_url"):  # refused below: never shown either
                self.redact.add(userinfo_password(self.params.get(name)))
                self.redact.add(userinfo_password(os.environ.get("PM_" + name.upper())))
            self._mask()
            try:
                self._connection = resolve_connection(
                    self.params, self._explicit, os.environ, grant_hint=grant_hint, **resolve_kwargs
                )
            except OptionError as error:
                self.fail_json(msg=str(error))
            self.redact.client_id = self._connection.values.get("client_id")  # for the Basic forms
            for secret in self._connection.secret_values():
                self.redact.add(secret)
            self._mask()  # values from PM_* variables are masked too
        return self._connection

    def _mask(self) -> None:
        """Ansible's own masking of the task result (no_log_values) covers every form too (but those of
        the json_only secrets: see ``Redactor.no_log_forms`` and ``shown_params``)."""
        self.no_log_values.update(self.redact.no_log_forms)

    def shown_params(self) -> dict:
        """The arguments as the result shows them (``invocation.module_args``, printed at -vvv) and the
        system log records them. A module whose arguments hold json_only secrets masks them here."""
        return self.params

    def _log_invocation(self) -> None:
        params = self.params
        self.params = self.shown_params()  # AnsibleModule logs self.params (masking only no_log_values)
        try:
            super()._log_invocation()
        finally:
            self.params = params

    def masked(self, value: Any) -> Any:
        """``value`` with every secret masked in each string in it (for what a server sent back)."""
        return _masked(value, self.redact)

    def warn(self, warning: Any) -> None:
        super().warn(self.redact(warning) if isinstance(warning, str) else warning)

    def add_secret(self, value: str | None) -> None:
        """Mask a secret learned at run time (a token) in every later message (not in the result: a
        module that returns a token does so on purpose, and documents it)."""
        self.redact.add(value)

    def client(self, grant_hint: str | None = None, *, wrap: Any = None, connections: int = 10,
               **code_flow: Any) -> ProcessMakerClient:
        options = self.connection_options(grant_hint)
        return ProcessMakerClient.from_options(options, warn=self.warn, store=self.token_store(), wrap=wrap,
                                               redact=self.redact, connections=connections, **code_flow)

    def token_store(self) -> TokenStore | None:
        """Where refresh-token rotations are remembered for later tasks (PM_TOKEN_CACHE, PM_TOKEN_CACHE_DIR;
        modules have no task options for it). Opened only when a presented refresh token needs it."""
        try:
            values, _sources = resolve_values(CACHE_OPTIONS, {}, (), os.environ)
        except OptionError as error:
            self.fail_json(msg=str(error))
        if not values["cache"]:
            return None
        return TokenStore.open(values["cache_dir"], warn=self.warn)

    def _result(self, kwargs: dict) -> dict:
        if not self.returns_tokens:
            self._mask()
        if "invocation" not in kwargs and isinstance(getattr(self, "params", None), dict):
            kwargs["invocation"] = {"module_args": self.shown_params()}
        return kwargs

    def exit_json(self, **kwargs: Any) -> None:
        super().exit_json(**self._result(kwargs))

    def fail_json(self, msg: Any = "", **kwargs: Any) -> None:
        """Every failure is one line, whatever a value quoted in it holds: Ansible's own argument
        errors quote values as given (``state: "present\\n"``), and so may ours. The line is masked
        here too, for the json_only secrets Ansible's no_log_values do not hold."""
        message = " ".join(str(msg).split())
        if not self.returns_tokens:
            message = self.redact(message)
        super().fail_json(msg=message, **self._result(kwargs))

    def fail_from_error(self, error: Exception, **result: Any) -> None:
        """fail_json with the one-line message, and the structured error for ProcessMakerError."""
        if isinstance(error, ProcessMakerError):
            result["error"] = self.masked(error.to_dict())  # the server's words: json_only secrets too
            message = error.one_line(self.redact)
        else:
            message = self.redact(str(error))
        self.fail_json(msg=message, **result)
