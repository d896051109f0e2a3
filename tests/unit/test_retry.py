"""Retry policy: which statuses and methods retry, Retry-After, bounds on count and total time.

The policy is tested on its own, then through the real transport against a scripted server on
127.0.0.1 (sleep and clock are injected so nothing waits).
"""

from __future__ import annotations

import email.utils
import json

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    Redactor,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import (
    CONNECTION,
    CORRUPT,
    FATAL,
    NOT_SENT,
    RetryPolicy,
    parse_retry_after,
)
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HttpTransport,
)
from unit_helpers import Reply


def policy(**kwargs):
    kwargs.setdefault("rand", lambda: 1.0)
    return RetryPolicy(**kwargs)


# --- policy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH"])
def test_429_retries_for_every_method(method):
    assert policy().retryable_status(method, 429)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_gateway_errors_retry_only_idempotent_methods(status):
    p = policy()
    assert all(p.retryable_status(m, status) for m in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))
    assert not p.retryable_status("POST", status) and not p.retryable_status("PATCH", status)
    assert p.retryable_status("POST", status, safe_to_retry=True)
    assert not p.retryable_status("GET", status, safe_to_retry=False)


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_never_retry(status):
    assert not policy().retryable_status("GET", status)


def test_failure_kinds():
    p = policy()
    assert p.retryable_failure("POST", NOT_SENT)
    assert p.retryable_failure("GET", CONNECTION) and not p.retryable_failure("POST", CONNECTION)
    assert p.retryable_failure("GET", CORRUPT) and not p.retryable_failure("PATCH", CORRUPT)
    assert not p.retryable_failure("GET", FATAL)


