"""Opaque refresh tokens and authorization codes in defuse/php-encryption's v2 layout.

The wire form is what league/oauth2-server sends: lowercase hex of
``version (DE F5 02 00) | salt (32) | IV (16) | AES-256-CTR ciphertext | HMAC-SHA256 (32)``.
Keys are derived per token from the app key and the salt with HKDF-SHA256, using defuse's
info strings. Defuse first stretches a *password* with 100,000 PBKDF2 rounds; the sandbox's app
key is 32 random bytes already, so it skips that (the tokens are opaque to clients either way).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\xde\xf5\x02\x00"
SALT_BYTES = 32
IV_BYTES = 16
MAC_BYTES = 32
_MINIMUM = len(VERSION) + SALT_BYTES + IV_BYTES + MAC_BYTES
_HEX = re.compile(r"\A(?:[0-9a-fA-F]{2})*\Z")


class CannotDecrypt(Exception):
    """Not hex, too short, wrong version, wrong key or tampered with: all look the same to a caller."""


def _derive(app_key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(app_key)


def encrypt(plaintext: str, app_key: bytes) -> str:
    salt = os.urandom(SALT_BYTES)
    iv = os.urandom(IV_BYTES)
    encryption_key = _derive(app_key, salt, b"DefusePHP|V2|KeyForEncryption")
    authentication_key = _derive(app_key, salt, b"DefusePHP|V2|KeyForAuthentication")
    encryptor = Cipher(algorithms.AES(encryption_key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(plaintext.encode()) + encryptor.finalize()
    signed = VERSION + salt + iv + ciphertext
    mac = hmac.new(authentication_key, signed, hashlib.sha256).digest()
    return (signed + mac).hex()


def decrypt(token: str, app_key: bytes) -> str:
    if not isinstance(token, str) or not _HEX.match(token):
        raise CannotDecrypt("not hex")
    raw = bytes.fromhex(token)
    if len(raw) < _MINIMUM or raw[: len(VERSION)] != VERSION:
        raise CannotDecrypt("bad header or too short")
    salt = raw[len(VERSION) : len(VERSION) + SALT_BYTES]
    iv = raw[len(VERSION) + SALT_BYTES : len(VERSION) + SALT_BYTES + IV_BYTES]
    ciphertext = raw[len(VERSION) + SALT_BYTES + IV_BYTES : -MAC_BYTES]
    authentication_key = _derive(app_key, salt, b"DefusePHP|V2|KeyForAuthentication")
    expected = hmac.new(authentication_key, raw[:-MAC_BYTES], hashlib.sha256).digest()
    if not hmac.compare_digest(expected, raw[-MAC_BYTES:]):
        raise CannotDecrypt("wrong key or modified")
    encryption_key = _derive(app_key, salt, b"DefusePHP|V2|KeyForEncryption")
    decryptor = Cipher(algorithms.AES(encryption_key), modes.CTR(iv)).decryptor()
    try:
        return (decryptor.update(ciphertext) + decryptor.finalize()).decode()
    except UnicodeDecodeError as error:
        raise CannotDecrypt("not text") from error
