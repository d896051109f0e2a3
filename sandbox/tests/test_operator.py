"""The operator endpoints under /_sandbox: the key, request counters, fault injection, reset.

Every test runs against the session's real sandbox process, reset to its seed first.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from pm_sandbox.testing import SandboxProcess

KEY_HEADER = "X-Sandbox-Key"
FAULT_KINDS = "429, 500, 502, 503, 504, drop, empty, garbage, html, truncated"


@pytest.fixture
def sb(clean_sandbox: SandboxProcess) -> SandboxProcess:
    """The clean sandbox with an admin token already issued and the counters zeroed after that."""
    clean_sandbox.admin_token()
    clean_sandbox.reset_counters()
    return clean_sandbox


def operator(sb: SandboxProcess, method: str, path: str, key: str | None = "right", **kwargs: Any) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    if key == "right":
        headers[KEY_HEADER] = sb.credentials["operator_key"]
    elif key is not None:
        headers[KEY_HEADER] = key
    return requests.request(method, sb.url + "/_sandbox" + path, headers=headers, timeout=10, **kwargs)


def new_group(sb: SandboxProcess, name: str) -> requests.Response:
    return sb.api("POST", "/groups", json={"name": name, "description": "made by a test", "status": "ACTIVE"})


def group_names(sb: SandboxProcess, filter_text: str) -> list[str]:
    response = sb.api("GET", "/groups", params={"filter": filter_text, "per_page": 100})
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


# --- the operator key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/counters"), ("DELETE", "/counters"), ("GET", "/faults"), ("PUT", "/faults"),
     ("DELETE", "/faults"), ("POST", "/reset")],
)
@pytest.mark.parametrize("key", [None, "", "wrong-key"], ids=["no-header", "empty", "wrong"])
def test_operator_endpoints_need_the_key(sb: SandboxProcess, method: str, path: str, key: str | None) -> None:
    sb.set_faults([{"route": "GET /nowhere", "probability": 0.25}], seed=5)
    response = operator(sb, method, path, key=key, json={"rules": []})
    assert response.status_code == 401
    assert response.json() == {"message": "Missing or wrong X-Sandbox-Key header."}
    # Nothing happened: the rules are still there.
    assert operator(sb, "GET", "/faults").json()["rules"][0]["route"] == "GET /nowhere"


def test_health_needs_no_key(sb: SandboxProcess) -> None:
    response = operator(sb, "GET", "/health", key=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_key_is_not_a_bearer_token_and_a_token_is_not_the_key(sb: SandboxProcess) -> None:
    as_bearer = requests.get(
        sb.api_url + "/users", headers={"Authorization": f"Bearer {sb.credentials['operator_key']}"}, timeout=10
    )
    assert as_bearer.status_code == 401
    with_token = operator(sb, "GET", "/counters", key=None, headers={"Authorization": f"Bearer {sb.admin_token()}"})
    assert with_token.status_code == 401


# --- counters ------------------------------------------------------------------------------------


def test_counters_per_route_pattern_and_status(sb: SandboxProcess) -> None:
    admin_id = sb.credentials["admin"]["id"]
    assert sb.api("GET", f"/users/{admin_id}").status_code == 200
    assert sb.api("GET", f"/users/{admin_id}").status_code == 200
    assert sb.api("GET", "/users/999999").status_code == 404
    assert requests.get(sb.api_url + f"/users/{admin_id}", timeout=10).status_code == 401  # no token
    assert sb.api("GET", "/users").status_code == 200
    assert sb.api("GET", "/no_such_thing").status_code == 404  # the API fallback route
    assert requests.delete(sb.api_url + "/groups", timeout=10).status_code == 405
    assert requests.get(sb.url + "/nope", timeout=10).status_code == 404
    counters = sb.counters()
    assert counters["requests"] == {
        "GET /api/1.0/users/{user}": 4,
        "GET /api/1.0/users": 1,
        "GET /api/1.0/{fallbackPlaceholder}": 1,
        "DELETE /api/1.0/groups": 1,
        "GET /nope": 1,
    }
    assert counters["statuses"] == {
        "GET /api/1.0/users/{user}": {"200": 2, "404": 1, "401": 1},
        "GET /api/1.0/users": {"200": 1},
        "GET /api/1.0/{fallbackPlaceholder}": {"404": 1},
        "DELETE /api/1.0/groups": {"405": 1},
        "GET /nope": {"404": 1},
    }
    assert counters["total"] == 8
    assert counters["tokens_issued"] == {}
    assert counters["tokens_issued_total"] == 0
    assert counters["faults_injected"] == {}
    assert counters["faults_injected_total"] == 0


def test_tokens_issued_are_counted_by_grant(sb: SandboxProcess) -> None:
    sb.password_token()
    sb.password_token()
    refresh = sb.password_token()["refresh_token"]
    client = sb.credentials["password_client"]
    refreshed = requests.post(
        sb.token_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh, **client},
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text
    wrong = requests.post(
        sb.token_url,
        data={"grant_type": "password", "username": "admin", "password": "not-it", **client},
        timeout=10,
    )
    assert wrong.status_code == 400  # a refused grant issues nothing
    pat = sb.api("POST", f"/users/{sb.credentials['admin']['id']}/tokens", json={"name": "counted"})
    assert pat.status_code == 200, pat.text
    counters = sb.counters()
    assert counters["tokens_issued"] == {"password": 3, "refresh_token": 1, "personal_access": 1}
    assert counters["tokens_issued_total"] == 5
    assert counters["requests"]["POST /oauth/token"] == 5
    assert counters["statuses"]["POST /oauth/token"] == {"200": 4, "400": 1}


def test_operator_traffic_is_never_counted(sb: SandboxProcess) -> None:
    sb.api("GET", "/users")
    for _ in range(3):
        operator(sb, "GET", "/counters")
        operator(sb, "GET", "/faults")
        operator(sb, "GET", "/health", key=None)
        operator(sb, "GET", "/counters", key="wrong")
        operator(sb, "GET", "/nothing-here")
    counters = sb.counters()
    assert counters["total"] == 1
    assert counters["requests"] == {"GET /api/1.0/users": 1}


def test_deleting_the_counters_zeroes_them(sb: SandboxProcess) -> None:
    sb.api("GET", "/users")
    sb.password_token()
    assert sb.counters()["total"] == 2
    response = operator(sb, "DELETE", "/counters")
    assert response.status_code == 204
    assert response.content == b""
    assert sb.counters() == {
        "total": 0, "requests": {}, "statuses": {}, "tokens_issued": {}, "tokens_issued_total": 0,
        "faults_injected": {}, "faults_injected_total": 0,
    }


# --- fault kinds ---------------------------------------------------------------------------------


def only_fault(sb: SandboxProcess, kind: str, **extra: Any) -> None:
    sb.set_faults([{"route": "GET /api/1.0/users", "probability": 1, "kinds": [kind], **extra}])


@pytest.mark.parametrize(
    ("kind", "reason", "body"),
    [
        ("500", "Internal Server Error", {"message": "Server Error"}),
        ("502", "Bad Gateway", {"message": "Bad Gateway"}),
        ("503", "Service Unavailable", {"message": "Service Unavailable"}),
        ("504", "Gateway Timeout", {"message": "Gateway Timeout"}),
    ],
)
def test_status_faults_answer_that_status_with_a_json_body(
    sb: SandboxProcess, kind: str, reason: str, body: dict[str, str]
) -> None:
    only_fault(sb, kind)
    response = sb.api("GET", "/users")
    assert response.status_code == int(kind)
    assert response.reason == reason
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == body
    other = sb.api("GET", f"/users/{sb.credentials['admin']['id']}")  # another route: untouched
    assert other.status_code == 200
    counters = sb.counters()
    assert counters["faults_injected"] == {f"GET /api/1.0/users {kind}": 1}
    assert counters["statuses"]["GET /api/1.0/users"] == {kind: 1}


def test_429_fault_carries_retry_after(sb: SandboxProcess) -> None:
    only_fault(sb, "429", retry_after=17)
    response = sb.api("GET", "/users")
    assert response.status_code == 429
    assert response.reason == "Too Many Requests"
    assert response.headers["Retry-After"] == "17"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.json() == {"message": "Too Many Attempts."}


def test_drop_fault_closes_the_connection_without_an_answer(sb: SandboxProcess) -> None:
    log_start = sb.log_path.stat().st_size
    only_fault(sb, "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        sb.api("GET", "/users")
    sb.clear_faults()
    assert sb.api("GET", "/users").status_code == 200  # the server is fine afterwards
    counters = sb.counters()
    assert counters["faults_injected"] == {"GET /api/1.0/users drop": 1}
    assert counters["requests"]["GET /api/1.0/users"] == 2
    with open(sb.log_path, "rb") as log:
        log.seek(log_start)
        assert b"Traceback" not in log.read()  # the worker took the dropped socket in its stride


def test_garbage_fault_is_a_200_with_random_bytes(sb: SandboxProcess) -> None:
    only_fault(sb, "garbage")
    first, second = sb.api("GET", "/users"), sb.api("GET", "/users")
    for response in (first, second):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert len(response.content) == 64
        with pytest.raises(ValueError):
            json.loads(response.content)
    assert first.content != second.content


def test_html_fault_is_a_proxy_error_page(sb: SandboxProcess) -> None:
    only_fault(sb, "html")
    response = sb.api("GET", "/users")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text == (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    )


def test_truncated_fault_is_a_200_with_half_a_json_document(sb: SandboxProcess) -> None:
    only_fault(sb, "truncated")
    response = sb.api("GET", "/users")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b'{"data": [{"id": 1, "na'
    with pytest.raises(ValueError):
        response.json()


def test_empty_fault_is_a_200_with_no_body(sb: SandboxProcess) -> None:
    only_fault(sb, "empty")
    response = sb.api("GET", "/users")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == "0"
    assert response.content == b""


def test_faults_never_touch_the_operator_endpoints(sb: SandboxProcess) -> None:
    sb.set_faults([{"route": "*", "probability": 1, "kinds": ["500"]}])
    assert sb.api("GET", "/users").status_code == 500
    assert operator(sb, "GET", "/health", key=None).status_code == 200
    assert operator(sb, "GET", "/counters").status_code == 200
    assert operator(sb, "DELETE", "/faults").status_code == 204
    assert sb.api("GET", "/users").status_code == 200


# --- probability, seeds, latency, timing ------------------------------------------------------


def status_sequence(sb: SandboxProcess, seed: int, count: int = 40) -> list[int]:
    sb.set_faults([{"route": "GET /api/1.0/users", "probability": 0.4, "kinds": ["500", "503"]}], seed=seed)
    return [sb.api("GET", "/users").status_code for _ in range(count)]


def test_seeded_probability_is_deterministic(sb: SandboxProcess) -> None:
    first = status_sequence(sb, seed=1234)
    again = status_sequence(sb, seed=1234)
    assert first == again
    assert {200, 500, 503} == set(first)  # all three outcomes occur in 40 draws with this seed
    faults = sum(1 for status in first + again if status != 200)
    assert sb.counters()["faults_injected_total"] == faults
    other = status_sequence(sb, seed=99)
    assert other != first


def test_probability_zero_and_one(sb: SandboxProcess) -> None:
    sb.set_faults([{"route": "GET /api/1.0/users", "probability": 0, "kinds": ["500"]}], seed=1)
    assert [sb.api("GET", "/users").status_code for _ in range(10)] == [200] * 10
    sb.set_faults([{"route": "GET /api/1.0/users", "probability": 1, "kinds": ["500"]}], seed=1)
    assert [sb.api("GET", "/users").status_code for _ in range(10)] == [500] * 10


def test_latency_is_added(sb: SandboxProcess) -> None:
    sb.set_faults([{"route": "GET /api/1.0/users", "latency_ms": [600, 650]}])
    began = time.monotonic()
    slow = sb.api("GET", "/users")
    slow_took = time.monotonic() - began
    began = time.monotonic()
    fast = sb.api("GET", "/groups")  # not matched by the rule
    fast_took = time.monotonic() - began
    assert slow.status_code == 200 and fast.status_code == 200
    assert slow_took >= 0.6
    assert fast_took < 0.6
    assert sb.counters()["faults_injected_total"] == 0  # latency alone is not a fault


def test_when_after_means_the_write_landed(sb: SandboxProcess) -> None:
    sb.set_faults([{"route": "POST /api/1.0/groups", "probability": 1, "kinds": ["503"], "when": "after"}])
    lost = new_group(sb, "Written Anyway")
    assert lost.status_code == 503
    assert lost.json() == {"message": "Service Unavailable"}
    sb.clear_faults()
    assert group_names(sb, "Written Anyway") == ["Written Anyway"]
    retry = new_group(sb, "Written Anyway")  # what a naive retry meets
    assert retry.status_code == 422
    assert retry.json()["errors"] == {"name": ["The Name has already been taken."]}


def test_when_before_means_nothing_was_written(sb: SandboxProcess) -> None:
    sb.set_faults([{"route": "POST /api/1.0/groups", "probability": 1, "kinds": ["503"], "when": "before"}])
    lost = new_group(sb, "Never Written")
    assert lost.status_code == 503
    sb.clear_faults()
    assert group_names(sb, "Never Written") == []


def test_rules_switch_at_run_time(sb: SandboxProcess) -> None:
    sb.set_faults([{"route": "GET /api/1.0/users", "probability": 1, "kinds": ["500"]}])
    assert sb.api("GET", "/users").status_code == 500
    assert sb.api("GET", "/groups").status_code == 200
    sb.set_faults([{"route": "GET /api/1.0/groups*", "probability": 1, "kinds": ["429"]}])
    assert sb.api("GET", "/users").status_code == 200
    assert sb.api("GET", "/groups").status_code == 429
    described = operator(sb, "GET", "/faults")
    assert described.status_code == 200
    assert described.json() == {
        "seed": None,
        "rules": [
            {"route": "GET /api/1.0/groups*", "probability": 1.0, "kinds": ["429"], "retry_after": 1,
             "latency_ms": [0, 0], "when": "before"},
        ],
    }
    deleted = operator(sb, "DELETE", "/faults")
    assert deleted.status_code == 204
    assert operator(sb, "GET", "/faults").json() == {"seed": None, "rules": []}
    assert sb.api("GET", "/groups").status_code == 200


def test_first_matching_rule_wins_and_patterns_match_route_patterns(sb: SandboxProcess) -> None:
    sb.set_faults([
        {"route": "GET /api/1.0/users/{user}", "probability": 1, "kinds": ["504"]},
        {"route": "* /api/1.0/*", "probability": 1, "kinds": ["502"]},
    ])
    assert sb.api("GET", f"/users/{sb.credentials['admin']['id']}").status_code == 504
    assert sb.api("GET", "/users").status_code == 502
    assert new_group(sb, "Blocked").status_code == 502


# --- invalid rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"rules": [{"probability": 2}]}, "rules.0", "probability must be a number between 0 and 1."),
        ({"rules": [{"probability": "0.5"}]}, "rules.0", "probability must be a number between 0 and 1."),
        ({"rules": [{"kinds": ["418"]}]}, "rules.0", f"kinds must be a non-empty list of: {FAULT_KINDS}."),
        ({"rules": [{"kinds": []}]}, "rules.0", f"kinds must be a non-empty list of: {FAULT_KINDS}."),
        ({"rules": [{"when": "later"}]}, "rules.0", "when must be 'before' or 'after'."),
        ({"rules": [{"latency_ms": [5, 1]}]}, "rules.0", "latency_ms must be [low, high] in milliseconds."),
        ({"rules": [{"latency_ms": [1, 2, 3]}]}, "rules.0", "latency_ms must be [low, high] in milliseconds."),
        ({"rules": [{"retry_after": -1}]}, "rules.0", "retry_after must be a non-negative integer."),
        ({"rules": [{"colour": "red"}]}, "rules.0", "Unknown keys: colour."),
        ({"rules": ["500"]}, "rules.0", "Each rule must be an object."),
        ({"rules": [{"route": "*"}, {"probability": -0.1}]}, "rules.1",
         "probability must be a number between 0 and 1."),
        ({"rules": [], "seed": "abc"}, "seed", "The seed must be an integer."),
    ],
)
def test_bad_rules_are_refused_with_422_and_change_nothing(
    sb: SandboxProcess, payload: dict[str, Any], field: str, message: str
) -> None:
    sb.set_faults([{"route": "GET /kept", "probability": 0.5}], seed=3)
    before = operator(sb, "GET", "/faults").json()
    response = operator(sb, "PUT", "/faults", json=payload)
    assert response.status_code == 422
    assert response.json() == {"message": message, "errors": {field: [message]}}
    assert operator(sb, "GET", "/faults").json() == before


# --- reset ---------------------------------------------------------------------------------------


def test_reset_restores_the_seed_state(sb: SandboxProcess) -> None:
    admin = sb.credentials["admin"]
    old_token = sb.admin_token()
    assert new_group(sb, "Reset Me").status_code == 201
    user = sb.api(
        "POST", "/users",
        json={"username": "resetme", "firstname": "Re", "lastname": "Set", "email": "r@example.com",
              "status": "ACTIVE", "password": "Reset-me-1!"},
    )
    assert user.status_code == 201, user.text
    pat = sb.api("POST", f"/users/{admin['id']}/tokens", json={"name": "gone after reset"})
    assert pat.status_code == 200
    sb.set_faults([{"route": "GET /nowhere", "probability": 1}], seed=8)

    response = operator(sb, "POST", "/reset")
    assert response.status_code == 204
    assert response.content == b""

    assert operator(sb, "GET", "/faults").json() == {"seed": None, "rules": []}
    assert sb.counters()["total"] == 0
    # Tokens are gone with the reset; the seeded admin and clients still log in with the same secrets.
    assert sb.api("GET", "/users", token=old_token).status_code == 401
    assert sb.api("GET", "/users", token=pat.json()["accessToken"]).status_code == 401
    fresh = sb.password_token(admin["username"], admin["password"])["access_token"]
    users = sb.api("GET", "/users", token=fresh, params={"per_page": 100})
    assert users.status_code == 200
    assert [row["username"] for row in users.json()["data"]] == ["admin"]
    groups = sb.api("GET", "/groups", token=fresh)
    assert groups.json()["data"] == []
    assert groups.json()["meta"]["total"] == 0
    # Ids start again where a fresh database starts them.
    again = sb.api("POST", "/groups", token=fresh, json={"name": "First Again", "status": "ACTIVE"})
    assert again.status_code == 201
    assert again.json()["id"] == 1


@pytest.mark.parametrize("body", [b"[]", b"{not json", b"", b"null", b'"rules"'])
def test_a_body_that_is_not_a_json_object_keeps_the_rules(sb: SandboxProcess, body: bytes) -> None:
    sb.set_faults([{"route": "GET /kept", "probability": 0.5}], seed=3)
    response = operator(sb, "PUT", "/faults", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"message": "Send a JSON object."}
    assert operator(sb, "GET", "/faults").json()["rules"][0]["route"] == "GET /kept"
