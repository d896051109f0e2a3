"""The security review and the newcomer trial (the "Trust" issue), through real ansible-playbook runs.

Each test is named after the item it pins. Every run is -vvv and the leak guard looks for every wire
form of every secret (percent-encoded, JSON-escaped, base64, Basic credentials), not only the literal.
A hostile server (a small HTTP server of this file, standing in for a proxy or an error page that
echoes requests) is used where the sandbox, being honest, would echo nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pm_integration import (
    LeakGuard,
    Runner,
    assert_clean_failure,
    keep_secret,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

# Secrets with every character the encodings touch: reserved URL characters, a space, a slash (PHP
# escapes it in JSON), non-ASCII (JSON \u escapes).
HOSTILE_PASSWORD = "P@ss word&é/ü+100%-7"
HOSTILE_SECRET = "Cl1ent/Secret+é=&?#-9"


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with an error that quotes the whole request back: the raw body (form
    encoded), its JSON rendering (PHP-style, slashes escaped) and every header (Basic/Bearer included)."""

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        headers = {name: value for name, value in self.headers.items()}
        echoed = json.dumps({"body": body, "headers": headers}).replace("/", "\\/")
        if self.path.startswith("/oauth/token"):
            payload = json.dumps({"error": "invalid_request", "error_description": f"bad request {echoed}",
                                  "message": f"bad request {echoed}"}).encode()
            status, kind = 400, "application/json"
        else:
            payload = f"<html><title>502 Proxy error: {body} {headers}</title></html>".encode()
            status, kind = 502, "text/html"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _echo

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def hostile_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- item 1: a cached token serves only the secrets that obtained it ---------------------------------

def test_item1_wrong_password_or_secret_never_gets_the_cached_token(pb: Runner, clean_sandbox: SandboxProcess,
                                                                    leak_guard: LeakGuard) -> None:
    leak_guard.add("TotallyWrong-pw", "wrong password")
    leak_guard.add("Wrong-client-secret", "wrong client secret")
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: A good run fills the cache
              ansible.builtin.set_fact:
                good: "{{{{ lookup('processmaker.core.pm_token') | length > 0 }}}}"
            - name: The lookup with a wrong password
              ansible.builtin.set_fact:
                stolen: "{{{{ lookup('processmaker.core.pm_token', password=bad_password) }}}}"
              register: wrong_password
              ignore_errors: true
            - name: The lookup with a wrong client secret
              ansible.builtin.set_fact:
                stolen: "{{{{ lookup('processmaker.core.pm_token', client_secret=bad_secret) }}}}"
              register: wrong_secret
              ignore_errors: true
            - name: pm_api with a token from the lookup with a wrong password
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ lookup('processmaker.core.pm_token', password=bad_password) }}}}"
              register: api_wrong
              ignore_errors: true
            {save_result("wrong_password")}
            {save_result("wrong_secret")}
            {save_result("api_wrong")}
    """, extra_vars={"bad_password": "TotallyWrong-pw", "bad_secret": "Wrong-client-secret"})
    ok(run)
    assert_clean_failure(pb.result("wrong_password"), "pm_token", "invalid_grant")
    assert_clean_failure(pb.result("wrong_secret"), "pm_token", "invalid_client")
    assert pb.result("api_wrong")["failed"] is True
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 1}  # only the good run got a token
    assert served(counters, "POST /oauth/token") == 4  # each wrong caller asked the server, and was refused


# --- item 2: options of one grant never fall through to another ---------------------------------------

@pytest.mark.parametrize("env_login", [True, False], ids=["password-in-env", "client-credentials-only"])
def test_item2_an_empty_callback_url_never_returns_another_grants_token(pb: Runner, clean_sandbox: SandboxProcess,
                                                                        env_login: bool) -> None:
    env = pb.env() if env_login else pb.env(PM_USERNAME=None, PM_PASSWORD=None)
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: The exchange with an empty callback URL (a variable that was not set)
              processmaker.core.pm_token:
                callback_url: ""
                expected_state: state-from-step-one
                code_verifier: verifier-from-step-one-0123456789012345678901234
              register: exchange
              ignore_errors: true
            {save_result("exchange")}
    """, env=env)
    ok(run)
    outcome = pb.result("exchange")
    assert_clean_failure(outcome, "callback_url is empty")
    assert "access_token" not in outcome
    assert clean_sandbox.counters()["tokens_issued_total"] == 0


# --- item 3: an automatic renewal does not strand the play ---------------------------------------------

