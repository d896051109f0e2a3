"""Scopes. ProcessMaker never calls ``Passport::tokensCan()``, so the only valid scope is ``*``."""

from __future__ import annotations

from typing import Any

from ..php import PHP_TRIM
from .errors import invalid_request, invalid_scope

DEFINED_SCOPES: dict[str, str] = {}  # id -> description, as Passport::tokensCan() would set them
FULL_ACCESS = "*"
# finalizeScopes keeps "*" only for these grants ("*" never reaches an authorization-code token).
GRANTS_KEEPING_STAR = ("password", "personal_access", "client_credentials")


def has_scope(scope: Any) -> bool:
    if isinstance(scope, (list, dict)):
        # PHP's array_key_exists() throws a TypeError here: a 500, not an OAuth error.
        raise TypeError("a scope must be a scalar")
    return scope == FULL_ACCESS or (isinstance(scope, str) and scope in DEFINED_SCOPES)


def validate_scopes(requested: Any, redirect_uri: str | None = None) -> list[str]:
    """league's validateScopes: a space-delimited string or an array; every item must be known."""
    if requested is None:
        items: list[Any] = []
    elif isinstance(requested, str):
        items = [item for item in requested.strip(PHP_TRIM).split(" ") if item != ""]
    elif isinstance(requested, list):
        items = requested
    elif isinstance(requested, dict):
        items = list(requested.values())
    else:
        raise invalid_request("scope")
    for item in items:
        if not has_scope(item):
            raise invalid_scope(item, redirect_uri)
    return unique(items)


def unique(scopes: list[str]) -> list[str]:
    """A token keeps one entry per scope id, in first-seen order (league keys them by id)."""
    return list(dict.fromkeys(scopes))


def finalize_scopes(scopes: list[str], grant_type: str) -> list[str]:
    """Passport's ScopeRepository::finalizeScopes."""
    if grant_type not in GRANTS_KEEPING_STAR:
        scopes = [scope for scope in scopes if scope.strip() != FULL_ACCESS]
    return unique([scope for scope in scopes if has_scope(scope)])


def defined_scope_ids(scopes: list[str]) -> list[str]:
    """Passport::scopesFor(): the requested ids that are defined scopes ("*" is not one)."""
    return unique([scope for scope in scopes if scope in DEFINED_SCOPES])
