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


# Above this many forms, ``Redactor`` finds the forms in a text through an index of their first
# characters instead of looking for each form in turn: a task with thousands of item passwords would
# otherwise pay thousands of substring searches for every message it masks (every failed write's).
_INDEX_ABOVE = 64
_PREFIX = 4


class Redactor:
    """Masks every form of the secrets it knows; secrets learned later (a token) are added to it.

    The forms are worked out when first needed (``forms``, a call), not when a secret is added: a task
    with 10,000 item passwords that never has a message to mask never pays for them.
    """

    def __init__(self, secrets: Iterable = (), client_id: str | None = None) -> None:
        self._client_id = client_id
        self._secrets: dict = {}  # secret -> json_only, in the order added
        self._forms: set | None = None
        self._no_log_forms: set | None = None
        self._ordered: list | None = None
        self._index: tuple | None = None
        for secret in secrets:
            self.add(secret)

    @property
    def client_id(self) -> str | None:
        return self._client_id

    @client_id.setter
    def client_id(self, value: str | None) -> None:
        self._client_id = value
        self._changed()  # the Basic forms depend on it

    def add(self, secret: object, *, json_only: bool = False) -> None:
        """Mask ``secret`` from now on. ``json_only`` for a value only ever sent in a JSON body that the
        module builds (an item's password): fewer forms, and none in ``no_log_forms``."""
        known = isinstance(secret, str) and secret in self._secrets and (json_only or not self._secrets[secret])
        if isinstance(secret, str) and secret and not known:
            self._secrets[secret] = json_only
            self._changed()

    def _changed(self) -> None:
        self._forms = self._no_log_forms = self._ordered = self._index = None

    def _forms_of(self, json_only: bool) -> set:
        forms: set = set()
        for secret, only_json in self._secrets.items():
            if only_json == json_only:
                forms |= json_forms(secret) if json_only else secret_forms(secret, self._client_id)
        return forms

    @property
    def no_log_forms(self) -> set:
        """The forms for Ansible's ``no_log_values``, which masks them in every string of the result:
        those of every secret but the ``json_only`` ones. Ansible's masking costs (strings in the result) x
        (forms), so 10,000 item passwords there made a 10,000-item task take minutes; a module keeps its
        ``json_only`` values out of its result by construction and masks its messages with this object."""
        if self._no_log_forms is None:
            self._no_log_forms = self._forms_of(False)
        return self._no_log_forms

    @property
    def forms(self) -> set:
        """Every form of every secret."""
        if self._forms is None:
            self._forms = self.no_log_forms | self._forms_of(True)
        return self._forms

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if self._ordered is None:
            self._ordered = sorted(self.forms, key=lambda form: (-len(form), form))
        if len(self._ordered) <= _INDEX_ABOVE:
            found = [form for form in self._ordered if form in text]
        else:
            found = sorted(self._find(text), key=lambda form: (-len(form), form))
        for form in found:  # longest first: a form inside a longer one is masked with it
            text = text.replace(form, MASK)
        return text

    def _find(self, text: str) -> set:
        """The forms in ``text``, through an index of their first characters (one dictionary look-up per
        position of the text instead of one search per form)."""
        if self._index is None:
            index: dict = {}
            short = []
            for form in self.forms:
                if len(form) < _PREFIX:
                    short.append(form)
                else:
                    index.setdefault(form[:_PREFIX], []).append(form)
            self._index = (index, short)
        index, short = self._index
        found = {form for form in short if form in text}
        for start in range(len(text) - _PREFIX + 1):
            candidates = index.get(text[start:start + _PREFIX])
            if candidates:
                found.update(form for form in candidates if text.startswith(form, start))
        return found


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
