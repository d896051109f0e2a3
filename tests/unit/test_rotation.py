"""Refresh tokens rotate: after an automatic renewal, every later task that presents the spent pair
keeps working (security review, item 3). The rotation is remembered in the token store, per
presented refresh token and client credentials, and only for a caller who presents them."""

from __future__ import annotations

import time

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
)
from ansible_collections.processmaker.core.plugins.module_utils.token_store import (
    TokenStore,
)
from unit_helpers import Reply, connection, make_jwt, token_body

SPENT = {"error": "invalid_request", "error_description": "The refresh token is invalid.",
         "hint": "Token has been revoked", "message": "The refresh token is invalid."}


def expired_pair():
    """An access token that expired a minute ago, and its refresh token (what a play registered)."""
    return make_jwt({"sub": "1", "exp": time.time() - 60}), "def50200" + "ab" * 100


def task(server, store_dir, access, refresh, **extra):
    """One pm_api task: its own client, the same presented pair, the same store directory."""
    values = {"client_id": "2", "client_secret": "cl13nt-s3cret", **extra}
    options = connection(server.url, access_token=access, refresh_token=refresh, **values)
    store = TokenStore.open(str(store_dir)) if store_dir is not None else None
    return ProcessMakerClient.from_options(options, store=store)


def api_accepts(*tokens):
    """/api/1.0/users answers 200 to the given access tokens, 401 to any other."""
    def answer(request):
        given = request.headers.get("Authorization", "")
        return Reply(200, {"data": []}) if any(given == f"Bearer {t}" for t in tokens) else Reply(
            401, {"message": "Unauthenticated."})
    return answer


def test_later_tasks_presenting_the_spent_pair_get_the_rotated_token(server, tmp_path):
    access, refresh = expired_pair()
    rotated = token_body()
    server.on("POST", "/oauth/token", Reply(200, rotated), Reply(401, SPENT))
    server.on("GET", "/api/1.0/users", api_accepts(rotated["access_token"]))
    for _ in range(3):
        client = task(server, tmp_path / "store", access, refresh)
        assert client.get("users").status == 200
        client.close()
    exchanges = server.seen("POST", "/oauth/token")
    assert len(exchanges) == 1 and exchanges[0].form["refresh_token"] == refresh  # spent once, remembered


def test_without_the_memory_the_second_task_fails_as_spent(server):
    """What the memory prevents: Passport revokes the pair, so a second exchange is refused."""
    access, refresh = expired_pair()
    rotated = token_body()
    server.on("POST", "/oauth/token", Reply(200, rotated), Reply(401, SPENT))
    server.on("GET", "/api/1.0/users", api_accepts(rotated["access_token"]))
    assert task(server, None, access, refresh).get("users").status == 200
    with pytest.raises(ProcessMakerError) as failed:
        task(server, None, access, refresh).get("users")
    assert failed.value.status == 401 and "revoked" in str(failed.value)


def test_the_chain_goes_on_when_the_rotated_token_expires_too(server, tmp_path):
    access, refresh = expired_pair()
    first = token_body(expires_in=1)
    second = token_body()
    server.on("POST", "/oauth/token", Reply(200, first), Reply(200, second))
    server.on("GET", "/api/1.0/users", api_accepts(first["access_token"], second["access_token"]))
    assert task(server, tmp_path, access, refresh).get("users").status == 200
    time.sleep(1.2)
    assert task(server, tmp_path, access, refresh).get("users").status == 200
    exchanges = [request.form["refresh_token"] for request in server.seen("POST", "/oauth/token")]
    assert exchanges == [refresh, first["refresh_token"]]  # the live end of the chain, never the spent pair
    assert task(server, tmp_path, access, refresh).get("users").status == 200
    assert len(server.seen("POST", "/oauth/token")) == 2


def test_other_client_credentials_do_not_get_the_rotated_token(server, tmp_path):
    access, refresh = expired_pair()
    rotated = token_body()
    server.on("POST", "/oauth/token", Reply(200, rotated), Reply(401, SPENT))
    server.on("GET", "/api/1.0/users", api_accepts(rotated["access_token"]))
    assert task(server, tmp_path, access, refresh).get("users").status == 200
    with pytest.raises(ProcessMakerError):
        task(server, tmp_path, access, refresh, client_secret="another-secret").get("users")
    assert server.seen("POST", "/oauth/token")[-1].form["client_secret"] == "another-secret"


def test_an_explicit_refresh_grant_is_not_an_automatic_renewal(server, tmp_path):
    """grant_type=refresh_token asks for one exchange of the given refresh token: presented again, it is
    spent, and the server says so (as ProcessMaker's docs and ours say); only a renewal the collection
    makes on its own is remembered."""
    _access, refresh = expired_pair()
    rotated = token_body()
    server.on("POST", "/oauth/token", Reply(200, rotated), Reply(401, SPENT))
    options = connection(server.url, grant_type="refresh_token", refresh_token=refresh, client_id="2",
                         client_secret="cl13nt-s3cret")
    first = ProcessMakerClient.from_options(options, store=TokenStore.open(str(tmp_path)))
    assert first.token.access_token == rotated["access_token"]
    with pytest.raises(ProcessMakerError) as spent:
        ProcessMakerClient.from_options(options, store=TokenStore.open(str(tmp_path))).token  # noqa: B018
    assert spent.value.status == 401 and len(server.seen("POST", "/oauth/token")) == 2
