"""processmaker.core.pm_token against a live sandbox: every grant, personal access tokens, every error path.

What the module returns is read from files its plays saved (tokens with mode 0600 by no_log tasks);
whether it worked is checked on the server: the sandbox's counters and API calls made with the tokens.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from approve_in_browser import approve
from pm_integration import (
    Runner,
    assert_clean_failure,
    keep_secret,
    ok,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess

WRONG_PASSWORD = "Wrong-Password-42!"
WRONG_SECRET = "wrong-client-secret-0123456789abcdef"


def status_with(sandbox: SandboxProcess, token: str, path: str = "/users/1") -> int:
    return sandbox.api("GET", path, token=token).status_code


def token_counts(sandbox: SandboxProcess) -> dict:
    return sandbox.counters()["tokens_issued"]


def code_client(sandbox: SandboxProcess) -> dict:
    return sandbox.credentials["authorization_code_client"]


def code_env(pb: Runner, sandbox: SandboxProcess) -> dict:
    client = code_client(sandbox)
    return pb.env(PM_CLIENT_ID=client["client_id"], PM_CLIENT_SECRET=client["client_secret"])


# ---------------------------------------------------------------------------------------------
# grants


def test_password_grant(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Password grant, everything from PM_* variables
              processmaker.core.pm_token:
              register: login
              no_log: true
            - name: Token requests run in check mode too (they change no configuration)
              processmaker.core.pm_token:
              check_mode: true
              register: in_check_mode
              no_log: true
            {keep_secret("login")}
            {keep_secret("in_check_mode")}
    """))
    login = pb.secret("login")
    assert login["changed"] is False
    assert login["grant_type"] == "password"
    assert login["token_type"] == "Bearer"
    assert login["user"] == {"id": 1, "username": "admin"}
    assert login["refresh_token"] and login["expires_in"] > 3600
    assert login["expires_at"].endswith("Z") and isinstance(login["expires_at_epoch"], int)
    assert token_counts(clean_sandbox) == {"password": 2}
    assert status_with(clean_sandbox, login["access_token"]) == 200
    in_check_mode = pb.secret("in_check_mode")
    assert in_check_mode["changed"] is False
    assert status_with(clean_sandbox, in_check_mode["access_token"]) == 200


def test_password_grant_precedence_task_over_module_defaults_over_env(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """A wrong password in the environment loses to module_defaults, which loses to the task."""
    admin = clean_sandbox.credentials["admin"]
    env = pb.env(PM_PASSWORD=WRONG_PASSWORD)
    pb.guard.add(WRONG_PASSWORD, "wrong password")
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          module_defaults:
            group/processmaker.core.all:
              password: "{{{{ admin_password }}}}"
          tasks:
            - name: module_defaults beat the environment
              processmaker.core.pm_token:
              register: from_defaults
              no_log: true
            - name: the task beats module_defaults
              processmaker.core.pm_token:
                password: "{{{{ wrong_password }}}}"
              register: from_task
              ignore_errors: true
            {keep_secret("from_defaults")}
            {save_result("from_task")}
    """, env=env, extra_vars={"admin_password": admin["password"], "wrong_password": WRONG_PASSWORD}))
    assert pb.secret("from_defaults")["user"]["username"] == "admin"
    assert_clean_failure(pb.result("from_task"), "HTTP 400", "invalid_grant", "The user credentials were incorrect")


def test_refresh_token_grant_rotates(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_token:
              register: login
              no_log: true
            - name: Renew with the refresh token
              processmaker.core.pm_token:
                refresh_token: "{{{{ login.refresh_token }}}}"
              register: renewed
              no_log: true
            - name: The old refresh token is spent
              processmaker.core.pm_token:
                refresh_token: "{{{{ login.refresh_token }}}}"
              register: reused
              ignore_errors: true
            - name: A refresh token that never was
              processmaker.core.pm_token:
                grant_type: refresh_token
                refresh_token: "def50200{{{{ '0' * 64 }}}}"
              register: bogus
              ignore_errors: true
            {keep_secret("login")}
            {keep_secret("renewed")}
            {save_result("reused")}
            {save_result("bogus")}
    """))
    login, renewed = pb.secret("login"), pb.secret("renewed")
    assert renewed["grant_type"] == "refresh_token"
    assert renewed["access_token"] != login["access_token"]
    assert renewed["refresh_token"] != login["refresh_token"]
    assert token_counts(clean_sandbox) == {"password": 1, "refresh_token": 1}
    assert status_with(clean_sandbox, renewed["access_token"]) == 200
    assert status_with(clean_sandbox, login["access_token"]) == 401  # Passport revokes the old access token
    assert_clean_failure(pb.result("reused"), "/oauth/token", "HTTP 401", "refresh token", "revoked")
    assert_clean_failure(pb.result("bogus"), "/oauth/token", "refresh token is invalid")


