"""POST /oauth/token: every grant's success shape and every failure of passport-wire §4.3."""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import (
    BAD_CREDENTIALS,
    HEX80,
    INVALID_CLIENT,
    INVALID_REQUEST,
    INVALID_SCOPE,
    ONE_YEAR,
    UNAUTHENTICATED,
    UNSUPPORTED_GRANT,
    api_status,
    assert_oauth_error,
    assert_token_success,
    create_client,
    execute,
    jwt_parts,
    password_form,
    post_token,
    private_key,
    query,
)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxProcess]:
    """A sandbox of this module's own: the tests revoke clients and soft-delete users."""
    with SandboxProcess() as process:
        yield process


def invalid_request(response: requests.Response, parameter: str, hint: str | None = None) -> None:
    assert_oauth_error(response, 400, "invalid_request", INVALID_REQUEST, hint or f"Check the `{parameter}` parameter")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# -- password grant: success ------------------------------------------------------------------------

def test_password_grant_issues_bearer_jwt_and_refresh_token(sb: SandboxProcess) -> None:
    body = assert_token_success(post_token(sb, password_form(sb)), refresh=True)
    header, claims = jwt_parts(body["access_token"])
    assert header == b'{"typ":"JWT","alg":"RS256"}'
    assert list(claims) == ["aud", "jti", "iat", "nbf", "exp", "sub", "scopes"]
    client_id = sb.credentials["password_client"]["client_id"]
    assert claims["aud"] == client_id
    assert claims["sub"] == str(sb.credentials["admin"]["id"])
    assert claims["scopes"] == []
    assert HEX80.fullmatch(claims["jti"])
    assert claims["iat"] == claims["nbf"]
    assert abs(claims["iat"] - time.time()) < 30
    assert round(claims["exp"] - claims["iat"]) == ONE_YEAR

    # Verifiable with the sandbox's key; the row exists with the same id.
    public = private_key(sb).public_key()
    decoded = jwt.decode(body["access_token"], public, algorithms=["RS256"], options={"verify_aud": False})
    assert decoded == claims
    row = query(sb, "SELECT * FROM oauth_access_tokens WHERE id = ?", (claims["jti"],))[0]
    assert (row["user_id"], row["client_id"], row["name"], row["scopes"], row["revoked"]) == (
        sb.credentials["admin"]["id"], int(client_id), None, "[]", 0,
    )
    assert api_status(sb, body["access_token"]) == (404, {"error": "Not Found"})


def test_password_grant_keeps_star_scope_and_accepts_scope_arrays(sb: SandboxProcess) -> None:
    body = assert_token_success(post_token(sb, password_form(sb, scope="*")), refresh=True)
    assert jwt_parts(body["access_token"])[1]["scopes"] == ["*"]
    body = assert_token_success(post_token(sb, json=password_form(sb, scope=["*", "*"])), refresh=True)
    assert jwt_parts(body["access_token"])[1]["scopes"] == ["*"]


def test_json_bodies_work_including_vendor_json_types(sb: SandboxProcess) -> None:
    assert_token_success(post_token(sb, json=password_form(sb)), refresh=True)
    response = requests.post(
        sb.token_url, data=json.dumps(password_form(sb)), headers={"Content-Type": "application/vnd.api+json"},
        timeout=10,
    )
    assert_token_success(response, refresh=True)


def test_a_json_number_client_id_is_accepted(sb: SandboxProcess) -> None:
    form = password_form(sb)
    form["client_id"] = int(form["client_id"])
    body = assert_token_success(post_token(sb, json=form), refresh=True)
    assert jwt_parts(body["access_token"])[1]["aud"] == str(form["client_id"])


def test_values_are_trimmed_except_the_password(sb: SandboxProcess) -> None:
    form = password_form(sb)
    padded = {key: f"  {value}\t" for key, value in form.items() if key != "password"}
    assert_token_success(post_token(sb, {**form, **padded}), refresh=True)
    response = post_token(sb, password_form(sb, password=" " + sb.credentials["admin"]["password"]))
    assert_oauth_error(response, 400, "invalid_grant", BAD_CREDENTIALS)


