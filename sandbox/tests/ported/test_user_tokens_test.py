"""Port of ProcessMaker's ``tests/Feature/Api/UserTokensTest.php``.

A factory user is a non-administrator without permissions; it acts with a password-grant token, which
is not a personal access token and so never shows in ``/users/{id}/tokens``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import ok


def tokens(user: dict) -> str:
    return f"/users/{user['id']}/tokens"


def me(pm) -> dict:
    return {"id": pm.admin_id}


def test_testListTokensWithEmptyTokens(pm) -> None:
    """UserTokensTest::testListTokensWithEmptyTokens"""
    response = pm.api.call("GET", tokens(me(pm)))
    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 0


def test_testListTokensWithEmptyTokensForOtherUser(pm) -> None:
    """UserTokensTest::testListTokensWithEmptyTokensForOtherUser"""
    response = pm.api.call("GET", tokens(pm.factory.user()))
    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 0


def test_testPermissionDeniedForUserWithoutViewPermissions(pm) -> None:
    """UserTokensTest::testPermissionDeniedForUserWithoutViewPermissions"""
    acting = pm.factory.acting_as(pm.factory.user())
    target_user = pm.factory.user()
    assert acting.call("GET", tokens(target_user)).status_code == 403


def test_testTokenCreateValidationError(pm) -> None:
    """UserTokensTest::testTokenCreateValidationError"""
    assert pm.api.call("POST", tokens(me(pm))).status_code == 422


def test_testPermissionDeniedForUserWithoutEditPermissionsForCreatingToken(pm) -> None:
    """UserTokensTest::testPermissionDeniedForUserWithoutEditPermissionsForCreatingToken"""
    acting = pm.factory.acting_as(pm.factory.user())
    target_user = pm.factory.user()
    assert acting.call("POST", tokens(target_user)).status_code == 403


def add_year(moment: dt.datetime) -> dt.datetime:
    """Carbon's ``addYear()``: the same day next year (29 February overflows to 1 March)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, month=3, day=1)


def test_testCreateTokenDefaultExpire(pm) -> None:
    """UserTokensTest::testCreateTokenDefaultExpire (a year from now, compared by day)

    The sandbox's year is 365 days (``config.ONE_YEAR``, documented there): when a 29 February falls
    within the coming year its date is one day short of ``addYear()``, so that date is accepted too.
    """
    now = dt.datetime.now(dt.timezone.utc)
    response = pm.api.call("POST", tokens(me(pm)), {"name": "Test Token"})
    assert response.status_code == 200
    check_dates = {add_year(now).date(), (now + dt.timedelta(days=365)).date()}
    expires = dt.datetime.fromisoformat(response.json()["token"]["expires_at"].replace("Z", "+00:00"))
    assert expires.astimezone(dt.timezone.utc).date() in check_dates


def test_testListingWithExistingToken(pm) -> None:
    """UserTokensTest::testListingWithExistingToken"""
    assert pm.api.call("POST", tokens(me(pm)), {"name": "Test Token"}).status_code == 200
    response = pm.api.call("GET", tokens(me(pm)))
    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 1


def test_testShowToken(pm) -> None:
    """UserTokensTest::testShowToken"""
    created = ok(pm.api.call("POST", tokens(me(pm)), {"name": "Test Token"}), 200)
    response = pm.api.call("GET", f"{tokens(me(pm))}/{created['token']['id']}")
    assert response.status_code == 200


def test_testPermissionDeniedForUserWithoutViewPermissionsForViewingToken(pm) -> None:
    """UserTokensTest::testPermissionDeniedForUserWithoutViewPermissionsForViewingToken"""
    created = ok(pm.api.call("POST", tokens(me(pm)), {"name": "Test Token"}), 200)
    acting = pm.factory.acting_as(pm.factory.user())
    response = acting.call("GET", f"{tokens(me(pm))}/{created['token']['id']}")
    assert response.status_code == 403


def test_testRevokeTokenForUser(pm) -> None:
    """UserTokensTest::testRevokeTokenForUser"""
    created = ok(pm.api.call("POST", tokens(me(pm)), {"name": "Test Token"}), 200)
    assert pm.api.call("DELETE", f"{tokens(me(pm))}/{created['token']['id']}").status_code == 204
    response = pm.api.call("GET", tokens(me(pm)))
    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 0


def test_testPermissionDeniedForUserWithoutEditPermissionsForDeletingToken(pm) -> None:
    """UserTokensTest::testPermissionDeniedForUserWithoutEditPermissionsForDeletingToken"""
    created = ok(pm.api.call("POST", tokens(me(pm)), {"name": "Test Token"}), 200)
    acting = pm.factory.acting_as(pm.factory.user())
    response = acting.call("DELETE", f"{tokens(me(pm))}/{created['token']['id']}")
    assert response.status_code == 403


def test_test404WithRevokeOfUnknownToken(pm) -> None:
    """UserTokensTest::test404WithRevokeOfUnknownToken"""
    assert pm.api.call("DELETE", f"{tokens(me(pm))}/12345").status_code == 404
