"""Small PHP behaviours the wire format depends on (json_encode, urlencode, empty(), trim, ...)."""

from __future__ import annotations

import json
import re
from html.entities import name2codepoint
from typing import Any
from urllib.parse import quote_plus

PHP_TRIM = " \t\n\r\0\x0b"  # trim()'s default character list


def json_encode(value: Any) -> str:
    """PHP's ``json_encode`` with default flags: ``\\/`` for slashes and ``\\uXXXX`` for non-ASCII."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def empty(value: Any) -> bool:
    """PHP's ``empty()``: note that the string "0" is empty."""
    return value is None or value is False or value in (0, "", "0") or value == [] or value == {}


def to_string(value: Any) -> str:
    """PHP's ``(string)`` cast for the scalar values a request can carry."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return "Array"
    return str(value)


def urlencode(value: str) -> str:
    """PHP's ``urlencode`` (RFC 1738: space as ``+``, ``~`` encoded too)."""
    return quote_plus(value, safe="").replace("~", "%7E")


def http_build_query(params: dict[str, Any], prefix: str | None = None) -> str:
    """PHP's ``http_build_query``: null values are left out, arrays become ``key[0]=...``."""
    parts: list[str] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix is not None else str(key)
        if value is None:
            continue
        if isinstance(value, (list, dict)):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            nested = http_build_query({str(k): v for k, v in items}, name)
            if nested:
                parts.append(nested)
            continue
        if value is True:
            value = 1
        elif value is False:
            value = 0
        parts.append(f"{urlencode(name)}={urlencode(to_string(value))}")
    return "&".join(parts)


_AMPERSAND = re.compile(r"&(?:([A-Za-z][A-Za-z0-9]*)|#[0-9]+|#[xX][0-9A-Fa-f]+)?(;)?")


def htmlspecialchars(value: str) -> str:
    """``htmlspecialchars($s, ENT_QUOTES, 'UTF-8', false)``: valid entities are not encoded again."""

    def ampersand(match: re.Match[str]) -> str:
        whole, name, semicolon = match.group(0), match.group(1), match.group(2)
        is_entity = semicolon is not None and whole != "&;" and (name is None or name in name2codepoint)
        return whole if is_entity else "&amp;" + whole[1:]

    text = _AMPERSAND.sub(ampersand, value)
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#039;")