def test_username_matches_case_insensitively_like_mysql(sb: SandboxProcess) -> None:
    assert_token_success(post_token(sb, password_form(sb, username="ADMIN")), refresh=True)


def test_query_string_parameters_are_ignored(sb: SandboxProcess) -> None:
    form = password_form(sb)
    response = requests.post(sb.token_url, params=form, timeout=10)
    assert_oauth_error(response, 400, "unsupported_grant_type", UNSUPPORTED_GRANT,
                       "Check that all required parameters have been provided")
    without_client = {key: value for key, value in form.items() if key != "client_id"}
    response = requests.post(sb.token_url, params={"client_id": form["client_id"]}, data=without_client, timeout=10)
    invalid_request(response, "client_id")


def test_other_body_types_are_not_read(sb: SandboxProcess) -> None:
    response = requests.post(
        sb.token_url, data=json.dumps(password_form(sb)), headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert_oauth_error(response, 400, "unsupported_grant_type", UNSUPPORTED_GRANT,
                       "Check that all required parameters have been provided")


# -- grant_type ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("grant_type", [None, "", "implicit", "PASSWORD", "device_code"])
def test_missing_unknown_or_disabled_grant_type(sb: SandboxProcess, grant_type: str | None) -> None:
    response = post_token(sb, password_form(sb, grant_type=grant_type))
    assert_oauth_error(response, 400, "unsupported_grant_type", UNSUPPORTED_GRANT,
                       "Check that all required parameters have been provided")


def test_escaped_slashes_and_no_charset_in_error_json(sb: SandboxProcess) -> None:
    response = post_token(sb, password_form(sb, scope="a/b"))
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `a/b` scope")
    assert "a\\/b" in response.text


# -- client authentication ---------------------------------------------------------------------------

def test_missing_client_id(sb: SandboxProcess) -> None:
    invalid_request(post_token(sb, password_form(sb, client_id=None)), "client_id")
    invalid_request(post_token(sb, password_form(sb, client_id="   ")), "client_id")


def test_non_string_client_secret(sb: SandboxProcess) -> None:
    invalid_request(post_token(sb, json=password_form(sb, client_secret=12345)), "client_secret")
    invalid_request(post_token(sb, json=password_form(sb, client_secret=["x"])), "client_secret")


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "9999"},
        {"client_id": "abc"},
        {"client_secret": "wrong"},
        {"client_secret": None},
        {"client_secret": ""},
    ],
    ids=["unknown", "not-a-number", "wrong-secret", "no-secret", "empty-secret"],
)
def test_client_authentication_failures(sb: SandboxProcess, overrides: dict) -> None:
    response = post_token(sb, password_form(sb, **overrides))
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)


def test_client_not_allowed_this_grant(sb: SandboxProcess) -> None:
    # The authorization-code client is not a password client; the personal access client neither.
    for key in ("authorization_code_client", "personal_access_client"):
        client = sb.credentials[key]
        response = post_token(sb, password_form(sb, client_id=client["client_id"], client_secret=client["client_secret"]))
        assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)


def test_revoked_client_is_rejected(sb: SandboxProcess) -> None:
    client_id = create_client(sb, "Revoked Password Client", "http://localhost", password=True)
    form = password_form(sb, client_id=client_id, client_secret="s3cret-s3cret")
    assert_token_success(post_token(sb, form), refresh=True)
    execute(sb, "UPDATE oauth_clients SET revoked = 1 WHERE id = ?", (int(client_id),))
    assert_oauth_error(post_token(sb, form), 401, "invalid_client", INVALID_CLIENT)


def test_www_authenticate_only_when_an_authorization_header_was_sent(sb: SandboxProcess) -> None:
    client = sb.credentials["password_client"]
    form = password_form(sb, client_id=None, client_secret=None)
    response = post_token(sb, form, headers=basic(client["client_id"], "wrong"))
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT, www_authenticate='Basic realm="OAuth"')
    # Credentials from the body, but a Bearer header present: the challenge follows the header.
    response = post_token(sb, password_form(sb, client_secret="wrong"), headers={"Authorization": "Bearer abc"})
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT, www_authenticate='Bearer realm="OAuth"')


