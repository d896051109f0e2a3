"""Garbage answers, property-based: a tiny HTTP server on 127.0.0.1 answers every request with a
hypothesis-generated status, content type and body (random bytes, HTML pages, truncated JSON,
nothing at all, JSON of the wrong shape: a list instead of an object, ``data`` that is no list,
``meta`` missing, huge numbers, NaN and Infinity, nested nulls; token responses without an
access_token, with ``expires_in`` as a string, a token_type that is not Bearer...).

The API client (GET, every page of a list, POST), the token requests of the grants, the pm_token
module and pm_resource's listing and writes get those answers. Only ``ProcessMakerError`` comes out
of the client, with a one-line message naming the endpoint; the modules end with exit_json or a
one-line fail_json, never a traceback; and no answer makes a call loop.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ApiResponse,
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.pagination import (
    PageCollection,
)
from ansible_collections.processmaker.core.plugins.modules import pm_resource, pm_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from property_runs import examples
from unit_helpers import connection, make_jwt, run_module

TOKEN = "garbage-test-token-5d4c3b2a1f"  # ours: never in a message
ISSUED = "server-issued-token-9a8b7c6d"  # what the server's bodies carry
SECRET = "cl13nt-s3cret-garbage"
PASSWORD = "pa55-w0rd-garbage"
# One retry, no backoff, half a second of budget: a Retry-After above it is not waited for.
FAST = {"retries": 1, "retry_backoff": 0.0, "retry_max_time": 0.5, "timeout": 5.0}
# Requests one call may make at most: 2 attempts per request, a first page, a few distinct pages,
# then a repeated page stops the listing.
MAX_REQUESTS_PER_CALL = 12


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: dict = field(default_factory=dict)


class GarbageServer:
    """Answers every request (any method, any path) with the next of ``answers``, the last one
    repeating; closes the connection after each answer, so a bad answer cannot poison the next."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with server.lock:
                    server.requests.append((self.command, self.path))
                    answer = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                self.close_connection = True
                self.send_response(answer.status)
                if answer.content_type:
                    self.send_header("Content-Type", answer.content_type)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, answers: list[Answer]) -> None:
        with self.lock:
            self.answers = list(answers)
            self.requests = []

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def garbage() -> Iterator[GarbageServer]:
    server = GarbageServer()
    yield server
    server.close()


# ---------------------------------------------------------------------------------------------
# What the server says

numbers = st.one_of(st.integers(-3, 5), st.integers(min_value=-(2**70), max_value=2**70),
                    st.sampled_from([10**30, 1e308, float("inf"), float("-inf"), float("nan"), 0.5, "3", "", None]))
leaves = st.one_of(st.none(), st.booleans(), numbers, st.floats(), st.text(max_size=20))
json_values = st.recursive(leaves, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=10)
rows = st.one_of(
    st.fixed_dictionaries({"id": numbers}, optional={
        "username": st.one_of(st.sampled_from(["jdoe", "admin", " JDOE "]), leaves),
        "name": st.one_of(st.sampled_from(["ops", "Forms"]), leaves), "key": st.sampled_from(["k", "other"]),
        "config": json_values, "format": st.sampled_from(["text", "boolean", "array", "object", "choice"]),
        "status": st.sampled_from(["ACTIVE", "INACTIVE", "x"]), "email": leaves, "deleted_at": leaves,
        "group_id": numbers, "member_id": numbers, "member_type": st.sampled_from(
            ["ProcessMaker\\Models\\User", "ProcessMaker\\Models\\Group", "x"]),
        "is_administrator": leaves, "is_system": leaves, "meta": json_values}),
    json_values,
)
metas = st.one_of(st.fixed_dictionaries({}, optional={
    "total": numbers, "total_pages": numbers, "last_page": numbers, "per_page": numbers, "current_page": numbers}),
    json_values)
pages = st.fixed_dictionaries({}, optional={"data": st.one_of(st.lists(rows, max_size=4), json_values),
                                            "meta": metas})
