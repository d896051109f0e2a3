"""The sandbox's real responses checked against ProcessMaker's committed OpenAPI spec.

The spec (``processmaker-openapi.json``, generated from swagger-php annotations) is read from
``../shared/reference/`` next to the repository (override with ``PM_REFERENCE_DIR``); the module is
skipped when it is absent. Each implemented operation is called for real, its status is compared
with the statuses the spec documents, and its JSON body is validated (OpenAPI 3.0 schema semantics,
``openapi_schema_validator.OAS30Validator`` with format checks) against the response schema.

Where the spec contradicts ProcessMaker's code (``processmaker-api.md``: §4 resources, §5 pagination,
§7 spec-vs-code differences, §8 matrix), the code wins: every such exception is listed below in
``SPEC_EXCEPTIONS`` with its reason, and applied either as a patch to a copy of the spec or as an
explicit check in the test that meets it. Anything not listed must match the spec as written.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from pm_sandbox.testing import SandboxProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = Path(os.environ.get("PM_REFERENCE_DIR") or REPO_ROOT.parent / "shared" / "reference")
SPEC_PATH = REFERENCE_DIR / "processmaker-openapi.json"

PHP_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"  # serializeDate 'Y-m-d H:i:s'

# Every place where this test deliberately departs from the spec, and why (sources in processmaker-api.md).
SPEC_EXCEPTIONS: dict[str, str] = {
    "integer-ids": (
        "Properties the spec types as {type: string, format: id} (groups.id, group_id, member_id, "
        "manager_id, delegation_user_id, category and setting ids) are auto-increment integer columns; "
        "Eloquent serializes them as JSON integers (§4: the response follows the DB columns)."
    ),
    "nullable-columns": (
        "swagger-php never marks nullable; nullable columns (users' address..cell, title, birthdate, "
        "expires_at, loggedin_at, remember_token, avatar, meta, deleted_at, delegation_user_id, "
        "manager_id; groups' description and manager_id; settings' config, helper; the PmApi client's "
        "user_id and provider) serialize as null "
        "when empty (§4.1, §4.2, §4.9 column lists)."
    ),
    "force-change-password-int": (
        "users.force_change_password is documented boolean, but the User model has no cast for it "
        "(§4.1 casts: is_administrator, meta, schedule, preferences_2fa, active_at, loggedin_at), so the "
        "tinyint column serializes as 0/1."
    ),
    "metadata-from-links": (
        "Schema metadata says `form` (sic) and has no `links`; ApiCollection's meta carries `from` and "
        "Laravel's `links` list (§5, §7). `from`/`to` are null on an empty page."
    ),
    "metadata-sort-order-echo": (
        "metadata.sort_order is enum [asc, desc], but the code echoes the request's order_direction and "
        "sends \"\" when none was given (§5)."
    ),
    "token-create-200": (
        "POST /users/{id}/tokens: spec 201 + UserToken; code 200 + {accessToken, token} "
        "(PersonalAccessTokenResult, UserTokensTest; §2, §7). `token` is validated as UserToken."
    ),
    "token-scopes-array": (
        "UserToken.scopes is documented as object; Passport's Token model casts scopes to array, "
        "an empty one serializes as [] (§2 token fields)."
    ),
    "token-show-404-empty-array": (
        "GET /users/{id}/tokens/{token}: the spec documents only 200; an unknown token is 404 with body [] "
        "(UserTokenController::show, §2)."
    ),
    "env-var-value-hidden": (
        "EnvironmentVariable lists `value`; the model hides it, so no response ever carries it (§4.4, §7). "
        "Checked explicitly: `value` must be absent."
    ),
    "env-var-show-200": (
        "GET /environment_variables/{id}: spec says 201; the controller answers 200 (§4.4, §8)."
    ),
    "php-dates-group-members-env-vars": (
        "GroupMember and EnvironmentVariable serialize dates with ProcessMakerModel::serializeDate "
        "'Y-m-d H:i:s', which is not RFC 3339 date-time (§4 date formats)."
    ),
    "group-member-exists-201-empty": (
        "POST /group_members for an existing (group, type, member) triple answers 201 with body [] "
        "instead of a createGroupMembers object (§4.3, §8)."
    ),
    "group-members-list-name-description": (
        "GET /group_members rows are group_members.* joined with the group's name and description (§4.3); "
        "the extra keys are allowed by the schema, and checked explicitly."
    ),
    "category-delete-204-no-body": (
        "DELETE /process_categories/{id}: spec 204 with a Process body; HTTP 204 carries no content and "
        "the controller sends none (§4.5)."
    ),
    "settings-config-typed-by-format": (
        "settings.config is documented as an array of objects; Setting::getConfigAttribute types it by "
        "`format` (text -> string, boolean -> bool, object -> object, array -> array) (§4.9)."
    ),
}

META_KEYS = {
    "filter", "sort_by", "sort_order", "count", "total_pages", "current_page", "from", "last_page", "links",
    "path", "per_page", "to", "total",
}


# --- the spec, patched with the documented exceptions --------------------------------------------


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _properties(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """The properties of a component schema, whether direct or in its allOf parts (merged view)."""
    schema = schemas[name]
    found: dict[str, Any] = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(part.get("properties", {}))
    return found


def _nullable(schemas: dict[str, Any], name: str, *fields: str) -> None:
    parts = [schemas[name], *schemas[name].get("allOf", [])]
    for field in fields:
        hits = [part["properties"][field] for part in parts if field in part.get("properties", {})]
        assert hits, f"{name}.{field} is not in the spec: update the exception list"
        for prop in hits:
            prop["nullable"] = True


def patched_spec(spec: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(spec)
    schemas = patched["components"]["schemas"]
    # integer-ids
    for node in _walk(schemas):
        if node.get("format") == "id" and node.get("type") == "string":
            node["type"] = "integer"
    # nullable-columns
    _nullable(
        schemas, "usersEditable", "address", "city", "state", "postal", "country", "phone", "fax", "cell",
        "title", "birthdate", "expires_at", "loggedin_at", "remember_token", "avatar", "meta",
        "delegation_user_id", "manager_id",
    )
    _nullable(schemas, "users", "deleted_at")
    _nullable(schemas, "groupsEditable", "description", "manager_id")
    _nullable(schemas, "settingsEditable", "config", "helper")
    _nullable(schemas, "TokenClient", "user_id", "provider")
    # force-change-password-int
    _properties(schemas, "usersEditable")["force_change_password"].update(type="integer", enum=[0, 1])
    # metadata-from-links, metadata-sort-order-echo
    meta = schemas["metadata"]["properties"]
    meta["from"] = {"type": "integer", "nullable": True}
    meta["to"]["nullable"] = True
    meta["links"] = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["url", "label", "active"],
            "properties": {
                "url": {"type": "string", "nullable": True},
                "label": {"type": "string"},
                "active": {"type": "boolean"},
            },
        },
    }
    meta["sort_order"]["enum"] = [*meta["sort_order"]["enum"], ""]
    # token-scopes-array
    schemas["UserToken"]["properties"]["scopes"] = {"type": "array", "items": {"type": "string"}}
    # php-dates-group-members-env-vars
    for name in ("groupMembers", "createGroupMembers", "getGroupMembersById", "EnvironmentVariable"):
        for field in ("created_at", "updated_at"):
            prop = _properties(schemas, name)[field]
            prop.pop("format")
            prop["pattern"] = PHP_DATETIME
    # settings-config-typed-by-format
    _properties(schemas, "settingsEditable")["config"].clear()
    _properties(schemas, "settingsEditable")["config"]["nullable"] = True
    return patched


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.is_file():
        pytest.skip(f"ProcessMaker OpenAPI spec not found at {SPEC_PATH} (set PM_REFERENCE_DIR to its folder)")
    return patched_spec(json.loads(SPEC_PATH.read_text()))


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def conforms(
    spec: dict[str, Any],
    response: requests.Response,
    method: str,
    path: str,
    status: int,
    *,
    exception: str | None = None,
    schema: dict[str, Any] | None = None,
    body: Any = None,
) -> Any:
    """Assert the status, then validate the JSON body against the spec's response schema.

    ``status`` is what ProcessMaker's code answers. It must be one the spec documents for the
    operation, unless ``exception`` names the SPEC_EXCEPTIONS entry that explains the difference.
    ``schema`` replaces the documented schema (e.g. the schema of a documented status when the code
    answers another one); ``body`` validates a part of the body instead of all of it.
    """
    operation = spec["paths"][path][method.lower()]
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text[:500]}"
    documented = operation["responses"]
    if exception is not None:
        assert exception in SPEC_EXCEPTIONS
    else:
        assert str(status) in documented, f"{method} {path}: {status} is not documented ({sorted(documented)})"
    if status == 204:
        assert response.content == b""
        return None
    if schema is None:
        declared = _resolve(spec, documented[str(status)])
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return response.content  # the spec documents no body; the test checks it itself
    payload = response.json()
    validator = OAS30Validator(
        {**schema, "components": spec["components"]}, format_checker=oas30_format_checker
    )
    target = payload if body is None else body
    errors = sorted(validator.iter_errors(target), key=lambda error: list(error.absolute_path))
    messages = [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors]
    assert not messages, f"{method} {path} ({status}) does not match the spec:\n" + "\n".join(messages[:20])
    return payload


def schema_of(spec: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    response = _resolve(spec, spec["paths"][path][method]["responses"][status])
    return response["content"]["application/json"]["schema"]


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def assert_list_envelope(payload: dict[str, Any], total: int) -> None:
    assert set(payload) == {"data", "meta"}
    assert set(payload["meta"]) == META_KEYS
    assert "form" not in payload["meta"]
    assert payload["meta"]["total"] == total
    assert payload["meta"]["count"] == len(payload["data"])


@pytest.fixture
def sb(clean_sandbox: SandboxProcess) -> SandboxProcess:
    return clean_sandbox


def new_user(sb: SandboxProcess, username: str) -> dict[str, Any]:
    response = sb.api(
        "POST", "/users",
        json={"username": username, "firstname": "Con", "lastname": "Form", "email": f"{username}@example.com",
              "status": "ACTIVE", "password": "Conform-pass-1"},
    )
    assert response.status_code == 201, response.text
    return response.json()


# --- the resources ---------------------------------------------------------------------------------


def test_users(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    created = conforms(
        spec,
        sb.api(
            "POST", "/users",
            json={"username": "conform", "firstname": "Con", "lastname": "Form", "email": "c@example.com",
                  "status": "ACTIVE", "password": "Conform-pass-1", "birthdate": "1990-05-17",
                  "meta": {"team": "qa"}, "phone": "+1 555 0100"},
        ),
        "POST", "/users", 201,
    )
    assert "password" not in created
    assert created["fullname"] == "Con Form"
    assert created["birthdate"] == "1990-05-17"
    assert created["meta"] == {"team": "qa"}
    listed = conforms(spec, sb.api("GET", "/users"), "GET", "/users", 200)
    assert_list_envelope(listed, total=2)
    assert [row["username"] for row in listed["data"]] == ["admin", "conform"]
    conforms(spec, sb.api("GET", f"/users/{created['id']}"), "GET", "/users/{user_id}", 200)
    missing = conforms(spec, sb.api("GET", "/users/999999"), "GET", "/users/{user_id}", 404)
    assert missing == {"error": "Not Found"}
    invalid = conforms(spec, sb.api("POST", "/users", json={}), "POST", "/users", 422)
    assert invalid["message"].startswith("The Username field is required.")
    update = {key: created[key] for key in ("username", "firstname", "lastname", "email", "status")}
    conforms(spec, sb.api("PUT", f"/users/{created['id']}", json={**update, "title": "QA"}), "PUT",
             "/users/{user_id}", 204)
    conforms(spec, sb.api("DELETE", f"/users/{created['id']}"), "DELETE", "/users/{user_id}", 204)
    conforms(spec, sb.api("DELETE", f"/users/{created['id']}"), "DELETE", "/users/{user_id}", 404)


def test_groups(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    created = conforms(
        spec, sb.api("POST", "/groups", json={"name": "Conformance", "description": "checked", "status": "ACTIVE"}),
        "POST", "/groups", 201,
    )
    assert set(created) == {
        "id", "uuid", "name", "description", "status", "manager_id", "enabled_2fa", "created_at", "updated_at",
    }
    bare = conforms(spec, sb.api("POST", "/groups", json={"name": "Bare"}), "POST", "/groups", 201)
    assert bare["description"] is None
    duplicate = conforms(spec, sb.api("POST", "/groups", json={"name": "Conformance"}), "POST", "/groups", 422)
    assert duplicate["errors"] == {"name": ["The Name has already been taken."]}
    listed = conforms(spec, sb.api("GET", "/groups"), "GET", "/groups", 200)
    assert_list_envelope(listed, total=2)
    group_id = created["id"]
    conforms(spec, sb.api("GET", f"/groups/{group_id}"), "GET", "/groups/{group_id}", 200)
    assert conforms(spec, sb.api("GET", "/groups/999999"), "GET", "/groups/{group_id}", 404) == {"error": "Not Found"}
    conforms(spec, sb.api("PUT", f"/groups/{group_id}", json={"name": "Conformance 2", "status": "INACTIVE"}),
             "PUT", "/groups/{group_id}", 204)
    conforms(spec, sb.api("PUT", "/groups/999999", json={"name": "x"}), "PUT", "/groups/{group_id}", 404)
    member = new_user(sb, "member")
    assert sb.api("POST", "/group_members", json={
        "group_id": group_id, "member_type": "ProcessMaker\\Models\\User", "member_id": member["id"]}).status_code == 201
    assert sb.api("POST", "/group_members", json={
        "group_id": group_id, "member_type": "ProcessMaker\\Models\\Group", "member_id": bare["id"]}).status_code == 201
    users = conforms(spec, sb.api("GET", f"/groups/{group_id}/users"), "GET", "/groups/{group_id}/users", 200)
    assert [row["username"] for row in users["data"]] == ["member"]
    groups = conforms(spec, sb.api("GET", f"/groups/{group_id}/groups"), "GET", "/groups/{group_id}/groups", 200)
    assert [row["name"] for row in groups["data"]] == ["Bare"]
    conforms(spec, sb.api("DELETE", f"/groups/{group_id}"), "DELETE", "/groups/{group_id}", 204)
    conforms(spec, sb.api("DELETE", f"/groups/{group_id}"), "DELETE", "/groups/{group_id}", 404)


def test_group_members(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    group = sb.api("POST", "/groups", json={"name": "Members", "description": "d", "status": "ACTIVE"}).json()
    other = sb.api("POST", "/groups", json={"name": "Other", "description": "d", "status": "ACTIVE"}).json()
    user = new_user(sb, "joiner")
    body = {"group_id": group["id"], "member_type": "ProcessMaker\\Models\\User", "member_id": user["id"]}
    created = conforms(spec, sb.api("POST", "/group_members", json=body), "POST", "/group_members", 201)
    assert {"id", "group_id", "member_id", "member_type", "created_at", "updated_at", "group", "member"} <= set(created)
    assert created["group"]["name"] == "Members"
    assert created["member"]["username"] == "joiner"
    again = conforms(spec, sb.api("POST", "/group_members", json=body), "POST", "/group_members", 201,
                     exception="group-member-exists-201-empty", schema={"type": "array", "maxItems": 0})
    assert again == []
    listed = conforms(spec, sb.api("GET", "/group_members"), "GET", "/group_members", 200)
    assert_list_envelope(listed, total=1)
    row = listed["data"][0]
    # group-members-list-name-description
    assert (row["name"], row["description"]) == ("Members", "d")
    shown = conforms(spec, sb.api("GET", f"/group_members/{created['id']}"), "GET",
                     "/group_members/{group_member_id}", 200)
    assert shown["member_type"] == "ProcessMaker\\Models\\User"
    available = conforms(
        spec, sb.api("GET", "/group_members_available",
                     params={"member_id": user["id"], "member_type": "ProcessMaker\\Models\\User"}),
        "GET", "/group_members_available", 200,
    )
    assert [row["name"] for row in available["data"]] == ["Other"]
    assert other["id"] == available["data"][0]["id"]
    conforms(spec, sb.api("DELETE", f"/group_members/{created['id']}"), "DELETE",
             "/group_members/{group_member_id}", 204)


def test_environment_variables(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    path, item = "/environment_variables", "/environment_variables/{environment_variable_id}"
    body = {"name": "CONFORM_VAR", "description": "checked", "value": "s3cret"}
    created = conforms(spec, sb.api("POST", path, json=body), "POST", path, 201)
    assert set(created) == {"id", "uuid", "name", "description", "created_at", "updated_at"}  # env-var-value-hidden
    listed = conforms(spec, sb.api("GET", path), "GET", path, 200)
    assert_list_envelope(listed, total=1)
    assert "value" not in listed["data"][0]
    shown = conforms(spec, sb.api("GET", f"{path}/{created['id']}"), "GET", item, 200,
                     exception="env-var-show-200", schema=schema_of(spec, item, "get", "201"))
    assert "value" not in shown
    updated = conforms(spec, sb.api("PUT", f"{path}/{created['id']}", json={**body, "description": "changed"}),
                       "PUT", item, 200)
    assert updated["description"] == "changed"
    assert "value" not in updated
    deleted = sb.api("DELETE", f"{path}/{created['id']}")
    conforms(spec, deleted, "DELETE", item, 200)
    assert deleted.content == b""


@pytest.mark.parametrize("kind", ["process", "screen", "script"])
def test_categories(sb: SandboxProcess, spec: dict[str, Any], kind: str) -> None:
    path = f"/{kind}_categories"
    item = f"{path}/{{{kind}_category_id}}"
    before = sb.api("GET", path).json()["meta"]["total"]
    created = conforms(spec, sb.api("POST", path, json={"name": f"Conform {kind}", "status": "ACTIVE"}),
                       "POST", path, 201)
    assert created["status"] == "ACTIVE"
    listed = conforms(spec, sb.api("GET", path), "GET", path, 200)
    assert_list_envelope(listed, total=before + 1)
    conforms(spec, sb.api("GET", f"{path}/{created['id']}"), "GET", item, 200)
    updated = conforms(spec, sb.api("PUT", f"{path}/{created['id']}", json={"name": f"Renamed {kind}",
                                                                          "status": "INACTIVE"}), "PUT", item, 200)
    assert (updated["name"], updated["status"]) == (f"Renamed {kind}", "INACTIVE")
    deleted = sb.api("DELETE", f"{path}/{created['id']}")
    if kind == "process":
        conforms(spec, deleted, "DELETE", item, 204, exception="category-delete-204-no-body")
    else:
        conforms(spec, deleted, "DELETE", item, 204)


def test_settings(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    listed = conforms(spec, sb.api("GET", "/settings", params={"per_page": 100}), "GET", "/settings", 200)
    assert_list_envelope(listed, total=len(listed["data"]))
    assert listed["meta"]["per_page"] == 100
    assert conforms(spec, sb.api("GET", "/settings"), "GET", "/settings", 200)["meta"]["per_page"] == 25
    formats = {row["format"] for row in listed["data"]}
    assert "boolean" in formats  # settings-config-typed-by-format: there is something to type
    for row in listed["data"]:
        if row["format"] == "boolean":
            assert isinstance(row["config"], bool), row
    setting = next(row for row in listed["data"] if row["format"] == "boolean")
    conforms(spec, sb.api("PUT", f"/settings/{setting['id']}", json={"key": setting["key"],
                                                                      "config": not setting["config"]}),
             "PUT", "/settings/{setting_id}", 204)
    again = sb.api("GET", "/settings", params={"filter": setting["key"]}).json()["data"]
    assert [row["config"] for row in again if row["key"] == setting["key"]] == [not setting["config"]]
    invalid = conforms(spec, sb.api("PUT", f"/settings/{setting['id']}", json={"config": True}),
                       "PUT", "/settings/{setting_id}", 422)
    assert invalid["errors"] == {"key": ["The Key field is required."]}
    conforms(spec, sb.api("PUT", "/settings/999999", json={"key": "x", "config": 1}), "PUT",
             "/settings/{setting_id}", 404)


def test_permissions_update(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    user = new_user(sb, "permitted")
    response = sb.api("PUT", "/permissions", json={"user_id": user["id"], "permission_names": ["view-users"]})
    conforms(spec, response, "PUT", "/permissions", 204)
    token = sb.password_token("permitted", "Conform-pass-1")["access_token"]
    assert sb.api("GET", "/users", token=token).status_code == 200  # the permission took effect
    assert sb.api("GET", "/groups", token=token).status_code == 403


def test_personal_tokens(sb: SandboxProcess, spec: dict[str, Any]) -> None:
    admin_id = sb.credentials["admin"]["id"]
    path, item = "/users/{user_id}/tokens", "/users/{user_id}/tokens/{token_id}"
    created_response = sb.api("POST", f"/users/{admin_id}/tokens", json={"name": "conformance"})
    created = conforms(spec, created_response, "POST", path, 200, exception="token-create-200",
                       schema=component("UserToken"), body=created_response.json()["token"])
    assert set(created) == {"accessToken", "token"}
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", created["accessToken"])
    token = created["token"]
    assert set(token) == {"id", "user_id", "client_id", "name", "scopes", "revoked", "created_at", "updated_at",
                          "expires_at"}
    assert token["scopes"] == []  # token-scopes-array
    listed = conforms(spec, sb.api("GET", f"/users/{admin_id}/tokens"), "GET", path, 200)
    assert_list_envelope(listed, total=1)
    assert listed["data"][0]["client"]["personal_access_client"] is True
    shown = conforms(spec, sb.api("GET", f"/users/{admin_id}/tokens/{token['id']}"), "GET", item, 200)
    assert shown["id"] == token["id"]
    unknown = sb.api("GET", f"/users/{admin_id}/tokens/{'0' * 80}")
    assert conforms(spec, unknown, "GET", item, 404, exception="token-show-404-empty-array",
                    schema={"type": "array", "maxItems": 0}) == []
    conforms(spec, sb.api("DELETE", f"/users/{admin_id}/tokens/{token['id']}"), "DELETE", item, 204)
    assert sb.api("GET", "/users", token=created["accessToken"]).status_code == 401
    after = conforms(spec, sb.api("GET", f"/users/{admin_id}/tokens"), "GET", path, 200)
    assert_list_envelope(after, total=0)
    assert (after["meta"]["from"], after["meta"]["to"]) == (None, None)  # metadata-from-links


def test_every_exception_is_used() -> None:
    """Keep the list honest: each exception is referenced by a check in this module."""
    source = Path(__file__).read_text()
    for name in SPEC_EXCEPTIONS:
        assert source.count(name) >= 2, f"exception {name} is listed but never applied"
