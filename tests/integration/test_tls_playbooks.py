"""TLS through real playbooks: pm_sandbox served over HTTPS with a CA the tests generate.

The default ``validate_certs`` rejects the private CA (one line naming ``ca_path``); ``ca_path`` (task
argument, lookup keyword or ``PM_CA_PATH``) makes it work; ``validate_certs: false`` works with a
warning; a sandbox that requires client certificates refuses a play without ``client_cert`` /
``client_key`` and serves one with them. Modules and both lookups go through the same client.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pki_helpers import make_pki
from pm_integration import (
    SANDBOXES,
    LeakGuard,
    Runner,
    assert_clean_failure,
    keep_secret,
    ok,
    save_result,
    served,
    unexpected_traceback,
)
from pm_sandbox.testing import SandboxProcess

INSECURE_WARNING = ("validate_certs is false: the server's certificate is not verified"
                    " (set ca_path to trust a private CA)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _https_sandbox(pki: dict[str, str], workdir: Path, *, client_ca: bool) -> Iterator[SandboxProcess]:
    # testing.py trusts <workdir>/ca.pem and presents <workdir>/client.pem for its own requests
    shutil.copy(pki["ca"], workdir / "ca.pem")
    args = ["--tls-cert", pki["server"], "--tls-key", pki["server_key"]]
    if client_ca:
        shutil.copy(pki["client"], workdir / "client.pem")
        shutil.copy(pki["client_key"], workdir / "client.key")
        args += ["--tls-client-ca", pki["ca"]]
    process = SandboxProcess(extra_args=args, workdir=str(workdir))
    with process:
        SANDBOXES.append(process)  # its secrets are watched by every leak check
        assert process.url.startswith("https://127.0.0.1:")
        yield process
    shutil.rmtree(workdir, ignore_errors=True)  # the database and the credentials file


@pytest.fixture(scope="module")
def https_sandbox(pki: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    yield from _https_sandbox(pki, tmp_path_factory.mktemp("https-sandbox"), client_ca=False)


@pytest.fixture(scope="module")
def mtls_sandbox(pki: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    yield from _https_sandbox(pki, tmp_path_factory.mktemp("mtls-sandbox"), client_ca=True)


@pytest.fixture
def tls_pb(https_sandbox: SandboxProcess, tmp_path: Path, leak_guard: LeakGuard) -> Runner:
    https_sandbox.reset()
    return Runner(https_sandbox, tmp_path, leak_guard)


@pytest.fixture
def mtls_pb(mtls_sandbox: SandboxProcess, tmp_path: Path, leak_guard: LeakGuard) -> Runner:
    mtls_sandbox.reset()
    return Runner(mtls_sandbox, tmp_path, leak_guard)


def three_ways(extra_args: str = "", lookup_args: str = "", *, failing: bool = False) -> str:
    """A play that reaches the server through pm_api, pm_token and the pm_token lookup (each may fail),
    and saves the three results as api, token and via_lookup (token as a secret unless ``failing``)."""
    return f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: pm_api
              processmaker.core.pm_api:
                path: users
                {extra_args}
              register: api
              ignore_errors: true
            - name: pm_token
              processmaker.core.pm_token:
                {extra_args}
              register: token
              no_log: true
              ignore_errors: true
            - name: the pm_token lookup, then the API with its token
              processmaker.core.pm_api:
                path: users/1
                access_token: "{{{{ lookup('processmaker.core.pm_token'{lookup_args}) }}}}"
                {extra_args}
              register: via_lookup
              ignore_errors: true
            {save_result("api")}
            {save_result("token") if failing else keep_secret("token")}
            {save_result("via_lookup")}
    """


def test_default_validate_certs_refuses_the_private_ca(tls_pb: Runner, https_sandbox: SandboxProcess) -> None:
    run = tls_pb.play(three_ways("retries: 3", failing=True), env=tls_pb.env(PM_RETRIES="3"))
    assert run.recap()["failed"] == 0 and run.recap()["ignored"] == 3, run.tail()
    assert not unexpected_traceback(run.output), run.tail()
    # each asks for a token first (the password grant of PM_*): that is the request that fails, at once
    # (a retried request would say "failed after N attempts")
    expected = (
        f"POST {https_sandbox.url}/oauth/token failed: TLS error (SSLError: [SSL: CERTIFICATE_VERIFY_FAILED]"
        " certificate verify failed: unable to get local issuer certificate). Check the server certificate:"
        " set ca_path to the CA that signed it (validate_certs=false only in tests)"
    )
    for name in ("api", "token"):
        assert assert_clean_failure(tls_pb.result(name), "ca_path", "validate_certs") == expected
    lookup = assert_clean_failure(tls_pb.result("via_lookup"), "ca_path", "validate_certs")
    # Ansible wraps it: "... Error while resolving value for 'access_token': The lookup plugin ... failed: "
    assert lookup.endswith("processmaker.core.pm_token: " + expected), lookup
    counters = https_sandbox.counters()
    assert counters["requests"] == {} and counters["tokens_issued_total"] == 0  # no handshake completed


