"""A throwaway PKI for the TLS tests: a CA, a server certificate and a client certificate, as PEM files.

Used by the unit tests (an in-process HTTPS server) and the integration tests (pm_sandbox served over
HTTPS, with and without client certificates). ``tests/conftest.py`` puts this folder on ``sys.path``.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("127.0.0.1", "localhost")


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _issue(name: str, *, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None, ca: bool = False,
           san: Iterable[str] = (), usage: x509.ObjectIdentifier | None = None,
           ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    # the extensions Python 3.13's VERIFY_X509_STRICT (default in ssl.create_default_context) wants:
    # a critical BasicConstraints and a KeyUsage on the CA, key identifiers, a SAN on the server
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, signing_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=not ca, encipher_only=False,
            decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    names = [_general_name(host) for host in san]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(signing_key, hashes.SHA256())


def make_pki(directory: Path, server_names: Iterable[str] = SERVER_NAMES) -> dict[str, str]:
    """Write ``ca.pem``, ``server.pem`` (SAN: ``server_names``, default 127.0.0.1 and localhost) and
    ``client.pem`` with their keys (``<label>.key``, PKCS#8, unencrypted, mode 0600) into ``directory``.

    Returns the paths as ``{"ca", "ca_key", "server", "server_key", "client", "client_key"}``.
    """
    directory = Path(directory)
    ca_key, ca_cert = _issue("processmaker.core test CA", ca=True)
    names = list(server_names)
    server_key, server_cert = _issue(names[0], issuer=(ca_cert.subject, ca_key), san=names,
                                     usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client_key, client_cert = _issue("ansible", issuer=(ca_cert.subject, ca_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    paths: dict[str, str] = {}
    for label, key, cert in (("ca", ca_key, ca_cert), ("server", server_key, server_cert),
                             ("client", client_key, client_cert)):
        cert_path = directory / f"{label}.pem"
        key_path = directory / f"{label}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.touch(mode=0o600)
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        paths[label] = str(cert_path)
        paths[label + "_key"] = str(key_path)
    return paths
