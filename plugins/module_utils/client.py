# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ProcessMaker API client every module and lookup uses.

    client = ProcessMakerClient.from_options(options, warn=module.warn)
    users = client.get("users", query={"filter": "ci"}).data
    everyone = client.paginate("users").items

It builds URLs (base URL + api_path), sends ``Accept: application/json`` and JSON bodies, retries
through the transport, renews the token once when the API answers 401, and turns every failure
into a ``ProcessMakerError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.processmaker.core.plugins.module_utils.auth import (
    Authenticator,
    TokenProvider,
    build_authenticator,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    error_from_response,
    not_json,
    parse_json_body,
    redact_url,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    ConnectionOptions,
    is_loopback,
)
from ansible_collections.processmaker.core.plugins.module_utils.pagination import (
    DEFAULT_PER_PAGE,
    PageCollection,
    collect_pages,
)
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    Redactor,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import RetryPolicy
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
)
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HttpTransport,
    declares_json,
)

_UNSET = object()

INSECURE_WARNING = ("validate_certs is false: the server's certificate is not verified"
                    " (set ca_path to trust a private CA)")


def plain_http_warning(options: ConnectionOptions) -> str | None:
    """A warning when credentials or tokens would cross the network unencrypted (loopback is fine)."""
    exposed = [url for url in (options.base_url, options.token_endpoint)
               if url.lower().startswith("http://") and not is_loopback(url)]
    if not exposed:
        return None
    host = urlsplit(exposed[0]).hostname
    return (f"{exposed[0].split('/', 3)[0]}//{host} is plain http:// (not loopback): passwords, client secrets and"
            " tokens cross the network unencrypted; use https://")


class ApiResponse:
    """One API answer: status, headers, raw body, parsed JSON (None if not JSON)."""

    def __init__(self, method: str, url: str, status: int, headers: dict, body: bytes, elapsed: float,
                 attempts: int = 1, content_type: str = "", parsed: tuple | None = None) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed
        self.attempts = attempts
        self.content_type = content_type
        # parsed: what the transport made of the body already (a page of 1,000 users is 0.9 MB of JSON)
        parsed, ok = parsed if parsed is not None else parse_json_body(body) if body else (None, False)
        self.is_json = ok
        self.json = parsed if ok else None

    @property
    def data(self) -> Any:
        return self.json.get("data") if isinstance(self.json, dict) else None

    @property
    def meta(self) -> Any:
        return self.json.get("meta") if isinstance(self.json, dict) else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def encode_query(query: dict | None) -> list | None:
    """Query values as the API expects them: booleans as true/false, lists as repeated keys."""
    if not query:
        return None
    pairs = []
    for key, value in query.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool):
                item = "true" if item else "false"
            pairs.append((key, str(item)))
    return pairs


