"""Regression tests of the security review and newcomer trial (the "Trust" issue), at unit level, each
named after its item. The playbook-level ones are in tests/integration/test_trust_playbooks.py."""

from __future__ import annotations

import base64
import json
import re
import textwrap
from urllib.parse import quote, quote_plus

import pytest
import requests
from ansible_collections.processmaker.core.plugins.module_utils.client import (
    ProcessMakerClient,
)
from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    connection_error,
)
from ansible_collections.processmaker.core.plugins.module_utils.options import (
    OptionError,
)
from ansible_collections.processmaker.core.plugins.modules import (
    pm_api,
    pm_resource,
    pm_token,
)
from unit_helpers import Reply, connection, make_jwt, run_module, token_body

# Secrets with every character class the wire encodings touch: reserved URL characters, a space,
# a slash (PHP escapes it in JSON), non-ASCII (JSON \u escapes).
PASSWORD = "P@ss word&é/ü+100%"
SECRET = "Cl1ent/Secret+é=&?#"


@pytest.fixture(autouse=True)
def no_pm_environment(monkeypatch):
    for name in ("PM_URL", "PM_TOKEN", "PM_USERNAME", "PM_PASSWORD", "PM_CLIENT_ID", "PM_CLIENT_SECRET",
                 "PM_API_PATH", "PM_GRANT_TYPE", "PM_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def bearer():
    return make_jwt({"sub": "1", "exp": 4102444800.5, "scopes": []})


def every_encoding(secret: str, client_id: str = "2") -> dict:
    """What a careless server may echo, each way a secret travels (written out here, independently of
    the collection's own list)."""
    return {
        "literal": secret,
        "quote": quote(secret, safe=""),
        "quote-lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe="")),
        "quote_plus": quote_plus(secret),
        "json": json.dumps(secret)[1:-1],
        "json-php": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "basic": base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
        "basic-urlencoded": base64.b64encode(f"{client_id}:{quote_plus(secret)}".encode()).decode(),
    }


def echo_everything(request):
    """A hostile token endpoint: the raw body, its JSON decoding and the Authorization header, echoed."""
    form = request.form
    echoed = (f"raw={request.body.decode()} auth={request.headers.get('Authorization', '')} "
              f"json={json.dumps(form)} php={json.dumps(form).replace('/', chr(92) + '/')}")
    return Reply(400, {"error": "invalid_request", "error_description": echoed, "message": echoed})


# --- item 4: every encoding of a secret is masked --------------------------------------------------

def test_item4_echoed_secrets_are_masked_in_every_encoding_module(server):
    server.on("POST", "/oauth/token", echo_everything)
    result = run_module(pm_api, {"url": server.url, "path": "users", "client_id": "2", "client_secret": SECRET,
                                 "username": "admin", "password": PASSWORD})
    assert result["failed"] and "invalid_request" in result["msg"]
    for secret in (PASSWORD, SECRET):
        for name, form in every_encoding(secret).items():
            assert form not in result["_raw"], f"{name} form of a secret in the module output"


def test_item4_a_bearer_token_echoed_by_the_api_is_masked(server):
    token = bearer()
    server.on("GET", "/api/1.0/users", lambda request: Reply(
        500, {"message": "upstream said: " + request.headers.get("Authorization", "")}))
    result = run_module(pm_api, {"url": server.url, "path": "users", "access_token": token, "retries": 0})
    assert result["failed"] and token not in result["_raw"]
    server.on("GET", "/api/1.0/users", lambda request: Reply(
        200, {"echo": request.headers.get("Authorization", "")}))
    result = run_module(pm_api, {"url": server.url, "path": "users", "access_token": token})
    assert not result.get("failed") and token not in result["_raw"]


def test_item4_the_redactor_knows_basic_credentials():
    from ansible_collections.processmaker.core.plugins.module_utils.redaction import (
        Redactor,
    )

    redact = Redactor([SECRET], client_id="ci-client")
    for name, form in every_encoding(SECRET, "ci-client").items():
        assert form not in redact(f"<<{form}>>"), name


# --- item 5: a write-only field of the wrong type or case is masked before it is rejected -----------

@pytest.mark.parametrize("item", [
    {"name": "API_KEY", "value": {"nested": "s3cr3t-env-VALUE"}},
    {"name": "API_KEY", "value": ["s3cr3t-env-VALUE"]},
    {"name": "API_KEY", "Value": "s3cr3t-env-VALUE"},
    {"name": "API_KEY", " VALUE ": "s3cr3t-env-VALUE"},
])
def test_item5_wrong_type_or_case_of_a_secret_field_is_masked(server, item):
    result = run_module(pm_resource, {"url": server.url, "access_token": bearer(), "kind": "environment_variables",
                                      "items": [item], "_ansible_verbosity": 3})
    assert result["failed"], result
    assert "s3cr3t-env-VALUE" not in result["_raw"]
    assert not server.seen(), "rejected before any request"


# --- item 6: ~/.netrc and user info never replace the Bearer token ----------------------------------

def test_item6_netrc_never_replaces_the_bearer_token(server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".netrc").write_text(netrc.read_text())
    (tmp_path / ".netrc").chmod(0o600)
    token = bearer()
    server.on("GET", "/api/1.0/users", Reply(200, {"data": []}))
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    assert run_module(pm_api, {"url": server.url, "path": "users", "access_token": token})["status"] == 200
    assert server.seen("GET")[0].headers["Authorization"] == f"Bearer {token}"
    run_module(pm_token, {"url": server.url, "client_id": "2", "client_secret": SECRET, "username": "admin",
                          "password": PASSWORD})
    assert "Authorization" not in server.seen("POST")[0].headers  # netrc's Basic never reaches the token endpoint


@pytest.mark.parametrize("option", ["url", "token_url", "authorize_url"])
def test_item6_user_info_in_a_url_is_refused(option):
    values = {"url": "https://pm.example.com", "access_token": "t0k3n"}
    values[option] = "https://ci:hunter2@pm.example.com"
    with pytest.raises(OptionError) as refused:
        connection(values.pop("url"), **values)
    text = str(refused.value)
    assert option in text and "user:password@" in text and "hunter2" not in text


# --- item 7: plain http to a non-loopback host warns once -------------------------------------------

@pytest.mark.parametrize("url,warned", [("http://pm.example.com", True), ("http://127.0.0.1:8000", False),
                                        ("http://localhost", False), ("http://[::1]:80", False),
                                        ("https://pm.example.com", False)])
def test_item7_plain_http_warns(url, warned):
    warnings = []
    client = ProcessMakerClient.from_options(connection(url, access_token="t0k3n"), warn=warnings.append)
    client.close()
    assert len([w for w in warnings if "plain http://" in w]) == (1 if warned else 0)
    if warned:
        assert "unencrypted" in warnings[0] and "https://" in warnings[0]


# --- item 2: options of one grant never fall through to another --------------------------------------

@pytest.mark.parametrize("args,names", [
    ({"callback_url": "", "expected_state": "st4te-123", "code_verifier": "verifier-123"}, ("callback_url", "empty")),
    ({"code": " ", "code_verifier": "verifier-123"}, ("code", "empty")),
    ({"expected_state": "st4te-123", "code_verifier": "verifier-123"},
     ("expected_state", "code_verifier", "code or callback_url")),
])
def test_item2_code_exchange_options_never_fall_through(server, monkeypatch, args, names):
    monkeypatch.setenv("PM_USERNAME", "admin")
    monkeypatch.setenv("PM_PASSWORD", PASSWORD)
    server.on("POST", "/oauth/token", Reply(200, token_body()))
    result = run_module(pm_token, {"url": server.url, "client_id": "2", "client_secret": SECRET, **args})
    assert result["failed"] and "access_token" not in result, result
    for name in names:
        assert name in result["msg"]
    assert not server.seen(), "no token of another grant was asked for"


@pytest.mark.parametrize("option", ["access_token", "refresh_token"])
def test_item2_an_empty_credential_never_selects_another_grant(option):
    with pytest.raises(OptionError) as refused:
        connection("https://pm.example.com", client_id="2", client_secret=SECRET, **{option: ""})
    assert f"{option} is empty" in str(refused.value)


# --- item 15: a string body is sent as it is -----------------------------------------------------------

def test_item15_a_json_string_body_is_not_encoded_twice(server):
    server.on("POST", "/api/1.0/groups", Reply(201, {"id": 5}))
    result = run_module(pm_api, {"url": server.url, "access_token": bearer(), "method": "POST", "path": "groups",
                                 "body": '{"name": "Ops", "status": "ACTIVE"}'})
    assert result["status"] == 201
    sent = server.seen("POST")[0]
    assert sent.json == {"name": "Ops", "status": "ACTIVE"}
    assert sent.headers["Content-Type"] == "application/json"


def test_item15_a_string_body_keeps_a_content_type_given_in_headers(server):
    server.on("POST", "/api/1.0/import", Reply(200, {}))
    run_module(pm_api, {"url": server.url, "access_token": bearer(), "method": "POST", "path": "import",
                        "body": "<xml/>", "headers": {"Content-Type": "application/xml"}})
    assert server.seen("POST")[0].headers["Content-Type"] == "application/xml"
    assert server.seen("POST")[0].body == b"<xml/>"


# --- item 18: hints that point at the real mistake ------------------------------------------------------

def test_item18_url_with_the_api_path_is_refused_naming_url():
    with pytest.raises(OptionError) as refused:
        connection("http://pm.example.com/api/1.0", access_token="t0k3n")
    assert "url must be the server's root" in str(refused.value) and "http://pm.example.com" in str(refused.value)


def test_item18_connection_refused_says_why_at_the_end(closed_port_url):
    try:
        requests.post(closed_port_url + "/oauth/token?code=abc", timeout=5)
    except requests.RequestException as exc:
        error = connection_error(exc, method="POST", url=closed_port_url + "/oauth/token")
    text = str(error)
    assert "Connection refused" in text and "abc" not in text and "..." not in text


def test_item18_a_missing_pat_owner_is_no_failed_request(server):
    server.on("GET", "/api/1.0/users", Reply(200, {"data": [], "meta": {"total": 0, "total_pages": 1}}))
    result = run_module(pm_token, {"url": server.url, "access_token": bearer(), "name": "ci", "user": "nobody",
                                   "state": "absent"})
    assert result["failed"] and "no user with username 'nobody'" in result["msg"]
    assert "HTTP 404" not in result["msg"] and "failed with" not in result["msg"]


# --- item 16: lookups without requests say what is missing --------------------------------------------

def test_item16_lookup_without_requests_names_the_library(tmp_path):
    import subprocess
    import sys

    from unit_helpers import COLLECTIONS_ROOT

    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(textwrap.dedent("""
        import sys
        class NoRequests:
            def find_spec(self, name, path=None, target=None):
                if name == "requests" or name.startswith("requests."):
                    raise ImportError("No module named 'requests'")
        sys.meta_path.insert(0, NoRequests())
    """))
    script = textwrap.dedent("""
        import sys
        from ansible.errors import AnsibleError
        from ansible.plugins.loader import init_plugin_loader, lookup_loader
        init_plugin_loader([sys.argv[1]])
        for name, terms in (("pm_api", ["users"]), ("pm_token", [])):
            try:
                lookup_loader.get("processmaker.core." + name).run(terms, {}, url="https://pm.example.com",
                                                                   access_token="t0k3n")
            except AnsibleError as error:
                print(error.message)
    """)
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script, str(COLLECTIONS_ROOT)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2, done.stdout + done.stderr
    for line in lines:
        assert "requests" in line and "pip install" in line and "not defined" not in line


def documented_requirements(plugin) -> list:
    """A plugin's requirements as ansible-doc shows them: its own and those of the collection's doc fragments
    it extends (ansible-core merges a fragment's requirements into the plugin's)."""
    import importlib

    import yaml

    doc = yaml.safe_load(plugin.DOCUMENTATION)
    requirements = list(doc.get("requirements") or [])
    for name in doc.get("extends_documentation_fragment") or []:
        if name.startswith("processmaker.core."):
            module, _, variant = name.removeprefix("processmaker.core.").partition(".")
            fragment = importlib.import_module(f"ansible_collections.processmaker.core.plugins.doc_fragments.{module}")
            text = getattr(fragment.ModuleDocFragment, (variant or "documentation").upper())
            requirements += yaml.safe_load(text).get("requirements") or []
    return requirements


def test_item16_every_plugin_documents_its_requirements():
    import importlib

    from unit_helpers import COLLECTIONS_ROOT

    plugins = COLLECTIONS_ROOT / "ansible_collections" / "processmaker" / "core" / "plugins"
    names = [f"modules.{path.stem}" for path in sorted((plugins / "modules").glob("pm_*.py"))]
    names += [f"lookup.{path.stem}" for path in sorted((plugins / "lookup").glob("pm_*.py"))]
    assert len(names) >= 9, names
    for name in names:
        plugin = importlib.import_module(f"ansible_collections.processmaker.core.plugins.{name}")
        assert any(line.startswith("requests") for line in documented_requirements(plugin)), name
    package = importlib.import_module("ansible_collections.processmaker.core.plugins.modules.pm_package")
    assert any("cryptography" in line for line in documented_requirements(package))


def test_item1_cache_error_never_shows_a_secret():
    """Keeping ProcessMakerError's message itself free of secrets when no redactor is at hand."""
    error = ProcessMakerError("bad", method="POST", url="https://pm.example.com/oauth/token?password=x")
    assert "password=x" not in str(error)


def test_item13_the_service_account_role_grants_no_permission_by_default():
    """ProcessMaker's edit-users can set any password (the sandbox reproduces it, see the sandbox's tests):
    the role must never hand it out unasked."""
    import yaml
    from unit_helpers import COLLECTIONS_ROOT

    role = COLLECTIONS_ROOT / "ansible_collections" / "processmaker" / "core" / "roles" / "service_account"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    assert defaults["service_account_permissions"] == [] and defaults["service_account_group_permissions"] == []
    assert "edit-users" not in (role / "defaults" / "main.yml").read_text()
    assert "edit-users" in (role / "README.md").read_text()  # and the README says why


@pytest.mark.parametrize("value", ["INF", "-inf", "1e5000", ["INF"]])
def test_an_int_list_option_given_infinity_fails_cleanly(server, value):
    """ansible-core's int check raises OverflowError for infinity (a traceback): defused into its own clean
    'cannot be converted' failure, for a scalar as for a list (found by hypothesis)."""
    result = run_module(pm_api, {"url": server.url, "access_token": bearer(), "path": "users", "status_code": value})
    assert result["failed"] and "status_code" in result["msg"] and "Traceback" not in result["_raw"]
