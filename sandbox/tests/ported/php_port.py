"""What the ported ProcessMaker feature tests share (no tests here).

ProcessMaker's tests run inside Laravel: ``$this->apiCall()`` acts as ``$this->user`` (an administrator
made by ``RequestHelper::setUp``), model factories write rows straight into the database, and the
assertions come from Laravel's ``TestResponse`` and ``dms/phpunit-arraysubset-asserts``. Here the same
things happen over HTTP against a real sandbox process:

* ``Client``: ``apiCall`` as some user. Like ``$this->json()``, a GET sends its parameters as a JSON
  body, not as a query string (Laravel's ``$request->input()`` reads both).
* ``Factory``: the model factories, through the API where the API can make the row, else (system
  categories, back-dated timestamps) straight into the sandbox's SQLite file, as the PHP factories write
  into MySQL.
* ``assert_json_structure``, ``assert_array_subset``, ``php_equals``: Laravel's and PHPUnit's assertions,
  with PHP's loose ``==``.

The repository runs pytest with ``--import-mode=importlib``, so the test modules put this folder on
``sys.path`` before importing this module.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from contextlib import closing
from typing import Any

import requests
from pm_sandbox.testing import SandboxProcess

PASSWORD = "Factory-Pass1!"
USER_CLASS = "ProcessMaker\\Models\\User"
GROUP_CLASS = "ProcessMaker\\Models\\Group"
ERROR_STRUCTURE = ["message", "errors"]  # ResourceAssertionsTrait::$errorStructure

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """A value no other row of this test run has (faker's ``unique()``), letters only."""
    number = next(_serial)
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = chr(ord("a") + digit) + letters
        if not number:
            break
    return f"{prefix} {letters}"


# ---- HTTP -------------------------------------------------------------------------------------


class Client:
    """``$this->apiCall($method, $url, $params)`` acting as one user (``token``)."""

    def __init__(self, sandbox: SandboxProcess, token: str | None = None) -> None:
        self.sandbox = sandbox
        self.token = token

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        """Laravel's ``$this->json()``: every method sends ``params`` as a JSON body (GET included)."""
        if params is not None:
            kwargs["json"] = params
        token = self.token or self.sandbox.admin_token()
        return self.sandbox.api(method, path, token=token, **kwargs)

    def anonymous(self, method: str, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """A request without a Bearer token (``actingAs`` the web guard only)."""
        headers = {"Accept": "application/json"}
        return self.sandbox.session().request(
            method, self.sandbox.api_url + path, json=params, headers=headers, timeout=30
        )


def ok(response: requests.Response, status: int) -> Any:
    """The decoded body of a response that must have ``status`` (setup steps)."""
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.status_code} {response.text}"
    return response.json() if response.content else None


# ---- factories ----------------------------------------------------------------------------------

CATEGORY_PATHS = {"process": "process_categories", "screen": "screen_categories", "script": "script_categories"}


class Factory:
    """The model factories of ProcessMaker's tests, writing through the sandbox's API."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox
        self.admin = Client(sandbox)

    # users, groups, memberships, permissions
    def user_body(self, **attributes: Any) -> dict[str, Any]:
        name = unique("user").replace(" ", "")
        return {
            "username": name, "email": f"{name}@example.com", "firstname": "Factory", "lastname": "User",
            "status": "ACTIVE", "password": PASSWORD, **attributes,
        }

    def user(self, **attributes: Any) -> dict[str, Any]:
        """``User::factory()->create()``: an active non-administrator (password ``PASSWORD``)."""
        administrator = attributes.pop("is_administrator", False)
        user = ok(self.admin.call("POST", "/users", self.user_body(**attributes)), 201)
        if administrator:
            ok(self.admin.call("PUT", "/permissions", {"user_id": user["id"], "is_administrator": True}), 204)
            user["is_administrator"] = True
        return user

    def acting_as(self, user: dict[str, Any]) -> Client:
        """``$this->user = $user``: a client with a token of ``user`` (password grant)."""
        token = self.sandbox.password_token(user["username"], PASSWORD)["access_token"]
        return Client(self.sandbox, token)

    def give_permissions(self, user: dict[str, Any], *names: str) -> None:
        """``$user->permissions()->attach(...)``: the user's direct permissions become ``names``."""
        ok(self.admin.call("PUT", "/permissions", {"user_id": user["id"], "permission_names": list(names)}), 204)

    def give_group_permissions(self, group: dict[str, Any], *names: str) -> None:
        ok(self.admin.call("PUT", "/permissions", {"group_id": group["id"], "permission_names": list(names)}), 204)

    def group(self, **attributes: Any) -> dict[str, Any]:
        body = {"name": unique("Group"), "description": "A factory group", "status": "ACTIVE", **attributes}
        return ok(self.admin.call("POST", "/groups", body), 201)

    def member(self, group: dict[str, Any], member: dict[str, Any], member_type: str = USER_CLASS) -> dict[str, Any]:
        body = {"group_id": group["id"], "member_id": member["id"], "member_type": member_type}
        return ok(self.admin.call("POST", "/group_members", body), 201)

    # configuration
    def category(self, kind: str, **attributes: Any) -> dict[str, Any]:
        """``ProcessCategory::factory()`` (and the screen and script ones)."""
        body = {"name": unique(f"{kind.title()} category"), "status": "ACTIVE", **attributes}
        return ok(self.admin.call("POST", f"/{CATEGORY_PATHS[kind]}", body), 201)

    def system_category(self, kind: str, **attributes: Any) -> int:
        """A category with ``is_system`` set, which the API cannot create: written into the database."""
        values = {"kind": kind, "uuid": unique("uuid").replace(" ", "-"), "name": unique("System category"),
                  "status": "ACTIVE", "is_system": 1, "created_at": "2025-01-01 00:00:00",
                  "updated_at": "2025-01-01 00:00:00", **attributes}
        return self.insert("categories", values)

    def environment_variable(self, **attributes: Any) -> dict[str, Any]:
        body = {"name": unique("var").replace(" ", "_"), "description": "A factory variable", "value": "secret",
                **attributes}
        return ok(self.admin.call("POST", "/environment_variables", body), 201)

    # design assets
    def process_body(self, **attributes: Any) -> dict[str, Any]:
        """``Process::factory()->make()->toArray()`` without the user: name, description, status and a
        new category."""
        body: dict[str, Any] = {"name": unique("Process"), "description": "A factory process", "status": "ACTIVE"}
        if "process_category_id" not in attributes:
            body["process_category_id"] = self.category("process")["id"]
        body.update(attributes)
        return body

    def process(self, **attributes: Any) -> dict[str, Any]:
        """``Process::factory()->create()`` (the sandbox's default BPMN unless ``bpmn`` is given)."""
        return ok(self.admin.call("POST", "/processes", self.process_body(**attributes)), 201)

    def screen(self, **attributes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"title": unique("Screen"), "description": "A factory screen", "type": "FORM"}
        if "screen_category_id" not in attributes:
            body["screen_category_id"] = self.category("screen")["id"]
        body.update(attributes)
        return ok(self.admin.call("POST", "/screens", body), 201)

    def script(self, **attributes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"title": unique("Script"), "description": "A factory script", "language": "php",
                                "code": "<?php return [];", "run_as_user_id": self.sandbox.credentials["admin"]["id"]}
        if "script_category_id" not in attributes:
            body["script_category_id"] = self.category("script")["id"]
        body.update(attributes)
        return ok(self.admin.call("POST", "/scripts", body), 201)

    # rows the API cannot shape
    def db(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.sandbox.workdir / "sandbox.sqlite", timeout=30, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    def insert(self, table: str, values: dict[str, Any]) -> int:
        with closing(self.db()) as connection:
            names = ", ".join(f'"{name}"' for name in values)
            marks = ", ".join("?" * len(values))
            cursor = connection.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(values.values()))
            return int(cursor.lastrowid or 0)

    def set_columns(self, table: str, row_id: int, **values: Any) -> None:
        """Overwrite columns of a row (``Model::factory()->create(['created_at' => ...])``)."""
        with closing(self.db()) as connection:
            assignments = ", ".join(f'"{name}" = ?' for name in values)
            connection.execute(f'UPDATE "{table}" SET {assignments} WHERE id = ?', (*values.values(), row_id))

    def column(self, table: str, row_id: int, name: str) -> Any:
        """A stored column the API never shows (``assertDatabaseHas`` on a hidden attribute)."""
        with closing(self.db()) as connection:
            row = connection.execute(f'SELECT "{name}" FROM "{table}" WHERE id = ?', (row_id,)).fetchone()
            return None if row is None else row[0]


# ---- assertions --------------------------------------------------------------------------------

_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) or (isinstance(value, str) and _NUMERIC.fullmatch(value) is not None)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def php_equals(a: Any, b: Any) -> bool:
    """PHP 8's loose ``==`` for JSON values (what ``assertEquals`` and ``assertArraySubset`` use)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return _truthy(a) == _truthy(b)
    if a is None or b is None:
        other = b if a is None else a
        return other is None or other in ("", 0, []) or other == {}
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        if isinstance(a, (list, dict)) and isinstance(b, (list, dict)):
            left = dict(enumerate(a)) if isinstance(a, list) else a
            right = dict(enumerate(b)) if isinstance(b, list) else b
            return left.keys() == right.keys() and all(php_equals(left[k], right[k]) for k in left)
        return False
    if _numeric(a) and _numeric(b):
        return float(a) == float(b)
    return str(a) == str(b)


def assert_array_subset(subset: dict[str, Any], array: Any) -> None:
    """``assertArraySubset($subset, $array)`` (non-strict)."""
    assert isinstance(array, dict), f"{array!r} is not an array"
    for key, expected in subset.items():
        assert key in array, f"{key!r} is missing from {array!r}"
        actual = array[key]
        if isinstance(expected, dict) and isinstance(actual, dict):
            assert_array_subset(expected, actual)
        else:
            assert php_equals(expected, actual), f"{key!r}: expected {expected!r}, got {actual!r}"


def assert_json_structure(structure: Any, data: Any) -> None:
    """``assertJsonStructure($structure, $data)``. ``structure`` is a list of keys and nested
    ``{key: structure}`` dicts (PHP's mixed array), or a dict; ``"*"`` means every item."""
    entries: list[tuple[Any, Any]] = []
    for entry in structure if isinstance(structure, list) else [structure]:
        if isinstance(entry, dict):
            entries.extend(entry.items())
        else:
            entries.append((None, entry))
    for key, value in entries:
        if key == "*":
            assert isinstance(data, (list, dict)), f"{data!r} is not an array"
            for item in (data.values() if isinstance(data, dict) else data):
                assert_json_structure(value, item)
        elif key is None:
            assert isinstance(data, dict) and value in data, f"{value!r} is missing from {data!r}"
        else:
            assert isinstance(data, dict) and key in data, f"{key!r} is missing from {data!r}"
            assert_json_structure(value, data[key])
