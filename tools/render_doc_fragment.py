#!/usr/bin/env python3
"""Render plugins/doc_fragments/connection.py from the one option table (plugins/module_utils/options.py).

The fragment is static YAML, as ansible-test's yamllint and validate-modules expect; this renders it
so it cannot be written by hand. `make doc-fragment` rewrites it; tests/unit/test_docs.py fails when
the file differs from what this renders (an option changed without re-rendering).

    tools/render_doc_fragment.py            # rewrite the file
    tools/render_doc_fragment.py --check    # exit 1 when it is not current
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
FRAGMENT = REPO / "plugins" / "doc_fragments" / "connection.py"


def import_collection() -> None:
    """Make this checkout importable as ansible_collections.processmaker.core (a private link to it)."""
    root = Path(tempfile.mkdtemp(prefix="pm-doc-fragment-"))
    atexit.register(shutil.rmtree, root, True)  # removes the link, never what it points to
    (root / "ansible_collections" / "processmaker").mkdir(parents=True)
    (root / "ansible_collections" / "processmaker" / "core").symlink_to(REPO)
    sys.path.insert(0, str(root))

HEADER = '''# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Documentation of the connection and auth options (generated: do not edit).

Rendered from the one option table in ``plugins/module_utils/options.py`` by
``tools/render_doc_fragment.py`` (``make doc-fragment``); a unit test fails when they differ.

- ``processmaker.core.connection``: for modules (task arguments, module_defaults, environment).
- ``processmaker.core.connection.plugins``: for lookups (adds the ``pm_*`` variables and ``PM_*``
  environment entries Ansible's config system reads).
- ``processmaker.core.connection.cache``: the lookups' token cache options.
"""

from __future__ import annotations


class ModuleDocFragment:
'''

MODULE_NOTE = ("Connection and auth options are shared by every module of the collection: set them once"
               " with C(module_defaults: {group/processmaker.core.all: ...}) or C(PM_*) environment variables."
               " Precedence is task arguments, then module_defaults, then environment, then defaults.")
MODULE_CACHE_NOTE = ("A refresh token given with O(access_token) is spent when the module renews the token: the"
                     " server revokes the pair. The module remembers the token it became in the token cache"
                     " (E(PM_TOKEN_CACHE_DIR), off with E(PM_TOKEN_CACHE=false)), so later tasks that present the"
                     " same pair with the same client credentials keep working.")
PLUGIN_NOTE = ("Connection and auth options resolve as lookup keyword arguments, then C(pm_*) variables,"
               " then C(PM_*) environment variables, then defaults.")


def option_doc(option, *, plugin: bool) -> dict:
    description = [option.description]
    if plugin and option.lookup_doc:
        description.append(option.lookup_doc)
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


def render_yaml(options, *, plugin: bool, notes: tuple = ()) -> str:
    body: dict = {"options": {option.name: option_doc(option, plugin=plugin) for option in options}}
    if notes:
        body["notes"] = list(notes)
    return yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=110)


def render() -> str:
    import_collection()
    from ansible_collections.processmaker.core.plugins.module_utils.options import (
        CACHE_OPTIONS,
        CONNECTION_OPTIONS,
        LOOKUP_OPTIONS,
    )

    parts = {
        "DOCUMENTATION": render_yaml(CONNECTION_OPTIONS, plugin=False, notes=(MODULE_NOTE, MODULE_CACHE_NOTE)),
        "PLUGINS": render_yaml(LOOKUP_OPTIONS, plugin=True, notes=(PLUGIN_NOTE,)),
        "CACHE": render_yaml(CACHE_OPTIONS, plugin=True),
    }
    body = "\n".join(f'    {name} = r"""\n{text}"""\n' for name, text in parts.items())
    return HEADER + body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is not current")
    args = parser.parse_args()
    rendered = render()
    if args.check:
        if FRAGMENT.read_text() != rendered:
            print(f"{FRAGMENT.relative_to(REPO)} is not current: run make doc-fragment", file=sys.stderr)
            return 1
        return 0
    FRAGMENT.write_text(rendered)
    print(f"wrote {FRAGMENT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
