"""The HTML pages of the browser flow: plain, readable forms that work without JavaScript."""

from __future__ import annotations

from html import escape

from werkzeug.wrappers import Response

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f6f8;
       color: #1f2933; margin: 0; padding: 3rem 1rem; }
main { max-width: 26rem; margin: 0 auto; background: #fff; border: 1px solid #d9e2ec;
       border-radius: 6px; padding: 2rem; }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; font-weight: 600; margin: 1rem 0 .3rem; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .55rem;
       font-size: 1rem; border: 1px solid #9fb3c8; border-radius: 4px; }
button { font-size: 1rem; padding: .55rem 1.2rem; border-radius: 4px; border: 1px solid #1565c0;
         background: #1976d2; color: #fff; cursor: pointer; margin-top: 1.2rem; }
button.secondary { background: #fff; color: #1565c0; }
.actions { display: flex; gap: .8rem; }
.actions form { margin: 0; }
.error { background: #fdecea; border: 1px solid #f5c2c0; color: #8a1c1c; padding: .7rem; border-radius: 4px; }
.muted { color: #52606d; font-size: .9rem; }
"""


def html_page(title: str, body: str, status: int = 200) -> Response:
    document = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)} - ProcessMaker</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
    response = Response(document, status=status, content_type="text/html; charset=UTF-8")
    response.headers["Cache-Control"] = "no-cache, private"
    return response


def login_page(error: str | None = None, username: str = "", status: int = 200, csrf: str = "") -> Response:
    """ProcessMaker's login form, with the session's CSRF token as Laravel's @csrf writes it (ProcessMaker's web
    group does not verify it: VerifyCsrfToken is commented out of its Kernel)."""
    alert = f'<p class="error" role="alert">{escape(error)}</p>\n' if error else ""
    body = f"""<h1>Sign in to ProcessMaker</h1>
{alert}<form method="post" action="/login">
<input type="hidden" name="_token" value="{escape(csrf)}" autocomplete="off">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{escape(username)}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"""
    return html_page("Sign in", body, status)


def signed_in_page(username: str) -> Response:
    body = f"""<h1>Signed in</h1>
<p>You are signed in as <strong>{escape(username)}</strong>.</p>
<form method="post" action="/logout"><button type="submit" class="secondary">Sign out</button></form>"""
    return html_page("Signed in", body)


def consent_page(client_name: str, user_name: str, scopes: list[str], state: str, client_id: int, auth_token: str) -> Response:
    """Passport's authorization view: one form approves (POST), the other denies (DELETE via _method)."""
    hidden = (
        f'<input type="hidden" name="state" value="{escape(state)}">\n'
        f'<input type="hidden" name="client_id" value="{client_id}">\n'
        f'<input type="hidden" name="auth_token" value="{escape(auth_token)}">'
    )
    scope_list = ""
    if scopes:
        items = "".join(f"<li>{escape(scope)}</li>" for scope in scopes)
        scope_list = f"<p>This application will be able to:</p>\n<ul>{items}</ul>\n"
    body = f"""<h1>Authorization Request</h1>
<p><strong>{escape(client_name)}</strong> is requesting permission to access your account.</p>
{scope_list}<p class="muted">Signed in as {escape(user_name)}.</p>
<div class="actions">
<form method="post" action="/oauth/authorize">
{hidden}
<button type="submit">Authorize</button>
</form>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="_method" value="DELETE">
{hidden}
<button type="submit" class="secondary">Cancel</button>
</form>
</div>"""
    return html_page("Authorization Request", body)


def error_page(status: int, message: str) -> Response:
    body = f"<h1>{status}</h1>\n<p>{escape(message)}</p>"
    return html_page(message, body, status)


def laravel_redirect(url: str) -> Response:
    """Symfony's RedirectResponse: 302 with a small HTML body that links to the target."""
    target = escape(url)
    document = f"""<!DOCTYPE html>
<html>
    <head>
        <meta charset="UTF-8" />
        <meta http-equiv="refresh" content="0;url='{target}'" />

        <title>Redirecting to {target}</title>
    </head>
    <body>
        Redirecting to <a href="{target}">{target}</a>.
    </body>
</html>"""
    response = Response(document, status=302, content_type="text/html; charset=UTF-8")
    response.headers["Location"] = url
    response.headers["Cache-Control"] = "no-cache, private"
    return response
