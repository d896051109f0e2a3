# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure planner of ``pm_resource``: desired items + current objects -> an ordered plan.

No HTTP here. The executor lists the current objects, the planner decides, the executor writes:

    options = PlanOptions(state="present", purge=True)
    validate_options(kind, options)                           # PlanError: one line, option + fix
    desired = validate_items(kind, items)                     # PlanError: one line, item index + field
    plan = make_plan(kind, desired, current, deleted, options, context)
    plan.actions    # create / update / delete / restore / unchanged, one per item (+ purge deletes)
    plan.skipped    # what purge leaves alone, and why (the caller, administrators, system rows)
    plan.diff()     # before/after, secrets as ********

``apply_plan`` computes the state a plan leaves behind; planning that state again with the same
items yields only ``unchanged`` (the property the tests check with hypothesis), which is also how a
check-mode run of several kinds predicts the later kinds (memberships of groups it would create).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.redaction import MASK
from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    UPDATE_SECRETS_CHOICES,
    Context,
    Current,
    Desired,
    ItemError,
    Kind,
)

OPS = ("create", "update", "restore", "delete", "unchanged")
WRITE_OPS = frozenset(("create", "update", "restore", "delete"))
# The summary counts each action under a past participle: a key named "update" would be shadowed by
# Jinja's dict.update in templates ({{ summary.update }} prints a method).
SUMMARY_KEYS = {"create": "created", "update": "updated", "restore": "restored", "delete": "deleted",
                "unchanged": "unchanged"}


class PlanError(ValueError):
    """Items or options the planner cannot act on; str() is one line saying what and how to fix it."""


@dataclass(frozen=True)
class PlanOptions:
    """What the task asks of one kind (checked once, by ``validate_options``)."""

    state: str = "present"
    purge: bool = False
    update_secrets: str = "on_create"  # like ansible.builtin.user's update_password
    check_mode: bool = False


@dataclass
class Action:
    op: str
    key: tuple
    label: str
    identity: dict
    index: int | None = None  # the item; None for what purge removes
    id: Any = None
    values: dict = field(default_factory=dict)  # what to write (secrets included)
    changes: list = field(default_factory=list)  # names of the fields written (never their values)
    before: dict | None = None  # readable state before, for the diff
    after: dict | None = None  # readable state after, secrets masked
    reason: str = ""
    current: Current | None = None

    @property
    def writes(self) -> bool:
        return self.op in WRITE_OPS

    def result(self) -> dict:
        result = {"identity": self.identity, "action": self.op, "id": self.id}
        if self.index is not None:
            result["index"] = self.index
        if self.changes:
            result["changes"] = list(self.changes)
        if self.reason:
            result["reason"] = self.reason
        return result


@dataclass
class Plan:
    kind: str
    actions: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # [{"identity", "id", "reason"}]
    warnings: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(action.writes for action in self.actions)

    @property
    def writes(self) -> list:
        return [action for action in self.actions if action.writes]

    def summary(self) -> dict:
        counts = {SUMMARY_KEYS[op]: 0 for op in OPS}
        for action in self.actions:
            counts[SUMMARY_KEYS[action.op]] += 1
        counts["skipped"] = len(self.skipped)
        return counts

    def diff(self) -> dict:
        """``{"before": {label: object}, "after": {label: object}}`` for the items that change;
        an object missing on one side does not exist there. Secrets are ********."""
        before, after = {}, {}
        for action in self.actions:
            if not action.writes:
                continue
            if action.before is not None:
                before[action.label] = action.before
            if action.after is not None:
                after[action.label] = action.after
        return {"before": before, "after": after}


# ---------------------------------------------------------------------------------------------
# Validation


