"""Answers that are not JSON, through real ansible-playbook runs (-vvv, no traceback anywhere).

The sandbox answers every ``GET /api/1.0/users`` (then every ``POST /oauth/token``) with a proxy's
HTML error page, an empty body, truncated JSON or random bytes. pm_api, pm_resource, the pm_api
lookup and pm_token each fail with one line that names the endpoint and says what came instead of
JSON. With 30 % of those answers garbled and retries on, the same calls succeed: the client retries
a garbled answer to an idempotent request.
"""

from __future__ import annotations

import json

import pytest
from pm_integration import (
    Runner,
    assert_clean_failure,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

USERS = "GET /api/1.0/users"
TOKEN = "POST /oauth/token"
# What each fault kind's message says came instead of JSON.
SAYS = {
    "html": "the server sent an HTML page instead of JSON (502 Bad Gateway)",
    "empty": "the server sent an empty response body instead of JSON",
    "truncated": "the response body is not valid JSON (23 bytes, truncated or corrupt)",
    "garbage": "the response body is not valid JSON (64 bytes, truncated or corrupt)",
}
CALLS = ("api_call", "resource", "through_lookup", "pat")


def every_caller(extra_task: str = "") -> str:
    """pm_api, pm_resource, the pm_api lookup and pm_token, each listing users once."""
    return f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: pm_api lists users
              processmaker.core.pm_api:
                path: users
              register: api_call
              ignore_errors: true
            - name: pm_resource lists users to converge one
              processmaker.core.pm_resource:
                kind: users
                items:
                  - {{username: garbage-probe, email: garbage-probe@example.com, firstname: G, lastname: P,
                      password: "Garbage-probe-1!"}}
              register: resource
              ignore_errors: true
            - name: The pm_api lookup lists users
              ansible.builtin.set_fact:
                listed: "{{{{ lookup('processmaker.core.pm_api', 'users') }}}}"
              register: through_lookup
              ignore_errors: true
            - name: pm_token finds the owner of a personal access token by username
              processmaker.core.pm_token:
                name: ci
                user: admin
                state: absent
              register: pat
              ignore_errors: true
            {extra_task}
            {save_result("api_call")}
            {save_result("resource")}
            {save_result("through_lookup")}
            {save_result("pat")}
    """


def fast_retries(pb: Runner, retries: int) -> dict:
    return pb.env(PM_RETRIES=str(retries), PM_RETRY_BACKOFF="0.01", PM_RETRY_MAX_TIME="10")


@pytest.mark.parametrize("kind", sorted(SAYS))
def test_a_listing_that_is_not_json_fails_with_one_clear_line(pb: Runner, clean_sandbox: SandboxProcess,
                                                              kind: str) -> None:
    clean_sandbox.set_faults([{"route": USERS, "probability": 1.0, "kinds": [kind]}], seed=7)
    try:
        run = ok(pb.play(every_caller(), env=fast_retries(pb, 1)))
    finally:
        clean_sandbox.clear_faults()
    assert run.recap()["failed"] == 0 and run.recap()["ignored"] == 4
    for name in CALLS:
        message = assert_clean_failure(pb.result(name), "/api/1.0/users", SAYS[kind], "after 2 attempts")
        if kind == "html":
            assert "a proxy" in message, message
        else:
            assert "A proxy or the server sent a broken answer; retry later" in message, message
    # one retry per call (a GET is safe to repeat), each a warning; nothing written
    counters = clean_sandbox.counters()
    assert served(counters, USERS) == 8 and counters["faults_injected_total"] == 8, counters["requests"]
    assert served(counters, "POST /api/1.0/users") == 0
    retries = [w for w in run.warnings() if "/api/1.0/users" in w and "retrying" in w]
    assert retries, run.tail()
    assert len(clean_sandbox.api("GET", "/users", params={"filter": "garbage-probe"}).json()["data"]) == 0


@pytest.mark.deep
def test_a_token_endpoint_that_answers_no_json_fails_with_one_clear_line(pb: Runner,
                                                                       clean_sandbox: SandboxProcess) -> None:
    clean_sandbox.set_faults([{"route": TOKEN, "probability": 1.0, "kinds": sorted(SAYS)}], seed=11)
    try:
        run = ok(pb.play(every_caller(), env=fast_retries(pb, 1)))
    finally:
        clean_sandbox.clear_faults()
    assert run.recap()["failed"] == 0 and run.recap()["ignored"] == 4
    for name in CALLS:
        message = assert_clean_failure(pb.result(name), "POST", "/oauth/token", "after 2 attempts")
        assert any(said in message for said in SAYS.values()), message
    counters = clean_sandbox.counters()
    # a password grant is safe to repeat: one retry each, and no token was issued
    assert served(counters, TOKEN) == 8 and counters["faults_injected_total"] == 8, counters["requests"]
    assert counters["tokens_issued_total"] == 0
    assert served(counters, USERS) == 0


@pytest.mark.deep
def test_with_retries_30_percent_garbled_answers_do_no_harm(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    clean_sandbox.set_faults([{"route": USERS, "probability": 0.3, "kinds": sorted(SAYS)}], seed=20240601)
    repeat = f"""
            - name: pm_api lists users, eight times
              processmaker.core.pm_api:
                path: users
                query: {{per_page: 5}}
              register: api_calls
              loop: "{{{{ range(8) | list }}}}"
            {save_result("api_calls")}
    """
    try:
        run = ok(pb.play(every_caller(repeat), env=fast_retries(pb, 5)))
    finally:
        clean_sandbox.clear_faults()
    assert run.recap()["failed"] == 0 and run.recap().get("ignored", 0) == 0, run.tail()
    for name in CALLS:
        assert not pb.result(name).get("failed"), pb.result(name)
    assert pb.result("api_call")["status"] == 200 and pb.result("resource")["changed"] is True
    attempts = [result["attempts"] for result in pb.result("api_calls")["results"]] + [pb.result("api_call")["attempts"]]
    counters = clean_sandbox.counters()
    faults = counters["faults_injected_total"]
    calls = served(counters, USERS) - faults  # each faulted request was repeated once
    assert faults > 0 and calls == 12, counters  # 9 pm_api + pm_resource + the lookup + pm_token
    assert sum(attempts) - len(attempts) <= faults
    # the user pm_resource created exists once
    assert len(clean_sandbox.api("GET", "/users", params={"filter": "garbage-probe"}).json()["data"]) == 1
    print(json.dumps({"garbled answers": "30 % of GET /api/1.0/users", "requests": served(counters, USERS),
                      "faults injected": faults, "retries": faults, "calls": calls, "failed tasks": 0,
                      "pm_api attempts": attempts}))
