"""The lookups' shared token cache: permissions, trust, corruption, expiry, refresh, and locking
across processes (forks)."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.auth import (
    build_authenticator,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.retry import RetryPolicy
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
    default_directory,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import Token
from ansible_collections.processmaker.core.plugins.module_utils.transport import (
    HttpTransport,
)
from ansible_collections.processmaker.core.plugins.plugin_utils.token_cache import (
    cached,
    entry_parts,
)
from unit_helpers import Reply, connection, token_body

COLLECTIONS_ROOT = Path(__file__).resolve().parents[1] / "output" / "collections"
ROOT_ONLY = pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def login(url, **extra):
    return connection(url, client_id="2", client_secret="cl13nt-s3cret", username="admin", password="pa55-w0rd!",
                      **extra)


def through_cache(options, directory, warnings=None, margin=60.0):
    """What a lookup builds: the options' Authenticator behind the shared cache in ``directory``."""
    transport = HttpTransport(policy=RetryPolicy(retries=0), timeout=5)
    store = TokenStore.open(str(directory), warn=(warnings.append if warnings is not None else None))
    return cached(build_authenticator(options, transport, store=store, margin=margin), options, store, margin)


def cache_key(options, directory):
    """The entry name of ``options``' credential in the store at ``directory``."""
    return TokenStore.open(str(directory)).name(*entry_parts(options))


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "private" / "processmaker_core_tokens"


def test_directory_0700_and_files_0600_even_with_a_permissive_umask(server, cache_dir):
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    old = os.umask(0)
    try:
        through_cache(login(server.url), cache_dir).token()
    finally:
        os.umask(old)
    assert mode(cache_dir) == 0o700
    files = sorted(cache_dir.iterdir())
    # the store's random key (entry names are keyed hashes), the entry, its lock
    assert [p.name if p.name.startswith(".") else p.suffix for p in files] == [".key", ".json", ".lock"]
    assert all(mode(p) == 0o600 for p in files)


def test_second_task_reads_the_cache(server, cache_dir):
    reply_body = token_body()
    server.on("POST", "/oauth/token", Reply(200, reply_body))
    first = through_cache(login(server.url), cache_dir).token()
    second = through_cache(login(server.url), cache_dir).token()
    assert first.access_token == second.access_token == reply_body["access_token"]
    assert len(server.seen("POST")) == 1


def test_cache_can_be_turned_off(server, cache_dir):
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    options = login(server.url)
    for _ in range(2):
        transport = HttpTransport(policy=RetryPolicy(retries=0), timeout=5)
        auth = cached(build_authenticator(options, transport), options, None)  # what cache=false builds
        auth.token()
    assert len(server.seen("POST")) == 2 and not cache_dir.exists()


def test_given_tokens_are_not_cached(tmp_path):
    options = connection("https://pm.example.com", access_token="pat")
    transport = HttpTransport(policy=RetryPolicy(retries=0), timeout=5)
    store = TokenStore.open(str(tmp_path / "c"))
    auth = cached(build_authenticator(options, transport, store=store), options, store)
    assert auth.token().access_token == "pat" and not (tmp_path / "c").exists()


def test_entry_expires_with_the_token_and_holds_no_password(server, cache_dir):
    server.on("POST", "/oauth/token", Reply(200, token_body(expires_in=3600)))
    options = login(server.url)
    token = through_cache(options, cache_dir).token()
    (entry_file,) = cache_dir.glob("*.json")
    entry = json.loads(entry_file.read_text())
    assert entry["expires_at"] == token.expires_at == entry["token"]["expires_at"]
    text = entry_file.read_text()
    assert "pa55-w0rd!" not in text and "cl13nt-s3cret" not in text


def test_tokens_of_unknown_lifetime_are_not_cached(server, cache_dir):
    server.on("POST", "/oauth/token", Reply(200, {"access_token": "opaque", "token_type": "Bearer"}))
    through_cache(login(server.url), cache_dir).token()
    through_cache(login(server.url), cache_dir).token()
    assert len(server.seen("POST")) == 2 and not list(cache_dir.glob("*.json"))


def test_expired_entry_is_ignored(server, cache_dir):
    options = login(server.url)
    cache = TokenStore.open(str(cache_dir))
    cache.store(cache_key(options, cache_dir), Token("stale", expires_at=1000.0, obtained_at=0.0, refresh_token="r"))
    fresh = token_body()
    server.on("POST", "/oauth/token", Reply(200, fresh))
    assert through_cache(options, cache_dir).token().access_token == fresh["access_token"]
    assert server.seen("POST")[0].form["grant_type"] == "password"  # an expired entry's refresh token is not used


