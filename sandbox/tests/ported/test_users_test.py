"""Port of ProcessMaker's ``tests/Feature/Api/UsersTest.php`` (the ``User::factory()`` generation of the file).

``$this->user`` is an administrator; where a test changes ``$this->user`` itself, a factory administrator
stands in for it so the sandbox's seeded administrator keeps its login. Not ported (see README.md):
``testDisableRecommendations`` (recommendations), ``testGetUsersTaskCount`` (tasks and requests),
``testGetDefaultUserConfiguration`` (``/users/store_filter_configuration`` is not served).
"""

from __future__ import annotations

import base64
import sys
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from php_port import assert_json_structure, ok, unique

URL = "/users"
STRUCTURE = [
    "id", "username", "email", "firstname", "lastname", "status", "address", "city", "state", "postal",
    "country", "phone", "fax", "cell", "title", "birthdate", "timezone", "language", "expires_at",
    "updated_at", "created_at",
]


def make_password() -> str:
    """UsersTest::makePassword: faker's password, then ``A_1``."""
    return "kq8Zr2mWx" + "A_1"


def updated_data() -> dict[str, Any]:
    """UsersTest::getUpdatedData (faker values written out; ``status`` is one of its random choices)."""
    return {
        "username": "newusername", "email": "new.address@example.org", "firstname": "Rosalind",
        "lastname": "Okafor", "phone": "(555) 201-7788", "cell": "+1 555 201 7789", "fax": "555.201.7790",
        "address": "12 Harbour Road", "city": "Port Ellen", "state": "NY", "postal": "10025",
        "country": "Ireland", "timezone": "Europe/Dublin", "status": "ACTIVE", "birthdate": "1984-06-02",
        "password": make_password(),
    }


def test_testNotCreatedForParameterRequired(pm) -> None:
    """UsersTest::testNotCreatedForParameterRequired"""
    response = pm.api.call("POST", URL, {})
    assert response.status_code == 422
    assert "message" in response.json()


def test_testCreateUser(pm) -> None:
    """UsersTest::testCreateUser"""
    response = pm.api.call("POST", URL, {
        "username": "newuser", "firstname": "name", "lastname": "name", "email": "newuser@example.net",
        "status": "INACTIVE", "password": make_password(),
    })
    assert response.status_code == 201


def test_testFlagEmailTaskNotification(pm) -> None:
    """UsersTest::testFlagEmailTaskNotification

    The last PHP ``assertDatabaseHas(['email_task_notification' => 0])`` matches any row (its factory
    ``$this->user`` keeps 0); here the updated user itself is read back after each update.
    """
    response = pm.api.call("POST", URL, {
        "username": "user_test_7", "firstname": "name", "lastname": "name", "email": "ut7@example.com",
        "status": "ACTIVE", "password": make_password(),
    })
    assert response.status_code == 201
    new_user = response.json()
    assert new_user["email_task_notification"] == 1
    payload = {key: new_user[key] for key in ("username", "firstname", "lastname", "email", "status")}
    payload["email_task_notification"] = 0
    assert pm.api.call("PUT", f"{URL}/{new_user['id']}", payload).status_code == 204
    assert pm.api.call("GET", f"{URL}/{new_user['id']}").json()["email_task_notification"] == 0
    payload["email_task_notification"] = 1
    assert pm.api.call("PUT", f"{URL}/{new_user['id']}", payload).status_code == 204
    assert pm.api.call("GET", f"{URL}/{new_user['id']}").json()["email_task_notification"] == 1


def test_testCreatePreviouslyDeletedUser(pm) -> None:
    """UsersTest::testCreatePreviouslyDeletedUser"""
    deleted = pm.factory.user(status="ACTIVE")
    ok(pm.api.call("DELETE", f"{URL}/{deleted['id']}"), 204)
    response = pm.api.call("POST", URL, {
        "username": deleted["username"], "firstname": "foo", "lastname": "bar", "email": deleted["email"],
        "status": "ACTIVE", "password": make_password(),
    })
    json = response.json()
    assert "errors" in json
    assert "username" in json["errors"]
    assert json["errors"]["username"][0] == "The Username has already been taken."


