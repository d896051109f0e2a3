"""Every error body shape becomes one ProcessMakerError with a one-line message and no secrets."""

from __future__ import annotations

import json

import pytest
import requests
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    connection_error,
    error_from_response,
)
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    Redactor,
    redact_text,
    redact_url,
)
from hypothesis import given
from hypothesis import strategies as st

API = "https://pm.example.com/api/1.0/users"
TOKEN_URL = "https://pm.example.com/oauth/token"


def decode(status, body, content_type="application/json", **kwargs):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    kwargs.setdefault("method", "GET")
    kwargs.setdefault("url", API)
    return error_from_response(status, content_type, raw, **kwargs)


def one_line(error):
    text = str(error)
    assert "\n" not in text and "\r" not in text
    return text


def test_processmaker_401():
    error = decode(401, {"error": "Unauthenticated."})
    assert (error.status, error.code, error.message) == (401, None, "Unauthenticated.")
    text = one_line(error)
    assert text.startswith("GET https://pm.example.com/api/1.0/users failed with HTTP 401: Unauthenticated")
    assert "get a new one" in text


def test_processmaker_404_and_empty_array_body():
    assert decode(404, {"error": "Not Found"}).message == "Not Found"
    error = decode(404, [])  # token show of an unknown id
    assert error.message == "the server sent no details ([])"
    assert "Check the path" in one_line(error)


def test_processmaker_403():
    error = decode(403, {"message": "Not authorized to view users."})
    assert error.message == "Not authorized to view users."
    assert "lacks the permission" in one_line(error)


def test_processmaker_422_with_field_errors():
    body = {"message": "The Username has already been taken. (and 1 more error)",
            "errors": {"username": ["The Username has already been taken."], "email": ["The Email field is required."]}}
    error = decode(422, body, method="POST")
    assert error.field_errors == {"username": ["The Username has already been taken."],
                                  "email": ["The Email field is required."]}
    text = one_line(error)
    assert "username: The Username has already been taken." in text and "email: The Email field is required." in text
    assert "Fix the fields" in text


def test_controller_422_with_non_list_errors_and_devlink_shape():
    assert decode(422, {"message": "x", "errors": {"processes": 3}}).field_errors == {"processes": ["3"]}
    error = decode(422, {"error": {"code": 422, "message": "Bundle invalid"}, "errors": {"name": ["bad"]}})
    assert error.message == "Bundle invalid" and error.field_errors == {"name": ["bad"]}


def test_pmql_and_server_error():
    assert decode(400, {"error": "PMQL error"}).message == "PMQL error"
    error = decode(500, {"message": "Server Error"})
    assert error.message == "Server Error" and "check its logs" in one_line(error)


def test_oauth_invalid_client_on_token_endpoint_says_check_client_id_and_secret():
    body = {"error": "invalid_client", "error_description": "Client authentication failed",
            "message": "Client authentication failed"}
    error = decode(401, body, method="POST", url=TOKEN_URL, token_endpoint=True, grant="password")
    assert error.code == "invalid_client"
    text = one_line(error)
    assert "POST https://pm.example.com/oauth/token failed with HTTP 401" in text
    assert "invalid_client: Client authentication failed" in text
    assert "Check client_id and client_secret" in text and "password grant" in text


def test_oauth_error_with_hint():
    body = {"error": "invalid_request", "error_description": "The refresh token is invalid.",
            "hint": "Token has been revoked", "message": "The refresh token is invalid."}
    error = decode(401, body, method="POST", url=TOKEN_URL, token_endpoint=True, grant="refresh_token")
    assert error.message == "The refresh token is invalid (Token has been revoked)"
    assert "spent (each use replaces it)" in one_line(error)


def test_oauth_invalid_grant_wrong_password():
    body = {"error": "invalid_grant", "error_description": "The user credentials were incorrect.",
            "message": "The user credentials were incorrect."}
    text = one_line(decode(400, body, method="POST", url=TOKEN_URL, token_endpoint=True, grant="password"))
    assert "Check username and password" in text


def test_authorization_code_problems_say_start_again():
    body = {"error": "invalid_request", "error_description": "The request is missing a required parameter.",
            "hint": "Authorization code has expired"}
    text = one_line(decode(400, body, method="POST", url=TOKEN_URL, token_endpoint=True, grant="authorization_code"))
    assert "HTTP 400: invalid_request: Authorization code has expired. The code is wrong" in text
    assert "start the flow again" in text and "missing a required parameter" not in text