def test_item3_two_tasks_with_the_same_spent_pair_both_work(short_pb: Runner,
                                                            short_ttl_sandbox: SandboxProcess) -> None:
    short_ttl_sandbox.reset()
    run = short_pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Log in (the access token lives 3 seconds)
              processmaker.core.pm_token:
              register: login
              no_log: true
            {keep_secret("login")}
            - name: Wait past the token's lifetime
              ansible.builtin.pause:
                seconds: 4
            - name: The first task renews the expired token (Passport revokes the pair it presents)
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ login.access_token }}}}"
                refresh_token: "{{{{ login.refresh_token }}}}"
              register: first
            - name: The second task presents the same, spent, pair
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ login.access_token }}}}"
                refresh_token: "{{{{ login.refresh_token }}}}"
              register: second
            - name: So does a lookup
              ansible.builtin.set_fact:
                through_lookup: "{{{{ lookup('processmaker.core.pm_api', 'users/1', access_token=login.access_token,
                                             refresh_token=login.refresh_token).username }}}}"
            {save_result("first")}
            {save_result("second")}
            {save_result("through_lookup")}
    """)
    ok(run)
    assert pb_status(short_pb, "first") == pb_status(short_pb, "second") == 200
    assert short_pb.result("through_lookup") == "admin"
    counters = short_ttl_sandbox.counters()
    # The spent pair was never sent again: every token request was answered 200 (a reused refresh token
    # gets 401), one login, and the renewals continued the one chain (a slow machine may see the 3-second
    # rotated token expire too before the lookup, which then renews the live end of the chain).
    assert counters["statuses"]["POST /oauth/token"] == {"200": served(counters, "POST /oauth/token")}
    assert counters["tokens_issued"]["password"] == 1 and counters["tokens_issued"]["refresh_token"] >= 1


def pb_status(pb: Runner, name: str) -> int:
    return pb.result(name)["status"]


# --- item 4: every encoding of a secret is masked, in modules and lookups ------------------------------

def test_item4_a_server_echoing_the_request_shows_no_secret_in_any_encoding(pb: Runner, hostile_url: str,
                                                                            leak_guard: LeakGuard) -> None:
    leak_guard.add(HOSTILE_PASSWORD, "hostile test password")
    leak_guard.add(HOSTILE_SECRET, "hostile test client secret")
    creds = {"url": hostile_url, "client_id": "hostile-client", "client_secret": HOSTILE_SECRET,
             "username": "admin", "password": HOSTILE_PASSWORD}
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: pm_api against a server that echoes the token request
              processmaker.core.pm_api:
                path: users
                url: "{{{{ creds.url }}}}"
                client_id: "{{{{ creds.client_id }}}}"
                client_secret: "{{{{ creds.client_secret }}}}"
                username: admin
                password: "{{{{ creds.password }}}}"
              register: module_call
              ignore_errors: true
            - name: The pm_token lookup against it
              ansible.builtin.set_fact:
                token: "{{{{ lookup('processmaker.core.pm_token', url=creds.url, client_id=creds.client_id,
                                    client_secret=creds.client_secret, username='admin', password=creds.password,
                                    cache=false) }}}}"
              register: lookup_call
              ignore_errors: true
            - name: pm_api with a bearer token against an API that echoes the headers
              processmaker.core.pm_api:
                path: users
                url: "{{{{ creds.url }}}}"
                access_token: "{{{{ creds.token }}}}"
                retries: 0
              register: bearer_call
              ignore_errors: true
            {save_result("module_call")}
            {save_result("lookup_call")}
            {save_result("bearer_call")}
    """, extra_vars={"creds": {**creds, "token": "eyJhostile.token-value-123456.signature"}})
    leak_guard.add("eyJhostile.token-value-123456.signature", "bearer token given")
    ok(run)
    for name in ("module_call", "lookup_call"):
        message = assert_clean_failure(pb.result(name))
        assert "********" in message, message  # the echo was there, masked
    assert_clean_failure(pb.result("bearer_call"), "502")
    # the leak guard (at the end of the test) checks every encoding of every secret in the whole output


# --- item 5: a write-only field given wrongly is masked before it is rejected ---------------------------

