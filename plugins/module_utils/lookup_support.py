# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the lookups share (controller side): options from a plugin, a cached client.

Kept free of ``ansible.plugins`` imports; the plugin passes itself in. Lookup options resolve as
keyword arguments > ``pm_*`` variables > ``PM_*`` environment > default, from the same option
table as the modules (Ansible's config system reads them, ``get_option_and_origin`` says where
each came from).
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
    explicit_from_origins,
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


def connection_for_lookup(plugin: Any) -> ConnectionOptions:
    """Resolve the connection options of a lookup after ``plugin.set_options(...)``.

    Raises OptionError (one line) when they do not add up.
    """
    given: dict = {}
    origins: dict = {}
    for option in CONNECTION_OPTIONS:
        value, origin = plugin.get_option_and_origin(option.name)
        given[option.name] = value
        origins[option.name] = origin
    return resolve_connection(given, explicit_from_origins(origins), os.environ)


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
