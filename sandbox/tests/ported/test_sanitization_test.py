"""Port of ProcessMaker's ``tests/Feature/Api/SanitizationTest.php`` (SanitizeInput, through a script)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from php_port import ok


def test_testSanitizationMiddleware(pm) -> None:
    """SanitizationTest::testSanitizationMiddleware"""
    title = "Best Script Ever"
    description = "This is the <b>best</b> script ever!"
    code = "<?php echo 'Hello world.';"
    # Script::factory()->make([...])->toArray()
    script = {"title": title, "description": description, "code": code, "language": "php",
              "run_as_user_id": pm.admin_id, "script_category_id": pm.factory.category("script")["id"],
              "timeout": 60, "status": "ACTIVE"}
    script_id = ok(pm.api.call("POST", "/scripts", script), 201)["id"]
    data = pm.api.call("GET", f"/scripts/{script_id}").json()
    assert data["title"] == title  # no restricted characters
    assert data["description"] != description  # tags stripped
    assert data["code"] == code  # ScriptController::$doNotSanitize
