"""Port of ProcessMaker's ``tests/Feature/Api/PermissionsTest.php``.

``withUserSetup`` makes ``$this->user`` a non-administrator for every test of the class: here a factory
user without permissions acts where the PHP test acts as ``$this->user``. ``$entity->permissions`` (the
rows of ``assignables``, which no route lists) is read from the sandbox's database.

Not ported (see README.md): ``testSetPermissionsForGroupWithInheritedEditGroupsPermission`` and
``testSetPermissionsRequiresExactlyOneTarget`` (they pin a PermissionController newer than the 4.15 the
sandbox follows, where ``PUT /permissions`` sits behind ``can:edit-users``), and
``testSetPermissionsViewProcessCatalogForUser`` (``User::hasPermission`` on a model made with
``updateOrCreate``; nothing served is gated by ``view-process-catalog``).
"""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import GROUP_CLASS, USER_CLASS, ok

URL = "/permissions"


def permissions_of(pm, holder_type: str, holder_id: int) -> list[str]:
    """``$entity->permissions->pluck('name')``."""
    with closing(pm.factory.db()) as connection:
        rows = connection.execute(
            "SELECT p.name FROM assignables a JOIN permissions p ON p.id = a.permission_id"
            " WHERE a.assignable_type = ? AND a.assignable_id = ? ORDER BY p.name",
            (holder_type, holder_id),
        ).fetchall()
    return [row[0] for row in rows]


def catalogue(pm) -> dict[str, list[dict]]:
    return pm.api.call("GET", URL).json()


def all_permission_names(pm) -> list[str]:
    return [permission["name"] for group in catalogue(pm).values() for permission in group]


def test_testApiPermissions(pm) -> None:
    """PermissionsTest::testApiPermissions"""
    user = pm.factory.user()
    acting = pm.factory.acting_as(user)
    group = pm.factory.group(name="All Permissions")
    everything = all_permission_names(pm)
    pm.factory.give_group_permissions(group, *everything)
    pm.factory.member(group, user)
    process = pm.factory.process(status="ACTIVE")

    assert acting.call("GET", "/processes").status_code == 200
    assert acting.call("GET", f"/processes/{process['id']}").status_code == 200

    pm.factory.give_group_permissions(group, *[name for name in everything if name != "archive-processes"])
    assert acting.call("DELETE", f"/processes/{process['id']}").status_code == 403

    pm.factory.give_permissions(user, "archive-processes")
    assert acting.call("DELETE", f"/processes/{process['id']}").status_code == 204


def test_testSetPermissionsForUser(pm) -> None:
    """PermissionsTest::testSetPermissionsForUser (``Permission::factory()`` cannot be made over HTTP: a
    permission of the catalogue stands in for it)"""
    admin = pm.factory.acting_as(pm.factory.user(is_administrator=True))
    test_user = pm.factory.user()
    before = set(permissions_of(pm, USER_CLASS, test_user["id"]))
    test_permission = next(name for name in all_permission_names(pm) if name not in before)
    response = admin.call("PUT", URL, {"user_id": test_user["id"], "permission_names": [test_permission]})
    assert response.status_code == 204
    assert permissions_of(pm, USER_CLASS, test_user["id"]) == [test_permission]


def test_testSetPermissionsForUserRequiresEditUsersPermission(pm) -> None:
    """PermissionsTest::testSetPermissionsForUserRequiresEditUsersPermission"""
    user = pm.factory.user()
    admin_group = pm.factory.group()
    pm.factory.give_group_permissions(admin_group, "edit-groups")
    pm.factory.member(admin_group, user)
    target_user = pm.factory.user()
    response = pm.factory.acting_as(user).call("PUT", URL, {"user_id": target_user["id"],
                                                            "permission_names": ["view-groups"]})
    assert response.status_code == 403
    assert "view-groups" not in permissions_of(pm, USER_CLASS, target_user["id"])


def test_testSetPermissionsForGroupRequiresEditGroupsPermission(pm) -> None:
    """PermissionsTest::testSetPermissionsForGroupRequiresEditGroupsPermission"""
    user = pm.factory.user()
    target_group = pm.factory.group()
    response = pm.factory.acting_as(user).call("PUT", URL, {"group_id": target_group["id"],
                                                            "permission_names": ["view-groups"]})
    assert response.status_code == 403
    assert permissions_of(pm, GROUP_CLASS, target_group["id"]) == []


