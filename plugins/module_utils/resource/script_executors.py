# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Script executors: the image a script's language runs in (``/script-executors``).

Only administrators list, create and update them (ProcessMaker's ``checkAuth``). A create or an update
answers at once (``{status: started}``) and builds the executor's image in the background: the kind then
waits, within ``settle_timeout``, for the builds it started, where the server says how a build went.
ProcessMaker itself reports builds only over its websocket, not through the API; pm_sandbox shows them
as ``sandbox_build`` on each executor (a documented extension). Against a server that shows nothing,
the kind does not wait, and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Field,
    Kind,
    Settled,
)

# the states a build ends in (the sandbox's names)
FINISHED = frozenset(("done", "failed", "canceled"))


class ScriptExecutorsKind(Kind):
    name = "script_executors"
    path = "script-executors"
    singular = "script executor"
    rank = 15  # scripts (and the packages that hold them) run in them
    identity = ("title",)
    fields = (
        Field("title"),
        Field("language", required_on_create=True, nullable=False),
        Field("description"),
        Field("config"),  # the Dockerfile lines added to the language's base image
    )
    put_repeats = ("title", "language")  # ScriptExecutor::rules() hold on update too
    create_status = (200,)  # {status: started, id}: the build has begun
    update_status = (200,)  # {status: started}: rebuilt, whatever changed
    delete_status = (200,)
    notes = ("create and update answer 200 {status: started} and build the image in the background",
             "the server refuses to delete an executor scripts use, or the only one of a language (422)",
             "only administrators may list, create and update executors")

    def settle(self, client: Any, written: list, timeout: float, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> Settled:
        """Wait for the builds the writes started, polling the list (one request each time)."""
        waiting = {str(outcome.id): number for number, _action, outcome in written}
        settled = Settled()
        deadline = clock() + timeout
        delay = 0.2
        while waiting:
            builds = {str(item.get("id")): item.get("sandbox_build") for item in client.paginate(self.path).items
                      if isinstance(item, Mapping)}
            if not any(isinstance(build, Mapping) for build in builds.values()):
                settled.warnings.append("the server does not show how an executor's image build goes (ProcessMaker"
                                        " reports it only over its websocket): not waiting for the builds")
                return settled
            for executor_id in list(waiting):
                build = builds.get(executor_id)
                status = build.get("status") if isinstance(build, Mapping) else None
                if status in FINISHED:
                    number = waiting.pop(executor_id)
                    if status != "done":
                        code = build.get("exit_code")
                        settled.errors[number] = (f"the image build {status}" + (f" (exit code {code})" if code
                                                  is not None else "") + "; check the executor's config")
            if waiting and clock() + delay > deadline:
                for number in waiting.values():
                    settled.errors[number] = (f"the image build did not finish within settle_timeout={timeout:g}s;"
                                              " raise settle_timeout or check the server's queue")
                return settled
            if waiting:
                sleep(delay)
                delay = min(delay * 2, 5.0)
        return settled
