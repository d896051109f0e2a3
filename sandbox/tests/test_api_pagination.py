"""The {data, meta} list envelope on the SQL-paginated lists: every meta key, the edges, big pages."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import META_KEYS, create_group, create_user, insert_users


def test_every_meta_key_on_a_middle_page(clean_sandbox: SandboxProcess) -> None:
    insert_users(clean_sandbox, 24)  # 25 users with the administrator
    body = clean_sandbox.api("GET", "/users?per_page=10&page=2").json()
    path = clean_sandbox.api_url + "/users"
    assert list(body) == ["data", "meta"]
    assert list(body["meta"]) == META_KEYS
    assert {k: v for k, v in body["meta"].items() if k != "links"} == {
        "filter": "", "sort_by": "", "sort_order": "", "count": 10, "total_pages": 3, "current_page": 2,
        "from": 11, "last_page": 3, "path": path, "per_page": 10, "to": 20, "total": 25,
    }
    assert body["meta"]["links"] == [
        {"url": f"{path}?per_page=10&page=1", "label": "&laquo; Previous", "active": False},
        {"url": f"{path}?per_page=10&page=1", "label": "1", "active": False},
        {"url": f"{path}?per_page=10&page=2", "label": "2", "active": True},
        {"url": f"{path}?per_page=10&page=3", "label": "3", "active": False},
        {"url": f"{path}?per_page=10&page=3", "label": "Next &raquo;", "active": False},
    ]
    assert [user["username"] for user in body["data"]] == [f"bulk{i:05d}" for i in range(9, 19)]


def test_per_page_one(clean_sandbox: SandboxProcess) -> None:
    create_user(clean_sandbox, "zed")
    body = clean_sandbox.api("GET", "/users?per_page=1&page=2").json()
    assert [user["username"] for user in body["data"]] == ["zed"]
    meta = body["meta"]
    assert (meta["count"], meta["from"], meta["to"], meta["total"], meta["per_page"]) == (1, 2, 2, 2, 1)
    assert (meta["current_page"], meta["last_page"], meta["total_pages"]) == (2, 2, 2)
    assert meta["links"][-1] == {"url": None, "label": "Next &raquo;", "active": False}


def test_a_page_past_the_end_is_empty(clean_sandbox: SandboxProcess) -> None:
    body = clean_sandbox.api("GET", "/users?page=99").json()
    assert body["data"] == []
    meta = body["meta"]
    assert (meta["count"], meta["from"], meta["to"], meta["total"]) == (0, None, None, 1)
    assert (meta["current_page"], meta["last_page"], meta["total_pages"]) == (99, 1, 1)


def test_an_empty_list(clean_sandbox: SandboxProcess) -> None:
    body = clean_sandbox.api("GET", "/environment_variables").json()
    assert body["data"] == []
    meta = body["meta"]
    assert (meta["count"], meta["from"], meta["to"], meta["total"], meta["total_pages"], meta["last_page"]) == (
        0, None, None, 0, 0, 1)


def test_filter_and_order_are_echoed(clean_sandbox: SandboxProcess) -> None:
    for name in ("Gamma", "alpha", "Beta"):
        create_group(clean_sandbox, name, description=f"{name} team")
    body = clean_sandbox.api("GET", "/groups?filter=a%20t&order_by=name&order_direction=desc").json()
    assert [group["name"] for group in body["data"]] == ["Gamma", "Beta", "alpha"]
    assert (body["meta"]["filter"], body["meta"]["sort_by"], body["meta"]["sort_order"]) == ("a t", "name", "desc")
    body = clean_sandbox.api("GET", "/groups?filter=gam").json()
    assert [group["name"] for group in body["data"]] == ["Gamma"]
    assert body["meta"]["total"] == 1


def test_default_page_sizes(clean_sandbox: SandboxProcess) -> None:
    insert_users(clean_sandbox, 30)
    assert clean_sandbox.api("GET", "/users").json()["meta"]["per_page"] == 10
    assert clean_sandbox.api("GET", "/settings").json()["meta"]["per_page"] == 25
    assert clean_sandbox.api("GET", "/users?per_page=0").json()["meta"]["per_page"] == 10
    assert clean_sandbox.api("GET", "/users?per_page=abc").json()["meta"]["per_page"] == 10


def test_thousands_of_rows_with_per_page_1000_stay_fast(clean_sandbox: SandboxProcess) -> None:
    insert_users(clean_sandbox, 5000)
    started = time.monotonic()
    body = clean_sandbox.api("GET", "/users?per_page=1000&page=5").json()
    elapsed = time.monotonic() - started
    assert body["meta"]["total"] == 5001
    assert body["meta"]["count"] == 1000
    assert body["meta"]["last_page"] == 6
    assert body["data"][0]["username"] == "bulk03999"
    assert elapsed < 2.0, f"{elapsed:.2f}s for 1000 rows"
    last = clean_sandbox.api("GET", "/users?per_page=1000&page=6").json()
    assert (last["meta"]["count"], last["meta"]["from"], last["meta"]["to"]) == (1, 5001, 5001)
