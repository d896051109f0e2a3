#!/usr/bin/env python3
"""The floor of bench/floor.py: the fewest requests that converge a list of users, in plain Python.

What a careful script with ``requests`` does, and nothing more: one token (password grant), the list
pages of ``/users`` (``per_page`` at a time), then a ``POST /users`` for each user the server does not
have, ``concurrency`` in flight. No validation, no masking, no result beyond one line of counts.

    PM_URL=... PM_CLIENT_ID=... PM_CLIENT_SECRET=... PM_USERNAME=... PM_PASSWORD=... \\
      python bench/raw_floor.py users.json           # users.json: [{username, ...}, ...]

Prints ``{"listed": N, "created": M}`` as JSON; exits 1 when a request failed.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import requests


def main(argv: list[str]) -> int:
    items_file = argv[0]
    per_page = int(os.environ.get("BENCH_PER_PAGE", "1000"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "8"))
    with open(items_file) as handle:
        items = json.load(handle)
    base = os.environ["PM_URL"].rstrip("/")
    session = requests.Session()
    # one connection per request in flight, as the collection's pool has
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=concurrency)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    token = session.post(base + "/oauth/token", data={
        "grant_type": "password", "client_id": os.environ["PM_CLIENT_ID"],
        "client_secret": os.environ["PM_CLIENT_SECRET"], "username": os.environ["PM_USERNAME"],
        "password": os.environ["PM_PASSWORD"]}, timeout=30)
    token.raise_for_status()
    session.headers.update({"Authorization": "Bearer " + token.json()["access_token"], "Accept": "application/json"})

    have = set()
    page, last = 1, 1
    while page <= last:
        answer = session.get(base + "/api/1.0/users", params={"per_page": per_page, "page": page}, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        have.update(user["username"].casefold() for user in body["data"])
        last = body["meta"]["last_page"]
        page += 1
    missing = [item for item in items if item["username"].casefold() not in have]

    def create(item: dict) -> int:
        return session.post(base + "/api/1.0/users", json=dict(item, status="ACTIVE"), timeout=60).status_code

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(create, missing))
    failed = [status for status in statuses if status != 201]
    print(json.dumps({"listed": len(have), "created": len(statuses) - len(failed), "failed": len(failed)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
