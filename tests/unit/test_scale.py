"""pm_resource with many items (issue 11, "Scale"): what it hands Ansible's own machinery stays the same
size whatever the number of items, and the write-only values of the items are still masked wherever
they could appear. Counts, never times: docs/performance.md and bench/floor.py have the figures."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible_collections.processmaker.core.plugins.module_utils import redaction
from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
    MASK,
    Redactor,
    json_forms,
    secret_forms,
)
from ansible_collections.processmaker.core.plugins.modules import pm_resource
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import Reply, make_jwt, run_module


def bearer() -> str:
    return make_jwt({"sub": "1", "exp": 4102444800.5, "scopes": []})


def user(number: int) -> dict:
    return {"username": f"user{number:04d}", "firstname": "F", "lastname": f"L{number}",
            "email": f"user{number:04d}@example.com", "password": f"Pw/é-{number:04d}-secret"}


def listed(users: list, start_id: int = 2) -> dict:
    data = [{"id": start_id + n, "username": u["username"], "firstname": u["firstname"], "lastname": u["lastname"],
             "email": u["email"], "status": "ACTIVE"} for n, u in enumerate(users)]
    return {"data": data, "meta": {"current_page": 1, "per_page": 1000, "total": len(data), "last_page": 1}}


@pytest.fixture
def no_log_strings(monkeypatch):
    """How many strings each call of Ansible's remove_values (the masking of the whole result) was given."""
    calls: list = []
    original = basic.remove_values

    def counting(value, strings):
        calls.append(len(strings))
        return original(value, strings)

    monkeypatch.setattr(basic, "remove_values", counting)
    return calls


def converge(server, users: list, **args) -> dict:
    return run_module(pm_resource, {"url": server.url, "access_token": bearer(), "kind": "users", "items": users,
                                    **args})


# --- what Ansible's masking is handed does not grow with the items ----------------------------------------

def test_item_secrets_are_not_handed_to_ansibles_masking(server, no_log_strings):
    sizes = {}
    for count in (5, 200):
        users = [user(n) for n in range(count)]
        server.on("GET", "/api/1.0/users", Reply(200, listed(users)))
        no_log_strings.clear()
        result = converge(server, users)
        assert result["summary"]["unchanged"] == count and not result["changed"], result
        sizes[count] = set(no_log_strings)
        assert len(server.seen("GET", "/api/1.0/users")) == 1 + (count == 200)  # one list request per run
    assert sizes[5] == sizes[200], "Ansible's no_log values grew with the number of items"


def test_module_args_show_item_secrets_masked(server):
    users = [user(n) for n in range(3)]
    server.on("GET", "/api/1.0/users", Reply(200, listed(users)))
    result = converge(server, users, _ansible_verbosity=3)
    shown = result["invocation"]["module_args"]["items"]
    assert [item["password"] for item in shown] == [MASK] * 3
    assert [item["username"] for item in shown] == [u["username"] for u in users]
    for secret in (u["password"] for u in users):
        for form in json_forms(secret):
            assert form not in result["_raw"]


@pytest.mark.parametrize("where", ["items", "resources", "config", "config-mapping"])
def test_every_place_items_are_given_is_masked_in_module_args(server, where):
    secret = "Wh3re-secret-value"
    item = {"username": "jdoe", "firstname": "J", "lastname": "D", "email": "j@example.com", "password": secret}
    server.on("GET", "/api/1.0/users", Reply(200, listed([item])))
    args = {"items": {"kind": "users", "items": [item]},
            "resources": {"resources": [{"kind": "users", "items": [item]}]},
            "config": {"config": {"users": [item]}},
            "config-mapping": {"config": {"users": {"items": [item]}}}}[where]
    if where == "items":
        args = {"kind": "users", "items": [item]}
    result = run_module(pm_resource, {"url": server.url, "access_token": bearer(), **args})
    assert not result.get("failed"), result
    assert secret not in result["_raw"] and MASK in json.dumps(result["invocation"]["module_args"])


