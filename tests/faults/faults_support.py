"""Helpers of the fault scenarios: reading the sandbox's state and counters, recording figures.

Figures go to ``tests/output/reliability/<test>.json`` (and are printed) so that
docs/reliability.md can quote what was measured.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pm_sandbox.testing import SandboxProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURES_DIR = REPO_ROOT / "tests" / "output" / "reliability"
API_PREFIX = "/api/1.0"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def record_figures(name: str, figures: dict[str, Any]) -> Path:
    """Write the figures of one scenario as JSON and print them (pytest -s shows them)."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FIGURES_DIR / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\n{name}: {json.dumps(figures, indent=2, sort_keys=True)}")
    return path


def listing(sandbox: SandboxProcess, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of an API list (pages of 1000), as the admin, with faults off."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = sandbox.api("GET", path, params={"per_page": 1000, "page": page, **params})
        response.raise_for_status()
        body = response.json()
        items += body["data"]
        if page >= body["meta"]["last_page"]:
            return items
        page += 1


def api_requests(counters: dict[str, Any]) -> dict[str, int]:
    """Requests served per ``METHOD /route`` under /api/1.0."""
    return {key: n for key, n in counters["requests"].items() if key.split(" ", 1)[1].startswith(API_PREFIX)}


def api_writes(counters: dict[str, Any]) -> dict[str, int]:
    return {key: n for key, n in api_requests(counters).items() if key.split(" ", 1)[0] in WRITE_METHODS}


def faults_by_kind(counters: dict[str, Any]) -> dict[str, int]:
    """``faults_injected`` ("METHOD /route kind": n) summed per kind."""
    kinds: Counter[str] = Counter()
    for key, count in counters["faults_injected"].items():
        kinds[key.rsplit(" ", 1)[1]] += count
    return dict(sorted(kinds.items()))


def faults_by_route(counters: dict[str, Any]) -> dict[str, int]:
    routes: Counter[str] = Counter()
    for key, count in counters["faults_injected"].items():
        routes[key.rsplit(" ", 1)[0]] += count
    return dict(sorted(routes.items()))


def duplicates(values: list[Any]) -> dict[Any, int]:
    return {value: n for value, n in Counter(values).items() if n > 1}


def one_line_message(outcome: dict[str, Any]) -> str:
    """The msg of a failed task: one line, no traceback."""
    assert outcome.get("failed") is True, outcome
    message = outcome.get("msg")
    assert isinstance(message, str) and message.strip(), outcome
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    assert "Traceback" not in message and "Traceback" not in str(outcome.get("exception", "")), outcome
    return message


ATTEMPTS = re.compile(r"after (\d+) attempts")
