"""The client and the auth strategies over a real socket: token requests, headers, 401 renewal,
URL building, pagination, and no secret in any message."""

from __future__ import annotations

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.pagination import (
    TooManyItems,
)
from unit_helpers import Reply, connection, token_body

SECRETS = {"client_secret": "cl13nt-s3cret", "password": "pa55-w0rd!"}


def password_login(url, **extra):
    return connection(url, client_id="2", username="admin", **SECRETS, **extra)


def oauth_error(status, error, description, hint=None):
    body = {"error": error, "error_description": description, "message": description}
    if hint:
        body["hint"] = hint
    return Reply(status, body)


def issued(**kwargs):
    body = token_body(**kwargs)
    return Reply(200, body), body


def client_for(options, warnings=None):
    return ProcessMakerClient.from_options(options, warn=(warnings.append if warnings is not None else None))


def assert_no_secrets(text, *extra):
    for secret in (*SECRETS.values(), *extra):
        assert secret not in text


# --- token requests ----------------------------------------------------------------------------

def test_password_grant_is_form_encoded_with_client_id_in_the_body(server):
    reply, body = issued()
    server.on("POST", "/oauth/token", reply)
    client = client_for(password_login(server.url, scope=["*"]))
    assert client.token.access_token == body["access_token"]
    (request,) = server.seen("POST", "/oauth/token")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers
    assert request.form == {"grant_type": "password", "client_id": "2", "client_secret": "cl13nt-s3cret",
                            "username": "admin", "password": "pa55-w0rd!", "scope": "*"}


def test_client_credentials_and_public_client(server):
    server.on("POST", "/oauth/token", Reply(200, token_body(sub=None, refresh=False)))
    client_for(connection(server.url, client_id="9", client_secret="x")).token  # noqa: B018
    assert server.seen()[-1].form == {"grant_type": "client_credentials", "client_id": "9", "client_secret": "x"}


def test_authorization_code_exchange_sends_code_verifier_and_redirect(server):
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    options = connection(server.url, client_id="3", grant_type="authorization_code")
    client = ProcessMakerClient.from_options(options, code="def502code", redirect_uri="http://127.0.0.1:8976/cb",
                                             code_verifier="v" * 43)
    client.token  # noqa: B018
    assert server.seen()[-1].form == {"grant_type": "authorization_code", "client_id": "3", "code": "def502code",
                                      "redirect_uri": "http://127.0.0.1:8976/cb", "code_verifier": "v" * 43}


def test_any_rfc6749_token_endpoint(server):
    server.on("POST", "/realms/x/protocol/openid-connect/token",
              Reply(200, {"access_token": "opaque", "token_type": "bearer", "expires_in": 300, "scope": "api"}))
    options = password_login("https://pm.invalid", token_url=server.url + "/realms/x/protocol/openid-connect/token")
    token = client_for(options).token
    assert (token.access_token, token.scopes, token.user_id) == ("opaque", ("api",), None)


def test_invalid_client_says_check_client_id_and_secret(server):
    server.on("POST", "/oauth/token", oauth_error(401, "invalid_client", "Client authentication failed"))
    with pytest.raises(ProcessMakerError) as caught:
        client_for(password_login(server.url)).token  # noqa: B018
    text = str(caught.value)
    assert text == (f"POST {server.url}/oauth/token failed with HTTP 401: invalid_client: Client authentication"
                    " failed. Check client_id and client_secret, and that this client may use the password grant")
    assert_no_secrets(text)


def test_token_endpoint_without_access_token(server):
    server.on("POST", "/oauth/token", Reply(200, {"token_type": "Bearer"}))
    with pytest.raises(ProcessMakerError, match="without an access_token. Check token_url"):
        client_for(password_login(server.url)).token  # noqa: B018


def test_html_login_page_instead_of_token_endpoint(server):
    server.on("POST", "/oauth/token", Reply(404, "<html><title>Page not found</title></html>",
                                            {"Content-Type": "text/html"}))
    with pytest.raises(ProcessMakerError) as caught:
        client_for(password_login(server.url)).token  # noqa: B018
    assert "HTML page instead of JSON (Page not found)" in str(caught.value) and "check token_url" in str(caught.value)


