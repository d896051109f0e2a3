"""ProcessMaker's guide "Getting an Access Token", run against the sandbox with requests + oauthlib.

The guide (``getting-an-access-token.txt`` in the shared reference folder) shows three grants and a
"Step 4" API call in Python. Written exactly as the guide writes them, the token requests fail
against a server that behaves like ProcessMaker (Passport on league/oauth2-server 8.5.5):

* ``prepare_request_body`` returns a *string*; ``requests.post(url, data=<str>)`` sends it without a
  ``Content-Type``, so the server parses no form fields, finds no ``grant_type`` and answers
  400 ``unsupported_grant_type``;
* ``LegacyApplicationClient.prepare_request_body(..., client_id=...)`` drops ``client_id`` unless
  ``include_client_id=True`` (oauthlib overwrites the keyword with its own and omits it by default),
  so even with the content type fixed the password grant gets 400 ``invalid_request``
  (hint: Check the `client_id` parameter);
* ``auth_url, _ = client.prepare_request_uri(...)`` unpacks a string (oauthlib returns just the URL).

The tests show each failure with the server's exact answer, then the corrected snippets working:
password grant, authorization code (driving /login and the consent page with a cookie session),
a personal access token, and Step 4 (``GET /api/1.0/users`` with ``Authorization: Bearer``).
The sandbox is plain HTTP on loopback, so OAUTHLIB_INSECURE_TRANSPORT is set for oauthlib.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oauthlib.oauth2 import LegacyApplicationClient, WebApplicationClient
from pm_sandbox.testing import SandboxProcess

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
UNSUPPORTED_GRANT = {
    "error": "unsupported_grant_type",
    "error_description": "The authorization grant type is not supported by the authorization server.",
    "hint": "Check that all required parameters have been provided",
    "message": "The authorization grant type is not supported by the authorization server.",
}
MISSING_CLIENT_ID = {
    "error": "invalid_request",
    "error_description": (
        "The request is missing a required parameter, includes an invalid parameter value, includes a "
        "parameter more than once, or is otherwise malformed."
    ),
    "hint": "Check the `client_id` parameter",
    "message": (
        "The request is missing a required parameter, includes an invalid parameter value, includes a "
        "parameter more than once, or is otherwise malformed."
    ),
}
ONE_YEAR_RANGE = (365 * 86400 - 1, 366 * 86400)  # Passport's P1Y, minus a second of latency, or a leap year


@pytest.fixture
def sb(clean_sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> SandboxProcess:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox speaks http on 127.0.0.1
    return clean_sandbox


class Forms(HTMLParser):
    """The forms of a page: (action, method, {name: value}) for each, in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), attributes.get("method", "get").upper(), {}))
        elif tag == "input" and self.forms and "name" in attributes:
            self.forms[-1][2][attributes["name"]] = attributes.get("value", "")


def step4(sb: SandboxProcess, access_token: str) -> requests.Response:
    """Step 4 as the guide writes it: only the Authorization header, <your-endpoint> = 1.0/users."""
    headers = {
        "Authorization": f"Bearer {access_token}",
    }
    return requests.get(f"{sb.url}/api/1.0/users", headers=headers, timeout=10)


def assert_step4_works(sb: SandboxProcess, access_token: str) -> None:
    response = step4(sb, access_token)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()  # print(response.json()) in the guide
    assert [row["username"] for row in body["data"]] == ["admin"]
    assert body["meta"]["total"] == 1


def assert_bearer_token(token_info: dict[str, Any], *, refresh: bool) -> None:
    expected = {"token_type", "expires_in", "access_token"} | ({"refresh_token"} if refresh else set())
    assert set(token_info) == expected
    assert token_info["token_type"] == "Bearer"
    assert ONE_YEAR_RANGE[0] <= token_info["expires_in"] <= ONE_YEAR_RANGE[1]


# --- Password grant --------------------------------------------------------------------------------


def test_password_grant_as_written_sends_no_form_and_gets_unsupported_grant_type(sb: SandboxProcess) -> None:
    client_id = sb.credentials["password_client"]["client_id"]
    client_secret = sb.credentials["password_client"]["client_secret"]
    admin = sb.credentials["admin"]
    # --- the guide, verbatim apart from the placeholders ---
    client = LegacyApplicationClient(client_id=client_id)
    token_url = sb.token_url
    token_data = client.prepare_request_body(
        username=admin["username"],
        password=admin["password"],
        client_id=client_id,
        client_secret=client_secret,
    )
    response = requests.post(token_url, data=token_data)
    token_info = response.json()
    # --- what happened ---
    assert isinstance(token_data, str)
    assert "Content-Type" not in response.request.headers
    assert response.status_code == 400
    assert token_info == UNSUPPORTED_GRANT
    assert "access_token" not in token_info  # print(f'Access token: {token_info["access_token"]}') -> KeyError