def test_testDefaultValuesOfUser(pm) -> None:
    """UsersTest::testDefaultValuesOfUser (app.timezone America/Los_Angeles, DATE_FORMAT m/d/Y H:i, APP_LANG en)"""
    response = pm.api.call("POST", URL, {
        "username": "username1", "firstname": "Ada", "lastname": "Byron", "email": "u1@example.com",
        "status": "ACTIVE", "password": "pw8Secret" + "A" + "1.",
    })
    assert response.status_code == 201
    created = response.json()
    assert created["timezone"] == "America/Los_Angeles"
    assert created["datetime_format"] == "m/d/Y H:i"
    assert created["language"] == "en"

    # Setting::factory()->create(['key' => 'users.timezone', 'format' => 'object', 'config' => [...]])
    ok(pm.api.call("POST", "/settings", {
        "key": "users.timezone", "format": "object", "config": {"timezone": "America/New_York"},
        "name": "Timezone", "group": "Users",
    }), 201)
    response = pm.api.call("POST", URL, {
        "username": "username2", "firstname": "Ada", "lastname": "Byron", "email": "u2@example.com",
        "status": "ACTIVE", "password": make_password(), "datetime_format": "testFormat",
    })
    assert response.status_code == 201
    created = response.json()
    assert created["timezone"] == "America/New_York"
    assert created["datetime_format"] == "testFormat"

    response = pm.api.call("POST", URL, {
        "username": "username3", "firstname": "Ada", "lastname": "Byron", "email": "u3@example.com",
        "status": "INACTIVE", "password": make_password(), "timezone": "America/Monterrey",
    })
    assert response.status_code == 201
    assert response.json()["timezone"] == "America/Monterrey"


def test_testNotCreateUserWithUsernameExists(pm) -> None:
    """UsersTest::testNotCreateUserWithUsernameExists"""
    pm.factory.user(username="mytestusername")
    response = pm.api.call("POST", URL, {
        "username": "mytestusername", "email": "dup@example.com", "deuserion": "Lorem ipsum dolor sit amet.",
    })
    assert response.status_code == 422
    assert "message" in response.json()


def test_testListUser(pm) -> None:
    """UsersTest::testListUser

    ``User::query()->delete()`` soft-deletes every user, the acting administrator included, before the
    ten are made; over HTTP a deleted user cannot authenticate, so every user but the acting one is
    deleted and the list holds the ten plus the acting administrator.
    """
    for user in pm.api.call("GET", URL + "?per_page=100").json()["data"]:
        if user["id"] != pm.admin_id:
            ok(pm.api.call("DELETE", f"{URL}/{user['id']}"), 204)
    for _ in range(10):
        pm.factory.user()
    response = pm.api.call("GET", URL)
    assert response.status_code == 200
    assert_json_structure([{"data": {"*": STRUCTURE}}, "meta"], response.json())
    assert response.json()["meta"]["total"] == 10 + 1


def test_testUserListDates(pm) -> None:
    """UsersTest::testUserListDates"""
    new_entity = pm.factory.user(username="userTestTimezone")
    response = pm.api.call("GET", f"{URL}?filter=userTestTimezone")
    row = response.json()["data"][0]
    assert row["updated_at"] == new_entity["updated_at"]
    assert row["created_at"] == new_entity["created_at"]


def test_testListUserWithQueryParameter(pm) -> None:
    """UsersTest::testListUserWithQueryParameter"""
    pm.factory.user(username="mytestusername")
    per_page = 7
    query = f"?page=1&per_page={per_page}&order_by=firstname&order_direction=DESC&filter=mytestusername"
    response = pm.api.call("GET", URL + query)
    assert response.status_code == 200
    assert_json_structure(["data", "meta"], response.json())
    meta = response.json()["meta"]
    assert meta["total"] == 1
    assert meta["sort_by"] == "firstname"
    assert meta["sort_order"] == "DESC"


def test_testFetchUserByEmailAddressFilter(pm) -> None:
    """UsersTest::testFetchUserByEmailAddressFilter"""
    pm.factory.user(email="test@example.com")
    response = pm.api.call("GET", URL + "?filter=test%40example.com")
    assert response.status_code == 200
    assert_json_structure(["data", "meta"], response.json())
    assert response.json()["meta"]["total"] == 1
    assert response.json()["data"][0]["email"] == "test@example.com"


def test_testGetUser(pm) -> None:
    """UsersTest::testGetUser"""
    user = pm.factory.user()
    response = pm.api.call("GET", f"{URL}/{user['id']}")
    assert response.status_code == 200
    assert_json_structure(STRUCTURE, response.json())