# --- API requests ------------------------------------------------------------------------------

def test_api_request_headers_and_json_body(server):
    reply, body = issued()
    server.on("POST", "/oauth/token", reply)
    server.on("POST", "/api/1.0/groups", Reply(201, {"id": 7, "name": "ops"}))
    response = client_for(password_login(server.url)).post("groups", json={"name": "ops"})
    assert (response.status, response.json, response.is_json) == (201, {"id": 7, "name": "ops"}, True)
    request = server.seen("POST", "/api/1.0/groups")[0]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer " + body["access_token"]
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {"name": "ops"}


def test_query_encoding(server):
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [], "meta": {}}))
    client = client_for(connection(server.url, access_token="t"))
    client.get("users", query={"status": "ACTIVE", "ids": [1, 2], "flag": True, "skip": None})
    assert server.seen()[-1].query == {"status": ["ACTIVE"], "ids": ["1", "2"], "flag": ["true"]}


@pytest.mark.parametrize(
    "path,expected",
    [
        ("users", "/api/1.0/users"),
        ("users/1/tokens", "/api/1.0/users/1/tokens"),
        ("/api/1.1/tasks", "/api/1.1/tasks"),
        ("/oauth/clients", "/oauth/clients"),
    ],
)
def test_url_for(path, expected):
    client = client_for(connection("https://pm.example.com/", access_token="t"))
    assert client.url_for(path) == "https://pm.example.com" + expected


def test_full_urls_only_to_the_same_server():
    client = client_for(connection("https://pm.example.com", access_token="t"))
    assert client.url_for("https://pm.example.com/api/1.0/users?page=2") == "https://pm.example.com/api/1.0/users?page=2"
    with pytest.raises(ProcessMakerError, match="refusing to send the access token to https://evil.example"):
        client.url_for("https://evil.example/steal")
    with pytest.raises(ProcessMakerError):
        client.url_for("http://pm.example.com/api")  # scheme downgrade


def test_expected_status(server):
    server.on("GET", "/api/1.0/users/1/tokens/abc", Reply(404, []))
    client = client_for(connection(server.url, access_token="t"))
    assert client.get("users/1/tokens/abc", expected_status=(200, 404)).status == 404
    with pytest.raises(ProcessMakerError) as caught:
        client.get("users/1/tokens/abc")
    assert caught.value.status == 404


def test_validation_error_is_decoded(server):
    server.on("POST", "/api/1.0/users", Reply(422, {"message": "The Username field is required.",
                                                     "errors": {"username": ["The Username field is required."]}}))
    with pytest.raises(ProcessMakerError) as caught:
        client_for(connection(server.url, access_token="t")).post("users", json={"password": "Secret-123!"})
    assert caught.value.field_errors == {"username": ["The Username field is required."]}
    assert "Secret-123!" not in str(caught.value)


def test_corrupt_body_on_a_write_is_reported_not_retried(server):
    server.on("POST", "/api/1.0/groups", Reply(201, b'{"id": 1, "na', {"Content-Type": "application/json"}))
    with pytest.raises(ProcessMakerError, match="not valid JSON"):
        client_for(connection(server.url, access_token="t")).post("groups", json={})
    assert len(server.seen("POST")) == 1


def test_non_json_body_is_kept_as_text(server):
    server.on("GET", "/api/1.0/processes/1/bpmn", Reply(200, "<definitions/>", {"Content-Type": "application/xml"}))
    response = client_for(connection(server.url, access_token="t")).get("processes/1/bpmn")
    assert (response.is_json, response.json, response.text) == (False, None, "<definitions/>")


# --- 401 and renewal ---------------------------------------------------------------------------

