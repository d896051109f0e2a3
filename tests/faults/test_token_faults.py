"""pm_token against a flaky token endpoint (``POST /oauth/token``).

- A password grant is safe to repeat: through 50 % of failed token requests every login succeeds.
  The faults are injected *after* the server issued the token (the answer is lost), so each failed
  request costs one token: tokens issued == token requests == logins + faults, exactly.
- When every token request fails, the task fails within its time budget, with one line naming
  POST <url>/oauth/token, the last status (or the dropped connection) and the retries.
- A refresh-token exchange is not repeated after a 5xx or a dropped connection (the server may have
  spent the refresh token: they are single use): it fails at once, clearly, and the refresh token is
  spent at most once.

Client secret, password and tokens never appear in the output (the leak guard checks every run).
"""

from __future__ import annotations

import time

from faults_support import one_line_message, record_figures
from pm_integration import Runner, keep_secret, ok, save_result, served
from pm_sandbox.testing import SandboxProcess

LOGINS = 10
STARTUP_MARGIN = 10.0


def test_pm_token_against_a_flaky_token_endpoint(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    url = clean_sandbox.url
    figures: dict = {}
    try:
        # --- 50 % of token requests fail after the token was issued: every login still succeeds -------
        clean_sandbox.set_faults([{"route": "POST /oauth/token", "probability": 0.5,
                                   "kinds": ["502", "503", "429", "drop"], "retry_after": 1, "when": "after"}],
                                 seed=7)
        started = time.monotonic()
        run = ok(pb.play(f"""
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: Log in {LOGINS} times through a flaky token endpoint
                  processmaker.core.pm_token:
                    retries: 10
                    retry_backoff: 0.1
                  loop: "{{{{ range({LOGINS}) | list }}}}"
                  register: logins
                  no_log: true
                {keep_secret("logins")}
        """))
        flaky_time = time.monotonic() - started
        flaky = clean_sandbox.counters()

        # --- every token request answered 503 (refused before any token is issued) ---------------------
        clean_sandbox.set_faults([{"route": "POST /oauth/token", "probability": 1.0, "kinds": ["503"]}], seed=7)
        clean_sandbox.reset_counters()
        started = time.monotonic()
        ok(pb.play(f"""
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: Log in while the token endpoint answers 503
                  processmaker.core.pm_token:
                    retries: 3
                    retry_backoff: 0.2
                    retry_max_time: 20
                  register: refused
                  ignore_errors: true
                - name: And with a 3 second budget
                  processmaker.core.pm_token:
                    retries: 100
                    retry_backoff: 0.5
                    retry_max_time: 3
                  register: budget
                  ignore_errors: true
                {save_result("refused")}
                {save_result("budget")}
        """))
        refused_time = time.monotonic() - started
        refused_counters = clean_sandbox.counters()

        # --- every token request dropped ---------------------------------------------------------------
        clean_sandbox.set_faults([{"route": "POST /oauth/token", "probability": 1.0, "kinds": ["drop"]}], seed=7)
        clean_sandbox.reset_counters()
        ok(pb.play(f"""
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: Log in while the token endpoint drops every connection
                  processmaker.core.pm_token:
                    retries: 2
                    retry_backoff: 0.1
                  register: dropped
                  ignore_errors: true
                {save_result("dropped")}
        """))
        dropped_counters = clean_sandbox.counters()
    finally:
        clean_sandbox.clear_faults()

    # flaky: every login succeeded, with a working token of its own
    logins = pb.secret("logins")["results"]
    assert len(logins) == LOGINS and not any(login.get("failed") for login in logins)
    tokens = {login["access_token"] for login in logins}
    assert len(tokens) == LOGINS
    for token in list(tokens)[:3]:
        assert clean_sandbox.api("GET", "/users/1", token=token).status_code == 200
    faults = flaky["faults_injected_total"]
    requests = served(flaky, "POST /oauth/token")
    assert faults > 0 and requests == LOGINS + faults
    # each lost answer came after the server had issued a token: one extra token per fault
    assert flaky["tokens_issued"] == {"password": LOGINS + faults}
    figures["flaky_50_percent_after"] = {
        "logins": LOGINS, "succeeded": LOGINS, "token_requests": requests, "faults_injected": faults,
        "faults_by_kind": {key.rsplit(" ", 1)[1]: n for key, n in flaky["faults_injected"].items()},
        "tokens_issued": flaky["tokens_issued_total"], "retries": requests - LOGINS,
        "retry_warnings_shown": len([w for w in run.warnings() if "retrying in" in w]),
        "wall_seconds": round(flaky_time, 1),
    }

    token_url = f"POST {url}/oauth/token"
    refused = one_line_message(pb.result("refused"))
    assert refused.startswith(f"{token_url} failed with HTTP 503 after 4 attempts (3 retries, retries=3 reached):")
    budget = one_line_message(pb.result("budget"))
    assert budget.startswith(f"{token_url} failed with HTTP 503 after ")
    assert "retry_max_time=3s reached" in budget
    assert refused_counters["tokens_issued_total"] == 0
    budget_attempts = served(refused_counters, "POST /oauth/token") - 4
    assert 2 <= budget_attempts < 101 and f"after {budget_attempts} attempts" in budget
    assert refused_time < 20 + 3 + STARTUP_MARGIN  # both tasks within their budgets (and start-up)

    dropped = one_line_message(pb.result("dropped"))
    assert dropped.startswith(f"{token_url} failed after 3 attempts (2 retries, retries=2 reached): connection dropped")
    assert served(dropped_counters, "POST /oauth/token") == 3
    figures["all_503"] = {"message": refused.replace(url, "<url>"), "token_requests": 4}
    figures["all_503_budget_3s"] = {"message": budget.replace(url, "<url>"), "token_requests": budget_attempts,
                                    "wall_seconds_both_tasks": round(refused_time, 1)}
    figures["all_dropped"] = {"message": dropped.replace(url, "<url>"), "token_requests": 3}
    record_figures("test_pm_token_against_a_flaky_token_endpoint", figures)


def test_a_refresh_token_is_not_spent_twice_over_a_lost_answer(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    url = clean_sandbox.url
    figures: dict = {}
    for kind in ("502", "drop"):
        clean_sandbox.reset()
        refresh_token = clean_sandbox.password_token()["refresh_token"]
        pb.guard.add(refresh_token, "the refresh token")
        clean_sandbox.reset_counters()
        # the server rotates the refresh token, then the answer is lost
        clean_sandbox.set_faults([{"route": "POST /oauth/token", "probability": 1.0, "kinds": [kind],
                                   "when": "after"}], seed=7)
        try:
            ok(pb.play(f"""
                - hosts: localhost
                  gather_facts: false
                  tasks:
                    - name: Renew with a refresh token; the answer is lost ({kind})
                      processmaker.core.pm_token:
                        refresh_token: "{{{{ refresh_token }}}}"
                        retries: 5
                        retry_backoff: 0.1
                      register: renewed
                      ignore_errors: true
                    {save_result("renewed")}
            """, extra_vars={"refresh_token": refresh_token}))
            counters = clean_sandbox.counters()
        finally:
            clean_sandbox.clear_faults()
        message = one_line_message(pb.result("renewed"))
        # sent once, never repeated: the refresh token was spent by that one request
        assert served(counters, "POST /oauth/token") == 1
        assert counters["tokens_issued"] == {"refresh_token": 1}
        assert message.startswith(f"POST {url}/oauth/token failed"), message
        assert "attempts" not in message  # not retried
        assert "refresh token (single use)" in message and "Not repeated" in message, message
        # and spent it is: using it again (faults off) is refused
        again = clean_sandbox.session().post(clean_sandbox.token_url, data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": clean_sandbox.credentials["password_client"]["client_id"],
            "client_secret": clean_sandbox.credentials["password_client"]["client_secret"]}, timeout=10)
        assert again.status_code in (400, 401), again.status_code
        figures[kind] = {"message": message.replace(url, "<url>"), "token_requests": 1, "refresh_tokens_spent": 1}
    record_figures("test_a_refresh_token_is_not_spent_twice_over_a_lost_answer", figures)
