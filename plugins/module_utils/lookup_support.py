# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the lookups share (controller side): options from a plugin, a cached client.

Kept free of ``ansible.plugins`` imports; the plugin passes itself in. Lookup options resolve as
keyword arguments > ``pm_*`` variables > ``PM_*`` environment > default, from the same option
table as the modules (Ansible's config system reads them; which were set explicitly is decided from
the keywords and variables given, the same way on ansible-core 2.17 to 2.21).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    CONNECTION_OPTIONS,
    ConnectionOptions,
    explicit_from_lookup,
    resolve_connection,
)
from ansible_collections.processmaker.core.plugins.module_utils.token_cache import (
    cached_authenticator,
)


def lookup_variables(plugin: Any, variables: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``pm_*`` variables of the play, rendered.

    Ansible hands lookups the raw variables, so ``pm_url: "{{ lookup('env', 'PM_URL') }}"`` would
    arrive as the template text; render just the variables the options read (the ``pm_*`` ones).
    """
    if not variables:
        return {}
    chosen = {name: value for name, value in variables.items() if name.startswith("pm_")}
    templar = getattr(plugin, "_templar", None)  # None when a lookup is built outside a play
    return {name: templar.template(value) for name, value in chosen.items()} if templar else chosen


def connection_for_lookup(plugin: Any, var_options: Mapping[str, Any] | None = None,
                          direct: Mapping[str, Any] | None = None) -> ConnectionOptions:
    """Resolve the connection options of a lookup after ``plugin.set_options(var_options=..., direct=...)``,
    given the same ``var_options`` and ``direct``.

    Values come from ``plugin.get_option`` (what ``set_options`` resolved); the options set explicitly
    are the keywords given and the ``pm_*`` variables present. ``get_option_and_origin`` is not used:
    on ansible-core 2.17 it re-reads the configuration without those variables and keywords.
    Raises OptionError (one line) when they do not add up.
    """
    given = {option.name: plugin.get_option(option.name) for option in CONNECTION_OPTIONS}
    return resolve_connection(given, explicit_from_lookup(var_options, direct), os.environ)


def client_for_lookup(plugin: Any, options: ConnectionOptions, *,
                      warn: Callable[[str], None] | None = None) -> ProcessMakerClient:
    """A client whose token comes through the shared cache (unless ``cache: false``)."""
    client = ProcessMakerClient.from_options(options, warn=warn)
    if client.authenticator is not None:
        client.authenticator = cached_authenticator(
            options,
            client.authenticator,
            use_cache=bool(plugin.get_option("cache")),
            directory=plugin.get_option("cache_dir") or None,
            margin=float(plugin.get_option("refresh_margin")),
            warn=warn,
        )
    return client
