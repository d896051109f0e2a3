"""Port of ProcessMaker's ``tests/Feature/Api/ProcessControllerTest.php``.

Only ``testCanSaveProcessWithoutStages`` concerns what the sandbox serves. Not ported (see README.md):
the ``/start_processes`` tests, the stages, aggregation and metrics routes, and the tests that build
requests.
"""

from __future__ import annotations


def test_testCanSaveProcessWithoutStages(pm) -> None:
    """ProcessControllerTest::testCanSaveProcessWithoutStages"""
    process = pm.factory.process(description="Test Process Without Stages")
    stage = [{"id": 1, "order": 1, "name": "New Stage 1", "selected": True}]
    response = pm.api.call("PUT", f"/processes/{process['id']}",
                           {"description": "Test Process Without Stages", "stages": stage})
    assert response.status_code == 200