def validate_items(kind: Kind, items: Any) -> list:
    """Normalize every item; raises PlanError (``items[3]: ...``) on the first bad one."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise PlanError(f"items must be a list of mappings, got {type(items).__name__}")
    desired, seen = [], {}
    for index, raw in enumerate(items):
        try:
            item = kind.normalize_item(index, raw)
        except ItemError as error:
            raise PlanError(str(error)) from None
        if item.key in seen:
            raise PlanError(f"items[{index}]: {item.label!r} is listed twice (also items[{seen[item.key]}]);"
                            f" each {kind.singular} may appear once")
        seen[item.key] = index
        desired.append(item)
    return desired


def validate_options(kind: Kind, options: PlanOptions) -> None:
    if options.state not in ("present", "absent"):
        raise PlanError(f"state must be present or absent, not {options.state!r}")
    if options.update_secrets not in UPDATE_SECRETS_CHOICES:
        raise PlanError(f"update_secrets must be one of {', '.join(UPDATE_SECRETS_CHOICES)}")
    if options.purge and options.state != "present":
        raise PlanError("purge only works with state=present (it removes what items does not list)")
    if options.purge and not kind.purgeable:
        raise PlanError(f"purge is not supported for kind {kind.name}: its objects are defined by ProcessMaker;"
                        " drop purge")
    if options.state == "absent" and not kind.can_delete:
        raise PlanError(f"state=absent is not supported for kind {kind.name}: its objects cannot be deleted;"
                        " use state=present")


def needs_deleted(kind: Kind, desired: Iterable, current: Iterable, options: PlanOptions) -> bool:
    """Whether the soft-deleted objects must be listed too: only when an item to be present is missing
    (so a run with nothing to create never asks)."""
    if not kind.soft_delete or options.state != "present":
        return False
    present = {item.key for item in current}
    return any(item.key not in present for item in desired)


# ---------------------------------------------------------------------------------------------
# Planning


def _readable(kind: Kind, values: Mapping) -> dict:
    return kind.readable(values)


def _masked(kind: Kind, values: Mapping, secrets: Iterable) -> dict:
    shown = _readable(kind, values)
    for name in secrets:
        shown[name] = MASK
    return shown


def _changes(kind: Kind, desired: Desired, current: Current) -> dict:
    """Fields whose desired value differs from the server's (identity and write-only fields aside:
    identities match case-insensitively, secrets cannot be read back)."""
    changed = {}
    skip = kind.not_compared_fields
    for name, value in desired.values.items():
        if name in skip:
            continue
        if not kind.same(name, value, current):
            changed[name] = value
    return changed


def _item_error(desired: Desired, message: str) -> PlanError:
    return PlanError(f"items[{desired.index}] ({desired.label}): {message}")


def _present(kind: Kind, desired: Desired, active: dict, deleted: dict, options: PlanOptions,
             context: Context, plan: Plan) -> Action:
    identity = kind.identity_of(desired.values)
    secrets = desired.secrets(kind)
    current = active.get(desired.key)
    if current is not None:
        changes = _changes(kind, desired, current)
        refused = kind.check_change(changes, context)
        if refused:
            raise _item_error(desired, refused)
        written = dict(changes)
        if options.update_secrets == "always":
            written.update({name: desired.values[name] for name in secrets})
        if not written:
            return Action("unchanged", desired.key, desired.label, identity, desired.index, current.id,
                          current=current)
        return Action("update", desired.key, desired.label, identity, desired.index, current.id, values=written,
                      changes=list(written), before=_readable(kind, current.values),
                      after=_masked(kind, kind.applied(current, written), [n for n in secrets if n in written]),
                      current=current)
    gone = deleted.get(desired.key)
    if gone is not None:
        # Soft-deleted (users): restore it (status comes back ACTIVE), then write what differs and,
        # as for a new object, its secrets.
        restored = replace(gone, values=dict(gone.values, status="ACTIVE"), raw=dict(gone.raw, status="ACTIVE"),
                           deleted=False)
        written = _changes(kind, desired, restored)
        written.update({name: desired.values[name] for name in secrets})
        return Action("restore", desired.key, desired.label, identity, desired.index, gone.id, values=written,
                      changes=list(written), before=None,
                      after=_masked(kind, kind.applied(restored, written), secrets), current=restored)
    if not kind.can_create:
        raise _item_error(desired, kind.missing(desired))
    values = kind.create_values(desired)
    missing = kind.missing_on_create(values)
    if missing:
        raise _item_error(desired, f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required to"
                                   f" create the {kind.singular} (it does not exist yet)")
    unresolved = kind.unresolved(values, context)
    if unresolved:
        text = " and ".join(unresolved)
        verb, pronoun = ("does", "it") if len(unresolved) == 1 else ("do", "them")
        if not options.check_mode:
            raise _item_error(desired, f"{text} {verb} not exist; create {pronoun} first (kind groups or users, in"
                                       " an earlier task or the same task's resources)")
        plan.warnings.append(f"items[{desired.index}] ({desired.label}): {text} {verb} not exist yet; predicted"
                             f" as created, assuming an earlier task creates {pronoun}")
    return Action("create", desired.key, desired.label, identity, desired.index, None, values=values,
                  changes=[name for name in values if name not in kind.identity], before=None,
                  after=_masked(kind, values, secrets))


def _absent(kind: Kind, desired: Desired, active: dict, options: PlanOptions) -> Action:
    identity = kind.identity_of(desired.values)
    current = active.get(desired.key)
    if current is None:
        return Action("unchanged", desired.key, desired.label, identity, desired.index, None, reason="absent")
    if current.locked:
        raise _item_error(desired, f"refusing to delete {current.protected}")
    return Action("delete", desired.key, desired.label, identity, desired.index, current.id,
                  before=_readable(kind, current.values), current=current, reason="absent")


def make_plan(kind: Kind, desired: list, current: Iterable, deleted: Iterable = (),
              options: PlanOptions | None = None, context: Context | None = None) -> Plan:
    """Decide what to do. ``current`` are the live objects, ``deleted`` the soft-deleted ones
    (restorable); ``options`` were checked by ``validate_options``. Raises PlanError for anything that
    cannot be planned (nothing is written then)."""
    options = options or PlanOptions()
    context = context or Context()
    active = {item.key: item for item in current}
    gone = {item.key: item for item in deleted if item.key not in active}
    plan = Plan(kind.name)
    for item in desired:
        if options.state == "present":
            try:
                plan.actions.append(_present(kind, item, active, gone, options, context, plan))
            except ValueError as error:  # a value the object's current type cannot take (a setting's format)
                if isinstance(error, PlanError):
                    raise
                raise _item_error(item, str(error)) from None
        else:
            plan.actions.append(_absent(kind, item, active, options))
    if options.purge:
        wanted = {item.key for item in desired}
        extra = sorted((item for key, item in active.items() if key not in wanted), key=lambda i: i.label.casefold())
        for item in extra:
            identity = kind.identity_of(item.values)
            if item.protected:
                plan.skipped.append({"identity": identity, "id": item.id, "reason": item.protected})
                continue
            plan.actions.append(Action("delete", item.key, item.label, identity, None, item.id,
                                       before=_readable(kind, item.values), current=item, reason="purge"))
    return plan


# ---------------------------------------------------------------------------------------------
# The state a plan leaves behind


def apply_plan(kind: Kind, plan: Plan, current: Iterable, deleted: Iterable = (),
               ids: Mapping | None = None) -> tuple:
    """(current, deleted) after the plan's writes. ``ids`` maps an action's key to the id the server
    gave a created object (placeholders are used when absent, as in check mode)."""
    active = {item.key: item for item in current}
    gone = {item.key: item for item in deleted}
    ids = ids or {}
    for number, action in enumerate(plan.actions):
        if action.op == "create":
            object_id = ids.get(action.key, action.id if action.id is not None else f"planned-{number}")
            values = kind.applied(None, action.values)
            active[action.key] = Current(action.key, object_id, values, action.label, dict(values))
        elif action.op in ("update", "restore"):
            base = action.current or active.get(action.key) or gone.get(action.key)
            values = kind.applied(base, action.values)
            if base is None:
                base = Current(action.key, action.id, {}, action.label)
            active[action.key] = replace(base, values=values, raw=dict(base.raw, **values), deleted=False)
            gone.pop(action.key, None)
        elif action.op == "delete":
            removed = active.pop(action.key, None)
            if removed is not None and kind.soft_delete:
                gone[action.key] = replace(removed, values=dict(removed.values, status="INACTIVE"),
                                           raw=dict(removed.raw, status="INACTIVE"), deleted=True)
    return list(active.values()), list(gone.values())
