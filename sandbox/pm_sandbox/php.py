"""Small PHP behaviours the wire format depends on (json_encode, urlencode, empty(), trim, ...)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.entities import name2codepoint
from typing import Any
from urllib.parse import quote_plus

PHP_TRIM = " \t\n\r\0\x0b"  # trim()'s default character list
JSON_DEPTH = 512  # json_decode()'s default $depth: arrays and objects nested deeper fail to decode


def json_decode(text: str | bytes) -> Any:
    """PHP's ``json_decode($text, true)``, raising ValueError where PHP returns null for an error.

    Like PHP it refuses documents nested deeper than 512 arrays/objects (Python's own parser would
    recurse until a RecursionError, and accepts up to about a thousand levels).
    """
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    if text.count(b"[") + text.count(b"{") <= JSON_DEPTH:
        return json.loads(text)  # too few brackets to nest too deep: the common case, nothing to count
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("Maximum stack depth exceeded") from None
    if _nesting(value) > JSON_DEPTH:
        raise ValueError("Maximum stack depth exceeded")
    return value


def transform_input(data: dict[str, Any], clean: Callable[[str, Any, bool], Any]) -> dict[str, Any]:
    """Laravel's ``TransformsRequest``: ``clean(key, value, top)`` applied to every scalar of a request body.

    ``key`` is the key the scalar sits under (the items of a list share the list's key) and ``top``
    says whether that is a key of the body itself. Walks without recursion: a JSON body may nest 512
    levels deep, past what Python's call stack takes.
    """
    result: dict[str, Any] = dict.fromkeys(data)
    stack: list[tuple[Any, Any, str, Any, bool]] = [(result, key, key, value, True) for key, value in data.items()]
    while stack:
        container, slot, key, value, top = stack.pop()
        if isinstance(value, dict):
            container[slot] = nested = dict.fromkeys(value)
            stack.extend((nested, child_key, str(child_key), child, False) for child_key, child in value.items())
        elif isinstance(value, list):
            container[slot] = items = [None] * len(value)
            stack.extend((items, index, key, child, False) for index, child in enumerate(value))
        else:
            container[slot] = clean(key, value, top)
    return result


def _nesting(value: Any) -> int:
    """How deep arrays and objects nest in a decoded value ([[1]] is 2), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


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
