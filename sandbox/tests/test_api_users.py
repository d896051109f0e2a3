"""/users, /deleted_users, /users/restore, /users/{user}/groups."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import (
    NOT_FOUND,
    PASSWORD,
    UNAUTHENTICATED,
    USER_CLASS,
    add_member,
    create_group,
    create_user,
    token_for,
    user_body,
    user_with_token,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
USER_KEYS = [
    "id", "uuid", "email", "firstname", "lastname", "username", "status", "address", "city", "state", "postal",
    "country", "phone", "fax", "cell", "title", "birthdate", "timezone", "datetime_format", "language", "meta",
    "connected_accounts", "is_administrator", "is_system", "expires_at", "loggedin_at", "active_at",
    "remember_token", "delegation_user_id", "manager_id", "schedule", "force_change_password", "avatar",
    "password_changed_at", "preferences_2fa", "email_task_notification", "created_at", "updated_at", "deleted_at",
    "fullname",
]
USERNAME_PASSWORD = {"message": "Not authorized to update the username and password."}


def test_create_returns_201_with_the_re_read_user(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/users", json=user_body("jdoe", firstname="Jane", lastname="Doe",
                                                                  phone="+1 (555) 010-0000", birthdate="1990-05-17"))
    assert response.status_code == 201
    user = response.json()
    assert list(user) == USER_KEYS
    assert {k: user[k] for k in ("username", "email", "firstname", "lastname", "fullname", "status", "phone")} == {
        "username": "jdoe", "email": "jdoe@example.com", "firstname": "Jane", "lastname": "Doe",
        "fullname": "Jane Doe", "status": "ACTIVE", "phone": "+1 (555) 010-0000",
    }
    assert user["birthdate"] == "1990-05-17"
    assert user["is_administrator"] is False
    assert user["is_system"] == 0
    assert user["email_task_notification"] == 1
    assert user["timezone"] == "America/Los_Angeles"
    assert user["datetime_format"] == "m/d/Y H:i"
    assert user["language"] == "en"
    assert user["meta"] is None
    assert user["deleted_at"] is None
    assert ISO.match(user["created_at"]) and ISO.match(user["updated_at"])
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", user["password_changed_at"])
    assert "password" not in user
    assert clean_sandbox.api("GET", f"/users/{user['id']}").json() == user
    # The password works for the password grant.
    assert token_for(clean_sandbox, "jdoe")


def test_create_ignores_is_administrator(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "notadmin", is_administrator=True)
    assert user["is_administrator"] is False


def test_create_with_an_empty_body_lists_every_required_field(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/users", json={})
    assert response.status_code == 422
    assert response.json() == {
        "message": "The Username field is required. (and 5 more errors)",
        "errors": {
            "username": ["The Username field is required."],
            "firstname": ["The First Name field is required."],
            "lastname": ["The Last Name field is required."],
            "email": ["The Email field is required."],
            "status": ["The Status field is required."],
            "password": ["The Password field is required."],
        },
    }


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"username": "a"}, {"username": ["The Username field must be at least 2 characters."]}),
        ({"username": "bad/name"}, {"username": ["The Username field format is invalid."]}),
        ({"username": "x" * 256}, {"username": ["The Username field must not be greater than 255 characters."]}),
        ({"firstname": "f" * 51}, {"firstname": ["The First Name field must not be greater than 50 characters."]}),
        ({"email": "not-an-email"}, {"email": ["The Email field must be a valid email address."]}),
        ({"status": "ON_HOLD"}, {"status": ["The selected Status is invalid."]}),
        ({"phone": "call me"}, {"phone": ["The Phone field format is invalid."]}),
        ({"birthdate": "someday"}, {"birthdate": ["The Birthdate field must be a valid date."]}),
        ({"password": "Short1!"}, {"password": ["The Password field must be at least 8 characters."]}),
        ({"password": "NoSymbol123"}, {"password": ["The Password field must contain at least one symbol."]}),
        ({"password": "NoNumber-abc"}, {"password": ["The Password field must contain at least one number."]}),
        ({"password": "lower-case-123"}, {"password": ["The password must contain at least one uppercase character."]}),
        ({"password": "abc"}, {"password": [
            "The Password field must be at least 8 characters.",
            "The Password field must contain at least one symbol.",
            "The Password field must contain at least one number.",
            "The password must contain at least one uppercase character.",
        ]}),
    ],
)
def test_create_validation_messages(clean_sandbox: SandboxProcess, fields: dict, errors: dict) -> None:
    response = clean_sandbox.api("POST", "/users", json=user_body("valid") | fields)
    assert response.status_code == 422
    messages = [text for texts in errors.values() for text in texts]
    suffix = f" (and {len(messages) - 1} more errors)" if len(messages) > 2 else (
        " (and 1 more error)" if len(messages) == 2 else "")
    assert response.json() == {"message": messages[0] + suffix, "errors": errors}


def test_the_password_policy_follows_the_settings(clean_sandbox: SandboxProcess) -> None:
    settings = {row["key"]: row["id"] for row in clean_sandbox.api("GET", "/settings?per_page=100").json()["data"]}
    response = clean_sandbox.api(
        "PUT", f"/settings/{settings['password-policies.minimum_length']}",
        json={"key": "password-policies.minimum_length", "config": "12"},
    )
    assert response.status_code == 204
    response = clean_sandbox.api("POST", "/users", json=user_body("policy", password="Sh0rt-but-9"))
    assert response.json()["errors"] == {"password": ["The Password field must be at least 12 characters."]}


def test_usernames_are_unique_case_insensitively(clean_sandbox: SandboxProcess) -> None:
    create_user(clean_sandbox, "taken")
    for name in ("taken", "TAKEN", "admin"):
        response = clean_sandbox.api("POST", "/users", json=user_body(name))
        assert (response.status_code, response.json()) == (422, {
            "message": "The Username has already been taken.",
            "errors": {"username": ["The Username has already been taken."]},
        })


def test_list_excludes_system_users_and_sorts_by_username(clean_sandbox: SandboxProcess) -> None:
    for name in ("charlie", "Bravo", "alpha"):
        create_user(clean_sandbox, name)
    body = clean_sandbox.api("GET", "/users").json()
    assert [user["username"] for user in body["data"]] == ["admin", "alpha", "Bravo", "charlie"]
    assert body["meta"]["total"] == 4
    assert body["meta"]["sort_by"] == ""
    assert body["meta"]["sort_order"] == ""
    desc = clean_sandbox.api("GET", "/users?order_by=username&order_direction=desc").json()
    assert [user["username"] for user in desc["data"]] == ["charlie", "Bravo", "alpha", "admin"]
    assert (desc["meta"]["sort_by"], desc["meta"]["sort_order"]) == ("username", "desc")
    by_id = clean_sandbox.api("GET", "/users?order_by=id&order_direction=DESC").json()
    assert [user["username"] for user in by_id["data"]] == ["alpha", "Bravo", "charlie", "admin"]


def test_list_filters(clean_sandbox: SandboxProcess) -> None:
    amy = create_user(clean_sandbox, "amy", lastname="Zephyr")
    bob = create_user(clean_sandbox, "bob", status="INACTIVE")
    create_user(clean_sandbox, "carl", email="carl@other.org")

    def usernames(query: str) -> list[str]:
        response = clean_sandbox.api("GET", "/users?" + query)
        assert response.status_code == 200
        return [user["username"] for user in response.json()["data"]]

    assert usernames("filter=zeph") == ["amy"]
    assert usernames("filter=other.org") == ["carl"]
    assert usernames("filter=AMY") == ["amy"]
    assert usernames("status=INACTIVE") == ["bob"]
    assert usernames(f"exclude_ids={amy['id']},{bob['id']}") == ["admin", "carl"]
    assert usernames("mention_username=ca") == ["carl"]
    assert clean_sandbox.api("GET", "/users?filter=%3Cb%3E").json()["meta"]["filter"] == "&lt;b&gt;"


def test_list_rejects_an_unknown_order_column_like_the_query_builder(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("GET", "/users?order_by=nope")
    assert (response.status_code, response.json()) == (500, {"message": "Server Error"})
    response = clean_sandbox.api("GET", "/users?order_direction=sideways")
    assert (response.status_code, response.json()) == (500, {"message": "Server Error"})


def test_permission_through_a_nested_group_lets_a_user_list_users(clean_sandbox: SandboxProcess) -> None:
    viewer, token = user_with_token(clean_sandbox, "viewer")
    assert clean_sandbox.api("GET", "/users", token=token).status_code == 403
    outer = create_group(clean_sandbox, "Outer")
    inner = create_group(clean_sandbox, "Inner")
    assert add_member(clean_sandbox, outer["id"], inner["id"], "ProcessMaker\\Models\\Group").status_code == 201
    assert add_member(clean_sandbox, inner["id"], viewer["id"]).status_code == 201
    response = clean_sandbox.api("PUT", "/permissions", json={"group_id": outer["id"], "permission_names": ["view-users"]})
    assert response.status_code == 204
    assert clean_sandbox.api("GET", "/users", token=token).status_code == 200


def test_a_user_may_always_read_itself(clean_sandbox: SandboxProcess) -> None:
    me, token = user_with_token(clean_sandbox, "selfie")
    response = clean_sandbox.api("GET", f"/users/{me['id']}", token=token)
    assert (response.status_code, response.json()["username"]) == (200, "selfie")
    response = clean_sandbox.api("GET", f"/users/{clean_sandbox.credentials['admin']['id']}", token=token)
    assert (response.status_code, response.json()) == (403, {"message": "Not authorized to update this user."})


def test_update_is_204_and_needs_the_full_rule_set(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "editme")
    body = user_body("editme", firstname="Edited", city="Lima", meta={"theme": "dark"})
    del body["password"]
    response = clean_sandbox.api("PUT", f"/users/{user['id']}", json=body)
    assert (response.status_code, response.content) == (204, b"")
    after = clean_sandbox.api("GET", f"/users/{user['id']}").json()
    assert (after["firstname"], after["city"], after["meta"]) == ("Edited", "Lima", {"theme": "dark"})
    # meta is cleared when absent; required fields are required again.
    assert clean_sandbox.api("PUT", f"/users/{user['id']}", json=body | {"meta": None}).status_code == 204
    assert clean_sandbox.api("GET", f"/users/{user['id']}").json()["meta"] is None
    response = clean_sandbox.api("PUT", f"/users/{user['id']}", json={"username": "editme"})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "firstname": ["The First Name field is required."],
        "lastname": ["The Last Name field is required."],
        "email": ["The Email field is required."],
        "status": ["The Status field is required."],
    }


def test_update_to_a_taken_username_fails(clean_sandbox: SandboxProcess) -> None:
    create_user(clean_sandbox, "first")
    second = create_user(clean_sandbox, "second")
    body = user_body("FIRST")
    del body["password"]
    body["email"] = second["email"]
    response = clean_sandbox.api("PUT", f"/users/{second['id']}", json=body)
    assert response.json()["errors"] == {"username": ["The Username has already been taken."]}
    # Keeping its own username is fine.
    assert clean_sandbox.api("PUT", f"/users/{second['id']}", json=body | {"username": "second"}).status_code == 204


def test_renaming_needs_edit_user_and_password(clean_sandbox: SandboxProcess) -> None:
    me, token = user_with_token(clean_sandbox, "renamer")
    body = user_body("renamed", email=me["email"])
    del body["password"]
    response = clean_sandbox.api("PUT", f"/users/{me['id']}", token=token, json=body)
    assert (response.status_code, response.json()) == (403, USERNAME_PASSWORD)
    # PHP's loose in_array('password', $fields) also matches a `true` anywhere in the body.
    same = user_body("renamer", email_task_notification=True)
    del same["password"]
    response = clean_sandbox.api("PUT", f"/users/{me['id']}", token=token, json=same)
    assert (response.status_code, response.json()) == (403, USERNAME_PASSWORD)
    clean_sandbox.api("PUT", "/permissions", json={"user_id": me["id"], "permission_names": ["edit-user-and-password"]})
    assert clean_sandbox.api("PUT", f"/users/{me['id']}", token=token, json=body).status_code == 204
    assert clean_sandbox.api("GET", f"/users/{me['id']}").json()["username"] == "renamed"


def test_a_user_changes_its_own_password(clean_sandbox: SandboxProcess) -> None:
    me, token = user_with_token(clean_sandbox, "changer")
    body = user_body("changer", password="Another-Pass2?")
    response = clean_sandbox.api("PUT", f"/users/{me['id']}", token=token, json=body)
    assert response.status_code == 204
    assert token_for(clean_sandbox, "changer", "Another-Pass2?")
    weak = clean_sandbox.api("PUT", f"/users/{me['id']}", token=token, json=user_body("changer", password="weakweak"))
    assert weak.json()["errors"]["password"] == [
        "The Password field must contain at least one symbol.",
        "The Password field must contain at least one number.",
        "The password must contain at least one uppercase character.",
    ]


def test_another_users_record_needs_edit_users(clean_sandbox: SandboxProcess) -> None:
    target = create_user(clean_sandbox, "target")
    editor, token = user_with_token(clean_sandbox, "editor")
    body = user_body("target", city="Quito")
    del body["password"]
    response = clean_sandbox.api("PUT", f"/users/{target['id']}", token=token, json=body)
    assert (response.status_code, response.json()) == (403, {"message": "Not authorized to update this user."})
    clean_sandbox.api("PUT", "/permissions", json={"user_id": editor["id"], "permission_names": ["edit-users"]})
    assert clean_sandbox.api("PUT", f"/users/{target['id']}", token=token, json=body).status_code == 204


def test_changing_the_email_needs_the_acting_users_password(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "mailer")
    body = user_body("mailer", email="new@example.com")
    del body["password"]
    message = "A valid authentication is required for for update the email."
    response = clean_sandbox.api("PUT", f"/users/{user['id']}", json=body)
    assert (response.status_code, response.json()) == (
        422, {"message": message, "errors": {"email": ["The password is required."]}})
    response = clean_sandbox.api("PUT", f"/users/{user['id']}", json=body | {"valpassword": "wrong"})
    assert (response.status_code, response.json()) == (
        422, {"message": message, "errors": {"email": ["The authentication is incorrect."]}})
    admin_password = clean_sandbox.credentials["admin"]["password"]
    response = clean_sandbox.api("PUT", f"/users/{user['id']}", json=body | {"valpassword": admin_password})
    assert response.status_code == 204
    assert clean_sandbox.api("GET", f"/users/{user['id']}").json()["email"] == "new@example.com"


def test_only_an_administrator_sets_is_administrator(clean_sandbox: SandboxProcess) -> None:
    me, token = user_with_token(clean_sandbox, "climber")
    body = user_body("climber", is_administrator=False)
    del body["password"]
    assert clean_sandbox.api("PUT", f"/users/{me['id']}", token=token, json=body).status_code == 204
    assert clean_sandbox.api("GET", f"/users/{me['id']}").json()["is_administrator"] is False
    assert clean_sandbox.api("PUT", f"/users/{me['id']}", json=body | {"is_administrator": True}).status_code == 204
    assert clean_sandbox.api("GET", f"/users/{me['id']}").json()["is_administrator"] is True


def test_delete_is_a_soft_delete(clean_sandbox: SandboxProcess) -> None:
    user, token = user_with_token(clean_sandbox, "leaver")
    group = create_group(clean_sandbox, "Team")
    assert add_member(clean_sandbox, group["id"], user["id"]).status_code == 201
    response = clean_sandbox.api("DELETE", f"/users/{user['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert clean_sandbox.api("GET", f"/users/{user['id']}").json() == NOT_FOUND
    assert clean_sandbox.api("DELETE", f"/users/{user['id']}").status_code == 404
    assert [u["username"] for u in clean_sandbox.api("GET", "/users").json()["data"]] == ["admin"]
    assert clean_sandbox.api("GET", f"/groups/{group['id']}/users").json()["meta"]["total"] == 0
    deleted = clean_sandbox.api("GET", "/deleted_users").json()
    assert [(u["username"], u["status"]) for u in deleted["data"]] == [("leaver", "INACTIVE")]
    assert ISO.match(deleted["data"][0]["deleted_at"])
    # Its token no longer authenticates; its username stays taken.
    response = clean_sandbox.api("GET", f"/users/{user['id']}", token=token)
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    assert clean_sandbox.api("POST", "/users", json=user_body("leaver")).status_code == 422


def test_restore_always_answers_200_empty_list(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "comeback")
    clean_sandbox.api("DELETE", f"/users/{user['id']}")
    response = clean_sandbox.api("PUT", "/users/restore", json={"username": "nobody-like-that"})
    assert (response.status_code, response.json()) == (200, [])
    assert clean_sandbox.api("GET", "/deleted_users").json()["meta"]["total"] == 1
    response = clean_sandbox.api("PUT", "/users/restore", json={"username": "comeback"})
    assert (response.status_code, response.json()) == (200, [])
    restored = clean_sandbox.api("GET", f"/users/{user['id']}").json()
    assert (restored["status"], restored["deleted_at"]) == ("ACTIVE", None)
    assert clean_sandbox.api("GET", "/deleted_users").json()["meta"]["total"] == 0
    assert token_for(clean_sandbox, "comeback")


def test_restore_by_id_and_email(clean_sandbox: SandboxProcess) -> None:
    first = create_user(clean_sandbox, "byid")
    second = create_user(clean_sandbox, "bymail")
    clean_sandbox.api("DELETE", f"/users/{first['id']}")
    clean_sandbox.api("DELETE", f"/users/{second['id']}")
    assert clean_sandbox.api("PUT", "/users/restore", json={"id": first["id"]}).status_code == 200
    assert clean_sandbox.api("PUT", "/users/restore", json={"email": "bymail@example.com"}).status_code == 200
    assert clean_sandbox.api("GET", "/deleted_users").json()["meta"]["total"] == 0


def test_sync_a_users_groups(clean_sandbox: SandboxProcess) -> None:
    user = create_user(clean_sandbox, "member")
    a, b, c = (create_group(clean_sandbox, name)["id"] for name in ("A", "B", "C"))

    def groups() -> list[int]:
        rows = clean_sandbox.api("GET", f"/group_members?member_id={user['id']}&per_page=50").json()["data"]
        return sorted(row["group_id"] for row in rows if row["member_type"] == USER_CLASS)

    assert clean_sandbox.api("PUT", f"/users/{user['id']}/groups", json={"groups": [a, b]}).status_code == 204
    assert groups() == [a, b]
    assert clean_sandbox.api("PUT", f"/users/{user['id']}/groups", json={"groups": f"{b},{c}"}).status_code == 204
    assert groups() == [b, c]
    assert clean_sandbox.api("PUT", f"/users/{user['id']}/groups", json={"groups": []}).status_code == 204
    assert groups() == []
    response = clean_sandbox.api("PUT", f"/users/{user['id']}/groups", json={})
    assert (response.status_code, response.json()) == (400, [])


def test_passwords_are_never_returned(clean_sandbox: SandboxProcess) -> None:
    create_user(clean_sandbox, "secretive")
    for path in ("/users", "/users?per_page=100", "/deleted_users"):
        assert PASSWORD not in clean_sandbox.api("GET", path).text
        assert '"password"' not in clean_sandbox.api("GET", path).text
