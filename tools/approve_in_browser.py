#!/usr/bin/env python3
"""Play the person of the authorization-code flow: sign in on the server and approve the consent page.

    tools/approve_in_browser.py 'https://pm.example.com/oauth/authorize?client_id=3&...'

It opens the authorization URL with a cookie session (``requests``, no JavaScript needed), signs in
on ``/login`` when the server asks, presses "Authorize" on the consent page and prints what the
browser would have been redirected with: the ``code`` (default) or, with ``--print callback_url``,
the whole redirect URL (code and state), for ``processmaker.core.pm_token``'s ``callback_url``.
Nothing needs to listen on the redirect URI: the redirect is read, not followed.

The login is never taken from the command line (commands show up in ``ansible-playbook -vvv``):
``PM_APPROVE_USERNAME``/``PM_APPROVE_PASSWORD``, else ``PM_USERNAME``/``PM_PASSWORD``, else the
administrator in the pm_sandbox credentials file named by ``PM_SANDBOX_CREDENTIALS``.

playbooks/authorize.yml runs it when ``pm_approve_command`` is set; ``make demo`` sets it.
Exit status: 0 with the code on stdout; 1 with one line on stderr saying what went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

MAX_HOPS = 10


class Failure(Exception):
    """One line for stderr."""


class FormParser(HTMLParser):
    """The forms of a page: action, method and fields (the hidden ones and the ones we fill)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "form":
            self._current = {"action": values.get("action", ""), "method": values.get("method", "get").upper(),
                             "fields": {}}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and values.get("name"):
            self._current["fields"][values["name"]] = unescape(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def login_from_environment() -> tuple[str, str]:
    username = os.environ.get("PM_APPROVE_USERNAME") or os.environ.get("PM_USERNAME")
    password = os.environ.get("PM_APPROVE_PASSWORD") or os.environ.get("PM_PASSWORD")
    credentials = os.environ.get("PM_SANDBOX_CREDENTIALS")
    if (not username or not password) and credentials:
        try:
            with open(credentials, encoding="utf-8") as handle:
                admin = json.load(handle)["admin"]
        except (OSError, ValueError, KeyError) as error:
            raise Failure(f"cannot read the administrator from PM_SANDBOX_CREDENTIALS ({credentials}): {error}") from None
        username, password = username or admin["username"], password or admin["password"]
    if not username or not password:
        raise Failure("no login: set PM_APPROVE_USERNAME and PM_APPROVE_PASSWORD (or PM_USERNAME and PM_PASSWORD,"
                      " or PM_SANDBOX_CREDENTIALS)")
    return username, password


def same_server(url: str, server: str) -> bool:
    a, b = urlsplit(url), urlsplit(server)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def approve(authorization_url: str, username: str, password: str, *, deny: bool = False,
            verify: bool | str = True, timeout: float = 30.0) -> str:
    """Sign in, answer the consent page; returns the URL the server redirected the browser to."""
    session = requests.Session()
    session.verify = verify
    session.headers["Accept"] = "text/html,application/xhtml+xml"
    signed_in = False
    answered = False
    method, url, data = "GET", authorization_url, None
    for _ in range(MAX_HOPS):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=timeout)
        if response.is_redirect:
            target = urljoin(url, response.headers["Location"])
            if not same_server(target, authorization_url):
                return target  # back to the client: that is where the code is
            method, url, data = "GET", target, None
            continue
        if response.status_code >= 400:
            raise Failure(f"{method} {urlsplit(url).path} answered HTTP {response.status_code}: "
                          f"{_short(response.text)}")
        forms = forms_of(response.text)
        login = next((form for form in forms if "password" in form["fields"]), None)
        if login is not None:
            if signed_in:
                raise Failure(f"the server did not accept the login of {username!r}: {_alert(response.text)}")
            signed_in = True
            fields = dict(login["fields"], username=username, password=password)
            method, url, data = "POST", urljoin(url, login["action"] or url), fields
            continue
        consent = [form for form in forms if "/oauth/authorize" in form["action"]]
        if consent:
            if answered:
                raise Failure("the consent page came back after it was answered")
            answered = True
            wanted = [form for form in consent if (form["fields"].get("_method", "").upper() == "DELETE") == deny]
            if not wanted:
                raise Failure("the consent page has no %s button" % ("Cancel" if deny else "Authorize"))
            method, url, data = "POST", urljoin(url, wanted[0]["action"]), wanted[0]["fields"]
            continue
        raise Failure(f"unexpected page at {urlsplit(url).path}: {_title(response.text)}")
    raise Failure(f"gave up after {MAX_HOPS} redirects and pages")


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.DOTALL | re.IGNORECASE)
    return unescape(match.group(1).strip()) if match else _short(html)


def _alert(html: str) -> str:
    match = re.search(r'role="alert">(.*?)<', html, re.DOTALL)
    return unescape(match.group(1).strip()) if match else _title(html)


def _short(text: str) -> str:
    return " ".join(text.split())[:200]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("authorization_url", help="the authorization_url that processmaker.core.pm_token returned")
    parser.add_argument("--print", dest="what", choices=["code", "callback_url"], default="code",
                        help="print the code (default) or the whole URL the browser was redirected to")
    parser.add_argument("--deny", action="store_true", help="press Cancel instead of Authorize")
    parser.add_argument("--ca-path", help="CA bundle to verify the server with")
    parser.add_argument("--insecure", action="store_true", help="do not verify the server's certificate")
    args = parser.parse_args(argv)
    try:
        username, password = login_from_environment()
        verify: bool | str = False if args.insecure else (args.ca_path or True)
        callback = approve(args.authorization_url, username, password, deny=args.deny, verify=verify)
        query = parse_qs(urlsplit(callback).query)
        if args.what == "callback_url":
            print(callback)
            return 0
        if "code" not in query:
            error = (query.get("error") or ["no code"])[0]
            message = (query.get("error_description") or query.get("message") or [""])[0]
            raise Failure(f"the server redirected without a code: {error}{': ' + message if message else ''}")
        print(query["code"][0])
        return 0
    except Failure as failure:
        print(f"approve_in_browser: {failure}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(f"approve_in_browser: cannot reach the server: {error.__class__.__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
