# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP with retries: one ``requests.Session``, the retry policy, a warning per retry.

Knows nothing about tokens or ProcessMaker; the token endpoint and the API client both send
through it.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    connection_error,
    not_json,
    parse_json_body,
)
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    Redactor,
    redact_url,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import (
    CONNECTION,
    CORRUPT,
    FATAL,
    NOT_SENT,
    RetryPolicy,
    parse_retry_after,
)

try:
    import requests
    import requests.adapters
    from requests import exceptions as rexc

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # reported by the module with missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

USER_AGENT = "processmaker.core-ansible"


def classify_exception(exc: BaseException) -> str:
    """Which retry rule applies to an exception raised by requests."""
    if not HAS_REQUESTS:
        return FATAL
    if isinstance(exc, rexc.SSLError):
        return FATAL
    if isinstance(exc, rexc.ConnectTimeout):
        return NOT_SENT
    if isinstance(exc, (rexc.InvalidURL, rexc.MissingSchema, rexc.InvalidSchema, rexc.InvalidHeader)):
        return FATAL
    if isinstance(exc, rexc.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
        name = type(reason).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError"):
            return NOT_SENT
        return CONNECTION
    if isinstance(exc, (rexc.ReadTimeout, rexc.ChunkedEncodingError, rexc.ContentDecodingError)):
        return CONNECTION
    return FATAL


def unsendable(exc: BaseException, *, method: str, url: str) -> ProcessMakerError | None:
    """A request that could not even be sent, for a reason requests does not wrap: a TLS file
    that cannot be read (OSError), a header value http.client cannot encode (UnicodeError,
    ValueError). None for anything else (a bug: let it show)."""
    if isinstance(exc, OSError):
        return ProcessMakerError(
            f"cannot use the TLS files ({exc.strerror or exc})", code="tls_files", method=method, url=url,
            hint="Check ca_path, client_cert and client_key: each must be a readable PEM file",
        )
    if isinstance(exc, (UnicodeError, ValueError)):
        reason = str(exc) if isinstance(exc, UnicodeError) else type(exc).__name__
        return ProcessMakerError(
            f"the request cannot be sent ({reason})", code="unsendable_request", method=method, url=url,
            hint="Header values and tokens must be Latin-1 text without line breaks; check headers and access_token",
        )
    return None


def _keep_headers(request: Any) -> Any:
    """requests' auth hook, a no-op: the Authorization header is ours alone (never ~/.netrc's)."""
    return request


def declares_json(response: Any) -> bool:
    return "json" in (response.headers.get("Content-Type") or "").lower()


class HttpResult:
    """The final answer to a request, and what it took to get it: the transport's own result (requests'
    response stays inside; callers read status, headers, body and the retry figures from here)."""

    def __init__(self, response: Any, attempts: int, retry_limit: str | None, elapsed: float,
                 parsed: tuple | None = None) -> None:
        self._response = response
        self.parsed = parsed  # (body, ok) of parse_json_body when the transport parsed it already
        self.status: int = response.status_code
        self.headers = response.headers  # case-insensitive
        self.url: str = response.url
        self.attempts = attempts
        self.retry_limit = retry_limit  # the bound that ended the retries, when one did
        self.elapsed = elapsed  # seconds, retries included

    @property
    def content(self) -> bytes:
        return self._response.content

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def iter_content(self, size: int) -> Any:
        return self._response.iter_content(size)

    def close(self) -> None:
        self._response.close()


class HttpTransport:
    """Send requests with the retry policy. Returns an ``HttpResult`` for the final answer; raises
    ProcessMakerError only when no HTTP answer came at all (or a 2xx body stayed corrupt)."""

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        timeout: float = 30.0,
        tls: dict | None = None,
        warn: Callable[[str], None] | None = None,
        redact: Callable[[str], str] | None = None,
        session: Any = None,
        connections: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environment: dict | None = None  # per scheme://host, when this transport reads it (its own session)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            if connections > 10:  # requests pools 10 connections per host: enough unless writes run in parallel
                adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=connections)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
            # The proxies and CA bundle of the environment are read once per host (see _settings), not by
            # requests for every request: it walks os.environ twice a request for the proxies, a third of
            # the client's CPU per write, which shares the machine with the server in a bulk converge.
            session.trust_env = False
            self._environment = {}
        # An auth hook that changes nothing: with one set, requests never reads ~/.netrc, whose
        # Basic credentials would replace our Bearer header (and reach the token endpoint).
        session.auth = _keep_headers
        self.session = session
        if tls and tls.get("verify") is False:
            # the user chose validate_certs=false; urllib3 would print a warning on every request
            try:
                import urllib3

                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            except (ImportError, AttributeError):
                pass
        self.policy = policy
        self.timeout = timeout
        self.tls = dict(tls or {})
        self.warn = warn or (lambda message: None)
        self.redact = redact or Redactor()
        self.sleep = sleep
        self.clock = clock

    def close(self) -> None:
        self.session.close()

    def _settings(self, url: str) -> dict:
        """``proxies`` and ``verify`` for a request to ``url`` as requests itself reads them from the
        environment (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY; REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), once per host."""
        if self._environment is None:  # a session given by the caller reads the environment itself
            return self.tls
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        settings = self._environment.get(key)
        if settings is None:
            settings = dict(self.tls, proxies=requests.utils.get_environ_proxies(url))
            if settings.get("verify", True) in (True, None):
                settings["verify"] = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                                      or settings.get("verify", True))
            self._environment[key] = settings
        return settings

    def _warn_retry(self, method: str, url: str, params: Any, what: str, attempt: int, wait: float) -> None:
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        message = (
            f"{method} {redact_url(url)} {what}; retrying in {wait:.1f}s"
            f" (attempt {attempt + 1} of {self.policy.retries + 1})"
        )
        self.warn(self.redact(message))

    @staticmethod
    def _corrupt_safe(method: str, safe_to_retry: bool | None) -> bool:
        # Only a GET (or a request the caller marks safe) is repeated over a broken body: a
        # DELETE that answered 200 with an empty body did its work and must not run twice.
        return safe_to_retry if safe_to_retry is not None else method == "GET"

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: dict | None = None,
        stream: bool = False,
        safe_to_retry: bool | None = None,
        expect_json: bool = False,
        allow_redirects: bool = False,
    ) -> HttpResult:
        method = method.upper()
        start = self.clock()
        attempt = 1
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    files=files,
                    headers=headers,
                    stream=stream,
                    timeout=self.timeout,
                    allow_redirects=allow_redirects,
                    **self._settings(url),
                )
            except Exception as exc:  # requests raises many types; classify decides
                if HAS_REQUESTS and not isinstance(exc, rexc.RequestException):
                    unsent = unsendable(exc, method=method, url=url)
                    if unsent is None:
                        raise
                    raise unsent from None
                kind = classify_exception(exc)
                wait = None
                retryable = self.policy.retryable_failure(method, kind, safe_to_retry)
                if retryable:
                    wait = self.policy.next_delay(attempt, self.clock() - start)
                if wait is None:
                    error = connection_error(exc, method=method, url=url, attempts=attempt)
                    error.retry_limit = self.policy.bound_reached(attempt) if retryable else None
                    raise error from None
                self._warn_retry(method, url, params, f"failed ({type(exc).__name__})", attempt, wait)
                self.sleep(wait)
                attempt += 1
                continue

            status = response.status_code
            wait = None
            what = ""
            limit = None
            parsed = None
            if self.policy.retryable_status(method, status, safe_to_retry):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = self.policy.next_delay(attempt, self.clock() - start, retry_after)
                what = f"got HTTP {status}"
                if wait is None:
                    limit = self.policy.bound_reached(attempt)
            elif (
                not stream
                and 200 <= status < 300
                and status != 204
                and method != "HEAD"
                and (expect_json or declares_json(response))
                and self.policy.retryable_failure(method, CORRUPT, self._corrupt_safe(method, safe_to_retry))
            ):
                parsed = parse_json_body(response.content)
                if not parsed[1]:
                    wait = self.policy.next_delay(attempt, self.clock() - start)
                    what = f"got HTTP {status} with a corrupt JSON body ({len(response.content)} bytes)"
                    if wait is None:
                        raise ProcessMakerError(
                            not_json(response.headers.get("Content-Type", ""), response.content),
                            status=status,
                            code="corrupt_response",
                            method=method,
                            url=url,
                            hint="A proxy or the server sent a broken answer; retry later",
                            attempts=attempt,
                            retry_limit=self.policy.bound_reached(attempt),
                        )
            if wait is None:
                return HttpResult(response, attempt, limit, self.clock() - start, parsed)
            response.close()
            self._warn_retry(method, url, params, what, attempt, wait)
            self.sleep(wait)
            attempt += 1
