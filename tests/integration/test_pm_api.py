"""processmaker.core.pm_api against a live sandbox: methods, paths, query, bodies, uploads, downloads,
status codes, pagination, returns, changed and check mode. Server state is read back through the
sandbox's API and counters.

The sandbox has no upload endpoint (ProcessMaker's uploads are process/package imports, not part of
it yet). Multipart requests are therefore checked twice: against the sandbox's groups endpoint,
whose Laravel-style input reads multipart form fields (the file part is ignored there), and against
a local echo server that records the raw request, to see the file's bytes and name on the wire.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pm_integration import Runner, assert_clean_failure, ok, save_result, served
from pm_sandbox.testing import SandboxProcess


def group_named(sandbox: SandboxProcess, name: str) -> dict | None:
    found = sandbox.api("GET", "/groups", params={"filter": name, "per_page": 100}).json()["data"]
    return next((group for group in found if group["name"] == name), None)


def test_methods_paths_query_returns_and_changed(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    clean_sandbox.admin_token()  # the test's own token first, so the counters below are the play's
    clean_sandbox.reset_counters()
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: GET, relative path, query
              processmaker.core.pm_api:
                path: users
                query:
                  per_page: 1
                  order_by: username
                  order_direction: desc
                  status: [ACTIVE, INACTIVE]
              register: relative
            - name: GET, path from the server root
              processmaker.core.pm_api:
                path: /api/1.0/users/1
              register: absolute
            - name: GET, full URL on the same server
              processmaker.core.pm_api:
                path: "{{{{ pm_url }}}}/api/1.0/users/1"
              register: full_url
            - name: HEAD
              processmaker.core.pm_api:
                method: HEAD
                path: users
              register: head
            - name: POST with a JSON body
              processmaker.core.pm_api:
                method: POST
                path: groups
                body:
                  name: Ansible reviewers
                  description: made by pm_api
                  status: ACTIVE
                status_code: [201]
              register: created
            - name: PUT (the sandbox answers 204 like ProcessMaker)
              processmaker.core.pm_api:
                method: PUT
                path: "groups/{{{{ created.json.id }}}}"
                body:
                  name: Ansible approvers
                  description: renamed by pm_api
                  status: ACTIVE
              register: updated
            - name: PATCH (no PATCH route in ProcessMaker; 405 shows it was sent as PATCH)
              processmaker.core.pm_api:
                method: PATCH
                path: "groups/{{{{ created.json.id }}}}"
                body:
                  description: patched
                status_code: [405]
              register: patched
            - name: A POST that changes nothing, told so with changed_when
              processmaker.core.pm_api:
                method: POST
                path: groups
                body: {{}}
                status_code: [422]
              register: invalid
              changed_when: false
            - name: DELETE
              processmaker.core.pm_api:
                method: DELETE
                path: "groups/{{{{ created.json.id }}}}"
              register: deleted
            - name: A URL on another server never gets the token
              processmaker.core.pm_api:
                path: https://elsewhere.example.com/api/1.0/users
              register: foreign
              ignore_errors: true
            {save_result("relative")}
            {save_result("absolute")}
            {save_result("full_url")}
            {save_result("head")}
            {save_result("created")}
            {save_result("updated")}
            {save_result("patched")}
            {save_result("invalid")}
            {save_result("deleted")}
            {save_result("foreign")}
    """, extra_vars={"pm_url": clean_sandbox.url}))
    relative = pb.result("relative")
    assert relative["changed"] is False and relative["status"] == 200 and relative["method"] == "GET"
    assert relative["url"].startswith(clean_sandbox.api_url + "/users?")
    assert "per_page=1" in relative["url"] and "status=ACTIVE&status=INACTIVE" in relative["url"]
    assert relative["json"]["data"] == relative["data"] and relative["json"]["meta"] == relative["meta"]
    assert relative["meta"]["per_page"] == 1 and len(relative["data"]) == 1
    assert relative["headers"]["Content-Type"].startswith("application/json")
    assert isinstance(relative["elapsed"], float) and relative["elapsed"] >= 0
    assert relative["attempts"] == 1
    for name in ("absolute", "full_url"):
        result = pb.result(name)
        assert result["json"]["username"] == "admin"
        assert result["url"] == clean_sandbox.api_url + "/users/1"
        assert "data" not in result and "meta" not in result
    head = pb.result("head")
    assert head["status"] == 200 and head["changed"] is False and "json" not in head

    created, updated = pb.result("created"), pb.result("updated")
    assert created["changed"] is True and created["status"] == 201 and created["json"]["name"] == "Ansible reviewers"
    assert updated["changed"] is True and updated["status"] == 204 and "json" not in updated
    assert pb.result("patched")["status"] == 405
    invalid = pb.result("invalid")
    assert invalid["changed"] is False and invalid["status"] == 422
    assert invalid["json"]["errors"]["name"] == ["The Name field is required."]
    assert pb.result("deleted")["changed"] is True and pb.result("deleted")["status"] == 204
    assert_clean_failure(pb.result("foreign"), "refusing to send the access token", "elsewhere.example.com")

    counters = clean_sandbox.counters()
    assert served(counters, "GET /api/1.0/users") == 1
    assert served(counters, "GET /api/1.0/users/*") == 2
    assert served(counters, "HEAD /api/1.0/users") + served(counters, "GET /api/1.0/users") >= 1
    assert served(counters, "POST /api/1.0/groups") == 2
    assert served(counters, "PUT /api/1.0/groups/*") == 1
    assert served(counters, "DELETE /api/1.0/groups/*") == 1
    assert any(key.startswith("PATCH ") for key in counters["requests"])
    assert "elsewhere" not in json.dumps(counters)
    # the group was created, renamed and deleted on the server
    assert group_named(clean_sandbox, "Ansible reviewers") is None
    assert group_named(clean_sandbox, "Ansible approvers") is None
    assert clean_sandbox.api("GET", f"/groups/{created['json']['id']}").status_code == 404


