"""/settings: the visible list, typed config, update, add (201 [] / 409) and delete."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pm_sandbox.testing import SandboxProcess

sys.path.insert(0, str(Path(__file__).parent))
from test_api_helpers import NOT_FOUND

SETTING_KEYS = ["id", "key", "config", "name", "helper", "group", "group_id", "format", "hidden", "readonly", "ui",
                "created_at", "updated_at"]


def settings_by_key(sandbox: SandboxProcess) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in sandbox.api("GET", "/settings?per_page=100").json()["data"]}


def test_list_shows_only_visible_settings_ordered_by_ui_order(clean_sandbox: SandboxProcess) -> None:
    body = clean_sandbox.api("GET", "/settings").json()
    assert body["meta"]["per_page"] == 25
    assert body["meta"]["total"] == 14
    keys = [row["key"] for row in body["data"]]
    assert "css-override" not in keys  # hidden
    # No ui.order sorts first (NULL), then by ui.order.
    assert keys[:3] == ["white_list_frame.default", "password-policies.users_can_change", "password-policies.numbers"]
    assert keys[-1] == "session.lifetime"
    row = body["data"][1]
    assert list(row) == SETTING_KEYS
    assert row == row | {"config": True, "name": "Password set by user", "group": "Log-In Options",
                         "format": "boolean", "hidden": False, "readonly": False}
    assert row["ui"] == {"order": 10001, "deleteSettingEnabled": False, "copySettingEnabled": False}


def test_config_is_typed_by_format(clean_sandbox: SandboxProcess) -> None:
    settings = settings_by_key(clean_sandbox)
    assert settings["password-policies.minimum_length"]["config"] == "8"
    assert settings["password-policies.maximum_length"]["config"] is None
    assert settings["password-policies.2fa_enabled"]["config"] is False
    assert settings["password-policies.2fa_method"]["config"] == []
    assert settings["session-control.ip_restriction"]["config"] == "0"


def test_filter_group_and_order(clean_sandbox: SandboxProcess) -> None:
    def keys(query: str) -> list[str]:
        return [row["key"] for row in clean_sandbox.api("GET", "/settings?" + query).json()["data"]]

    assert keys("filter=SESSION%20INACT") == ["session.lifetime"]
    assert keys("group=Session%20Control") == [
        "session-control.ip_restriction", "session-control.device_restriction", "session.lifetime"]
    assert keys("group=System") == []
    # ui.order sorts first; the requested column breaks its ties; unknown columns fall back to name.
    assert keys("group=IFrame%20Whitelist%20Config&order_by=nope") == ["white_list_frame.default"]
    assert clean_sandbox.api("GET", "/settings?order_by=nope").status_code == 200
    assert clean_sandbox.api("GET", "/settings?pmql=key%3D%22x%22").json() == {"error": "PMQL error"}


def test_update_writes_the_config(clean_sandbox: SandboxProcess) -> None:
    setting = settings_by_key(clean_sandbox)["password-policies.2fa_method"]
    response = clean_sandbox.api("PUT", f"/settings/{setting['id']}",
                                 json={"key": setting["key"], "config": ["By email"]})
    assert (response.status_code, response.content) == (204, b"")
    assert settings_by_key(clean_sandbox)[setting["key"]]["config"] == ["By email"]
    flag = settings_by_key(clean_sandbox)["password-policies.numbers"]
    clean_sandbox.api("PUT", f"/settings/{flag['id']}", json={"key": flag["key"], "config": False})
    assert settings_by_key(clean_sandbox)[flag["key"]]["config"] is False


def test_update_validation(clean_sandbox: SandboxProcess) -> None:
    settings = settings_by_key(clean_sandbox)
    target = settings["session.lifetime"]
    response = clean_sandbox.api("PUT", f"/settings/{target['id']}", json={"config": "60"})
    assert (response.status_code, response.json()) == (
        422, {"message": "The Key field is required.", "errors": {"key": ["The Key field is required."]}})
    response = clean_sandbox.api("PUT", f"/settings/{target['id']}",
                                 json={"key": "password-policies.numbers", "config": "60"})
    assert response.json()["errors"] == {"key": ["The Key has already been taken."]}
    assert settings_by_key(clean_sandbox)["session.lifetime"]["config"] == "120"


def test_add_and_delete(clean_sandbox: SandboxProcess) -> None:
    body = {"key": "sandbox.custom", "config": "hello", "format": "text", "name": "Site Name", "group": "Custom",
            "hidden": False}
    response = clean_sandbox.api("POST", "/settings", json=body)
    assert (response.status_code, response.json()) == (201, [])
    added = settings_by_key(clean_sandbox)["sandbox.custom"]
    assert (added["config"], added["group"], added["format"], added["hidden"]) == ("hello", "Custom", "text", False)
    response = clean_sandbox.api("POST", "/settings", json=body)
    assert (response.status_code, response.json()) == (
        409, {"message": "The \"Site Name\" you're trying to add already exists."})
    response = clean_sandbox.api("DELETE", f"/settings/{added['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert "sandbox.custom" not in settings_by_key(clean_sandbox)
    assert clean_sandbox.api("DELETE", f"/settings/{added['id']}").json() == NOT_FOUND


def test_an_added_setting_is_hidden_unless_told_otherwise(clean_sandbox: SandboxProcess) -> None:
    response = clean_sandbox.api("POST", "/settings", json={"key": "sandbox.quiet", "config": "1"})
    assert response.status_code == 201
    assert "sandbox.quiet" not in settings_by_key(clean_sandbox)
    response = clean_sandbox.api("POST", "/settings", json={"config": "no key"})
    assert (response.status_code, response.json()) == (500, {"message": "An error occurred while saving the setting."})