def test_password_grant_with_the_form_type_still_lacks_client_id(sb: SandboxProcess) -> None:
    client_id = sb.credentials["password_client"]["client_id"]
    client_secret = sb.credentials["password_client"]["client_secret"]
    admin = sb.credentials["admin"]
    client = LegacyApplicationClient(client_id=client_id)
    token_data = client.prepare_request_body(
        username=admin["username"], password=admin["password"], client_id=client_id, client_secret=client_secret,
    )
    assert "client_id" not in parse_qs(token_data)  # oauthlib dropped it: include_client_id defaults to False
    assert parse_qs(token_data)["client_secret"] == [client_secret]
    response = requests.post(sb.token_url, data=token_data, headers=FORM, timeout=10)
    assert response.status_code == 400
    assert response.json() == MISSING_CLIENT_ID


def test_password_grant_fixed(sb: SandboxProcess) -> None:
    client_id = sb.credentials["password_client"]["client_id"]
    client_secret = sb.credentials["password_client"]["client_secret"]
    admin = sb.credentials["admin"]
    client = LegacyApplicationClient(client_id=client_id)
    token_data = client.prepare_request_body(
        username=admin["username"],
        password=admin["password"],
        client_secret=client_secret,
        include_client_id=True,  # fix 1: oauthlib then sends client_id
    )
    response = requests.post(sb.token_url, data=token_data, headers=FORM, timeout=10)  # fix 2: form content type
    assert response.status_code == 200, response.text
    token_info = response.json()
    assert_bearer_token(token_info, refresh=True)
    client.parse_request_body_response(response.text)  # oauthlib accepts the answer as an RFC 6749 token response
    assert client.access_token == token_info["access_token"]
    assert_step4_works(sb, token_info["access_token"])


def test_password_grant_fixed_with_a_dict_body(sb: SandboxProcess) -> None:
    """The other common fix: let requests encode a dict (it then sets the form content type itself)."""
    client = sb.credentials["password_client"]
    admin = sb.credentials["admin"]
    response = requests.post(
        sb.token_url,
        data={"grant_type": "password", "username": admin["username"], "password": admin["password"], **client},
        timeout=10,
    )
    assert response.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert response.status_code == 200
    assert_bearer_token(response.json(), refresh=True)


# --- Authorization code grant -------------------------------------------------------------------


def authorize_in_browser(sb: SandboxProcess, auth_url: str) -> str:
    """What the user does in the browser: sign in, approve; returns the redirect back to the client."""
    browser = requests.Session()
    first = browser.get(auth_url, allow_redirects=False, timeout=10)
    assert first.status_code == 302
    assert first.headers["Location"] == sb.url + "/login"
    login_page = browser.get(sb.url + "/login", timeout=10)
    assert login_page.status_code == 200
    (action, method, fields), = Forms(login_page.text).forms
    # ProcessMaker's login form carries the session's CSRF token (_token) beside the two fields
    assert (action, method, set(fields)) == ("/login", "POST", {"_token", "username", "password"})
    admin = sb.credentials["admin"]
    signed_in = browser.post(
        sb.url + action, data={**fields, "username": admin["username"], "password": admin["password"]},
        allow_redirects=False, timeout=10,
    )
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == auth_url  # back to where the login was asked for
    consent = browser.get(auth_url, allow_redirects=False, timeout=10)
    assert consent.status_code == 200
    assert "Sandbox Authorization Code" in consent.text  # the client's name
    approve, deny = Forms(consent.text).forms
    assert (approve[0], approve[1]) == ("/oauth/authorize", "POST")
    assert deny[2]["_method"] == "DELETE"
    assert set(approve[2]) == {"state", "client_id", "auth_token"}
    answered = browser.post(sb.url + approve[0], data=approve[2], allow_redirects=False, timeout=10)
    assert answered.status_code == 302
    return answered.headers["Location"]


