# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The I/O half of ``pm_resource``: list what the server has (once per kind per task) and carry out
a plan's writes with a bounded thread pool.

    inventory = Inventory(client, per_page=1000)
    lists = inventory.load(kind)                 # {path: [objects]}, each path fetched once, big pages
    executor = Executor(client, concurrency=8)
    outcomes = executor.execute(kind, plan, context)

Writes share the module's client, built for it: its token provider is behind a lock (one token
renewal for every worker) and its connection pool is sized to the workers. A create whose answer was lost (a
5xx or a dropped connection after the server may have acted) is never simply sent again: the item
is looked up by its identity first, and adopted when it landed. A create refused because its
identity is taken (HTTP 422 on the username or name: another play created the object since this
task listed the kind) is looked up and adopted too. Never a duplicate, and no failure for a race.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    may_have_landed,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
    Kind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    Action,
    Plan,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import RetryPolicy

DEFAULT_CONCURRENCY = 8
DEFAULT_PER_PAGE = 1000


def taken_by_identity(error: ProcessMakerError, kind: Kind) -> bool:
    """Whether a create was refused because its identity (a username, a name) is taken: someone else
    (a play running at the same time) created the object after this task listed the kind."""
    return error.status == 422 and any(name in error.field_errors for name in kind.identity)


# ---------------------------------------------------------------------------------------------
# Listing


class Inventory:
    """What the server has, listed once per path per task with big pages, and kept current as the
    task's own writes land (so a later kind of the same task resolves names without listing again)."""

    def __init__(self, client: Any, per_page: int = DEFAULT_PER_PAGE, max_items: int | None = None,
                 concurrency: int = 1) -> None:
        self.client = client
        self.per_page = per_page
        self.max_items = max_items
        self.concurrency = concurrency
        self.cache: dict = {}
        self.requests = 0

    def listing(self, path: str) -> list:
        if path not in self.cache:
            pages = self.client.paginate(path, per_page=self.per_page, max_items=self.max_items,
                                         concurrency=self.concurrency)
            self.requests += max(1, pages.pages)
            self.cache[path] = [item for item in listed_items(self.client, path, pages) if isinstance(item, Mapping)]
        return self.cache[path]

    def load(self, kind: Kind, extra: Iterable[str] = ()) -> dict:
        return {path: self.listing(path) for path in (*kind.lists, *extra)}

    def record(self, kind: Kind, plan: Plan, outcomes: Iterable, context: Context) -> None:
        """Fold a plan's successful writes into the cached lists (ids, identities, soft deletes)."""
        if kind.path not in self.cache:
            return
        listed = self.cache[kind.path]
        deleted = self.cache.get(kind.deleted_path) if kind.deleted_path else None
        for action, outcome in zip(plan.actions, outcomes):
            if outcome is None or outcome.error is not None or not action.writes:
                continue
            if action.op == "create":
                listed.append(kind.listed(action.values, outcome.id, context))
            elif action.op == "restore":
                listed.append(dict(action.current.raw if action.current else {}, id=action.id, deleted_at=None))
                if deleted is not None:
                    deleted[:] = [item for item in deleted if str(item.get("id")) != str(action.id)]
            elif action.op == "delete":
                listed[:] = [item for item in listed if str(item.get("id")) != str(action.id)]


def listed_items(client: Any, path: str, pages: Any) -> list:
    """The items of a listing; an answer that is no ``{data, meta}`` page is an error, never "nothing
    there" (that would plan creates for everything, or send a lost create again)."""
    if not pages.paginated:
        last = pages.last_response
        raise ProcessMakerError(
            "the answer is not a {data, meta} list page", status=getattr(last, "status", None), method="GET",
            url=getattr(last, "url", None) or client.url_for(path), code="bad_page",
            hint="Check url and api_path: the answer did not come from ProcessMaker's API",
        )
    return pages.items


# ---------------------------------------------------------------------------------------------
# Writing


@dataclass
class Outcome:
    id: Any = None
    error: str | None = None
    adopted: bool = False  # a create whose answer was lost, found on the server afterwards
    attempts: int = 1


