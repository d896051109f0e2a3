"""Laravel's throttle on POST /oauth/token: X-RateLimit-* on every answer, then 429."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import assert_token_success, password_form, post_token


def test_token_endpoint_throttles_per_client_ip() -> None:
    with SandboxProcess(["--token-rate-limit", "3"]) as sb:
        first = post_token(sb, password_form(sb))
        assert_token_success(first, refresh=True)
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("3", "2")
        error = post_token(sb, password_form(sb, password="wrong"))  # errors count and carry the headers too
        assert error.status_code == 400
        assert (error.headers["X-RateLimit-Limit"], error.headers["X-RateLimit-Remaining"]) == ("3", "1")
        third = post_token(sb, password_form(sb))
        assert third.headers["X-RateLimit-Remaining"] == "0"
        assert "Retry-After" not in third.headers

        sb.reset_counters()
        refused = post_token(sb, password_form(sb))
        now = int(time.time())
        assert refused.status_code == 429
        assert refused.json() == {"message": "Too Many Attempts."}
        assert refused.headers["X-RateLimit-Limit"] == "3"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert abs(int(refused.headers["X-RateLimit-Reset"]) - (now + retry_after)) <= 1
        assert sb.counters()["tokens_issued"] == {}

        # Other routes are not throttled.
        assert requests.get(sb.url + "/_sandbox/health", timeout=10).status_code == 200


def test_no_rate_limit_headers_when_throttling_is_off(sandbox: SandboxProcess) -> None:
    response = post_token(sandbox, password_form(sandbox))
    assert_token_success(response, refresh=True)
    assert "X-RateLimit-Limit" not in response.headers


def test_reset_forgets_the_rate_limits() -> None:
    """The limiter is part of the app's state: /_sandbox/reset clears it with everything else."""
    with SandboxProcess(["--token-rate-limit", "2"]) as sb:
        for _ in range(2):
            assert_token_success(post_token(sb, password_form(sb)), refresh=True)
        assert post_token(sb, password_form(sb)).status_code == 429
        sb.reset()
        again = post_token(sb, password_form(sb))
        assert_token_success(again, refresh=True)
        assert (again.headers["X-RateLimit-Limit"], again.headers["X-RateLimit-Remaining"]) == ("2", "1")