def test_testUpdateUserParametersRequired(pm) -> None:
    """UsersTest::testUpdateUserParametersRequired"""
    user = pm.factory.user()
    response = pm.api.call("PUT", f"{URL}/{user['id']}", {"username": ""})
    assert response.status_code == 422


def test_testUpdateUser(pm) -> None:
    """UsersTest::testUpdateUser"""
    url = f"{URL}/{pm.factory.user()['id']}"
    verify = pm.api.call("GET", url).json()
    update = updated_data()
    update["email"] = verify["email"]  # the same email avoids the email validation
    assert pm.api.call("PUT", url, update).status_code == 204
    assert pm.api.call("GET", url).json() != verify


def test_testUpdateUserForceChangePasswordFlag(pm) -> None:
    """UsersTest::testUpdateUserForceChangePasswordFlag (assertDatabaseHas read back through the API)"""
    user = pm.factory.user(force_change_password=1)
    url = f"{URL}/{user['id']}"
    response = pm.api.call("PUT", url, {
        "username": "updatemytestusername", "email": user["email"], "firstname": "Mia", "lastname": "Lund",
        "status": "ACTIVE", "password": make_password(), "force_change_password": 0,
    })
    assert response.status_code == 204
    assert pm.api.call("GET", url).json()["force_change_password"] == 0


def test_testUpdateUserTitleExists(pm) -> None:
    """UsersTest::testUpdateUserTitleExists"""
    pm.factory.user(username="MyUserName")
    user2 = pm.factory.user()
    response = pm.api.call("PUT", f"{URL}/{user2['id']}", {"username": "MyUserName"})
    assert response.status_code == 422
    assert "The Username has already been taken" in response.text


def test_testDeleteUser(pm) -> None:
    """UsersTest::testDeleteUser"""
    response = pm.api.call("DELETE", f"{URL}/{pm.factory.user()['id']}")
    assert response.status_code == 204


def test_testDeleteUserNotExist(pm) -> None:
    """UsersTest::testDeleteUserNotExist (``User::factory()->make()->id`` is null: ``DELETE /users/``)"""
    response = pm.api.call("DELETE", URL + "/")
    assert response.status_code == 405


# A 2x2 PNG, as UploadedFile::fake()->image() makes (a smaller picture; its bytes are what matters).
def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (2).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_testUpdateUserAvatar(pm) -> None:
    """UsersTest::testUpdateUserAvatar (``assertFileExists`` becomes: the avatar URL serves the image)"""
    user = pm.factory.user(username="AvatarUser")
    url = f"{URL}/{user['id']}"
    image = _png()
    avatar = "data:image/png;base64," + base64.b64encode(image).decode()
    put = pm.api.call("PUT", url, {
        "username": user["username"], "firstname": "name", "lastname": "name", "email": user["email"],
        "status": "ACTIVE", "avatar": avatar,
    })
    assert put.status_code == 204
    got = pm.api.call("GET", url)
    assert_json_structure(["avatar"], got.json())
    avatar_url = got.json()["avatar"]
    path = avatar_url.split("://", 1)[1].split("/", 1)[1]
    parts = path.split("/")
    assert parts[:2] == ["storage", "profile"] and parts[2].isdigit() and parts[3:] == ["img.png"], path
    served = pm.sandbox.session().get(avatar_url, timeout=10)
    assert served.status_code == 200
    assert served.content == image


def test_testRestoreSoftDeletedUser(pm) -> None:
    """UsersTest::testRestoreSoftDeletedUser"""
    user = pm.factory.user(email="test@email.com", username="mytestusername")
    user_id = user["id"]

    def listed() -> bool:
        return any(row["id"] == user_id for row in pm.api.call("GET", URL + "?per_page=100").json()["data"])

    assert listed()
    for restore in ({"email": user["email"]}, {"username": user["username"]},
                    {"email": "changed" + user["email"], "username": user["username"]}):
        assert pm.api.call("DELETE", f"{URL}/{user_id}").status_code == 204
        assert not listed()
        assert pm.api.call("PUT", f"{URL}/restore", restore).status_code == 200
        assert listed()