def test_client_credentials_grant(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_token:
                grant_type: client_credentials
              register: client_token
              no_log: true
            {keep_secret("client_token")}
    """))
    token = pb.secret("client_token")
    assert token["grant_type"] == "client_credentials"
    assert "refresh_token" not in token and "user" not in token
    assert token_counts(clean_sandbox) == {"client_credentials": 1}
    # as the module's notes say: ProcessMaker's API does not take tokens without a user
    assert status_with(clean_sandbox, token["access_token"]) == 401


def first_step(pb: Runner, sandbox: SandboxProcess, name: str = "authorize") -> dict:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Build the authorization URL
              processmaker.core.pm_token:
                grant_type: authorization_code
                redirect_uri: "{{{{ redirect_uri }}}}"
              register: authorize
              no_log: true
            {keep_secret("authorize", name)}
    """, env=code_env(pb, sandbox), extra_vars={"redirect_uri": code_client(sandbox)["redirect_uri"]}))
    return pb.secret(name)


def person_approves(sandbox: SandboxProcess, url: str, *, deny: bool = False) -> str:
    admin = sandbox.credentials["admin"]
    return approve(url, admin["username"], admin["password"], deny=deny)


def test_authorization_code_grant_with_state_and_pkce(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    step = first_step(pb, clean_sandbox)
    assert step["changed"] is False
    query = parse_qs(urlsplit(step["authorization_url"]).query)
    client = code_client(clean_sandbox)
    assert step["authorization_url"].startswith(clean_sandbox.url + "/oauth/authorize?")
    assert query["response_type"] == ["code"] and query["client_id"] == [client["client_id"]]
    assert query["redirect_uri"] == [client["redirect_uri"]]
    assert query["state"] == [step["state"]] and len(step["state"]) >= 16
    assert query["code_challenge_method"] == ["S256"]
    digest = hashlib.sha256(step["code_verifier"].encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()] == [step["code_challenge"]]
    assert 43 <= len(step["code_verifier"]) <= 128
    assert token_counts(clean_sandbox) == {}  # the first step asks the server nothing

    callback = person_approves(clean_sandbox, step["authorization_url"])
    second = person_approves(clean_sandbox, step["authorization_url"])  # approved before: no consent page
    code = parse_qs(urlsplit(second).query)["code"][0]
    pb.guard.add(callback, "callback URL")
    pb.guard.add(code, "authorization code")
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          vars:
            step: "{{{{ lookup('file', secrets_dir + '/authorize.json') | from_json }}}}"
          tasks:
            - name: Exchange the whole callback URL, checking the state
              processmaker.core.pm_token:
                callback_url: "{{{{ callback }}}}"
                expected_state: "{{{{ step.state }}}}"
                code_verifier: "{{{{ step.code_verifier }}}}"
                redirect_uri: "{{{{ redirect_uri }}}}"
              register: by_url
              no_log: true
            - name: Exchange a code and the state given separately
              processmaker.core.pm_token:
                code: "{{{{ code }}}}"
                received_state: "{{{{ step.state }}}}"
                expected_state: "{{{{ step.state }}}}"
                code_verifier: "{{{{ step.code_verifier }}}}"
                redirect_uri: "{{{{ redirect_uri }}}}"
              register: by_code
              no_log: true
            {keep_secret("by_url")}
            {keep_secret("by_code")}
    """, env=code_env(pb, clean_sandbox),
        extra_vars={"callback": callback, "code": code, "redirect_uri": client["redirect_uri"]}))
    for name in ("by_url", "by_code"):
        token = pb.secret(name)
        assert token["grant_type"] == "authorization_code"
        assert token["user"] == {"id": 1, "username": "admin"}
        assert token["refresh_token"]
        assert status_with(clean_sandbox, token["access_token"]) == 200
    assert token_counts(clean_sandbox) == {"authorization_code": 2}


def test_authorization_code_errors(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """Forged state, reused code, wrong and missing PKCE verifier, a denied consent: one clear line each."""
    step = first_step(pb, clean_sandbox)
    callbacks = {name: person_approves(clean_sandbox, step["authorization_url"]) for name in ("one", "two", "three")}
    callbacks["denied"] = person_approves(clean_sandbox, step["authorization_url"] + "&prompt=consent", deny=True)
    for name, url in callbacks.items():
        pb.guard.add(url, f"callback URL {name}")
    wrong_verifier = "W" * 64
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          vars:
            step: "{{{{ lookup('file', secrets_dir + '/authorize.json') | from_json }}}}"
          module_defaults:
            group/processmaker.core.all:
              redirect_uri: "{{{{ redirect_uri }}}}"
          tasks:
            - name: A state that does not match
              processmaker.core.pm_token:
                callback_url: "{{{{ callbacks.one }}}}"
                expected_state: forged-or-from-another-attempt
                code_verifier: "{{{{ step.code_verifier }}}}"
              register: forged
              ignore_errors: true
            - name: The real exchange
              processmaker.core.pm_token:
                callback_url: "{{{{ callbacks.one }}}}"
                expected_state: "{{{{ step.state }}}}"
                code_verifier: "{{{{ step.code_verifier }}}}"
              register: login
              no_log: true
            - name: The same code again
              processmaker.core.pm_token:
                callback_url: "{{{{ callbacks.one }}}}"
                expected_state: "{{{{ step.state }}}}"
                code_verifier: "{{{{ step.code_verifier }}}}"
              register: reused
              ignore_errors: true
            - name: Another verifier than the one of the challenge
              processmaker.core.pm_token:
                callback_url: "{{{{ callbacks.two }}}}"
                code_verifier: "{{{{ wrong_verifier }}}}"
              register: wrong_verifier_result
              ignore_errors: true
            - name: No verifier although the URL carried a challenge
              processmaker.core.pm_token:
                callback_url: "{{{{ callbacks.three }}}}"
              register: no_verifier
              ignore_errors: true
            - name: The person pressed Cancel
              processmaker.core.pm_token:
                callback_url: "{{{{ callbacks.denied }}}}"
                expected_state: "{{{{ step.state }}}}"
              register: denied
              ignore_errors: true
            - name: expected_state but no state came back
              processmaker.core.pm_token:
                code: not-a-real-code
                expected_state: "{{{{ step.state }}}}"
              register: no_state
              ignore_errors: true
            {keep_secret("login")}
            {save_result("forged")}
            {save_result("reused")}
            {save_result("wrong_verifier_result")}
            {save_result("no_verifier")}
            {save_result("denied")}
            {save_result("no_state")}
    """, env=code_env(pb, clean_sandbox), extra_vars={
        "callbacks": callbacks, "wrong_verifier": wrong_verifier, "redirect_uri": code_client(clean_sandbox)["redirect_uri"]}))
    assert_clean_failure(pb.result("forged"), "does not match expected_state")
    # league/oauth2-server 8.5 (ProcessMaker's) answers a reused code with invalid_request
    assert_clean_failure(pb.result("reused"), "/oauth/token", "Authorization code has been revoked")
    assert_clean_failure(pb.result("wrong_verifier_result"), "/oauth/token", "code_verifier")
    assert_clean_failure(pb.result("no_verifier"), "/oauth/token", "code_verifier")
    assert_clean_failure(pb.result("denied"), "authorization failed", "access_denied")
    assert_clean_failure(pb.result("no_state"), "expected_state", "no state came back")
    # the forged state and the denial were caught before asking the server; one exchange worked
    assert token_counts(clean_sandbox) == {"authorization_code": 1}
    assert served(clean_sandbox.counters(), "POST /oauth/token") == 4
    assert status_with(clean_sandbox, pb.secret("login")["access_token"]) == 200