def test_a_text_item_naming_a_secret_field_is_masked_whole(server):
    """Ansible reads ``username=jdoe password=...`` as a mapping: the password was never seen as one before."""
    server.on("GET", "/api/1.0/users", Reply(200, listed([])))
    server.on("GET", "/api/1.0/deleted_users", Reply(200, listed([])))
    server.on("POST", "/api/1.0/users", lambda request: Reply(422, {
        "message": f"echo {request.body.decode()}", "errors": {"password": [f"bad {request.json['password']}"]}}))
    result = converge(server, ["username=jdoe password=Kv-s3cret-value firstname=J lastname=D email=j@example.com"])
    assert result["failed"] and "422" in result["msg"], result
    assert "Kv-s3cret-value" not in result["_raw"]
    assert server.seen("POST")[0].json["password"] == "Kv-s3cret-value"  # it was sent, as asked


def test_an_echo_of_item_secrets_is_masked_in_messages_and_results(server):
    users = [user(n) for n in range(80)]  # more forms than the redactor scans one by one
    server.on("GET", "/api/1.0/users", Reply(200, listed([])))
    server.on("GET", "/api/1.0/deleted_users", Reply(200, listed([])))
    server.on("POST", "/api/1.0/users", lambda request: Reply(
        422, {"message": f"raw={request.body.decode()} json={json.dumps(request.json)}",
              "errors": {"email": [f"taken by {request.json['password']}"]}}))
    result = converge(server, users, concurrency=4)
    assert result["failed"] and "80 of 80 users writes failed" in result["msg"], result["msg"]
    assert all(MASK in entry["error"] for entry in result["results"])
    for secret in (u["password"] for u in users):
        for form in json_forms(secret):
            assert form not in result["_raw"], form


def test_an_echo_of_secrets_from_an_items_file_is_masked(server, tmp_path):
    """Items read from ``src`` never enter the arguments; their secrets are masked in messages all the same."""
    users = [user(n) for n in range(70)]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(users))
    server.on("GET", "/api/1.0/users", Reply(200, listed([])))
    server.on("GET", "/api/1.0/deleted_users", Reply(200, listed([])))
    server.on("POST", "/api/1.0/users", lambda request: Reply(
        422, {"message": f"raw={request.body.decode()}", "errors": {"email": [f"taken by {request.json['password']}"]}}))
    result = run_module(pm_resource, {"url": server.url, "access_token": bearer(), "kind": "users", "src": str(path),
                                      "report": "changes", "_ansible_verbosity": 3})
    assert result["failed"] and "70 of 70 users writes failed" in result["msg"], result["msg"]
    assert len(result["results"]) == 70 and all(MASK in entry["error"] for entry in result["results"])
    assert result["invocation"]["module_args"]["src"] == str(path)
    for secret in (u["password"] for u in users):
        for form in json_forms(secret):
            assert form not in result["_raw"], form


def test_a_listing_failure_masks_item_secrets_in_the_structured_error(server):
    users = [user(0)]
    server.on("GET", "/api/1.0/users", Reply(500, {"message": f"cannot list: {users[0]['password']}",
                                                   "errors": {users[0]["password"]: [users[0]["password"]]}}))
    result = converge(server, users, retries=0)
    assert result["failed"] and result["error"]["status"] == 500, result
    assert users[0]["password"] not in result["_raw"] and MASK in result["error"]["message"]


def test_an_argument_error_shows_no_item_secret(server):
    users = [user(0)]
    result = converge(server, users, concurrency="many")
    assert result["failed"] and "concurrency" in result["msg"], result
    assert users[0]["password"] not in result["_raw"]
    assert result["invocation"]["module_args"]["items"][0]["password"] == MASK
    assert not server.seen()


def test_the_system_log_records_item_secrets_masked(server, monkeypatch):
    logged: list = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    users = [user(0)]
    server.on("GET", "/api/1.0/users", Reply(200, listed(users)))
    assert not converge(server, users).get("failed")
    assert logged and all(users[0]["password"] not in line for line in logged)
    assert any(f"'password': '{MASK}'" in line for line in logged)


def test_an_item_password_that_is_also_the_connection_password_is_masked_everywhere(server):
    """A value given as a connection secret too is handed to Ansible's masking (everywhere in the result)."""
    shared = "Shared-Passw0rd-value"
    server.on("POST", "/oauth/token", Reply(200, {"token_type": "Bearer", "access_token": bearer(),
                                                  "expires_in": 3600}))
    server.on("GET", "/api/1.0/users", Reply(200, listed([dict(user(0), firstname=shared)])))
    result = run_module(pm_resource, {"url": server.url, "client_id": "2", "client_secret": "s", "username": "admin",
                                      "password": shared, "kind": "users", "items": [dict(user(0), password=shared)],
                                      "_ansible_diff": True})
    assert shared not in result["_raw"], result


