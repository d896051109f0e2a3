"""/process_categories, /screen_categories, /script_categories (one shape, three permission sets)."""

from __future__ import annotations

import re
import sys
from contextlib import closing
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import NOT_FOUND, UNAUTHORIZED, db, user_with_token

KINDS = [("process_categories", "process"), ("screen_categories", "screen"), ("script_categories", "script")]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


@pytest.mark.parametrize(("path", "kind"), KINDS)
def test_lifecycle(clean_sandbox: SandboxProcess, path: str, kind: str) -> None:
    response = clean_sandbox.api("POST", f"/{path}", json={"name": "Finance", "status": "ACTIVE"})
    assert response.status_code == 201
    category = response.json()
    assert list(category) == ["id", "uuid", "name", "status", "is_system", "created_at", "updated_at"]
    assert (category["name"], category["status"], category["is_system"]) == ("Finance", "ACTIVE", 0)
    assert ISO.match(category["created_at"])
    assert clean_sandbox.api("GET", f"/{path}/{category['id']}").json() == category

    response = clean_sandbox.api("PUT", f"/{path}/{category['id']}", json={"name": "Accounting", "status": "INACTIVE"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["status"]) == ("Accounting", "INACTIVE")

    response = clean_sandbox.api("DELETE", f"/{path}/{category['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", f"/{path}/{category['id']}").json() == NOT_FOUND


@pytest.mark.parametrize(("path", "kind"), KINDS)
def test_validation(clean_sandbox: SandboxProcess, path: str, kind: str) -> None:
    response = clean_sandbox.api("POST", f"/{path}", json={})
    assert (response.status_code, response.json()) == (422, {
        "message": "The Name field is required. (and 1 more error)",
        "errors": {"name": ["The Name field is required."], "status": ["The Status field is required."]},
    })
    response = clean_sandbox.api("POST", f"/{path}", json={"name": "x" * 101 + "!", "status": "LIVE"})
    assert response.json()["errors"] == {
        "name": ["The Name field must not be greater than 100 characters.",
                 "The Name may only contain alphanumeric characters."],
        "status": ["The selected Status is invalid."],
    }
    clean_sandbox.api("POST", f"/{path}", json={"name": "Taken", "status": "ACTIVE"})
    response = clean_sandbox.api("POST", f"/{path}", json={"name": "Taken", "status": "ACTIVE"})
    assert response.json()["errors"] == {"name": ["The Name has already been taken."]}
    other = clean_sandbox.api("POST", f"/{path}", json={"name": "Other", "status": "ACTIVE"}).json()
    response = clean_sandbox.api("PUT", f"/{path}/{other['id']}", json={"name": "taken"})
    assert (response.status_code, response.json()) == (422, {
        "message": "The Name has already been taken. (and 1 more error)",
        "errors": {"name": ["The Name has already been taken."], "status": ["The Status field is required."]},
    })


def test_names_are_unique_per_kind_only(clean_sandbox: SandboxProcess) -> None:
    for path, _ in KINDS:
        assert clean_sandbox.api("POST", f"/{path}", json={"name": "Shared", "status": "ACTIVE"}).status_code == 201
    screen = clean_sandbox.api("GET", "/screen_categories").json()["data"][0]
    assert clean_sandbox.api("GET", f"/process_categories/{screen['id']}").json() == NOT_FOUND


def test_list_hides_system_categories_filters_and_counts(clean_sandbox: SandboxProcess) -> None:
    for name, status in (("Zeta", "ACTIVE"), ("Alpha", "INACTIVE")):
        clean_sandbox.api("POST", "/process_categories", json={"name": name, "status": status})
    with closing(db(clean_sandbox)) as connection:
        connection.execute(
            "INSERT INTO categories (kind, uuid, name, status, is_system, created_at, updated_at)"
            " VALUES ('process', 'u-sys', 'System', 'ACTIVE', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        )
        system_id = connection.execute("SELECT id FROM categories WHERE name = 'System'").fetchone()[0]
    body = clean_sandbox.api("GET", "/process_categories?include=processesCount").json()
    assert [(c["name"], c["processes_count"]) for c in body["data"]] == [("Alpha", 0), ("Zeta", 0)]
    assert clean_sandbox.api("GET", f"/process_categories/{system_id}").json()["is_system"] == 1
    # status is where('status', 'like', $status): the whole value, any case (ProcessCategoriesTest::testFilteringStatus)
    assert [c["name"] for c in clean_sandbox.api("GET", "/process_categories?status=inactive").json()["data"]] == [
        "Alpha"]
    assert clean_sandbox.api("GET", "/process_categories?status=inact").json()["data"] == []
    assert [c["name"] for c in clean_sandbox.api("GET", "/process_categories?filter=zet").json()["data"]] == ["Zeta"]


@pytest.mark.parametrize(("path", "kind"), KINDS)
def test_each_kind_has_its_own_permissions(clean_sandbox: SandboxProcess, path: str, kind: str) -> None:
    _, token = user_with_token(clean_sandbox, "catviewer", f"view-{kind}-categories")
    assert clean_sandbox.api("GET", f"/{path}", token=token).status_code == 200
    response = clean_sandbox.api("POST", f"/{path}", token=token, json={"name": "N", "status": "ACTIVE"})
    assert (response.status_code, response.json()) == (403, UNAUTHORIZED)
    other = next(p for p, k in KINDS if k != kind)
    assert clean_sandbox.api("GET", f"/{other}", token=token).status_code == 403


@pytest.mark.parametrize(("path", "kind"), KINDS)
def test_status_filter_is_an_exact_like(clean_sandbox: SandboxProcess, path: str, kind: str) -> None:
    """``where('status', 'like', $status)``: no wildcards (INACTIVE is not ACTIVE), case ignored."""
    for name, status in (("One", "ACTIVE"), ("Two", "INACTIVE")):
        assert clean_sandbox.api("POST", f"/{path}", json={"name": name, "status": status}).status_code == 201
    names = [row["name"] for row in clean_sandbox.api("GET", f"/{path}?status=active").json()["data"]]
    assert names == ["One"]


@pytest.mark.parametrize(("path", "kind"), KINDS)
def test_the_filter_finds_assets_by_any_of_their_categories(clean_sandbox: SandboxProcess, path: str,
                                                              kind: str) -> None:
    """``filter`` matches the name of every category an asset sits in, not only the first one."""
    first, second = (
        clean_sandbox.api("POST", f"/{path}", json={"name": name, "status": "ACTIVE"}).json()["id"]
        for name in ("Primary Alpha", "Secondary Zeta")
    )
    body = {"description": "d", f"{kind}_category_id": f"{first},{second}"}
    if kind == "process":
        body["name"] = "Two categories"
    elif kind == "screen":
        body.update(title="Two categories", type="FORM")
    else:
        body.update(title="Two categories", language="php", run_as_user_id=clean_sandbox.credentials["admin"]["id"])
    assets = {"process": "processes", "screen": "screens", "script": "scripts"}[kind]
    assert clean_sandbox.api("POST", f"/{assets}", json=body).status_code == 201
    for needle in ("Primary Alpha", "Secondary Zeta"):
        found = clean_sandbox.api("GET", f"/{assets}", params={"filter": needle}).json()["data"]
        assert [row.get("name", row.get("title")) for row in found] == ["Two categories"], needle
