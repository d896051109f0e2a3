"""The bodies of ProcessCategoriesTest, ScreenCategoriesTest and ScriptCategoriesTest (no tests here).

The three PHP classes are one test written three times over ``api.{kind}_categories``; each port module
keeps one Python test per PHP method and runs the shared body here with its kind.
``ProcessCategory::factory()->make()->toArray()`` is a name, a status and ``is_system: false``.
"""

from __future__ import annotations

import math
from typing import Any

from php_port import (
    CATEGORY_PATHS,
    ERROR_STRUCTURE,
    assert_array_subset,
    assert_json_structure,
    ok,
    unique,
)

ASSETS = {"process": "processes", "screen": "screens", "script": "scripts"}


def url(kind: str) -> str:
    return "/" + CATEGORY_PATHS[kind]


def make(kind: str, **attributes: Any) -> dict[str, Any]:
    """``*Category::factory()->make()->toArray()``."""
    return {"name": unique(f"{kind.title()} category"), "status": "ACTIVE", "is_system": False, **attributes}


def create_category(pm, kind: str, structure: list[str]) -> None:
    base = make(kind)
    response = pm.api.call("POST", url(kind), base)
    assert response.status_code == 201
    assert_json_structure(structure, response.json())
    assert_array_subset(base, response.json())


def create_name_required(pm, kind: str) -> None:
    response = pm.api.call("POST", url(kind), make(kind, name=None))
    assert response.status_code == 422
    assert_json_structure(ERROR_STRUCTURE, response.json())
    assert_json_structure({"errors": ["name"]}, response.json())


def create_duplicate_name(pm, kind: str) -> None:
    pm.factory.category(kind, name="Some name")
    response = pm.api.call("POST", url(kind), make(kind, name="Some name"))
    assert response.status_code == 422
    assert_json_structure(ERROR_STRUCTURE, response.json())
    assert_json_structure({"errors": ["name"]}, response.json())


def total(pm, kind: str, query: str = "") -> int:
    """``*Category::nonSystem()->...->count()`` as the list counts it."""
    return int(pm.api.call("GET", url(kind) + "?per_page=1" + query).json()["meta"]["total"])


def listing(pm, kind: str, structure: list[str]) -> None:
    initial = total(pm, kind)
    for _ in range(20):
        pm.factory.category(kind)
    response = pm.api.call("GET", url(kind) + "?page=2&per_page=10")
    assert response.status_code == 200
    assert_json_structure({"data": {"*": structure}}, response.json())
    data, meta = response.json()["data"], response.json()["meta"]
    assert_array_subset({
        "total": initial + 20, "count": 10, "per_page": 10, "current_page": 2,
        "total_pages": math.ceil((initial + 20) / 10),
    }, meta)
    assert len(data) == meta["count"]


def create_statuses(pm, kind: str, active: int = 10, inactive: int = 15) -> None:
    for _ in range(active):
        pm.factory.category(kind, status="ACTIVE")
    for _ in range(inactive):
        pm.factory.category(kind, status="INACTIVE")


def listed_meta(pm, kind: str, query: str, structure: list[str]) -> dict[str, Any]:
    response = pm.api.call("GET", url(kind) + query)
    assert response.status_code == 200
    assert_json_structure({"data": {"*": structure}}, response.json())
    data, meta = response.json()["data"], response.json()["meta"]
    assert len(data) == meta["count"]
    return meta


def filtering_status(pm, kind: str, structure: list[str]) -> None:
    initial_active = total(pm, kind, "&status=ACTIVE")
    create_statuses(pm, kind)
    meta = listed_meta(pm, kind, "?status=ACTIVE&per_page=10", structure)
    assert_array_subset({"total": initial_active + 10, "count": 10, "per_page": 10}, meta)


def sorting(pm, kind: str, structure: list[str]) -> None:
    pm.factory.category(kind, name="aaaaaa")
    pm.factory.category(kind, name="zzzzz")
    response = pm.api.call("GET", url(kind) + "?order_by=name&order_direction=asc")
    assert response.status_code == 200
    assert_json_structure({"data": {"*": structure}}, response.json())
    data, meta = response.json()["data"], response.json()["meta"]
    assert_array_subset({"count": len(data)}, meta)
    assert_array_subset({"name": "aaaaaa"}, data[0])
    response = pm.api.call("GET", url(kind) + "?order_by=name&order_direction=DESC")
    assert response.status_code == 200
    assert_json_structure({"data": {"*": structure}}, response.json())
    data, meta = response.json()["data"], response.json()["meta"]
    assert len(data) == meta["count"]
    assert_array_subset({"name": "zzzzz"}, data[0])


def pagination(pm, kind: str) -> None:
    initial = total(pm, kind)
    for _ in range(7):
        pm.factory.category(kind)
    # route('api.*_categories.index', ['per_page' => 5, 'page' => 1]) puts them in the query string
    assert len(pm.api.call("GET", url(kind) + "?per_page=5&page=1").json()["data"]) == 5
    assert len(pm.api.call("GET", url(kind) + "?per_page=5&page=2").json()["data"]) == (2 + initial) % 5


def show(pm, kind: str, structure: list[str]) -> None:
    category = pm.factory.category(kind)
    response = pm.api.call("GET", f"{url(kind)}/{category['id']}")
    assert response.status_code == 200
    assert_json_structure(structure, response.json())


def update(pm, kind: str, structure: list[str], fields: dict[str, Any]) -> None:
    item = pm.factory.category(kind, **({"status": "ACTIVE"} if fields.get("status") == "INACTIVE" else {}))
    response = pm.api.call("PUT", f"{url(kind)}/{item['id']}", fields)
    assert response.status_code == 200
    assert_json_structure(structure, response.json())
    assert_array_subset(fields, response.json())


def validate_name_not_null(pm, kind: str) -> None:
    item = pm.factory.category(kind)
    response = pm.api.call("PUT", f"{url(kind)}/{item['id']}", {"name": None, "status": "ACTIVE"})
    assert response.status_code == 422
    assert_json_structure({"errors": ["name"]}, response.json())


def validate_name_unique(pm, kind: str) -> None:
    pm.factory.category(kind, name="Some name")
    item = pm.factory.category(kind)
    response = pm.api.call("PUT", f"{url(kind)}/{item['id']}", {"name": "Some name", "status": "ACTIVE"})
    assert response.status_code == 422
    assert_json_structure({"errors": ["name"]}, response.json())


def validate_status(pm, kind: str) -> None:
    item = pm.factory.category(kind)
    response = pm.api.call("PUT", f"{url(kind)}/{item['id']}", {"status": "NOT_EXISTS"})
    assert response.status_code == 422
    assert_json_structure({"errors": ["status"]}, response.json())


def delete(pm, kind: str) -> None:
    category = pm.factory.category(kind)
    response = pm.api.call("DELETE", f"{url(kind)}/{category['id']}")
    assert response.status_code == 204
    assert response.content == b""


def delete_fails(pm, kind: str) -> None:
    """``Process::factory()->create()`` (or a screen, a script) comes with its own category."""
    asset = {"process": pm.factory.process, "screen": pm.factory.screen, "script": pm.factory.script}[kind]()
    category_id = asset[f"{kind}_category_id"]
    response = pm.api.call("DELETE", f"{url(kind)}/{category_id}")
    assert response.status_code == 422
    assert_json_structure(ERROR_STRUCTURE, response.json())
    assert_json_structure({"errors": [ASSETS[kind]]}, response.json())
    ok(pm.api.call("GET", f"{url(kind)}/{category_id}"), 200)