class ProcessMakerClient:
    def __init__(self, options: ConnectionOptions, transport: HttpTransport, authenticator: TokenProvider | None,
                 clock: Callable[[], float] = time.monotonic, store: TokenStore | None = None) -> None:
        self.options = options
        self.transport = transport
        self.authenticator = authenticator
        self.clock = clock
        self.store = store  # closed with the client

    @classmethod
    def from_options(cls, options: ConnectionOptions, *, warn: Callable[[str], None] | None = None,
                     store: TokenStore | None = None, wrap: Callable[[Authenticator], TokenProvider] | None = None,
                     session: Any = None, margin: float = 30.0, redact: Redactor | None = None,
                     connections: int = 10, **code_flow: Any) -> ProcessMakerClient:
        """The usual way in: a transport (one requests.Session) and a token provider, composed once.

        ``store`` keeps refresh-token rotations (and, through ``wrap``, the lookups' shared cache);
        ``wrap`` composes a layer around the Authenticator (the cache, the executor's lock).
        ``code_flow`` (code, redirect_uri, code_verifier) is for the authorization_code grant.
        ``redact`` masks secrets in warnings and errors; every token the client sends is added to it.
        ``connections``: how many requests may be in flight at once (the connection pool's size).
        """
        values = options.values
        tls = options.requests_tls()
        if tls["verify"] is False and warn is not None and any(
            endpoint.lower().startswith("https:") for endpoint in (options.base_url, options.token_endpoint)
        ):
            warn(INSECURE_WARNING)  # once per task or lookup: each builds one client
        cleartext = plain_http_warning(options)
        if cleartext and warn is not None:
            warn(cleartext)
        transport = HttpTransport(
            policy=RetryPolicy.from_options(values),
            timeout=values.get("timeout") or 30.0,
            tls=tls,
            warn=warn,
            redact=redact if redact is not None else options.redactor(),
            session=session,
            connections=connections,
        )
        provider: TokenProvider | None = None
        if options.grant_type != "authorization_code" or code_flow.get("code"):
            authenticator = build_authenticator(options, transport, margin=margin, store=store, **code_flow)
            provider = wrap(authenticator) if wrap is not None else authenticator
        return cls(options, transport, provider, store=store)

    def close(self) -> None:
        self.transport.close()
        if self.store is not None:
            self.store.close()

    # URLs -----------------------------------------------------------------------------------
    def url_for(self, path: str) -> str:
        """``users`` -> {url}{api_path}/users; ``/api/1.1/x`` -> {url}/api/1.1/x; full URLs must
        point at the same server (the token is never sent elsewhere)."""
        base = self.options.base_url
        if path.startswith(("http://", "https://")):
            try:
                own, other = urlsplit(base), urlsplit(path)
                other.port  # noqa: B018 - raises ValueError for a port that is no number
            except ValueError as error:
                raise ProcessMakerError(
                    f"path is not a valid URL ({error})", code="bad_path", hint="Give a path relative to api_path,"
                    f" or a URL on {base}",
                ) from None
            if (own.scheme, own.netloc) != (other.scheme, other.netloc):
                raise ProcessMakerError(
                    f"refusing to send the access token to {redact_url(path)}", code="foreign_url", url=path,
                    hint=f"Give a path relative to api_path, or a URL on {base}",
                )
            return path
        if path.startswith("/"):
            return base + path
        return self.options.api_base_url + "/" + path

    # Tokens ---------------------------------------------------------------------------------
    @property
    def token(self) -> Any:
        if self.authenticator is None:
            raise ProcessMakerError("no credentials to get an access token with", code="no_credentials",
                                    hint="Set access_token, or credentials for a grant")
        return self.authenticator.token()

    # Requests -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        json: Any = _UNSET,
        data: Any = None,
        files: Any = None,
        headers: dict | None = None,
        expected_status: Iterable[int] | None = None,
        stream: bool = False,
        safe_to_retry: bool | None = None,
        authenticate: bool = True,
    ) -> Any:
        """Send one API request; returns ApiResponse (or the transport's HttpResult, to stream the body,
        when ``stream``). Raises ProcessMakerError when the status is not expected (default: 2xx)."""
        method = method.upper()
        url = self.url_for(path)
        expected = set(expected_status) if expected_status is not None else None
        send_headers = {"Accept": "application/json"}
        send_headers.update(headers or {})
        kwargs: dict = {"params": encode_query(query), "data": data, "files": files}
        if json is not _UNSET:
            kwargs["json"] = json
        renewed = False
        started = self.clock()
        while True:
            token = None
            if authenticate:
                token = self.token
                # a server or proxy that echoes the request must not get the token into a message
                self.transport.redact.add(token.access_token)
                send_headers["Authorization"] = token.authorization_header()
            raw = self.transport.send(method, url, headers=send_headers, stream=stream,
                                      safe_to_retry=safe_to_retry, **kwargs)
            if (
                raw.status == 401
                and authenticate
                and not renewed
                and (expected is None or 401 not in expected)
                and self.authenticator is not None
                and self.authenticator.can_renew()
            ):
                raw.close()
                self.authenticator.renew(token)
                renewed = True
                continue
            break
        ok = (200 <= raw.status < 300) if expected is None else raw.status in expected
        if not ok:
            raise error_from_response(
                raw.status, raw.content_type, raw.content, method=method, url=raw.url or url,
                attempts=raw.attempts, retry_limit=raw.retry_limit,
            )
        if stream:
            return raw
        response = ApiResponse(method, redact_url(raw.url or url), raw.status, dict(raw.headers), raw.content,
                               self.clock() - started, raw.attempts, raw.content_type, raw.parsed)
        if declares_json(raw) and raw.content and not response.is_json:
            raise ProcessMakerError(
                not_json(raw.content_type, raw.content),
                status=raw.status, code="corrupt_response", method=method, url=url, attempts=raw.attempts,
                hint="A proxy or the server sent a broken answer; retry later",
            )
        return response

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)

    def paginate(self, path: str, *, query: dict | None = None, max_items: int | None = None,
                 per_page: int | None = None, concurrency: int = 1, **kwargs: Any) -> PageCollection:
        """GET every page of a list endpoint and merge ``data``. ``per_page`` defaults to the
        query's, else 100 (fewer round trips than the server's default of 10). ``concurrency``: pages in
        flight after the first, for a client built to be shared by threads (a locked token provider)."""
        query = dict(query or {})
        if "per_page" not in query:
            query["per_page"] = per_page or DEFAULT_PER_PAGE
        page = query.pop("page", 1) or 1
        try:
            start_page = int(page)
        except (TypeError, ValueError):
            raise ProcessMakerError(
                f"query page must be a whole number, not {page!r}", code="bad_query", method="GET",
                url=self.url_for(path), hint="Set query.page to the first page to fetch (1 by default)",
            ) from None

        def fetch(page: int) -> ApiResponse:
            return self.get(path, query=dict(query, page=start_page + page - 1), **kwargs)

        return collect_pages(fetch, max_items=max_items, method="GET", url=self.url_for(path), concurrency=concurrency)
