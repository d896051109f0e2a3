# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``Token`` value and its expiry maths.

Expiry comes from ``expires_in`` (seconds, relative, so immune to clock skew) when the token
response has it, else from the JWT ``exp`` claim (absolute; Passport writes it as a float with
microseconds). A JWT is only read, never verified: the server verifies it, we only plan ahead.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

UTC = timezone.utc  # not datetime.UTC: that needs Python 3.11, modules run on 3.9


def jwt_claims(token: str | None) -> dict:
    """The payload of a JWT without verifying it; {} for anything that is not a JWT."""
    if not token or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


# RFC 6750 b64token, and RFC 7230 token for a token type: what may follow "Authorization:" as is.
_BEARER_VALUE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TOKEN_TYPE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]*")


def is_bearer_value(value: Any) -> bool:
    """Whether ``value`` can be sent as ``Authorization: Bearer <value>`` (RFC 6750 b64token)."""
    return isinstance(value, str) and bool(_BEARER_VALUE.fullmatch(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# 9999-12-31T23:59:59Z: later expiry times (or infinite ones, NaN) cannot be written as dates;
# a token that lives that long is treated as one whose expiry nothing says.
MAX_EPOCH = 253402300799.0


def compute_expires_at(expires_in: Any, claims: Mapping[str, Any], obtained_at: float) -> float | None:
    """Epoch seconds at which the token stops working, or None when nothing says."""
    seconds = _number(expires_in)
    if seconds is not None and 0 <= seconds <= MAX_EPOCH - obtained_at:
        return obtained_at + seconds
    exp = _number(claims.get("exp"))
    if exp is not None and 0 < exp <= MAX_EPOCH:
        return exp
    return None


def iso8601(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):  # out of the platform's range: no date to give
        return None


def parse_iso8601(text: str | None) -> float | None:
    """Epoch seconds from the dates ProcessMaker and Passport write (``...Z``, ``+00:00``, micros)."""
    if not text or not isinstance(text, str):
        return None
    value = text.strip().replace("Z", "+00:00")
    if " " in value and "T" not in value:
        value = value.replace(" ", "T", 1)
    # Python 3.9's fromisoformat takes 3 or 6 fraction digits only
    if "." in value:
        head, rest = value.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        value = head + "." + (digits + "000000")[:6] + rest
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass
class Token:
    """An access token and what we know about it. repr() never shows the secrets."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    scopes: tuple = ()
    user_id: str | None = None
    obtained_at: float = field(default_factory=time.time)
    grant_type: str | None = None

    @classmethod
    def from_response(cls, payload: Mapping[str, Any], *, grant_type: str, obtained_at: float | None = None,
                      requested_scope: str | None = None) -> Token:
        """From a token endpoint's JSON (RFC 6749 section 5.1)."""
        obtained_at = time.time() if obtained_at is None else obtained_at
        value = payload.get("access_token")
        if not isinstance(value, str) or not value:
            raise ValueError("the token response has no access_token")
        if not is_bearer_value(value):
            raise ValueError("the access_token of the token response is not a bearer token (it has spaces,"
                             " control or non-ASCII characters)")
        token_type = payload.get("token_type")
        if token_type is not None and not (isinstance(token_type, str) and _TOKEN_TYPE.fullmatch(token_type)):
            raise ValueError("the token_type of the token response is not a token type such as Bearer")
        claims = jwt_claims(value)
        scope = payload.get("scope")
        if isinstance(scope, str):
            scopes = tuple(s for s in scope.split(" ") if s)
        elif isinstance(claims.get("scopes"), list):
            scopes = tuple(str(s) for s in claims["scopes"])
        elif requested_scope:
            scopes = tuple(s for s in requested_scope.split(" ") if s)
        else:
            scopes = ()
        refresh = payload.get("refresh_token")
        return cls(
            access_token=value,
            token_type=token_type or "Bearer",
            expires_at=compute_expires_at(payload.get("expires_in"), claims, obtained_at),
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            scopes=scopes,
            user_id=_subject(claims),
            obtained_at=obtained_at,
            grant_type=grant_type,
        )

    @classmethod
    def from_bearer(cls, value: str, *, refresh_token: str | None = None, grant_type: str = "token") -> Token:
        """A token we were given (PAT or any bearer token): expiry from its JWT exp, if it is a JWT."""
        now = time.time()
        claims = jwt_claims(value)
        scopes = claims.get("scopes")
        return cls(
            access_token=value,
            expires_at=compute_expires_at(None, claims, now),
            refresh_token=refresh_token,
            scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
            user_id=_subject(claims),
            obtained_at=now,
            grant_type=grant_type,
        )

    @property
    def claims(self) -> dict:
        return jwt_claims(self.access_token)

    def expires_in(self, now: float | None = None) -> int | None:
        if self.expires_at is None:
            return None
        now = time.time() if now is None else now
        return max(0, int(self.expires_at - now))

    def lifetime(self) -> float | None:
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - self.obtained_at)

    def effective_margin(self, margin: float) -> float:
        """Renew ``margin`` seconds early, but never earlier than half-way through the lifetime."""
        lifetime = self.lifetime()
        if lifetime is None:
            return margin
        return min(margin, lifetime / 2.0)

    def is_expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.expires_at is not None and now >= self.expires_at

    def needs_renewal(self, margin: float, now: float | None = None) -> bool:
        """True when the token is expired or within the (effective) renewal margin of expiry."""
        if self.expires_at is None:
            return False
        now = time.time() if now is None else now
        return now >= self.expires_at - self.effective_margin(margin)

    def authorization_header(self) -> str:
        # Passport strips the prefix case-sensitively: it must be exactly "Bearer"
        kind = "Bearer" if self.token_type.lower() == "bearer" else self.token_type
        return f"{kind} {self.access_token}"

    def to_result(self, now: float | None = None) -> dict:
        """The documented token outputs of pm_token (contains secrets: register with no_log)."""
        return {
            "token_type": self.token_type,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in(now),
            "expires_at": iso8601(self.expires_at),
            "expires_at_epoch": int(self.expires_at) if self.expires_at is not None else None,
            "scopes": list(self.scopes),
            "grant_type": self.grant_type,
        }

    # cache serialisation (token_cache.py); the file holding this is 0600
    def to_cache(self) -> dict:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "scopes": list(self.scopes),
            "user_id": self.user_id,
            "obtained_at": self.obtained_at,
            "grant_type": self.grant_type,
        }

    @classmethod
    def from_cache(cls, data: Mapping[str, Any]) -> Token:
        value = data.get("access_token")
        if not isinstance(value, str) or not value:
            raise ValueError("no access_token")
        expires_at = _number(data.get("expires_at"))
        obtained_at = _number(data.get("obtained_at"))
        if expires_at is None or obtained_at is None:
            raise ValueError("no expiry")
        refresh = data.get("refresh_token")
        scopes = data.get("scopes") or []
        user_id = data.get("user_id")
        return cls(
            access_token=value,
            token_type=str(data.get("token_type") or "Bearer"),
            expires_at=expires_at,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
            user_id=str(user_id) if user_id not in (None, "") else None,
            obtained_at=obtained_at,
            grant_type=data.get("grant_type") if isinstance(data.get("grant_type"), str) else None,
        )


def _subject(claims: Mapping[str, Any]) -> str | None:
    sub = claims.get("sub")
    if sub is None or sub == "":  # client_credentials tokens have sub ""
        return None
    return str(sub)