def test_testCreateWithoutPassword(pm) -> None:
    """UsersTest::testCreateWithoutPassword"""
    payload: dict[str, Any] = {"firstname": "foo", "lastname": "bar", "email": "foobar@test.com",
                               "username": "foobar", "status": "ACTIVE"}
    response = pm.api.call("POST", URL, payload)
    assert response.status_code == 422
    assert response.json()["errors"]["password"][0] == "The Password field is required."

    payload["password"] = "abc"
    response = pm.api.call("POST", URL, payload)
    assert response.status_code == 422
    assert "The Password field must be at least 8 characters." in response.json()["errors"]["password"]

    payload["password"] = "Abc12345_"
    response = pm.api.call("POST", URL, payload)
    assert response.status_code == 201
    user_id = response.json()["id"]

    payload["password"] = "abc"
    response = pm.api.call("PUT", f"{URL}/{user_id}", payload)
    assert response.status_code == 422
    assert "The Password field must be at least 8 characters." in response.json()["errors"]["password"]

    payload["password"] = "Abc12345_"
    assert pm.api.call("PUT", f"{URL}/{user_id}", payload).status_code == 204

    del payload["password"]  # it is fine to update a user without the password
    assert pm.api.call("PUT", f"{URL}/{user_id}", payload).status_code == 204


VALID_USERNAMES = [
    "admin", "john.doe", "heaney-esperanza", "jackeline53@rowe.com", "antonette06@yahoo.com",
    "metz.tierra@quigley.com", "roberts-kaitlin@gmail.com", "elise~reichert+1@gmail.com",
    "oleta#runolfsdottir@mertz.net", "simple@example.com", "very.common@example.com",
    "disposable.style.email.with+symbol@example.com", "other.email-with-hyphen@example.com",
    "fully-qualified-domain@example.com", "user.name+tag+sorting@example.com", "x@example.com",
    "example-indeed@strange-example.com", "example@s.example", "mailhost!username@example.org",
    "user-@example.org", "123", "abc",
]
INVALID_USERNAMES = [
    "12", "ab", "test/test@test.com", '" "@example.org', '"john..doe"@example.org',
    "mailhost!username@example.org", "user%example.com@example.org",
]


def test_testCreateUserValidateUsername(pm) -> None:
    """UsersTest::testCreateUserValidateUsername (the invalid cases also send faker's sentence as password)

    The PHP database has no user called ``admin``; the sandbox's seeded administrator is renamed first
    (``/_sandbox/reset`` names it back).
    """
    pm.sandbox.admin_token()  # logged in before the rename
    pm.factory.set_columns("users", pm.admin_id, username="seeded-administrator")
    for username in VALID_USERNAMES:
        name = unique("valid").replace(" ", "")
        response = pm.api.call("POST", URL, {
            "username": username, "firstname": "First", "lastname": "Last", "email": f"{name}@example.com",
            "status": "ACTIVE", "password": make_password(),
        })
        assert response.status_code == 201, (username, response.text)
    for username in INVALID_USERNAMES:
        name = unique("invalid").replace(" ", "")
        response = pm.api.call("POST", URL, {
            "username": username, "firstname": "First", "lastname": "Last", "email": f"{name}@example.com",
            "status": "INACTIVE", "password": "Voluptatem quia et sit sint dolor eum aut.",
        })
        assert response.status_code == 422, (username, response.text)


def test_testUpdateUserAdmin(pm) -> None:
    """UsersTest::testUpdateUserAdmin (an administrator edits its own username and password)"""
    admin = pm.factory.user(is_administrator=True)
    acting = pm.factory.acting_as(admin)
    url = f"{URL}/{admin['id']}"
    verify = acting.call("GET", url).json()
    update = updated_data()
    update["email"] = verify["email"]
    assert acting.call("PUT", url, update).status_code == 204
    assert acting.call("GET", url).json() != verify


def test_testUpdateUserNotAdmin(pm) -> None:
    """UsersTest::testUpdateUserNotAdmin"""
    user = pm.factory.user(status="ACTIVE")
    acting = pm.factory.acting_as(user)
    url = f"{URL}/{user['id']}"
    verify = acting.call("GET", url).json()
    update = updated_data()
    update["email"] = verify["email"]
    assert acting.call("PUT", url, update).status_code == 403

    pm.factory.give_permissions(user, "edit-user-and-password")
    update = updated_data()
    update["email"] = verify["email"]
    assert acting.call("PUT", url, update).status_code == 204
    assert acting.call("GET", url).json() != verify