def test_status_code_lists_and_errors(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: 404 expected
              processmaker.core.pm_api:
                path: users/987654
                status_code: [404]
              register: expected_404
            - name: 404 not expected
              processmaker.core.pm_api:
                path: users/987654
              register: unexpected_404
              ignore_errors: true
            - name: 200 that was not in the list
              processmaker.core.pm_api:
                path: users
                status_code: [201, 202]
              register: unexpected_200
              ignore_errors: true
            - name: Validation errors are named
              processmaker.core.pm_api:
                method: POST
                path: groups
                body:
                  description: no name
              register: unprocessable
              ignore_errors: true
            - name: Authorization cannot be set in headers
              processmaker.core.pm_api:
                path: users
                headers:
                  Authorization: Bearer something-of-my-own
              register: own_authorization
              ignore_errors: true
            - name: all_pages is for GET
              processmaker.core.pm_api:
                method: POST
                path: groups
                all_pages: true
              register: pages_post
              ignore_errors: true
            - name: body and form do not mix
              processmaker.core.pm_api:
                method: POST
                path: groups
                body: {{name: x}}
                form: {{name: y}}
              register: body_and_form
              ignore_errors: true
            - name: path is required
              processmaker.core.pm_api:
                method: GET
              register: no_path
              ignore_errors: true
            - name: An unreachable server (a token is needed first)
              processmaker.core.pm_api:
                url: http://127.0.0.1:9
                path: users
                retries: 1
                retry_backoff: 0.1
              register: unreachable_token
              ignore_errors: true
            - name: An unreachable server, with a token at hand
              processmaker.core.pm_api:
                url: http://127.0.0.1:9
                path: users
                access_token: some-token-value-for-nowhere
                retries: 2
                retry_backoff: 0.1
              register: unreachable_api
              ignore_errors: true
            - name: An unreachable server, through the lookup
              ansible.builtin.set_fact:
                never: "{{{{ lookup('processmaker.core.pm_api', 'users', url='http://127.0.0.1:9', retries=0) }}}}"
              register: unreachable_lookup
              ignore_errors: true
            {save_result("expected_404")}
            {save_result("unexpected_404")}
            {save_result("unexpected_200")}
            {save_result("unprocessable")}
            {save_result("own_authorization")}
            {save_result("pages_post")}
            {save_result("body_and_form")}
            {save_result("no_path")}
            {save_result("unreachable_token")}
            {save_result("unreachable_api")}
            {save_result("unreachable_lookup")}
    """))
    expected = pb.result("expected_404")
    assert expected.get("failed") is not True and expected["status"] == 404
    assert_clean_failure(pb.result("unexpected_404"), "GET", "/api/1.0/users/987654", "HTTP 404", "Check the path")
    assert_clean_failure(pb.result("unexpected_200"), "HTTP 200")
    unprocessable = pb.result("unprocessable")
    assert_clean_failure(unprocessable, "HTTP 422", "name: The Name field is required")
    assert unprocessable["error"]["field_errors"] == {"name": ["The Name field is required."]}
    assert_clean_failure(pb.result("own_authorization"), "headers must not set Authorization", "access_token")
    assert_clean_failure(pb.result("pages_post"), "all_pages only works with method=GET")
    assert_clean_failure(pb.result("body_and_form"), "mutually exclusive", "body", "form")
    assert_clean_failure(pb.result("no_path"), "path")
    assert_clean_failure(pb.result("unreachable_token"), "POST http://127.0.0.1:9/oauth/token", "after 2 attempts",
                         "reachable")
    assert_clean_failure(pb.result("unreachable_api"), "GET http://127.0.0.1:9/api/1.0/users", "after 3 attempts",
                         "reachable")
    assert_clean_failure(pb.result("unreachable_lookup"), "processmaker.core.pm_api", "http://127.0.0.1:9", "reachable")
    assert served(clean_sandbox.counters(), "POST /api/1.0/groups") == 1  # only the invalid one was sent


def test_all_pages_merges_and_max_items_fails_clearly(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    for number in range(25):
        clean_sandbox.api("POST", "/groups", json={"name": f"paged {number:02d}", "status": "ACTIVE"}).raise_for_status()
    clean_sandbox.reset_counters()
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Every group, 10 per page
              processmaker.core.pm_api:
                path: groups
                query:
                  per_page: 10
                  filter: paged
                all_pages: true
              register: paged
            - name: Every group, default page size
              processmaker.core.pm_api:
                path: groups
                query:
                  filter: paged
                all_pages: true
              register: one_page
            - name: More items than allowed
              processmaker.core.pm_api:
                path: groups
                query:
                  per_page: 10
                all_pages: true
                max_items: 20
              register: too_many
              ignore_errors: true
            - name: all_pages on something that is not a list
              processmaker.core.pm_api:
                path: users/1
                all_pages: true
              register: not_a_list
            - name: The lookup merges the pages too
              ansible.builtin.set_fact:
                from_lookup: >-
                  {{{{ lookup('processmaker.core.pm_api', 'groups', query={{'per_page': 7, 'filter': 'paged'}},
                              all_pages=true) | map(attribute='name') | list }}}}
            {save_result("paged")}
            {save_result("one_page")}
            {save_result("too_many")}
            {save_result("not_a_list")}
            {save_result("from_lookup")}
    """))
    paged = pb.result("paged")
    names = [f"paged {number:02d}" for number in range(25)]
    assert [group["name"] for group in paged["data"]] == names
    assert paged["json"]["data"] == paged["data"] and paged["pages"] == 3
    assert paged["meta"]["count"] == 25 and paged["meta"]["pages_fetched"] == 3
    assert paged["meta"]["total"] == 25
    assert pb.result("one_page")["pages"] == 1 and len(pb.result("one_page")["data"]) == 25
    too_many = pb.result("too_many")
    assert_clean_failure(too_many, "max_items", "20")
    assert "data" not in too_many  # no silently truncated list
    assert pb.result("not_a_list")["json"]["username"] == "admin"
    assert pb.result("from_lookup") == names
    # 3 pages + 1 page + 1 to 3 pages until max_items was passed + 4 pages of 7 for the lookup
    assert 3 + 1 + 1 + 4 <= served(clean_sandbox.counters(), "GET /api/1.0/groups") <= 3 + 1 + 3 + 4


