"""Tokens that expire mid-play, revoked tokens, and injected server faults.

Expiry runs against a second sandbox whose access tokens live 3 seconds (``--token-ttl 3``).
"""

from __future__ import annotations

import re

import pytest
from pm_integration import (
    Runner,
    assert_clean_failure,
    keep_secret,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess


@pytest.mark.deep
def test_lookup_token_expiring_mid_play_is_renewed(short_pb: Runner, short_ttl_sandbox: SandboxProcess) -> None:
    short_ttl_sandbox.reset()
    run = ok(short_pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Before expiry
              processmaker.core.pm_api:
                path: users
                access_token: "{{{{ lookup('processmaker.core.pm_token') }}}}"
              register: before
            - name: Outlive the 3 second token
              ansible.builtin.wait_for:
                timeout: 5
            - name: After expiry, the same lookup
              processmaker.core.pm_api:
                path: users
                access_token: "{{{{ lookup('processmaker.core.pm_token') }}}}"
              register: after
            - name: And the pm_api lookup
              ansible.builtin.set_fact:
                admin_name: "{{{{ lookup('processmaker.core.pm_api', 'users/1').username }}}}"
            {save_result("before")}
            {save_result("after")}
            {save_result("admin_name")}
    """))
    assert run.recap()["failed"] == 0
    assert pb_status(short_pb, "before") == pb_status(short_pb, "after") == 200
    assert short_pb.result("admin_name") == "admin"
    # a renewal: the cached token had expired, so the lookup asked the grant again (a refresh token
    # would do too); every request was answered 200, none was rejected first. On a slow machine the
    # renewed 3-second token may expire again before the pm_api lookup: one more renewal, never more.
    counters = short_ttl_sandbox.counters()
    assert 2 <= counters["tokens_issued_total"] <= 3, counters["tokens_issued"]
    assert statuses(counters).get("401", 0) == 0


def statuses(counters: dict) -> dict[str, int]:
    """Responses per status over every route."""
    total: dict[str, int] = {}
    for per_status in counters["statuses"].values():
        for status, count in per_status.items():
            total[status] = total.get(status, 0) + count
    return total


def pb_status(pb: Runner, name: str) -> int:
    return pb.result(name)["status"]


@pytest.mark.deep
def test_module_token_expiring_mid_play_is_renewed_with_its_refresh_token(
    short_pb: Runner, short_ttl_sandbox: SandboxProcess
) -> None:
    short_ttl_sandbox.reset()
    run = ok(short_pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Log in once
              processmaker.core.pm_token:
              register: login
              no_log: true
            {keep_secret("login")}
            - name: Outlive the 3 second token
              ansible.builtin.wait_for:
                timeout: 5
            - name: The expired token and its refresh token (the client from PM_CLIENT_ID)
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ login.access_token }}}}"
                refresh_token: "{{{{ login.refresh_token }}}}"
              register: renewed
            - name: The expired token alone cannot be renewed
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ login.access_token }}}}"
              register: expired
              ignore_errors: true
            {save_result("renewed")}
            {save_result("expired")}
    """))
    assert run.recap()["failed"] == 0
    renewed = short_pb.result("renewed")
    assert renewed["status"] == 200 and renewed["json"]["username"] == "admin"
    assert_clean_failure(short_pb.result("expired"), "HTTP 401")
    counters = short_ttl_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 1, "refresh_token": 1}
    assert short_ttl_sandbox.api("GET", "/users/1", token=short_pb.secret("login")["access_token"]).status_code == 401


def test_revoked_token_gives_a_clear_error(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    created = clean_sandbox.api("POST", "/users/1/tokens", json={"name": "to revoke"}).json()
    pat = created["accessToken"]
    pb.guard.add(pat, "PAT")
    clean_sandbox.api("DELETE", f"/users/1/tokens/{created['token']['id']}").raise_for_status()
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Call the API with a revoked PAT
              processmaker.core.pm_api:
                path: users
                access_token: "{{{{ pat }}}}"
              register: api_call
              ignore_errors: true
            - name: Validate the revoked PAT
              processmaker.core.pm_token:
                access_token: "{{{{ pat }}}}"
              register: validation
              ignore_errors: true
            - name: Use it through the pm_api lookup
              ansible.builtin.set_fact:
                never: "{{{{ lookup('processmaker.core.pm_api', 'users', access_token=pat) }}}}"
              register: through_lookup
              ignore_errors: true
            {save_result("api_call")}
            {save_result("validation")}
            {save_result("through_lookup")}
    """, extra_vars={"pat": pat}))
    for name in ("api_call", "validation", "through_lookup"):
        assert_clean_failure(pb.result(name), "HTTP 401", "invalid, expired or revoked")
    assert statuses(clean_sandbox.counters()).get("401", 0) == 3


@pytest.mark.deep
def test_faults_are_absorbed_by_retries(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    clean_sandbox.set_faults(
        [{"route": "GET /api/1.0/*", "probability": 0.2, "kinds": ["502", "503", "429"], "retry_after": 1}],
        seed=20240501,
    )
    try:
        run = ok(pb.play(f"""
            - hosts: localhost
              gather_facts: false
              module_defaults:
                group/processmaker.core.all:
                  retries: 6
                  retry_backoff: 0.1
              tasks:
                - name: Many reads through the modules
                  processmaker.core.pm_api:
                    path: "{{{{ item }}}}"
                  loop: "{{{{ ['users', 'users/1', 'groups'] * 8 }}}}"
                  register: many
                - name: Every page
                  processmaker.core.pm_api:
                    path: users
                    query:
                      per_page: 1
                    all_pages: true
                  register: paged
                - name: Reads through the lookup
                  ansible.builtin.set_fact:
                    bodies: "{{{{ query('processmaker.core.pm_api', 'users', 'users/1', 'groups', 'users',
                                       retries=6, retry_backoff=0.1) }}}}"
                {save_result("paged")}
                {save_result("many")}
        """))
    finally:
        clean_sandbox.clear_faults()
    counters = clean_sandbox.counters()
    assert counters["faults_injected_total"] > 0, counters
    injected = {status for status in ("502", "503", "429") if statuses(counters).get(status)}
    assert injected, counters["statuses"]
    assert run.recap()["failed"] == 0
    assert pb.result("paged")["data"][0]["username"] == "admin"
    # the results say how many attempts each call took...
    retried = sum(result["attempts"] - 1 for result in pb.result("many")["results"])
    assert 0 < retried <= counters["faults_injected_total"]
    # ...and each retry is a warning (Ansible shows each distinct warning once)
    warnings = run.warnings()  # unwrapped: ansible-core 2.17 wraps them at 79 columns
    assert warnings and all(
        re.fullmatch(r"\[WARNING\]: GET \S+ got HTTP (502|503|429); retrying in [0-9.]+s \(attempt \d of 7\)", line)
        for line in warnings
    ), warnings
    assert served(counters, "GET /api/1.0/users") >= 8 + 1 + 2
