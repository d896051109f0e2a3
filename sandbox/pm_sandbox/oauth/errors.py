"""OAuth errors as league/oauth2-server 8.5.5 renders them (``OAuthServerException``).

JSON body ``error, error_description[, hint], message`` (``message`` is league's deprecated copy
of the description), ``Content-Type: application/json`` without charset and Symfony's default
``Cache-Control: no-cache, private``. An error that carries a redirect URI becomes a 302 whose
query string holds the same payload.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..http import HttpError
from ..php import empty, htmlspecialchars, http_build_query, json_encode, to_string

INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more "
    "than once, or is otherwise malformed."
)
INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is "
    "invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued "
    "to another client."
)
ACCESS_DENIED = "The resource owner or authorization server denied the request."


class OAuthError(HttpError):
    def __init__(
        self,
        error: str,
        description: str,
        status: int,
        hint: str | None = None,
        redirect_uri: str | None = None,
        authorization_header: str | None = None,
    ) -> None:
        self.error = error
        self.description = description
        self.hint = hint
        self.redirect_uri = redirect_uri
        self.authorization_header = authorization_header
        super().__init__(self.payload(), status)

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"error": self.error, "error_description": self.description}
        if self.hint is not None:
            payload["hint"] = self.hint
        payload["message"] = self.description
        return payload

    def response(self) -> Response:
        if self.redirect_uri is not None:
            separator = "&" if "?" in self.redirect_uri else "?"
            return redirect_response(self.redirect_uri + separator + http_build_query(self.payload()))
        response = Response(json_encode(self.payload()), status=self.status, content_type="application/json")
        response.headers["Cache-Control"] = "no-cache, private"
        # Only invalid_client answers with a challenge, and only to a request that sent credentials.
        header = self.authorization_header
        if self.error == "invalid_client" and header not in (None, "", "0"):
            scheme = "Bearer" if header.startswith("Bearer") else "Basic"
            response.headers["WWW-Authenticate"] = f'{scheme} realm="OAuth"'
        return response


def redirect_response(location: str) -> Response:
    """A redirect built from a PSR response: empty body, HTML content type added by Symfony."""
    response = Response(b"", status=302, content_type="text/html; charset=UTF-8")
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-cache, private"
    return response


def unsupported_grant_type() -> OAuthError:
    return OAuthError(
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server.",
        400,
        "Check that all required parameters have been provided",
    )


def invalid_request(parameter: str, hint: str | None = None) -> OAuthError:
    return OAuthError("invalid_request", INVALID_REQUEST, 400, hint or f"Check the `{parameter}` parameter")


def invalid_client(authorization_header: str | None) -> OAuthError:
    return OAuthError("invalid_client", "Client authentication failed", 401, authorization_header=authorization_header)


def invalid_scope(scope: Any, redirect_uri: str | None = None) -> OAuthError:
    if empty(scope):
        hint = "Specify a scope in the request or set a default scope"
    else:
        hint = f"Check the `{htmlspecialchars(to_string(scope))}` scope"
    return OAuthError(
        "invalid_scope", "The requested scope is invalid, unknown, or malformed", 400, hint, redirect_uri
    )


def invalid_credentials() -> OAuthError:
    return OAuthError("invalid_grant", "The user credentials were incorrect.", 400)


def invalid_refresh_token(hint: str) -> OAuthError:
    # league 8.x quirk: invalid_request with 401 (9.x changed it to invalid_grant 400).
    return OAuthError("invalid_request", "The refresh token is invalid.", 401, hint)


def invalid_grant(hint: str) -> OAuthError:
    return OAuthError("invalid_grant", INVALID_GRANT, 400, hint)


def access_denied(hint: str | None, redirect_uri: str | None = None) -> OAuthError:
    return OAuthError("access_denied", ACCESS_DENIED, 401, hint, redirect_uri)


def server_error(hint: str) -> OAuthError:
    return OAuthError(
        "server_error",
        "The authorization server encountered an unexpected condition which prevented it from fulfilling the "
        "request: " + hint,
        500,
    )