def test_renewal_before_expiry_uses_the_cached_refresh_token(server, cache_dir):
    options = login(server.url)
    cache = TokenStore.open(str(cache_dir))
    now = time.time()
    cache.store(cache_key(options, cache_dir), Token("due", expires_at=now + 30, obtained_at=now - 3570, refresh_token="r-cached"))
    renewed = token_body()
    server.on("POST", "/oauth/token", Reply(200, renewed))
    token = through_cache(options, cache_dir, margin=60).token()
    assert token.access_token == renewed["access_token"]
    assert server.seen("POST")[0].form["grant_type"] == "refresh_token"
    assert server.seen("POST")[0].form["refresh_token"] == "r-cached"
    assert cache.load(cache_key(options, cache_dir)).access_token == renewed["access_token"]


def test_valid_entry_outside_the_margin_is_used_as_is(server, cache_dir):
    options = login(server.url)
    now = time.time()
    TokenStore.open(str(cache_dir)).store(cache_key(options, cache_dir), Token("good", expires_at=now + 600, obtained_at=now))
    assert through_cache(options, cache_dir, margin=60).token().access_token == "good"
    assert not server.seen()


def test_a_rejected_token_is_renewed_once_for_everyone(server, cache_dir):
    first, second = token_body(), token_body()
    server.on("POST", "/oauth/token", Reply(200, first), Reply(200, second))
    options = login(server.url)
    task_a, task_b = through_cache(options, cache_dir), through_cache(options, cache_dir)
    stale = task_a.token()
    assert task_b.token().access_token == stale.access_token
    assert task_a.renew(stale).access_token == second["access_token"]  # the API said 401
    assert task_b.renew(stale).access_token == second["access_token"]  # already renewed: from the cache
    assert len(server.seen("POST")) == 2


def test_corrupt_file_is_ignored_and_rewritten(server, cache_dir):
    options = login(server.url)
    cache_dir.mkdir(parents=True, mode=0o700)
    entry = cache_dir / (cache_key(options, cache_dir) + ".json")
    for garbage in (b"{not json", b"", b'{"format": 1, "key": "other"}', b"[]", bytes(range(256))):
        entry.write_bytes(garbage)
        entry.chmod(0o600)
        assert TokenStore.open(str(cache_dir)).load(cache_key(options, cache_dir)) is None
    body = token_body()
    server.on("POST", "/oauth/token", Reply(200, body))
    warnings = []
    assert through_cache(options, cache_dir, warnings).token().access_token == body["access_token"]
    assert json.loads(entry.read_text())["token"]["access_token"] == body["access_token"]
    assert not warnings  # corruption is not the user's problem


def test_loose_file_permissions_are_refused_with_a_warning(server, cache_dir):
    options = login(server.url)
    cache = TokenStore.open(str(cache_dir))
    cache.store(cache_key(options, cache_dir), Token("planted", expires_at=time.time() + 600, obtained_at=time.time()))
    entry = cache_dir / (cache_key(options, cache_dir) + ".json")
    entry.chmod(0o644)
    body = token_body()
    server.on("POST", "/oauth/token", Reply(200, body))
    warnings = []
    assert through_cache(options, cache_dir, warnings).token().access_token == body["access_token"]
    assert any("mode 0644 lets other users in" in w for w in warnings)
    assert mode(entry) == 0o600  # replaced by a private file


@ROOT_ONLY
def test_file_of_another_owner_is_refused(server, cache_dir):
    options = login(server.url)
    cache = TokenStore.open(str(cache_dir))
    cache.store(cache_key(options, cache_dir), Token("planted", expires_at=time.time() + 600, obtained_at=time.time()))
    entry = cache_dir / (cache_key(options, cache_dir) + ".json")
    os.chown(entry, 65534, 65534)
    warnings = []
    assert TokenStore.open(str(cache_dir), warn=warnings.append).load(cache_key(options, cache_dir)) is None
    assert any("owned by uid 65534" in w for w in warnings)


def test_symlinked_file_is_refused(server, cache_dir, tmp_path):
    options = login(server.url)
    cache_dir.mkdir(parents=True, mode=0o700)
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    (cache_dir / (cache_key(options, cache_dir) + ".json")).symlink_to(target)
    warnings = []
    assert TokenStore.open(str(cache_dir), warn=warnings.append).load(cache_key(options, cache_dir)) is None
    assert warnings and "it will be replaced" in warnings[0]


