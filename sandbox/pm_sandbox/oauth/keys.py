"""Key material of the OAuth server, made once per database and kept in its ``meta`` table.

* the RSA private key that signs access tokens (Passport's ``oauth-private.key``);
* a 32-byte app key that encrypts refresh tokens and authorization codes (Laravel's ``APP_KEY``).

Both are generated inside a write transaction, so two threads (or two processes on one database
file) never end up with different keys, and cached per process because the guard needs the
public key on every API request.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..config import Settings
from ..store import Store

PRIVATE_KEY_META = "oauth.private_key"
APP_KEY_META = "oauth.app_key"


@dataclass(frozen=True)
class Keys:
    private_key: rsa.RSAPrivateKey
    public_key: rsa.RSAPublicKey
    app_key: bytes


_cache: dict[str, Keys] = {}
_lock = threading.Lock()


def keys_for(store: Store, settings: Settings) -> Keys:
    """The keys of this database; created on first use."""
    keys = _cache.get(store.path)
    if keys is None:
        with _lock:
            keys = _cache.get(store.path)
            if keys is None:
                keys = _load_or_create(store, settings.rsa_bits)
                _cache[store.path] = keys
    return keys


def _load_or_create(store: Store, bits: int) -> Keys:
    with store.transaction():  # BEGIN IMMEDIATE: a second writer waits, then reads our keys
        pem = store.get_meta(PRIVATE_KEY_META)
        if pem is None:
            generated = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            pem = generated.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            store.set_meta(PRIVATE_KEY_META, pem)
        app_key_hex = store.get_meta(APP_KEY_META)
        if app_key_hex is None:
            app_key_hex = secrets.token_hex(32)
            store.set_meta(APP_KEY_META, app_key_hex)
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return Keys(private_key, private_key.public_key(), bytes.fromhex(app_key_hex))


def public_key_pem(store: Store, settings: Settings) -> str:
    """The public key in PEM form (what Passport keeps in ``oauth-public.key``)."""
    return (
        keys_for(store, settings)
        .public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
