"""TLS options reach the wire: ca_path, validate_certs, client certificates (mutual TLS)."""

from __future__ import annotations

import ssl
import warnings

import pytest
import requests
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    INSECURE_WARNING,
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    connection_error,
)
from pki_helpers import make_pki
from unit_helpers import Reply, ScriptedServer, connection


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_server(pki):
    servers = []

    def start(require_client_cert=False):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki["server"], pki["server_key"])
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(pki["ca"])
        server = ScriptedServer(ssl_context=context)
        server.on("GET", "/api/1.0/users", Reply(200, {"data": []}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def get_users(url, warn=None, **options):
    client = ProcessMakerClient.from_options(connection(url, access_token="t", **options), warn=warn)
    try:
        return client.get("users")
    finally:
        client.close()


def test_ca_path_verifies_the_server_by_address_and_by_name(pki, tls_server):
    server = tls_server()
    assert get_users(server.url, ca_path=pki["ca"]).status == 200
    by_name = server.url.replace("127.0.0.1", "localhost")  # the certificate names both
    assert get_users(by_name, ca_path=pki["ca"]).status == 200
    assert len(server.seen("GET", "/api/1.0/users")) == 2


def test_unknown_ca_fails_at_once_with_advice(tls_server):
    server = tls_server()
    with pytest.raises(ProcessMakerError) as caught:
        get_users(server.url, retries=3)
    assert caught.value.attempts == 1  # a TLS failure is not retried
    message = str(caught.value)
    assert message == (
        f"GET {server.url}/api/1.0/users failed: TLS error (SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate"
        " verify failed: unable to get local issuer certificate). Check the server certificate: set ca_path to the"
        " CA that signed it (validate_certs=false only in tests)"
    )
    assert server.seen() == []  # the handshake failed: no request reached the server


def test_validate_certs_false_works_with_one_warning(tls_server):
    server = tls_server()
    warned = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # urllib3's InsecureRequestWarning per request would fail the test
        client = ProcessMakerClient.from_options(
            connection(server.url, access_token="t", validate_certs=False), warn=warned.append)
        try:
            assert client.get("users").status == 200
            assert client.get("users").status == 200
        finally:
            client.close()
    assert warned == [INSECURE_WARNING]  # once per client (task or lookup run), not per request
    assert INSECURE_WARNING == ("validate_certs is false: the server's certificate is not verified"
                                " (set ca_path to trust a private CA)")


def test_no_warning_when_certificates_are_verified_or_there_is_no_tls(pki, tls_server, server):
    warned = []
    server.on("GET", "/api/1.0/users", Reply(200, {"data": []}))
    assert get_users(tls_server().url, warn=warned.append, ca_path=pki["ca"]).status == 200
    assert get_users(server.url, warn=warned.append, validate_certs=False).status == 200  # plain http
    assert warned == []


def test_client_certificate_for_mutual_tls(pki, tls_server):
    server = tls_server(require_client_cert=True)
    assert get_users(server.url, ca_path=pki["ca"], client_cert=pki["client"],
                     client_key=pki["client_key"]).status == 200
    assert len(server.seen("GET", "/api/1.0/users")) == 1


def test_missing_client_certificate_fails_at_once(pki, tls_server):
    server = tls_server(require_client_cert=True)
    with pytest.raises(ProcessMakerError) as caught:
        get_users(server.url, ca_path=pki["ca"], retries=3)
    assert caught.value.attempts == 1
    assert caught.value.code == "TLS_error" and "\n" not in str(caught.value)
    assert server.seen() == []


CLIENT_CERT_HINT = "The server requires a client certificate it trusts (mutual TLS): set client_cert and client_key"
CA_PATH_HINT = "Check the server certificate: set ca_path to the CA that signed it (validate_certs=false only in tests)"


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        # what OpenSSL reports when the server's alert says our certificate is missing or not trusted
        ("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)", CLIENT_CERT_HINT),
        ("[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate (_ssl.c:2580)", CLIENT_CERT_HINT),
        ("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2580)", CLIENT_CERT_HINT),
        # our own verification of the server's certificate
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate",
         CA_PATH_HINT),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch", CA_PATH_HINT),
    ],
)
def test_tls_error_hints(reason, hint):
    exc = requests.exceptions.SSLError(f"HTTPSConnectionPool(host='pm', port=443): Max retries exceeded"
                                       f" (Caused by SSLError(SSLError(1, '{reason}')))")
    error = connection_error(exc, method="GET", url="https://pm/api/1.0/users")
    assert error.hint == hint and error.code == "TLS_error"
    # what OpenSSL said, without urllib3's wrapping, and the advice
    assert str(error) == f"GET https://pm/api/1.0/users failed: TLS error (SSLError: {reason.split(' (_ssl')[0]}). {hint}"


# --- the environment requests reads (read once per host by the transport) ----------------------------------

def test_requests_ca_bundle_from_the_environment_verifies_the_server(pki, tls_server, monkeypatch):
    server = tls_server()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["ca"])
    assert get_users(server.url).status == 200
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", pki["ca"])
    assert get_users(server.url).status == 200
    assert get_users(server.url, ca_path=pki["ca"]).status == 200  # ca_path wins over the environment


def test_proxies_from_the_environment_are_used_and_read_once_per_host(server, monkeypatch):
    """The scripted server plays an HTTP proxy: requests sends it the absolute URL of a host that does not
    resolve; NO_PROXY sends another host directly."""
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [], "meta": {"total": 0, "last_page": 1}}))
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "direct.invalid")
    reads = []
    original = requests.utils.get_environ_proxies
    monkeypatch.setattr(requests.utils, "get_environ_proxies", lambda *a, **k: reads.append(a[0]) or original(*a, **k))
    client = ProcessMakerClient.from_options(connection("http://pm.invalid:8080", access_token="t", retries=0))
    try:
        for _ in range(3):
            assert client.get("users").status == 200
        with pytest.raises(ProcessMakerError):  # not through the proxy: the host does not resolve
            ProcessMakerClient.from_options(connection("http://direct.invalid:8080", access_token="t",
                                                       retries=0)).get("users")
    finally:
        client.close()
    assert len(server.seen("GET", "/api/1.0/users")) == 3
    assert len(reads) == 2, reads  # once per host, not once per request
