"""The pm_token and pm_api lookups, loaded through Ansible's plugin loader: option precedence
(keyword > pm_* variable > PM_* environment), the shared cache, read-only pagination, errors.

Each test runs the lookups in a fresh Python process, as ansible-playbook's workers do: Ansible's
collection loader must own the ``ansible_collections`` package, which this test process already
imported from the checkout.
"""

from __future__ import annotations

import os

import pytest
from unit_helpers import Reply, make_jwt, run_lookups, token_body


@pytest.fixture
def lookups(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PM_")}
    env["PM_TOKEN_CACHE_DIR"] = str(tmp_path / "cache")

    def run(*calls, **extra_env):
        payload = [{"plugin": plugin, "terms": terms, "variables": variables, "kwargs": kwargs}
                   for plugin, terms, variables, kwargs in calls]
        return run_lookups(payload, {**env, **extra_env})

    return run


def call(plugin, terms=(), variables=None, **kwargs):
    return (plugin, list(terms), variables or {}, kwargs)


def login_vars(server):
    return {"pm_url": server.url, "pm_client_id": "2", "pm_client_secret": "cl13nt-s3cret", "pm_username": "admin",
            "pm_password": "pa55-w0rd!"}


def test_pm_token_reads_pm_variables_and_caches(server, lookups):
    body = token_body()
    server.on("POST", "/oauth/token", Reply(200, body))
    first, second = lookups(call("pm_token", variables=login_vars(server)), call("pm_token", variables=login_vars(server)))
    assert first == second == {"result": [body["access_token"]]}
    assert len(server.seen("POST")) == 1
    assert server.seen("POST")[0].form["username"] == "admin"
    # a later run (another process) still finds it
    assert lookups(call("pm_token", variables=login_vars(server))) == [{"result": [body["access_token"]]}]
    assert len(server.seen("POST")) == 1


def test_pm_token_without_cache_asks_every_time(server, lookups):
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    lookups(call("pm_token", variables=login_vars(server), cache=False),
            call("pm_token", variables={**login_vars(server), "pm_token_cache": False}))
    assert len(server.seen("POST")) == 2


def test_pm_token_returns_a_given_token_untouched(server, lookups):
    assert lookups(call("pm_token", variables={"pm_url": server.url}, access_token="my-pat")) == [
        {"result": ["my-pat"]}]
    assert server.requests == []


def test_keyword_beats_variable_beats_environment(server, lookups):
    for where in ("kw", "var", "env"):
        server.on("GET", f"/api/{where}/groups", Reply(200, {"where": where}))
    env = {"PM_URL": server.url, "PM_TOKEN": make_jwt({"sub": "1", "exp": 4102444800}), "PM_API_PATH": "/api/env"}
    results = lookups(
        call("pm_api", ["groups"]),
        call("pm_api", ["groups"], {"pm_api_path": "/api/var"}),
        call("pm_api", ["groups"], {"pm_api_path": "/api/var"}, api_path="/api/kw"),
        **env,
    )
    assert [r["result"] for r in results] == [[{"where": "env"}], [{"where": "var"}], [{"where": "kw"}]]


def test_variable_credentials_win_over_an_exported_token(server, lookups):
    body = token_body()
    server.on("POST", "/oauth/token", Reply(200, body))
    assert lookups(call("pm_token", variables=login_vars(server)), PM_TOKEN="exported-token") == [
        {"result": [body["access_token"]]}]


def test_pm_api_all_pages_and_several_terms(server, lookups):
    def respond(request):
        number = int(request.query["page"][0])
        return Reply(200, {"data": [{"id": number}], "meta": {"current_page": number, "total": 2,
                                                               "total_pages": 2}})

    server.on("GET", "/api/1.0/users", respond)
    server.on("GET", "/api/1.0/groups", Reply(200, {"data": [], "meta": {"total": 0, "total_pages": 1}}))
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    (result,) = lookups(call("pm_api", ["users", "groups"], login_vars(server), all_pages=True))
    assert result == {"result": [[{"id": 1}, {"id": 2}], []]}
    assert len(server.seen("POST")) == 1  # one token for both terms
    assert {r.method for r in server.requests} == {"GET", "POST"}


def test_pm_api_shares_the_token_cache_with_pm_token(server, lookups):
    body = token_body()
    server.on("POST", "/oauth/token", Reply(200, body))
    server.on("GET", "/api/1.0/users/1", Reply(200, {"id": 1}))
    lookups(call("pm_token", variables=login_vars(server)), call("pm_api", ["users/1"], login_vars(server)))
    assert len(server.seen("POST")) == 1
    assert server.seen("GET")[0].headers["Authorization"] == "Bearer " + body["access_token"]


def test_pm_api_renews_a_rejected_cached_token(server, lookups):
    first, second = token_body(), token_body()
    server.on("POST", "/oauth/token", Reply(200, first), Reply(200, second))
    server.on("GET", "/api/1.0/users/1", Reply(401, {"error": "Unauthenticated."}), Reply(200, {"id": 1}))
    results = lookups(call("pm_api", ["users/1"], login_vars(server)), call("pm_token", variables=login_vars(server)))
    assert results == [{"result": [{"id": 1}]}, {"result": [second["access_token"]]}]
    assert [r.form["grant_type"] for r in server.seen("POST")] == ["password", "refresh_token"]


def test_errors_are_one_line_without_secrets(server, lookups):
    server.on("POST", "/oauth/token", Reply(401, {"error": "invalid_client",
                                                   "error_description": "Client authentication failed"}))
    (result,) = lookups(call("pm_token", variables=login_vars(server)))
    text = result["error"]
    assert "Check client_id and client_secret" in text and "\n" not in text
    assert "pa55-w0rd!" not in text and "cl13nt-s3cret" not in text


def test_bad_usage_is_explained(server, lookups):
    results = lookups(
        call("pm_token", access_token="x"),
        call("pm_token", ["users"], {"pm_url": server.url}),
        call("pm_api", [], {"pm_url": server.url}),
        call("pm_token", variables={"pm_url": server.url, "pm_client_id": "3"}, grant_type="authorization_code"),
    )
    errors = [r["error"] for r in results]
    assert "url is required" in errors[0]
    assert "takes no terms" in errors[1]
    assert "needs at least one API path" in errors[2]
    assert "use the processmaker.core.pm_token module" in errors[3]
