"""``POST /oauth/token``: Passport's AccessTokenController behind Laravel's ``throttle``."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..http import Context, Router, json_response
from ..php import json_encode
from .errors import OAuthError
from .grants import IssuedTokens, TokenRequest, respond_to_token_request
from .inputs import body_params
from .throttle import Verdict

router = Router()


@router.route("POST", "/oauth/token", auth="none", name="passport.token")
def issue_token(ctx: Context) -> Response:
    verdict = _throttle(ctx)
    if verdict is not None and not verdict.allowed:
        return json_response({"message": "Too Many Attempts."}, 429, verdict.headers())
    request = TokenRequest(body_params(ctx), ctx.request.headers.get("Authorization"))
    try:
        issued = respond_to_token_request(ctx, request)
        response = token_response(issued)
        if ctx.counters is not None:
            ctx.counters.count_token(issued.grant_type)
    except OAuthError as error:
        response = error.response()
    if verdict is not None:
        response.headers.extend(verdict.headers())
    return response


def _throttle(ctx: Context) -> Verdict | None:
    """The app's rate limiter (part of its state, cleared by ``/_sandbox/reset``)."""
    limit = ctx.settings.token_rate_limit
    if limit <= 0 or ctx.limiter is None:
        return None
    return ctx.limiter.hit(ctx.request.remote_addr or "", limit)


def token_response(issued: IssuedTokens) -> Response:
    """league's BearerTokenResponse: no scope field, no-store, JSON with a charset."""
    body: dict[str, object] = {
        "token_type": "Bearer",
        "expires_in": issued.access.expires_in(),
        "access_token": issued.access.jwt,
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    response = Response(json_encode(body), status=200, content_type="application/json; charset=UTF-8")
    response.headers["Pragma"] = "no-cache"
    # league sends "no-store"; Symfony appends "private" to a Cache-Control without public/private.
    response.headers["Cache-Control"] = "no-store, private"
    return response