def test_loose_directory_is_not_used(server, cache_dir):
    cache_dir.mkdir(parents=True)
    cache_dir.chmod(0o755)
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    warnings = []
    through_cache(login(server.url), cache_dir, warnings).token()
    through_cache(login(server.url), cache_dir, warnings).token()
    assert len(server.seen("POST")) == 2  # still works, without the cache
    assert not list(cache_dir.iterdir())
    assert "mode 0755 lets other users in" in warnings[0] and "tokens are not cached" in warnings[0]


@ROOT_ONLY
def test_directory_of_another_owner_is_not_used(server, cache_dir):
    cache_dir.mkdir(parents=True, mode=0o700)
    os.chown(cache_dir, 65534, 65534)
    warnings = []
    assert not TokenStore.open(str(cache_dir), warn=warnings.append).usable()
    assert "owned by uid 65534" in warnings[0]


def test_entry_names_the_credential_and_binds_its_secrets(tmp_path):
    """A wrong password or client secret names another entry: the cache serves only the same secrets."""
    directory = tmp_path / "c"
    base = {"client_id": "2", "client_secret": "s1", "username": "admin", "password": "p1"}
    key = cache_key(connection("https://pm.example.com", **base), directory)
    assert key == cache_key(connection("https://pm.example.com", **base), directory)
    for change in ({"password": "p2"}, {"client_secret": "s2"}, {"username": "ci"}, {"client_id": "3"},
                   {"scope": ["*"]}, {"grant_type": "client_credentials"}, {"token_url": "https://idp.example.com/token"}):
        assert cache_key(connection("https://pm.example.com", **{**base, **change}), directory) != key, change
    assert cache_key(connection("https://other.example.com", **base), directory) != key
    assert len(key) == 64 and "p1" not in key and "s1" not in key
    # a keyed hash: the same credential has another name under another store's key
    assert cache_key(connection("https://pm.example.com", **base), tmp_path / "other") != key


def test_refresh_grant_keys_differ_per_refresh_token(tmp_path):
    one = cache_key(connection("https://pm.example.com", client_id="2", refresh_token="r-one"), tmp_path)
    two = cache_key(connection("https://pm.example.com", client_id="2", refresh_token="r-two"), tmp_path)
    assert one != two and "r-one" not in one


def test_default_directory(tmp_path, monkeypatch):
    assert default_directory({"XDG_RUNTIME_DIR": str(tmp_path)}) == str(tmp_path / "processmaker_core_tokens")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_directory({}) == str(tmp_path / ".ansible" / "tmp" / "processmaker_core_tokens")
    assert default_directory({"XDG_RUNTIME_DIR": str(tmp_path / "missing")}).endswith(".ansible/tmp/processmaker_core_tokens")


