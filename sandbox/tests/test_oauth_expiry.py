"""Lifetimes: access tokens, refresh tokens and authorization codes, with a sandbox that makes them short."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import (
    BAD_REFRESH,
    INVALID_REQUEST,
    NOT_FOUND,
    UNAUTHENTICATED,
    api_status,
    assert_oauth_error,
    assert_token_success,
    jwt_parts,
    location_query,
    password_form,
    post_token,
)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxProcess]:
    with SandboxProcess(["--token-ttl", "2", "--refresh-ttl", "1", "--code-ttl", "1"]) as process:
        yield process


def test_access_token_expires(sb: SandboxProcess) -> None:
    body = assert_token_success(post_token(sb, password_form(sb)), refresh=True, ttl=2)
    claims = jwt_parts(body["access_token"])[1]
    assert round(claims["exp"] - claims["iat"], 3) == 2
    assert api_status(sb, body["access_token"]) == (404, NOT_FOUND)
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.1)
    assert api_status(sb, body["access_token"]) == (401, UNAUTHENTICATED)


def test_refresh_token_expires(sb: SandboxProcess) -> None:
    body = assert_token_success(post_token(sb, password_form(sb)), refresh=True, ttl=2)
    time.sleep(2.1)  # expired once time() has passed the whole-second expire_time
    client = sb.credentials["password_client"]
    response = post_token(sb, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                               "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert_oauth_error(response, 401, "invalid_request", BAD_REFRESH, "Token has expired")


def test_authorization_code_expires(sb: SandboxProcess) -> None:
    client = sb.credentials["authorization_code_client"]
    browser = requests.Session()
    params = {"client_id": client["client_id"], "response_type": "code", "state": "s"}
    login = browser.get(sb.url + "/oauth/authorize", params=params, timeout=10)  # follows to the login form
    assert login.url == sb.url + "/login"
    consent = browser.post(sb.url + "/login", data={"username": sb.credentials["admin"]["username"],
                                                    "password": sb.credentials["admin"]["password"]}, timeout=10)
    auth_token = re.search(r'name="auth_token" value="([^"]+)"', consent.text).group(1)
    answer = browser.post(sb.url + "/oauth/authorize", data={"auth_token": auth_token, "state": "s",
                                                             "client_id": client["client_id"]},
                          allow_redirects=False, timeout=10)
    code = location_query(answer)["code"]
    time.sleep(2.1)
    response = post_token(sb, {"grant_type": "authorization_code", "client_id": client["client_id"],
                               "client_secret": client["client_secret"], "code": code})
    assert_oauth_error(response, 400, "invalid_request", INVALID_REQUEST, "Authorization code has expired")