jwt = make_jwt({"sub": "1", "exp": 4102444800.5, "scopes": []})
token_bodies = st.fixed_dictionaries({}, optional={
    "access_token": st.one_of(st.just(jwt), st.just(ISSUED), st.sampled_from(["", "two words", "line\nbreak",
                                                                             "\u2603"]), json_values),
    "expires_in": st.one_of(st.integers(-10, 10**13), st.sampled_from(["3600", "1e400", "soon", 1e308,
                                                                       float("inf"), float("nan")]), json_values),
    "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "mac", "", "Bearer\r\nX-Evil: 1", "Bearer x"]),
                            json_values),
    "refresh_token": st.one_of(st.just("def50200" + "0" * 64), json_values),
    "scope": st.one_of(st.just("*"), json_values),
})


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()  # NaN and Infinity: Python reads them back


html_pages = st.builds(
    lambda title, text: (f"<!DOCTYPE html><html><head><title>{title}</title></head>"
                         f"<body><h1>{title}</h1><p>{text}</p></body></html>").encode(),
    st.sampled_from(["502 Bad Gateway", "Sign in", "", "Ω"]), st.text(max_size=40))
bodies = st.one_of(
    st.binary(max_size=200), html_pages, st.sampled_from([b"", b"  \n", b"null", b"[]", b"{}", b'""', b"<html>"]),
    st.tuples(json_values | pages, st.integers(0, 60)).map(lambda cut: dumps(cut[0])[: cut[1]]),  # truncated
    pages.map(dumps), token_bodies.map(dumps), json_values.map(dumps), rows.map(dumps),
)
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "application/problem+json",
                                 "text/html", "text/html; charset=utf-8", "text/plain", "application/octet-stream",
                                 ""])
statuses = st.one_of(st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500,
                                      502, 503, 504]), st.integers(200, 599))
extra_headers = st.fixed_dictionaries({}, optional={"Retry-After": st.sampled_from(
    ["0", "1", "soon", "-1", "99999", "Wed, 21 Oct 2015 07:28:00 GMT"])})
answers = st.builds(Answer, statuses, content_types, bodies, extra_headers)
answer_lists = st.lists(answers, min_size=1, max_size=3)

