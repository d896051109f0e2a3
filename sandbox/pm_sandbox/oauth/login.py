"""``/login`` and ``/logout``: the session login the consent flow needs."""

from __future__ import annotations

import secrets

from werkzeug.wrappers import Response

from ..http import Context, Router
from ..security import check_password
from .inputs import body_params
from .pages import laravel_redirect, login_page, signed_in_page
from .sessions import WebSession, current_user
from .web import web_route

router = Router()


def csrf_token(session: WebSession) -> str:
    """The session's CSRF token (Laravel keeps one per session as _token)."""
    token = session.get("_token")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(30)
        session.put("_token", token)
    return token


FAILED = "These credentials do not match our records."  # Laravel's auth.failed


@router.route("GET", "/login", auth="none", name="login")
@web_route
def show_login(ctx: Context, session: WebSession) -> Response:
    user = current_user(ctx, session)
    if user is not None:
        return signed_in_page(user["username"])
    return login_page(csrf=csrf_token(session))


@router.route("POST", "/login", auth="none", name="login.attempt")
@web_route
def attempt_login(ctx: Context, session: WebSession) -> Response:
    fields = body_params(ctx)
    username = fields.get("username")
    password = fields.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        shown = username if isinstance(username, str) else ""
        return login_page("Enter your username and password.", shown, csrf=csrf_token(session))
    user = ctx.store.one(
        "SELECT id, password FROM users WHERE username = ? COLLATE NOCASE AND deleted_at IS NULL ORDER BY id LIMIT 1",
        (username,),
    )
    if user is None or not check_password(password, user["password"] or ""):
        return login_page(FAILED, username, csrf=csrf_token(session))
    session.login(user["id"])
    # redirect()->intended(): back to the page that asked for the login (/oauth/authorize), else home.
    intended = session.pull("url.intended")
    return laravel_redirect(intended if isinstance(intended, str) else ctx.base_url() + "/")


@router.route("POST", "/logout", auth="none", name="logout")
@web_route
def logout(ctx: Context, session: WebSession) -> Response:
    session.invalidate()
    return laravel_redirect(ctx.base_url() + "/login")