def test_item5_secret_field_of_the_wrong_type_or_case_never_shows(pb: Runner, clean_sandbox: SandboxProcess,
                                                                  leak_guard: LeakGuard) -> None:
    leak_guard.add("env-var-SECRET-value-1", "environment variable value")
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: A value given as a mapping
              processmaker.core.pm_resource:
                kind: environment_variables
                items:
                  - name: API_KEY
                    value: {{nested: env-var-SECRET-value-1}}
              register: as_mapping
              ignore_errors: true
            - name: A value given with the wrong case
              processmaker.core.pm_resource:
                kind: environment_variables
                items:
                  - name: API_KEY
                    Value: env-var-SECRET-value-1
              register: wrong_case
              ignore_errors: true
            {save_result("as_mapping")}
            {save_result("wrong_case")}
    """)
    ok(run)
    assert_clean_failure(pb.result("as_mapping"), "value")
    assert_clean_failure(pb.result("wrong_case"), "unknown field 'Value'")
    assert served(clean_sandbox.counters(), "POST /api/1.0/environment_variables") == 0


# --- item 6: ~/.netrc never replaces the Bearer token; user info in url is refused ---------------------

def test_item6_netrc_for_the_api_host_changes_nothing(pb: Runner, clean_sandbox: SandboxProcess,
                                                      tmp_path: Path, leak_guard: LeakGuard) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login netrc-login password netrc-Pass-123\n")
    (home / ".netrc").chmod(0o600)
    leak_guard.add("netrc-Pass-123", "netrc password")
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Log in, with a netrc entry for the host
              processmaker.core.pm_token:
              register: login
              no_log: true
            {keep_secret("login")}
            - name: Call the API with the token, with a netrc entry for the host
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ login.access_token }}}}"
              register: api
            - name: User info in url
              processmaker.core.pm_api:
                path: users/1
                url: "http://ci:netrc-Pass-123@127.0.0.1:1"
              register: userinfo
              ignore_errors: true
            {save_result("api")}
            {save_result("userinfo")}
    """, env=pb.env(HOME=str(home)))
    ok(run)
    assert pb.result("api")["status"] == 200 and pb.result("api")["json"]["id"] == 1
    assert_clean_failure(pb.result("userinfo"), "url must not hold user:password@")


# --- item 7: plain http to a non-loopback host warns ------------------------------------------------------

def test_item7_plain_http_to_another_host_warns_once(pb: Runner) -> None:
    """Once per task and per lookup (two runs here: Ansible shows a warning once per run)."""
    module_task = """
            - name: A plain http URL that is not loopback (it does not resolve, the warning comes first)
              processmaker.core.pm_api:
                path: users
                url: http://processmaker.invalid
                access_token: not-a-real-token-1234
                retries: 0
              ignore_errors: true
    """
    lookup_task = """
            - name: The lookup
              ansible.builtin.set_fact:
                data: "{{ lookup('processmaker.core.pm_api', 'users', url='http://processmaker.invalid',
                                 access_token='not-a-real-token-1234', retries=0) }}"
              ignore_errors: true
    """
    for task in (module_task, lookup_task):
        run = ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
{task}
        """))
        warnings = [w for w in run.warnings() if "plain http://" in w]
        assert len(warnings) == 1 and "unencrypted" in warnings[0], run.warnings()


# --- item 15: a string body is sent as it is ------------------------------------------------------------

def test_item15_a_json_string_body_creates_the_group(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: A body written as JSON text
              processmaker.core.pm_api:
                method: POST
                path: groups
                body: '{{"name": "Text Body Group", "description": "from a string", "status": "ACTIVE"}}'
                status_code: [201]
              register: created
            - name: A body from to_json
              processmaker.core.pm_api:
                method: POST
                path: groups
                body: "{{{{ {{'name': 'To Json Group', 'status': 'ACTIVE'}} | to_json }}}}"
                status_code: [201]
            {save_result("created")}
    """)
    ok(run)
    groups = {g["name"]: g for g in clean_sandbox.api("GET", "/groups", params={"per_page": 100}).json()["data"]}
    assert groups["Text Body Group"]["description"] == "from a string" and "To Json Group" in groups


# --- item 18: hints that point at the mistake -------------------------------------------------------------

def test_item18_url_with_the_api_path_names_url(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    url = clean_sandbox.credentials["url"]
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_api:
                path: users
                url: "{url}/api/1.0"
              register: wrong_url
              ignore_errors: true
            {save_result("wrong_url")}
    """)
    ok(run)
    message = assert_clean_failure(pb.result("wrong_url"), "url must be the server's root")
    assert url in message and "405" not in message


def test_item18_connection_refused_says_so(pb: Runner) -> None:
    run = pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_api:
                path: users
                url: http://127.0.0.1:1
                access_token: not-a-real-token-1234
                retries: 0
              register: refused
              ignore_errors: true
            {save_result("refused")}
    """)
    ok(run)
    assert_clean_failure(pb.result("refused"), "Connection refused")


def test_item8_a_cache_dir_in_a_parent_others_can_write_is_not_used(pb: Runner, clean_sandbox: SandboxProcess,
                                                                    tmp_path: Path) -> None:
    parent = tmp_path / "open-parent"
    parent.mkdir()
    os.chmod(parent, 0o777)
    run = pb.play("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_api:
                path: users/1
                access_token: "{{ lookup('processmaker.core.pm_token') }}"
    """, env=pb.env(PM_TOKEN_CACHE_DIR=str(parent / "tokens")))
    ok(run)
    assert any("writable by other users" in " ".join(w.split()) for w in run.warnings()), run.warnings()
    assert not (parent / "tokens").exists() or not list((parent / "tokens").iterdir())
