# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``pm_resource``'s ``src``: the items of one kind read from a JSON or YAML file by the module itself.

Items handed over as the task's argument pass through Ansible on their way in (templating, the worker's
finalizing, the module's copies and validation of its arguments): at 10,000 items that is most of a run with
nothing to change. Read from a file they cost the parsing only, and their secrets never enter the task's
arguments at all. Errors are one line and never quote the file (it holds passwords): a position at most.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    PlanError,
)

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core; a bare managed host may lack it
    yaml = None

FIX = "give a JSON or YAML file holding a list of the kind's items (mappings)"


def _yaml_loader() -> Any:
    """PyYAML's safe loader (the C one when built), with dates and times left as text like every other
    scalar the API takes (a birthdate of 1990-01-01 stays the string the server expects)."""
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class ItemsLoader(base):  # type: ignore[misc, valid-type]
        pass

    ItemsLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return ItemsLoader


def _parse(text: str, path: str) -> Any:
    try:
        return json.loads(text)  # JSON is YAML too; its own parser is many times faster
    except json.JSONDecodeError as error:
        json_error = error
    if yaml is None or path.endswith(".json"):
        needs = "" if yaml is not None else " (PyYAML is not installed where the task runs: use JSON)"
        raise PlanError(f"src {path}: not valid JSON (line {json_error.lineno}, column {json_error.colno}){needs};"
                        f" {FIX}") from None
    try:
        return yaml.load(text, Loader=_yaml_loader())  # a safe loader (dates as text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)  # the error's text would quote the file: never shown
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise PlanError(f"src {path}: not valid YAML or JSON{where}; {FIX}") from None


def read_items(path: str) -> list:
    """The list of items in the file at ``path``. Raises PlanError (one line naming src and the fix)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise PlanError(f"src {path}: no such file on the host the task runs on; {FIX}") from None
    except IsADirectoryError:
        raise PlanError(f"src {path}: is a directory; {FIX}") from None
    except UnicodeDecodeError:
        raise PlanError(f"src {path}: not UTF-8 text; {FIX}") from None
    except OSError as error:
        raise PlanError(f"src {path}: cannot be read ({error.strerror}); {FIX}") from None
    try:
        items = _parse(text, path)
    except RecursionError:
        raise PlanError(f"src {path}: nested too deeply; {FIX}") from None
    if not isinstance(items, list):
        raise PlanError(f"src {path}: holds a {type(items).__name__}, not a list; {FIX}")
    return items
