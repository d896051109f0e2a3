"""PKCE S256 (RFC 7636), state, and the authorization URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.pkce import (
    VERIFIER_PATTERN,
    authorization_url,
    new_code_verifier,
    new_state,
    s256_challenge,
)


def test_rfc7636_appendix_b_vector():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_verifier_meets_the_rfc_and_passport():
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert VERIFIER_PATTERN.match(verifier) and len(verifier) == 43
    assert len(new_code_verifier(96)) == 128


@pytest.mark.parametrize("bad", ["short", "x" * 129, "has space" + "x" * 40, "é" * 43])
def test_invalid_verifier_refused(bad):
    with pytest.raises(ValueError, match="RFC 7636"):
        s256_challenge(bad)


def test_state_is_fresh_and_url_safe():
    states = {new_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 32 and "/" not in s and "+" not in s for s in states)


def test_authorization_url_carries_everything():
    url = authorization_url(
        "https://pm.example.com/oauth/authorize", client_id="3", redirect_uri="http://127.0.0.1:8976/callback",
        state="st", code_challenge="ch", scope="*", extra={"prompt": "consent"},
    )
    parts = urlsplit(url)
    assert parts.path == "/oauth/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"], "client_id": ["3"], "redirect_uri": ["http://127.0.0.1:8976/callback"],
        "scope": ["*"], "state": ["st"], "code_challenge": ["ch"], "code_challenge_method": ["S256"],
        "prompt": ["consent"],
    }


def test_authorization_url_keeps_an_existing_query():
    url = authorization_url("https://idp.example.com/auth?tenant=a", client_id="c", redirect_uri=None,
                            state="s", code_challenge="x")
    assert url.startswith("https://idp.example.com/auth?tenant=a&response_type=code")
    assert "redirect_uri" not in url and "scope" not in url
