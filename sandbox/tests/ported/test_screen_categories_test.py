"""Port of ProcessMaker's ``tests/Feature/Api/ScreenCategoriesTest.php`` (bodies shared in ``category_cases.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import category_cases as cases
from php_port import assert_array_subset, unique

KIND = "screen"
STRUCTURE = ["id", "name", "status", "created_at", "updated_at"]


def test_testCreateScreenCategory(pm) -> None:
    """ScreenCategoriesTest::testCreateScreenCategory"""
    cases.create_category(pm, KIND, STRUCTURE)


def test_testCreateNameRequired(pm) -> None:
    """ScreenCategoriesTest::testCreateNameRequired"""
    cases.create_name_required(pm, KIND)


def test_testCreateDuplicateName(pm) -> None:
    """ScreenCategoriesTest::testCreateDuplicateName"""
    cases.create_duplicate_name(pm, KIND)


def test_testScreensListing(pm) -> None:
    """ScreenCategoriesTest::testScreensListing"""
    cases.listing(pm, KIND, STRUCTURE)


def test_testFiltering(pm) -> None:
    """ScreenCategoriesTest::testFiltering (three system categories, written into the database, stay hidden)"""
    initial_inactive = cases.total(pm, KIND, "&status=INACTIVE")
    for _ in range(3):
        pm.factory.system_category(KIND, status="ACTIVE")
    cases.create_statuses(pm, KIND)
    pm.factory.category(KIND, status="ACTIVE", name="Script search")
    meta = cases.listed_meta(pm, KIND, "?filter=Script%20search&per_page=10", STRUCTURE)
    assert_array_subset({"total": 1, "count": 1, "per_page": 10}, meta)
    meta = cases.listed_meta(pm, KIND, "?filter=INACTIVE&per_page=10", STRUCTURE)
    assert_array_subset({"total": initial_inactive + 15, "count": 10, "per_page": 10}, meta)


def test_testFilteringStatus(pm) -> None:
    """ScreenCategoriesTest::testFilteringStatus (``status`` is an exact, case-insensitive LIKE)"""
    cases.filtering_status(pm, KIND, STRUCTURE)


def test_testSorting(pm) -> None:
    """ScreenCategoriesTest::testSorting"""
    cases.sorting(pm, KIND, STRUCTURE)


def test_testPagination(pm) -> None:
    """ScreenCategoriesTest::testPagination"""
    cases.pagination(pm, KIND)


def test_testShowScreenCategory(pm) -> None:
    """ScreenCategoriesTest::testShowScreenCategory"""
    cases.show(pm, KIND, STRUCTURE)


def test_testUpdateScreen(pm) -> None:
    """ScreenCategoriesTest::testUpdateScreen (a faker name)"""
    cases.update(pm, KIND, STRUCTURE, {"name": unique("Faker Name"), "status": "ACTIVE"})


def test_testChangeStatus(pm) -> None:
    """ScreenCategoriesTest::testChangeStatus"""
    cases.update(pm, KIND, STRUCTURE, {"name": "test", "status": "INACTIVE"})


def test_testValidateNameNotNull(pm) -> None:
    """ScreenCategoriesTest::testValidateNameNotNull"""
    cases.validate_name_not_null(pm, KIND)


def test_testValidateNameUnique(pm) -> None:
    """ScreenCategoriesTest::testValidateNameUnique"""
    cases.validate_name_unique(pm, KIND)


def test_testValidateStatus(pm) -> None:
    """ScreenCategoriesTest::testValidateStatus"""
    cases.validate_status(pm, KIND)


def test_testDeleteScreenCategory(pm) -> None:
    """ScreenCategoriesTest::testDeleteScreenCategory"""
    cases.delete(pm, KIND)


def test_testDeleteFailScreenCategory(pm) -> None:
    """ScreenCategoriesTest::testDeleteFailScreenCategory"""
    cases.delete_fails(pm, KIND)