def test_401_renews_once_with_the_refresh_token(server):
    first_reply, first = issued()
    second_reply, second = issued()
    server.on("POST", "/oauth/token", first_reply, second_reply)
    server.on("GET", "/api/1.0/users", Reply(401, {"error": "Unauthenticated."}), Reply(200, {"data": []}))
    response = client_for(password_login(server.url)).get("users")
    assert response.status == 200
    grants = [r.form["grant_type"] for r in server.seen("POST", "/oauth/token")]
    assert grants == ["password", "refresh_token"]
    assert server.seen("POST", "/oauth/token")[1].form["refresh_token"] == first["refresh_token"]
    assert [r.headers["Authorization"] for r in server.seen("GET")] == [
        "Bearer " + first["access_token"], "Bearer " + second["access_token"]]


def test_401_after_renewal_fails_with_advice(server):
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    server.on("GET", "/api/1.0/users", Reply(401, {"error": "Unauthenticated."}))
    with pytest.raises(ProcessMakerError) as caught:
        client_for(password_login(server.url)).get("users")
    assert caught.value.status == 401 and len(server.seen("GET")) == 2
    assert "get a new one" in str(caught.value)


def test_a_given_token_cannot_be_renewed(server):
    server.on("GET", "/api/1.0/users", Reply(401, {"error": "Unauthenticated."}))
    with pytest.raises(ProcessMakerError) as caught:
        client_for(connection(server.url, access_token="revoked-pat")).get("users")
    assert len(server.seen()) == 1 and not server.seen("POST")
    assert "revoked-pat" not in str(caught.value)


def test_a_given_token_with_its_refresh_token_is_renewed(server):
    reply, _ = issued()
    server.on("POST", "/oauth/token", reply)
    server.on("GET", "/api/1.0/users", Reply(401, {"error": "Unauthenticated."}), Reply(200, {"data": []}))
    options = connection(server.url, access_token="old", refresh_token="r-old", client_id="2", client_secret="s")
    assert client_for(options).get("users").status == 200
    assert server.seen("POST")[0].form == {"grant_type": "refresh_token", "client_id": "2", "client_secret": "s",
                                           "refresh_token": "r-old"}


@pytest.mark.parametrize(
    "rejection",
    [
        oauth_error(401, "invalid_request", "The refresh token is invalid.", "Token has been revoked"),  # league 8
        oauth_error(400, "invalid_grant", "The refresh token is invalid.", "Token has been revoked"),  # league 9
    ],
)
def test_spent_refresh_token_falls_back_to_the_original_grant(server, rejection):
    first_reply, _ = issued()
    final_reply, final = issued()
    server.on("POST", "/oauth/token", first_reply, rejection, final_reply)
    server.on("GET", "/api/1.0/users", Reply(401, {"error": "Unauthenticated."}), Reply(200, {"data": []}))
    client = client_for(password_login(server.url))
    assert client.get("users").status == 200
    assert [r.form["grant_type"] for r in server.seen("POST")] == ["password", "refresh_token", "password"]
    assert server.seen("GET")[-1].headers["Authorization"] == "Bearer " + final["access_token"]


@pytest.mark.parametrize("lost", [Reply(502, "<html>Bad Gateway</html>"), Reply(500, {"message": "Server Error"})])
def test_lost_refresh_answer_falls_back_to_the_password_grant(server, lost):
    """The refresh's answer was lost, so the refresh token may be spent: sending it again could only be
    refused, but the password grant is safe to repeat."""
    first_reply, _ = issued()
    final_reply, final = issued()
    server.on("POST", "/oauth/token", first_reply, lost, final_reply)
    server.on("GET", "/api/1.0/users", Reply(401, {"error": "Unauthenticated."}), Reply(200, {"data": []}))
    client = client_for(password_login(server.url, retries=0))
    assert client.get("users").status == 200
    assert [r.form["grant_type"] for r in server.seen("POST")] == ["password", "refresh_token", "password"]
    assert server.seen("GET")[-1].headers["Authorization"] == "Bearer " + final["access_token"]


