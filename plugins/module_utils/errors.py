# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One exception for everything that goes wrong talking to ProcessMaker, and the error-body decoder.

Bodies come in many shapes: ProcessMaker's (``{"error": "Unauthenticated."}``, ``{"message": ...}``,
``{"message", "errors": {field: [...]}}``), OAuth's (``{"error", "error_description", "hint",
"message"}``), and whatever a proxy sends (an HTML page, nothing, half a JSON document). All of
them become a ``ProcessMakerError`` whose str() is one line: what failed, what the server said,
what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    redact_url,
)

_MAX_TEXT = 200


class ProcessMakerError(Exception):
    """A failed call: HTTP status (None when no answer came), error code, server message, field errors.

    ``hint`` says what to do; ``method`` and ``url`` (secrets removed from the query) say what failed.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field_errors: Mapping[str, list] | None = None,
        method: str | None = None,
        url: str | None = None,
        hint: str | None = None,
        attempts: int = 1,
        retry_limit: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field_errors = dict(field_errors or {})
        self.method = method
        self.url = redact_url(url) if url else url
        self.hint = hint
        self.attempts = attempts
        # which bound ended the retries ("retries=3 reached", "retry_max_time=60s reached"), if one did
        self.retry_limit = retry_limit

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self, redact: Callable[[str], str] | None = None) -> str:
        """The failure in one line; ``redact`` (a Redactor) masks the secrets a server may have echoed."""
        what = f"{self.method} {self.url}" if self.method and self.url else (self.url or "request")
        if self.status is not None:
            outcome = f"failed with HTTP {self.status}"
        else:
            outcome = "failed"
        if self.attempts > 1:
            retries = self.attempts - 1
            outcome += f" after {self.attempts} attempts ({retries} {'retry' if retries == 1 else 'retries'}"
            outcome += f", {self.retry_limit})" if self.retry_limit else ")"
        elif self.retry_limit:
            outcome += f" (not retried, {self.retry_limit})"
        said = self.message
        if self.code and self.code not in said and self.code.replace("_", " ") not in said:
            said = f"{self.code}: {said}"
        if self.field_errors:
            fields = "; ".join(
                f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in self.field_errors.items()
            )
            said = f"{said} ({fields})"
        line = f"{what} {outcome}: {said.rstrip('.')}"
        if self.status is None and self.method is None and self.url is None:
            line = said.rstrip(".")  # not a failed request: a finding about the answers (no such user)
        if self.hint:
            line += ". " + self.hint
        line = " ".join(line.split())  # exactly one line, whatever the server sent
        return redact(line) if redact is not None else line

    def to_dict(self) -> dict:
        """Structured form for a module's failure result (no secrets)."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "field_errors": self.field_errors,
            "method": self.method,
            "url": self.url,
        }


# Failures after which the server may have carried out a request although no good answer came back.
_MAY_HAVE_LANDED_STATUSES = frozenset((500, 502, 503, 504))
_MAY_HAVE_LANDED_CODES = frozenset(("connection_error", "connection_dropped", "timed_out", "corrupt_response"))


def may_have_landed(error: ProcessMakerError, identity: tuple = ()) -> bool:
    """Whether the server may have carried out a failed write (a create, a token exchange) anyway.

    ``identity``: the identity fields of what a create makes. The transport repeats a POST answered
    429; if the first one had landed, the repeat is refused because that identity is taken (422).
    """
    if error.status in _MAY_HAVE_LANDED_STATUSES or error.code in _MAY_HAVE_LANDED_CODES:
        return True
    return error.status == 422 and error.attempts > 1 and any(name in error.field_errors for name in identity)


