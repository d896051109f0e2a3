"""When the retries run out, the task fails within the configured time, with one line naming the
endpoint (method and URL), the last status (or that the connection was dropped) and the retries.

Every play here fails on purpose (``ignore_errors``); what it said is read from the saved result.
Times are measured around the whole ``ansible-playbook`` run, start-up included, and only bounded
from above (the configured budget plus a margin for Ansible's start-up on a busy machine).
"""

from __future__ import annotations

import time

from faults_support import ATTEMPTS, listing, one_line_message, record_figures
from pm_integration import Runner, ok, save_result, served
from pm_sandbox.testing import SandboxProcess

STARTUP_MARGIN = 10.0  # seconds for ansible-playbook to start and finish around the task


def timed_play(pb: Runner, text: str, **kwargs: object) -> tuple[float, object]:
    started = time.monotonic()
    run = pb.play(text, **kwargs)
    return time.monotonic() - started, ok(run)


def pm_api_play(name: str, retries: int, backoff: float, max_time: float) -> str:
    return f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: {name}
              processmaker.core.pm_api:
                path: users
                retries: {retries}
                retry_backoff: {backoff}
                retry_max_time: {max_time}
              register: outcome
              ignore_errors: true
            {save_result("outcome")}
    """


def test_retries_run_out_with_a_clear_message_in_time(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    url = clean_sandbox.url
    figures: dict = {}
    try:
        # 1. every GET /users answered 503: four attempts (retries=3), then one line saying so
        clean_sandbox.set_faults([{"route": "GET /api/1.0/users", "probability": 1.0, "kinds": ["503"],
                                   "latency_ms": [50, 100]}], seed=1)
        elapsed, _ = timed_play(pb, pm_api_play("Read users through a failing server", 3, 0.2, 20))
        message = one_line_message(pb.result("outcome"))
        assert message.startswith(f"GET {url}/api/1.0/users "), message
        assert "failed with HTTP 503 after 4 attempts (3 retries, retries=3 reached): Service Unavailable" in message
        assert served(clean_sandbox.counters(), "GET /api/1.0/users") == 4
        assert elapsed < 20 + STARTUP_MARGIN
        figures["503, retries=3"] = {"message": message.replace(url, "<url>"), "requests": 4,
                                     "faults_injected": clean_sandbox.counters()["faults_injected_total"],
                                     "wall_seconds": round(elapsed, 1)}

        # 2. the same with retries=100 and a 4 second budget: the budget ends it, in time, and says so
        clean_sandbox.reset_counters()
        elapsed, _ = timed_play(pb, pm_api_play("Read users with a time budget", 100, 0.5, 4))
        message = one_line_message(pb.result("outcome"))
        attempts = int(ATTEMPTS.search(message).group(1))  # type: ignore[union-attr]
        assert 2 <= attempts < 101
        assert f"failed with HTTP 503 after {attempts} attempts ({attempts - 1} retries, retry_max_time=4s reached)" \
            in message, message
        assert served(clean_sandbox.counters(), "GET /api/1.0/users") == attempts
        assert elapsed < 4 + STARTUP_MARGIN, elapsed
        figures["503, retries=100, retry_max_time=4"] = {
            "message": message.replace(url, "<url>"), "requests": attempts, "wall_seconds": round(elapsed, 1)}

        # 3. dropped connections: no status at all, and the message says the connection was dropped
        clean_sandbox.set_faults([{"route": "GET /api/1.0/users", "probability": 1.0, "kinds": ["drop"]}], seed=1)
        clean_sandbox.reset_counters()
        elapsed, _ = timed_play(pb, pm_api_play("Read users over dropped connections", 2, 0.2, 20))
        outcome = pb.result("outcome")
        message = one_line_message(outcome)
        assert message.startswith(f"GET {url}/api/1.0/users"), message
        assert "failed after 3 attempts (2 retries, retries=2 reached): connection dropped" in message, message
        assert outcome["error"]["status"] is None
        assert served(clean_sandbox.counters(), "GET /api/1.0/users") == 3
        assert elapsed < 20 + STARTUP_MARGIN
        figures["drop, retries=2"] = {"message": message.replace(url, "<url>"), "requests": 3,
                                      "wall_seconds": round(elapsed, 1)}
    finally:
        clean_sandbox.clear_faults()
    record_figures("test_retries_run_out_with_a_clear_message_in_time", figures)


RESOURCE_PLAY = f"""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Create three users while the server fails every create
          processmaker.core.pm_resource:
            kind: users
            items: "{{{{ users }}}}"
            retries: 2
            retry_backoff: 0.1
            concurrency: 3
          register: outcome
          ignore_errors: true
        {save_result("outcome")}
