"""The auth:api guard, checked on the API fallback route (404 with a valid token, 401 without)."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_oauth_support import (
    NOT_FOUND,
    UNAUTHENTICATED,
    api_status,
    assert_token_success,
    create_client,
    execute,
    jwt_parts,
    password_form,
    post_token,
    sign,
)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


def token(sb: SandboxProcess, **overrides: str) -> str:
    return assert_token_success(post_token(sb, password_form(sb, **overrides)), refresh=True)["access_token"]


def crafted(sb: SandboxProcess, **claims: object) -> str:
    """A token signed with the sandbox's key, for a real row, with chosen claims."""
    base = jwt_parts(token(sb))[1]
    base.update(claims)
    return sign(sb, base)


def test_valid_token_passes(sb: SandboxProcess) -> None:
    assert api_status(sb, token(sb)) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "bearer {t}", "BEARER {t}", "Token {t}", "Basic {t}", "{t}", "Bearer\t{t}",
     "Bearer {t}x", "Bearer 0"],
)
def test_missing_or_malformed_authorization(sb: SandboxProcess, header: str | None) -> None:
    access = token(sb)
    value = None if header is None else header.replace("{t}", access)
    if value is None:
        assert api_status(sb, None) == (401, UNAUTHENTICATED)
    else:
        assert api_status(sb, None, header=value) == (401, UNAUTHENTICATED)


def test_extra_spaces_after_bearer_are_trimmed(sb: SandboxProcess) -> None:
    access = token(sb)
    assert api_status(sb, None, header="Bearer   " + access + "  ") == (404, NOT_FOUND)


def test_bad_signatures(sb: SandboxProcess) -> None:
    access = token(sb)
    head, payload, signature = access.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert api_status(sb, f"{head}.{payload}.{flipped}") == (401, UNAUTHENTICATED)
    # Same claims, another key.
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert api_status(sb, sign(sb, jwt_parts(access)[1], other_key)) == (401, UNAUTHENTICATED)
    # alg "none".
    unsigned = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"none"}').decode().rstrip("=")
    assert api_status(sb, f"{unsigned}.{payload}.") == (401, UNAUTHENTICATED)
    assert api_status(sb, "not-a-jwt") == (401, UNAUTHENTICATED)


def test_times_are_checked_exactly_without_leeway(sb: SandboxProcess) -> None:
    now = time.time()
    assert api_status(sb, crafted(sb, exp=now - 0.5)) == (401, UNAUTHENTICATED)
    assert api_status(sb, crafted(sb, nbf=now + 30)) == (401, UNAUTHENTICATED)
    assert api_status(sb, crafted(sb, iat=now + 30)) == (401, UNAUTHENTICATED)
    # A fractional expiry in the future still counts, although its integer part is already past.
    assert api_status(sb, crafted(sb, exp=time.time() + 5.75)) == (404, NOT_FOUND)


def test_revoked_or_deleted_token_row(sb: SandboxProcess) -> None:
    access = token(sb)
    jti = jwt_parts(access)[1]["jti"]
    execute(sb, "UPDATE oauth_access_tokens SET revoked = 1 WHERE id = ?", (jti,))
    assert api_status(sb, access) == (401, UNAUTHENTICATED)
    access = token(sb)
    execute(sb, "DELETE FROM oauth_access_tokens WHERE id = ?", (jwt_parts(access)[1]["jti"],))
    assert api_status(sb, access) == (401, UNAUTHENTICATED)


def test_revoked_client(sb: SandboxProcess) -> None:
    client_id = create_client(sb, "Guard Client", "http://localhost", password=True)
    access = token(sb, client_id=client_id, client_secret="s3cret-s3cret")
    assert api_status(sb, access) == (404, NOT_FOUND)
    execute(sb, "UPDATE oauth_clients SET revoked = 1 WHERE id = ?", (int(client_id),))
    assert api_status(sb, access) == (401, UNAUTHENTICATED)


def test_soft_deleted_or_missing_user(sb: SandboxProcess) -> None:
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    execute(
        sb,
        "INSERT INTO users (uuid, email, password, firstname, lastname, username, created_at, updated_at)"
        " SELECT 'u-guard', 'guard@example.com', password, 'Guard', 'User', 'guarduser', ?, ? FROM users"
        " WHERE username = 'admin'",
        (now, now),
    )
    access = token(sb, username="guarduser")
    assert api_status(sb, access) == (404, NOT_FOUND)
    execute(sb, "UPDATE users SET deleted_at = ? WHERE username = 'guarduser'", (now,))
    assert api_status(sb, access) == (401, UNAUTHENTICATED)
    # A token naming a user that does not exist (or no user at all).
    assert api_status(sb, crafted(sb, sub="99999")) == (401, UNAUTHENTICATED)
    assert api_status(sb, crafted(sb, sub="")) == (401, UNAUTHENTICATED)


def test_audience_must_name_an_active_client(sb: SandboxProcess) -> None:
    assert api_status(sb, crafted(sb, aud="424242")) == (401, UNAUTHENTICATED)


def test_client_credentials_token_is_refused(sb: SandboxProcess) -> None:
    client = sb.credentials["authorization_code_client"]
    body = assert_token_success(
        post_token(sb, {"grant_type": "client_credentials", "client_id": client["client_id"],
                        "client_secret": client["client_secret"]}),
        refresh=False,
    )
    assert api_status(sb, body["access_token"]) == (401, UNAUTHENTICATED)