SETTINGS = settings(max_examples=examples(150), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------------------------
# The client


def outcome_of(call: Callable[[], Any], endpoint: str) -> Any:
    """The call's result, or its ProcessMakerError after checking the message: one line that names
    the endpoint. Any other exception propagates (and fails the test)."""
    try:
        return call()
    except ProcessMakerError as error:
        text = str(error)
        assert text and "\n" not in text and "\r" not in text, text
        assert endpoint in text, f"{endpoint} not in {text!r}"
        assert TOKEN not in text and SECRET not in text and PASSWORD not in text
        return error


def client_with(options: Any) -> ProcessMakerClient:
    return ProcessMakerClient.from_options(options)


@SETTINGS
@given(script=answer_lists)
def test_api_calls_get_a_result_or_a_one_line_error_naming_the_endpoint(garbage: GarbageServer,
                                                                       script: list[Answer]) -> None:
    client = client_with(connection(garbage.url, access_token=TOKEN, **FAST))
    for name, call, endpoint in (
        ("get", lambda: client.get("users", query={"per_page": 5}), "/api/1.0/users"),
        ("paginate", lambda: client.paginate("users"), "/api/1.0/users"),
        ("paginate-capped", lambda: client.paginate("groups", max_items=3), "/api/1.0/groups"),
        ("post", lambda: client.post("groups", json={"name": "ops"}), "/api/1.0/groups"),
        ("delete", lambda: client.delete("groups/1", expected_status=(204, 404)), "/api/1.0/groups/1"),
    ):
        garbage.serve(script)
        result = outcome_of(call, endpoint)
        assert len(garbage.requests) <= MAX_REQUESTS_PER_CALL, (name, garbage.requests)
        if isinstance(result, PageCollection):
            assert isinstance(result.items, list) and result.pages >= 1
            assert result.pages <= len(garbage.requests)
            assert not (name == "paginate-capped" and len(result.items) > 3)
        elif not isinstance(result, ProcessMakerError):
            assert isinstance(result, ApiResponse)
            assert result.status in (204, 404) if name == "delete" else 200 <= result.status < 300
            if result.is_json:
                json.dumps(result.json, allow_nan=True)
    client.close()


def test_a_server_that_ignores_the_page_parameter_cannot_make_a_listing_loop(garbage: GarbageServer) -> None:
    page = {"data": [{"id": 1}], "meta": {"total_pages": 10**18}}
    garbage.serve([Answer(200, "application/json", dumps(page))])
    client = client_with(connection(garbage.url, access_token=TOKEN, **FAST))
    with pytest.raises(ProcessMakerError) as caught:
        client.paginate("users")
    assert "page 2 repeats page 1: the server ignores the page parameter" in str(caught.value)
    assert len(garbage.requests) == 2


@pytest.mark.parametrize("status", [200, 201])
@pytest.mark.parametrize(("body", "content_type", "said"), [
    (b"", "application/json", "the server sent an empty response body instead of JSON"),
    (b"<html><title>Sign in</title></html>", "text/html",
     "the server sent an HTML page instead of JSON (Sign in), probably from a proxy or a login page"),
    (b'{"data": [{"id": 1, "na', "application/json", "the response body is not valid JSON (23 bytes, truncated or"),
    (bytes(range(128, 192)), "application/octet-stream", "the server sent 64 bytes of binary data instead of JSON"),
])
def test_a_listing_that_is_not_json_says_what_came_instead(garbage: GarbageServer, status: int, body: bytes,
                                                           content_type: str, said: str) -> None:
    garbage.serve([Answer(status, content_type, body)])
    client = client_with(connection(garbage.url, access_token=TOKEN, **dict(FAST, retries=0)))
    with pytest.raises(ProcessMakerError) as caught:
        client.paginate("users")
    text = str(caught.value)
    assert text.startswith(f"GET {garbage.url}/api/1.0/users") and said in text, text
    assert len(garbage.requests) == 1


# ---------------------------------------------------------------------------------------------
# Token requests

GRANTS = {
    "password": {"client_id": "2", "client_secret": SECRET, "username": "admin", "password": PASSWORD},
    "client_credentials": {"client_id": "2", "client_secret": SECRET},
    "refresh_token": {"client_id": "2", "refresh_token": "def50200" + "1" * 64},
}


@SETTINGS
@given(script=answer_lists, grant=st.sampled_from(sorted(GRANTS)))
def test_token_requests_get_a_token_or_a_one_line_error_naming_the_token_endpoint(
        garbage: GarbageServer, script: list[Answer], grant: str) -> None:
    garbage.serve(script)
    client = client_with(connection(garbage.url, **GRANTS[grant], **FAST))
    token = outcome_of(lambda: client.token, "/oauth/token")
    assert len(garbage.requests) <= 2
    if not isinstance(token, ProcessMakerError):
        # what pm_token returns and what the next request sends, whatever the server said
        result = token.to_result()
        json.dumps(result)
        assert isinstance(result["access_token"], str) and result["access_token"]
        assert result["expires_at"] is None or result["expires_at"].endswith("Z")
        header = token.authorization_header()
        assert "\n" not in header and "\r" not in header and header.isascii()
        garbage.serve(script[-1:])
        outcome_of(lambda: client.get("users/1"), "/api/1.0/users/1")
    client.close()


@pytest.mark.parametrize(("payload", "said"), [
    ({"token_type": "Bearer", "expires_in": 3600}, "without an access_token"),
    ({"access_token": 12345}, "no access_token"),
    ({"access_token": "two words"}, "not a bearer token"),
    ({"access_token": jwt, "token_type": "Bearer\r\nX-Evil: 1"}, "token_type"),
    ([{"access_token": jwt}], "without an access_token"),
])
def test_a_token_response_of_the_wrong_shape_is_refused(garbage: GarbageServer, payload: Any, said: str) -> None:
    garbage.serve([Answer(200, "application/json", dumps(payload))])
    client = client_with(connection(garbage.url, **GRANTS["password"], **FAST))
    with pytest.raises(ProcessMakerError) as caught:
        client.token  # noqa: B018
    text = str(caught.value)
    assert text.startswith(f"POST {garbage.url}/oauth/token failed with HTTP 200") and said in text, text
    assert "Check token_url" in text and "two words" not in text


@pytest.mark.parametrize("expires_in", ["1e400", 1e308, 10**13, "3600"])
def test_an_expiry_beyond_any_date_is_an_unknown_expiry(garbage: GarbageServer, expires_in: Any) -> None:
    body = {"access_token": ISSUED, "token_type": "Bearer", "expires_in": expires_in}
    garbage.serve([Answer(200, "application/json", dumps(body))])
    token = client_with(connection(garbage.url, **GRANTS["password"], **FAST)).token
    result = token.to_result()
    if expires_in == "3600":
        assert result["expires_in"] in (3599, 3600) and result["expires_at"].endswith("Z")
    else:
        assert result["expires_in"] is None and result["expires_at"] is None and result["expires_at_epoch"] is None


# ---------------------------------------------------------------------------------------------
# The modules, in-process




def assert_clean(result: dict, endpoints: tuple) -> None:
    assert result["_rc"] in (0, 1), result
    if result["_rc"] == 1:
        message = result["msg"]
        assert isinstance(message, str) and message and "\n" not in message and "Traceback" not in message, result
        assert "exception" not in result, result
        assert any(endpoint in message for endpoint in endpoints) or message.startswith("items["), message
    rendered = json.dumps(result)
    assert PASSWORD not in rendered and SECRET not in rendered


@pytest.fixture
def no_pm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [key for key in os.environ if key.startswith("PM_")]:
        monkeypatch.delenv(name)


@SETTINGS
@given(script=answer_lists, grant=st.sampled_from(sorted(GRANTS)), check_mode=st.booleans())
def test_pm_token_ends_cleanly_whatever_the_token_endpoint_says(garbage: GarbageServer, no_pm_env: None,
                                                               script: list[Answer], grant: str,
                                                               check_mode: bool) -> None:
    garbage.serve(script)
    args = {"url": garbage.url, **GRANTS[grant], **FAST, "_ansible_check_mode": check_mode}
    result = run_module(pm_token, args)
    assert_clean(result, ("/oauth/token", "/api/1.0/"))
    if result["_rc"] == 0:
        assert result["grant_type"] == grant and result["access_token"]


ITEMS = {
    "users": [{"username": "jdoe", "email": "jdoe@example.com", "firstname": "J", "lastname": "Doe",
               "password": "S3cret-pass!", "status": "ACTIVE"}],
    "groups": [{"name": "ops", "description": "Operations"}, {"name": "dev"}],
    "group_members": [{"group": "ops", "user": "jdoe"}],
    "environment_variables": [{"name": "API_KEY", "value": "v4lue-s3cret", "description": "key"}],
    "settings": [{"key": "k", "config": {"a": [1, None]}}],
    "process_categories": [{"name": "Forms"}],
}


@SETTINGS
@given(script=answer_lists, kind=st.sampled_from(sorted(ITEMS)), purge=st.booleans(), check_mode=st.booleans(),
       concurrency=st.sampled_from([1, 4]))
def test_pm_resource_ends_cleanly_whatever_the_listing_and_writes_get(
        garbage: GarbageServer, no_pm_env: None, script: list[Answer], kind: str, purge: bool, check_mode: bool,
        concurrency: int) -> None:
    garbage.serve(script)
    args = {"url": garbage.url, "access_token": TOKEN, **FAST, "kind": kind, "items": ITEMS[kind],
            "purge": purge and kind != "settings", "concurrency": concurrency, "_ansible_check_mode": check_mode,
            "_ansible_diff": True}
    result = run_module(pm_resource, args)
    assert_clean(result, ("/api/1.0/",))
    assert "v4lue-s3cret" not in json.dumps(result) and "S3cret-pass!" not in json.dumps(result)
    if not any(is_page(answer) for answer in script):
        # a listing that was no {data, meta} page never counts as "nothing there"
        assert result["_rc"] == 1, result


def is_page(answer: Answer) -> bool:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return False
    return (200 <= answer.status < 300 and isinstance(body, dict) and isinstance(body.get("data"), list)
            and isinstance(body.get("meta"), dict))
