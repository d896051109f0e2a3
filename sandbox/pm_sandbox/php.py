"""PHP and Laravel behaviours the wire format depends on: the one place the sandbox emulates them.

* values: ``empty()``, ``(bool)``, ``(string)``, ``intval()``, ``is_numeric()``, ``===``, loose ``in_array()``;
* text: ``trim()``'s characters, ``strip_tags()``, ``preg_*`` patterns, ``htmlspecialchars()``,
  ``urlencode()``, ``http_build_query()``, ``json_encode()``, ``json_decode()`` and its depth limit;
* request input: how PHP parses form fields (``a[]=1``), and Laravel's global middleware
  (``TrimStrings``, ``ConvertEmptyStringsToNull``) plus ProcessMaker's ``SanitizeInput``;
* dates: the three ways ProcessMaker's models serialize a stored ``Y-m-d H:i:s`` UTC timestamp.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from html.entities import name2codepoint
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

# ---- values ------------------------------------------------------------------------------------


def empty(value: Any) -> bool:
    """PHP's ``empty()``: note that the string "0" is empty."""
    return value is None or value is False or value in (0, "", "0") or value == [] or value == {}


def truthy(value: Any) -> bool:
    """``(bool) $value``."""
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def filled(value: Any) -> bool:
    """Laravel's ``filled()``: anything but null and blank strings (arrays and booleans count)."""
    return not (value is None or (isinstance(value, str) and value.strip() == ""))


def to_string(value: Any) -> str:
    """PHP's ``(string)`` cast for the values a request can carry."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return "Array"
    return str(value)


def intval(value: Any) -> int:
    """PHP's ``intval()`` of request input: the leading digits (with a sign), else 0."""
    text = str(value).strip()
    digits = ""
    for index, char in enumerate(text):
        if char.isdigit() or (index == 0 and char in "+-"):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def is_numeric(value: Any) -> bool:
    """PHP's ``is_numeric()``: numbers and numeric strings, never booleans."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        return re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value) is not None
    return False


def identical(a: Any, b: Any) -> bool:
    """``$a === $b`` for the JSON scalars a request carries (the string "3" is not the number 3)."""
    return type(a) is type(b) and a == b


def loosely_equals(value: Any, text: str) -> bool:
    """PHP 8's ``$value == 'text'`` for a non-numeric string: the same string, or ``true``."""
    if isinstance(value, bool):
        return value is truthy(text)
    return isinstance(value, str) and value == text


def in_array(needle: str, haystack: Iterable[Any]) -> bool:
    """``in_array($needle, $haystack)`` (loose) for a non-numeric string needle. It looks at the values:
    ``in_array('password', $fields)`` is true for ``{"title": "password"}`` or ``{"x": true}``."""
    return any(loosely_equals(value, needle) for value in haystack)


# ---- text --------------------------------------------------------------------------------------

PHP_TRIM = " \t\n\r\0\x0b"  # trim()'s default character list
_TAG = re.compile(r"<(?=[^\s<>])[^>]*(?:>|$)")


def strip_tags(text: str) -> str:
    """PHP's ``strip_tags()`` for the common cases: ``<`` followed by a non-space starts a tag."""
    return _TAG.sub("", text) if "<" in text else text


def preg(pattern: str) -> re.Pattern[str]:
    """Compile a PHP ``/.../flags`` pattern (the flags that matter here: i, x, s, m)."""
    delimiter = pattern[0]
    end = pattern.rindex(delimiter)
    flags = 0
    for flag in pattern[end + 1 :]:
        flags |= {"i": re.IGNORECASE, "x": re.VERBOSE, "s": re.DOTALL, "m": re.MULTILINE}.get(flag, 0)
    return re.compile(pattern[1:end], flags)


_AMPERSAND = re.compile(r"&(?:([A-Za-z][A-Za-z0-9]*)|#[0-9]+|#[xX][0-9A-Fa-f]+)?(;)?")


def htmlspecialchars(value: str) -> str:
    """``htmlspecialchars($s, ENT_QUOTES, 'UTF-8', false)``: valid entities are not encoded again."""

    def ampersand(match: re.Match[str]) -> str:
        whole, name, semicolon = match.group(0), match.group(1), match.group(2)
        is_entity = semicolon is not None and whole != "&;" and (name is None or name in name2codepoint)
        return whole if is_entity else "&amp;" + whole[1:]

    text = _AMPERSAND.sub(ampersand, value)
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#039;")


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


def json_encode(value: Any) -> str:
    """PHP's ``json_encode`` with default flags: ``\\/`` for slashes and ``\\uXXXX`` for non-ASCII."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


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


# ---- request input -----------------------------------------------------------------------------


def form_fields(fields: MultiDict) -> dict[str, Any]:
    """Form or query fields as PHP parses them: ``a[]=1&a[]=2`` is a list, otherwise the last value wins."""
    data: dict[str, Any] = {}
    for key in fields:
        values = fields.getlist(key)
        if key.endswith("[]"):
            data[key[:-2]] = values
        else:
            data[key] = values[-1]
    return data


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


# TrimStrings' $except list (the API and Passport see the same middleware).
NOT_TRIMMED = frozenset({"current_password", "password", "password_confirmation"})
# Laravel 11 TrimStrings: whitespace plus the BOM, zero-width space and left-to-right mark. The API
# side trims with str.strip(); the Passport side (written against the wire reference) with this list.
_PASSPORT_TRIM = re.compile("^[ \t\n\r\f\v\ufeff\u200b\u200e]+|[ \t\n\r\f\v\ufeff\u200b\u200e]+$")


def controller_input(body: dict[str, Any], keep_raw: Iterable[str] = ()) -> dict[str, Any]:
    """A body as a ProcessMaker API controller sees it: trimmed, ``""`` as null, and tags stripped from every
    string (SanitizeInput) except the top-level fields the controller lists in ``$doNotSanitize``."""
    raw = frozenset(keep_raw)

    def clean(key: str, value: Any, top: bool) -> Any:
        if not isinstance(value, str):
            return value
        if key not in NOT_TRIMMED:
            value = value.strip()
        if value == "":
            return None
        return value if (top and key in raw) else strip_tags(value)

    return transform_input(body, clean)


def passport_input(body: dict[str, Any]) -> dict[str, Any]:
    """A body (or query) as Passport sees it after TrimStrings and ConvertEmptyStringsToNull."""

    def clean(key: str, value: Any, top: bool) -> Any:
        if not isinstance(value, str):
            return value
        if not (top and key in NOT_TRIMMED):
            value = _PASSPORT_TRIM.sub("", value)
        return None if value == "" else value

    return transform_input(body, clean)


# ---- dates: a stored "Y-m-d H:i:s" (UTC) as each model family serializes it ----------------------


def date_iso8601(value: str | None) -> str | None:
    """SerializeToIso8601 (PHP's ``c``): users, groups, categories, settings, design assets."""
    return None if value is None else value.replace(" ", "T") + "+00:00"


def date_plain(value: str | None) -> str | None:
    """ProcessMakerModel::serializeDate (``Y-m-d H:i:s``): group members, environment variables, permissions."""
    return value


def date_carbon_json(value: str | None) -> str | None:
    """Carbon's ``toJSON()``, what Passport's Token and Client models show: ``2025-01-31T12:34:56.000000Z``."""
    return None if value is None else value.replace(" ", "T") + ".000000Z"
