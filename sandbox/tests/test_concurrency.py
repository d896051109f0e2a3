"""Parallel clients against one sandbox: no lost writes, no duplicate rows, uniqueness holds.

Every request goes over its own connection from its own thread, released together by a barrier,
so the sandbox's worker threads really do run them at the same time.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from pm_sandbox.testing import SandboxProcess

PARALLEL = 32


def in_parallel(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    barrier = threading.Barrier(count)

    def run(index: int) -> requests.Response:
        barrier.wait(timeout=30)
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def user_body(username: str) -> dict[str, Any]:
    return {
        "username": username, "firstname": "Para", "lastname": "Llel", "email": f"{username}@example.com",
        "status": "ACTIVE", "password": "Parallel-pass-1",
    }


def post(sandbox: SandboxProcess, token: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        sandbox.api_url + path, json=body, timeout=60,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


def all_rows(sandbox: SandboxProcess, path: str, **params: Any) -> list[dict[str, Any]]:
    response = sandbox.api("GET", path, params={"per_page": 1000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total"] == len(body["data"])
    return body["data"]


def test_parallel_creates_of_distinct_users_all_land_once(clean_sandbox: SandboxProcess) -> None:
    token = clean_sandbox.admin_token()
    names = [f"parallel-{index:02d}" for index in range(PARALLEL)]
    responses = in_parallel(PARALLEL, lambda index: post(clean_sandbox, token, "/users", user_body(names[index])))
    assert [response.status_code for response in responses] == [201] * PARALLEL, [r.text for r in responses]
    created = {response.json()["username"]: response.json()["id"] for response in responses}
    assert sorted(created) == names
    assert len(set(created.values())) == PARALLEL
    rows = all_rows(clean_sandbox, "/users")
    assert sorted(row["username"] for row in rows) == sorted(["admin", *names])
    assert len({row["id"] for row in rows}) == PARALLEL + 1
    assert {row["username"]: row["id"] for row in rows if row["username"] != "admin"} == created


def test_parallel_creates_of_one_username_admit_exactly_one(clean_sandbox: SandboxProcess) -> None:
    token = clean_sandbox.admin_token()
    responses = in_parallel(PARALLEL, lambda _: post(clean_sandbox, token, "/users", user_body("only-once")))
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 422: PARALLEL - 1}, [r.text for r in responses if r.status_code not in (201, 422)]
    for response in responses:
        if response.status_code == 422:
            assert response.json() == {
                "message": "The Username has already been taken.",
                "errors": {"username": ["The Username has already been taken."]},
            }
    assert [row["username"] for row in all_rows(clean_sandbox, "/users", filter="only-once")] == ["only-once"]


def test_parallel_creates_of_one_group_name_admit_exactly_one(clean_sandbox: SandboxProcess) -> None:
    token = clean_sandbox.admin_token()
    body = {"name": "Only Once", "description": "raced", "status": "ACTIVE"}
    responses = in_parallel(PARALLEL, lambda _: post(clean_sandbox, token, "/groups", body))
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 422: PARALLEL - 1}, [r.text for r in responses if r.status_code not in (201, 422)]
    for response in responses:
        if response.status_code == 422:
            assert response.json() == {
                "message": "The Name has already been taken.",
                "errors": {"name": ["The Name has already been taken."]},
            }
    assert [row["name"] for row in all_rows(clean_sandbox, "/groups")] == ["Only Once"]


def test_parallel_token_requests_all_succeed(clean_sandbox: SandboxProcess) -> None:
    clean_sandbox.reset_counters()
    client = clean_sandbox.credentials["password_client"]
    admin = clean_sandbox.credentials["admin"]
    form = {"grant_type": "password", "username": admin["username"], "password": admin["password"], **client}
    responses = in_parallel(PARALLEL, lambda _: requests.post(clean_sandbox.token_url, data=form, timeout=60))
    assert [response.status_code for response in responses] == [200] * PARALLEL, [r.text for r in responses]
    tokens = [response.json()["access_token"] for response in responses]
    refresh_tokens = [response.json()["refresh_token"] for response in responses]
    assert len(set(tokens)) == PARALLEL
    assert len(set(refresh_tokens)) == PARALLEL
    checks = in_parallel(
        PARALLEL, lambda index: clean_sandbox.api("GET", f"/users/{admin['id']}", token=tokens[index])
    )
    assert [check.status_code for check in checks] == [200] * PARALLEL
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"password": PARALLEL}
    assert counters["statuses"]["POST /oauth/token"] == {"200": PARALLEL}
    assert counters["statuses"]["GET /api/1.0/users/{user}"] == {"200": PARALLEL}


def test_parallel_adds_of_one_membership_create_one_row(clean_sandbox: SandboxProcess) -> None:
    """POST /group_members is idempotent (201 [] when the triple exists), also when raced."""
    token = clean_sandbox.admin_token()
    group = clean_sandbox.api("POST", "/groups", json={"name": "Raced Membership", "status": "ACTIVE"})
    assert group.status_code == 201
    body = {
        "group_id": group.json()["id"], "member_type": "ProcessMaker\\Models\\User",
        "member_id": clean_sandbox.credentials["admin"]["id"],
    }
    responses = in_parallel(PARALLEL, lambda _: post(clean_sandbox, token, "/group_members", body))
    assert [response.status_code for response in responses] == [201] * PARALLEL, [r.text for r in responses]
    created = [response.json() for response in responses if response.json() != []]
    assert len(created) == 1
    assert created[0]["group_id"] == group.json()["id"]
    rows = all_rows(clean_sandbox, "/group_members")
    assert [row["id"] for row in rows] == [created[0]["id"]]


def test_parallel_personal_tokens_are_all_distinct_and_listed(clean_sandbox: SandboxProcess) -> None:
    token = clean_sandbox.admin_token()
    admin_id = clean_sandbox.credentials["admin"]["id"]
    responses = in_parallel(
        PARALLEL, lambda index: post(clean_sandbox, token, f"/users/{admin_id}/tokens", {"name": f"pat-{index:02d}"})
    )
    assert [response.status_code for response in responses] == [200] * PARALLEL, [r.text for r in responses]
    ids = {response.json()["token"]["id"] for response in responses}
    assert len(ids) == PARALLEL
    listed = all_rows(clean_sandbox, f"/users/{admin_id}/tokens")
    assert {row["id"] for row in listed} == ids
    assert sorted(row["name"] for row in listed) == [f"pat-{index:02d}" for index in range(PARALLEL)]
