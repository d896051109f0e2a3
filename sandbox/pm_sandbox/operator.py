"""Operator endpoints (outside ``/api``): request counters, fault injection, reset, emulated executor builds.

Tests and benchmarks read the counters to assert how many requests a play made; fault rules make
the sandbox behave like a flaky proxy in front of ProcessMaker. Every endpoint here needs the
operator key in the ``X-Sandbox-Key`` header, except ``GET /_sandbox/health``.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError
from .http import Context, HttpError, Router, empty_response, json_response
from .models import script_executors
from .php import json_decode
from .seed import reset_store

OPERATOR_HEADER = "X-Sandbox-Key"
FAULT_KINDS = {"500", "502", "503", "504", "429", "drop", "garbage", "html", "truncated", "empty"}


class Counters:
    """Requests per ``METHOD /route/{pattern}``, statuses, tokens issued per grant, faults injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.statuses: defaultdict[str, Counter[str]] = defaultdict(Counter)
            self.tokens_issued: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()

    def count_request(self, key: str, status: int) -> None:
        with self._lock:
            self.requests[key] += 1
            self.statuses[key][str(status)] += 1

    def count_token(self, grant: str) -> None:
        with self._lock:
            self.tokens_issued[grant] += 1

    def count_fault(self, key: str, kind: str) -> None:
        with self._lock:
            self.faults[f"{key} {kind}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.requests.values()),
                "requests": dict(self.requests),
                "statuses": {key: dict(value) for key, value in self.statuses.items()},
                "tokens_issued": dict(self.tokens_issued),
                "tokens_issued_total": sum(self.tokens_issued.values()),
                "faults_injected": dict(self.faults),
                "faults_injected_total": sum(self.faults.values()),
            }


@dataclass
class FaultRule:
    route: str = "*"  # fnmatch pattern over "METHOD /route/{pattern}", e.g. "* /api/1.0/*"
    probability: float = 0.0
    kinds: list[str] = field(default_factory=lambda: ["500"])
    retry_after: int = 1
    latency_ms: tuple[int, int] = (0, 0)
    when: str = "before"  # before: the request is not handled; after: handled, then the answer is lost

    def matches(self, key: str) -> bool:
        return fnmatch.fnmatchcase(key, self.route)


@dataclass
class Fault:
    kind: str
    when: str
    retry_after: int


class Faults:
    """Fault rules, switchable at run time, drawn from one seeded random stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.seed: int | None = None
        self._random = random.Random()

    def configure(self, payload: dict[str, Any]) -> None:
        rules = [_parse_rule(index, raw) for index, raw in enumerate(payload.get("rules") or [])]
        seed = payload.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise ValidationError({"seed": ["The seed must be an integer."]})
        with self._lock:
            self.rules = rules
            self.seed = seed
            self._random = random.Random(seed)

    def clear(self) -> None:
        self.configure({})

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "rules": [
                    {
                        "route": rule.route,
                        "probability": rule.probability,
                        "kinds": rule.kinds,
                        "retry_after": rule.retry_after,
                        "latency_ms": list(rule.latency_ms),
                        "when": rule.when,
                    }
                    for rule in self.rules
                ],
            }

    def draw(self, key: str) -> tuple[float, Fault | None]:
        """Latency to add (seconds) and the fault to inject, if any, for one request."""
        with self._lock:
            for rule in self.rules:
                if not rule.matches(key):
                    continue
                low, high = rule.latency_ms
                delay = self._random.uniform(low, high) / 1000 if high else 0.0
                if rule.probability and self._random.random() < rule.probability:
                    return delay, Fault(self._random.choice(rule.kinds), rule.when, rule.retry_after)
                return delay, None
        return 0.0, None


def _parse_rule(index: int, raw: Any) -> FaultRule:
    def invalid(message: str) -> ValidationError:
        return ValidationError({f"rules.{index}": [message]})

    if not isinstance(raw, dict):
        raise invalid("Each rule must be an object.")
    unknown = set(raw) - {"route", "probability", "kinds", "retry_after", "latency_ms", "when"}
    if unknown:
        raise invalid(f"Unknown keys: {', '.join(sorted(unknown))}.")
    rule = FaultRule(route=str(raw.get("route", "*")))
    probability = raw.get("probability", 0.0)
    if not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise invalid("probability must be a number between 0 and 1.")
    rule.probability = float(probability)
    kinds = [str(kind) for kind in raw.get("kinds", ["500"])]
    if not kinds or set(kinds) - FAULT_KINDS:
        raise invalid(f"kinds must be a non-empty list of: {', '.join(sorted(FAULT_KINDS))}.")
    rule.kinds = kinds
    retry_after = raw.get("retry_after", 1)
    if not isinstance(retry_after, int) or retry_after < 0:
        raise invalid("retry_after must be a non-negative integer.")
    rule.retry_after = retry_after
    latency = raw.get("latency_ms", [0, 0])
    if isinstance(latency, int):
        latency = [latency, latency]
    if (
        not isinstance(latency, list)
        or len(latency) != 2
        or not all(isinstance(v, int) and v >= 0 for v in latency)
        or latency[0] > latency[1]
    ):
        raise invalid("latency_ms must be [low, high] in milliseconds.")
    rule.latency_ms = (latency[0], latency[1])
    when = raw.get("when", "before")
    if when not in ("before", "after"):
        raise invalid("when must be 'before' or 'after'.")
    rule.when = when
    return rule


def apply_latency(delay: float) -> None:
    if delay > 0:
        time.sleep(delay)


router = Router()


@router.route("GET", "/_sandbox/health", auth="none")
def health(ctx: Context):
    return json_response({"status": "ok"})


@router.route("GET", "/_sandbox/counters", auth="operator")
def get_counters(ctx: Context):
    return json_response(ctx.counters.snapshot())


@router.route("DELETE", "/_sandbox/counters", auth="operator")
def reset_counters(ctx: Context):
    ctx.counters.reset()
    return empty_response()


@router.route("GET", "/_sandbox/faults", auth="operator")
def get_faults(ctx: Context):
    return json_response(ctx.faults.describe())


@router.route("PUT", "/_sandbox/faults", auth="operator")
def put_faults(ctx: Context):
    # Not ctx.body(): that turns a JSON list or broken JSON into {}, which would clear every rule.
    try:
        payload = json_decode(ctx.request.get_data(cache=True) or b"null")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise HttpError({"message": "Send a JSON object."}, 400)
    ctx.faults.configure(payload)
    return json_response(ctx.faults.describe())


@router.route("DELETE", "/_sandbox/faults", auth="operator")
def delete_faults(ctx: Context):
    ctx.faults.clear()
    return empty_response()


@router.route("GET", "/_sandbox/executor-builds", auth="operator")
def executor_builds(ctx: Context):
    """Every emulated script executor image build, oldest first, with its state now (a sandbox extension:
    ProcessMaker reports builds only over its websocket)."""
    return json_response({"builds": script_executors.builds(ctx.store)})


@router.route("POST", "/_sandbox/reset", auth="operator")
def reset_everything(ctx: Context):
    """Back to the seeded state (same clients, secrets and admin), counters zeroed, faults off, and the
    /oauth/token rate limits forgotten."""
    reset_store(ctx.store, ctx.settings)
    ctx.counters.reset()
    ctx.faults.clear()
    ctx.limiter.clear()
    return empty_response()