def test_basic_auth_is_a_fallback_per_parameter(sb: SandboxProcess) -> None:
    client = sb.credentials["password_client"]
    credentials = basic(client["client_id"], client["client_secret"])
    # Both from Basic.
    assert_token_success(post_token(sb, password_form(sb, client_id=None, client_secret=None), headers=credentials),
                         refresh=True)
    # client_id from the body, the secret from Basic.
    only_secret = basic("ignored", client["client_secret"])
    assert_token_success(post_token(sb, password_form(sb, client_secret=None), headers=only_secret), refresh=True)
    # The body wins over Basic: a wrong body secret fails even with the right Basic secret.
    response = post_token(sb, password_form(sb, client_secret="wrong"), headers=credentials)
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT, www_authenticate='Basic realm="OAuth"')


@pytest.mark.parametrize(
    "header",
    ["Basic " + base64.b64encode(b"no-colon").decode(), "Basic !!!not-base64!!!", "basic "
     + base64.b64encode(b"2:x").decode()],
    ids=["no-colon", "not-base64", "lowercase-scheme"],
)
def test_unusable_basic_headers_are_ignored(sb: SandboxProcess, header: str) -> None:
    response = post_token(sb, password_form(sb, client_id=None, client_secret=None), headers={"Authorization": header})
    invalid_request(response, "client_id")


def test_redirect_uri_on_the_token_request(sb: SandboxProcess) -> None:
    # Registered for the password client ("http://localhost"): fine.
    assert_token_success(post_token(sb, password_form(sb, redirect_uri="http://localhost")), refresh=True)
    response = post_token(sb, password_form(sb, redirect_uri="https://evil.example/cb"))
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)
    invalid_request(post_token(sb, json=password_form(sb, redirect_uri=["http://localhost"])), "redirect_uri")


# -- scopes -------------------------------------------------------------------------------------------

def test_unknown_scopes(sb: SandboxProcess) -> None:
    response = post_token(sb, password_form(sb, scope="* read"))
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `read` scope")
    response = post_token(sb, password_form(sb, scope="<b>'x'"))
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `&lt;b&gt;&#039;x&#039;` scope")
    response = post_token(sb, password_form(sb, scope="a,b"))  # a comma is not a delimiter
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `a,b` scope")
    response = post_token(sb, password_form(sb, scope="0"))  # PHP's empty("0")
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE,
                       "Specify a scope in the request or set a default scope")


def test_scope_of_the_wrong_type(sb: SandboxProcess) -> None:
    invalid_request(post_token(sb, json=password_form(sb, scope=5)), "scope")


def test_scopes_are_checked_before_the_user(sb: SandboxProcess) -> None:
    response = post_token(sb, password_form(sb, scope="nope", password="wrong"))
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `nope` scope")
    # ...and the client before the scopes.
    response = post_token(sb, password_form(sb, scope="nope", client_secret="wrong"))
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)


# -- password grant: failures -------------------------------------------------------------------------

def test_missing_username_or_password(sb: SandboxProcess) -> None:
    invalid_request(post_token(sb, password_form(sb, username=None)), "username")
    invalid_request(post_token(sb, password_form(sb, username="")), "username")
    invalid_request(post_token(sb, password_form(sb, password=None)), "password")
    invalid_request(post_token(sb, password_form(sb, password="")), "password")
    invalid_request(post_token(sb, json=password_form(sb, username=12)), "username")
    invalid_request(post_token(sb, json=password_form(sb, password=12)), "password")


def test_wrong_credentials(sb: SandboxProcess) -> None:
    assert_oauth_error(post_token(sb, password_form(sb, password="wrong")), 400, "invalid_grant", BAD_CREDENTIALS)
    assert_oauth_error(post_token(sb, password_form(sb, username="nobody")), 400, "invalid_grant", BAD_CREDENTIALS)