def test_dest_downloads_and_reports_changes(pb: Runner, clean_sandbox: SandboxProcess, tmp_path: Path) -> None:
    group = clean_sandbox.api("POST", "/groups", json={"name": "downloaded", "status": "ACTIVE"}).json()
    dest = tmp_path / "downloads" / "group.json"
    dest.parent.mkdir()
    play = f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Download
              processmaker.core.pm_api:
                path: "groups/{group['id']}"
                dest: "{dest}"
              register: download
            {save_result("download")}
    """
    ok(pb.play(play, name="download.yml"))
    first = pb.result("download")
    assert first["changed"] is True and first["status"] == 200 and first["dest"] == str(dest)
    assert "json" not in first and "content" not in first
    assert json.loads(dest.read_text()) == clean_sandbox.api("GET", f"/groups/{group['id']}").json()

    ok(pb.run(pb.tmp / "download.yml"))
    assert pb.result("download")["changed"] is False  # same content: unchanged

    clean_sandbox.api("PUT", f"/groups/{group['id']}", json={"name": "renamed", "status": "ACTIVE"}).raise_for_status()
    before = dest.read_text()
    ok(pb.run(pb.tmp / "download.yml", args=["--check"]))
    assert pb.result("download")["changed"] is True  # it would change...
    assert dest.read_text() == before  # ...but check mode wrote nothing
    ok(pb.run(pb.tmp / "download.yml"))
    assert json.loads(dest.read_text())["name"] == "renamed"
    assert not list(dest.parent.glob(".pm_api-*"))  # no temp files left behind


def test_check_mode_sends_reads_and_reports_writes(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    group = clean_sandbox.api("POST", "/groups", json={"name": "kept", "status": "ACTIVE"}).json()
    clean_sandbox.reset_counters()
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          check_mode: true
          tasks:
            - name: Read
              processmaker.core.pm_api:
                path: groups
              register: read
            - name: Create
              processmaker.core.pm_api:
                method: POST
                path: groups
                body: {{name: not created, status: ACTIVE}}
              register: create
            - name: Delete
              processmaker.core.pm_api:
                method: DELETE
                path: "groups/{group['id']}"
              register: delete
            {save_result("read")}
            {save_result("create")}
            {save_result("delete")}
    """))
    read, create, delete = pb.result("read"), pb.result("create"), pb.result("delete")
    assert read["changed"] is False and read["status"] == 200 and read["meta"]["total"] == 1
    for write in (create, delete):
        assert write["changed"] is True and "status" not in write and "check mode" in write["msg"]
    assert create["method"] == "POST" and create["url"] == clean_sandbox.api_url + "/groups"
    counters = clean_sandbox.counters()
    assert served(counters, "GET /api/1.0/groups") == 1
    assert served(counters, "POST /api/1.0/groups") == 0
    assert served(counters, "DELETE /api/1.0/groups/*") == 0
    assert group_named(clean_sandbox, "kept") is not None
    assert group_named(clean_sandbox, "not created") is None


