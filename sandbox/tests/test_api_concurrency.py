"""Parallel writers land exactly once; GET /users serves 8 parallel keep-alive clients."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    add_member,
    create_group,
    create_user,
    insert_users,
    user_body,
)

PARALLEL = 32


def _post_all(sandbox: SandboxProcess, bodies: list[dict]) -> list[requests.Response]:
    token = sandbox.admin_token()
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> requests.Response:
        barrier.wait()
        return sandbox.api("POST", "/users", token=token, json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_parallel_creates_of_distinct_users_all_land_once(clean_sandbox: SandboxProcess) -> None:
    responses = _post_all(clean_sandbox, [user_body(f"par{i:02d}") for i in range(PARALLEL)])
    assert [r.status_code for r in responses] == [201] * PARALLEL
    assert len({r.json()["id"] for r in responses}) == PARALLEL
    body = clean_sandbox.api("GET", "/users?filter=par&per_page=100").json()
    assert [u["username"] for u in body["data"]] == [f"par{i:02d}" for i in range(PARALLEL)]


def test_parallel_creates_of_one_username_give_one_201(clean_sandbox: SandboxProcess) -> None:
    responses = _post_all(clean_sandbox, [user_body("same") for _ in range(PARALLEL)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * (PARALLEL - 1)
    for response in responses:
        if response.status_code == 422:
            assert response.json() == {"message": "The Username has already been taken.",
                                        "errors": {"username": ["The Username has already been taken."]}}
    assert clean_sandbox.api("GET", "/users?filter=same").json()["meta"]["total"] == 1


def test_parallel_identical_memberships_create_one_row(clean_sandbox: SandboxProcess) -> None:
    group = create_group(clean_sandbox, "Crowd")
    user = create_user(clean_sandbox, "popular")
    barrier = threading.Barrier(16)

    def join(_: int) -> int:
        barrier.wait()
        return add_member(clean_sandbox, group["id"], user["id"]).status_code

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(join, range(16))) == [201] * 16
    assert clean_sandbox.api("GET", f"/groups/{group['id']}/users").json()["meta"]["total"] == 1


def test_get_users_with_8_keep_alive_clients_all_served(clean_sandbox: SandboxProcess) -> None:
    """8 parallel clients, 50 requests each: every answer a full page, every request counted once.

    The rate (target 300/s) is measured by bench/sandbox_throughput.py, not asserted here.
    """
    insert_users(clean_sandbox, 2000)
    url = clean_sandbox.api_url + "/users"
    headers = {"Authorization": f"Bearer {clean_sandbox.admin_token()}", "Accept": "application/json"}
    clean_sandbox.reset_counters()

    def client(_: int) -> list[int]:
        session = requests.Session()
        return [len(session.get(url, headers=headers, timeout=30).json()["data"]) for _ in range(50)]

    with ThreadPoolExecutor(8) as pool:
        pages = [size for sizes in pool.map(client, range(8)) for size in sizes]
    assert pages == [10] * 400
    assert clean_sandbox.counters()["statuses"]["GET /api/1.0/users"] == {"200": 400}
