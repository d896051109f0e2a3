"""The kinds table: consistent with itself, with the module's options and docs, with the API facts
(processmaker-api.md section 8), and the pure item logic of each kind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from ansible_collections.processmaker.core.plugins.module_utils.resource import (
    group_members as members_kind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource import (
    model as K,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.converge import (
    entries_from,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.kinds import (
    DEPENDENCY_ORDER,
    KINDS,
    SECRET_FIELDS,
    secret_values,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.model import (
    Context,
    Current,
    ItemError,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    PlanError,
)
from ansible_collections.processmaker.core.plugins.modules import pm_resource

REPO = Path(__file__).resolve().parents[2]


def _doc(name):
    tree = ast.parse((REPO / "plugins" / "modules" / "pm_resource.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return yaml.safe_load(node.value.value)
    raise AssertionError(name)


# --- the table is consistent -------------------------------------------------------------------

@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_is_consistent(name):
    kind = KINDS[name]
    names = kind.field_names
    assert kind.name == name and kind.path and not kind.path.startswith("/")
    assert len(set(names)) == len(names), "a field is listed twice"
    if name not in ("group_members", "permissions"):  # identities of a type and a name (group, user, member)
        assert set(kind.identity) <= set(names)
        assert set(kind.put_repeats) <= set(names)
    assert not set(kind.write_only_fields) & set(kind.identity)
    assert not set(kind.write_only_fields) & set(kind.put_repeats), "a PUT cannot repeat what it cannot read"
    for statuses in (kind.create_status, kind.update_status, kind.delete_status):
        assert statuses and all(200 <= status < 300 for status in statuses)
    for field in kind.fields:
        assert field.type in K.NORMALIZERS
        if field.choices and field.create_default is not None:
            assert field.create_default in field.choices
    if kind.soft_delete:
        assert kind.deleted_path and kind.restore_path
    if not kind.can_delete:
        assert not kind.purgeable
    if kind.can_create or kind.can_delete:  # what it writes it lists (a permission set is only replaced)
        assert kind.path in kind.lists


def test_every_kind_has_a_place_in_the_dependency_order():
    assert sorted(DEPENDENCY_ORDER) == sorted(KINDS)
    order = list(DEPENDENCY_ORDER)
    assert order.index("groups") < order.index("group_members")
    assert order.index("users") < order.index("group_members")
    assert order.index("settings") == 0  # a setting can change how later objects are created
    assert [KINDS[name].rank for name in order] == sorted(KINDS[name].rank for name in order)


def test_secret_fields_are_the_write_only_ones():
    assert SECRET_FIELDS == {"password", "value"}
    assert KINDS["users"].write_only_fields == ("password",)
    assert KINDS["environment_variables"].write_only_fields == ("value",)


def test_the_module_offers_every_kind_and_documents_its_fields():
    assert pm_resource.ARGUMENT_SPEC["kind"]["choices"] == list(KINDS)
    doc = _doc("DOCUMENTATION")
    assert doc["options"]["kind"]["choices"] == list(KINDS)
    text = " ".join(doc["description"])
    for kind in KINDS.values():
        assert f"V({kind.name})" in text, kind.name
        for field in kind.field_names:
            assert f"C({field})" in text, f"{kind.name}.{field} is not documented"
    for option, spec in pm_resource.ARGUMENT_SPEC.items():
        documented = doc["options"][option]
        assert documented.get("default") == spec.get("default"), option
        assert documented.get("choices") == spec.get("choices"), option
        assert documented.get("aliases", []) == spec.get("aliases", []), option


# --- the API facts (processmaker-api.md section 8; the sandbox implements them) -------------

API_FACTS = {
    # kind: (create, update, delete) statuses
    "users": ((201,), (204,), (204,)),
    "groups": ((201,), (204,), (204,)),
    "group_members": ((201,), (204,), (204,)),
    "environment_variables": ((201,), (200,), (200,)),
    "process_categories": ((201,), (200,), (204,)),
    "screen_categories": ((201,), (200,), (204,)),
    "script_categories": ((201,), (200,), (204,)),
    "settings": ((201,), (204,), (204,)),
    "permissions": ((201,), (204,), (204,)),  # only replaced: PUT /permissions answers 204
    "script_executors": ((200,), (200,), (200,)),  # {status: started} while the image builds
}


@pytest.mark.parametrize("name", list(KINDS))
def test_statuses_match_the_reference(name):
    kind = KINDS[name]
    create, update, delete = API_FACTS[name]
    assert (kind.create_status, kind.update_status, kind.delete_status) == (create, update, delete)


def test_identity_keys_match_the_reference():
    identities = {name: kind.identity for name, kind in KINDS.items()}
    assert identities["users"] == ("username",)
    assert identities["settings"] == ("key",)
    for name in ("groups", "environment_variables", "process_categories", "screen_categories", "script_categories"):
        assert identities[name] == ("name",)


def test_quirks_are_in_the_table():
    users, members, settings = KINDS["users"], KINDS["group_members"], KINDS["settings"]
    assert users.soft_delete and users.restore_path == "users/restore" and users.deleted_path == "deleted_users"
    assert set(users.put_repeats) >= {"username", "firstname", "lastname", "email", "status", "meta"}
    assert members.create_idempotent and members.compared_fields == ()  # created or deleted, never updated
    assert not settings.can_create and not settings.can_delete and settings.put_repeats == ("key",)
    assert KINDS["environment_variables"].put_repeats == ("name", "description")
    assert KINDS["groups"].put_repeats[0] == "name"


def test_an_unknown_kind_is_refused_naming_the_kinds():
    with pytest.raises(PlanError, match="config.people: unknown kind 'people' .*users"):
        entries_from({"config": {"people": []}, "state": "present", "purge": False, "update_secrets": "on_create"})


# --- items --------------------------------------------------------------------------------------

def test_items_are_normalized_like_the_server_stores_them():
    users = KINDS["users"]
    item = users.normalize_item(0, {"username": " JDoe ", "email": "j@x.io ", "title": "", "force_change_password": "yes",
                                    "meta": {}})
    assert item.key == ("jdoe",) and item.label == "JDoe"
    assert item.values == {"username": "JDoe", "email": "j@x.io", "title": None, "force_change_password": True,
                           "meta": None}


@pytest.mark.parametrize(
    ("kind", "item", "message"),
    [
        ("users", {"username": "a", "emial": "x"}, r"items\[3\]: unknown field 'emial' for kind users"),
        ("users", {"email": "x"}, r"items\[3\]: missing identity field 'username'"),
        ("users", {"username": "a", "status": "active"}, r"items\[3\]: field 'status' must be one of ACTIVE, .*'active'"),
        ("users", {"username": "a", "meta": "x"}, r"items\[3\]: field 'meta' must be a mapping"),
        ("users", {"username": "a", "force_change_password": "maybe"}, r"items\[3\]: field 'force_change_password'"),
        ("users", "jdoe", r"items\[3\]: each item must be a mapping"),
        ("groups", {"name": {"a": 1}}, r"items\[3\]: field 'name' must be a string"),
        ("settings", {"key": "x"}, r"items\[3\]: missing field 'config'"),
        ("environment_variables", {"name": "a", "description": ""}, r"items\[3\]: field 'description' cannot be empty"),
        ("users", {"username": "a", "email": None}, r"items\[3\]: field 'email' cannot be empty"),
        ("group_members", {"group": "G"}, r"items\[3\]: set exactly one of 'user' or 'member_group'"),
        ("group_members", {"group": "G", "user": "u", "member_group": "H"}, r"exactly one"),
        ("group_members", {"user": "u"}, r"items\[3\]: missing identity field 'group'"),
        ("group_members", {"group": "G", "users": "u"}, r"items\[3\]: unknown field 'users'"),
    ],
)
def test_bad_items_fail_with_one_line_naming_index_and_field(kind, item, message):
    with pytest.raises(ItemError, match=message) as caught:
        KINDS[kind].normalize_item(3, item)
    assert "\n" not in str(caught.value)


def test_secret_values_are_found_in_raw_items():
    items = [{"username": "a", "password": "p4ss!"}, {"name": "v", "value": "s3cr3t"}, {"password": None}, "x"]
    assert secret_values(items) == ["p4ss!", "s3cr3t"]
    assert secret_values(None) == []


def test_booleans_go_out_as_integers():
    # PHP's loose in_array('password', $body) in edit_username_password matches a true value
    body = KINDS["users"].create_body({"username": "a", "force_change_password": True, "email_task_notification": False},
                                       Context())
    assert body == {"username": "a", "force_change_password": 1, "email_task_notification": 0}
    assert not any(isinstance(value, bool) for value in body.values())


def _user(**raw):
    base = {"id": 7, "username": "jdoe", "firstname": "J", "lastname": "D", "email": "j@x.io", "status": "ACTIVE",
            "meta": {"team": "x"}, "title": "t", "is_administrator": False}
    base.update(raw)
    return KINDS["users"].to_current(base, Context())


def test_user_update_repeats_the_required_fields_and_meta():
    current = _user()
    body = KINDS["users"].update_body(current, {"title": "boss"}, Context(actor_password="actor-pw"))
    assert body == {"username": "jdoe", "firstname": "J", "lastname": "D", "email": "j@x.io", "status": "ACTIVE",
                    "meta": {"team": "x"}, "title": "boss"}
    body = KINDS["users"].update_body(current, {"email": "new@x.io"}, Context(actor_password="actor-pw"))
    assert body["email"] == "new@x.io" and body["valpassword"] == "actor-pw"


def test_users_protection():
    users = KINDS["users"]
    assert users.to_current({"id": 1, "username": "admin"}, Context(caller_id="1")).locked
    assert users.to_current({"id": 2, "username": "_anon", "is_system": True}, Context()).locked
    admin = users.to_current({"id": 3, "username": "boss", "is_administrator": True}, Context(caller_id="1"))
    assert admin.protected.startswith("an administrator") and not admin.locked
    assert users.to_current({"id": 4, "username": "x"}, Context(caller_id="1")).protected is None


def test_environment_variables_default_their_description_to_the_name():
    kind = KINDS["environment_variables"]
    values = kind.create_values(kind.normalize_item(0, {"name": "api_url", "value": "v"}))
    assert values == {"name": "api_url", "description": "api_url", "value": "v"}
    body = kind.update_body(Current(("api_url",), 4, {}, "api_url", {"id": 4, "name": "api_url", "description": "d"}),
                            {"value": "w"}, Context())
    assert body == {"name": "api_url", "description": "d", "value": "w"}


MEMBER_LISTS = {
    "users": [{"id": 1, "username": "admin"}, {"id": 5, "username": "jdoe"}],
    "groups": [{"id": 10, "name": "Sales"}, {"id": 11, "name": "EMEA"}],
    "group_members": [
        {"id": 100, "group_id": 10, "member_id": 5, "member_type": members_kind.USER_CLASS, "name": "Sales"},
        {"id": 101, "group_id": 10, "member_id": 11, "member_type": members_kind.GROUP_CLASS, "name": "Sales"},
        {"id": 102, "group_id": 10, "member_id": 2, "member_type": members_kind.USER_CLASS, "name": "Sales"},
        {"id": 103, "group_id": 11, "member_id": 1, "member_type": members_kind.USER_CLASS, "name": "EMEA"},
    ],
}


def test_memberships_are_resolved_by_name():
    kind = KINDS["group_members"]
    current = {item.label: item for item in kind.current_items(MEMBER_LISTS, kind.context(MEMBER_LISTS, caller_id="1"))}
    assert set(current) == {"Sales/user:jdoe", "Sales/group:EMEA", "Sales/user:#2", "EMEA/user:admin"}
    assert current["Sales/user:jdoe"].protected is None and current["Sales/user:jdoe"].id == 100
    assert "not listed" in current["Sales/user:#2"].protected  # a system user's membership
    assert "authenticates as" in current["EMEA/user:admin"].protected
    desired = kind.normalize_item(0, {"group": "sales", "user": "JDOE"})
    assert desired.key == current["Sales/user:jdoe"].key
    refs = kind.context(MEMBER_LISTS)
    assert kind.create_body(desired.values, refs) == {"group_id": 10, "member_id": 5, "member_type": members_kind.USER_CLASS}
    nested = kind.normalize_item(1, {"group": "EMEA", "member_group": "Sales"})
    assert kind.create_body(nested.values, refs) == {"group_id": 11, "member_id": 10, "member_type": members_kind.GROUP_CLASS}
    assert kind.unresolved(kind.normalize_item(2, {"group": "Nope", "user": "ghost"}).values, refs) == [
        "group 'Nope'", "user 'ghost'"]
    assert kind.lookup(desired.values, refs) == ("group_members", {"member_id": 5})
    assert kind.matches(MEMBER_LISTS["group_members"][0], desired.values, refs)
    assert not kind.matches(MEMBER_LISTS["group_members"][3], desired.values, refs)
    assert kind.identity_of(nested.values) == {"group": "EMEA", "member_group": "Sales"}


@pytest.mark.parametrize(
    ("fmt", "wanted", "server", "same"),
    [
        ("boolean", False, False, True),
        ("boolean", "false", False, True),  # sent as a real boolean: the text "false" would read back true
        ("boolean", "yes", True, True),
        ("boolean", True, False, False),
        ("text", 10, "10", True),
        ("text", "10", "8", False),
        ("text", "", None, True),
        ("choice", 0, "0", True),
        ("checkboxes", ["By email"], ["By email"], True),
        ("checkboxes", [], ["By email"], False),
        ("array", {"b": 1, "a": 2}, {"a": 2, "b": 1}, True),
    ],
)
def test_settings_compare_by_format(fmt, wanted, server, same):
    kind = KINDS["settings"]
    current = kind.to_current({"id": 1, "key": "k", "config": server, "format": fmt}, Context())
    assert kind.same("config", wanted, current) is same
    # what the server answers after the write compares equal to what was asked
    after = Current(current.key, 1, kind.applied(current, {"config": wanted}), "k", current.raw)
    assert kind.same("config", wanted, after)


def test_settings_update_sends_key_and_a_typed_config():
    kind = KINDS["settings"]
    current = kind.to_current({"id": 9, "key": "password-policies.2fa_enabled", "config": True, "format": "boolean"},
                              Context())
    assert kind.update_body(current, {"config": "no"}, Context()) == {"key": "password-policies.2fa_enabled", "config": False}


# --- permissions ------------------------------------------------------------------------------------

PERMISSION_LISTS = {
    "users": [{"id": 5, "username": "jdoe", "firstname": "J", "lastname": "D", "email": "j@x.io", "status": "ACTIVE",
               "is_administrator": False, "meta": {"team": "ops"}},
              {"id": 6, "username": "boss", "firstname": "B", "lastname": "S", "email": "b@x.io", "status": "ACTIVE",
               "is_administrator": True, "meta": None}],
    "groups": [{"id": 10, "name": "Sales"}, {"id": 11, "name": "New"}],
    "groups?include=permissions": [{"id": 10, "name": "Sales", "permissions": [{"id": 1, "name": "view-users"},
                                                                               {"id": 2, "name": "edit-users"}]}],
}


def test_permissions_compare_a_groups_set_and_a_users_fingerprint():
    from ansible_collections.processmaker.core.plugins.module_utils.resource.permissions import (
        FINGERPRINT,
        fingerprint,
    )

    kind = KINDS["permissions"]
    context = kind.context(PERMISSION_LISTS)
    current = {item.label: item for item in kind.current_items(PERMISSION_LISTS, context)}
    assert set(current) == {"user:jdoe", "user:boss", "group:Sales", "group:New"}
    sales = kind.normalize_item(0, {"group": "sales", "permissions": ["view-users", "edit-users", "view-users"]})
    assert sales.key == current["group:Sales"].key and sales.values["grant"] == {"permissions": ["edit-users", "view-users"]}
    assert kind.same("grant", sales.values["grant"], current["group:Sales"])  # read back through include=permissions
    assert not kind.same("grant", {"permissions": []}, current["group:Sales"])
    assert kind.same("grant", {"permissions": []}, current["group:New"])  # a group without any
    jdoe = kind.normalize_item(1, {"user": "jdoe", "permissions": ["view-users"]})
    assert not kind.same("grant", jdoe.values["grant"], current["user:jdoe"])  # no fingerprint yet
    writes = kind.update_requests(current["user:jdoe"], jdoe.values, context)
    assert [(w.method, w.path) for w in writes] == [("PUT", "permissions"), ("PUT", "users/5")]
    assert writes[0].body == {"user_id": 5, "permission_names": ["view-users"]}
    assert writes[1].body["meta"] == {"team": "ops", FINGERPRINT: fingerprint(["view-users"])}
    assert writes[1].body["username"] == "jdoe" and writes[1].body["email"] == "j@x.io"  # the PUT's required fields
    granted = Current(current["user:jdoe"].key, 5, kind.applied(current["user:jdoe"], jdoe.values), "user:jdoe",
                      current["user:jdoe"].raw)
    assert kind.same("grant", jdoe.values["grant"], granted)
    forced = kind.normalize_item(2, {"user": "jdoe", "permissions": ["view-users"], "force": True})
    assert not kind.same("grant", forced.values["grant"], granted)
    boss = kind.normalize_item(3, {"user": "boss", "permissions": [], "is_administrator": False})
    assert kind.update_requests(current["user:boss"], boss.values, context)[0].body == {
        "user_id": 6, "permission_names": [], "is_administrator": False}


@pytest.mark.parametrize(("item", "message"), [
    ({"user": "a", "group": "b", "permissions": []}, "exactly one of 'user' or 'group'"),
    ({"user": "a"}, "must be the whole list of permission names"),
    ({"group": "b", "permissions": ["x"], "is_administrator": True}, "is_administrator is for a user"),
    ({"user": "a", "permissions": "view-users"}, "must be the whole list"),
])
def test_permission_items_are_checked(item, message):
    with pytest.raises(ItemError, match=message):
        KINDS["permissions"].normalize_item(0, item)


def test_a_users_meta_keeps_the_collections_records():
    users = KINDS["users"]
    raw = {"id": 5, "username": "jdoe", "firstname": "J", "lastname": "D", "email": "j@x.io", "status": "ACTIVE",
           "meta": {"team": "ops", "processmaker_core_permissions": "abc"}}
    current = users.to_current(raw, Context())
    assert users.same("meta", {"team": "ops"}, current)  # the fingerprint is not the item's business
    body = users.update_body(current, {"meta": {"team": "dev"}}, Context())
    assert body["meta"] == {"team": "dev", "processmaker_core_permissions": "abc"}


# --- script executors ------------------------------------------------------------------------------

class BuildsServer:
    """A client whose executor list shows each build going queued -> building -> an end."""

    def __init__(self, *listings):
        self.listings = list(listings)
        self.calls = 0

    def paginate(self, path, **kwargs):
        self.calls += 1
        items = self.listings.pop(0) if len(self.listings) > 1 else self.listings[0]
        return type("Pages", (), {"items": items})()


def written(*ids):
    from ansible_collections.processmaker.core.plugins.module_utils.resource.executor import (
        Outcome,
    )

    return [(number, None, Outcome(executor_id)) for number, executor_id in enumerate(ids)]


def test_script_executor_builds_are_waited_for_and_a_failure_named():
    kind = KINDS["script_executors"]
    server = BuildsServer(
        [{"id": 9, "sandbox_build": {"status": "queued"}}, {"id": 10, "sandbox_build": {"status": "building"}}],
        [{"id": 9, "sandbox_build": {"status": "done", "exit_code": 0}},
         {"id": 10, "sandbox_build": {"status": "failed", "exit_code": 1}}])
    settled = kind.settle(server, written(9, 10), timeout=30, sleep=lambda s: None)
    assert settled.errors == {1: "the image build failed (exit code 1); check the executor's config"}
    assert server.calls == 2


def test_script_executor_builds_time_out_and_servers_without_build_state_are_not_waited_for():
    kind = KINDS["script_executors"]
    clock = iter(range(0, 1000, 10))
    slow = BuildsServer([{"id": 9, "sandbox_build": {"status": "building"}}])
    settled = kind.settle(slow, written(9), timeout=25, sleep=lambda s: None, clock=lambda: next(clock))
    assert "did not finish within settle_timeout=25s" in settled.errors[0]
    plain = BuildsServer([{"id": 9, "title": "x"}])  # ProcessMaker shows no build state through the API
    settled = kind.settle(plain, written(9), timeout=25, sleep=lambda s: None)
    assert settled.errors == {} and "not waiting" in settled.warnings[0]
