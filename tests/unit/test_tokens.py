"""Token expiry maths: expires_in, JWT exp (a float in Passport), renewal margins, ISO dates."""

from __future__ import annotations

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.tokens import (
    Token,
    compute_expires_at,
    iso8601,
    jwt_claims,
    parse_iso8601,
)
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import make_jwt, token_body


def test_expires_in_is_relative_to_when_the_token_was_obtained():
    assert compute_expires_at(3600, {}, obtained_at=1000.0) == 4600.0
    assert compute_expires_at("60", {}, obtained_at=1000.0) == 1060.0


def test_expires_in_wins_over_jwt_exp_because_it_ignores_clock_skew():
    assert compute_expires_at(10, {"exp": 99999.5}, obtained_at=1000.0) == 1010.0


def test_float_exp_from_passport_jwt():
    claims = jwt_claims(make_jwt({"exp": 1738077263.123456, "sub": "7"}))
    assert claims["exp"] == 1738077263.123456
    assert compute_expires_at(None, claims, obtained_at=0) == 1738077263.123456


@pytest.mark.parametrize("exp", [None, "soon", True, 0, -5])
def test_no_usable_expiry(exp):
    assert compute_expires_at(None, {"exp": exp}, obtained_at=0) is None


@pytest.mark.parametrize("value", [None, "", "opaque-token", "a.b", "a.!!!.c", make_jwt({"x": 1})[:-1] + ".x.y"])
def test_non_jwt_tokens_have_no_claims(value):
    assert jwt_claims(value) == {}


def test_token_from_password_grant_response():
    body = token_body(sub="1", expires_in=3600)
    token = Token.from_response(body, grant_type="password", obtained_at=1000.0)
    assert token.expires_at == 4600.0
    assert token.expires_in(now=1600.0) == 3000
    assert token.refresh_token == body["refresh_token"]
    assert token.user_id == "1"
    assert token.scopes == ()
    assert token.authorization_header() == "Bearer " + body["access_token"]


def test_client_credentials_token_has_no_user():
    token = Token.from_response(token_body(sub=None, refresh=False), grant_type="client_credentials")
    assert token.user_id is None and token.refresh_token is None


def test_scope_from_response_or_jwt():
    body = {"access_token": make_jwt({"scopes": ["*"]}), "scope": "read write"}
    assert Token.from_response(body, grant_type="password").scopes == ("read", "write")
    body = {"access_token": make_jwt({"scopes": ["*"]})}
    assert Token.from_response(body, grant_type="password").scopes == ("*",)


def test_response_without_access_token_is_refused():
    with pytest.raises(ValueError):
        Token.from_response({"token_type": "Bearer"}, grant_type="password")


def test_lowercase_bearer_type_is_sent_as_Bearer():
    token = Token.from_response({"access_token": "abc", "token_type": "bearer"}, grant_type="password")
    assert token.authorization_header() == "Bearer abc"


def test_bearer_token_expiry_from_its_jwt():
    token = Token.from_bearer(make_jwt({"exp": 2000000000.25, "sub": "5", "scopes": []}))
    assert token.expires_at == 2000000000.25 and token.user_id == "5" and token.grant_type == "token"
    assert Token.from_bearer("opaque").expires_at is None


def test_renewal_margin_is_at_most_half_the_lifetime():
    long_lived = Token("a", expires_at=1000.0 + 3600, obtained_at=1000.0)
    assert long_lived.effective_margin(60) == 60
    assert not long_lived.needs_renewal(60, now=1000.0 + 3600 - 61)
    assert long_lived.needs_renewal(60, now=1000.0 + 3600 - 59)
    short_lived = Token("a", expires_at=1003.0, obtained_at=1000.0)  # a 3 s sandbox token
    assert short_lived.effective_margin(60) == 1.5
    assert not short_lived.needs_renewal(60, now=1001.0)
    assert short_lived.needs_renewal(60, now=1001.6)
    assert short_lived.is_expired(now=1003.0) and not short_lived.is_expired(now=1002.9)


def test_token_without_expiry_never_needs_renewal():
    token = Token("a", expires_at=None)
    assert not token.needs_renewal(60) and not token.is_expired() and token.expires_in() is None


def test_repr_never_shows_secrets():
    token = Token("secret-access", refresh_token="secret-refresh", expires_at=5.0)
    assert "secret" not in repr(token)


def test_result_has_iso_and_epoch_expiry():
    token = Token("a", expires_at=1777636800.5, obtained_at=1777633200.5, grant_type="password")
    result = token.to_result(now=1777633200.5)
    assert result["expires_at"] == "2026-05-01T12:00:00.500000Z"
    assert result["expires_at_epoch"] == 1777636800
    assert result["expires_in"] == 3600


def test_cache_round_trip():
    token = Token("a", refresh_token="r", expires_at=10.5, obtained_at=1.0, scopes=("*",), user_id="3",
                  grant_type="password")
    assert Token.from_cache(token.to_cache()) == token
    with pytest.raises(ValueError):
        Token.from_cache({"access_token": "a", "expires_at": None, "obtained_at": 1})


@pytest.mark.parametrize(
    "text,epoch",
    [
        ("2025-01-31T12:34:56.000000Z", 1738326896.0),
        ("2025-01-31T12:34:56+00:00", 1738326896.0),
        ("2025-01-31 12:34:56", 1738326896.0),
        ("2025-01-31T12:34:56.5Z", 1738326896.5),
        ("not a date", None),
        (None, None),
    ],
)
def test_parse_iso8601(text, epoch):
    assert parse_iso8601(text) == epoch


@given(st.floats(min_value=0, max_value=4102444800, allow_nan=False))
def test_iso8601_round_trip(epoch):
    assert parse_iso8601(iso8601(epoch)) == pytest.approx(epoch, abs=1e-6)
