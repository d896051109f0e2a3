"""The pure planner: every action, absent, purge safety, the write-only policy, validation, diffs,
and (hypothesis) planning the state a plan leaves behind yields nothing to do."""

from __future__ import annotations

import pytest
from ansible_collections.processmaker.core.plugins.module_utils.redaction import MASK
from ansible_collections.processmaker.core.plugins.module_utils.resource import (
    group_members as members_kind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource import (
    settings as settings_kind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource import (
    users as users_kind,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.kinds import (
    KINDS,
)
from ansible_collections.processmaker.core.plugins.module_utils.resource.planner import (
    PlanError,
    PlanOptions,
    apply_plan,
    make_plan,
    needs_deleted,
    validate_items,
    validate_options,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from property_runs import examples

USERS = KINDS["users"]
PASSWORD = "S3cret!pass"


def user(username, user_id, **fields):
    raw = {"id": user_id, "username": username, "firstname": "F", "lastname": "L", "email": f"{username}@x.io",
           "status": "ACTIVE", "meta": None, "is_administrator": False, "is_system": False}
    raw.update(fields)
    return raw


def current_users(*raws, caller="1"):
    return USERS.current_items({"users": list(raws)}, USERS.context({}, caller_id=caller))


def plan_users(items, current=(), deleted=(), actor_password="actor-pw", **options):
    options = PlanOptions(**options)
    validate_options(USERS, options)
    desired = validate_items(USERS, items)
    gone = USERS.deleted_items({"deleted_users": list(deleted)})
    context = USERS.context({}, caller_id="1", actor_password=actor_password)
    return make_plan(USERS, desired, current_users(*current), gone, options, context)


def new_user(username, **fields):
    item = {"username": username, "firstname": "F", "lastname": "L", "email": f"{username}@x.io", "password": PASSWORD}
    item.update(fields)
    return item


def ops(plan):
    return [(action.label, action.op) for action in plan.actions]


# --- each action ----------------------------------------------------------------------------------

def test_create_update_unchanged_in_item_order():
    plan = plan_users(
        [new_user("new"), {"username": "same", "email": "same@x.io"}, {"username": "Diff", "title": "Boss"}],
        current=[user("admin", 1, is_administrator=True), user("same", 2), user("diff", 3, title="Clerk")],
    )
    assert ops(plan) == [("new", "create"), ("same", "unchanged"), ("Diff", "update")]
    create, unchanged, update = plan.actions
    assert create.values == {"username": "new", "firstname": "F", "lastname": "L", "email": "new@x.io",
                             "password": PASSWORD, "status": "ACTIVE"}
    assert create.id is None and "password" in create.changes
    assert unchanged.id == 2 and not unchanged.values
    assert update.id == 3 and update.values == {"title": "Boss"} and update.changes == ["title"]
    assert plan.changed and plan.summary() == {"created": 1, "updated": 1, "restored": 0, "deleted": 0, "unchanged": 1,
                                               "skipped": 0}
    assert [action.result() for action in plan.actions][2] == {
        "identity": {"username": "Diff"}, "action": "update", "id": 3, "index": 2, "changes": ["title"]}


def test_nothing_to_do_is_not_changed():
    plan = plan_users([{"username": "a", "status": "ACTIVE"}], current=[user("a", 2)])
    assert not plan.changed and not plan.writes and plan.diff() == {"before": {}, "after": {}}


def test_a_soft_deleted_user_is_restored_then_updated_with_its_secret():
    plan = plan_users([new_user("gone", title="Back")], deleted=[user("gone", 9, status="INACTIVE", title="Old")])
    (action,) = plan.actions
    assert action.op == "restore" and action.id == 9
    assert action.values == {"title": "Back", "password": PASSWORD}  # status comes back ACTIVE with the restore
    assert action.after["password"] == MASK and action.after["status"] == "ACTIVE"


def test_restore_without_changes_writes_only_the_restore():
    plan = plan_users([{"username": "gone"}], deleted=[user("gone", 9, status="INACTIVE")])
    assert ops(plan) == [("gone", "restore")] and plan.actions[0].values == {}


def test_needs_deleted_only_when_something_is_missing():
    desired = validate_items(USERS, [{"username": "a"}, {"username": "b"}])
    present = current_users(user("a", 2), user("b", 3))
    assert not needs_deleted(USERS, desired, present, PlanOptions())
    assert needs_deleted(USERS, desired, present[:1], PlanOptions())
    assert not needs_deleted(USERS, desired, present[:1], PlanOptions(state="absent"))
    assert not needs_deleted(KINDS["groups"], validate_items(KINDS["groups"], [{"name": "g"}]), [], PlanOptions())


def test_missing_fields_to_create_are_named():
    with pytest.raises(PlanError, match=r"^items\[0\] \(nobody\): email, firstname, lastname, password are required"
                                        r" to create the user"):
        plan_users([{"username": "nobody"}])


# --- absent ---------------------------------------------------------------------------------------

def test_absent_deletes_what_exists_and_ignores_what_does_not():
    plan = plan_users([{"username": "x"}, {"username": "ghost"}], current=[user("x", 4)], state="absent")
    assert ops(plan) == [("x", "delete"), ("ghost", "unchanged")]
    assert plan.actions[0].reason == "absent" and plan.actions[0].id == 4
    assert plan.diff() == {"before": {"x": {"username": "x", "firstname": "F", "lastname": "L", "email": "x@x.io",
                                             "status": "ACTIVE", "meta": None}}, "after": {}}


def test_absent_never_deletes_the_caller():
    with pytest.raises(PlanError, match=r"items\[0\] \(admin\): refusing to delete the user this task authenticates as"):
        plan_users([{"username": "admin"}], current=[user("admin", 1)], state="absent")


def test_absent_may_delete_an_administrator_it_names():
    plan = plan_users([{"username": "boss"}], current=[user("boss", 5, is_administrator=True)], state="absent")
    assert ops(plan) == [("boss", "delete")]


def test_absent_is_not_for_settings_and_purge_needs_present():
    settings = KINDS["settings"]
    with pytest.raises(PlanError, match="state=absent is not supported for kind settings"):
        validate_options(settings, PlanOptions(state="absent"))
    with pytest.raises(PlanError, match="purge is not supported for kind settings"):
        validate_options(settings, PlanOptions(purge=True))
    with pytest.raises(PlanError, match="purge only works with state=present"):
        plan_users([], state="absent", purge=True)


# --- purge ----------------------------------------------------------------------------------------

def test_purge_deletes_what_is_not_listed_but_never_the_protected():
    plan = plan_users(
        [{"username": "keep"}],
        current=[user("admin", 1, is_administrator=True), user("boss", 2, is_administrator=True), user("keep", 3),
                 user("zed", 5), user("extra", 4), user("_anon", 6, is_system=True)],
        purge=True,
    )
    assert ops(plan) == [("keep", "unchanged"), ("extra", "delete"), ("zed", "delete")]
    assert all(action.reason == "purge" and action.index is None for action in plan.actions[1:])
    skipped = {entry["identity"]["username"]: entry["reason"] for entry in plan.skipped}
    assert skipped == {"admin": "the user this task authenticates as",
                       "boss": "an administrator (purge never removes one; list it with state=absent to delete it)",
                       "_anon": "a system user"}
    assert plan.summary()["skipped"] == 3 and plan.summary()["deleted"] == 2


def test_purge_of_memberships_spares_the_caller_and_unlisted_members():
    kind = KINDS["group_members"]
    lists = {
        "users": [{"id": 1, "username": "admin"}, {"id": 5, "username": "jdoe"}, {"id": 6, "username": "rroe"}],
        "groups": [{"id": 10, "name": "Sales"}],
        "group_members": [
            {"id": 100, "group_id": 10, "member_id": 5, "member_type": members_kind.USER_CLASS},
            {"id": 101, "group_id": 10, "member_id": 6, "member_type": members_kind.USER_CLASS},
            {"id": 102, "group_id": 10, "member_id": 1, "member_type": members_kind.USER_CLASS},
            {"id": 103, "group_id": 10, "member_id": 2, "member_type": members_kind.USER_CLASS},  # a system user
        ],
    }
    desired = validate_items(kind, [{"group": "Sales", "user": "jdoe"}])
    context = kind.context(lists, caller_id="1")
    plan = make_plan(kind, desired, kind.current_items(lists, context), options=PlanOptions(purge=True), context=context)
    assert ops(plan) == [("Sales/user:jdoe", "unchanged"), ("Sales/user:rroe", "delete")]
    assert plan.actions[1].id == 101
    assert sorted(entry["id"] for entry in plan.skipped) == [102, 103]


# --- write-only fields ----------------------------------------------------------------------------

def test_on_create_leaves_existing_secrets_alone():
    plan = plan_users([new_user("a")], current=[user("a", 2)], update_secrets="on_create")
    assert ops(plan) == [("a", "unchanged")]


def test_always_writes_the_secret_and_masks_it():
    plan = plan_users([new_user("a")], current=[user("a", 2)], update_secrets="always")
    (action,) = plan.actions
    assert action.op == "update" and action.values == {"password": PASSWORD} and action.changes == ["password"]
    diff = plan.diff()
    assert diff["after"]["a"]["password"] == MASK and "password" not in diff["before"]["a"]
    assert PASSWORD not in repr(diff) and PASSWORD not in repr(action.result())


def test_environment_variable_values_are_write_only():
    kind = KINDS["environment_variables"]
    current = kind.current_items({"environment_variables": [{"id": 3, "name": "api", "description": "d"}]},
                                 kind.context({}))
    desired = validate_items(kind, [{"name": "api", "description": "d", "value": "v4lue!"},
                                    {"name": "new", "value": "n3w!"}])
    plan = make_plan(kind, desired, current)
    assert ops(plan) == [("api", "unchanged"), ("new", "create")]
    assert plan.diff()["after"] == {"new": {"name": "new", "description": "new", "value": MASK}}
    plan = make_plan(kind, desired, current, options=PlanOptions(update_secrets="always"))
    assert ops(plan) == [("api", "update"), ("new", "create")]
    assert "v4lue!" not in repr(plan.diff()) and "n3w!" not in repr(plan.diff())


# --- other rules ----------------------------------------------------------------------------------

def test_an_email_change_needs_the_acting_password():
    with pytest.raises(PlanError, match=r"items\[0\] \(a\): changing the email .* grant_type=password"):
        plan_users([{"username": "a", "email": "new@x.io"}], current=[user("a", 2)], actor_password=None)
    plan = plan_users([{"username": "a", "email": "new@x.io"}], current=[user("a", 2)])
    assert plan.actions[0].values == {"email": "new@x.io"}


def test_settings_are_only_updated():
    kind = KINDS["settings"]
    current = kind.current_items({"settings": [{"id": 6, "key": "session.lifetime", "config": "120", "format": "text"}]},
                                 kind.context({}))
    plan = make_plan(kind, validate_items(kind, [{"key": "session.lifetime", "config": 60}]), current)
    assert ops(plan) == [("session.lifetime", "update")] and plan.actions[0].id == 6
    with pytest.raises(PlanError, match=r"items\[0\] \(no.such\): no setting with key 'no.such' on the server"):
        make_plan(kind, validate_items(kind, [{"key": "no.such", "config": 1}]), current)


def test_memberships_of_missing_names_fail_unless_in_check_mode():
    kind = KINDS["group_members"]
    desired = validate_items(kind, [{"group": "New group", "user": "jdoe"}])
    context = kind.context({"users": [{"id": 5, "username": "jdoe"}], "groups": []})
    with pytest.raises(PlanError, match=r"items\[0\] \(New group/user:jdoe\): group 'New group' does not exist"):
        make_plan(kind, desired, [], context=context)
    plan = make_plan(kind, desired, [], options=PlanOptions(check_mode=True), context=context)
    assert ops(plan) == [("New group/user:jdoe", "create")]
    assert "does not exist yet" in plan.warnings[0]


def test_duplicates_and_bad_items_fail_before_anything():
    with pytest.raises(PlanError, match=r"items\[2\]: 'JDOE' is listed twice \(also items\[0\]\)"):
        validate_items(USERS, [{"username": "jdoe"}, {"username": "x"}, {"username": "JDOE"}])
    with pytest.raises(PlanError, match=r"items\[1\]: unknown field 'nmae' for kind groups"):
        validate_items(KINDS["groups"], [{"name": "a"}, {"nmae": "b"}])
    with pytest.raises(PlanError, match="items must be a list"):
        validate_items(USERS, {"username": "a"})
    assert validate_items(USERS, None) == []
    with pytest.raises(PlanError, match="update_secrets must be one of"):
        plan_users([], update_secrets="sometimes")


def test_identity_is_case_insensitive():
    plan = plan_users([{"username": "JDoe", "title": "t"}], current=[user("jdoe", 2, title="t")])
    assert ops(plan) == [("JDoe", "unchanged")]


def test_fields_not_given_are_left_alone_and_empty_clears():
    plan = plan_users([{"username": "a", "title": ""}], current=[user("a", 2, title="Old", city="Paris")])
    (action,) = plan.actions
    assert action.op == "update" and action.values == {"title": None}
    assert action.after["city"] == "Paris" and action.after["title"] is None


# --- property: the state a plan leaves behind plans to nothing -----------------------------------

NAMES = st.sampled_from(["ann", "bob", "Cy", "dee", "eve", "fay", "gus"])
TEXT = st.one_of(st.none(), st.sampled_from(["", "x", " y ", "Zed", "10"]))


@st.composite
def user_world(draw):
    server = {}
    for number, name in enumerate(draw(st.lists(NAMES, unique_by=str.casefold, max_size=6)), start=2):
        server[name] = user(name, number, title=draw(TEXT), city=draw(TEXT), status=draw(st.sampled_from(users_kind.USER_STATUSES)),
                            meta=draw(st.one_of(st.none(), st.just({"a": 1}), st.just({}))))
    deleted = [user(name + "_old", 50 + n, status="INACTIVE") for n, name in enumerate(draw(st.lists(NAMES, unique=True, max_size=3)))]
    items = []
    for name in draw(st.lists(st.one_of(NAMES, NAMES.map(lambda n: n + "_old")), unique_by=str.casefold, max_size=6)):
        item = {"username": name.upper() if draw(st.booleans()) else name}
        for field in ("title", "city"):
            if draw(st.booleans()):
                item[field] = draw(TEXT)
        if draw(st.booleans()):
            item["status"] = draw(st.sampled_from(users_kind.USER_STATUSES))
        if draw(st.booleans()):
            item["meta"] = draw(st.sampled_from([{}, {"a": 1}, {"b": [1, 2]}]))
        item.update(firstname="F", lastname="L", email=f"{name}@x.io", password=PASSWORD)
        items.append(item)
    return list(server.values()), deleted, items


@settings(max_examples=examples(150), suppress_health_check=[HealthCheck.too_slow])
@given(user_world(), st.booleans(), st.sampled_from(["present", "absent"]))
def test_replanning_the_result_of_a_plan_changes_nothing(world, purge, state):
    server, deleted, items = world
    options = PlanOptions(state=state, purge=purge and state == "present")
    desired = validate_items(USERS, items)
    current = current_users(*server, caller="2")
    gone = USERS.deleted_items({"deleted_users": deleted})
    try:
        plan = make_plan(USERS, desired, current, gone, options)
    except PlanError as error:
        assert "refusing to delete the user this task" in str(error)
        return
    after, after_gone = apply_plan(USERS, plan, current, gone)
    again = make_plan(USERS, desired, after, after_gone, options)
    assert not again.changed, [a.result() for a in again.writes]
    # purge never touched what it must not
    assert all(action.current is None or not action.current.locked for action in plan.writes if action.op == "delete")


SIMPLE_KINDS = ["groups", "environment_variables", "process_categories", "screen_categories", "script_categories"]


@st.composite
def named_world(draw, kind_name):
    kind = KINDS[kind_name]
    server = []
    for number, name in enumerate(draw(st.lists(NAMES, unique_by=str.casefold, max_size=5)), start=1):
        raw = {"id": number, "name": name}
        for field in kind.compared_fields:
            raw[field] = draw(st.sampled_from(kind.field(field).choices or ("a", "b", None)))
        server.append(raw)
    items = []
    for name in draw(st.lists(NAMES, unique_by=str.casefold, max_size=5)):
        item = {"name": name.lower()}
        for field in kind.fields:
            if field.name != "name" and draw(st.booleans()):
                item[field.name] = draw(st.sampled_from(field.choices or (("a", "b", "S3cr3t!") + (("",) if field.nullable else ()))))
        items.append(item)
    return server, items


@pytest.mark.parametrize("kind_name", SIMPLE_KINDS)
@settings(max_examples=examples(60), suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_replanning_is_unchanged_for_every_named_kind(kind_name, data):
    kind = KINDS[kind_name]
    server, items = data.draw(named_world(kind_name))
    purge = data.draw(st.booleans())
    current = kind.current_items({kind.path: server}, kind.context({}))
    desired = validate_items(kind, items)
    plan = make_plan(kind, desired, current, options=PlanOptions(purge=purge))
    after, _ = apply_plan(kind, plan, current)
    assert not make_plan(kind, desired, after, options=PlanOptions(purge=purge)).changed
    assert len(after) == (len(desired) if purge else len({item.key for item in [*current, *desired]}))


SETTING_FORMATS = {"boolean": [True, False, "yes", "no", 0], "text": ["8", 10, "", None, " x "],
                   "checkboxes": [[], ["By email"], ["a", "b"]], "object": [{"a": 1}, {}, None]}


@settings(max_examples=examples(100))
@given(st.lists(st.tuples(st.sampled_from(sorted(SETTING_FORMATS)), st.data()), min_size=1, max_size=4))
def test_replanning_settings_is_unchanged(entries):
    kind = KINDS["settings"]
    server, items = [], []
    for number, (fmt, data) in enumerate(entries):
        key = f"k{number}"
        server.append({"id": number, "key": key, "format": fmt,
                       "config": settings_kind.typed_config(fmt, data.draw(st.sampled_from(SETTING_FORMATS[fmt])))})
        items.append({"key": key, "config": data.draw(st.sampled_from(SETTING_FORMATS[fmt]))})
    current = kind.current_items({"settings": server}, kind.context({}))
    desired = validate_items(kind, items)
    plan = make_plan(kind, desired, current)
    after, _ = apply_plan(kind, plan, current)
    assert not make_plan(kind, desired, after).changed


@settings(max_examples=examples(100))
@given(st.lists(st.tuples(st.sampled_from(["Sales", "EMEA", "Ops"]), st.sampled_from(["user", "group"]),
                          st.sampled_from(["jdoe", "rroe", "Sales", "Ops", "admin"])), max_size=6),
       st.lists(st.tuples(st.sampled_from(["Sales", "EMEA", "Ops"]), st.sampled_from(["jdoe", "rroe", "admin"])),
                unique=True, max_size=5),
       st.booleans())
def test_replanning_memberships_is_unchanged(wanted, existing, purge):
    kind = KINDS["group_members"]
    lists = {"users": [{"id": 1, "username": "admin"}, {"id": 5, "username": "jdoe"}, {"id": 6, "username": "rroe"}],
             "groups": [{"id": 10, "name": "Sales"}, {"id": 11, "name": "EMEA"}, {"id": 12, "name": "Ops"}]}
    ids = {"admin": 1, "jdoe": 5, "rroe": 6}
    lists["group_members"] = [
        {"id": 100 + n, "group_id": {"Sales": 10, "EMEA": 11, "Ops": 12}[group], "member_id": ids[member],
         "member_type": members_kind.USER_CLASS}
        for n, (group, member) in enumerate(existing)
    ]
    items, seen = [], set()
    for group, member_type, member in wanted:
        if member_type == "group" and member not in ("Sales", "Ops") or member_type == "user" and member in ("Sales", "Ops"):
            continue
        if (group, member_type, member) in seen:
            continue
        seen.add((group, member_type, member))
        items.append({"group": group, "user" if member_type == "user" else "member_group": member})
    desired = validate_items(kind, items)
    options = PlanOptions(purge=purge)
    context = kind.context(lists, caller_id="1")
    current = kind.current_items(lists, context)
    plan = make_plan(kind, desired, current, options=options, context=context)
    after, _ = apply_plan(kind, plan, current)
    assert not make_plan(kind, desired, after, options=options, context=context).changed
    assert not any(action.op == "delete" and action.current.protected for action in plan.actions)


# --- the order of a whole configuration (pm_resource resources) ---------------------------------

def test_resources_are_applied_in_dependency_order_and_deletions_in_reverse():
    from ansible_collections.processmaker.core.plugins.module_utils.resource.converge import (
        entries_from,
    )

    def entry(kind, state="present"):
        return {"kind": kind, "items": [], "state": state, "purge": False, "update_secrets": None}

    params = {"resources": [entry("group_members"), entry("users"), entry("groups", "absent"), entry("settings"),
                            entry("groups"), entry("group_members", "absent")], "update_secrets": "on_create"}
    assert [(e.kind.name, e.options.state) for e in entries_from(params)] == [
        ("settings", "present"), ("groups", "present"), ("users", "present"), ("group_members", "present"),
        ("group_members", "absent"), ("groups", "absent")]
    params["resources"].append(entry("users"))
    with pytest.raises(PlanError, match=r"resources\[6\]: kind users with state=present is listed twice"):
        entries_from(params)


def test_a_config_mapping_is_applied_like_resources_with_the_task_defaults():
    """The configure role's shape: kind -> items, or kind -> {items, state, purge, update_secrets}."""
    from ansible_collections.processmaker.core.plugins.module_utils.resource.converge import (
        entries_from,
    )

    params = {"config": {"users": [], "settings": [], "groups": {"items": [], "state": "absent"},
                         "group_members": {"items": [], "purge": False}, "environment_variables": None},
              "state": "present", "purge": True, "update_secrets": "always"}
    entries = entries_from(params)
    assert [(e.kind.name, e.options.state, e.options.purge) for e in entries] == [
        ("settings", "present", False),  # the task's purge applies where purge can apply
        ("users", "present", True), ("group_members", "present", False), ("groups", "absent", False)]
    # a kind whose value is null is left alone (environment_variables above)
    assert all(e.options.update_secrets == "always" for e in entries)
    for config, message in (({"users": "jdoe"}, r"config.users: must be a list of items"),
                            ({"users": {"items": [], "stat": "absent"}}, r"config.users: unknown key 'stat'"),
                            ({"users": {"state": "gone"}}, r"config.users: state must be present or absent"),
                            ({"settings": {"items": [], "purge": True}}, r"config.settings: purge is not supported"),
                            ({"users": [{"username": "a", "emial": "x"}]}, r"config.users: items\[0\]: unknown field")):
        with pytest.raises(PlanError, match=message):
            entries_from(dict(params, config=config))


# --- packages: the import plan from the server's preview -----------------------------------------

def test_an_import_plan_from_the_preview():
    from ansible_collections.processmaker.core.plugins.module_utils.packages import (
        PackageError,
        import_options,
        plan_import,
    )

    manifest = {
        "u1": {"type": "Process", "name": "Loan", "mode": "update", "existing_id": 4,
               "attributes": {"id": 4, "name": "Loan", "description": "new"},
               "existing_attributes": {"id": 4, "name": "Loan", "description": "old", "extra": 1}},
        "u2": {"type": "Screen", "name": "Form", "mode": "update", "existing_id": 7,
               "attributes": {"id": 7, "title": "Form"}, "existing_attributes": {"id": 7, "title": "Form"}},
        "u3": {"type": "ScreenCategory", "name": "Forms", "mode": "new", "existing_id": None,
               "attributes": {"name": "Forms"}, "existing_attributes": None},
    }
    plans = {plan.uuid: plan for plan in plan_import(manifest)}
    assert (plans["u1"].action, plans["u1"].changes, plans["u1"].before, plans["u1"].after) == (
        "update", ["description"], {"description": "old"}, {"description": "new"})
    assert plans["u2"].action == "unchanged" and plans["u2"].existing_id == 7
    assert plans["u3"].action == "create" and plans["u3"].existing_id is None
    plans = {plan.uuid: plan for plan in plan_import(manifest, "discard", {"Screen:Form": "copy", "u3": "update"})}
    assert [plans[u].action for u in ("u1", "u2", "u3")] == ["discard", "copy", "create"]
    assert import_options(list(plans.values())) == {"u1": {"mode": "discard"}, "u2": {"mode": "copy"},
                                                    "u3": {"mode": "update"}}
    with pytest.raises(PackageError, match="asset_modes names 'Nope', which is not in the package"):
        plan_import(manifest, "update", {"Nope": "copy"})
    with pytest.raises(PackageError, match=r"asset_modes\['Loan'\] must be one of update, copy, discard"):
        plan_import(manifest, "update", {"Loan": "replace"})


def test_a_package_file_is_compared_after_decrypting_it():
    import base64
    import hashlib
    import json
    import os

    from ansible_collections.processmaker.core.plugins.module_utils.packages import (
        same_package,
    )
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    package = {"type": "process_package", "version": "2", "root": "u1", "name": "Loan",
               "export": {"u1": {"type": "Process", "name": "Loan", "attributes": {"id": 1}}}}

    def encrypted(password):
        padder = padding.PKCS7(128).padder()
        plain = padder.update(json.dumps(package["export"]).encode()) + padder.finalize()
        iv = os.urandom(16)
        key = hashlib.sha256(password.encode()).digest()
        cipher = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        body = base64.b64encode(iv + cipher.update(plain) + cipher.finalize()).decode()
        return json.dumps({**package, "export": body, "encrypted": True}).encode()

    plain = json.dumps(package, indent=2).encode()
    assert same_package(plain, package, None)
    assert not same_package(plain, package, "pw")  # protection asked for: rewrite
    assert same_package(encrypted("pw"), package, "pw")
    assert not same_package(encrypted("other"), package, "pw")
    assert not same_package(encrypted("pw"), package, None)
    assert not same_package(b"not json", package, None) and not same_package(None, package, None)
    changed = dict(package, export={"u1": {"type": "Process", "name": "Loan", "attributes": {"id": 2}}})
    assert not same_package(plain, changed, None)