"""


def fault_users(prefix: str) -> list[dict]:
    return [{"username": f"{prefix}-{n}", "firstname": "Fault", "lastname": f"User {n}",
             "email": f"{prefix}-{n}@example.com", "password": "Fault-Passw0rd!"} for n in range(3)]


def test_pm_resource_creates_fail_clearly_and_never_duplicate(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    url = clean_sandbox.url
    pb.guard.add("Fault-Passw0rd!", "the users' password")
    try:
        # refused before anything happened (503 on every POST /users): each create is looked up after
        # its 503 (it may have landed), sent again, twice (retries=2), and then reported
        clean_sandbox.set_faults([{"route": "POST /api/1.0/users", "probability": 1.0, "kinds": ["503"]}], seed=1)
        ok(pb.play(RESOURCE_PLAY, extra_vars={"users": fault_users("refused")}))
        refused = pb.result("outcome")
        refused_counters = clean_sandbox.counters()

        # answered 503 after the user was created, every time: found by the lookup and adopted, once each
        clean_sandbox.set_faults([{"route": "POST /api/1.0/users", "probability": 1.0, "kinds": ["503"],
                                   "when": "after"}], seed=1)
        clean_sandbox.reset_counters()
        ok(pb.play(RESOURCE_PLAY, extra_vars={"users": fault_users("lost")}))
        lost = pb.result("outcome")
        lost_counters = clean_sandbox.counters()
    finally:
        clean_sandbox.clear_faults()

    message = one_line_message(refused)
    assert message.startswith("3 of 3 users writes failed; first: items[")
    assert f"POST {url}/api/1.0/users failed with HTTP 503 after 3 attempts (2 retries, retries=2 reached):" \
        " Service Unavailable" in message, message
    assert message.endswith("(and 2 more)")
    assert served(refused_counters, "POST /api/1.0/users") == 3 * 3
    assert served(refused_counters, "GET /api/1.0/users") == 1 + 3 * 2  # the listing, a lookup after each 503
    assert [r["error"].split(": POST ")[0] for r in refused["results"]] == [
        f"items[{n}] (refused-{n})" for n in range(3)]

    assert lost["failed"] is False and lost["changed"] is True
    assert [r.get("adopted") for r in lost["results"]] == [True, True, True]
    assert served(lost_counters, "POST /api/1.0/users") == 3  # never sent twice
    assert lost_counters["faults_injected_total"] == 3

    names = [user["username"] for user in listing(clean_sandbox, "/users")]
    assert sorted(names) == sorted(["admin", "lost-0", "lost-1", "lost-2"])  # none refused, no duplicate
    record_figures("test_pm_resource_creates_fail_clearly_and_never_duplicate", {
        "refused_503_before": {"message": message.replace(url, "<url>"),
                               "post_requests": served(refused_counters, "POST /api/1.0/users"),
                               "lookups": served(refused_counters, "GET /api/1.0/users") - 1,
                               "users_created": 0},
        "lost_answer_503_after": {"post_requests": 3, "adopted": 3, "users_created": 3, "duplicates": 0},
    })