def test_testUnauthorizedPermissionUpdatesDoNotExposeTargetExistence(pm) -> None:
    """PermissionsTest::testUnauthorizedPermissionUpdatesDoNotExposeTargetExistence"""
    acting = pm.factory.acting_as(pm.factory.user())
    target_user = pm.factory.user()
    target_group = pm.factory.group()
    missing_user_id = target_user["id"] + 1000
    missing_group_id = target_group["id"] + 1000
    for body in ({"user_id": target_user["id"]}, {"user_id": missing_user_id},
                 {"group_id": target_group["id"]}, {"group_id": missing_group_id}):
        response = acting.call("PUT", URL, {**body, "permission_names": ["view-groups"]})
        assert response.status_code == 403, body


def test_testCategoryPermission(pm) -> None:
    """PermissionsTest::testCategoryPermission

    The PHP factory makes three groups called "Test" (factories skip validation); the sandbox keeps
    group names unique like ``Group::rules()``, so each kind gets its own "Test <kind>" group.
    """
    user = pm.factory.user()
    acting = pm.factory.acting_as(user)
    for kind in ("process", "script", "screen"):
        base = f"/{kind}_categories"
        attrs = {"name": "Test Category", "status": "ACTIVE"}
        assert acting.call("POST", base, attrs).status_code == 403

        group = pm.factory.group(name=f"Test {kind}")
        pm.factory.member(group, user)
        granted = [f"create-{kind}-categories"]
        pm.factory.give_group_permissions(group, *granted)

        response = acting.call("POST", base, attrs)
        assert response.status_code == 201
        category_id = response.json()["id"]
        item = f"{base}/{category_id}"
        attrs = {"name": "Test Category Update", "status": "ACTIVE"}
        assert acting.call("PUT", item, attrs).status_code == 403

        granted.append(f"edit-{kind}-categories")
        pm.factory.give_group_permissions(group, *granted)
        acting.call("PUT", item, attrs)
        assert ok(pm.api.call("GET", item), 200)["name"] == "Test Category Update"

        assert acting.call("GET", base).status_code == 403
        assert acting.call("GET", item).status_code == 403

        granted.append(f"view-{kind}-categories")
        pm.factory.give_group_permissions(group, *granted)
        assert acting.call("GET", base).status_code == 200
        assert acting.call("GET", item).status_code == 200

        assert acting.call("DELETE", item).status_code == 403
        pm.factory.give_group_permissions(group, *granted)  # the PHP test attaches view-* once more
        assert acting.call("DELETE", item).status_code == 403


def test_testSetPermissionsViewMyRequestForUser(pm) -> None:
    """PermissionsTest::testSetPermissionsViewMyRequestForUser (UserObserver::created)"""
    user = pm.factory.user()
    assert "view-my_requests" in permissions_of(pm, USER_CLASS, user["id"])


def test_testSetPermissionsViewMyRequestForUsersAndGroupCreated(pm) -> None:
    """PermissionsTest::testSetPermissionsViewMyRequestForUsersAndGroupCreated (the seeded catalogue)"""
    for _ in range(5):
        pm.factory.user()
    for _ in range(3):
        pm.factory.group()
    cases = catalogue(pm)["Cases and Requests"]
    assert {"name": "view-my_requests", "title": "View My Requests"}.items() <= next(
        permission for permission in cases if permission["name"] == "view-my_requests").items()


def is_administrator(pm, user_id: int) -> bool:
    return ok(pm.api.call("GET", f"/users/{user_id}"), 200)["is_administrator"]


def test_testAdministratorRoleAssignment(pm) -> None:
    """PermissionsTest::testAdministratorRoleAssignment"""
    regular = pm.factory.acting_as(pm.factory.user())
    admin = pm.factory.acting_as(pm.factory.user(is_administrator=True))
    target = pm.factory.user()

    response = regular.call("PUT", URL, {"user_id": target["id"], "is_administrator": True, "permission_names": []})
    assert response.status_code == 403
    assert is_administrator(pm, target["id"]) is False

    ok(pm.api.call("PUT", URL, {"user_id": target["id"], "is_administrator": True}), 204)
    response = regular.call("PUT", URL, {"user_id": target["id"], "is_administrator": False, "permission_names": []})
    assert response.status_code == 403
    assert is_administrator(pm, target["id"]) is True

    response = admin.call("PUT", URL, {"user_id": target["id"], "is_administrator": False, "permission_names": []})
    assert response.status_code == 204
    assert is_administrator(pm, target["id"]) is False

    response = admin.call("PUT", URL, {"user_id": target["id"], "is_administrator": True, "permission_names": []})
    assert response.status_code == 204
    assert is_administrator(pm, target["id"]) is True