def test_backoff_doubles_with_jitter_and_cap():
    high, low = policy(backoff=0.5, rand=lambda: 1.0), policy(backoff=0.5, rand=lambda: 0.0)
    assert [high.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert [low.delay(n) for n in (1, 2, 3, 4)] == [0.25, 0.5, 1.0, 2.0]
    assert policy(backoff=10, max_delay=30).delay(5) == 30


def test_retry_after_is_a_floor():
    assert policy(backoff=0.5).delay(1, retry_after=3) == 3
    assert policy(backoff=8).delay(1, retry_after=3) == 8


def test_bounded_by_count_and_total_time():
    p = policy(retries=2, backoff=1, max_time=10)
    assert p.next_delay(1, elapsed=0) == 1
    assert p.next_delay(2, elapsed=1) == 2
    assert p.next_delay(3, elapsed=3) is None  # third retry: over the count
    assert p.next_delay(1, elapsed=9.5) is None  # would end past max_time
    assert p.next_delay(1, elapsed=0, retry_after=11) is None  # the server asks for longer than the budget
    assert policy(retries=0).next_delay(1, elapsed=0) is None


def test_parse_retry_after():
    assert parse_retry_after("5") == 5
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0
    assert parse_retry_after(None) is None and parse_retry_after("") is None and parse_retry_after("soon") is None
    when = email.utils.formatdate(1000.0 + 30, usegmt=True)
    assert parse_retry_after(when, now=1000.0) == 30


# --- through the transport, on a real socket ---------------------------------------------------

def transport(sleeps, warnings, **kwargs):
    kwargs.setdefault("retries", 3)
    kwargs.setdefault("backoff", 0.5)
    kwargs.setdefault("max_time", 60)
    return HttpTransport(policy=policy(**kwargs), timeout=5, warn=warnings.append, sleep=sleeps.sleep,
                         clock=sleeps.clock, redact=Redactor(["hunter2"]))


def test_get_503_is_retried_with_a_warning_per_retry(server, sleeps):
    server.on("GET", "/api/1.0/users", Reply(503, {"message": "Service Unavailable"}),
              Reply(503, {"message": "Service Unavailable"}), Reply(200, {"data": []}))
    warnings = []
    response = transport(sleeps, warnings).send("GET", server.url + "/api/1.0/users?page=2",
                                                params=[("token", "hunter2")])
    assert response.status == 200 and response.attempts == 3
    assert len(server.seen("GET")) == 3
    assert sleeps.calls == [0.5, 1.0]
    assert len(warnings) == 2
    assert warnings[0] == (f"GET {server.url}/api/1.0/users?page=2&token=******** got HTTP 503;"
                           " retrying in 0.5s (attempt 2 of 4)")
    assert all("hunter2" not in w for w in warnings)


def test_post_503_is_not_retried(server, sleeps):
    server.on("POST", "/api/1.0/groups", Reply(503, {"message": "Service Unavailable"}), Reply(201, {"id": 1}))
    warnings = []
    response = transport(sleeps, warnings).send("POST", server.url + "/api/1.0/groups", json={"name": "x"})
    assert response.status == 503 and response.attempts == 1
    assert len(server.seen("POST")) == 1 and not warnings


def test_post_429_is_retried_and_retry_after_honoured(server, sleeps):
    server.on("POST", "/api/1.0/groups", Reply(429, {"message": "Too Many Attempts."}, {"Retry-After": "7"}),
              Reply(201, {"id": 1}))
    warnings = []
    response = transport(sleeps, warnings).send("POST", server.url + "/api/1.0/groups", json={"name": "x"})
    assert response.status == 201
    assert sleeps.calls == [7.0]
    assert len(server.seen("POST")) == 2
    assert server.seen("POST")[1].json == {"name": "x"}  # the body is sent again
    assert "got HTTP 429; retrying in 7.0s" in warnings[0]


def test_retries_stop_at_the_count(server, sleeps):
    server.on("GET", "/x", Reply(502, b"<html><title>502 Bad Gateway</title></html>", {"Content-Type": "text/html"}))
    response = transport(sleeps, [], retries=2).send("GET", server.url + "/x")
    assert response.status == 502 and response.attempts == 3
    assert len(server.seen()) == 3


def test_retries_stop_at_the_total_time(server, sleeps):
    server.on("GET", "/x", Reply(429, {"message": "Too Many Attempts."}, {"Retry-After": "25"}))
    response = transport(sleeps, [], retries=10, max_time=60).send("GET", server.url + "/x")
    assert sleeps.calls == [25.0, 25.0]  # a third wait would end past 60 s
    assert response.attempts == 3 and response.status == 429


def test_retry_after_longer_than_the_budget_is_not_waited_for(server, sleeps):
    server.on("GET", "/x", Reply(429, {"message": "Too Many Attempts."}, {"Retry-After": "3600"}))
    response = transport(sleeps, [], max_time=60).send("GET", server.url + "/x")
    assert sleeps.calls == [] and response.status == 429


@pytest.mark.parametrize("body", [b"", b'{"data": [{"id": 1, "na', bytes(range(200, 255))])
def test_corrupt_json_on_get_is_retried(server, sleeps, body):
    server.on("GET", "/x", Reply(200, body, {"Content-Type": "application/json"}), Reply(200, {"data": []}))
    response = transport(sleeps, []).send("GET", server.url + "/x")
    assert response.status == 200 and json.loads(response.content) == {"data": []} and response.attempts == 2


def test_corrupt_json_on_get_gives_up_with_a_clear_error(server, sleeps):
    server.on("GET", "/x", Reply(200, b'{"trunc', {"Content-Type": "application/json"}))
    with pytest.raises(ProcessMakerError) as caught:
        transport(sleeps, [], retries=1).send("GET", server.url + "/x")
    assert caught.value.code == "corrupt_response" and caught.value.attempts == 2
    assert "not valid JSON" in str(caught.value)


def test_delete_answering_200_empty_is_not_repeated(server, sleeps):
    server.on("DELETE", "/api/1.0/environment_variables/1", Reply(200, b"", {"Content-Type": "application/json"}))
    response = transport(sleeps, []).send("DELETE", server.url + "/api/1.0/environment_variables/1")
    assert response.status == 200 and len(server.seen()) == 1


def test_token_request_marked_safe_is_retried_over_a_corrupt_body(server, sleeps):
    server.on("POST", "/oauth/token", Reply(200, b"", {"Content-Type": "application/json"}),
              Reply(200, {"access_token": "a"}))
    response = transport(sleeps, []).send("POST", server.url + "/oauth/token", data={"grant_type": "password"},
                                          safe_to_retry=True, expect_json=True)
    assert json.loads(response.content) == {"access_token": "a"} and len(server.seen()) == 2


def test_dropped_connection_retried_on_get_only(server, sleeps):
    server.on("GET", "/x", Reply(drop=True), Reply(200, {"ok": True}))
    assert json.loads(transport(sleeps, []).send("GET", server.url + "/x").content) == {"ok": True}
    server.on("POST", "/y", Reply(drop=True), Reply(201, {"ok": True}))
    with pytest.raises(ProcessMakerError) as caught:
        transport(sleeps, []).send("POST", server.url + "/y")
    assert caught.value.status is None and caught.value.code == "connection_dropped"
    assert len(server.seen("POST")) == 1


def test_connection_refused_is_retried_for_any_method_then_reported(closed_port_url, sleeps):
    warnings = []
    with pytest.raises(ProcessMakerError) as caught:
        transport(sleeps, warnings, retries=2).send("POST", closed_port_url + "/oauth/token")
    error = caught.value
    assert error.attempts == 3 and len(warnings) == 2 and len(sleeps.calls) == 2
    assert "after 3 attempts" in str(error) and "Check url" in str(error)
