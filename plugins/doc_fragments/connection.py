# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation of the connection and auth options, rendered from their one definition.

The option table lives in ``plugins/module_utils/options.py``; this fragment renders it, so the
docs cannot drift from the argument_spec. Variants:

- ``processmaker.core.connection``: for modules (task arguments, module_defaults, environment).
- ``processmaker.core.connection.plugins``: for lookups (adds the ``pm_*`` variables and ``PM_*``
  environment entries Ansible's config system reads).
- ``processmaker.core.connection.cache``: the lookups' token cache options.
"""

from __future__ import annotations

import yaml
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    CACHE_OPTIONS,
    CONNECTION_OPTIONS,
)


def _option_doc(option, *, plugin: bool) -> dict:
    description = [option.description]
    if option.default_doc:
        description.append(f"Default: {option.default_doc}.")
    if option.env and not plugin:
        description.append(
            "When the task does not set it (nor the module_defaults group C(processmaker.core.all)),"
            f" the environment variable E({option.env}) is used."
        )
    if option.no_log:
        description.append("This is a secret: it is never logged or shown.")
    doc: dict = {"description": description, "type": option.type}
    if option.elements:
        doc["elements"] = option.elements
    if option.default is not None:
        doc["default"] = option.default
    if option.choices:
        doc["choices"] = list(option.choices)
    if option.aliases:
        doc["aliases"] = list(option.aliases)
    if plugin:
        if option.env:
            doc["env"] = [{"name": option.env}]
        doc["vars"] = [{"name": option.var}]
    return doc


def _render(options, *, plugin: bool, preamble: str = "") -> str:
    body = {"options": {option.name: _option_doc(option, plugin=plugin) for option in options}}
    if preamble:
        body["notes"] = [preamble]
    return yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=1000)


class ModuleDocFragment:
    DOCUMENTATION = _render(
        CONNECTION_OPTIONS,
        plugin=False,
        preamble="Connection and auth options are shared by every module of the collection: set them once"
        " with C(module_defaults: {group/processmaker.core.all: ...}) or C(PM_*) environment variables."
        " Precedence is task arguments, then module_defaults, then environment, then defaults.",
    )

    PLUGINS = _render(
        CONNECTION_OPTIONS,
        plugin=True,
        preamble="Connection and auth options resolve as lookup keyword arguments, then C(pm_*) variables,"
        " then C(PM_*) environment variables, then defaults.",
    )

    CACHE = _render(CACHE_OPTIONS, plugin=True)