def test_refresh_token_grant_failure_is_reported(server):
    server.on("POST", "/oauth/token", oauth_error(401, "invalid_request", "The refresh token is invalid.",
                                                  "Token has been revoked"))
    options = connection(server.url, refresh_token="r-spent", client_id="2", client_secret="s")
    with pytest.raises(ProcessMakerError) as caught:
        client_for(options).get("users")
    text = str(caught.value)
    assert "The refresh token is invalid (Token has been revoked)" in text and "original grant" in text
    assert "r-spent" not in text


def test_expiring_token_is_renewed_before_the_request(server):
    first_reply, _ = issued(expires_in=0)  # already due: renewed before the next request
    second_reply, second = issued(expires_in=3600)
    server.on("POST", "/oauth/token", first_reply, second_reply)
    server.on("GET", "/api/1.0/users", Reply(200, {"data": []}))
    client = client_for(password_login(server.url))
    client.token  # noqa: B018
    client.get("users")
    assert [r.form["grant_type"] for r in server.seen("POST")] == ["password", "refresh_token"]
    assert server.seen("GET")[0].headers["Authorization"] == "Bearer " + second["access_token"]


def test_refresh_tokens_rotate(server):
    replies = [issued(expires_in=0) for _ in range(3)]
    server.on("POST", "/oauth/token", *[reply for reply, _ in replies])
    client = client_for(connection(server.url, refresh_token="r0", client_id="2", client_secret="s"))
    client.token  # noqa: B018
    client.token  # noqa: B018
    sent = [r.form["refresh_token"] for r in server.seen("POST")]
    assert sent == ["r0", replies[0][1]["refresh_token"]]


# --- pagination --------------------------------------------------------------------------------