def test_ca_path_from_the_task_or_the_environment(tls_pb: Runner, https_sandbox: SandboxProcess, pki) -> None:
    # 1. the environment (PM_CA_PATH) for every module and lookup
    ok(tls_pb.play(three_ways(), env=tls_pb.env(PM_CA_PATH=pki["ca"])))
    assert tls_pb.result("api")["status"] == 200 and tls_pb.result("api")["json"]["meta"]["total"] == 1
    assert tls_pb.secret("token")["access_token"].startswith("eyJ")
    assert tls_pb.result("via_lookup")["json"]["username"] == "admin"
    counters = https_sandbox.counters()
    # pm_api and pm_token: a password grant each; the lookup: one more, now cached
    assert counters["tokens_issued"] == {"password": 3}, counters["tokens_issued"]
    assert served(counters, "GET /api/1.0/users") == 1 and served(counters, "GET /api/1.0/users/*") == 1

    # 2. task arguments and the lookup's keyword (no PM_CA_PATH), with the host name of the certificate
    https_sandbox.reset_counters()
    by_name = https_sandbox.url.replace("127.0.0.1", "localhost")
    run = ok(tls_pb.play(
        three_ways(f"ca_path: {pki['ca']}\n                url: {by_name}",
                   f", ca_path='{pki['ca']}', url='{by_name}', cache=false"),
        name="by-task-arguments.yml"))
    assert run.warnings() == [], run.warnings()
    assert tls_pb.result("api")["url"].startswith(f"{by_name}/api/1.0/users")
    assert tls_pb.result("via_lookup")["json"]["username"] == "admin"
    counters = https_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 3}, counters["tokens_issued"]
    assert served(counters, "GET /api/1.0/users") == 1 and served(counters, "GET /api/1.0/users/*") == 1


def test_validate_certs_false_works_with_a_warning(tls_pb: Runner, https_sandbox: SandboxProcess) -> None:
    run = ok(tls_pb.play(three_ways("validate_certs: false", ", validate_certs=false"),
                         env=tls_pb.env(PM_CA_PATH=None)))
    assert tls_pb.result("api")["status"] == 200
    assert tls_pb.result("via_lookup")["json"]["username"] == "admin"
    assert tls_pb.secret("token")["access_token"].startswith("eyJ")
    # each task's client warned (the module results carry it); Ansible shows an identical warning once
    assert tls_pb.result("api")["warnings"] == [INSECURE_WARNING]
    assert tls_pb.result("via_lookup")["warnings"] == [INSECURE_WARNING]
    warnings = run.warnings()
    assert warnings and all(w == f"[WARNING]: {INSECURE_WARNING}" for w in warnings), warnings
    assert "InsecureRequestWarning" not in run.output  # ours, once, instead of urllib3's per request
    assert https_sandbox.counters()["tokens_issued"] == {"password": 3}


def test_mutual_tls_needs_client_cert_and_key(mtls_pb: Runner, mtls_sandbox: SandboxProcess, pki) -> None:
    # without a client certificate: refused at the handshake, with the options to set
    run = mtls_pb.play(three_ways(failing=True), env=mtls_pb.env(PM_CA_PATH=pki["ca"]))
    assert run.recap()["ignored"] == 3 and not unexpected_traceback(run.output), run.tail()
    expected = (
        f"POST {mtls_sandbox.url}/oauth/token failed: TLS error (SSLError: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED]"
        " tlsv13 alert certificate required). The server requires a client certificate it trusts (mutual TLS):"
        " set client_cert and client_key"
    )
    for name in ("api", "token"):
        assert assert_clean_failure(mtls_pb.result(name), "client_cert", "client_key") == expected
    lookup = assert_clean_failure(mtls_pb.result("via_lookup"), "client_cert", "client_key")
    assert lookup.endswith("processmaker.core.pm_token: " + expected), lookup
    assert mtls_sandbox.counters()["requests"] == {}

    # with client_cert and client_key (PM_CLIENT_CERT, PM_CLIENT_KEY: modules and lookups alike)
    env = mtls_pb.env(PM_CA_PATH=pki["ca"], PM_CLIENT_CERT=pki["client"], PM_CLIENT_KEY=pki["client_key"])
    ok(mtls_pb.play(three_ways(), env=env, name="with-client-cert.yml"))
    assert mtls_pb.result("api")["status"] == 200 and mtls_pb.result("via_lookup")["json"]["username"] == "admin"
    assert mtls_pb.secret("token")["access_token"].startswith("eyJ")
    counters = mtls_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 3}
    assert served(counters, "GET /api/1.0/users") == 1 and served(counters, "GET /api/1.0/users/*") == 1