def test_soft_deleted_user_cannot_get_a_token(sb: SandboxProcess) -> None:
    password_hash = query(sb, "SELECT password FROM users WHERE username = 'admin'")[0]["password"]
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    execute(
        sb,
        "INSERT INTO users (uuid, email, password, firstname, lastname, username, created_at, updated_at, deleted_at)"
        " VALUES ('u-gone', 'gone@example.com', ?, 'Gone', 'User', 'gone', ?, ?, ?)",
        (password_hash, now, now, now),
    )
    response = post_token(sb, password_form(sb, username="gone"))
    assert_oauth_error(response, 400, "invalid_grant", BAD_CREDENTIALS)
    execute(sb, "UPDATE users SET deleted_at = NULL WHERE username = 'gone'")
    assert_token_success(post_token(sb, password_form(sb, username="gone")), refresh=True)


# -- client_credentials -------------------------------------------------------------------------------

def test_client_credentials_token_has_no_user_and_no_refresh_token(sb: SandboxProcess) -> None:
    client = sb.credentials["authorization_code_client"]
    form = {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]}
    body = assert_token_success(post_token(sb, form), refresh=False)
    claims = jwt_parts(body["access_token"])[1]
    assert (claims["aud"], claims["sub"], claims["scopes"]) == (client["client_id"], "", [])
    row = query(sb, "SELECT user_id, client_id FROM oauth_access_tokens WHERE id = ?", (claims["jti"],))[0]
    assert row == {"user_id": None, "client_id": int(client["client_id"])}
    # No user, so the token never passes auth:api.
    assert api_status(sb, body["access_token"]) == (401, UNAUTHENTICATED)

    body = assert_token_success(post_token(sb, {**form, "scope": "*"}), refresh=False)
    assert jwt_parts(body["access_token"])[1]["scopes"] == ["*"]


def test_client_credentials_failures(sb: SandboxProcess) -> None:
    client = sb.credentials["authorization_code_client"]
    form = {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": "wrong"}
    assert_oauth_error(post_token(sb, form), 401, "invalid_client", INVALID_CLIENT)
    public_id = create_client(sb, "Public Client", "http://127.0.0.1/cb", secret="")
    form = {"grant_type": "client_credentials", "client_id": public_id}
    assert_oauth_error(post_token(sb, form), 401, "invalid_client", INVALID_CLIENT)


# -- personal_access over HTTP --------------------------------------------------------------------------

def test_personal_access_grant_over_http(sb: SandboxProcess) -> None:
    client = sb.credentials["personal_access_client"]
    admin_id = sb.credentials["admin"]["id"]
    form = {
        "grant_type": "personal_access", "client_id": client["client_id"], "client_secret": client["client_secret"],
        "user_id": str(admin_id),
    }
    body = assert_token_success(post_token(sb, form), refresh=False)
    claims = jwt_parts(body["access_token"])[1]
    assert (claims["aud"], claims["sub"], claims["scopes"]) == (client["client_id"], str(admin_id), [])
    assert api_status(sb, body["access_token"]) == (404, {"error": "Not Found"})
    # Only a confidential personal access client may use it.
    password_client = sb.credentials["password_client"]
    response = post_token(sb, {**form, "client_id": password_client["client_id"],
                               "client_secret": password_client["client_secret"]})
    assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)


def test_counters_count_issued_tokens_per_grant(sb: SandboxProcess) -> None:
    sb.reset_counters()
    assert_token_success(post_token(sb, password_form(sb)), refresh=True)
    assert_token_success(post_token(sb, password_form(sb)), refresh=True)
    post_token(sb, password_form(sb, password="wrong"))
    client = sb.credentials["authorization_code_client"]
    post_token(sb, {"grant_type": "client_credentials", "client_id": client["client_id"],
                    "client_secret": client["client_secret"]})
    counters = sb.counters()
    assert counters["tokens_issued"] == {"password": 2, "client_credentials": 1}
    assert counters["statuses"]["POST /oauth/token"] == {"200": 3, "400": 1}


def test_get_on_the_token_endpoint_is_405(sb: SandboxProcess) -> None:
    response = requests.get(sb.token_url, timeout=10)
    assert response.status_code == 405
    assert response.json() == {"message": "The GET method is not supported for route oauth/token. "
                                          "Supported methods: POST."}
