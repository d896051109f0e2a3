"""Laravel's ``throttle`` middleware (60 requests per minute by default), keyed by client IP.

A window opens with the first hit and lasts 60 seconds; requests refused with 429 do not count.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

DECAY_SECONDS = 60


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int = 0
    reset_at: int = 0

    def headers(self) -> dict[str, str]:
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
            headers["X-RateLimit-Reset"] = str(self.reset_at)
        return headers


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window ends at, hits)

    def hit(self, key: str, limit: int) -> Verdict:
        now = time.time()
        with self._lock:
            if len(self._windows) > 10_000:  # forget closed windows now and then
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            ends_at, hits = self._windows.get(key, (0.0, 0))
            if ends_at <= now:
                ends_at, hits = now + DECAY_SECONDS, 0
            if hits >= limit:
                retry_after = max(0, math.ceil(ends_at - now))
                return Verdict(False, limit, 0, retry_after, int(now) + retry_after)
            hits += 1
            self._windows[key] = (ends_at, hits)
            return Verdict(True, limit, max(0, limit - hits))

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
