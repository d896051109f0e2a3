"""Script executors (ScriptExecutorController, the ScriptExecutor model) and the image build they start.

ProcessMaker: only administrators list, create and update executors (the controller's ``checkAuth``); anyone
with a token may delete one, list the languages and cancel a build (no check at all). Create and update
answer ``{"status": "started"}`` at once and dispatch the ``BuildScriptExecutor`` job, which runs
``docker build`` in a queue worker and reports its progress only over the websocket
(``BuildScriptExecutor`` events: ``starting`` with the pid file, ``running`` with output, ``done`` with the
exit code, ``error``); the API never shows a build's state.

The sandbox emulates the build from the clock, with no thread: a build waits in the queue for the first
half of ``--executor-build-seconds``, builds for the second half, then is done, or failed when the config
holds a line ``RUN exit N`` (N not 0), the way a failing ``docker build`` ends. Builds run one at a time
(the job's ``WithoutOverlapping``; ProcessMaker retries a blocked job 30 s later, the sandbox starts it
when the previous one ends). **Sandbox extension:** the executor resource carries ``sandbox_build``, the
state of its latest build, and ``GET /_sandbox/executor-builds`` lists every build.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from typing import Any

from ..errors import ServerError, ValidationError
from ..security import random_string
from ..store import Store
from ..validation import RuleSet, Validator, validate
from . import base
from .base import Row, Table

TABLE = Table("script_executors")
COLUMNS: base.Columns = {
    "id": "int", "uuid": "text", "title": "text", "description": "text", "language": "text", "config": "text",
    "is_system": "int", "created_at": "datetime", "updated_at": "datetime",
}
FILLABLE = ["title", "description", "language", "config", "is_system"]
SORTABLE = base.sortable(COLUMNS)

# config('script-runners'): the languages an installation with the usual executor packages runs, and their
# names. ProcessMaker's Script::scriptFormatValues() lists them all, the deprecated lua and r included.
LANGUAGES: dict[str, str] = {
    "php": "PHP", "javascript": "JavaScript", "python": "Python", "csharp": "C#", "java": "Java", "lua": "Lua",
    "r": "R", "php-nayra": "PHP (Nayra)",
}
# The executors the language packages install (ScriptExecutor::install), with fixed ids.
SEEDED = [
    (1, "php", "PHP Executor"), (2, "javascript", "Node Executor"), (3, "python", "Python Executor"),
    (4, "csharp", "C# Executor"), (5, "java", "Java Executor"), (6, "lua", "Lua Executor"), (7, "r", "R Executor"),
    (8, "php-nayra", "PHP Nayra Executor"),
]
IN_USE = "Can not delete executor when it is assigned to scripts."
ONLY_ONE = "Can not delete the only executor for this language."
_FAILING_STEP = re.compile(r"^[ \t]*RUN[ \t]+exit[ \t]+0*[1-9]\d*[ \t]*$", re.IGNORECASE | re.MULTILINE)


def seed(store: Store) -> None:
    for executor_id, language, title in SEEDED:
        TABLE.insert(store, base.new_row({
            "id": executor_id, "title": title, "description": f"Default {LANGUAGES[language]} Executor",
            "language": language, "config": None, "is_system": 0,
        }))


def init_dockerfile(language: str) -> str:
    """ScriptExecutor::initDockerfile: the package's Dockerfile, a newline, its ``init_dockerfile`` lines (here a
    stand-in for what the executor packages ship)."""
    return f"FROM processmaker4/executor-{language}:v1.0.0\nARG SDK_DIR\nCOPY $SDK_DIR /opt/executor/sdk"


def available_languages() -> dict[str, Any]:
    return {"languages": [
        {"value": key, "text": name, "initDockerfile": init_dockerfile(key)} for key, name in LANGUAGES.items()
    ]}


def rules() -> RuleSet:
    """ScriptExecutor::rules(): the same on create and update."""
    return {"title": ["required"], "language": ["required", "in:" + ",".join(LANGUAGES)]}


def _values(body: dict[str, Any]) -> Row:
    """``$request->only($fillable)``: the fillable keys the body has, as MySQL (strict) stores them."""
    values = {}
    for name in FILLABLE:
        if name not in body:
            continue
        value = body[name]
        if isinstance(value, (list, dict)):
            raise ServerError()  # Eloquent: "Array to string conversion"
        if name == "is_system":
            value = base.to_int(value)
            if value is None:
                raise ServerError()  # a NOT NULL boolean column
        else:
            value = base.text_value(value)
        if name == "title" and value is not None and len(value) > 255:
            raise ServerError()  # varchar(255): "Data too long" in strict mode
        if name in ("title", "language") and value is None:
            raise ServerError()
        values[name] = value
    return values


def create(store: Store, body: dict[str, Any], user_id: int, build_seconds: float) -> Row:
    validate(body, rules())
    with store.transaction():
        row = TABLE.insert(store, base.new_row(_values(body)))
        start_build(store, row, user_id, build_seconds)
    return row


def update(store: Store, row: Row, body: dict[str, Any], user_id: int, build_seconds: float) -> Row:
    """Save what changed (Eloquent's dirty check), then rebuild whether or not anything did."""
    validate(body, rules())
    changed = base.dirty(row, _values(body), COLUMNS)
    with store.transaction():
        if changed:
            TABLE.update(store, row["id"], base.touched(changed))
        fresh = TABLE.get(store, row["id"])
        start_build(store, fresh, user_id, build_seconds)
    return fresh


def delete(store: Store, row: Row) -> None:
    """Refused while scripts use it, or when it is the last executor of its language."""
    with store.transaction():
        if store.scalar("SELECT COUNT(*) FROM scripts WHERE script_executor_id = ?", (row["id"],)):
            raise ValidationError({"delete": [IN_USE]})
        if store.scalar("SELECT COUNT(*) FROM script_executors WHERE language = ?", (row["language"],)) == 1:
            raise ValidationError({"delete": [ONLY_ONE]})
        TABLE.delete(store, row["id"])


def listing(store: Store) -> list[Row]:
    """``ScriptExecutor::nonSystem()``: every executor but the system ones, in table order."""
    return store.all("SELECT * FROM script_executors WHERE is_system = 0")


def ids(store: Store) -> set[int]:
    return {row["id"] for row in store.all("SELECT id FROM script_executors")}


def language_of(store: Store, executor_id: Any) -> str | None:
    return store.scalar("SELECT language FROM script_executors WHERE id = ?", (executor_id,))


def default_for(store: Store, language: str | None) -> int | None:
    """ScriptExecutor::initialExecutor: the oldest executor of the language."""
    return store.scalar(
        "SELECT id FROM script_executors WHERE language = ? ORDER BY created_at, id LIMIT 1", ((language or "").lower(),)
    )


class ExecutorExists:
    """The ``in:<executor ids>`` rule of a script's ``script_executor_id``."""

    def __call__(self, validator: Validator, attribute: str, value: Any) -> list[str]:
        assert validator.store is not None
        known = {str(executor_id) for executor_id in ids(validator.store)}
        if isinstance(value, (list, dict)) or base.text_value(value) not in known:
            return [validator.message("in", attribute)]
        return []


# ---- the emulated build ------------------------------------------------------------------------------


def start_build(store: Store, executor: Row, user_id: int | None, seconds: float) -> Row:
    """Queue a build of ``executor``'s current config (BuildScriptExecutor::dispatch)."""
    now = time.time()
    half = max(seconds, 0.0) / 2
    busy_until = store.scalar("SELECT MAX(ends_at) FROM script_executor_builds WHERE canceled_at IS NULL") or 0.0
    starts = max(now + half, busy_until)
    config = executor["config"] or ""
    build_id = store.insert("script_executor_builds", {
        "script_executor_id": executor["id"], "user_id": user_id,
        "dockerfile": init_dockerfile(executor["language"]) + "\n" + config,
        "exit_code": 1 if _FAILING_STEP.search(config) else 0,
        "pid": 1000 + secrets.randbelow(60000), "pid_file": "/tmp/build_script_executor_" + random_string(6),
        "queued_at": now, "starts_at": starts, "ends_at": starts + half,
    })
    row = store.one("SELECT * FROM script_executor_builds WHERE id = ?", (build_id,))
    assert row is not None
    return row


def build_status(build: Row, now: float) -> str:
    if build["canceled_at"] is not None:
        return "canceled"
    if now < build["starts_at"]:
        return "queued"
    if now < build["ends_at"]:
        return "building"
    return "failed" if build["exit_code"] else "done"


def _stamp(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_view(build: Row, now: float | None = None) -> Row:
    """A build as the sandbox shows it: ``status`` is queued, building, done, failed or canceled; ``exit_code``
    is ``docker build``'s once it ended; ``pid_file`` is what ``POST /script-executors/cancel`` takes (it exists
    only while the build runs, as in ProcessMaker)."""
    now = time.time() if now is None else now
    status = build_status(build, now)
    stopped = build["canceled_at"] if status == "canceled" else build["ends_at"] if status in ("done", "failed") else None
    started = build["starts_at"] if (stopped or now) >= build["starts_at"] else None
    return {
        "id": build["id"],
        "script_executor_id": build["script_executor_id"],
        "status": status,
        "exit_code": build["exit_code"] if status in ("done", "failed") else None,
        "pid_file": build["pid_file"] if status == "building" else None,
        "queued_at": _stamp(build["queued_at"]),
        "started_at": _stamp(started),
        "finished_at": _stamp(stopped),
        "dockerfile": build["dockerfile"],
    }


# An executor never built through the API has its image already (the packages built it at install).
_INSTALLED = {"id": None, "status": "done", "exit_code": 0, "pid_file": None, "queued_at": None, "started_at": None,
              "finished_at": None}


def latest_builds(store: Store, executor_ids: list[int]) -> dict[int, Row]:
    if not executor_ids:
        return {}
    marks = ", ".join("?" * len(executor_ids))
    rows = store.all(
        f"SELECT * FROM script_executor_builds WHERE id IN (SELECT MAX(id) FROM script_executor_builds"
        f" WHERE script_executor_id IN ({marks}) GROUP BY script_executor_id)", tuple(executor_ids),
    )
    return {row["script_executor_id"]: row for row in rows}


def serialize(row: Row, latest: Row | None) -> Row:
    data = base.serialize_columns(row, COLUMNS)
    if latest is None:
        data["sandbox_build"] = dict(_INSTALLED)
    else:
        view = build_view(latest)
        data["sandbox_build"] = {key: view[key] for key in _INSTALLED}
    return data


def serialize_all(store: Store, rows: list[Row]) -> list[Row]:
    latest = latest_builds(store, [row["id"] for row in rows])
    return [serialize(row, latest.get(row["id"])) for row in rows]


def builds(store: Store) -> list[Row]:
    now = time.time()
    return [build_view(row, now) for row in store.all("SELECT * FROM script_executor_builds ORDER BY id")]


def cancel(store: Store, pid_file: Any) -> str:
    """ScriptExecutorController::cancel: read the pid file and ``kill -9`` the build. A path that is not the
    pid file of a running build cannot be read (file_get_contents fails): a server error."""
    with store.transaction():
        build = store.one("SELECT * FROM script_executor_builds WHERE pid_file = ?", (pid_file,)) if isinstance(
            pid_file, str) else None
        if build is None or build_status(build, time.time()) != "building":
            raise ServerError()
        store.execute("UPDATE script_executor_builds SET canceled_at = ? WHERE id = ?", (time.time(), build["id"]))
    return str(build["pid"])
