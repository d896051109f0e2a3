"""Domain errors: what the product's rules answer, as exceptions that know nothing of HTTP.

Models and validation raise these; ``http.render`` turns each into the response ProcessMaker
(Laravel's exception handler) sends: 404 ``{"error": "Not Found"}``, 403 ``{"message": ...}``, 422
``{"message", "errors"}``, 409 ``{"message": ...}``, 500 ``{"message": "Server Error"}``, and ``abort()``'s
``{"message": ...}`` with its status.
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "This action is unauthorized."  # Laravel's AuthorizationException default


class DomainError(Exception):
    """A rule of the product said no."""


class NotFound(DomainError):
    """Route-model binding found no row (ModelNotFoundException)."""


class Forbidden(DomainError):
    """The acting user may not do this (AuthorizationException)."""

    def __init__(self, message: str = UNAUTHORIZED) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Laravel's ValidationException: per-field errors, and the summary message of ``invalidJson``.

    Without an explicit ``message`` it is the first error plus "(and N more errors)". A few controllers
    answer 422 with their own message and non-list ``errors`` (a count, a sentence); pass both then.
    """

    def __init__(self, errors: dict[str, Any], message: str | None = None) -> None:
        if message is None:
            messages = [text for texts in errors.values() if isinstance(texts, list) for text in texts]
            message = messages[0] if messages else "The given data was invalid."
            extra = len(messages) - 1
            if extra > 0:
                message += f" (and {extra} more error{'s' if extra > 1 else ''})"
        super().__init__(message)
        self.errors = errors
        self.message = message


class Conflict(DomainError):
    """409 with a message (SettingController refuses a key that exists)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Aborted(DomainError):
    """Laravel's ``abort($status, $message)`` (an HttpException): ``{"message": ...}`` with that status."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ServerError(DomainError):
    """What Laravel answers with debug off when the code throws (an unknown column, a missing row)."""

    def __init__(self, message: str = "Server Error") -> None:
        super().__init__(message)
        self.message = message