class Executor:
    def __init__(self, client: Any, *, concurrency: int = DEFAULT_CONCURRENCY, per_page: int = DEFAULT_PER_PAGE,
                 policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, redact: Callable[[str], str] | None = None) -> None:
        self.client = client  # built for concurrency: a locked token provider, a pool of that size
        self.concurrency = max(1, int(concurrency))
        self.per_page = per_page
        # how often a create whose answer was lost is sent again: the transport's own policy by default
        self.policy = policy or client.transport.policy
        self.sleep = sleep
        self.clock = clock
        self.redact = redact
        self.requests = {"write": 0, "lookup": 0}
        self._count_lock = threading.Lock()

    def _count(self, what: str) -> None:
        with self._count_lock:
            self.requests[what] += 1

    # ---- one action ---------------------------------------------------------------------------
    def _lookup(self, kind: Kind, action: Action, context: Context) -> Any:
        """The id of the item on the server now, or None."""
        path, query = kind.lookup(action.values, context)
        self._count("lookup")
        pages = self.client.paginate(path, query=query, per_page=self.per_page)
        for raw in listed_items(self.client, path, pages):
            if isinstance(raw, Mapping) and kind.matches(raw, action.values, context):
                return raw.get("id")
        return None

    def _create(self, kind: Kind, action: Action, context: Context) -> Outcome:
        body = kind.create_body(action.values, context)
        started = self.clock()
        attempt = 1
        sent_before = 0  # attempts of the earlier sends of this create, for the error message
        while True:
            try:
                self._count("write")
                response = self.client.post(kind.path, json=body, expected_status=kind.create_status,
                                            safe_to_retry=True if kind.create_idempotent else None)
            except ProcessMakerError as error:
                if taken_by_identity(error, kind):
                    # created since the listing (by a concurrent play, or by our own first attempt
                    # before a repeat): find it and adopt it; not found (a soft-deleted user holds
                    # the name, say), the server's refusal stands
                    found = self._lookup(kind, action, context)
                    if found is not None:
                        return Outcome(found, adopted=True, attempts=attempt)
                    raise
                wait = self.policy.next_delay(attempt, self.clock() - started)
                if wait is None or not may_have_landed(error, kind.identity):
                    if attempt > 1:  # the message counts every send of this create and names the bound
                        error.attempts += sent_before
                    if wait is None and may_have_landed(error, kind.identity):
                        error.retry_limit = self.policy.bound_reached(attempt)
                    raise
                sent_before += error.attempts
                found = self._lookup(kind, action, context)  # did it land? then it is ours: never a duplicate
                if found is not None:
                    return Outcome(found, adopted=True, attempts=attempt + 1)
                self.sleep(wait)
                attempt += 1
                continue
            created = response.json
            if isinstance(created, Mapping) and created.get("id") is not None:
                return Outcome(created["id"], attempts=attempt)
            # 201 [] is a membership that exists already (another play, or our own lost first attempt,
            # made it since the listing): nothing was created, it is adopted; any other body without
            # the object: find its id
            return Outcome(self._lookup(kind, action, context), adopted=created == [], attempts=attempt)

    def _update(self, kind: Kind, action: Action, context: Context) -> None:
        for write in kind.update_requests(action.current, action.values, context):
            self._count("write")
            self.client.request(write.method, write.path, json=write.body, expected_status=write.statuses)

    def _run(self, kind: Kind, action: Action, context: Context) -> Outcome:
        try:
            if action.op == "create":
                return self._create(kind, action, context)
            if action.op == "update":
                self._update(kind, action, context)
            elif action.op == "restore":
                self._count("write")
                self.client.put(kind.restore_path, json={"id": action.id}, expected_status=(200,))
                if action.values:
                    self._update(kind, action, context)
            elif action.op == "delete":
                # a DELETE repeated after a lost answer finds it gone: that is done too
                self._count("write")
                self.client.delete(kind.item_path(action.id), expected_status=(*kind.delete_status, 404))
            return Outcome(action.id)
        except ProcessMakerError as error:
            where = f"items[{action.index}] ({action.label})" if action.index is not None else action.label
            return Outcome(action.id, error=f"{where}: {error.one_line(self.redact)}", attempts=error.attempts)

    # ---- a plan ---------------------------------------------------------------------------------
    def execute(self, kind: Kind, plan: Plan, context: Context | None = None) -> list:
        """Carry out the plan's writes; returns one Outcome per action (None for unchanged ones),
        in plan order. Failures are collected, not raised: every other write still happens."""
        context = context or Context()
        outcomes: list = [None] * len(plan.actions)
        work = [(number, action) for number, action in enumerate(plan.actions) if action.writes]
        if not work:
            return outcomes
        workers = min(self.concurrency, len(work))
        if workers == 1:
            for number, action in work:
                outcomes[number] = self._run(kind, action, context)
            return outcomes
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pm_resource") as pool:
            futures = {number: pool.submit(self._run, kind, action, context) for number, action in work}
            for number, future in futures.items():
                outcomes[number] = future.result()
        return outcomes
