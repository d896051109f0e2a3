"""``/oauth/clients``: ProcessMaker's client API (web routes, session login, ``can:*-auth_clients``), and what
clients created there can do at ``/oauth/token``."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).parent))
from pm_sandbox.testing import SandboxProcess
from test_api_helpers import PASSWORD, UNAUTHORIZED, grant, user_with_token
from test_oauth_support import (
    INVALID_CLIENT,
    UNAUTHENTICATED,
    api_status,
    assert_oauth_error,
    assert_token_success,
    location_query,
    post_token,
    query,
)

SERVER_ERROR = {"message": "Server Error"}
CARBON = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z")
FIELDS = ["id", "name", "secret", "redirect", "revoked", "types", "created_at", "updated_at"]
JSON = {"Accept": "application/json"}


class Browser:
    """The admin UI: a session cookie from the login form, JSON requests."""

    def __init__(self, sb: SandboxProcess, username: str | None = None, password: str | None = None) -> None:
        self.sb = sb
        self.http = requests.Session()
        if username is not None or password is not None:
            self.login(username, password)

    def login(self, username: str | None = None, password: str | None = None) -> None:
        admin = self.sb.credentials["admin"]
        response = self.http.post(self.sb.url + "/login", data={
            "username": username or admin["username"], "password": password or admin["password"]},
            allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text

    def call(self, method: str, path: str = "", headers: dict[str, str] | None = None, **kwargs: Any
             ) -> requests.Response:
        return self.http.request(method, self.sb.url + "/oauth/clients" + path, headers=headers or JSON,
                                 allow_redirects=False, timeout=10, **kwargs)


def admin(sb: SandboxProcess) -> Browser:
    browser = Browser(sb)
    browser.login()
    return browser


def create(browser: Browser, **body: Any) -> dict[str, Any]:
    response = browser.call("POST", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def code_flow(sb: SandboxProcess, client: dict[str, Any], redirect: str) -> str:
    """Log in, approve the client on the consent page and return the code."""
    browser = admin(sb)
    params = {"client_id": client["id"], "redirect_uri": redirect, "response_type": "code", "state": "s"}
    page = browser.http.get(sb.url + "/oauth/authorize", params=params, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    auth_token = re.search(r'name="auth_token" value="([^"]+)"', page.text).group(1)
    approved = browser.http.post(sb.url + "/oauth/authorize", data={
        "state": "s", "client_id": client["id"], "auth_token": auth_token}, allow_redirects=False, timeout=10)
    return location_query(approved)["code"]


def exchange(sb: SandboxProcess, client: dict[str, Any], redirect: str, code: str) -> requests.Response:
    return post_token(sb, {"grant_type": "authorization_code", "client_id": client["id"],
                           "client_secret": client["secret"], "redirect_uri": redirect, "code": code})


def password_grant(sb: SandboxProcess, client: dict[str, Any]) -> requests.Response:
    admin_login = sb.credentials["admin"]
    return post_token(sb, {"grant_type": "password", "client_id": client["id"], "client_secret": client["secret"],
                           "username": admin_login["username"], "password": admin_login["password"]})


# -- list, create, update, delete -------------------------------------------------------------------------


def test_index_lists_every_active_client_with_its_secret(clean_sandbox: SandboxProcess) -> None:
    response = admin(clean_sandbox).call("GET")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    data = response.json()["data"]
    assert list(response.json()) == ["data"]
    seeded = clean_sandbox.credentials
    assert [(item["id"], item["name"], item["secret"]) for item in data] == [
        (int(seeded["personal_access_client"]["client_id"]), "PmApi", seeded["personal_access_client"]["client_secret"]),
        (int(seeded["password_client"]["client_id"]), "Password Grant", seeded["password_client"]["client_secret"]),
        (int(seeded["authorization_code_client"]["client_id"]), "Sandbox Authorization Code",
         seeded["authorization_code_client"]["client_secret"]),
    ]
    # types are derived: a non-empty redirect counts as the authorization code grant.
    assert [item["types"] for item in data] == [
        ["authorization_code_grant", "personal_access_client"], ["authorization_code_grant", "password_client"],
        ["authorization_code_grant"],
    ]
    assert all(list(item) == FIELDS and item["revoked"] is False and CARBON.fullmatch(item["created_at"])
               for item in data)


def test_create_update_and_delete(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    client = create(browser, name="Deploy bot", types=["authorization_code_grant"], redirect="https://ci.example/cb")
    assert list(client) == FIELDS
    assert (client["name"], client["redirect"], client["revoked"], client["types"]) == (
        "Deploy bot", "https://ci.example/cb", False, ["authorization_code_grant"])
    assert re.fullmatch(r"[A-Za-z0-9]{40}", client["secret"])
    assert CARBON.fullmatch(client["created_at"]) and client["updated_at"] == client["created_at"]
    row = query(clean_sandbox, "SELECT user_id, provider, personal_access_client, password_client FROM oauth_clients"
                               " WHERE id = ?", (client["id"],))
    assert row == [{"user_id": clean_sandbox.credentials["admin"]["id"], "provider": None,
                    "personal_access_client": 0, "password_client": 0}]
    assert client in browser.call("GET").json()["data"]

    # Without the code grant the redirect is stored empty, whatever the body says.
    updated = browser.call("PUT", f"/{client['id']}", json={
        "name": "Deploy bot 2", "types": ["password_client", "personal_access_client"], "redirect": "https://x.example"})
    assert updated.status_code == 200
    body = updated.json()
    assert (body["id"], body["name"], body["secret"], body["redirect"], body["types"]) == (
        client["id"], "Deploy bot 2", client["secret"], "", ["personal_access_client", "password_client"])
    # A personal access client made here is not registered as Passport's personal access client.
    assert query(clean_sandbox, "SELECT COUNT(*) AS n FROM oauth_personal_access_clients WHERE client_id = ?",
                 (client["id"],)) == [{"n": 0}]

    deleted = browser.call("DELETE", f"/{client['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert "Content-Type" not in deleted.headers
    assert client["id"] not in [item["id"] for item in browser.call("GET").json()["data"]]
    # update and destroy find revoked clients too (ClientRepository::find).
    again = browser.call("PUT", f"/{client['id']}", json={"name": "Back", "types": ["password_client"]})
    assert (again.status_code, again.json()["revoked"]) == (200, True)
    assert browser.call("DELETE", f"/{client['id']}").status_code == 204


def test_name_is_shown_as_sent_on_create_and_stored_as_text(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    client = create(browser, name=12345, types=["password_client"])
    assert client["name"] == 12345
    listed = [item for item in browser.call("GET").json()["data"] if item["id"] == client["id"]]
    assert listed[0]["name"] == "12345"


def test_validation_messages(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)

    def errors(body: dict[str, Any], method: str = "POST", path: str = "") -> dict[str, Any]:
        response = browser.call(method, path, json=body)
        assert response.status_code == 422, response.text
        return response.json()

    assert errors({}) == {
        "message": "The Name field is required. (and 1 more error)",
        "errors": {"name": ["The Name field is required."], "types": ["The Types field is required."]},
    }
    # min runs before required in the controller's "array|min:1|required", and both fail on [].
    assert errors({"name": "x", "types": []})["errors"] == {
        "types": ["The Auth-Client must have at least 1 item chosen.", "The Types field is required."]}
    assert errors({"name": "x", "types": ["authorization_code_grant"]})["errors"] == {
        "redirect": ["The Redirect field is required."]}
    assert errors({"name": "x", "types": ["authorization_code_grant"], "redirect": "not a url"})["errors"] == {
        "redirect": ["The Redirect field must be a valid URL."]}
    assert errors({"name": "x" * 256, "types": ["implicit", "password_client", 3]})["errors"] == {
        "name": ["The Name field must not be greater than 255 characters."],
        "types.0": ["The selected Types.0 is invalid."],
        "types.2": ["The selected Types.2 is invalid."],
    }
    assert errors({"name": "x", "types": "password_client"})["errors"] == {
        "types": ["The Types field must be an array."]}
    # update validates the same way (after finding the client).
    seeded = clean_sandbox.credentials["password_client"]["client_id"]
    assert errors({"name": "x"}, "PUT", f"/{seeded}")["errors"] == {"types": ["The Types field is required."]}


def test_unknown_ids_and_show_are_server_errors(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    body = {"name": "x", "types": ["password_client"]}
    for method, path in (("PUT", "/99999"), ("DELETE", "/99999"), ("PUT", "/abc"), ("GET", "/1"), ("GET", "/99999")):
        response = browser.call(method, path, json=body)
        assert (response.status_code, response.json()) == (500, SERVER_ERROR), (method, path)
    # MySQL compares the integer key with the string as a number: "2abc" is client 2.
    seeded = clean_sandbox.credentials["password_client"]["client_id"]
    response = browser.call("PUT", f"/{seeded}abc", json=body)
    assert (response.status_code, response.json()["id"]) == (200, int(seeded))


def test_browser_validation_failure_redirects_back(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    referer = clean_sandbox.url + "/admin/auth-clients"
    response = browser.call("POST", headers={"Referer": referer}, data={"name": "x"})
    assert (response.status_code, response.headers["Location"]) == (302, referer)


# -- who may call them -------------------------------------------------------------------------------------


def test_permissions_per_route(clean_sandbox: SandboxProcess) -> None:
    user, _ = user_with_token(clean_sandbox, "clientviewer", "view-auth_clients")
    viewer = Browser(clean_sandbox, "clientviewer", PASSWORD)
    assert viewer.call("GET").status_code == 200
    body = {"name": "x", "types": ["password_client"]}
    seeded = clean_sandbox.credentials["password_client"]["client_id"]
    for method, path in (("POST", ""), ("PUT", f"/{seeded}"), ("DELETE", f"/{seeded}")):
        response = viewer.call(method, path, json=body)
        assert (response.status_code, response.json()) == (403, UNAUTHORIZED), method
    # A browser gets Laravel's 403 page.
    page = viewer.call("POST", headers={"Accept": "text/html"}, data=body)
    assert page.status_code == 403 and page.headers["Content-Type"].startswith("text/html")
    # The permission check comes before the id lookup: no 500 for an unknown id without the permission.
    assert viewer.call("DELETE", "/99999").status_code == 403

    grant(clean_sandbox, user["id"], "view-auth_clients", "create-auth_clients", "edit-auth_clients",
          "delete-auth_clients")
    made = viewer.call("POST", json=body)
    assert made.status_code == 201
    assert viewer.call("PUT", f"/{made.json()['id']}", json=body).status_code == 200
    assert viewer.call("DELETE", f"/{made.json()['id']}").status_code == 204

    nobody = Browser(clean_sandbox)
    nobody.http.post(clean_sandbox.url + "/login", data={"username": "clientviewer", "password": PASSWORD},
                     timeout=10)
    grant(clean_sandbox, user["id"])
    assert (nobody.call("GET").status_code, nobody.call("GET").json()) == (403, UNAUTHORIZED)


def test_guests_and_bearer_tokens_are_not_users_here(clean_sandbox: SandboxProcess) -> None:
    # No session: CustomAuthorize reads the id of a null user, a server error; a Bearer token changes nothing.
    guest = Browser(clean_sandbox)
    bearer = {**JSON, "Authorization": "Bearer " + clean_sandbox.admin_token()}
    for headers in (JSON, bearer):
        response = guest.call("GET", headers=headers)
        assert (response.status_code, response.json()) == (500, SERVER_ERROR)
        response = guest.call("POST", headers=headers, json={"name": "x", "types": ["password_client"]})
        assert (response.status_code, response.json()) == (500, SERVER_ERROR)
    assert query(clean_sandbox, "SELECT COUNT(*) AS n FROM oauth_clients") == [{"n": 3}]
    page = guest.call("GET", headers={"Accept": "text/html"})
    assert page.status_code == 500 and page.headers["Content-Type"].startswith("text/html")
    counters = clean_sandbox.counters()["requests"]
    assert counters["GET /oauth/clients"] == 3 and counters["POST /oauth/clients"] == 2


# -- what the new clients can do at /oauth/token -----------------------------------------------------------


def test_password_client_does_the_password_grant(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    client = create(browser, name="Ansible", types=["password_client"])
    body = assert_token_success(password_grant(clean_sandbox, client), refresh=True)
    assert api_status(clean_sandbox, body["access_token"])[0] == 404  # a working token
    code_only = create(browser, name="Web app", types=["authorization_code_grant"], redirect="https://app.example/cb")
    assert_oauth_error(password_grant(clean_sandbox, code_only), 401, "invalid_client", INVALID_CLIENT)
    # client_credentials works for any confidential client; personal_access needs that type.
    response = post_token(clean_sandbox, {"grant_type": "client_credentials", "client_id": client["id"],
                                          "client_secret": client["secret"]})
    assert_token_success(response, refresh=False)
    personal = create(browser, name="PATs", types=["personal_access_client"])
    for target, ok in ((personal, True), (client, False)):
        response = post_token(clean_sandbox, {"grant_type": "personal_access", "client_id": target["id"],
                                              "client_secret": target["secret"],
                                              "user_id": clean_sandbox.credentials["admin"]["id"]})
        if ok:
            assert_token_success(response, refresh=False)
        else:
            assert_oauth_error(response, 401, "invalid_client", INVALID_CLIENT)


def test_code_client_does_the_code_flow_and_first_party_clients_cannot(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    redirect = "https://app.example/callback"
    third_party = create(browser, name="Web app", types=["authorization_code_grant"], redirect=redirect)
    code = code_flow(clean_sandbox, third_party, redirect)
    assert_token_success(exchange(clean_sandbox, third_party, redirect, code), refresh=True)

    first_party = create(browser, name="Both", types=["authorization_code_grant", "password_client"],
                         redirect=redirect)
    code = code_flow(clean_sandbox, first_party, redirect)  # /authorize does not check the grant
    assert_oauth_error(exchange(clean_sandbox, first_party, redirect, code), 401, "invalid_client", INVALID_CLIENT)


def test_delete_revokes_the_client_and_its_tokens(clean_sandbox: SandboxProcess) -> None:
    browser = admin(clean_sandbox)
    client = create(browser, name="Short lived", types=["password_client"])
    tokens = [assert_token_success(password_grant(clean_sandbox, client), refresh=True) for _ in range(2)]
    assert browser.call("DELETE", f"/{client['id']}").status_code == 204
    for token in tokens:
        assert api_status(clean_sandbox, token["access_token"]) == (401, UNAUTHENTICATED)
        refresh = post_token(clean_sandbox, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
                                             "client_id": client["id"], "client_secret": client["secret"]})
        assert_oauth_error(refresh, 401, "invalid_client", INVALID_CLIENT)
    assert query(clean_sandbox, "SELECT DISTINCT revoked FROM oauth_access_tokens WHERE client_id = ?",
                 (client["id"],)) == [{"revoked": 1}]
    assert_oauth_error(password_grant(clean_sandbox, client), 401, "invalid_client", INVALID_CLIENT)
