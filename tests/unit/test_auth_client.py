"""pm_auth_client in-process against a scripted ProcessMaker: the admin UI's login form (with its CSRF
token and session cookie), then the JSON web routes of /oauth/clients."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from ansible_collections.processmaker.core.plugins.modules import pm_auth_client
from unit_helpers import Reply, run_module

PASSWORD = "Adm1n-pa55-w0rd!"
CSRF = "csrf-token-0123456789"
LOGIN_PAGE = (f'<html><head><meta name="csrf-token" content="{CSRF}"></head><body><form method="POST" action="/login">'
              f'<input type="hidden" name="_token" value="{CSRF}"><input name="username"><input name="password">'
              '</form></body></html>')


class AdminUi:
    """The server side: /login sets a session cookie when the form is right; /oauth/clients needs it."""

    def __init__(self, server, clients=()):
        self.server = server
        self.clients = {client["id"]: dict(client) for client in clients}
        self.next_id = 100
        server.on("GET", "/login", Reply(200, LOGIN_PAGE, {"Content-Type": "text/html"}))
        server.on("POST", "/login", self.login)
        server.on("GET", "/oauth/clients", self.listing)
        server.on("POST", "/oauth/clients", self.create)
        for client_id in range(1, 200):
            server.on("PUT", f"/oauth/clients/{client_id}", self.update)
            server.on("DELETE", f"/oauth/clients/{client_id}", self.delete)

    def login(self, request):
        form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
        if form.get("password") == PASSWORD and form.get("_token") == CSRF:
            return Reply(302, "", {"Location": self.server.url + "/", "Set-Cookie": "processmaker_session=s1; Path=/"})
        return Reply(302, "", {"Location": self.server.url + "/login"})

    def _refused(self, request):
        if "processmaker_session=s1" not in request.headers.get("Cookie", ""):
            return Reply(401, {"message": "Unauthenticated."})
        if request.headers.get("X-CSRF-TOKEN") != CSRF:
            return Reply(419, {"message": "CSRF token mismatch."})
        return None

    def listing(self, request):
        return self._refused(request) or Reply(200, {"data": list(self.clients.values())})

    def _types(self, body):
        return [t for t in ("authorization_code_grant", "personal_access_client", "password_client") if t in body["types"]]

    def create(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        body = json.loads(request.body)
        self.next_id += 1
        client = {"id": self.next_id, "name": body["name"], "secret": f"secret-{self.next_id}-abcdefghijklmnopqrst",
                  "redirect": body.get("redirect", "") if "authorization_code_grant" in body["types"] else "",
                  "revoked": False, "types": self._types(body)}
        self.clients[client["id"]] = client
        return Reply(201, client)

    def update(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        client = self.clients[int(request.path.rsplit("/", 1)[1])]
        body = json.loads(request.body)
        client.update(name=body["name"], types=self._types(body),
                      redirect=body.get("redirect", "") if "authorization_code_grant" in body["types"] else "")
        return Reply(200, client)

    def delete(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        del self.clients[int(request.path.rsplit("/", 1)[1])]
        return Reply(204)


def args(server, **extra):
    return {"url": server.url, "username": "admin", "password": PASSWORD, **extra}


def writes(server):
    return [(r.method, r.path) for r in server.requests if r.method in ("POST", "PUT", "DELETE") and r.path != "/login"]


def test_creates_a_missing_client_and_returns_its_secret(server):
    ui = AdminUi(server)
    result = run_module(pm_auth_client, args(server, name="ci-pipeline"))
    assert result["changed"] and result["action"] == "create"
    assert result["client_id"] == "101" and result["client_secret"].startswith("secret-101")
    assert "secret" not in result["auth_client"] and ui.clients[101]["types"] == ["password_client"]
    login = next(r for r in server.requests if r.path == "/login" and r.method == "POST")
    assert parse_qs(login.body.decode())["_token"] == [CSRF]  # the form's CSRF token went with the login


def test_an_existing_client_is_unchanged_and_still_gives_its_secret(server):
    AdminUi(server, [{"id": 7, "name": "ci-pipeline", "secret": "kept-secret-value-0123", "redirect": "",
                      "revoked": False, "types": ["password_client"]}])
    result = run_module(pm_auth_client, args(server, name="ci-pipeline", types=["password_client"]))
    assert not result["changed"] and result["action"] == "unchanged"
    assert result["client_id"] == "7" and result["client_secret"] == "kept-secret-value-0123"
    assert writes(server) == []


def test_types_and_redirect_differ_updates_and_diffs_without_the_secret(server):
    AdminUi(server, [{"id": 7, "name": "browser", "secret": "kept-secret-value-0123", "redirect": "",
                      "revoked": False, "types": ["password_client"]}])
    result = run_module(pm_auth_client, args(server, name="browser", types=["authorization_code_grant"],
                                             redirect="http://127.0.0.1:8976/callback", _ansible_diff=True))
    assert result["changed"] and result["action"] == "update" and writes(server) == [("PUT", "/oauth/clients/7")]
    assert result["diff"]["before"]["types"] == ["password_client"]
    assert result["diff"]["after"] == {"name": "browser", "types": ["authorization_code_grant"],
                                       "redirect": "http://127.0.0.1:8976/callback"}
    assert "kept-secret-value-0123" not in json.dumps(result["diff"])


def test_recreate_rotates_the_secret(server):
    ui = AdminUi(server, [{"id": 7, "name": "ci", "secret": "old-secret-value-0123", "redirect": "",
                           "revoked": False, "types": ["password_client"]}])
    result = run_module(pm_auth_client, args(server, name="ci", recreate=True))
    assert result["action"] == "recreate" and result["client_secret"] != "old-secret-value-0123"
    assert writes(server) == [("DELETE", "/oauth/clients/7"), ("POST", "/oauth/clients")]
    assert list(ui.clients) == [101]


def test_absent_deletes_and_check_mode_writes_nothing(server):
    ui = AdminUi(server, [{"id": 7, "name": "ci", "secret": "s-0123456789", "redirect": "", "revoked": False,
                           "types": ["password_client"]}])
    predicted = run_module(pm_auth_client, args(server, name="ci", state="absent", _ansible_check_mode=True))
    assert predicted["changed"] and predicted["action"] == "delete" and writes(server) == []
    done = run_module(pm_auth_client, args(server, name="ci", state="absent"))
    assert done["changed"] and ui.clients == {}
    again = run_module(pm_auth_client, args(server, name="ci", state="absent"))
    assert not again["changed"] and again["action"] == "unchanged"


def test_a_refused_login_fails_in_one_line(server):
    AdminUi(server)
    result = run_module(pm_auth_client, args(server, name="ci", password="not-the-password"))
    assert result["failed"] and "login form refused the credentials" in result["msg"]
    assert "not-the-password" not in result["_raw"] and writes(server) == []


@pytest.mark.parametrize("extra,says", [
    ({"types": ["authorization_code_grant"]}, "needs redirect"),
    ({"types": []}, "types is empty"),
    ({"name": " "}, "name is empty"),
    ({"username": None, "password": None}, "need a session login: set username and password"),
])
def test_bad_input_fails_before_any_request(server, extra, says):
    AdminUi(server)
    result = run_module(pm_auth_client, {**args(server, name="ci"), **extra})
    assert result["failed"] and says in result["msg"], result["msg"]
    assert not [r for r in server.requests if r.path != "/login"]


def test_two_clients_of_one_name_are_refused(server):
    twin = {"secret": "s-0123456789", "redirect": "", "revoked": False, "types": ["password_client"], "name": "ci"}
    AdminUi(server, [dict(twin, id=7), dict(twin, id=8)])
    result = run_module(pm_auth_client, args(server, name="ci"))
    assert result["failed"] and "2 auth clients are named 'ci' (ids 7, 8)" in result["msg"]