def test_authorization_code_as_written(sb: SandboxProcess) -> None:
    code_client = sb.credentials["authorization_code_client"]
    client = WebApplicationClient(client_id=code_client["client_id"])
    # The guide's first line unpacks a tuple, but prepare_request_uri returns the URL string.
    with pytest.raises(ValueError, match="too many values to unpack"):
        auth_url, _ = client.prepare_request_uri(
            sb.credentials["authorize_url"],
            redirect_uri=code_client["redirect_uri"],
            scope="<your-scope>",
        )
    auth_url = client.prepare_request_uri(sb.credentials["authorize_url"], redirect_uri=code_client["redirect_uri"])
    callback = authorize_in_browser(sb, auth_url)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    # The guide's exchange, verbatim: a string body without a content type.
    token_url = sb.token_url
    with pytest.warns(DeprecationWarning, match="`client_id` has been deprecated"):  # oauthlib >= 3.2
        token_data = client.prepare_request_body(
            code=code,
            client_id=code_client["client_id"],
            client_secret=code_client["client_secret"],
            redirect_uri=code_client["redirect_uri"],
        )
    response = requests.post(token_url, data=token_data)
    assert "Content-Type" not in response.request.headers
    assert response.status_code == 400
    assert response.json() == UNSUPPORTED_GRANT
    # WebApplicationClient does include client_id, so the content type is the only fault here:
    # with it, the same code (never seen by the server above) is exchanged.
    assert parse_qs(token_data)["client_id"] == [code_client["client_id"]]
    fixed = requests.post(token_url, data=token_data, headers=FORM, timeout=10)
    assert fixed.status_code == 200, fixed.text
    assert_bearer_token(fixed.json(), refresh=True)


def test_authorization_code_fixed(sb: SandboxProcess) -> None:
    code_client = sb.credentials["authorization_code_client"]
    client = WebApplicationClient(client_id=code_client["client_id"])
    state = "guide-state-42"
    # Fixed: prepare_request_uri returns the URL; ProcessMaker defines no scopes, so none is asked for.
    auth_url = client.prepare_request_uri(
        sb.credentials["authorize_url"], redirect_uri=code_client["redirect_uri"], state=state
    )
    query = parse_qs(urlsplit(auth_url).query)
    assert query == {
        "response_type": ["code"], "client_id": [code_client["client_id"]],
        "redirect_uri": [code_client["redirect_uri"]], "state": [state],
    }
    callback = authorize_in_browser(sb, auth_url)
    assert callback.startswith(code_client["redirect_uri"] + "?code=")
    code = client.parse_request_uri_response(callback, state=state)["code"]  # checks state too
    assert code.startswith("def50200")
    token_data = client.prepare_request_body(  # client_id comes from the client (include_client_id=True)
        code=code, client_secret=code_client["client_secret"], redirect_uri=code_client["redirect_uri"],
    )
    assert parse_qs(token_data)["client_id"] == [code_client["client_id"]]
    response = requests.post(sb.token_url, data=token_data, headers=FORM, timeout=10)
    assert response.status_code == 200, response.text
    assert_bearer_token(response.json(), refresh=True)
    token_info = client.parse_request_body_response(response.text)
    assert_step4_works(sb, token_info["access_token"])
    assert sb.counters()["tokens_issued"] == {"authorization_code": 1}
    # The code is single use.
    again = requests.post(sb.token_url, data=token_data, headers=FORM, timeout=10)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"
    assert again.json()["hint"] == "Authorization code has been revoked"


# --- Personal access token and Step 4 -----------------------------------------------------------


def test_personal_access_token(sb: SandboxProcess) -> None:
    admin_id = sb.credentials["admin"]["id"]
    created = requests.post(
        f"{sb.api_url}/users/{admin_id}/tokens",
        json={"name": "guide token"},
        headers={"Authorization": f"Bearer {sb.admin_token()}", "Accept": "application/json"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    personal_access_token = created.json()["accessToken"]
    assert created.json()["token"]["name"] == "guide token"
    # The guide's PAT snippet, verbatim apart from the placeholders.
    headers = {
        "Authorization": f"Bearer {personal_access_token}",
    }
    response = requests.get(f"{sb.url}/api/1.0/users", headers=headers)
    assert response.status_code == 200
    assert [row["username"] for row in response.json()["data"]] == ["admin"]
    revoked = requests.delete(
        f"{sb.api_url}/users/{admin_id}/tokens/{created.json()['token']['id']}",
        headers={"Authorization": f"Bearer {sb.admin_token()}"}, timeout=10,
    )
    assert revoked.status_code == 204
    assert requests.get(f"{sb.url}/api/1.0/users", headers=headers, timeout=10).status_code == 401


def test_step4_errors_are_json_even_without_an_accept_header(sb: SandboxProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        response = requests.get(f"{sb.url}/api/1.0/users", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {"error": "Unauthenticated."}
    missing = step4(sb, sb.admin_token()).url.replace("/users", "/no_such_endpoint")
    wrong_endpoint = requests.get(missing, headers={"Authorization": f"Bearer {sb.admin_token()}"}, timeout=10)
    assert wrong_endpoint.status_code == 404
    assert wrong_endpoint.json() == {"error": "Not Found"}
