"""TLS options reach the wire: ca_path, validate_certs, client certificates (mutual TLS)."""

from __future__ import annotations

import ssl
import warnings

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from unit_helpers import Reply, ScriptedServer, connection, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_server(pki, require_client_cert=False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server"], pki["server_key"])
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki["ca"])
    server = ScriptedServer(ssl_context=context)
    server.on("GET", "/api/1.0/users", Reply(200, {"data": []}))
    return server


def get_users(server, **options):
    return ProcessMakerClient.from_options(connection(server.url, access_token="t", **options)).get("users")


def test_ca_path_verifies_the_server(pki):
    server = tls_server(pki)
    try:
        assert get_users(server, ca_path=pki["ca"]).status == 200
    finally:
        server.close()


def test_unknown_ca_fails_at_once_with_advice(pki):
    server = tls_server(pki)
    try:
        with pytest.raises(ProcessMakerError) as caught:
            get_users(server, retries=3)
        assert caught.value.attempts == 1  # a TLS failure is not retried
        assert "TLS error" in str(caught.value) and "set ca_path" in str(caught.value)
    finally:
        server.close()


def test_validate_certs_false_skips_verification_quietly(pki):
    server = tls_server(pki)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an InsecureRequestWarning would fail the test
            assert get_users(server, validate_certs=False).status == 200
    finally:
        server.close()


def test_client_certificate_for_mutual_tls(pki):
    server = tls_server(pki, require_client_cert=True)
    try:
        assert get_users(server, ca_path=pki["ca"], client_cert=pki["client"],
                         client_key=pki["client_key"]).status == 200
        with pytest.raises(ProcessMakerError):
            get_users(server, ca_path=pki["ca"], retries=0)
    finally:
        server.close()
