# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base class of the collection's lookups (controller side): options, a client, clean errors.

Lookup options resolve as keyword arguments > ``pm_*`` variables > ``PM_*`` environment > default,
from the same option table as the modules (Ansible's config system reads them; which were set
explicitly is decided from the keywords and variables given, the same way on ansible-core 2.17 to
2.21). Every failure is an ``AnsibleError`` of one line that starts with the lookup's name, with
every form of every secret masked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    LOOKUP_OPTIONS,
    ConnectionOptions,
    OptionError,
    explicit_from_lookup,
    resolve_connection,
)
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
)
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HAS_REQUESTS,
)
from ansible_collections.processmaker.core.plugins.plugin_utils.token_cache import (
    cached,
)

display = Display()


class ProcessMakerLookup(LookupBase):
    """Shared by ``pm_token`` and ``pm_api``: ``connect()`` resolves the options and builds a client whose
    tokens go through the shared cache; ``talking()`` turns the client's failures into one-line errors."""

    NAME = ""  # processmaker.core.<lookup>, the start of every message
    CODE_FLOW_HINT = ""  # what to do instead of the authorization code flow, which needs a person

    def fail(self, message: object) -> NoReturn:
        # from None: ansible-core < 2.19 prints, at -vvv, the traceback of a lookup's error with the
        # exception it was raised while handling, whose text is not masked
        raise AnsibleError(f"{self.NAME}: {message}") from None

    def pm_variables(self, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        """The ``pm_*`` variables of the play, rendered.

        Ansible hands lookups the raw variables, so ``pm_url: "{{ lookup('env', 'PM_URL') }}"`` would
        arrive as the template text; render just the variables the options read (the ``pm_*`` ones).
        """
        chosen = {name: value for name, value in (variables or {}).items() if name.startswith("pm_")}
        templar = getattr(self, "_templar", None)  # None when a lookup is built outside a play
        return {name: templar.template(value) for name, value in chosen.items()} if templar else chosen

    def connection(self, variables: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> ConnectionOptions:
        """Set the plugin's options and resolve the connection options from them.

        Values come from ``get_option`` (what ``set_options`` resolved); the options set explicitly are the
        keywords given and the ``pm_*`` variables present. ``get_option_and_origin`` is not used: on
        ansible-core 2.17 it re-reads the configuration without those variables and keywords.
        """
        if not HAS_REQUESTS:
            self.fail("needs the Python library requests on the controller: pip install 'requests>=2.28'")
        var_options = self.pm_variables(variables)
        self.set_options(var_options=var_options, direct=dict(kwargs))
        given = {option.name: self.get_option(option.name) for option in LOOKUP_OPTIONS}
        try:
            options = resolve_connection(given, explicit_from_lookup(var_options, kwargs), os.environ)
        except OptionError as error:
            self.fail(error)
        if options.grant_type == "authorization_code":
            self.fail(f"a lookup cannot run the authorization code flow (it needs a person); {self.CODE_FLOW_HINT}")
        return options

    def connect(self, variables: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> ProcessMakerClient:
        """A client for the lookup's options, its tokens shared through the cache (unless ``cache: false``)."""
        options = self.connection(variables, kwargs)
        store = None
        if self.get_option("cache"):
            store = TokenStore.open(self.get_option("cache_dir") or None, warn=display.warning)
        margin = float(self.get_option("refresh_margin"))
        return ProcessMakerClient.from_options(
            options, warn=display.warning, store=store, margin=margin,
            wrap=lambda inner: cached(inner, options, store, margin),
        )

    @contextlib.contextmanager
    def talking(self, client: ProcessMakerClient) -> Iterator[ProcessMakerClient]:
        """Use the client; a failure becomes a one-line AnsibleError, secrets masked; closed afterwards."""
        try:
            yield client
        except ProcessMakerError as error:
            self.fail(error.one_line(client.transport.redact))
        finally:
            client.close()
