# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeping secrets out of messages: every form a secret can take on the wire, and the one mask.

A server (or a proxy, or an error page) that echoes a request shows a secret the way the request
carried it: percent-encoded in a form body or a query (``quote`` and ``quote_plus`` forms, upper or
lower case hex), JSON-escaped (``\\u00e9``; PHP also escapes ``/`` as ``\\/``), HTML-escaped, or inside
HTTP Basic credentials (``base64(client_id:secret)``). ``secret_forms`` lists them all, so that
``redact_text`` and Ansible's ``no_log_values`` mask each of them, not only the literal value.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "********"

# Query parameters whose values never appear in a message.
SECRET_QUERY_KEYS = frozenset(
    (
        "access_token", "token", "refresh_token", "password", "client_secret", "code", "code_verifier",
        "secret", "api_key", "apikey", "key", "state", "id_token", "assertion",
    )
)

_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _json_forms(text: str) -> set:
    ascii_form = json.dumps(text)[1:-1]
    forms = {ascii_form, json.dumps(text, ensure_ascii=False)[1:-1]}
    forms |= {form.replace("/", "\\/") for form in forms}  # PHP's json_encode escapes slashes
    forms.add(re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), ascii_form))
    return forms


def json_forms(secret: str) -> set:
    """The forms of a secret only ever sent in a JSON body (an item's password): as it is, JSON-escaped."""
    return {secret} | _json_forms(secret) if secret else set()


def secret_forms(secret: str, client_id: str | None = None) -> set:
    """Every way ``secret`` may be written in a request or an echo of one (the literal value first
    among them). With ``client_id``, also the HTTP Basic credentials it would be sent in."""
    if not secret:
        return set()
    encoded = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), html.escape(secret)}
    encoded |= {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), form) for form in encoded}
    forms = set()
    for form in encoded:
        forms |= _json_forms(form)
    if client_id:
        for user, password in ((client_id, secret), (quote_plus(client_id), quote_plus(secret))):
            forms.add(base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))
    forms.add(base64.b64encode(secret.encode()).decode("ascii"))
    return {form for form in forms if form}


class Redactor:
    """Masks every form of the secrets it knows; secrets learned later (a token) are added to it."""

    def __init__(self, secrets: Iterable = (), client_id: str | None = None) -> None:
        self.client_id = client_id
        self.forms: set = set()
        self._known: set = set()
        self._ordered: list | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: object, *, json_only: bool = False) -> None:
        """Mask ``secret`` from now on; ``json_only`` for a value only ever sent in a JSON body (fewer forms
        to look for, which matters with thousands of item passwords)."""
        if isinstance(secret, str) and secret and secret not in self._known:
            self._known.add(secret)
            self.forms |= json_forms(secret) if json_only else secret_forms(secret, self.client_id)
            self._ordered = None

    def __call__(self, text: str) -> str:
        if self._ordered is None:
            self._ordered = sorted(self.forms, key=len, reverse=True)
        for form in self._ordered:
            if form in text:
                text = text.replace(form, MASK)
        return text


def redact_text(text: str, secrets: Iterable, client_id: str | None = None) -> str:
    """Replace every form of every secret (longest first) in ``text`` by ``********``."""
    return Redactor(secrets, client_id)(text)


def redact_url(url: str) -> str:
    """The URL with user info and secret query values replaced by ********."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment and MASK))
