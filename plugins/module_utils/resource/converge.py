# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The converge run of ``pm_resource``: what the task asks (entries), then list, plan and write each kind.

    entries = entries_from(params)              # PlanError: one line; nothing was sent yet
    run = Converge(client, check_mode=False, redact=module.redact, actor_password=...)
    run.apply(entries)                          # PlanError / ProcessMakerError stop it; run.kinds holds what was done
    result = run.report(multi=True, diff=True)

A task names one kind (``kind`` + ``items``), a list of entries (``resources``), or a whole configuration
as a mapping of kind to items (``config``, the shape the configure role takes). Entries are applied in
dependency order (each kind's rank); deletions after, in reverse (memberships before the groups and users
they name). Each path is listed once for the whole task; a kind whose writes fail stops the kinds after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.executor import (
    Executor,
    Inventory,
    Outcome,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.kinds import (
    KINDS,
    masked_items,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    UPDATE_SECRETS_CHOICES,
    Kind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    Plan,
    PlanError,
    PlanOptions,
    make_plan,
    needs_deleted,
    validate_items,
    validate_options,
)

ENTRY_KEYS = ("items", "state", "purge", "update_secrets")


@dataclass
class Entry:
    """One kind the task converges: its validated items and options."""

    kind: Kind
    desired: list
    options: PlanOptions


@dataclass
class KindRun:
    """What one kind did: its plan, one outcome per action (None where nothing was written), requests made."""

    entry: Entry
    plan: Plan
    outcomes: list
    requests: dict = field(default_factory=dict)

    @property
    def failures(self) -> list:
        return [outcome.error for outcome in self.outcomes if outcome is not None and outcome.error]

    def results(self, changes_only: bool = False) -> list:
        """One result per action; with ``changes_only`` only those that write (or would, in check mode)."""
        results = []
        for action, outcome in zip(self.plan.actions, self.outcomes):
            if changes_only and not action.writes:
                continue
            result = action.result()
            if outcome is not None:
                result["id"] = outcome.id
                if outcome.adopted:
                    result["adopted"] = True
                if outcome.error:
                    result["error"] = outcome.error
            results.append(result)
        return results

    def report(self, changes_only: bool = False) -> dict:
        return {"kind": self.entry.kind.name, "state": self.entry.options.state, "changed": self.plan.changed,
                "results": self.results(changes_only), "summary": self.plan.summary(),
                "purge_skipped": self.plan.skipped, "requests": self.requests}


# ---------------------------------------------------------------------------------------------
# What the task asks


def _entry(kind_name: Any, given: Mapping, defaults: Mapping, where: str | None, check_mode: bool) -> Entry:
    kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        raise PlanError(f"{where}: unknown kind {kind_name!r} (kinds: {', '.join(KINDS)})")
    state = given.get("state") or defaults.get("state") or "present"
    purge = given.get("purge")
    if purge is None:  # the task's purge applies where a purge can: kinds that allow it, to be present
        purge = bool(defaults.get("purge")) and kind.purgeable and state == "present"
    options = PlanOptions(state=state, purge=purge,
                          update_secrets=given.get("update_secrets") or defaults.get("update_secrets") or "on_create",
                          check_mode=check_mode)
    try:
        validate_options(kind, options)
        desired = validate_items(kind, given.get("items"))
    except PlanError as error:
        if where is None:
            raise
        raise PlanError(f"{where}: {error}") from None
    return Entry(kind, desired, options)


def _config_entry(name: Any, value: Any) -> dict:
    """A ``config`` value: the kind's list of items, or a mapping of items, state, purge, update_secrets."""
    where = f"config.{name}"
    if isinstance(value, list):
        return {"items": value}
    if isinstance(value, Mapping):
        unknown = sorted(str(key) for key in value if key not in ENTRY_KEYS)
        if unknown:
            raise PlanError(f"{where}: unknown key {unknown[0]!r}; give a list of items, or a mapping of"
                            f" {', '.join(ENTRY_KEYS)}")
        if value.get("state") not in (None, "present", "absent"):
            raise PlanError(f"{where}: state must be present or absent, not {value['state']!r}")
        if value.get("purge") is not None and not isinstance(value["purge"], bool):
            raise PlanError(f"{where}: purge must be true or false, not {value['purge']!r}")
        if value.get("update_secrets") not in (None, *UPDATE_SECRETS_CHOICES):
            raise PlanError(f"{where}: update_secrets must be one of {', '.join(UPDATE_SECRETS_CHOICES)}")
        return dict(value)
    raise PlanError(f"{where}: must be a list of items, or a mapping with items (and optional state, purge,"
                    f" update_secrets), not {type(value).__name__}")


def item_lists(params: Any) -> list:
    """Every list of items in the task's arguments, validated or not (so of any type): ``items``, each
    ``resources`` entry's, and each ``config`` value's (a list, or a mapping with ``items``)."""
    if not isinstance(params, Mapping):
        return []
    found = [params.get("items")]
    for entry in params.get("resources") if isinstance(params.get("resources"), list) else []:
        found.append(entry.get("items") if isinstance(entry, Mapping) else None)
    for value in params["config"].values() if isinstance(params.get("config"), Mapping) else []:
        found.append(value.get("items") if isinstance(value, Mapping) else value)
    return [items for items in found if isinstance(items, list)]


# Item lists longer than this are summarised in the result's copy of the arguments (invocation.module_args,
# printed at -vvv): RV(results) has every item's identity already, and passing 10,000 items back through
# Ansible (masking, JSON, the controller's parsing, the callbacks) cost more than all the rest of a run
# with nothing to change.
SHOWN_ITEMS = 1000


def _shown(items: Any) -> Any:
    if isinstance(items, list) and len(items) > SHOWN_ITEMS:
        return f"({len(items)} items, not repeated here: more than {SHOWN_ITEMS}; see results)"
    return masked_items(items)


def shown_arguments(params: Mapping) -> dict:
    """The task's arguments as its result shows them: the write-only value of every item masked
    (``masked_items``), since those values are kept out of Ansible's no_log_values (whose cost grows with
    their number times the size of the result), and a long list of items summarised (``SHOWN_ITEMS``)."""
    shown = dict(params)
    shown["items"] = _shown(shown.get("items"))
    if isinstance(shown.get("resources"), list):
        shown["resources"] = [dict(entry, items=_shown(entry["items"]))
                              if isinstance(entry, Mapping) and "items" in entry else entry
                              for entry in shown["resources"]]
    if isinstance(shown.get("config"), Mapping):
        shown["config"] = {name: dict(value, items=_shown(value["items"]))
                           if isinstance(value, Mapping) and "items" in value else _shown(value)
                           for name, value in shown["config"].items()}
    return shown


def entries_from(params: Mapping, check_mode: bool = False) -> list:
    """The task's entries, validated and in the order to apply them. Raises PlanError (one line)."""
    defaults = {name: params.get(name) for name in ("state", "purge", "update_secrets")}
    if params.get("config") is not None:
        given = [(f"config.{name}", f"config.{name}", name, _config_entry(name, value))
                 for name, value in params["config"].items() if value is not None]
    elif params.get("resources") is not None:
        given = [(f"resources[{index}]", f"resources ({entry['kind']}, state={entry['state']})", entry["kind"], entry)
                 for index, entry in enumerate(params["resources"])]
    else:
        single = dict(defaults, items=params.get("items") or [])
        return [_entry(params["kind"], single, defaults, None, check_mode)]
    entries, seen = [], set()
    for place, where, kind_name, entry in given:
        built = _entry(kind_name, entry, defaults, where, check_mode)
        key = (built.kind.name, built.options.state)
        if key in seen:
            raise PlanError(f"{place}: kind {built.kind.name} with state={built.options.state} is listed twice;"
                            " put all its items in one entry")
        seen.add(key)
        entries.append(built)
    present = sorted((e for e in entries if e.options.state == "present"), key=lambda e: e.kind.rank)
    absent = sorted((e for e in entries if e.options.state == "absent"), key=lambda e: -e.kind.rank)
    return present + absent


# ---------------------------------------------------------------------------------------------
# Doing it


class Converge:
    """Lists, plans and writes the entries with one client (built for ``concurrency``: a locked token
    provider and a pool of that size); ``kinds`` holds what each kind did, even after a failure."""

    def __init__(self, client: Any, *, check_mode: bool, concurrency: int, per_page: int,
                 redact: Any = None, actor_password: str | None = None, settle_timeout: float = 600.0) -> None:
        self.client = client
        self.check_mode = check_mode
        self.actor_password = actor_password
        self.settle_timeout = settle_timeout
        self.executor = Executor(client, concurrency=concurrency, per_page=per_page, redact=redact)
        self.inventory = Inventory(client, per_page=per_page, concurrency=concurrency)
        self.kinds: list = []

    @property
    def failures(self) -> list:
        return self.kinds[-1].failures if self.kinds else []

    def apply(self, entries: list) -> None:
        """Each entry in turn; stops after a kind whose writes failed (later kinds may refer to them)."""
        for entry in entries:
            before = dict(self.executor.requests, list=self.inventory.requests)
            plan, outcomes = self._run(entry)
            after = dict(self.executor.requests, list=self.inventory.requests)
            self.kinds.append(KindRun(entry, plan, outcomes, {name: after[name] - before[name] for name in after}))
            if self.failures:
                return

    def _run(self, entry: Entry) -> tuple:
        kind, options = entry.kind, entry.options
        lists = self.inventory.load(kind)
        context = kind.context(lists, caller_id=self.client.token.user_id, actor_password=self.actor_password)
        current = kind.current_items(lists, context)
        deleted = []
        if needs_deleted(kind, entry.desired, current, options):
            deleted = kind.deleted_items({kind.deleted_path: self.inventory.listing(kind.deleted_path)})
        plan = make_plan(kind, entry.desired, current, deleted, options, context)
        outcomes: list = [None] * len(plan.actions)
        if self.check_mode:
            # later kinds of the same task see what this one would do (a membership of a group it would create)
            predicted = [Outcome(action.id if action.id is not None else f"(planned {action.label})")
                         if action.writes else None for action in plan.actions]
            self.inventory.record(kind, plan, predicted, context)
        elif plan.writes:
            outcomes = self.executor.execute(kind, plan, context)
            self.inventory.record(kind, plan, outcomes, context)
            self._settle(kind, plan, outcomes)
        return plan, outcomes

    def _settle(self, kind: Kind, plan: Plan, outcomes: list) -> None:
        """Wait, within settle_timeout, for what the server finishes in the background (an executor's build)."""
        written = [(number, action, outcome) for number, (action, outcome) in enumerate(zip(plan.actions, outcomes))
                   if action.writes and action.op != "delete" and outcome is not None and outcome.error is None]
        if not written:
            return
        settled = kind.settle(self.client, written, self.settle_timeout)
        for number, error in settled.errors.items():
            action = plan.actions[number]
            where = f"items[{action.index}] ({action.label})" if action.index is not None else action.label
            outcomes[number].error = f"{where}: {error}"
        plan.warnings.extend(settled.warnings)

    def warnings(self) -> list:
        return [warning for run in self.kinds for warning in run.plan.warnings]

    def report(self, *, multi: bool, diff: bool, changes_only: bool = False) -> dict:
        """The task result: one kind's plan, or with several entries every kind's and the totals.
        ``changes_only``: results only for what writes (the summary still counts every item)."""
        if not multi:
            result: dict = {"changed": False, "results": [], "summary": {}, "purge_skipped": []}
            if self.kinds:
                run = self.kinds[0]
                result.update(changed=run.plan.changed, results=run.results(changes_only), summary=run.plan.summary(),
                              purge_skipped=run.plan.skipped, requests=run.requests)
                if diff:
                    result["diff"] = run.plan.diff()
            return result
        totals: dict = {}
        both: dict = {"before": {}, "after": {}}
        for run in self.kinds:
            for name, count in run.plan.summary().items():
                totals[name] = totals.get(name, 0) + count
            for side, objects in run.plan.diff().items():
                both[side].update({f"{run.entry.kind.name}: {label}": value for label, value in objects.items()})
        result = {"changed": any(run.plan.changed for run in self.kinds),
                  "resources": [run.report(changes_only) for run in self.kinds], "summary": totals}
        if diff:
            result["diff"] = both
        return result
