# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ProcessMaker's web routes, logged in the way the admin UI is: the ``/login`` form, then a session.

Some of ProcessMaker's administration lives on web routes, not under ``/api/1.0``: the auth clients
(``/oauth/clients``) are gated by a session login and the ``*-auth_clients`` permissions, and a Bearer
token does not work there. ``WebSession`` reads the login form (and its CSRF token), posts the
connection's ``username`` and ``password`` to it, keeps the session cookie, and then sends JSON
requests with the CSRF token in ``X-CSRF-TOKEN``, as the admin UI's own requests do.

    session = WebSession(transport, options)      # from the connection options
    session.login()                               # ProcessMakerError (one line) when refused
    clients = session.request("GET", "/oauth/clients").json
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    error_from_response,
    not_json,
    parse_json_body,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    ConnectionOptions,
)

# <input type="hidden" name="_token" value="..."> in the form, <meta name="csrf-token" content="..."> in the head
_FORM_TOKEN = re.compile(r"""<input[^>]*name=["']_token["'][^>]*value=["']([^"']+)["']|"""
                         r"""<input[^>]*value=["']([^"']+)["'][^>]*name=["']_token["']""", re.IGNORECASE)
_META_TOKEN = re.compile(r"""<meta[^>]*name=["']csrf-token["'][^>]*content=["']([^"']+)["']""", re.IGNORECASE)


def csrf_token(page: str) -> str | None:
    """The CSRF token of a Laravel page (the login form's ``_token``, or the ``csrf-token`` meta)."""
    for pattern in (_FORM_TOKEN, _META_TOKEN):
        match = pattern.search(page)
        if match:
            return html.unescape(next(group for group in match.groups() if group))
    return None


class WebResponse:
    """A web route's JSON answer."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.status = status
        parsed, ok = parse_json_body(body)
        self.json = parsed if ok else None


class WebSession:
    """A logged-in session on ProcessMaker's web routes (cookies kept by the transport's session)."""

    def __init__(self, transport: Any, options: ConnectionOptions) -> None:
        self.transport = transport
        self.base_url = options.base_url
        self.username = options.values.get("username")
        self.password = options.values.get("password")
        self.csrf: str | None = None

    def login(self) -> None:
        """The admin UI's login: GET /login (session cookie, CSRF token), POST the form."""
        if not (self.username and self.password):
            raise ProcessMakerError("the web routes need a session login: set username and password (PM_USERNAME,"
                                    " PM_PASSWORD), an administrator's or a user with the needed permissions",
                                    code="no_credentials")
        url = self.base_url + "/login"
        page = self.transport.send("GET", url, headers={"Accept": "text/html"})
        if page.status != 200:
            raise error_from_response(page.status, page.content_type, page.content, method="GET", url=url)
        self.csrf = csrf_token(page.content.decode("utf-8", "replace"))
        form = {"username": self.username, "password": self.password}
        if self.csrf:
            form["_token"] = self.csrf
        answer = self.transport.send("POST", url, data=form, headers={"Accept": "text/html"}, safe_to_retry=True)
        # Laravel redirects a successful login away (home, or the page that asked for it) and a refused one
        # back to /login (or shows the form again)
        location = answer.headers.get("Location") or ""
        if answer.status not in (301, 302, 303) or urlsplit(location).path.rstrip("/").endswith("/login"):
            raise ProcessMakerError(
                "the login form refused the credentials", status=answer.status, code="login_failed", method="POST",
                url=url, hint="Check username and password (ProcessMaker matches the username, not the email)",
            )

    def request(self, method: str, path: str, *, json: Any = None, expected_status: tuple = (200, 201, 204)
                ) -> WebResponse:
        """A JSON request on a web route (``path`` from the server root); ProcessMakerError otherwise."""
        url = self.base_url + path
        headers = {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}
        if self.csrf:
            headers["X-CSRF-TOKEN"] = self.csrf
        kwargs = {"json": json} if json is not None else {}
        answer = self.transport.send(method, url, headers=headers, **kwargs)
        if answer.status not in expected_status:
            raise error_from_response(answer.status, answer.content_type, answer.content, method=method, url=url,
                                      attempts=answer.attempts, retry_limit=answer.retry_limit)
        response = WebResponse(answer.status, answer.content, answer.content_type)
        if answer.status != 204 and answer.content and response.json is None:
            raise ProcessMakerError(not_json(answer.content_type, answer.content), status=answer.status,
                                    code="corrupt_response", method=method, url=url,
                                    hint="Check url: the answer did not come from ProcessMaker")
        return response