# ---------------------------------------------------------------------------------------------
# Decoding


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _html_summary(text: str) -> str:
    for pattern in (r"<title[^>]*>(.*?)</title>", r"<h1[^>]*>(.*?)</h1>"):
        match = re.search(pattern, text, re.IGNORECASE | re.DOTALL)
        if match and match.group(1).strip():
            return _short(re.sub(r"<[^>]+>", " ", match.group(1)))
    stripped = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", text)
    stripped = re.sub(r"<[^>]+>", " ", stripped)
    return _short(stripped) or "an empty HTML page"


def _field_errors(raw: Any) -> dict:
    """Laravel's ``errors``: values are usually lists of strings, sometimes a string or a number."""
    if not isinstance(raw, Mapping):
        return {}
    result = {}
    for name, messages in raw.items():
        if isinstance(messages, (list, tuple)):
            result[str(name)] = [str(m) for m in messages]
        else:
            result[str(name)] = [str(messages)]
    return result


def parse_json_body(body: bytes) -> tuple:
    """(parsed, ok): ok is False when the body is empty or not valid JSON."""
    if not body or not body.strip():
        return None, False
    try:
        return json.loads(body.decode("utf-8")), True
    except (ValueError, UnicodeDecodeError):
        return None, False


def is_html(content_type: str, body: bytes) -> bool:
    if "html" in (content_type or "").lower():
        return True
    head = body[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _non_json(content_type: str, body: bytes, *, instead: bool) -> str:
    """What a body that is not a JSON document is, in words. ``instead``: JSON was expected (a 2xx
    answer), so the text is never quoted (a broken or form-encoded token response would leak part of a
    token); an error answer's plain text is quoted (shortened): it is what the server said."""
    if not body or not body.strip():
        return "the server sent an empty response body" + (" instead of JSON" if instead else "")
    if is_html(content_type, body):
        summary = _html_summary(body.decode("utf-8", "replace"))
        where = ", probably from a proxy or a login page" if instead else ""
        return f"the server sent an HTML page instead of JSON ({summary}){where}"
    if "json" in (content_type or "").lower() or body.lstrip()[:1] in (b"{", b"["):
        # never quote a broken JSON body: a truncated token response would leak part of a token
        return f"the response body is not valid JSON ({len(body)} bytes, truncated or corrupt)"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"the server sent {len(body)} bytes of binary data" + (" instead of JSON" if instead else "")
    return f"the server sent {len(body)} bytes of text instead of JSON" if instead else f"the server said: {_short(text)}"


def not_json(content_type: str, body: bytes) -> str:
    """What came instead of the JSON a 2xx answer should carry."""
    return _non_json(content_type, body, instead=True)


def describe_body(status: int, content_type: str, body: bytes) -> tuple:
    """(code, message, field_errors) from any error body."""
    parsed, ok = parse_json_body(body)
    if not ok:
        return None, _non_json(content_type, body, instead=False), {}
    if isinstance(parsed, Mapping):
        return _describe_json_object(parsed)
    if parsed in ([], {}, None, ""):
        return None, f"the server sent no details ({json.dumps(parsed)})", {}
    return None, _short(json.dumps(parsed)), {}


_GENERIC_INVALID_REQUEST = "The request is missing a required parameter"


def _describe_json_object(parsed: Mapping) -> tuple:
    error = parsed.get("error")
    description = parsed.get("error_description")
    message = parsed.get("message")
    hint = parsed.get("hint")
    field_errors = _field_errors(parsed.get("errors"))
    if isinstance(error, str) and (description or hint):
        # OAuth 2.0 (RFC 6749 5.2; league/oauth2-server adds message and hint)
        text = str(description or message or error)
        if hint and text.startswith(_GENERIC_INVALID_REQUEST):
            text = str(hint)  # league's invalid_request text says nothing the hint does not
        elif hint:
            text = f"{text.rstrip('.')} ({hint})"
        return error, _short(text), field_errors
    if isinstance(error, Mapping):  # ProcessMaker's ValidationException: {"error": {"code", "message"}}
        return None, _short(str(error.get("message") or message or "validation failed")), field_errors
    if isinstance(error, str) and not message:
        # ProcessMaker: {"error": "Unauthenticated."}, {"error": "Not Found"}, {"error": "PMQL error"}
        # or a bare OAuth error code such as {"error": "invalid_grant"}
        code = error if re.match(r"^[a-z_]+$", error) else None
        return code, _short(error), field_errors
    if message:
        text = str(message)
        if field_errors:  # the fields are listed anyway
            text = re.sub(r"\s*\(and \d+ more errors?\)\s*$", "", text)
        return (error if isinstance(error, str) else None), _short(text), field_errors
    if field_errors:
        return None, "validation failed", field_errors
    return None, _short(json.dumps(parsed)), field_errors


# What to do, by context. Token-endpoint advice is per OAuth error code.
_TOKEN_HINTS = {
    "invalid_client": "Check client_id and client_secret, and that this client may use the {grant} grant",
    "invalid_grant": "Check the credentials of the {grant} grant",
    "invalid_request": "Check the options of the {grant} grant",
    "unsupported_grant_type": "The server does not offer the {grant} grant at token_url; check grant_type"
    " and token_url",
    "invalid_scope": "Check scope (ProcessMaker knows only '*')",
    "unauthorized_client": "This client may not use the {grant} grant; use another client or grant_type",
    "access_denied": "The user or server refused the authorization",
    "server_error": "The authorization server failed; check its logs and retry later",
    "temporarily_unavailable": "The authorization server is busy; retry later",
}

# invalid_grant / invalid_request mean "this credential is no good" (league 8 and 9 differ, §4.4);
# what to do depends on the grant.
_STALE_CREDENTIAL_HINTS = {
    "password": "Check username and password (ProcessMaker matches the username, not the email)",
    "refresh_token": "The refresh token is spent (each use replaces it), revoked or expired; get a new token"
    " with the original grant",
    "authorization_code": "The code is wrong, used or expired (10 minutes), or code_verifier or redirect_uri"
    " differ from the authorization request; start the flow again",
}


_STATUS_HINTS = {
    400: "Check the request parameters",
    401: "The access token is invalid, expired or revoked; get a new one (processmaker.core.pm_token) or give"
    " credentials that can re-authenticate (username/password, client credentials or a refresh token)",
    403: "The user behind the token lacks the permission for this call; use an account that has it",
    404: "Check the path and the ids in it (paths are relative to api_path unless they start with /)",
    405: "This path does not accept that method; check method and path",
    409: "The object already exists or conflicts with another one",
    413: "The request body is too large for the server",
    422: "Fix the fields the server names",
    429: "The server is rate limiting; raise retries or retry_max_time, or make fewer calls",
}


def hint_for(status: int | None, code: str | None, *, token_endpoint: bool, grant: str | None) -> str:
    if token_endpoint:
        if code in ("invalid_grant", "invalid_request") and grant in _STALE_CREDENTIAL_HINTS:
            return _STALE_CREDENTIAL_HINTS[grant]
        if code in _TOKEN_HINTS:
            return _TOKEN_HINTS[code].format(grant=grant or "requested")
        if status == 401:
            return _TOKEN_HINTS["invalid_client"].format(grant=grant or "requested")
        if status == 404:
            return "No token endpoint there; check token_url (default url + /oauth/token)"
    if status in _STATUS_HINTS:
        return _STATUS_HINTS[status]
    if status is not None and 500 <= status < 600:
        return "The server (or a proxy in front of it) failed; check its logs and retry later"
    return "Check the request"


def error_from_response(
    status: int,
    content_type: str,
    body: bytes,
    *,
    method: str,
    url: str,
    token_endpoint: bool = False,
    grant: str | None = None,
    attempts: int = 1,
    retry_limit: str | None = None,
) -> ProcessMakerError:
    code, message, field_errors = describe_body(status, content_type, body)
    return ProcessMakerError(
        message,
        status=status,
        code=code,
        field_errors=field_errors,
        method=method,
        url=url,
        hint=hint_for(status, code, token_endpoint=token_endpoint, grant=grant),
        attempts=attempts,
        retry_limit=retry_limit,
    )


# TLS alerts a server sends about the client's certificate (missing, unknown CA, rejected)
_CLIENT_CERT_ALERT = re.compile(
    r"alert[ _](certificate[ _]required|bad[ _]certificate|unknown[ _]ca|certificate[ _]unknown"
    r"|certificate[ _]expired|certificate[ _]revoked|unsupported[ _]certificate)"
)

# "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)"
_OPENSSL_REASON = re.compile(r"(\[SSL: \w+\].*?)(?: \(_ssl\.c:\d+\)|['\"]\)|$)")


# What requests/urllib3 say when the server (or a proxy) closes the connection instead of answering
_DROPPED = ("remotedisconnected", "connection aborted", "connectionreseterror", "connection reset by peer")


# urllib3: "HTTPConnectionPool(host=..., port=...): Max retries exceeded with url: /path?query (Caused by
# NewConnectionError("HTTPConnection(host=..., port=...): Failed to establish a new connection: [Errno 111]
# Connection refused"))": the useful part is the innermost cause, at the very end.
_CAUSED_BY = re.compile(r"\(Caused by (\w+)\((.*)\)\)\s*$", re.DOTALL)
_CONNECTION_PREFIX = re.compile(r"^['\"]?(?:<[^>]*>|[\w.]+\(host=[^)]*\)):\s*")


def _root_cause(text: str) -> str:
    """The innermost reason of a requests/urllib3 exception text, without the URL (its query may hold a
    secret) or the connection object it names."""
    caused = _CAUSED_BY.search(text)
    if caused:
        inner = _CONNECTION_PREFIX.sub("", caused.group(2).strip()).strip("'\"")
        return f"{caused.group(1)}: {inner}"
    return re.sub(r"with url: \S+", "", re.sub(r"https?://\S+", "<url>", text))


def connection_error(exc: BaseException, *, method: str, url: str, attempts: int = 1) -> ProcessMakerError:
    """A request that got no HTTP answer (DNS, refused, TLS, timeout, dropped connection)."""
    name = type(exc).__name__
    text = str(exc)
    lowered = (name + " " + text).lower()
    if _CLIENT_CERT_ALERT.search(lowered):
        # the server's TLS alert: it wants a client certificate, or does not accept the one sent
        hint = ("The server requires a client certificate it trusts (mutual TLS): set client_cert and"
                " client_key")
        summary = "TLS error"
    elif "ssl" in lowered or "certificate" in lowered:
        hint = "Check the server certificate: set ca_path to the CA that signed it (validate_certs=false only in tests)"
        summary = "TLS error"
    elif "timeout" in lowered or "timed out" in lowered:
        hint = "The server did not answer in time; raise timeout or check the server"
        summary = "timed out"
    elif any(word in lowered for word in _DROPPED):
        # connected, sent, and the connection closed without an answer: the server may have acted
        hint = ("The server (or a proxy in front of it) closed the connection without answering; check its logs"
                " and retry later")
        summary = "connection dropped"
    else:
        hint = "Check url and that the server is reachable from where the task runs"
        summary = "connection error"
    reason = _root_cause(text)
    if name == "InvalidHeader":  # requests quotes the header, a token included: keep only what is wrong
        reason = reason.split(":")[0]
        hint = "Header values and tokens must be one line of text; check headers and access_token"
        summary = "invalid header"
    openssl = _OPENSSL_REASON.search(text)
    if summary == "TLS error" and openssl:  # what OpenSSL said, not urllib3's wrapping of it
        reason = openssl.group(1).strip().rstrip(".")
    return ProcessMakerError(
        f"{summary} ({name}: {_short(reason)})",
        code=summary.replace(" ", "_"),
        method=method,
        url=url,
        hint=hint,
        attempts=attempts,
    )
