"""pm_api and pm_token run in-process (as Ansible runs them: args in, JSON out) against a scripted
server on 127.0.0.1: check mode, changed, returns, failures, and secrets."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.pkce import (
    s256_challenge,
)
from ansible_collections.processmaker.core.plugins.modules import pm_api, pm_token
from unit_helpers import Reply, make_jwt, run_module, token_body

PASSWORD = "pa55-w0rd!"
SECRET = "cl13nt-s3cret"


@pytest.fixture
def run(monkeypatch):
    for name in ("PM_URL", "PM_TOKEN", "PM_USERNAME", "PM_PASSWORD", "PM_CLIENT_ID", "PM_CLIENT_SECRET",
                 "PM_API_PATH", "PM_GRANT_TYPE"):
        monkeypatch.delenv(name, raising=False)

    def run(module, args, check_mode=False):
        return run_module(module, {**args, "_ansible_check_mode": True} if check_mode else args)

    return run


def warnings_of(result):
    """Warning texts (ansible-core 2.19 returns structured warnings, older versions strings)."""
    return [w if isinstance(w, str) else w.get("event", {}).get("msg", "") for w in result.get("warnings", [])]


def bearer(sub="1", exp=4102444800.5):
    return make_jwt({"sub": sub, "exp": exp, "scopes": []})


# --- pm_api --------------------------------------------------------------------------------------

def test_get_returns_body_and_is_not_changed(server, run):
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [{"id": 1}], "meta": {"total": 1}}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users", "query": {"per_page": 1}})
    assert result["_rc"] == 0 and result["changed"] is False
    assert result["status"] == 200 and result["data"] == [{"id": 1}] and result["meta"] == {"total": 1}
    assert result["json"] == {"data": [{"id": 1}], "meta": {"total": 1}}
    assert result["url"] == server.url + "/api/1.0/users?per_page=1" and result["method"] == "GET"
    assert result["attempts"] == 1 and result["elapsed"] >= 0 and "Content-Type" in result["headers"]


def test_write_is_changed_and_sends_json(server, run):
    server.on("POST", "/api/1.0/groups", Reply(201, {"id": 4, "name": "ops"}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "method": "POST", "path": "groups",
                          "body": {"name": "ops"}, "status_code": [201]})
    assert result["changed"] is True and result["json"] == {"id": 4, "name": "ops"}
    assert server.seen("POST")[0].json == {"name": "ops"}


def test_check_mode_reports_writes_without_sending(server, run):
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "method": "DELETE", "path": "groups/4"},
                 check_mode=True)
    assert result["changed"] is True and "not sent" in result["msg"] and "status" not in result
    assert server.requests == []


def test_check_mode_still_reads(server, run):
    server.on("GET", "/api/1.0/groups", Reply(200, {"data": [], "meta": {}}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "groups"}, check_mode=True)
    assert result["status"] == 200 and result["changed"] is False


def test_unexpected_status_fails_with_one_line_and_the_decoded_error(server, run):
    server.on("POST", "/api/1.0/users", Reply(422, {"message": "The Username has already been taken.",
                                                     "errors": {"username": ["The Username has already been taken."]}}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "method": "POST", "path": "users",
                          "body": {"username": "admin"}})
    assert result["failed"] is True and "\n" not in result["msg"]
    assert result["msg"].startswith(f"POST {server.url}/api/1.0/users failed with HTTP 422")
    assert result["error"]["field_errors"] == {"username": ["The Username has already been taken."]}
    assert result["error"]["status"] == 422


def test_status_code_list(server, run):
    server.on("GET", "/api/1.0/users/99", Reply(404, {"error": "Not Found"}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users/99", "status_code": [200, 404]})
    assert result["_rc"] == 0 and result["status"] == 404


def test_all_pages(server, run):
    def respond(request):
        number = int(request.query["page"][0])
        items = [{"id": number * 2 - 1}, {"id": number * 2}] if number < 3 else [{"id": 5}]
        return Reply(200, {"data": items, "meta": {"current_page": number, "total": 5, "per_page": 2,
                                                   "total_pages": 3}})

    server.on("GET", "/api/1.0/users", respond)
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users", "all_pages": True,
                          "query": {"per_page": 2}})
    assert [u["id"] for u in result["data"]] == [1, 2, 3, 4, 5] and result["pages"] == 3
    assert result["json"]["data"] == result["data"] and result["meta"]["count"] == 5


def test_all_pages_over_max_items_fails_clearly(server, run):
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [{}], "meta": {"total": 50000, "total_pages": 500}}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users", "all_pages": True})
    assert result["failed"] and "50000 items, more than max_items=10000" in result["msg"]
    assert result["error"]["code"] == "too_many_items" and len(server.seen()) == 1


def test_all_pages_only_for_get(server, run):
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users", "all_pages": True,
                          "method": "POST"})
    assert result["failed"] and "all_pages only works with method=GET" in result["msg"]


def test_authorization_header_refused(server, run):
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users",
                          "headers": {"authorization": "Bearer x"}})
    assert result["failed"] and "access_token" in result["msg"]


def test_download_to_dest_is_changed_only_when_content_changes(server, run, tmp_path):
    server.on("GET", "/api/1.0/processes/1/bpmn", Reply(200, "<definitions/>", {"Content-Type": "application/xml"}))
    dest = tmp_path / "p.bpmn"
    args = {"url": server.url, "access_token": bearer(), "path": "processes/1/bpmn", "dest": str(dest)}
    first = run(pm_api, args, check_mode=True)
    assert first["changed"] is True and not dest.exists()
    second = run(pm_api, args)
    assert second["changed"] is True and dest.read_text() == "<definitions/>" and second["dest"] == str(dest)
    assert "content" not in second and "json" not in second
    assert run(pm_api, args)["changed"] is False


def test_multipart_upload(server, run, tmp_path):
    package = tmp_path / "process.json"
    package.write_text('{"type": "process_package"}')
    server.on("POST", "/api/1.0/processes/import", Reply(200, {"status": "ok"}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "method": "POST", "path": "processes/import",
                          "files": {"file": str(package)}, "form": {"queue": "1"}})
    assert result["json"] == {"status": "ok"}
    request = server.seen("POST")[0]
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="process.json"' in request.body and b'{"type": "process_package"}' in request.body
    assert b'name="queue"' in request.body


def test_upload_paths_are_expanded_like_type_path(server, run, tmp_path, monkeypatch):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "process.json").write_text('{"type": "process_package"}')
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PM_TEST_PACKAGE", "process.json")
    server.on("POST", "/api/1.0/processes/import", Reply(200, {"status": "ok"}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "method": "POST", "path": "processes/import",
                          "files": {"file": "~/$PM_TEST_PACKAGE"}})
    assert result["json"] == {"status": "ok"}
    body = server.seen("POST")[0].body
    assert b'name="file"; filename="process.json"' in body and b'{"type": "process_package"}' in body


def test_non_json_body_returned_as_content(server, run):
    server.on("GET", "/api/1.0/processes/1/bpmn", Reply(200, "<definitions/>", {"Content-Type": "application/xml"}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "processes/1/bpmn"})
    assert result["content"] == "<definitions/>" and "json" not in result


def test_environment_fills_in_and_task_wins(server, run, monkeypatch):
    server.on("GET", "/api/9/users", Reply(200, {"data": []}))
    server.on("GET", "/api/1.0/users", Reply(200, {"data": []}))
    monkeypatch.setenv("PM_URL", server.url)
    monkeypatch.setenv("PM_TOKEN", bearer())
    monkeypatch.setenv("PM_API_PATH", "/api/9")
    assert run(pm_api, {"path": "users"})["url"] == server.url + "/api/9/users"
    assert run(pm_api, {"path": "users", "api_path": "/api/1.0"})["url"] == server.url + "/api/1.0/users"


def test_bad_options_fail_with_one_line(server, run):
    result = run(pm_api, {"url": server.url, "path": "users", "grant_type": "password", "client_id": "2"})
    assert result["failed"] and result["msg"].startswith("grant_type=password needs username, password")


def test_secrets_from_the_environment_never_show(server, run, monkeypatch):
    # a careless server that echoes what it got
    server.on("POST", "/oauth/token", lambda request: Reply(400, {
        "error": "invalid_grant", "error_description": "bad login " + request.form["password"] + " / "
        + request.form["client_secret"]}))
    monkeypatch.setenv("PM_PASSWORD", PASSWORD)
    monkeypatch.setenv("PM_CLIENT_SECRET", SECRET)
    result = run(pm_api, {"url": server.url, "path": "users", "client_id": "2", "username": "admin"})
    assert result["failed"] and "invalid_grant" in result["msg"]
    assert PASSWORD not in result["_raw"] and SECRET not in result["_raw"]


def test_retry_warnings_reach_the_result(server, run):
    server.on("GET", "/api/1.0/users", Reply(503, {"message": "Service Unavailable"}), Reply(200, {"data": []}))
    result = run(pm_api, {"url": server.url, "access_token": bearer(), "path": "users", "retry_backoff": 0.01})
    assert result["attempts"] == 2
    assert any("got HTTP 503; retrying" in text for text in warnings_of(result)), result


# --- pm_token --------------------------------------------------------------------------------------

def password_args(server):
    return {"url": server.url, "client_id": "2", "client_secret": SECRET, "username": "admin", "password": PASSWORD}


def test_password_grant_returns_the_token(server, run):
    body = token_body(sub="1", expires_in=3600)
    server.on("POST", "/oauth/token", Reply(200, body))
    result = run(pm_token, password_args(server))
    assert result["changed"] is False
    assert result["access_token"] == body["access_token"] and result["refresh_token"] == body["refresh_token"]
    assert result["token_type"] == "Bearer" and result["grant_type"] == "password"
    assert 3590 <= result["expires_in"] <= 3600 and result["expires_at"].endswith("Z")
    assert isinstance(result["expires_at_epoch"], int)
    assert result["user"] == {"id": 1, "username": "admin"}
    assert PASSWORD not in result["_raw"] and SECRET not in result["_raw"]


def test_token_requests_run_in_check_mode(server, run):
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    assert "access_token" in run(pm_token, password_args(server), check_mode=True)


def test_wrong_password_fails_with_advice(server, run):
    server.on("POST", "/oauth/token", Reply(400, {"error": "invalid_grant",
                                                   "error_description": "The user credentials were incorrect.",
                                                   "message": "The user credentials were incorrect."}))
    result = run(pm_token, password_args(server))
    assert result["failed"] and "The user credentials were incorrect" in result["msg"]
    assert "Check username and password" in result["msg"]


def test_authorization_url_step(server, run):
    result = run(pm_token, {"url": server.url, "client_id": "3", "grant_type": "authorization_code",
                            "redirect_uri": "http://127.0.0.1:8976/callback", "scope": ["*"],
                            "authorize_params": {"prompt": "consent"}})
    assert result["changed"] is False and server.requests == []
    parts = urlsplit(result["authorization_url"])
    query = parse_qs(parts.query)
    assert parts.path == "/oauth/authorize"
    assert query["client_id"] == ["3"] and query["response_type"] == ["code"] and query["scope"] == ["*"]
    assert query["state"] == [result["state"]] and query["prompt"] == ["consent"]
    assert query["code_challenge"] == [s256_challenge(result["code_verifier"])]
    assert query["code_challenge_method"] == ["S256"]
    again = run(pm_token, {"url": server.url, "client_id": "3", "grant_type": "authorization_code"})
    assert again["state"] != result["state"] and again["code_verifier"] != result["code_verifier"]


def code_flow(server):
    server.on("POST", "/oauth/token", Reply(200, token_body(sub="7")))
    server.on("GET", "/api/1.0/users/7", Reply(200, {"id": 7, "username": "jane"}))
    return {"url": server.url, "client_id": "3", "client_secret": "code-client-s3cret",
            "redirect_uri": "http://127.0.0.1:8976/cb",
            "code_verifier": "v" * 43}


def test_code_exchange_from_the_callback_url_with_state_check(server, run):
    args = code_flow(server)
    result = run(pm_token, {**args, "callback_url": "http://127.0.0.1:8976/cb?code=def502abc&state=s1",
                            "expected_state": "s1"})
    assert result["_rc"] == 0 and result["grant_type"] == "authorization_code"
    assert result["user"] == {"id": 7, "username": "jane"}
    assert server.seen("POST")[0].form == {"grant_type": "authorization_code", "client_id": "3",
                                           "client_secret": "code-client-s3cret",
                                           "code": "def502abc", "redirect_uri": "http://127.0.0.1:8976/cb",
                                           "code_verifier": "v" * 43}


def test_state_mismatch_is_refused_before_any_request(server, run):
    args = code_flow(server)
    result = run(pm_token, {**args, "code": "def502abc", "received_state": "forged", "expected_state": "s1"})
    assert result["failed"] and "does not match expected_state" in result["msg"] and server.requests == []
    result = run(pm_token, {**args, "code": "def502abc", "expected_state": "s1"})
    assert result["failed"] and "no state came back" in result["msg"]


def test_denied_authorization(server, run):
    args = code_flow(server)
    url = ("http://127.0.0.1:8976/cb?state=s1&error=access_denied&error_description=The+resource+owner+or+"
           "authorization+server+denied+the+request.")
    result = run(pm_token, {**args, "callback_url": url, "expected_state": "s1"})
    assert result["failed"] and result["msg"].startswith("authorization failed: access_denied: The resource owner")
    assert server.requests == []


def test_given_token_is_validated_and_its_owner_returned(server, run):
    token = bearer(sub="5", exp=4102444800.5)
    server.on("GET", "/api/1.0/users/5", Reply(200, {"id": 5, "username": "ci-bot"}))
    result = run(pm_token, {"url": server.url, "access_token": token})
    assert result["valid"] is True and result["user"] == {"id": 5, "username": "ci-bot"}
    assert result["expires_at"] == "2100-01-01T00:00:00.500000Z" and "access_token" not in result
    assert server.seen()[0].headers["Authorization"] == "Bearer " + token


def test_revoked_token_fails_clearly(server, run):
    server.on("GET", "/api/1.0/users/5", Reply(401, {"error": "Unauthenticated."}))
    result = run(pm_token, {"url": server.url, "access_token": bearer(sub="5")})
    assert result["failed"] and "HTTP 401: Unauthenticated" in result["msg"] and "get a new one" in result["msg"]


class PatServer:
    """Just enough of /users/{user}/tokens to exercise create, exists, revoke."""

    def __init__(self, server, user_id=1):
        self.tokens = {}
        self.created = 0
        base = f"/api/1.0/users/{user_id}/tokens"
        server.on("GET", base, self.list)
        server.on("POST", base, self.create)
        self.server = server
        self.base = base

    def list(self, request):
        items = [t for t in self.tokens.values() if not t["revoked"]]
        return Reply(200, {"data": items, "meta": {"total": len(items), "total_pages": 1, "current_page": 1}})

    def create(self, request):
        self.created += 1
        token_id = f"{self.created:080x}"
        record = {"id": token_id, "name": request.json["name"], "user_id": 1, "client_id": 1, "scopes": [],
                  "revoked": False, "expires_at": "2027-01-31T12:34:56.000000Z"}
        self.tokens[token_id] = record
        self.server.on("DELETE", f"{self.base}/{token_id}", lambda _: self.revoke(token_id))
        return Reply(200, {"accessToken": make_jwt({"sub": "1", "exp": 1801398896.0, "jti": token_id}),
                           "token": record})

    def revoke(self, token_id):
        self.tokens[token_id]["revoked"] = True
        return Reply(204, b"")


def pat_args(server):
    server.on("POST", "/oauth/token", Reply(200, token_body(sub="1")))
    return {**password_args(server), "name": "ci-deploy"}


def test_personal_access_token_created_once(server, run):
    pats = PatServer(server)
    args = pat_args(server)
    created = run(pm_token, args)
    assert created["changed"] is True and created["access_token"].count(".") == 2
    assert created["grant_type"] == "personal_access" and created["token_type"] == "Bearer"
    assert created["personal_access_token"]["name"] == "ci-deploy"
    assert created["expires_at"] == "2027-01-31T12:34:56Z" and created["user"] == {"id": 1, "username": "admin"}
    again = run(pm_token, args)
    assert again["changed"] is False and "access_token" not in again
    assert again["personal_access_token"]["id"] == created["personal_access_token"]["id"]
    assert pats.created == 1


def test_personal_access_token_check_mode(server, run):
    pats = PatServer(server)
    result = run(pm_token, pat_args(server), check_mode=True)
    assert result["changed"] is True and "access_token" not in result and pats.created == 0


def test_personal_access_token_recreate_rotates(server, run):
    pats = PatServer(server)
    args = pat_args(server)
    first = run(pm_token, args)
    second = run(pm_token, {**args, "recreate": True})
    assert second["changed"] and second["revoked"] == [first["personal_access_token"]["id"]]
    assert pats.created == 2 and pats.tokens[first["personal_access_token"]["id"]]["revoked"]


def test_personal_access_token_revoked_by_name_then_unchanged(server, run):
    PatServer(server)
    args = pat_args(server)
    created = run(pm_token, args)
    gone = run(pm_token, {**args, "state": "absent"})
    assert gone["changed"] is True and gone["revoked"] == [created["personal_access_token"]["id"]]
    assert run(pm_token, {**args, "state": "absent"})["changed"] is False


def test_personal_access_token_revoked_by_id(server, run):
    PatServer(server)
    args = pat_args(server)
    token_id = run(pm_token, args)["personal_access_token"]["id"]
    server.on("GET", f"/api/1.0/users/1/tokens/{token_id}", Reply(200, {"id": token_id, "revoked": False}),
              Reply(200, {"id": token_id, "revoked": True}))
    by_id = {key: value for key, value in args.items() if key != "name"}
    assert run(pm_token, {**by_id, "token_id": token_id, "state": "absent"})["changed"] is True
    assert run(pm_token, {**by_id, "token_id": token_id, "state": "absent"})["changed"] is False


def test_personal_access_token_for_a_user_named_by_username(server, run):
    PatServer(server, user_id=12)
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [{"id": 3, "username": "ci-bot-old"},
                                                            {"id": 12, "username": "ci-bot"}],
                                                   "meta": {"total": 2, "total_pages": 1}}))
    result = run(pm_token, {**pat_args(server), "user": "ci-bot"})
    assert result["changed"] and result["user"] == {"id": 12, "username": "ci-bot"}
    assert server.seen("GET", "/api/1.0/users")[0].query["filter"] == ["ci-bot"]


def test_unknown_user_fails(server, run):
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [], "meta": {"total": 0, "total_pages": 1}}))
    result = run(pm_token, {**pat_args(server), "user": "nobody"})
    assert result["failed"] and "no user with username 'nobody'" in result["msg"]


def test_absent_needs_a_name_or_id(server, run):
    result = run(pm_token, {**password_args(server), "state": "absent"})
    assert result["failed"] and "needs name or token_id" in result["msg"]
