"""How many examples a property (hypothesis) test runs: a quarter in ``make test``, every one in
``make test-deep`` (``PM_TEST_DEEP=1``), which CI runs too."""

from __future__ import annotations

import os

DEEP = os.environ.get("PM_TEST_DEEP") == "1"


def examples(full: int) -> int:
    """``full`` examples in the deep run, a quarter (at least 10) otherwise."""
    return full if DEEP else max(10, full // 4)