def page(items, current, total, per_page):
    pages = -(-total // per_page)
    return {"data": items, "meta": {"current_page": current, "per_page": per_page, "total": total,
                                    "total_pages": pages, "last_page": pages, "count": len(items)}}


def paged_users(server, total, per_page):
    def respond(request):
        number = int(request.query.get("page", ["1"])[0])
        start = (number - 1) * per_page
        items = [{"id": i} for i in range(start + 1, min(total, start + per_page) + 1)]
        return Reply(200, page(items, number, total, per_page))

    server.on("GET", "/api/1.0/users", respond)


def test_all_pages_are_merged(server):
    paged_users(server, total=25, per_page=10)
    result = client_for(connection(server.url, access_token="t")).paginate("users", query={"per_page": 10,
                                                                                          "filter": "a"})
    assert [item["id"] for item in result.items] == list(range(1, 26))
    assert result.pages == 3 and result.meta["count"] == 25 and result.meta["pages_fetched"] == 3
    assert [r.query["page"] for r in server.seen()] == [["1"], ["2"], ["3"]]
    assert all(r.query["filter"] == ["a"] for r in server.seen())


def test_each_page_is_decoded_once(server, monkeypatch):
    """The transport checks a GET's JSON (to retry a corrupt body); the client reuses what it decoded."""
    from ansible_collections.processmaker.core.plugins.module_utils import (
        client as client_module,
    )
    from ansible_collections.processmaker.core.plugins.module_utils import (
        transport as transport_module,
    )

    decoded = []
    original = transport_module.parse_json_body

    def counting(body):
        decoded.append(len(body))
        return original(body)

    monkeypatch.setattr(transport_module, "parse_json_body", counting)
    monkeypatch.setattr(client_module, "parse_json_body", counting)
    paged_users(server, total=25, per_page=10)
    result = client_for(connection(server.url, access_token="t")).paginate("users", query={"per_page": 10})
    assert len(result.items) == 25 and len(decoded) == 3


def test_pagination_defaults_to_100_per_page(server):
    paged_users(server, total=3, per_page=100)
    client_for(connection(server.url, access_token="t")).paginate("users")
    assert server.seen()[0].query["per_page"] == ["100"]


def test_max_items_fails_before_fetching_everything(server):
    paged_users(server, total=250, per_page=10)
    with pytest.raises(TooManyItems) as caught:
        client_for(connection(server.url, access_token="t")).paginate("users", query={"per_page": 10}, max_items=100)
    assert len(server.seen()) == 1
    assert "250 items, more than max_items=100" in str(caught.value) and "narrow the query" in str(caught.value)


def test_max_items_without_a_total_counts_as_it_goes(server):
    def respond(request):
        number = int(request.query["page"][0])
        return Reply(200, {"data": [{"id": number * 10 + i} for i in range(10)],
                           "meta": {"current_page": number, "last_page": 5}})

    server.on("GET", "/api/1.0/users", respond)
    with pytest.raises(TooManyItems):
        client_for(connection(server.url, access_token="t")).paginate("users", max_items=25)
    assert len(server.seen()) == 3


def test_non_paginated_body_is_returned_as_is(server):
    server.on("GET", "/api/1.0/permissions", Reply(200, {"Users": [{"name": "view-users"}]}))
    result = client_for(connection(server.url, access_token="t")).paginate("permissions")
    assert not result.paginated and result.last_response.json == {"Users": [{"name": "view-users"}]}


def test_pagination_stops_on_an_empty_page(server):
    server.on("GET", "/api/1.0/users", Reply(200, page([{"id": 1}], 1, 30, 1)), Reply(200, page([], 2, 30, 1)))
    result = client_for(connection(server.url, access_token="t")).paginate("users")
    assert len(server.seen()) == 2 and len(result.items) == 1


# --- pages in flight (pm_resource's listing) ----------------------------------------------------------

def test_pages_in_flight_are_merged_in_order_and_counted_once(server):
    paged_users(server, total=95, per_page=10)
    result = client_for(connection(server.url, access_token="t")).paginate("users", query={"per_page": 10},
                                                                          concurrency=4)
    assert [item["id"] for item in result.items] == list(range(1, 96))
    assert result.pages == 10 and result.meta["pages_fetched"] == 10
    assert sorted(int(r.query["page"][0]) for r in server.seen()) == list(range(1, 11)), "each page once"


def test_pages_in_flight_stay_within_the_window(server):
    """A server announcing a billion pages, then an empty one: the walk stops there, a window past it at most."""
    def respond(request):
        number = int(request.query["page"][0])
        items = [{"id": number}] if number < 3 else []
        return Reply(200, {"data": items, "meta": {"current_page": number, "last_page": 10**9}})

    server.on("GET", "/api/1.0/users", respond)
    result = client_for(connection(server.url, access_token="t")).paginate("users", concurrency=4)
    assert [item["id"] for item in result.items] == [1, 2]
    assert 3 <= len(server.seen()) <= 3 + 4, [r.query["page"] for r in server.seen()]


def test_a_failed_page_in_flight_fails_the_listing_as_it_would_in_turn(server):
    def respond(request):
        number = int(request.query["page"][0])
        if number == 3:
            return Reply(404, {"message": "gone"})
        return Reply(200, page([{"id": number}], number, 6, 1))

    server.on("GET", "/api/1.0/users", respond)
    with pytest.raises(ProcessMakerError) as caught:
        client_for(connection(server.url, access_token="t")).paginate("users", concurrency=3)
    assert caught.value.status == 404


def test_one_page_in_flight_is_the_sequential_walk(server):
    paged_users(server, total=25, per_page=10)
    client_for(connection(server.url, access_token="t")).paginate("users", query={"per_page": 10}, concurrency=1)
    assert [r.query["page"] for r in server.seen()] == [["1"], ["2"], ["3"]]


# --- secrets ---------------------------------------------------------------------------------------

def test_warnings_and_errors_never_carry_secrets(server):
    server.on("POST", "/oauth/token", Reply(503, {"message": "Service Unavailable"}),
              oauth_error(400, "invalid_grant", "The user credentials were incorrect."))
    warnings = []
    with pytest.raises(ProcessMakerError) as caught:
        client_for(password_login(server.url), warnings).get("users?password=pa55-w0rd!")
    assert len(warnings) == 1
    for text in [*warnings, str(caught.value), repr(caught.value.to_dict())]:
        assert_no_secrets(text)
