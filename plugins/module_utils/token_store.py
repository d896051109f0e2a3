# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tokens kept on disk between tasks, forks and runs: the lookups' shared cache and the memory of
refresh-token rotations (modules and lookups alike).

Everything lives in one directory that only this user can enter, used through a file descriptor
from the moment it is checked: nobody can swap it for a symlink afterwards. Its parent must not be
writable by anyone else (unless it has the sticky bit, as /tmp does), or someone could rename the
directory away while it is in use. Files are 0600, written atomically (temp file + rename), read
without following symlinks, and refused (with a warning) when someone else owns them or could read
them. An ``fcntl`` lock per entry makes concurrent forks wait for the one that asks the server.

An entry's name is a keyed hash (HMAC-SHA256, with a random key kept in the directory) of what
identifies the credential *and of its secret material* (password, client secret, refresh token), so
an entry serves only a caller who presents the same secrets that obtained it. No secret is stored.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.tokens import Token

try:
    import fcntl

    HAS_FCNTL = True
except ImportError:  # not POSIX: nothing is kept on disk
    HAS_FCNTL = False

STORE_FORMAT = 2
DIR_NAME = "processmaker_core_tokens"
KEY_FILE = ".key"
_READ_LIMIT = 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def default_directory(environ: Mapping[str, str] | None = None) -> str:
    """$XDG_RUNTIME_DIR (per-user tmpfs, gone at logout) when there is one, else ~/.ansible/tmp."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, DIR_NAME)
    return os.path.join(os.path.expanduser("~"), ".ansible", "tmp", DIR_NAME)


def not_private(st: os.stat_result, uid: int) -> str | None:
    """Why a file or directory is not private to ``uid``, or None when it is."""
    if st.st_uid != uid:
        return f"owned by uid {st.st_uid}, not {uid}"
    if st.st_mode & 0o077:
        return f"mode {stat.S_IMODE(st.st_mode):04o} lets other users in"
    return None


def unsafe_parent(st: os.stat_result, uid: int) -> str | None:
    """Why a directory's parent lets someone else replace it, or None when it does not."""
    if st.st_uid not in (uid, 0):
        return f"owned by uid {st.st_uid}"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
        return f"writable by other users (mode {stat.S_IMODE(st.st_mode):04o}, no sticky bit)"
    return None


class PrivateDirectory:
    """The store's directory, opened once and then used only through its file descriptor."""

    def __init__(self, path: str | None = None, *, warn: Callable[[str], None] | None = None,
                 lock_timeout: float = 120.0) -> None:
        self.path = path or default_directory()
        self.warn = warn or (lambda message: None)
        self.lock_timeout = lock_timeout
        self.uid = os.getuid()
        self._fd: int | None = None
        self._checked = False
        self._key: bytes | None = None

    # ---- the directory ------------------------------------------------------------------------
    def usable(self) -> bool:
        """Open (and create, 0700) the directory; False, with a warning, when it is not safe."""
        if not self._checked:
            self._checked = True
            if HAS_FCNTL:
                self._fd = self._open()
        return self._fd is not None

    def _refuse(self, why: str) -> None:
        self.warn(f"token cache directory {self.path} {why}; tokens are not cached (make it yours with mode 0700"
                  " in a directory only you can write, or set cache_dir)")

    def _open(self) -> int | None:
        parent, name = os.path.split(os.path.abspath(self.path))
        try:
            os.makedirs(parent, mode=0o700, exist_ok=True)
            parent_fd = os.open(parent, os.O_RDONLY | _DIRECTORY)
        except OSError as error:
            self._refuse(f"cannot be used ({error.strerror or error})")
            return None
        try:
            problem = unsafe_parent(os.fstat(parent_fd), self.uid)
            if problem:
                self._refuse(f"is in {parent}, which is {problem}")
                return None
            created = False
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
                created = True
            except FileExistsError:
                pass
            fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent_fd)
        except OSError as error:
            why = "is not a directory" if error.errno in (errno.ENOTDIR, errno.ELOOP) else (
                f"cannot be used ({error.strerror or error})")
            self._refuse(why)
            return None
        finally:
            os.close(parent_fd)
        if created:
            os.fchmod(fd, 0o700)  # mkdir's mode is filtered by the umask
        problem = not_private(os.fstat(fd), self.uid)
        if problem:
            os.close(fd)
            self._refuse(f"is {problem}")
            return None
        return fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ---- files in it --------------------------------------------------------------------------
    def read(self, name: str, *, quiet: bool = False) -> bytes | None:
        """A private regular file's content; None (with a warning unless ``quiet``) otherwise."""
        if not self.usable():
            return None
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=self._fd)
        except OSError as error:
            if error.errno != errno.ENOENT and not quiet:
                self.warn(f"ignoring token cache file {os.path.join(self.path, name)} ({error.strerror or error});"
                          " it will be replaced")
            return None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            problem = "not a regular file" if not stat.S_ISREG(st.st_mode) else not_private(st, self.uid)
            if problem:
                self.warn(f"ignoring token cache file {os.path.join(self.path, name)}: {problem}; it will be replaced")
                return None
            return handle.read(_READ_LIMIT)

    def _temp(self, data: bytes) -> str:
        """A new 0600 file holding ``data``; its name."""
        name = ".tmp-" + secrets.token_hex(8)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=self._fd)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return name

    def write(self, name: str, data: bytes) -> bool:
        """Replace ``name`` atomically with a private file holding ``data``."""
        if not self.usable():
            return False
        tmp = None
        try:
            tmp = self._temp(data)
            os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError as error:
            if tmp:
                self.remove(tmp)
            self.warn(f"cannot write the token cache ({error.strerror or error})")
            return False
        return True

    def remove(self, name: str) -> None:
        if not self.usable():
            return
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=self._fd)

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[bool]:
        """Hold the lock of ``name``; yields False (no lock: do not touch the entry) on failure."""
        if not self.usable():
            yield False
            return
        lock_name = name + ".lock"
        try:
            fd = os.open(lock_name, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600, dir_fd=self._fd)
        except OSError as error:
            self.warn(f"cannot open token cache lock {os.path.join(self.path, lock_name)} ({error.strerror or error});"
                      " going on without the cache")
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
                        self.warn(f"waited {self.lock_timeout:.0f}s for the token cache lock"
                                  f" {os.path.join(self.path, lock_name)}; going on without the cache")
                        yield False
                        return
                    time.sleep(0.02)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def secret_key(self) -> bytes:
        """The random key of the entry names (created once, 0600, never replaced)."""
        if self._key is None:
            key = self.read(KEY_FILE, quiet=True)
            if not key or len(key) < 32:
                tmp = self._temp(secrets.token_bytes(32))
                try:
                    if key is not None:
                        os.replace(tmp, KEY_FILE, src_dir_fd=self._fd, dst_dir_fd=self._fd)  # a broken one
                    else:
                        with contextlib.suppress(FileExistsError):  # another fork made it first: use theirs
                            os.link(tmp, KEY_FILE, src_dir_fd=self._fd, dst_dir_fd=self._fd)
                finally:
                    self.remove(tmp)
                key = self.read(KEY_FILE)
            if not key or len(key) < 32:
                raise OSError(errno.EIO, "the token cache key cannot be read")
            self._key = key
        return self._key


