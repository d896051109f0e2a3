"""Port of ProcessMaker's ``tests/Feature/Api/ScriptCategoriesTest.php`` (bodies shared in ``category_cases.py``).
The stored version of the PHP file is the older ``factory(ScriptCategory::class)`` generation; its
``testFiltering`` is adapted (see that test).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import category_cases as cases
from php_port import assert_array_subset, unique

KIND = "script"
STRUCTURE = ["id", "name", "status", "created_at", "updated_at"]


def test_testCreateScriptCategory(pm) -> None:
    """ScriptCategoriesTest::testCreateScriptCategory"""
    cases.create_category(pm, KIND, STRUCTURE)


def test_testCreateNameRequired(pm) -> None:
    """ScriptCategoriesTest::testCreateNameRequired"""
    cases.create_name_required(pm, KIND)


def test_testCreateDuplicateName(pm) -> None:
    """ScriptCategoriesTest::testCreateDuplicateName"""
    cases.create_duplicate_name(pm, KIND)


def test_testScriptsListing(pm) -> None:
    """ScriptCategoriesTest::testScriptsListing"""
    cases.listing(pm, KIND, STRUCTURE)


def test_testFiltering(pm) -> None:
    """ScriptCategoriesTest::testFiltering (three system categories, written into the database, stay hidden)

    The stored PHP file expects ``filter=ACTIVE`` to count the ACTIVE categories only, which predates
    ``ScriptCategoryController::index`` matching ``%filter%`` on name or status (so INACTIVE matches
    too, as ProcessCategoriesTest::testFiltering pins); the port expects what that controller answers.
    """
    initial_active = cases.total(pm, KIND, "&status=ACTIVE")
    initial_inactive = cases.total(pm, KIND, "&status=INACTIVE")
    for _ in range(3):
        pm.factory.system_category(KIND, status="ACTIVE")
    cases.create_statuses(pm, KIND)
    meta = cases.listed_meta(pm, KIND, "?filter=ACTIVE&per_page=10", STRUCTURE)
    assert_array_subset({"total": initial_active + initial_inactive + 10 + 15, "count": 10, "per_page": 10}, meta)
    meta = cases.listed_meta(pm, KIND, "?filter=INACTIVE&per_page=10", STRUCTURE)
    assert_array_subset({"total": initial_inactive + 15, "count": 10, "per_page": 10}, meta)


def test_testFilteringStatus(pm) -> None:
    """ScriptCategoriesTest::testFilteringStatus (``status`` is an exact, case-insensitive LIKE)"""
    cases.filtering_status(pm, KIND, STRUCTURE)


def test_testSorting(pm) -> None:
    """ScriptCategoriesTest::testSorting"""
    cases.sorting(pm, KIND, STRUCTURE)


def test_testPagination(pm) -> None:
    """ScriptCategoriesTest::testPagination"""
    cases.pagination(pm, KIND)


def test_testShowScriptCategory(pm) -> None:
    """ScriptCategoriesTest::testShowScriptCategory"""
    cases.show(pm, KIND, STRUCTURE)


def test_testUpdateScript(pm) -> None:
    """ScriptCategoriesTest::testUpdateScript (a faker name)"""
    cases.update(pm, KIND, STRUCTURE, {"name": unique("Faker Name"), "status": "ACTIVE"})


def test_testChangeStatus(pm) -> None:
    """ScriptCategoriesTest::testChangeStatus"""
    cases.update(pm, KIND, STRUCTURE, {"name": "test", "status": "INACTIVE"})


def test_testValidateNameNotNull(pm) -> None:
    """ScriptCategoriesTest::testValidateNameNotNull"""
    cases.validate_name_not_null(pm, KIND)


def test_testValidateNameUnique(pm) -> None:
    """ScriptCategoriesTest::testValidateNameUnique"""
    cases.validate_name_unique(pm, KIND)


def test_testValidateStatus(pm) -> None:
    """ScriptCategoriesTest::testValidateStatus"""
    cases.validate_status(pm, KIND)


def test_testDeleteScriptCategory(pm) -> None:
    """ScriptCategoriesTest::testDeleteScriptCategory"""
    cases.delete(pm, KIND)


def test_testDeleteFailScriptCategory(pm) -> None:
    """ScriptCategoriesTest::testDeleteFailScriptCategory"""
    cases.delete_fails(pm, KIND)