def test_given_token_is_validated(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    created = clean_sandbox.api("POST", "/users/1/tokens", json={"name": "given"}).json()
    pat = created["accessToken"]
    pb.guard.add(pat, "PAT")
    clean_sandbox.reset_counters()
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Check a PAT
              processmaker.core.pm_token:
                access_token: "{{{{ pat }}}}"
              register: checked
            - name: Check garbage
              processmaker.core.pm_token:
                access_token: not-a-token-at-all
              register: garbage
              ignore_errors: true
            {save_result("checked")}
            {save_result("garbage")}
    """, extra_vars={"pat": pat}))
    checked = pb.result("checked")
    assert checked["valid"] is True and checked["changed"] is False
    assert checked["grant_type"] == "token"
    assert checked["user"] == {"id": 1, "username": "admin"}
    assert checked["expires_at"][:10] == created["token"]["expires_at"][:10]
    assert "access_token" not in checked and "refresh_token" not in checked
    assert_clean_failure(pb.result("garbage"), "HTTP 401", "invalid, expired or revoked")
    assert token_counts(clean_sandbox) == {}  # validating asks for no token
    assert served(clean_sandbox.counters(), "GET /api/1.0/users/*") == 1


# ---------------------------------------------------------------------------------------------
# personal access tokens


def active_pats(sandbox: SandboxProcess, user: int = 1) -> list[dict]:
    return sandbox.api("GET", f"/users/{user}/tokens").json()["data"]


def test_personal_access_tokens_lifecycle(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          module_defaults:
            group/processmaker.core.all:
              user: admin
          tasks:
            - name: Create (check mode)
              processmaker.core.pm_token:
                name: ci-deploy
              check_mode: true
              register: create_check
            - name: Create
              processmaker.core.pm_token:
                name: ci-deploy
              register: created
              no_log: true
            - name: Create again (there is one)
              processmaker.core.pm_token:
                name: ci-deploy
              register: again
            - name: Recreate (check mode)
              processmaker.core.pm_token:
                name: ci-deploy
                recreate: true
              check_mode: true
              register: recreate_check
            - name: Recreate
              processmaker.core.pm_token:
                name: ci-deploy
                recreate: true
              register: recreated
              no_log: true
            - name: Default user is the caller
              processmaker.core.pm_token:
                name: mine
              register: mine
              no_log: true
            - name: Revoke by id
              processmaker.core.pm_token:
                token_id: "{{{{ mine.personal_access_token.id }}}}"
                state: absent
              register: by_id
            - name: Revoke by name (check mode)
              processmaker.core.pm_token:
                name: ci-deploy
                state: absent
              check_mode: true
              register: absent_check
            {keep_secret("created")}
            {keep_secret("recreated")}
            {keep_secret("mine")}
            {save_result("create_check")}
            {save_result("again")}
            {save_result("recreate_check")}
            {save_result("by_id")}
            {save_result("absent_check")}
    """))
    created, recreated, mine = pb.secret("created"), pb.secret("recreated"), pb.secret("mine")
    assert pb.result("create_check")["changed"] is True and "access_token" not in pb.result("create_check")
    assert created["changed"] is True and created["personal_access_token"]["name"] == "ci-deploy"
    assert created["user"] == {"id": 1, "username": "admin"}
    again = pb.result("again")
    assert again["changed"] is False and "access_token" not in again
    assert again["personal_access_token"]["id"] == created["personal_access_token"]["id"]
    assert pb.result("recreate_check")["changed"] is True
    assert pb.result("recreate_check")["revoked"] == [created["personal_access_token"]["id"]]
    assert recreated["changed"] is True and recreated["revoked"] == [created["personal_access_token"]["id"]]
    assert mine["user"]["id"] == 1
    by_id = pb.result("by_id")
    assert by_id["changed"] is True and by_id["revoked"] == [mine["personal_access_token"]["id"]]
    assert pb.result("absent_check")["changed"] is True

    # on the server: the recreated one works, the first and the revoked-by-id one do not
    assert status_with(clean_sandbox, recreated["access_token"]) == 200
    assert status_with(clean_sandbox, created["access_token"]) == 401
    assert status_with(clean_sandbox, mine["access_token"]) == 401
    assert [item["name"] for item in active_pats(clean_sandbox)] == ["ci-deploy"]
    assert token_counts(clean_sandbox).get("personal_access") == 3  # check mode created none

    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Revoke by name
              processmaker.core.pm_token:
                name: ci-deploy
                user: "1"
                state: absent
              register: revoked
            - name: Revoke again
              processmaker.core.pm_token:
                name: ci-deploy
                user: "1"
                state: absent
              register: revoked_again
            - name: Owner that does not exist
              processmaker.core.pm_token:
                name: x
                user: nobody-by-that-name
              register: no_owner
              ignore_errors: true
            {save_result("revoked")}
            {save_result("revoked_again")}
            {save_result("no_owner")}
    """))
    assert pb.result("revoked")["changed"] is True
    assert pb.result("revoked_again") | {"changed": False} == pb.result("revoked_again")
    assert pb.result("revoked_again")["revoked"] == []
    assert_clean_failure(pb.result("no_owner"), "no user with username", "nobody-by-that-name")
    assert active_pats(clean_sandbox) == []
    assert status_with(clean_sandbox, recreated["access_token"]) == 401


# ---------------------------------------------------------------------------------------------
# error paths


@pytest.mark.parametrize(
    ("args", "env_change", "needles"),
    [
        pytest.param({"password": "{{ wrong_password }}"}, {}, ["/oauth/token", "HTTP 400", "invalid_grant",
                     "credentials were incorrect"], id="wrong-password"),
        pytest.param({"client_secret": "{{ wrong_secret }}"}, {}, ["/oauth/token", "HTTP 401", "invalid_client",
                     "client_secret"], id="wrong-client-secret"),
        pytest.param({"client_id": "4242"}, {}, ["/oauth/token", "HTTP 401", "invalid_client"], id="unknown-client"),
        pytest.param({"grant_type": "client_credentials"}, {"PM_CLIENT_SECRET": None},
                     ["grant_type=client_credentials needs client_secret", "PM_CLIENT_SECRET"],
                     id="client-credentials-without-secret"),
        pytest.param({}, {"PM_URL": None}, ["url is required", "PM_URL"], id="missing-url"),
        pytest.param({}, {"PM_CLIENT_ID": None}, ["grant_type=password needs client_id", "PM_CLIENT_ID"],
                     id="missing-client-id"),
        pytest.param({"grant_type": "password"}, {"PM_USERNAME": None}, ["username", "PM_USERNAME"],
                     id="missing-username"),
        pytest.param({"grant_type": "refresh_token"}, {}, ["grant_type=refresh_token needs refresh_token"],
                     id="missing-refresh-token"),
        pytest.param({}, {"PM_USERNAME": None, "PM_PASSWORD": None, "PM_CLIENT_SECRET": None},
                     ["no credentials"], id="no-credentials"),
        pytest.param({"url": "pm.example.com"}, {}, ["url must start with https:// or http://"], id="url-without-scheme"),
        pytest.param({"url": "http://127.0.0.1:9", "retries": 1, "retry_backoff": 0.1}, {},
                     ["http://127.0.0.1:9/oauth/token", "failed after 2 attempts", "connection", "reachable"],
                     id="unreachable-url"),
        pytest.param({"grant_type": "magic"}, {}, ["grant_type", "magic"], id="unknown-grant-type"),
        pytest.param({"code": "an-authorization-code", "name": "y"}, {}, ["mutually exclusive", "name", "code"], id="name-with-code"),
        pytest.param({"state": "absent"}, {}, ["state=absent needs name or token_id"], id="absent-without-name"),
    ],
)
def test_errors_are_one_clear_line(pb: Runner, sandbox: SandboxProcess, args: dict, env_change: dict,
                                   needles: list[str]) -> None:
    for value, label in ((WRONG_PASSWORD, "wrong password"), (WRONG_SECRET, "wrong client secret")):
        pb.guard.add(value, label)
    run = ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: The failing call
              processmaker.core.pm_token: {args!r}
              register: outcome
              ignore_errors: true
              no_log: false
            {save_result("outcome")}
    """, env=pb.env(**env_change), extra_vars={"wrong_password": WRONG_PASSWORD, "wrong_secret": WRONG_SECRET}))
    assert_clean_failure(pb.result("outcome"), *needles)
    assert run.recap()["ignored"] == 1
