"""Port of ProcessMaker's ``tests/Feature/Api/ProcessCategoriesTest.php`` (bodies shared in ``category_cases.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import category_cases as cases
from php_port import assert_array_subset, unique

KIND = "process"
STRUCTURE = ["id", "name", "status", "is_system", "created_at", "updated_at"]


def test_testCreateProcessCategory(pm) -> None:
    """ProcessCategoriesTest::testCreateProcessCategory"""
    cases.create_category(pm, KIND, STRUCTURE)


def test_testCreateNameRequired(pm) -> None:
    """ProcessCategoriesTest::testCreateNameRequired"""
    cases.create_name_required(pm, KIND)


def test_testCreateDuplicateName(pm) -> None:
    """ProcessCategoriesTest::testCreateDuplicateName"""
    cases.create_duplicate_name(pm, KIND)


def test_testProcessesListing(pm) -> None:
    """ProcessCategoriesTest::testProcessesListing"""
    cases.listing(pm, KIND, STRUCTURE)


def test_testFiltering(pm) -> None:
    """ProcessCategoriesTest::testFiltering (``filter`` is LIKE %...% on name and status: INACTIVE matches ACTIVE)"""
    initial_active = cases.total(pm, KIND, "&status=ACTIVE")
    initial_inactive = cases.total(pm, KIND, "&status=INACTIVE")
    cases.create_statuses(pm, KIND)
    meta = cases.listed_meta(pm, KIND, "?filter=ACTIVE&per_page=10", STRUCTURE)
    assert_array_subset({"total": initial_active + 10 + 15, "count": 10, "per_page": 10}, meta)
    meta = cases.listed_meta(pm, KIND, "?filter=INACTIVE&per_page=10", STRUCTURE)
    assert_array_subset({"total": initial_inactive + 15, "count": 10, "per_page": 10}, meta)


def test_testFilteringStatus(pm) -> None:
    """ProcessCategoriesTest::testFilteringStatus (``status`` is an exact, case-insensitive LIKE)"""
    cases.filtering_status(pm, KIND, STRUCTURE)


def test_testSorting(pm) -> None:
    """ProcessCategoriesTest::testSorting"""
    cases.sorting(pm, KIND, STRUCTURE)


def test_testPagination(pm) -> None:
    """ProcessCategoriesTest::testPagination"""
    cases.pagination(pm, KIND)


def test_testShowProcessCategory(pm) -> None:
    """ProcessCategoriesTest::testShowProcessCategory"""
    cases.show(pm, KIND, STRUCTURE)


def test_testUpdateProcess(pm) -> None:
    """ProcessCategoriesTest::testUpdateProcess (a faker name)"""
    cases.update(pm, KIND, STRUCTURE, {"name": unique("Faker Name"), "status": "ACTIVE"})


def test_testChangeStatus(pm) -> None:
    """ProcessCategoriesTest::testChangeStatus"""
    cases.update(pm, KIND, STRUCTURE, {"name": "test", "status": "INACTIVE"})


def test_testValidateNameNotNull(pm) -> None:
    """ProcessCategoriesTest::testValidateNameNotNull"""
    cases.validate_name_not_null(pm, KIND)


def test_testValidateNameUnique(pm) -> None:
    """ProcessCategoriesTest::testValidateNameUnique"""
    cases.validate_name_unique(pm, KIND)


def test_testValidateStatus(pm) -> None:
    """ProcessCategoriesTest::testValidateStatus"""
    cases.validate_status(pm, KIND)


def test_testDeleteProcessCategory(pm) -> None:
    """ProcessCategoriesTest::testDeleteProcessCategory"""
    cases.delete(pm, KIND)


def test_testDeleteFailProcessCategory(pm) -> None:
    """ProcessCategoriesTest::testDeleteFailProcessCategory"""
    cases.delete_fails(pm, KIND)
