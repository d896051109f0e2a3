"""What the sandbox does to stay safe on a shared machine: private files, bounded reads, no tracebacks.

The database holds the seeded admin password, the client secrets, the app key and the RSA key that
signs access tokens: whoever reads it can sign an administrator's token. The credentials file holds
the same secrets. Both are created 0600, and never through a path another local user could have
prepared.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pm_sandbox.seed import write_credentials
from pm_sandbox.store import Store


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run with a given umask (the usual 022 makes new files world-readable unless asked otherwise)."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- 9: the database and the credentials file ---------------------------------------------------


def test_database_and_its_wal_and_shm_files_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    with umask(0o022):
        store = Store(path)
        with store.transaction():
            store.set_meta("probe", "written")  # a write: SQLite now has its -wal and -shm files
        reader = Store(path)  # a second connection, as a second worker thread would open
        assert reader.get_meta("probe") == "written"
    try:
        for name in ("sandbox.sqlite", "sandbox.sqlite-wal", "sandbox.sqlite-shm"):
            assert (tmp_path / name).exists(), name
            assert mode(tmp_path / name) == 0o600, (name, oct(mode(tmp_path / name)))
            assert os.lstat(tmp_path / name).st_uid == os.getuid()
    finally:
        store.close()
        reader.close()


def test_an_existing_world_readable_database_is_narrowed_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with umask(0o022):
        Store(path).close()
    os.chmod(path, 0o644)  # as an older sandbox left it
    Store(path).close()
    assert mode(path) == 0o600


def _predictable_temp(target: Path) -> Path:
    """The temporary name the credentials writer used to use: guessable by any local user."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def test_credentials_writer_never_follows_a_prepared_symlink(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "creds.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n")
    _predictable_temp(target).symlink_to(victim)
    with umask(0o022):
        write_credentials(str(target), {"admin": {"password": "s3cret"}})
    assert victim.read_text() == "not yours\n"  # the secrets did not land behind the link
    assert not target.is_symlink()
    assert mode(target) == 0o600
    assert os.lstat(target).st_uid == os.getuid()
    assert '"s3cret"' in target.read_text()


def test_credentials_writer_never_reuses_a_prepared_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "creds.json"
    planted = _predictable_temp(target)
    planted.write_text("planted\n")
    os.chmod(planted, 0o666)  # someone else's file, writable and readable by all
    planted_inode = os.lstat(planted).st_ino
    with umask(0o022):
        write_credentials(str(target), {"admin": {"password": "s3cret"}})
    assert os.lstat(target).st_ino != planted_inode  # a file of our own, not the planted one
    assert mode(target) == 0o600
    assert os.lstat(target).st_uid == os.getuid()
    if planted.exists():
        assert planted.read_text() == "planted\n"


def test_credentials_writer_replaces_a_prepared_symlink_at_the_final_path(tmp_path: Path) -> None:
    target = tmp_path / "creds.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n")
    target.symlink_to(victim)
    write_credentials(str(target), {"admin": {"password": "s3cret"}})
    assert victim.read_text() == "not yours\n"
    assert not target.is_symlink()
    assert mode(target) == 0o600


@pytest.mark.parametrize("leftover_mode", [0o644, 0o600])
def test_credentials_writer_leaves_no_temporary_files(tmp_path: Path, leftover_mode: int) -> None:
    target = tmp_path / "creds.json"
    target.write_text("{}")
    os.chmod(target, leftover_mode)
    write_credentials(str(target), {"url": "http://127.0.0.1:1"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["creds.json"]
    assert mode(target) == 0o600
