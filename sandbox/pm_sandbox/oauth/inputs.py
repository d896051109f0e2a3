"""Request input as Passport sees it after ProcessMaker's global middleware.

``TrimStrings`` trims every string except ``password`` and ``ConvertEmptyStringsToNull`` turns
``""`` into null, so an empty parameter is the same as a missing one. league reads parameters with
``$params[$name] ?? $default``, so null (JSON ``null`` too) also counts as missing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..http import Context
from ..php import form_fields, passport_input


def body_params(ctx: Context) -> dict[str, Any]:
    """The parsed body (form or JSON), never the query string: league reads ``getParsedBody()``."""
    return passport_input(ctx.body())


def query_params(ctx: Context) -> dict[str, Any]:
    """The query string the way PHP parses it: ``a[]=x`` is a list, otherwise the last value wins."""
    return passport_input(form_fields(ctx.request.args))


def param(params: dict[str, Any], name: str, default: Any = None) -> Any:
    value = params.get(name)
    return default if value is None else value


def basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    """league's getBasicAuthCredentials: exact ``Basic `` prefix, strict base64, split at the first colon."""
    if not authorization or not authorization.startswith("Basic "):
        return None, None
    encoded = authorization[6:]
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None, None
    text = decoded.decode("utf-8", errors="surrogateescape")
    if ":" not in text:
        return None, None
    user, password = text.split(":", 1)
    return user, password


def wants_json(ctx: Context) -> bool:
    """Laravel's ``expectsJson()``: an XHR that accepts anything, or a first Accept type that is JSON."""
    request = ctx.request
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    if "/json" in first or "+json" in first:
        return True
    is_ajax = request.headers.get("X-Requested-With", "") == "XMLHttpRequest"
    accepts_anything = first in ("", "*/*", "*")
    return is_ajax and not request.headers.get("X-PJAX") and accepts_anything
