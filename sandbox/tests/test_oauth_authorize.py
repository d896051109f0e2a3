"""The authorization-code flow driven like a browser (a requests.Session): /oauth/authorize
validation, login, consent, approve, deny, auto-approval, prompt=none/consent/login, PKCE, and
every failure of the code exchange."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import (
    INVALID_CLIENT,
    INVALID_GRANT,
    INVALID_REQUEST,
    NOT_FOUND,
    OPAQUE,
    UNAUTHENTICATED,
    UNSUPPORTED_GRANT,
    api_status,
    assert_oauth_error,
    assert_token_success,
    create_client,
    execute,
    jwt_parts,
    location_query,
    post_token,
    query,
)

DENIED = (
    "error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request."
    "&hint={hint}&message=The+resource+owner+or+authorization+server+denied+the+request."
)
# The example of RFC 7636 appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
VERIFIER_S256 = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture
def client(sb: SandboxProcess) -> dict[str, str]:
    """The seeded third-party (authorization code) client, with no tokens left from other tests."""
    execute(sb, "DELETE FROM oauth_access_tokens")
    return sb.credentials["authorization_code_client"]


class Browser:
    def __init__(self, sb: SandboxProcess) -> None:
        self.sb = sb
        self.http = requests.Session()

    def authorize(self, params: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.http.get(self.sb.url + "/oauth/authorize", params=params, allow_redirects=False, timeout=10,
                             **kwargs)

    def login(self, password: str | None = None) -> requests.Response:
        admin = self.sb.credentials["admin"]
        return self.http.post(self.sb.url + "/login", data={"username": admin["username"],
                                                            "password": password or admin["password"]},
                              allow_redirects=False, timeout=10)

    def consent(self, params: dict[str, Any]) -> str:
        """Open the consent page (logging in first if needed) and return its auth_token."""
        response = self.authorize(params)
        if response.status_code == 302 and response.headers["Location"] == self.sb.url + "/login":
            self.login()
            response = self.authorize(params)
        assert response.status_code == 200, response.text
        return re.search(r'name="auth_token" value="([^"]+)"', response.text).group(1)

    def answer(self, data: dict[str, Any], method: str = "POST") -> requests.Response:
        return self.http.request(method, self.sb.url + "/oauth/authorize", data=data, allow_redirects=False,
                                 timeout=10)

    def code(self, params: dict[str, Any]) -> str:
        auth_token = self.consent(params)
        response = self.answer({"state": params.get("state", ""), "client_id": params["client_id"],
                                "auth_token": auth_token})
        return location_query(response)["code"]


def params_for(client: dict[str, str], **extra: Any) -> dict[str, Any]:
    params = {"client_id": client["client_id"], "redirect_uri": client["redirect_uri"], "response_type": "code",
              "state": "xyz"}
    params.update(extra)
    return {key: value for key, value in params.items() if value is not None}


def exchange(sb: SandboxProcess, client: dict[str, str], code: str, **extra: Any) -> requests.Response:
    form = {"grant_type": "authorization_code", "client_id": client["client_id"],
            "client_secret": client["client_secret"], "redirect_uri": client["redirect_uri"], "code": code}
    form.update(extra)
    return post_token(sb, {key: value for key, value in form.items() if value is not None})


def invalid_request(response: requests.Response, parameter: str, hint: str | None = None) -> None:
    assert_oauth_error(response, 400, "invalid_request", INVALID_REQUEST, hint or f"Check the `{parameter}` parameter")


# -- login, consent, approve, exchange ------------------------------------------------------------------

def test_guest_logs_in_then_sees_the_consent_page(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    params = params_for(client)
    response = browser.authorize(params)
    assert response.status_code == 302
    assert response.headers["Location"] == sb.url + "/login"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("processmaker_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    guest_session = browser.http.cookies["processmaker_session"]

    form = browser.http.get(sb.url + "/login", timeout=10)
    assert form.status_code == 200
    assert form.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert '<label for="username">Username</label>' in form.text
    assert '<label for="password">Password</label>' in form.text
    assert "<script" not in form.text

    login = browser.login()
    assert login.status_code == 302
    assert login.headers["Location"] == sb.url + "/oauth/authorize?" + urlencode(params)
    assert browser.http.cookies["processmaker_session"] != guest_session  # regenerated at login
    rows = query(sb, "SELECT user_id FROM web_sessions WHERE id = ?", (browser.http.cookies["processmaker_session"],))
    assert rows == [{"user_id": sb.credentials["admin"]["id"]}]

    page = browser.http.get(login.headers["Location"], allow_redirects=False, timeout=10)
    assert page.status_code == 200
    assert "<strong>Sandbox Authorization Code</strong> is requesting permission to access your account." in page.text
    assert '<button type="submit">Authorize</button>' in page.text
    assert '<button type="submit" class="secondary">Cancel</button>' in page.text
    assert '<input type="hidden" name="_method" value="DELETE">' in page.text
    assert page.text.count('<input type="hidden" name="state" value="xyz">') == 2
    assert page.text.count(f'<input type="hidden" name="client_id" value="{client["client_id"]}">') == 2
    assert re.search(r'<input type="hidden" name="auth_token" value="[A-Za-z0-9]{16}">', page.text)


def test_full_flow_and_code_exchange(sb: SandboxProcess, client: dict[str, str]) -> None:
    sb.reset_counters()
    browser = Browser(sb)
    auth_token = browser.consent(params_for(client, scope="*"))
    approved = browser.answer({"state": "xyz", "client_id": client["client_id"], "auth_token": auth_token})
    assert approved.status_code == 302
    location = approved.headers["Location"]
    code = location_query(approved)["code"]
    assert location == f"{client['redirect_uri']}?code={code}&state=xyz"
    assert OPAQUE.fullmatch(code)
    assert query(sb, "SELECT scopes, revoked, user_id, client_id FROM oauth_auth_codes") == [
        {"scopes": '["*"]', "revoked": 0, "user_id": sb.credentials["admin"]["id"],
         "client_id": int(client["client_id"])},
    ]

    body = assert_token_success(exchange(sb, client, code), refresh=True)
    claims = jwt_parts(body["access_token"])[1]
    # "*" was asked for at /authorize and is stripped from authorization-code tokens.
    assert (claims["aud"], claims["sub"], claims["scopes"]) == (
        client["client_id"], str(sb.credentials["admin"]["id"]), [],
    )
    assert api_status(sb, body["access_token"]) == (404, NOT_FOUND)
    assert query(sb, "SELECT revoked FROM oauth_auth_codes") == [{"revoked": 1}]
    assert sb.counters()["tokens_issued"] == {"authorization_code": 1}

    # Single use.
    invalid_request(exchange(sb, client, code), "code", "Authorization code has been revoked")
    # The refresh token of an authorization-code token works like any other.
    refreshed = post_token(sb, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert_token_success(refreshed, refresh=True)


def test_failed_login_shows_the_form_again(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    browser.authorize(params_for(client))
    response = browser.login(password="wrong password")
    assert response.status_code == 200
    assert "These credentials do not match our records." in response.text
    assert 'name="username" value="admin"' in response.text
    assert browser.authorize(params_for(client)).headers["Location"] == sb.url + "/login"


def test_guest_expecting_json_gets_401(sb: SandboxProcess, client: dict[str, str]) -> None:
    response = Browser(sb).authorize(params_for(client), headers={"Accept": "application/json"})
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


def test_logout_ends_the_session(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    browser.consent(params_for(client))
    signed_in = browser.http.get(sb.url + "/login", timeout=10)
    assert "You are signed in as <strong>admin</strong>." in signed_in.text
    response = browser.http.post(sb.url + "/logout", allow_redirects=False, timeout=10)
    assert (response.status_code, response.headers["Location"]) == (302, sb.url + "/login")
    assert browser.authorize(params_for(client)).headers["Location"] == sb.url + "/login"


# -- /authorize validation (before any login) --------------------------------------------------------------

@pytest.mark.parametrize(
    "changes",
    [{"response_type": None}, {"response_type": "token"}, {"response_type": "CODE"}, {"client_id": None},
     {"client_id": "  "}],
    ids=["no-response-type", "implicit", "upper-case", "no-client-id", "blank-client-id"],
)
def test_authorize_without_code_response_type_or_client(sb: SandboxProcess, client: dict[str, str],
                                                         changes: dict) -> None:
    response = Browser(sb).authorize(params_for(client, **changes))
    assert_oauth_error(response, 400, "unsupported_grant_type", UNSUPPORTED_GRANT,
                       "Check that all required parameters have been provided")


def test_authorize_client_errors_are_json(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    for changes in ({"client_id": "9999"}, {"redirect_uri": "https://evil.example/cb"},
                    {"redirect_uri": "http://127.0.0.1:8976/other"}):
        assert_oauth_error(browser.authorize(params_for(client, **changes)), 401, "invalid_client", INVALID_CLIENT)
    two = create_client(sb, "Two Redirects", "http://127.0.0.1/a,http://127.0.0.1/b")
    assert_oauth_error(browser.authorize({"client_id": two, "response_type": "code"}), 401, "invalid_client",
                       INVALID_CLIENT)
    response = browser.http.get(sb.url + "/oauth/authorize?client_id=" + client["client_id"]
                                + "&response_type=code&redirect_uri[]=x", allow_redirects=False, timeout=10)
    invalid_request(response, "redirect_uri")


def test_loopback_redirect_ignores_the_port(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    other_port = "http://127.0.0.1:5555/callback"
    code = browser.code(params_for(client, redirect_uri=other_port))
    # The exchange must repeat the exact URI; the registered one (another port) no longer matches.
    invalid_request(exchange(sb, client, code), "redirect_uri", "Invalid redirect URI")
    assert_token_success(exchange(sb, client, code, redirect_uri=other_port), refresh=True)


def test_invalid_scope_redirects_without_state(sb: SandboxProcess, client: dict[str, str]) -> None:
    response = Browser(sb).authorize(params_for(client, scope="* read"))
    assert response.status_code == 302
    assert response.headers["Location"] == (
        client["redirect_uri"] + "?error=invalid_scope&error_description=The+requested+scope+is+invalid%2C+unknown"
        "%2C+or+malformed&hint=Check+the+%60read%60+scope&message=The+requested+scope+is+invalid%2C+unknown%2C+or"
        "+malformed"
    )
    with_query = create_client(sb, "Query Redirect", "https://app.example/cb?tenant=1")
    response = Browser(sb).authorize({"client_id": with_query, "response_type": "code", "scope": "x"})
    assert response.headers["Location"].startswith("https://app.example/cb?tenant=1&error=invalid_scope&")


def test_code_challenge_validation(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    response = browser.authorize(params_for(client, code_challenge=VERIFIER_S256, code_challenge_method="s256"))
    invalid_request(response, "code_challenge_method", "Code challenge method must be one of `S256`, `plain`")
    response = browser.authorize(params_for(client, code_challenge="short", code_challenge_method="S256"))
    invalid_request(response, "code_challenge", "Code challenge must follow the specifications of RFC-7636.")
    response = browser.authorize(params_for(client, code_challenge="x" * 129))
    invalid_request(response, "code_challenge", "Code challenge must follow the specifications of RFC-7636.")


# -- deny ----------------------------------------------------------------------------------------------------

def test_cancel_button_denies_with_state(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    auth_token = browser.consent(params_for(client))
    codes_before = query(sb, "SELECT COUNT(*) AS n FROM oauth_auth_codes")
    response = browser.answer({"_method": "DELETE", "state": "xyz", "client_id": client["client_id"],
                               "auth_token": auth_token})
    assert response.status_code == 302
    expected = client["redirect_uri"] + "?state=xyz&" + DENIED.format(hint="The+user+denied+the+request")
    assert response.headers["Location"] == expected
    assert query(sb, "SELECT COUNT(*) AS n FROM oauth_auth_codes") == codes_before  # no code was issued
    # The pending request is gone: answering again is a server error.
    again = browser.answer({"auth_token": auth_token})
    assert (again.status_code, "Server Error" in again.text) == (500, True)


def test_delete_method_denies_and_no_state_gives_question_ampersand(sb: SandboxProcess,
                                                                     client: dict[str, str]) -> None:
    browser = Browser(sb)
    auth_token = browser.consent(params_for(client, state=None))
    response = browser.answer({"auth_token": auth_token}, method="DELETE")
    assert response.headers["Location"] == (
        client["redirect_uri"] + "?&" + DENIED.format(hint="The+user+denied+the+request")
    )


def test_wrong_auth_token_and_missing_request(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    browser.consent(params_for(client))
    response = browser.answer({"auth_token": "not-the-token"})
    assert response.status_code == 403
    assert "The provided auth token for the request is different from the session auth token." in response.text
    # The mismatch cleared the pending request: approving now is a server error.
    response = browser.http.post(sb.url + "/oauth/authorize", headers={"Accept": "application/json"},
                                 allow_redirects=False, timeout=10)
    assert (response.status_code, response.json()) == (500, {"message": "Server Error"})
    browser.consent(params_for(client))
    response = browser.http.post(sb.url + "/oauth/authorize", data={"auth_token": "nope"},
                                 headers={"Accept": "application/json"}, allow_redirects=False, timeout=10)
    assert (response.status_code, response.json()) == (
        403, {"message": "The provided auth token for the request is different from the session auth token."},
    )


def test_approve_and_deny_need_a_login(sb: SandboxProcess) -> None:
    for method in ("POST", "DELETE"):
        response = Browser(sb).answer({"auth_token": "x"}, method=method)
        assert (response.status_code, response.headers["Location"]) == (302, sb.url + "/login")


# -- prompt and auto-approval ------------------------------------------------------------------------------

def test_auto_approve_when_a_token_exists_unless_prompt_consent(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    code = browser.code(params_for(client))
    assert_token_success(exchange(sb, client, code), refresh=True)
    response = browser.authorize(params_for(client, state="again"))
    query_string = location_query(response)
    assert list(query_string) == ["code", "state"] and query_string["state"] == "again"
    assert_token_success(exchange(sb, client, query_string["code"]), refresh=True)
    assert browser.authorize(params_for(client, prompt="consent")).status_code == 200
    # Once every token of the client is revoked, consent is asked again.
    execute(sb, "UPDATE oauth_access_tokens SET revoked = 1")
    assert browser.authorize(params_for(client)).status_code == 200


def test_prompt_none_for_a_guest(sb: SandboxProcess, client: dict[str, str]) -> None:
    response = Browser(sb).authorize(params_for(client, prompt="none"))
    assert response.status_code == 302
    assert response.headers["Location"] == (
        client["redirect_uri"] + "?state=xyz&" + DENIED.format(hint="Unauthenticated")
    )
    response = Browser(sb).authorize(params_for(client, prompt="none", state=None))
    assert response.headers["Location"] == client["redirect_uri"] + "?state=&" + DENIED.format(hint="Unauthenticated")


def test_prompt_none_for_a_user(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    browser.consent(params_for(client))  # logs in
    response = browser.authorize(params_for(client, prompt="none"))
    assert response.headers["Location"] == (
        client["redirect_uri"] + "?state=xyz&" + DENIED.format(hint="The+user+denied+the+request")
    )
    code = browser.code(params_for(client))
    assert_token_success(exchange(sb, client, code), refresh=True)
    assert "code" in location_query(browser.authorize(params_for(client, prompt="none")))


def test_prompt_login_forces_a_new_login(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    browser.consent(params_for(client))
    params = params_for(client, prompt="login")
    response = browser.authorize(params)
    assert response.headers["Location"] == sb.url + "/login"
    assert '<label for="username">' in browser.http.get(sb.url + "/login", timeout=10).text  # logged out
    login = browser.login()
    assert login.headers["Location"] == sb.url + "/oauth/authorize?" + urlencode(params)
    # Right after that login, the same request goes on to the consent page...
    assert browser.http.get(login.headers["Location"], allow_redirects=False, timeout=10).status_code == 200
    # ...and the next prompt=login asks again.
    assert browser.authorize(params).headers["Location"] == sb.url + "/login"


# -- PKCE ------------------------------------------------------------------------------------------------

def test_pkce_s256(sb: SandboxProcess, client: dict[str, str]) -> None:
    browser = Browser(sb)
    code = browser.code(params_for(client, code_challenge=VERIFIER_S256, code_challenge_method="S256"))
    invalid_request(exchange(sb, client, code), "code_verifier")
    invalid_request(exchange(sb, client, code, code_verifier="too-short"), "code_verifier",
                    "Code Verifier must follow the specifications of RFC-7636.")
    assert_oauth_error(exchange(sb, client, code, code_verifier="w" * 48), 400, "invalid_grant", INVALID_GRANT,
                       "Failed to verify `code_verifier`.")
    # Failed attempts do not use the code up.
    assert_token_success(exchange(sb, client, code, code_verifier=VERIFIER), refresh=True)


def test_pkce_plain_is_the_default_method(sb: SandboxProcess, client: dict[str, str]) -> None:
    code = Browser(sb).code(params_for(client, code_challenge=VERIFIER))
    assert_oauth_error(exchange(sb, client, code, code_verifier=VERIFIER_S256), 400, "invalid_grant", INVALID_GRANT,
                       "Failed to verify `code_verifier`.")
    assert_token_success(exchange(sb, client, code, code_verifier=VERIFIER), refresh=True)


def test_verifier_without_challenge_is_refused(sb: SandboxProcess, client: dict[str, str]) -> None:
    code = Browser(sb).code(params_for(client))
    invalid_request(exchange(sb, client, code, code_verifier=VERIFIER), "code_challenge",
                    "code_verifier received when no code_challenge is present")


def test_public_client_must_use_pkce(sb: SandboxProcess) -> None:
    public = {"client_id": create_client(sb, "Public App", "http://127.0.0.1/public-cb", secret=""),
              "redirect_uri": "http://127.0.0.1/public-cb"}
    browser = Browser(sb)
    invalid_request(browser.authorize(params_for(public)), "code_challenge",
                    "Code challenge must be provided for public clients")
    code = browser.code(params_for(public, code_challenge=VERIFIER_S256, code_challenge_method="S256"))
    response = post_token(sb, {"grant_type": "authorization_code", "client_id": public["client_id"], "code": code,
                               "redirect_uri": public["redirect_uri"], "code_verifier": VERIFIER})
    body = assert_token_success(response, refresh=True)
    assert jwt_parts(body["access_token"])[1]["aud"] == public["client_id"]


# -- code exchange failures --------------------------------------------------------------------------------

def test_exchange_parameter_errors(sb: SandboxProcess, client: dict[str, str]) -> None:
    invalid_request(exchange(sb, client, None), "code")
    invalid_request(exchange(sb, client, "garbage"), "code", "Cannot decrypt the authorization code")
    code = Browser(sb).code(params_for(client))
    invalid_request(exchange(sb, client, code, redirect_uri=None), "redirect_uri")
    assert_oauth_error(exchange(sb, client, code, client_secret="wrong"), 401, "invalid_client", INVALID_CLIENT)
    assert_oauth_error(exchange(sb, client, code, redirect_uri="https://evil.example/cb"), 401, "invalid_client",
                       INVALID_CLIENT)
    assert_token_success(exchange(sb, client, code), refresh=True)


def test_code_without_redirect_uri_must_be_exchanged_without_one(sb: SandboxProcess, client: dict[str, str]) -> None:
    code = Browser(sb).code(params_for(client, redirect_uri=None))
    invalid_request(exchange(sb, client, code), "redirect_uri", "Invalid redirect URI")
    assert_token_success(exchange(sb, client, code, redirect_uri=None), refresh=True)


def test_code_of_another_client(sb: SandboxProcess, client: dict[str, str]) -> None:
    code = Browser(sb).code(params_for(client))
    other = {"client_id": create_client(sb, "Other App", client["redirect_uri"]), "client_secret": "s3cret-s3cret",
             "redirect_uri": client["redirect_uri"]}
    invalid_request(exchange(sb, other, code), "code", "Authorization code was not issued to this client")
    # The same client named by a JSON number is "another client" too (league compares with ===).
    form = {"grant_type": "authorization_code", "client_id": int(client["client_id"]),
            "client_secret": client["client_secret"], "redirect_uri": client["redirect_uri"], "code": code}
    invalid_request(post_token(sb, json=form), "code", "Authorization code was not issued to this client")


def test_first_party_clients_cannot_exchange_codes(sb: SandboxProcess, client: dict[str, str]) -> None:
    code = Browser(sb).code(params_for(client))
    password_client = sb.credentials["password_client"]
    response = exchange(sb, {**password_client, "redirect_uri": "http://localhost"}, code)
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)