def test_lock_timeout_goes_on_without_the_cache(tmp_path):
    cache = TokenStore.open(str(tmp_path / "c"), lock_timeout=0.2, warn=(warnings := []).append)
    assert cache.usable()
    holder = os.open(str(tmp_path / "c" / "k.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with cache.locked("k") as locked:
            assert locked is False
    finally:
        os.close(holder)
    assert "waited 0s for the token cache lock" in warnings[0]
    with cache.locked("k") as locked:
        assert locked is True


FORK = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from ansible_collections.processmaker.core.plugins.module_utils.auth import build_authenticator
    from ansible_collections.processmaker.core.plugins.module_utils.options import resolve_connection
    from ansible_collections.processmaker.core.plugins.module_utils.retry import RetryPolicy
    from ansible_collections.processmaker.core.plugins.module_utils.token_store import TokenStore
    from ansible_collections.processmaker.core.plugins.plugin_utils.token_cache import cached
    from ansible_collections.processmaker.core.plugins.module_utils.transport import HttpTransport

    given = dict(url={url!r}, client_id="2", client_secret="s", username="admin", password="p")
    options = resolve_connection(given, set(given), environ={{}})
    inner = build_authenticator(options, HttpTransport(policy=RetryPolicy(retries=0), timeout=10))
    store = TokenStore.open({directory!r})
    auth = cached(inner, options, store)
    print(auth.token().access_token)
    """
)


def test_concurrent_processes_ask_the_server_once(server, cache_dir):
    body = token_body()
    server.on("POST", "/oauth/token", Reply(200, body, delay=0.5))  # slow server: the forks overlap
    script = FORK.format(root=str(COLLECTIONS_ROOT), url=server.url, directory=str(cache_dir))
    forks = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outputs = [fork.communicate(timeout=60) for fork in forks]
    assert all(fork.returncode == 0 for fork in forks), [err for _, err in outputs]
    assert {out.strip() for out, _ in outputs} == {body["access_token"]}
    assert len(server.seen("POST", "/oauth/token")) == 1


# --- a cached token serves only the same secrets (security review, item 1) -------------------------

def test_wrong_password_or_client_secret_never_gets_the_cached_token(server, cache_dir):
    good = token_body()
    server.on("POST", "/oauth/token", Reply(200, good))
    assert through_cache(login(server.url), cache_dir).token().access_token == good["access_token"]
    refused = {"error": "invalid_grant", "error_description": "The user credentials were incorrect.",
               "message": "The user credentials were incorrect."}
    server.on("POST", "/oauth/token", Reply(400, refused))
    for wrong in ({"password": "TotallyWrong"}, {"client_secret": "not-the-secret"}):
        options = connection(server.url, **{"client_id": "2", "client_secret": "cl13nt-s3cret", "username": "admin",
                                            "password": "pa55-w0rd!", **wrong})
        with pytest.raises(ProcessMakerError) as failed:
            through_cache(options, cache_dir).token()
        assert failed.value.status == 400
        sent = server.seen("POST")[-1].form
        assert sent["grant_type"] == "password" and sent.get(next(iter(wrong))) == next(iter(wrong.values()))
    # the right secrets still get the cached token, without asking
    asked = len(server.seen("POST"))
    assert through_cache(login(server.url), cache_dir).token().access_token == good["access_token"]
    assert len(server.seen("POST")) == asked


def test_a_wrong_password_cannot_renew_the_entry_with_its_refresh_token(server, cache_dir):
    options = login(server.url)
    now = time.time()
    TokenStore.open(str(cache_dir)).store(cache_key(options, cache_dir),
                                          Token("due", expires_at=now + 30, obtained_at=now - 3570, refresh_token="r-cached"))
    server.on("POST", "/oauth/token", Reply(400, {"error": "invalid_grant", "error_description": "wrong",
                                                 "message": "wrong"}))
    wrong = connection(server.url, client_id="2", client_secret="cl13nt-s3cret", username="admin", password="nope")
    with pytest.raises(ProcessMakerError):
        through_cache(wrong, cache_dir, margin=60).token()
    assert [request.form["grant_type"] for request in server.seen("POST")] == ["password"]  # never refresh_token
    assert all("r-cached" not in request.body.decode() for request in server.seen("POST"))


# --- the cache directory is used by descriptor, its parent checked (security review, item 8) ---------

def test_a_parent_writable_by_others_without_the_sticky_bit_is_refused(server, tmp_path):
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o777)
    warnings = []
    store = TokenStore.open(str(parent / "processmaker_core_tokens"), warn=warnings.append)
    assert not store.usable()
    assert "writable by other users (mode 0777, no sticky bit)" in warnings[0] and "not cached" in warnings[0]
    parent.chmod(0o1777)  # like /tmp: others cannot rename what is ours
    assert TokenStore.open(str(parent / "processmaker_core_tokens")).usable()


@ROOT_ONLY
def test_a_parent_owned_by_another_user_is_refused(tmp_path):
    parent = tmp_path / "theirs"
    parent.mkdir(mode=0o755)
    os.chown(parent, 65534, 65534)
    warnings = []
    assert not TokenStore.open(str(parent / "c"), warn=warnings.append).usable()
    assert "owned by uid 65534" in warnings[0]


def test_a_directory_swapped_for_a_symlink_mid_run_is_not_followed(server, cache_dir, tmp_path):
    """The directory is used through the descriptor opened when it was checked: renaming it away and
    putting a symlink to an attacker's directory at its path changes nothing for the store."""
    options = login(server.url)
    store = TokenStore.open(str(cache_dir))
    name = store.name(*entry_parts(options))
    moved = tmp_path / "moved"
    os.rename(cache_dir, moved)
    attacker = tmp_path / "attacker"
    attacker.mkdir(mode=0o700)
    cache_dir.symlink_to(attacker)
    now = time.time()
    assert store.store(name, Token("mine", expires_at=now + 600, obtained_at=now))
    assert not list(attacker.iterdir())
    assert (moved / (name + ".json")).exists() and stat.S_IMODE(os.lstat(moved / (name + ".json")).st_mode) == 0o600
    assert store.load(name).access_token == "mine"
    store.close()


def test_a_directory_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "parent").mkdir(mode=0o700)
    (tmp_path / "parent" / "c").symlink_to(real)
    warnings = []
    assert not TokenStore.open(str(tmp_path / "parent" / "c"), warn=warnings.append).usable()
    assert "is not a directory" in warnings[0]
