"""The one-line message when retries end, without a server: which bound ended them, and how many.

The transport runs against a scripted session (no network, sleep and clock injected), so each
case is exact: the attempts made, the waits, and the words of the message.
"""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    resolve_connection,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import RetryPolicy
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HttpTransport,
)
from requests.structures import CaseInsensitiveDict

URL = "https://pm.example.com/api/1.0/users"


class Answer:
    def __init__(self, status: int, headers: dict | None = None) -> None:
        self.status_code = status
        self.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
        self.content = b'{"message": "Service Unavailable"}'
        self.url = URL

    def close(self) -> None:
        pass


class Session:
    """Answers every request with the same status; counts them."""

    def __init__(self, status: int, headers: dict | None = None) -> None:
        self.status, self.headers, self.sent = status, headers, 0

    def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        self.sent += 1
        return Answer(self.status, self.headers)

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client(session: Session, clock: Clock, **policy: Any) -> ProcessMakerClient:
    options = resolve_connection({"url": "https://pm.example.com", "access_token": "t" * 40},
                                 ["url", "access_token"], {})
    transport = HttpTransport(policy=RetryPolicy(rand=lambda: 1.0, **policy), session=session,
                              sleep=clock.sleep, clock=clock)
    return ProcessMakerClient(options, transport, None)


def failure(session: Session, **policy: Any) -> tuple[str, Clock]:
    clock = Clock()
    with pytest.raises(ProcessMakerError) as caught:
        client(session, clock, **policy).get("users", authenticate=False)
    return str(caught.value), clock


def test_the_count_ends_the_retries() -> None:
    session = Session(503)
    message, clock = failure(session, retries=3, backoff=0.5, max_time=60)
    assert session.sent == 4 and clock.now == 0.5 + 1 + 2
    assert message.startswith(f"GET {URL} failed with HTTP 503 after 4 attempts (3 retries, retries=3 reached):")


def test_the_time_budget_ends_the_retries_and_says_so() -> None:
    session = Session(503)
    message, clock = failure(session, retries=100, backoff=1, max_time=10)
    # waits of 1, 2, 4: the next (8) would end past 10 seconds, so it is not started
    assert session.sent == 4 and clock.now == 7
    assert "after 4 attempts (3 retries, retry_max_time=10s reached)" in message


def test_one_retry_is_singular() -> None:
    message, _ = failure(Session(502), retries=1, backoff=0.1, max_time=60)
    assert "failed with HTTP 502 after 2 attempts (1 retry, retries=1 reached)" in message


def test_a_retry_after_beyond_the_budget_is_not_waited_for() -> None:
    session = Session(429, {"Retry-After": "120"})
    message, clock = failure(session, retries=5, backoff=0.1, max_time=30)
    assert session.sent == 1 and clock.now == 0
    assert "failed with HTTP 429 (not retried, retry_max_time=30s reached)" in message


def test_no_retries_configured_says_nothing_about_retries() -> None:
    message, _ = failure(Session(503), retries=0, backoff=0.1, max_time=30)
    assert f"GET {URL} failed with HTTP 503: Service Unavailable." in message
    assert "attempts" not in message and "reached" not in message


def test_a_post_is_not_repeated_after_a_503_and_the_message_does_not_pretend_it_was() -> None:
    session, clock = Session(503), Clock()
    with pytest.raises(ProcessMakerError) as caught:
        client(session, clock, retries=3, backoff=0.1, max_time=30).post("users", json={}, authenticate=False)
    assert session.sent == 1 and "failed with HTTP 503: Service Unavailable" in str(caught.value)