class TokenStore:
    """Tokens by entry name; a name is a keyed hash of what identifies the credential and its secrets."""

    def __init__(self, directory: PrivateDirectory) -> None:
        self.directory = directory

    @classmethod
    def open(cls, path: str | None = None, *, warn: Callable[[str], None] | None = None,
             lock_timeout: float = 120.0) -> TokenStore:
        return cls(PrivateDirectory(path, warn=warn, lock_timeout=lock_timeout))

    def usable(self) -> bool:
        return self.directory.usable()

    def close(self) -> None:
        self.directory.close()

    def name(self, *parts: Any) -> str | None:
        """The entry name for ``parts`` (secrets included): HMAC-SHA256 with the directory's key, so
        nothing about them can be learned from the name. None when the store cannot be used."""
        if not self.usable():
            return None
        try:
            key = self.directory.secret_key()
        except OSError as error:
            self.directory.warn(f"token cache key unusable ({error.strerror or error}); tokens are not kept")
            return None
        message = json.dumps([f"processmaker.core/v{STORE_FORMAT}", *parts]).encode("utf-8")
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def locked(self, name: str) -> Any:
        return self.directory.locked(name)

    def load(self, name: str, now: float | None = None) -> Token | None:
        """The token of an entry, or None when there is none, it expired, or the file is not trusted."""
        raw = self.directory.read(name + ".json")
        if raw is None:
            return None
        try:
            entry = json.loads(raw.decode("utf-8"))
            if entry.get("format") != STORE_FORMAT or entry.get("name") != name:
                return None
            token = Token.from_cache(entry["token"])
            keep_until = float(entry["expires_at"])
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            return None  # corrupt or from another version: it gets rewritten
        now = time.time() if now is None else now
        if now >= keep_until:
            self.discard(name)
            return None
        return token

    def store(self, name: str, token: Token, keep_until: float | None = None) -> bool:
        """Write an entry, kept until ``keep_until`` (default: the token's expiry). Tokens of
        unknown lifetime are not kept."""
        if token.expires_at is None or not self.usable():
            return False
        entry = {"format": STORE_FORMAT, "name": name, "expires_at": keep_until or token.expires_at,
                 "token": token.to_cache()}
        return self.directory.write(name + ".json", json.dumps(entry).encode("utf-8"))

    def discard(self, name: str) -> None:
        self.directory.remove(name + ".json")
