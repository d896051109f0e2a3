# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When to retry a request and how long to wait: pure policy, no I/O.

- 429 is retried for every method: the server refused the request before doing anything, and
  says (``Retry-After``) when to come back.
- 500, 502, 503, 504, dropped connections, read timeouts and corrupt bodies are retried only where
  repeating the request cannot do a thing twice: idempotent methods, or requests the caller
  marks safe (a password grant: the worst case is one more token).
- A connection that could not be opened (refused, connect timeout) never reached the server,
  so it is retried for every method.
- Exponential backoff with jitter, bounded by a number of retries and a total time budget.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"))
RETRY_ANY_METHOD_STATUSES = frozenset((429,))
RETRY_IDEMPOTENT_STATUSES = frozenset((500, 502, 503, 504))

# failure kinds a transport reports
NOT_SENT = "not_sent"  # connection refused, DNS, connect timeout: the server saw nothing
CONNECTION = "connection"  # dropped connection, read timeout: the server may have acted
CORRUPT = "corrupt"  # a 2xx whose JSON body is empty, truncated or garbage
FATAL = "fatal"  # TLS errors, bad URLs: retrying cannot help


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass
class RetryPolicy:
    retries: int = 3
    backoff: float = 0.5
    max_time: float = 60.0
    max_delay: float = 30.0
    rand: Callable[[], float] = field(default=random.random, repr=False)

    @classmethod
    def from_options(cls, values: dict) -> RetryPolicy:
        return cls(
            retries=int(values.get("retries") or 0),
            backoff=float(values.get("retry_backoff") or 0.0),
            max_time=float(values.get("retry_max_time") or 0.0),
        )

    def is_safe(self, method: str, safe_to_retry: bool | None = None) -> bool:
        if safe_to_retry is not None:
            return safe_to_retry
        return method.upper() in IDEMPOTENT_METHODS

    def retryable_status(self, method: str, status: int, safe_to_retry: bool | None = None) -> bool:
        if status in RETRY_ANY_METHOD_STATUSES:
            return True
        return status in RETRY_IDEMPOTENT_STATUSES and self.is_safe(method, safe_to_retry)

    def retryable_failure(self, method: str, kind: str, safe_to_retry: bool | None = None) -> bool:
        if kind == NOT_SENT:
            return True
        if kind in (CONNECTION, CORRUPT):
            return self.is_safe(method, safe_to_retry)
        return False

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Wait before attempt ``attempt + 1``: backoff * 2^(attempt-1), jittered to 50-100%,
        capped at max_delay, and never shorter than the server's Retry-After."""
        base = min(self.max_delay, self.backoff * (2 ** max(0, attempt - 1)))
        wait = base * (0.5 + 0.5 * self.rand())
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def bound_reached(self, attempt: int) -> str | None:
        """Which bound ended the retries after failed attempt ``attempt``, for the error message."""
        if self.retries <= 0:
            return None  # retries are off: nothing ran out
        if attempt > self.retries:
            return f"retries={self.retries} reached"
        return f"retry_max_time={self.max_time:g}s reached"

    def next_delay(self, attempt: int, elapsed: float, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based), or
        None when the retries or the time budget are used up."""
        if attempt > self.retries:
            return None
        wait = self.delay(attempt, retry_after)
        if elapsed + wait > self.max_time:
            return None
        return wait