# --- the redactor ---------------------------------------------------------------------------------------------

def test_json_only_secrets_are_not_no_log_forms_until_given_as_wire_secrets():
    redact = Redactor()
    redact.add("item-Secret/1", json_only=True)
    assert redact.no_log_forms == set() and json_forms("item-Secret/1") <= redact.forms
    redact.add("conn-Secret/2")
    assert redact.no_log_forms == secret_forms("conn-Secret/2")
    redact.add("item-Secret/1")  # the same value given where any form may travel: every form, for Ansible too
    assert secret_forms("item-Secret/1") <= redact.no_log_forms
    redact.add("conn-Secret/2", json_only=True)  # never narrowed
    assert secret_forms("conn-Secret/2") <= redact.no_log_forms


def test_the_basic_forms_follow_a_client_id_set_later():
    redact = Redactor(["Cl1ent-secret"])
    redact.client_id = "ci-client"
    assert secret_forms("Cl1ent-secret", "ci-client") == redact.no_log_forms


secret_text = st.text(alphabet="ab/é%+ *\\\"", min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(secrets=st.lists(secret_text, min_size=1, max_size=40), filler=st.lists(secret_text, max_size=12))
def test_the_index_finds_what_a_form_by_form_scan_finds(secrets, filler):
    """Above _INDEX_ABOVE forms the redactor looks them up by prefix: the same forms are masked."""
    text = "|".join(json_forms(secrets[0]) | set(filler) | {secrets[-1]})
    indexed, scanned = Redactor(), Redactor()
    for secret in secrets:
        indexed.add(secret, json_only=True)
        scanned.add(secret, json_only=True)
    indexed._ordered = sorted(indexed.forms, key=lambda form: (-len(form), form))
    found = indexed._find(text)
    assert found == {form for form in scanned.forms if form in text}


def test_many_secrets_are_masked_through_the_index():
    secrets = [f"many-Secret/é-{n:03d}" for n in range(300)]
    redact = Redactor()
    for secret in secrets:
        redact.add(secret, json_only=True)
    assert len(redact.forms) > redaction._INDEX_ABOVE
    text = " ".join(form for secret in secrets[::7] for form in json_forms(secret))
    masked = redact(f"echo: {text} end")
    assert masked.startswith("echo: ") and masked.endswith(" end")
    assert set(masked[6:-4].split()) == {MASK}


def test_a_long_item_list_is_summarised_in_module_args(server, monkeypatch):
    """Every item is in results already; echoing 10,000 of them back cost more than the rest of a run."""
    from ansible_collections.processmaker.core.plugins.module_utils.resource import (
        converge as converge_module,
    )

    monkeypatch.setattr(converge_module, "SHOWN_ITEMS", 3)
    users = [user(n) for n in range(4)]
    server.on("GET", "/api/1.0/users", Reply(200, listed(users)))
    result = converge(server, users)
    assert result["invocation"]["module_args"]["items"] == "(4 items, not repeated here: more than 3; see results)"
    assert [entry["identity"]["username"] for entry in result["results"]] == [u["username"] for u in users]
    result = run_module(pm_resource, {"url": server.url, "access_token": bearer(),
                                      "config": {"users": {"items": users}, "groups": users[:1]}})
    shown = result["invocation"]["module_args"]["config"]
    assert shown["users"]["items"].startswith("(4 items") and shown["groups"][0]["password"] == MASK


def test_the_diff_masks_an_item_secret_the_server_shows_in_a_readable_field(server):
    """The API never returns a write-only value; should a server put one in a field it returns, the diff
    (the server's values of what changes) masks it like any message quoting the server."""
    secret = "Echoed-passw0rd-value"
    data = listed([user(0)])
    data["data"][0]["title"] = f"title {secret}"
    server.on("GET", "/api/1.0/users", Reply(200, data))
    server.on("PUT", "/api/1.0/users/2", Reply(204))
    result = converge(server, [dict(user(0), password=secret, lastname="Changed")], _ansible_diff=True)
    assert result["changed"] and result["diff"]["before"]["user0000"]["title"] == f"title {MASK}", result
    assert secret not in result["_raw"]
