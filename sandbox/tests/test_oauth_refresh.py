"""The refresh_token grant: rotation, reuse, scope narrowing and every "refresh token is invalid" hint."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import (
    BAD_REFRESH,
    INVALID_CLIENT,
    INVALID_REQUEST,
    INVALID_SCOPE,
    NOT_FOUND,
    UNAUTHENTICATED,
    api_status,
    assert_oauth_error,
    assert_token_success,
    execute,
    jwt_parts,
    password_form,
    post_token,
    query,
)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


def issue(sb: SandboxProcess, **overrides: str) -> dict:
    return assert_token_success(post_token(sb, password_form(sb, **overrides)), refresh=True)


def refresh_form(sb: SandboxProcess, refresh_token: object, **overrides: object) -> dict:
    client = sb.credentials["password_client"]
    form = {
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": client["client_id"], "client_secret": client["client_secret"],
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def test_refresh_rotates_both_tokens(sb: SandboxProcess) -> None:
    sb.reset_counters()
    first = issue(sb)
    second = assert_token_success(post_token(sb, refresh_form(sb, first["refresh_token"])), refresh=True)
    old_claims, new_claims = jwt_parts(first["access_token"])[1], jwt_parts(second["access_token"])[1]
    assert new_claims["jti"] != old_claims["jti"]
    assert (new_claims["sub"], new_claims["aud"], new_claims["scopes"]) == (
        old_claims["sub"], old_claims["aud"], old_claims["scopes"],
    )
    assert second["refresh_token"] != first["refresh_token"]

    # The old access token is revoked at once; the new one works.
    assert api_status(sb, first["access_token"]) == (401, UNAUTHENTICATED)
    assert api_status(sb, second["access_token"]) == (404, NOT_FOUND)
    revoked = query(sb, "SELECT revoked FROM oauth_access_tokens WHERE id = ?", (old_claims["jti"],))
    assert revoked == [{"revoked": 1}]
    refresh_rows = query(
        sb, "SELECT revoked FROM oauth_refresh_tokens WHERE access_token_id = ? ", (old_claims["jti"],)
    )
    assert refresh_rows == [{"revoked": 1}]

    # Reusing the old refresh token fails; the new one still rotates.
    response = post_token(sb, refresh_form(sb, first["refresh_token"]))
    assert_oauth_error(response, 401, "invalid_request", BAD_REFRESH, "Token has been revoked")
    assert_token_success(post_token(sb, refresh_form(sb, second["refresh_token"])), refresh=True)
    assert sb.counters()["tokens_issued"] == {"password": 1, "refresh_token": 2}


def test_json_refresh_request(sb: SandboxProcess) -> None:
    first = issue(sb)
    assert_token_success(post_token(sb, json=refresh_form(sb, first["refresh_token"])), refresh=True)


def test_missing_refresh_token(sb: SandboxProcess) -> None:
    for form in (refresh_form(sb, None), refresh_form(sb, "  ")):
        assert_oauth_error(post_token(sb, form), 400, "invalid_request", INVALID_REQUEST,
                           "Check the `refresh_token` parameter")
    response = post_token(sb, json=refresh_form(sb, 123))
    assert_oauth_error(response, 400, "invalid_request", INVALID_REQUEST, "Check the `refresh_token` parameter")


@pytest.mark.parametrize("garbage", ["garbage", "def50200" + "ab" * 100, "DEF50200zz", "00" * 200])
def test_undecryptable_refresh_token(sb: SandboxProcess, garbage: str) -> None:
    response = post_token(sb, refresh_form(sb, garbage))
    assert_oauth_error(response, 401, "invalid_request", BAD_REFRESH, "Cannot decrypt the refresh token")


def test_tampered_refresh_token(sb: SandboxProcess) -> None:
    token = issue(sb)["refresh_token"]
    middle = len(token) // 2
    flipped = token[:middle] + ("0" if token[middle] != "0" else "1") + token[middle + 1 :]
    response = post_token(sb, refresh_form(sb, flipped))
    assert_oauth_error(response, 401, "invalid_request", BAD_REFRESH, "Cannot decrypt the refresh token")


def test_refresh_token_of_another_client(sb: SandboxProcess) -> None:
    token = issue(sb)["refresh_token"]
    other = sb.credentials["authorization_code_client"]
    form = refresh_form(sb, token, client_id=other["client_id"], client_secret=other["client_secret"])
    assert_oauth_error(post_token(sb, form), 401, "invalid_request", BAD_REFRESH, "Token is not linked to client")


def test_client_id_type_must_match_the_one_the_token_was_issued_to(sb: SandboxProcess) -> None:
    # league compares with ===: a token issued to form client_id "2" is not linked to JSON client_id 2.
    token = issue(sb)["refresh_token"]
    form = refresh_form(sb, token)
    form["client_id"] = int(form["client_id"])
    assert_oauth_error(post_token(sb, json=form), 401, "invalid_request", BAD_REFRESH, "Token is not linked to client")
    assert_token_success(post_token(sb, refresh_form(sb, token)), refresh=True)


def test_client_authentication_still_applies(sb: SandboxProcess) -> None:
    token = issue(sb)["refresh_token"]
    assert_oauth_error(post_token(sb, refresh_form(sb, token, client_secret="wrong")), 401, "invalid_client",
                       INVALID_CLIENT)


def test_deleted_refresh_token_row_counts_as_revoked(sb: SandboxProcess) -> None:
    body = issue(sb)
    jti = jwt_parts(body["access_token"])[1]["jti"]
    execute(sb, "DELETE FROM oauth_refresh_tokens WHERE access_token_id = ?", (jti,))
    response = post_token(sb, refresh_form(sb, body["refresh_token"]))
    assert_oauth_error(response, 401, "invalid_request", BAD_REFRESH, "Token has been revoked")


def test_scopes_carry_over_and_may_only_narrow(sb: SandboxProcess) -> None:
    star = issue(sb, scope="*")
    # No scope (or an empty one) keeps the original scopes.
    kept = assert_token_success(post_token(sb, refresh_form(sb, star["refresh_token"], scope="")), refresh=True)
    assert jwt_parts(kept["access_token"])[1]["scopes"] == ["*"]
    # An empty array narrows to no scopes at all.
    narrowed = assert_token_success(post_token(sb, json=refresh_form(sb, kept["refresh_token"], scope=[])),
                                    refresh=True)
    assert jwt_parts(narrowed["access_token"])[1]["scopes"] == []
    # Widening again is refused.
    response = post_token(sb, refresh_form(sb, narrowed["refresh_token"], scope="*"))
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `*` scope")
    # An undefined scope is refused by the scope check itself.
    response = post_token(sb, refresh_form(sb, narrowed["refresh_token"], scope="read"))
    assert_oauth_error(response, 400, "invalid_scope", INVALID_SCOPE, "Check the `read` scope")
    # A refused refresh does not burn the token.
    assert_token_success(post_token(sb, refresh_form(sb, narrowed["refresh_token"])), refresh=True)


def test_a_refresh_token_from_another_database_cannot_be_decrypted(sb: SandboxProcess) -> None:
    with SandboxProcess() as other:
        foreign = assert_token_success(post_token(other, password_form(other)), refresh=True)["refresh_token"]
    response = post_token(sb, refresh_form(sb, foreign))
    assert_oauth_error(response, 401, "invalid_request", BAD_REFRESH, "Cannot decrypt the refresh token")
