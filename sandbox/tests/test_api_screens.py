"""/screens: list and show for any token, create 201, update 204, delete 204 (default screens 422)."""

from __future__ import annotations

import re
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    META_KEYS,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAUTHORIZED,
    db,
    no_token,
    user_with_token,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
SCREEN_KEYS = [
    "id", "uuid", "screen_category_id", "title", "description", "type", "config", "computed", "custom_css", "status",
    "key", "watchers", "translations", "asset_type", "is_template", "is_default", "created_at", "updated_at",
    "projects",
]
CATEGORY_REQUIRED = {"message": "The Screen category id field is required.",
                     "errors": {"screen_category_id": ["The Screen category id field is required."]}}


def category(sandbox: SandboxProcess, name: str, **fields: Any) -> int:
    response = sandbox.api("POST", "/screen_categories", json={"name": name, "status": "ACTIVE", **fields})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def create_screen(sandbox: SandboxProcess, title: str, category_id: int | str, **fields: Any) -> dict[str, Any]:
    body = {"title": title, "description": f"{title} screen", "type": "FORM", "screen_category_id": category_id,
            **fields}
    response = sandbox.api("POST", "/screens", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_show_update_delete(clean_sandbox: SandboxProcess) -> None:
    forms = category(clean_sandbox, "Forms")
    config = [{"name": "Page 1", "items": [{"component": "FormInput", "config": {"label": "Name"}}]}]
    screen = create_screen(clean_sandbox, "Intake Form", forms, config=config, custom_css=".a{}")
    assert list(screen) == SCREEN_KEYS
    assert (screen["title"], screen["type"], screen["screen_category_id"], screen["config"], screen["status"]) == (
        "Intake Form", "FORM", str(forms), config, "ACTIVE")
    assert ISO.match(screen["created_at"]) and screen["projects"] == []
    assert clean_sandbox.api("GET", f"/screens/{screen['id']}").json() == screen

    response = clean_sandbox.api("PUT", f"/screens/{screen['id']}", json={
        "title": "Intake", "description": "changed", "type": "DISPLAY"})
    assert (response.status_code, response.content) == (204, b"")
    after = clean_sandbox.api("GET", f"/screens/{screen['id']}").json()
    assert (after["title"], after["description"], after["type"], after["config"], after["screen_category_id"]) == (
        "Intake", "changed", "DISPLAY", config, str(forms))

    response = clean_sandbox.api("DELETE", f"/screens/{screen['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", f"/screens/{screen['id']}").json() == NOT_FOUND


def test_a_missing_category_hides_every_other_error(clean_sandbox: SandboxProcess) -> None:
    # CategoryRule validates "required" in a nested validator whose exception escapes on its own.
    response = clean_sandbox.api("POST", "/screens", json={})
    assert (response.status_code, response.json()) == (422, CATEGORY_REQUIRED)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"title": ["The Name field is required."], "description": ["The Description field is required."],
              "type": ["The Type field is required."]}),
        ({"title": "A/B", "description": "d", "type": "FORM"}, {"title": ["The Name may only contain alphanumeric characters."]}),
        ({"title": "Ok", "description": "d", "type": "FORM", "screen_category_id": 999},
         {"screen_category_id": ["Invalid category"]}),
        ({"title": "Ok", "description": "d", "type": "FORM", "screen_category_id": "CATEGORY,999"},
         {"screen_category_id": ["Invalid category"]}),
    ],
)
def test_create_validation(clean_sandbox: SandboxProcess, body: dict, errors: dict) -> None:
    forms = category(clean_sandbox, "Forms")
    body = {"screen_category_id": forms, **body}
    if isinstance(body["screen_category_id"], str):
        body["screen_category_id"] = body["screen_category_id"].replace("CATEGORY", str(forms))
    response = clean_sandbox.api("POST", "/screens", json=body)
    assert (response.status_code, response.json()["errors"]) == (422, errors)


def test_several_categories_and_unique_titles(clean_sandbox: SandboxProcess) -> None:
    first, second = category(clean_sandbox, "First"), category(clean_sandbox, "Second")
    screen = create_screen(clean_sandbox, "Shared", f"{second},{first}")
    assert screen["screen_category_id"] == f"{second},{first}"
    response = clean_sandbox.api("POST", "/screens", json={"title": "shared", "description": "d", "type": "FORM",
                                                            "screen_category_id": first})
    assert response.json()["errors"] == {"title": ["The Name has already been taken."]}
    for category_id in (first, second):
        response = clean_sandbox.api("DELETE", f"/screen_categories/{category_id}")
        assert (response.status_code, response.json()) == (422, {
            "message": "The item should not have associated screens", "errors": {"screens": 1}})


def test_update_keeps_the_category_unless_one_is_sent(clean_sandbox: SandboxProcess) -> None:
    forms, other = category(clean_sandbox, "Forms"), category(clean_sandbox, "Other")
    screen = create_screen(clean_sandbox, "Form", forms)
    base = {"title": "Form", "description": "d", "type": "FORM"}
    assert clean_sandbox.api("PUT", f"/screens/{screen['id']}", json=base).status_code == 204
    assert clean_sandbox.api("GET", f"/screens/{screen['id']}").json()["screen_category_id"] == str(forms)
    response = clean_sandbox.api("PUT", f"/screens/{screen['id']}", json={**base, "screen_category_id": 999})
    assert response.json()["errors"] == {"screen_category_id": ["Invalid category"]}
    assert clean_sandbox.api("PUT", f"/screens/{screen['id']}",
                             json={**base, "screen_category_id": other}).status_code == 204
    assert clean_sandbox.api("GET", f"/screens/{screen['id']}").json()["screen_category_id"] == str(other)
    response = clean_sandbox.api("PUT", f"/screens/{screen['id']}", json={"screen_category_id": other})
    assert sorted(response.json()["errors"]) == ["description", "title", "type"]


