"""Request input as Passport sees it after ProcessMaker's global middleware.

``TrimStrings`` trims every string except ``password`` and ``ConvertEmptyStringsToNull`` turns
``""`` into null, so an empty parameter is the same as a missing one. league reads parameters with
``$params[$name] ?? $default``, so null (JSON ``null`` too) also counts as missing.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from werkzeug.datastructures import MultiDict

from ..http import Context
from ..php import transform_input

_TRIM = re.compile("^[ \t\n\r\f\v\ufeff\u200b\u200e]+|[ \t\n\r\f\v\ufeff\u200b\u200e]+$")
_NOT_TRIMMED = {"password", "password_confirmation"}


def clean(data: dict[str, Any]) -> dict[str, Any]:
    def clean_value(key: str, value: Any, top: bool) -> Any:
        if isinstance(value, str):
            if not (top and key in _NOT_TRIMMED):
                value = _TRIM.sub("", value)
            return None if value == "" else value
        return value

    return transform_input(data, clean_value)


def body_params(ctx: Context) -> dict[str, Any]:
    """The parsed body (form or JSON), never the query string: league reads ``getParsedBody()``."""
    return clean(ctx.body())


def query_params(ctx: Context) -> dict[str, Any]:
    """The query string the way PHP parses it: ``a[]=x`` is a list, otherwise the last value wins."""
    return clean(_php_fields(ctx.request.args))


def _php_fields(fields: MultiDict) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in fields:
        values = fields.getlist(key)
        if key.endswith("[]"):
            data[key[:-2]] = values
        else:
            data[key] = values[-1]
    return data


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