def test_laravel_summary_suffix_dropped_when_fields_are_listed():
    body = {"message": "The Name field is required. (and 2 more errors)",
            "errors": {"name": ["The Name field is required."], "a": ["x"], "b": ["y"]}}
    assert decode(422, body).message == "The Name field is required."
    assert decode(422, {"message": "Odd (and 2 more errors)"}).message == "Odd (and 2 more errors)"


def test_bare_oauth_error_code():
    error = decode(400, {"error": "unsupported_grant_type"}, method="POST", url=TOKEN_URL, token_endpoint=True,
                   grant="implicit")
    assert error.code == "unsupported_grant_type" and "token_url" in one_line(error)


def test_html_proxy_page():
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    error = decode(502, page, "text/html")
    assert error.message == "the server sent an HTML page instead of JSON (502 Bad Gateway)"
    assert "<" not in one_line(error)


def test_html_without_title_and_without_content_type():
    page = b"<!DOCTYPE html><html><body><p>Upstream\n\n   timed out</p><script>var x=1;</script></body></html>"
    assert decode(504, page, "").message == "the server sent an HTML page instead of JSON (Upstream timed out)"


def test_empty_body():
    assert decode(503, b"").message == "the server sent an empty response body"
    assert decode(503, b"   \n").message == "the server sent an empty response body"


def test_truncated_json_is_not_quoted():
    body = b'{"token_type":"Bearer","access_token":"eyJhbGciOiJSUzI1NiJ9.SECRETPART'
    error = decode(500, body)
    assert error.message == f"the response body is not valid JSON ({len(body)} bytes, truncated or corrupt)"
    assert "SECRETPART" not in one_line(error)


def test_garbage_and_plain_text():
    assert "binary data" in decode(500, bytes(range(128, 192)), "application/octet-stream").message
    assert decode(500, b"upstream connect error", "text/plain").message == "the server said: upstream connect error"
    long = decode(500, b"x" * 1000, "text/plain").message
    assert len(long) < 260 and long.endswith("...")


def test_json_scalar_body():
    assert decode(500, "oops").message == '"oops"'


def test_one_line_even_when_the_server_sends_newlines():
    error = decode(422, {"message": "line one\nline two", "errors": {"a": ["x\ny"]}})
    assert one_line(error)


def test_url_secrets_redacted_in_errors():
    error = decode(401, {"error": "Unauthenticated."}, url=API + "?access_token=abc123&filter=ci&password=pw")
    text = one_line(error)
    assert "abc123" not in text and "pw&" not in text and "filter=ci" in text


def test_known_secrets_redacted_in_one_line():
    error = ProcessMakerError("token s3cr3t-token rejected", url=API, method="GET", status=401)
    assert "s3cr3t-token" not in error.one_line(Redactor(["s3cr3t-token"]))


def test_to_dict_is_structured():
    error = decode(422, {"message": "bad", "errors": {"name": ["required"]}}, method="POST")
    assert error.to_dict() == {"status": 422, "code": None, "message": "bad", "field_errors": {"name": ["required"]},
                               "method": "POST", "url": API}


def test_attempts_are_reported():
    error = decode(503, {"message": "Service Unavailable"}, attempts=4)
    assert "failed with HTTP 503 after 4 attempts" in one_line(error)


@pytest.mark.parametrize(
    "exc,summary,hint",
    [
        (requests.exceptions.SSLError("certificate verify failed"), "TLS error", "ca_path"),
        (requests.exceptions.ConnectTimeout("timed out"), "timed out", "raise timeout"),
        (requests.exceptions.ConnectionError("Connection refused"), "connection error", "Check url"),
    ],
)
def test_connection_errors(exc, summary, hint):
    error = connection_error(exc, method="GET", url=API + "?token=zzz")
    text = one_line(error)
    assert error.status is None and summary in text and hint in text and "zzz" not in text


def test_redact_url():
    assert redact_url("https://user:pw@pm.example.com/x?code=abc&state=s&page=2#frag") == (
        "https://********@pm.example.com/x?code=********&state=********&page=2#********"
    )
    assert redact_url("https://pm.example.com/api/1.0/users") == "https://pm.example.com/api/1.0/users"


@given(st.text(min_size=1, max_size=40))
def test_redact_url_never_leaks_a_secret_query_value(secret):
    from urllib.parse import parse_qs, urlencode, urlsplit

    url = "https://pm.example.com/api?" + urlencode({"filter": "x", "client_secret": secret, "refresh_token": secret})
    query = parse_qs(urlsplit(redact_url(url)).query, keep_blank_values=True)
    assert query == {"filter": ["x"], "client_secret": ["********"], "refresh_token": ["********"]}


def test_redact_text_replaces_longest_first():
    assert redact_text("abcdef abc", ["abc", "abcdef"]) == "******** ********"
    assert redact_text("a b", ["", None]) == "a b"
