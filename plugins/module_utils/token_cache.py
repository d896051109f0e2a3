# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A token cache shared by the lookups of every task, host and fork of a run (controller only).

One JSON file per credential, named by a hash of what identifies it (url, token_url, client_id,
username, grant, scope; never a password or client secret), in a directory only the user can
enter. A ``fcntl`` lock per credential makes concurrent forks wait for the one that asks the
server, then read what it stored: one token per credential, however many forks.

Safety rules: the directory must be 0700 and ours, files 0600 and ours, or they are not trusted
(with a warning); files that do not parse are ignored and rewritten; an entry expires no later
than its token, and tokens of unknown lifetime are not cached at all.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.auth import (
    Authenticator,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    ConnectionOptions,
)
from ansible_collections.processmaker.core.plugins.module_utils.tokens import Token

try:
    import fcntl

    HAS_FCNTL = True
except ImportError:  # not POSIX: no shared cache
    HAS_FCNTL = False

CACHE_FORMAT = 1
DIR_NAME = "processmaker_core_tokens"


def default_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """$XDG_RUNTIME_DIR (per-user tmpfs, gone at logout) when there is one, else ~/.ansible/tmp."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, DIR_NAME)
    return os.path.join(os.path.expanduser("~"), ".ansible", "tmp", DIR_NAME)


def cache_key(options: ConnectionOptions) -> str:
    """Identifies a credential without any secret in it.

    The refresh_token grant names no user, so its key also carries a SHA-256 digest of the given
    refresh token (a digest of a long random token reveals nothing about it).
    """
    values = options.values
    parts = [
        f"processmaker.core/v{CACHE_FORMAT}",
        options.base_url,
        options.token_endpoint,
        values.get("client_id") or "",
        values.get("username") or "",
        options.grant_type or "",
        options.scope_string or "",
    ]
    if options.grant_type == "refresh_token" and values.get("refresh_token"):
        parts.append(hashlib.sha256(values["refresh_token"].encode("utf-8")).hexdigest())
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def _private(st: os.stat_result, uid: int) -> str | None:
    """Why a file or directory is not private to us, or None when it is."""
    if st.st_uid != uid:
        return f"owned by uid {st.st_uid}, not {uid}"
    if st.st_mode & 0o077:
        return f"mode {stat.S_IMODE(st.st_mode):04o} lets other users in"
    return None


class TokenCache:
    def __init__(self, directory: str | None = None, *, warn: Callable[[str], None] | None = None,
                 lock_timeout: float = 120.0) -> None:
        self.directory = directory or default_cache_dir()
        self.warn = warn or (lambda message: None)
        self.lock_timeout = lock_timeout
        self.uid = os.getuid()
        self._usable: bool | None = None

    def path(self, key: str) -> str:
        return os.path.join(self.directory, key + ".json")

    def usable(self) -> bool:
        """Create the directory (0700) if needed; refuse it when someone else could get in."""
        if self._usable is not None:
            return self._usable
        self._usable = False
        if not HAS_FCNTL:
            return False
        try:
            os.makedirs(os.path.dirname(self.directory), mode=0o700, exist_ok=True)
            try:
                os.mkdir(self.directory, 0o700)
                os.chmod(self.directory, 0o700)  # mkdir's mode is filtered by umask
            except FileExistsError:
                pass
            st = os.lstat(self.directory)
        except OSError as error:
            self.warn(f"token cache directory {self.directory} cannot be used ({error.strerror or error});"
                      " tokens are not cached")
            return False
        if not stat.S_ISDIR(st.st_mode):
            self.warn(f"token cache path {self.directory} is not a directory; tokens are not cached")
            return False
        problem = _private(st, self.uid)
        if problem:
            self.warn(f"token cache directory {self.directory} is {problem}; tokens are not cached"
                      " (make it yours with mode 0700, or set cache_dir)")
            return False
        self._usable = True
        return True

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[bool]:
        """Hold the credential's lock; yields False (no lock, do not touch the entry) on failure."""
        if not self.usable():
            yield False
            return
        lock_path = os.path.join(self.directory, key + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as error:
            self.warn(f"cannot open token cache lock {lock_path} ({error.strerror or error}); not caching")
            yield False
            return
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                    if time.monotonic() >= deadline:
                        self.warn(f"waited {self.lock_timeout:.0f}s for the token cache lock {lock_path};"
                                  " going on without the cache")
                        yield False
                        return
                    time.sleep(0.02)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def load(self, key: str, now: float | None = None) -> Token | None:
        """The cached token, or None when there is none, it expired, or the file is not trusted."""
        path = self.path(key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as error:
            if error.errno != errno.ENOENT:
                self.warn(f"ignoring token cache file {path} ({error.strerror or error}); it will be replaced")
            return None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            problem = "not a regular file" if not stat.S_ISREG(st.st_mode) else _private(st, self.uid)
            if problem:
                self.warn(f"ignoring token cache file {path}: {problem}; it will be replaced")
                return None
            raw = handle.read(1024 * 1024)
        try:
            entry = json.loads(raw.decode("utf-8"))
            if entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
                return None
            token = Token.from_cache(entry["token"])
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            return None  # corrupt or from another version: it gets rewritten
        if token.is_expired(now):
            return None
        return token

    def store(self, key: str, token: Token) -> bool:
        """Write atomically (temp file 0600 + rename). Tokens without an expiry are not stored."""
        if token.expires_at is None or not self.usable():
            return False
        entry = {"format": CACHE_FORMAT, "key": key, "expires_at": token.expires_at, "token": token.to_cache()}
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(fd, "w") as handle:
                os.fchmod(handle.fileno(), 0o600)
                json.dump(entry, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path(key))
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            self.warn("cannot write the token cache (%s)" % (error.strerror or error))
            return False
        return True

    def discard(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path(key))


class CachedAuthenticator:
    """An Authenticator whose tokens go through the shared cache (same interface for the client)."""

    def __init__(self, inner: Authenticator, cache: TokenCache | None, key: str, margin: float = 60.0) -> None:
        self.inner = inner
        self.cache = cache
        self.key = key
        self.margin = margin
        self._token: Token | None = None

    @property
    def current(self) -> Token | None:
        return self._token

    def token(self) -> Token:
        if self._token is None or self._token.needs_renewal(self.margin):
            self._token = self._get(stale=self._token)
        return self._token

    def can_renew(self) -> bool:
        return self.inner.can_renew()

    def renew(self, stale: Token | None = None) -> Token:
        self._token = self._get(stale=stale or self._token, rejected=True)
        return self._token

    def _get(self, stale: Token | None, rejected: bool = False) -> Token:
        if self.cache is None:
            return self._from_server(stale if rejected else None)
        with self.cache.locked(self.key) as locked:
            cached = self.cache.load(self.key) if locked else None
            same_as_rejected = (
                rejected and stale is not None and cached is not None and cached.access_token == stale.access_token
            )
            if cached is not None and not cached.needs_renewal(self.margin) and not same_as_rejected:
                return cached  # another task or fork got a fresh one meanwhile
            token = self._from_server(cached or stale)
            if locked and not self.cache.store(self.key, token):
                self.cache.discard(self.key)
            return token

    def _from_server(self, previous: Token | None) -> Token:
        """Refresh ``previous`` when it has a refresh token, else run the grant."""
        inner = self.inner
        if previous is not None and (previous.refresh_token or inner.strategy.repeatable):
            inner.adopt(previous)
            return inner.renew(previous)
        return inner.token()


def cached_authenticator(options: ConnectionOptions, inner: Authenticator, *, use_cache: bool = True,
                         directory: str | None = None, margin: float = 60.0,
                         warn: Callable[[str], None] | None = None) -> Any:
    """The authenticator a lookup should use: the cache for grants, the plain one for a given token."""
    if not use_cache or options.grant_type in ("token", "authorization_code"):
        inner.margin = margin
        return inner
    return CachedAuthenticator(inner, TokenCache(directory, warn=warn), cache_key(options), margin)
