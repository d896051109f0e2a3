"""The lookups' token cache through real playbooks, and every kind of secret kept out of the output.

Token cache: files 0600 in a 0700 directory; a cache file with looser permissions or another owner is
refused with a warning (and the server asked again); a corrupt one is ignored and rewritten.

Secrets: one play at ``-vvv`` with ``--diff`` handles each kind of secret the collection meets
(passwords, client secrets, access and refresh tokens, personal access tokens, values of PM_*
environment variables and of ProcessMaker environment variables, user passwords) and fails on purpose
where an error or a warning would carry one if it were not redacted; none appears in the output.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pm_integration import (
    LeakGuard,
    PlaybookRun,
    Runner,
    assert_clean_failure,
    keep_secret,
    ok,
    save_result,
    served,
    unexpected_traceback,
)
from pm_sandbox.testing import SandboxProcess

LOOKUP_PLAY = f"""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Call the API with a token from the lookup (through the cache)
          processmaker.core.pm_api:
            path: users/1
            access_token: "{{{{ lookup('processmaker.core.pm_token') }}}}"
          register: api
        {save_result("api")}
"""


def cache_files(pb: Runner) -> tuple[Path, Path]:
    """The one cache entry and its lock, after checking the directory holds just those, privately."""
    directory = pb.cache_dir
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700 and directory.stat().st_uid == os.geteuid()
    entries = sorted(directory.iterdir())
    # the store's random key (entry names are keyed hashes), the entry, its lock; no temporary file left over
    assert [path.name if path.name.startswith(".") else path.suffix for path in entries] == [
        ".key", ".json", ".lock"], entries
    _key, entry, lock = entries
    assert entry.stem == lock.stem and len(entry.stem) == 64  # an HMAC-SHA256 of the credential, no name in it
    for path in entries:
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid(), (path, oct(st.st_mode))
    return entry, lock


def cached_token(entry: Path) -> str:
    document = json.loads(entry.read_text())
    assert document["format"] == 2 and document["name"] == entry.stem
    return document["token"]["access_token"]


def squeeze(text: str) -> str:
    return "".join(text.split())


def warnings_squeezed(run: PlaybookRun) -> list[str]:
    """The run's warnings without whitespace: ansible-core 2.17 wraps warnings at 79 columns, at spaces
    and after hyphens (the cache path has one), which no join can undo exactly."""
    return [squeeze(warning.removeprefix("[WARNING]: ")) for warning in run.warnings()]


def lookup_run(pb: Runner) -> PlaybookRun:
    run = ok(pb.play(LOOKUP_PLAY))
    assert pb.result("api")["json"]["username"] == "admin"
    return run


def test_cache_files_are_private_and_untrusted_ones_are_replaced(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    creds = clean_sandbox.credentials
    # 1. a first run creates the directory 0700 and the entry 0600, with the token and no password
    run = lookup_run(pb)
    assert run.warnings() == []
    entry, _ = cache_files(pb)
    first = cached_token(entry)
    text = entry.read_text()
    assert creds["admin"]["password"] not in text and creds["password_client"]["client_secret"] not in text
    assert clean_sandbox.counters()["tokens_issued"] == {"password": 1}

    # 2. an entry others could read is refused with a warning: the server is asked again, the entry replaced
    entry.chmod(0o644)
    run = lookup_run(pb)
    assert warnings_squeezed(run) == [
        squeeze(f"ignoring token cache file {entry}: mode 0644 lets other users in; it will be replaced")
    ], run.warnings()
    assert clean_sandbox.counters()["tokens_issued"] == {"password": 2}
    entry, _ = cache_files(pb)  # 0600 again
    second = cached_token(entry)
    assert second != first

    # 3. a corrupt entry is ignored (no warning, no traceback) and rewritten as valid JSON, 0600
    entry.write_bytes(b"\x00\xff{garbage\xfe")
    run = lookup_run(pb)
    assert run.warnings() == [] and not unexpected_traceback(run.output)
    assert clean_sandbox.counters()["tokens_issued"] == {"password": 3}
    entry, _ = cache_files(pb)
    assert cached_token(entry) not in (first, second)

    # 4. an entry that is fine is used: no token request
    lookup_run(pb)
    assert clean_sandbox.counters()["tokens_issued"] == {"password": 3}
    assert served(clean_sandbox.counters(), "GET /api/1.0/users/*") == 4


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user (os.chown) needs root; CI runs as root")
def test_a_cache_file_of_another_user_is_refused(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    lookup_run(pb)
    entry, _ = cache_files(pb)
    first = cached_token(entry)
    os.chown(entry, 65534, 65534)  # nobody: the same mode 0600, someone else's file
    run = lookup_run(pb)
    assert warnings_squeezed(run) == [
        squeeze(f"ignoring token cache file {entry}: owned by uid 65534, not 0; it will be replaced")
    ], run.warnings()
    assert clean_sandbox.counters()["tokens_issued"] == {"password": 2}
    entry, _ = cache_files(pb)  # ours again
    assert cached_token(entry) != first


# ---------------------------------------------------------------------------------------------
# Secrets

USER_PASSWORD = "Leak-Check-User-Pw-913!"
WEAK_PASSWORD = "leakcheck-weak-pw"  # no digit, no capital: ProcessMaker's password policy rejects it
ENV_VALUE = "leak-check-env-value-5521"


def test_no_secret_of_any_kind_reaches_the_output(pb: Runner, clean_sandbox: SandboxProcess,
                                                  leak_guard: LeakGuard) -> None:
    creds = clean_sandbox.credentials
    leak_guard.add(USER_PASSWORD, "a user's password")
    leak_guard.add(WEAK_PASSWORD, "a rejected user password")
    leak_guard.add(ENV_VALUE, "a ProcessMaker environment variable's value")
    # GET /groups always answers 503: the retry warning and the failure show a URL whose query holds a token
    clean_sandbox.set_faults([{"route": "GET /api/1.0/groups", "probability": 1.0, "kinds": ["503"]}], seed=1)
    try:
        run = pb.play(f"""
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: Password grant (the PM_* environment holds the password and the client secret)
                  processmaker.core.pm_token:
                  register: login
                  no_log: true
                {keep_secret("login")}
                - name: Refresh it (the refresh token is an argument; the task prints its arguments at -vvv)
                  processmaker.core.pm_token:
                    refresh_token: "{{{{ login.refresh_token }}}}"
                  register: renewed
                  no_log: true
                {keep_secret("renewed")}
                - name: Create a personal access token with the renewed access token
                  processmaker.core.pm_token:
                    access_token: "{{{{ renewed.access_token }}}}"
                    name: leak-check
                    user: admin
                  register: pat
                  no_log: true
                {keep_secret("pat")}
                - name: Use the PAT (an argument, no no_log)
                  processmaker.core.pm_api:
                    path: users/1
                    access_token: "{{{{ pat.access_token }}}}"
                  register: whoami
                {save_result("whoami")}
                - name: A user with a password and an environment variable with a value, with --diff
                  processmaker.core.pm_resource:
                    resources:
                      - kind: environment_variables
                        items: [{{name: leak_check_api_key, value: "{{{{ env_value }}}}"}}]
                      - kind: users
                        items:
                          - {{username: leak.check, firstname: Leak, lastname: Check, email: leak.check@example.com,
                              password: "{{{{ user_pw }}}}"}}
                  register: converge
                {save_result("converge")}
                - name: "Fails on purpose: the client secret in the path of a 404"
                  processmaker.core.pm_api:
                    path: "users/{{{{ lookup('ansible.builtin.env', 'PM_CLIENT_SECRET') }}}}"
                  register: secret_in_path
                  ignore_errors: true
                {save_result("secret_in_path")}
                - name: "Fails on purpose: a token in the query of a request retried after 503, then given up"
                  processmaker.core.pm_api:
                    path: groups
                    access_token: "{{{{ renewed.access_token }}}}"
                    query: {{filter: "{{{{ renewed.access_token }}}}"}}
                    retries: 1
                    retry_backoff: 0.01
                  register: token_in_query
                  ignore_errors: true
                {save_result("token_in_query")}
                - name: "Fails on purpose: the server rejects the password of a user (too weak), the body has it"
                  processmaker.core.pm_resource:
                    kind: users
                    items:
                      - {{username: leak.check2, firstname: Leak, lastname: Two, email: leak.check2@example.com,
                          password: "{{{{ weak_pw }}}}"}}
                  register: rejected_user
                  ignore_errors: true
                {save_result("rejected_user")}
                - name: "Fails on purpose: a wrong password for the admin"
                  processmaker.core.pm_token:
                    password: "{{{{ user_pw }}}}"
                  register: wrong_password
                  ignore_errors: true
                {save_result("wrong_password")}
                - name: The pm_token lookup (its token goes to the cache)
                  processmaker.core.pm_api:
                    path: users/1
                    access_token: "{{{{ lookup('processmaker.core.pm_token') }}}}"
        """, extra_vars={"user_pw": USER_PASSWORD, "weak_pw": WEAK_PASSWORD, "env_value": ENV_VALUE}, args=["--diff"])
    finally:
        clean_sandbox.clear_faults()
    assert run.returncode == 0 and run.recap()["ignored"] == 4, run.tail()
    assert not unexpected_traceback(run.output), run.tail()
    login, renewed, pat = pb.secret("login"), pb.secret("renewed"), pb.secret("pat")
    counters = clean_sandbox.counters()  # before the checks below ask for tokens of their own
    assert counters["faults_injected_total"] == 2  # both attempts of the GET /groups
    assert served(counters, "GET /api/1.0/groups") == 2
    # tokens: login, its refresh, the PAT; a password grant each for the two pm_resource tasks, the 404
    # task and the lookup; the wrong password is refused
    assert counters["tokens_issued"] == {"password": 5, "refresh_token": 1, "personal_access": 1}, counters

    # every kind of secret was there to leak, and the leak guard knew each one (it checks at teardown too)
    secrets = {
        "admin password (PM_PASSWORD)": creds["admin"]["password"],
        "client secret (PM_CLIENT_SECRET)": creds["password_client"]["client_secret"],
        "access token": login["access_token"],
        "refresh token": login["refresh_token"],
        "renewed access token": renewed["access_token"],
        "renewed refresh token": renewed["refresh_token"],
        "personal access token": pat["access_token"],
        "user password": USER_PASSWORD,
        "rejected user password": WEAK_PASSWORD,
        "environment variable value": ENV_VALUE,
    }
    cache_entry = next(pb.cache_dir.glob("*.json"))
    secrets["lookup's cached token"] = cached_token(cache_entry)
    watched = leak_guard._collect()
    for what, value in secrets.items():
        assert value in watched, f"the leak guard does not watch the {what}"
        assert value not in run.output, f"the {what} appears in the output"
    assert leak_guard.leaks() == []

    # the secrets did their work
    assert pb.result("whoami")["json"]["username"] == "admin"
    assert pat["access_token"] != renewed["access_token"] != login["access_token"]
    assert clean_sandbox.password_token("leak.check", USER_PASSWORD)["access_token"]
    variables = clean_sandbox.api("GET", "/environment_variables", params={"filter": "leak_check"}).json()["data"]
    assert [v["name"] for v in variables] == ["leak_check_api_key"]
    tokens = clean_sandbox.api("GET", "/users/1/tokens").json()["data"]
    assert [t["name"] for t in tokens if not t.get("revoked")] == ["leak-check"]

    # --diff shows write-only values masked
    after = pb.result("converge")["diff"]["after"]
    assert after["users: leak.check"]["password"] == after["environment_variables: leak_check_api_key"]["value"]
    assert after["users: leak.check"]["password"] == "********"
    assert '+        "password": "********",' in run.output and '+        "value": "********"' in run.output

    # errors and warnings name what failed with the secrets masked, in one line
    in_path = assert_clean_failure(pb.result("secret_in_path"), "HTTP 404")
    assert f"GET {clean_sandbox.url}/api/1.0/users/******** failed with HTTP 404" in in_path, in_path
    in_query = assert_clean_failure(pb.result("token_in_query"), "HTTP 503")
    assert f"GET {clean_sandbox.url}/api/1.0/groups?filter=******** failed with HTTP 503 after 2 attempts" in in_query
    retry_warnings = [w for w in run.warnings() if "/api/1.0/groups" in w]
    assert len(retry_warnings) == 1, run.warnings()
    assert retry_warnings[0].startswith(
        f"[WARNING]: GET {clean_sandbox.url}/api/1.0/groups?filter=******** got HTTP 503; retrying in "
    ), retry_warnings
    assert_clean_failure(pb.result("rejected_user"), "POST", "/api/1.0/users failed with HTTP 422",
                         "password: The Password field must contain at least one number")
    assert [u["username"] for u in clean_sandbox.api("GET", "/users", params={"filter": "leak.check2"}).json()["data"]] == []
    assert_clean_failure(pb.result("wrong_password"), "HTTP 400", "credentials were incorrect")