# ---------------------------------------------------------------------------------------------
# forms and uploads


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict] = []  # noqa: RUF012 - one list per server class, see echo_server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.requests.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
        body = json.dumps({"received": len(self.requests)}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[tuple[str, list[dict]]]:
    handler = type("EchoRecorder", (Recorder,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


def test_form_and_multipart_files(pb: Runner, clean_sandbox: SandboxProcess, tmp_path: Path,
                                  echo_server: tuple[str, list[dict]]) -> None:
    echo_url, received = echo_server
    upload = tmp_path / "process export.json"
    upload.write_bytes(b'{"type": "process_package", "version": "2"}\n\x00\xffbinary tail')
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Form fields, urlencoded
              processmaker.core.pm_api:
                method: POST
                path: groups
                form:
                  name: from a form
                  status: ACTIVE
                status_code: [201]
              register: urlencoded
            - name: Form fields and a file, multipart (the sandbox reads the fields, ignores the file)
              processmaker.core.pm_api:
                method: POST
                path: groups
                form:
                  name: from multipart
                  status: ACTIVE
                files:
                  file: "{upload}"
                status_code: [201]
              register: multipart
            - name: The same multipart request, seen on the wire by an echo server
              processmaker.core.pm_api:
                url: "{echo_url}"
                access_token: a-bearer-token-for-the-echo-server
                method: POST
                path: /upload
                headers:
                  X-Request-Source: ansible-test
                form:
                  kind: package
                files:
                  file: "{upload}"
              register: echoed
            - name: A file that is not there
              processmaker.core.pm_api:
                method: POST
                path: groups
                files:
                  file: "{tmp_path}/missing.json"
              register: missing
              ignore_errors: true
            {save_result("urlencoded")}
            {save_result("multipart")}
            {save_result("echoed")}
            {save_result("missing")}
    """))
    assert pb.result("urlencoded")["json"]["name"] == "from a form"
    assert pb.result("multipart")["json"]["name"] == "from multipart"
    assert group_named(clean_sandbox, "from a form")["status"] == "ACTIVE"
    assert group_named(clean_sandbox, "from multipart")["status"] == "ACTIVE"

    assert pb.result("echoed")["status"] == 201 and pb.result("echoed")["json"] == {"received": 1}
    (request,) = received
    headers = {key.lower(): value for key, value in request["headers"].items()}
    assert request["path"] == "/upload"
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert headers["authorization"] == "Bearer a-bearer-token-for-the-echo-server"
    assert headers["x-request-source"] == "ansible-test" and headers["accept"] == "application/json"
    body = request["body"]
    assert b'name="kind"\r\n\r\npackage\r\n' in body
    assert b'name="file"; filename="process export.json"' in body
    assert upload.read_bytes() in body
    assert_clean_failure(pb.result("missing"), "cannot read or write a local file", "missing.json")
    assert served(clean_sandbox.counters(), "POST /api/1.0/groups") == 2  # the missing file was never sent


def test_pm_api_authenticates_itself_from_the_environment(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """Without access_token each task gets its own token (the lookup shares one; see test_lookups)."""
    ok(pb.play("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_api:
                path: users
            - processmaker.core.pm_api:
                path: groups
    """))
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"password": 2}
    assert served(counters, "GET /api/1.0/users") == 1 and served(counters, "GET /api/1.0/groups") == 1