def test_a_default_screen_cannot_be_deleted(clean_sandbox: SandboxProcess) -> None:
    screen = create_screen(clean_sandbox, "Default Form", category(clean_sandbox, "Forms"), is_default=True)
    response = clean_sandbox.api("DELETE", f"/screens/{screen['id']}")
    assert (response.status_code, response.json()) == (422, {
        "message": "Cannot delete a default screen", "errors": {"is_default": "Default screens cannot be deleted"}})


def test_list_filters_orders_paginates_and_hides_system_screens(clean_sandbox: SandboxProcess) -> None:
    forms = category(clean_sandbox, "Forms")
    for title, kind in (("Delta", "FORM"), ("alpha", "DISPLAY"), ("Charlie", "EMAIL"), ("Bravo", "FORM")):
        create_screen(clean_sandbox, title, forms, type=kind)
    system = create_screen(clean_sandbox, "Hidden", category(clean_sandbox, "System Screens"))
    with closing(db(clean_sandbox)) as connection:
        connection.execute("UPDATE categories SET is_system = 1 WHERE name = 'System Screens'")
    body = clean_sandbox.api("GET", "/screens?per_page=3").json()
    assert list(body["meta"]) == META_KEYS
    assert [s["title"] for s in body["data"]] == ["alpha", "Bravo", "Charlie"]
    assert (body["meta"]["total"], body["meta"]["total_pages"]) == (4, 2)
    assert [s["title"] for s in clean_sandbox.api("GET", "/screens?per_page=3&page=2").json()["data"]] == ["Delta"]
    assert [s["title"] for s in clean_sandbox.api("GET", "/screens?type=FORM,EMAIL").json()["data"]] == [
        "Bravo", "Charlie", "Delta"]
    assert [s["title"] for s in clean_sandbox.api("GET", "/screens?filter=char").json()["data"]] == ["Charlie"]
    titles = [s["title"] for s in clean_sandbox.api("GET", "/screens?order_by=id&order_direction=desc").json()["data"]]
    assert titles == ["Bravo", "Charlie", "alpha", "Delta"]
    assert clean_sandbox.api("GET", f"/screens/{system['id']}").status_code == 200


def test_tokens_and_permissions(clean_sandbox: SandboxProcess) -> None:
    screen = create_screen(clean_sandbox, "Guarded", category(clean_sandbox, "Forms"))
    _, nobody = user_with_token(clean_sandbox, "nobody")
    for method, path in (("GET", "/screens"), ("GET", f"/screens/{screen['id']}"), ("POST", "/screens"),
                         ("PUT", f"/screens/{screen['id']}"), ("DELETE", f"/screens/{screen['id']}")):
        response = no_token(clean_sandbox, method, path, json={})
        assert (path, response.status_code, response.json()) == (path, 401, UNAUTHENTICATED)
        response = clean_sandbox.api(method, path, token=nobody, json={})
        expected = 200 if method == "GET" else 403  # ScreenController checks nothing on index and show
        assert (method, path, response.status_code) == (method, path, expected)
        if expected == 403:
            assert response.json() == UNAUTHORIZED
    _, designer = user_with_token(clean_sandbox, "designer", "create-screens", "edit-screens", "delete-screens")
    forms = category(clean_sandbox, "More Forms")
    created = clean_sandbox.api("POST", "/screens", token=designer, json={
        "title": "Mine", "description": "d", "type": "FORM", "screen_category_id": forms})
    assert created.status_code == 201
    assert clean_sandbox.api("PUT", f"/screens/{created.json()['id']}", token=designer, json={
        "title": "Mine", "description": "e", "type": "FORM"}).status_code == 204
    assert clean_sandbox.api("DELETE", f"/screens/{created.json()['id']}", token=designer).status_code == 204


def test_unknown_ids_are_404(clean_sandbox: SandboxProcess) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = clean_sandbox.api(method, "/screens/999999", json={})
        assert (method, response.status_code, response.json()) == (method, 404, NOT_FOUND)


def test_an_update_without_changes_keeps_updated_at(clean_sandbox: SandboxProcess) -> None:
    screen = create_screen(clean_sandbox, "Stable", category(clean_sandbox, "Forms"), config=[{"items": []}])
    body = {"title": "Stable", "description": "Stable screen", "type": "FORM", "config": [{"items": []}]}
    time.sleep(1.1)
    assert clean_sandbox.api("PUT", f"/screens/{screen['id']}", json=body).status_code == 204
    assert clean_sandbox.api("GET", f"/screens/{screen['id']}").json() == screen
    assert clean_sandbox.api("PUT", f"/screens/{screen['id']}", json={**body, "config": []}).status_code == 204
    assert clean_sandbox.api("GET", f"/screens/{screen['id']}").json()["updated_at"] > screen["updated_at"]
