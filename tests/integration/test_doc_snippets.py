"""Every ```yaml block of every guide in docs/ runs against the sandbox, as written, and does what it says.

Blocks are numbered per file from 1 (``authentication-3`` is the third ```yaml block of
docs/authentication.md). A block becomes a playbook by the rules of ``test_role_examples`` (the reader's
reading of it):

1. a list of plays runs as it is;
2. a list of tasks runs in a play on localhost (``test_examples.as_playbook``), the server and the login
   coming from the sandbox's ``PM_*`` environment variables, as the guides say;
3. a mapping of play keywords (``module_defaults:`` ...) shows how the file's first play (its first block
   of rule 1) changes: that play runs with those keys replaced.

A block of any other shape fails ``test_every_block_is_a_playbook``, and a block without an entry in
``SNIPPETS`` (or an entry without its block) fails ``test_every_block_is_checked``: a new snippet cannot
be skipped silently. ``test_yaml_fences_are_plain_yaml`` makes sure no YAML hides behind another fence
(```yml, ```yaml+jinja).

Each run gets the sandbox's ``PM_*`` variables and, as extra variables, those of ``test_examples``
(``pm_*``, ``READER_SUPPLIED``, the ``staging``/``production`` logins: the test's sandbox and a second one,
reset first), the values a reader supplies (``ROLE_READER_SUPPLIED``, ``DOC_READER_SUPPLIED``, or made by a
precondition: secrets, for the leak guard) and the Runner's ``secrets_dir``. What a snippet presupposes
(the doc says so next to it: a user, a package file, a personal access token...) is made first by its
``setup``; ``observe`` keeps registered results for the check (no_log, 0600 files). Then its ``check``
asserts, through the API (``/api/1.0``) and the sandbox's counters, what the snippet and the text around it
claim; several run the playbook again, as the text says (an unchanged second run, ``--check --diff``).

The AWX page's two blocks are run the way AWX would run them: the credential type play against a
collection installed from a tarball built from this checkout the way the quickstart says (into a private
``HOME``), with a stand-in ``awx.awx.credential_type`` module that records what it was given (there is no
AWX here); the job template play through ``ansible_runner`` with the environment that credential type
injects (``test_awx_runner.inject``).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from approve_in_browser import approve
from pm_integration import (
    REPO_ROOT,
    PlaybookRun,
    Runner,
    ok,
    run_playbook_in_terminal,
    save_result,
    served,
)
from pm_sandbox.testing import SandboxProcess
from test_awx_runner import inject, load_credential_type
from test_examples import (
    READER_SUPPLIED,
    SERVER_LOGINS,
    as_playbook,
    defined_vars,
    example_vars,
    jinja_names,
    needs_a_person,
    second_sandbox,  # noqa: F401 - the fixture of the production server, requested by name
    server_login,
    used_vars,
)
from test_playbooks import assert_demo_configuration
from test_pm_package import build_world
from test_requests_tasks import (
    APPROVED_END,
    PACKAGE,
    approval_world,
    ended_at,
    requests_listed,
    tasks_of,
)
from test_role_examples import (
    EXPORT_LOAN_REQUEST,
    PLAY_KEYWORDS,
    ROLE_READER_SUPPLIED,
    YAML_BLOCK,
    listed,
    live_token_ids,
    loan_request_package,
    memberships,
    names,
    observation,
    refused,
    secret_values,
    status_of,
    task_outcomes,
    user,
    writes,
)

DOCS = REPO_ROOT / "docs"
ANSIBLE_GALAXY = str(Path(sys.executable).with_name("ansible-galaxy"))
FENCE = re.compile(r"^```(\S*)", re.MULTILINE)

# Values the guides' examples expect a reader to supply (from a vault, say): secrets, for the leak guard.
DOC_READER_SUPPLIED: dict[str, object] = {
    "vault_package_password": "Doc-Package-Passw0rd!",
    "auditor_password": "Doc-Auditor-Passw0rd!",
}


@dataclass(frozen=True)
class Block:
    doc: str  # the file's stem
    number: int  # its position among the file's ```yaml blocks, from 1
    text: str

    @property
    def key(self) -> str:
        return f"{self.doc}-{self.number}"


def doc_blocks() -> list[Block]:
    blocks = []
    for page in sorted(DOCS.glob("*.md")):
        for number, match in enumerate(YAML_BLOCK.finditer(page.read_text()), 1):
            blocks.append(Block(page.stem, number, textwrap.dedent(match.group(1))))
    return blocks


BLOCKS = doc_blocks()


def is_plays(document: object) -> bool:
    return isinstance(document, list) and bool(document) and all(
        isinstance(item, dict) and "hosts" in item for item in document)


def first_play(doc: str) -> dict:
    for block in BLOCKS:
        if block.doc == doc and is_plays(plays := yaml.safe_load(block.text)):
            return plays[0]
    raise AssertionError(f"docs/{doc}.md has no full play for its fragments to change")


def playbook_of(block: Block) -> list[dict]:
    """The block as plays, by the rules of the module docstring; anything else is an error."""
    document = yaml.safe_load(block.text)
    if isinstance(document, list) and document and all(isinstance(item, dict) for item in document):
        return as_playbook(block.text)  # rule 1 (plays as they are) or rule 2 (tasks in a play)
    if isinstance(document, dict) and document and set(document) <= PLAY_KEYWORDS:  # rule 3
        play = dict(first_play(block.doc))
        play.update(document)
        return [play]
    raise AssertionError(f"{block.key}: neither plays, tasks nor a mapping of play keywords; this test does not"
                         " know how to run it (add a rule, and a check that uses it)")


# ---------------------------------------------------------------------------------------------
# One snippet's run


@dataclass
class Snippet:
    block: Block
    sandbox: SandboxProcess
    pb: Runner
    request: pytest.FixtureRequest
    env: dict | None = None  # None: the Runner's (the sandbox's PM_* variables)
    inventory: str | None = None
    inventory_vars: set[str] = field(default_factory=set)  # pm_* variables the inventory sets
    supplied: dict[str, object] = field(default_factory=dict)  # reader-supplied values a setup made
    playbook: Path | None = None
    extra: dict | None = None
    run: PlaybookRun | None = None
    counters: dict | None = None

    @property
    def production(self) -> SandboxProcess:
        return self.request.getfixturevalue("second_sandbox")

    @property
    def admin(self) -> dict:
        return self.sandbox.credentials["admin"]

    def packages(self) -> Path:
        path = self.pb.tmp / "packages"
        path.mkdir(exist_ok=True)
        return path

    def rerun(self, args: list[str] | None = None) -> tuple[PlaybookRun, dict]:
        """The same playbook again (with more ``ansible-playbook`` arguments): its run and the counters of that run."""
        self.sandbox.reset_counters()
        run = ok(self.pb.run(self.playbook, env=self.env, extra_vars=self.extra, args=args, inventory=self.inventory))
        return run, self.sandbox.counters()

    def play(self, text: str, name: str, **extra: object) -> PlaybookRun:
        """A play of the test's own (not the doc's), with the snippet's environment."""
        return self.pb.play(text, env=self.env, extra_vars={**(self.extra or {}), **extra}, name=name)


def created(response) -> dict:
    assert response.status_code in (200, 201), (response.status_code, response.text[:300])
    return response.json()


def create_user(snippet: Snippet, username: str, password: str = "Doc-User-Passw0rd!") -> dict:
    return created(snippet.sandbox.api("POST", "/users", json={
        "username": username, "firstname": username.split("-")[0].title(), "lastname": "Example",
        "email": f"{username}@example.com", "password": password, "status": "ACTIVE"}))


def admin_token_for(sandbox: SandboxProcess, name: str) -> str:
    """A personal access token of the administrator, made through the API."""
    admin_id = sandbox.credentials["admin"]["id"]
    return created(sandbox.api("POST", f"/users/{admin_id}/tokens", json={"name": name}))["accessToken"]


def the_person(snippet: Snippet) -> Callable[[str], str | None]:
    """The person at the keyboard of a pause prompt showing an authorization URL: approves it (signing in as
    the administrator) and pastes the URL the browser was sent back to."""
    def respond(screen: str) -> str | None:
        match = re.search(r"Open (http\S+/oauth/authorize\?\S+)", screen)
        if not match or not screen.rstrip().endswith(":"):
            return None
        callback = approve(match.group(1), snippet.admin["username"], snippet.admin["password"])
        snippet.pb.guard.add(callback, "callback URL the person pasted")
        return callback
    return respond


# ---------------------------------------------------------------------------------------------
# authentication.md


def password_login_then_users(snippet: Snippet) -> None:
    """authentication-1: one password-grant token, reported unchanged, used by Step 4."""
    counters = snippet.counters
    assert counters["tokens_issued"] == {"password": 1}, counters["tokens_issued"]
    assert counters["statuses"]["GET /api/1.0/users"] == {"200": 1}
    assert refused(counters) == {}, refused(counters)
    # "Issuing a token is reported as unchanged" (the play the test adds to keep the result writes a file)
    assert task_outcomes(snippet.run, "Log in with the password grant") == ["ok"], snippet.run.tail()
    login = snippet.pb.secret("login")
    assert login["token_type"] == "Bearer" and login["refresh_token"] and login["expires_at"]
    assert login["user"]["username"] == snippet.admin["username"]
    assert status_of(snippet.sandbox, "/users", login["access_token"]) == 200


def code_flow_with_pkce(snippet: Snippet) -> None:
    """authentication-2: the person approved the consent page once; the code became a token acting as them."""
    counters = snippet.counters
    assert counters["tokens_issued"] == {"authorization_code": 1}, counters["tokens_issued"]
    assert served(counters, "POST /oauth/authorize") == 1  # the consent page was approved
    login = snippet.pb.secret("login")
    assert login["user"]["username"] == snippet.admin["username"] and login["refresh_token"]
    assert status_of(snippet.sandbox, "/users", login["access_token"]) == 200
    assert "(output is hidden)" in snippet.run.stdout  # echo: false


def admin_pat_in_secrets_dir(snippet: Snippet) -> None:
    path = snippet.pb.secrets_dir / "ci.token"
    path.write_text(admin_token_for(snippet.sandbox, "ci"))
    path.chmod(0o600)


def pat_from_a_file(snippet: Snippet) -> None:
    """authentication-3: the token from the file was the Bearer token: no token request at all."""
    counters = snippet.counters
    assert counters["tokens_issued"] == {} and served(counters, "POST /oauth/token") == 0, counters["tokens_issued"]
    assert counters["statuses"]["GET /api/1.0/users"] == {"200": 1}
    assert refused(counters) == {}, refused(counters)


def ci_pipeline_user(snippet: Snippet) -> None:
    create_user(snippet, "ci-pipeline")


def pat_created_checked_revoked(snippet: Snippet) -> None:
    """authentication-4: a token named deploy was made for ci-pipeline, worked, and is revoked."""
    counters = snippet.counters
    ci = user(snippet.sandbox, "ci-pipeline")
    assert counters["tokens_issued"].get("personal_access") == 1, counters["tokens_issued"]
    assert served(counters, "POST /api/1.0/users/*/tokens") == 1
    assert counters["statuses"]["DELETE /api/1.0/users/{user}/tokens/{tokenId}"] == {"204": 1}, counters["statuses"]
    pat = snippet.pb.secret("pat")["access_token"]
    assert live_token_ids(snippet.sandbox, ci["id"]) == []
    assert status_of(snippet.sandbox, f"/users/{ci['id']}", pat) == 401
    assert refused(counters) == {}, refused(counters)  # the check of the token (before the revocation) worked


def a_saved_refresh_token(snippet: Snippet) -> None:
    login = snippet.sandbox.password_token()
    snippet.supplied["saved_refresh_token"] = login["refresh_token"]
    snippet.supplied["old_access_token"] = login["access_token"]  # not given to the play: for the check
    snippet.pb.guard.add(login["refresh_token"], "saved refresh token")
    snippet.pb.guard.add(login["access_token"], "access token of the saved refresh token")


def refresh_rotates(snippet: Snippet) -> None:
    """authentication-5: one refresh; the new pair works, the old pair is revoked, and the old refresh token is
    refused the way the doc says (401 invalid_request "The refresh token is invalid." / "Token has been revoked")."""
    assert snippet.counters["tokens_issued"] == {"refresh_token": 1}, snippet.counters["tokens_issued"]
    renewed = snippet.pb.secret("renewed")
    old_refresh, old_access = snippet.supplied["saved_refresh_token"], snippet.supplied["old_access_token"]
    assert renewed["refresh_token"] and renewed["refresh_token"] != old_refresh
    assert status_of(snippet.sandbox, "/users", renewed["access_token"]) == 200
    assert status_of(snippet.sandbox, "/users", old_access) == 401
    client = snippet.sandbox.credentials["password_client"]
    again = snippet.sandbox.session().post(snippet.sandbox.token_url, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": old_refresh,
        "client_id": client["client_id"], "client_secret": client["client_secret"]})
    body = again.json()
    assert again.status_code == 401, again.text
    assert (body["error"], body["error_description"], body["hint"]) == (
        "invalid_request", "The refresh token is invalid.", "Token has been revoked"), body
    page = " ".join((DOCS / "authentication.md").read_text().split())
    assert '401 `invalid_request`, "The refresh token is invalid."' in page and '"Token has been revoked"' in page


APP_SERVERS = ("app1", "app2", "app3")


def app_servers_inventory(snippet: Snippet) -> None:
    """Three hosts in app_servers, each with the id of its own deploying user as pm_user_id."""
    hosts = {}
    for host in APP_SERVERS:
        hosts[host] = {"pm_user_id": create_user(snippet, f"{host}-deployer")["id"]}
    path = snippet.pb.tmp / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"app_servers": {"hosts": hosts}}}}))
    snippet.inventory, snippet.inventory_vars = str(path), {"pm_user_id"}


def one_token_for_every_host(snippet: Snippet) -> None:
    """authentication-6: three hosts, three API calls, one token request (the lookup's private cache)."""
    counters = snippet.counters
    assert counters["tokens_issued"] == {"password": 1}, counters["tokens_issued"]
    assert counters["statuses"]["GET /api/1.0/users/{user}"] == {"200": 3}, counters["statuses"]
    assert snippet.run.recap("app3")["ok"] == 1
    # the cache the three lookups shared: private (0700), its files 0600
    assert stat.S_IMODE(snippet.pb.cache_dir.stat().st_mode) == 0o700
    files = [path for path in snippet.pb.cache_dir.rglob("*") if path.is_file()]
    assert files and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files), files


def task_url_wins(snippet: Snippet) -> None:
    """authentication-7: the task's url (staging) won over the group's (production); the login came from PM_*."""
    counters = snippet.counters
    assert counters["tokens_issued"] == {"password": 1}, counters["tokens_issued"]
    assert counters["statuses"]["GET /api/1.0/users"] == {"200": 1}
    assert snippet.production.counters()["requests"] == {}


# ---------------------------------------------------------------------------------------------
# awx.md


def installed_collection(tmp: Path) -> Path:
    """The quickstart's install from a checkout: ``ansible-galaxy collection build`` here, then
    ``ansible-galaxy collection install`` of the tarball, into a private HOME's default collections path.
    Returns that HOME."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PM_", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_HOME", "ANSIBLE_CONFIG"))}
    env["HOME"] = str(home)
    dist = tmp / "dist"

    def galaxy(*args: str) -> None:
        done = subprocess.run([ANSIBLE_GALAXY, "collection", *args], env=env, cwd=tmp, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    galaxy("build", "--output-path", str(dist), str(REPO_ROOT))
    [tarball] = dist.glob("processmaker-core-*.tar.gz")
    galaxy("install", str(tarball))
    installed = home / ".ansible" / "collections" / "ansible_collections" / "processmaker" / "core"
    assert (installed / "MANIFEST.json").is_file(), sorted(home.rglob("*"))[:20]
    return home


STANDIN_MODULE = '''#!/usr/bin/python
"""Stand-in for awx.awx.credential_type (no AWX here): the real module's options; records what it got."""
import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(
        name=dict(type="str", required=True), new_name=dict(type="str"), description=dict(type="str"),
        kind=dict(type="str", choices=["ssh", "vault", "net", "scm", "cloud", "insights"]),
        inputs=dict(type="dict"), injectors=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent", "exists"]),
    ), supports_check_mode=True)
    with open(os.environ["AWX_STANDIN_RECORD"], "w") as handle:
        json.dump(module.params, handle)
    module.exit_json(changed=True, id=1, name=module.params["name"])


if __name__ == "__main__":
    main()
'''


def awx_collection_installed(snippet: Snippet) -> None:
    home = installed_collection(snippet.pb.tmp)
    standins = snippet.pb.tmp / "standins"
    module = standins / "ansible_collections" / "awx" / "awx" / "plugins" / "modules" / "credential_type.py"
    module.parent.mkdir(parents=True)
    module.write_text(STANDIN_MODULE)
    collections = f"{standins}:{home / '.ansible' / 'collections'}"
    snippet.env = snippet.pb.env(HOME=str(home), ANSIBLE_COLLECTIONS_PATH=collections,
                                 AWX_STANDIN_RECORD=str(snippet.pb.tmp / "credential_type.json"))


def credential_type_as_shipped(snippet: Snippet) -> None:
    """awx-1: the module got the installed collection's credential type, field for field, with its injector
    templates untouched (AWX renders them, not Ansible); rendered AWX's way they give the PM_* variables."""
    given = json.loads((snippet.pb.tmp / "credential_type.json").read_text())
    shipped = load_credential_type()
    installed = yaml.safe_load((Path(snippet.env["HOME"]) / ".ansible/collections/ansible_collections/processmaker"
                                "/core/extensions/awx/credential_type.yml").read_text())
    assert installed == shipped
    assert {key: given[key] for key in ("name", "description", "kind", "inputs", "injectors")} == {
        key: shipped[key] for key in ("name", "description", "kind", "inputs", "injectors")}
    assert given["state"] == "present"
    env = inject(given, {"url": "https://pm.example.com", "username": "jdoe", "password": "x" * 12},
                 snippet.pb.tmp / "awx-job")
    assert (env["PM_URL"], env["PM_USERNAME"], env["PM_PASSWORD"], env["PM_TOKEN"]) == (
        "https://pm.example.com", "jdoe", "x" * 12, "")
    assert snippet.counters["requests"] == {}  # nothing went to ProcessMaker


def job_template_through_ansible_runner(snippet: Snippet, plays: list[dict]) -> None:
    """awx-2 runs as an AWX job: ansible_runner, PM_* only from the credential type's injectors."""
    ansible_runner = pytest.importorskip("ansible_runner")
    creds = snippet.sandbox.credentials
    inputs = {"url": creds["url"], "client_id": creds["password_client"]["client_id"],
              "client_secret": creds["password_client"]["client_secret"],
              "username": creds["admin"]["username"], "password": creds["admin"]["password"],
              "validate_certs": "true"}
    job = snippet.pb.tmp / "awx-job"
    (job / "project").mkdir(parents=True)
    (job / "project" / "job.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    (job / "inventory").mkdir()
    (job / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    job_env = {name: value for name, value in snippet.pb.env().items() if not name.startswith("PM_")}
    job_env.update({"ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "tests" / "output" / "collections"),
                    "ANSIBLE_CONFIG": str(REPO_ROOT / "tools" / "ansible.cfg"),
                    "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_LOCAL_TEMP": str(snippet.pb.tmp / "ansible-local"),
                    "PM_TOKEN_CACHE_DIR": str(snippet.pb.cache_dir),
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")})
    (job / "env").mkdir(exist_ok=True)
    (job / "env" / "envvars").write_text(yaml.safe_dump({**job_env, **inject(load_credential_type(), inputs, job)}))
    saved = {name: os.environ.pop(name) for name in [name for name in os.environ if name.startswith("PM_")]}
    try:
        result = ansible_runner.run(private_data_dir=str(job), playbook="job.yml",
                                    inventory=str(job / "inventory" / "hosts"), verbosity=3, quiet=True,
                                    ident="doc-job", timeout=300)
    finally:
        os.environ.update(saved)
    stdout = result.stdout.read()
    events = json.dumps(list(result.events))
    snippet.run = PlaybookRun(result.rc or 0, stdout, "", ["ansible-playbook", "-vvv", "(ansible-runner)"])
    snippet.pb.guard.record("ansible-runner stdout", snippet.run)
    snippet.pb.guard.record("ansible-runner events", PlaybookRun(0, events, "", ["ansible-playbook", "-vvv"]))
    assert result.status == "successful" and result.rc == 0, stdout[-3000:]
    counters = snippet.sandbox.counters()
    assert counters["tokens_issued"] == {"password": 1}, counters["tokens_issued"]
    assert counters["statuses"]["GET /api/1.0/users"] == {"200": 1}


# ---------------------------------------------------------------------------------------------
# configuration.md


def jdoe_exists(snippet: Snippet) -> None:
    create_user(snippet, "jdoe")


def groups_and_memberships(snippet: Snippet) -> None:
    """configuration-1: the groups and both memberships, each written once; a second run writes nothing."""
    sandbox = snippet.sandbox
    groups = {item["name"]: item for item in listed(sandbox, "/groups")}
    assert sorted(groups) == ["EMEA", "Sales"] and groups["Sales"]["description"] == "Sales team"
    assert memberships(sandbox) == {("Sales", "user", "jdoe"), ("Sales", "group", "EMEA")}
    assert writes(snippet.counters) == {"POST /api/1.0/groups": 2, "POST /api/1.0/group_members": 2}
    second, counters = snippet.rerun()
    assert second.recap()["changed"] == 0, second.tail()
    assert writes(counters) == {}, writes(counters)


def package_and_a_group_to_purge(snippet: Snippet) -> None:
    loan_request_package(snippet)  # packages/loan_request.json, exported from a server that is then reset
    created(snippet.sandbox.api("POST", "/groups", json={"name": "Old team", "description": "left over"}))


def whole_instance_configured(snippet: Snippet) -> None:
    """configuration-3: everything configure_config declares is on the server once, the unlisted group was
    purged, the initial password works; a second run changes nothing and writes nothing."""
    sandbox = snippet.sandbox
    setting = [item for item in listed(sandbox, "/settings", filter="session.lifetime") if item["key"] == "session.lifetime"]
    assert [str(item["config"]) for item in setting] == ["60"]
    assert names(sandbox, "/process_categories").count("Finance") == 1
    assert names(sandbox, "/environment_variables") == ["crm_api_url"]
    assert names(sandbox, "/groups") == ["EMEA", "Sales"]  # Old team purged
    assert served(snippet.counters, "DELETE /api/1.0/groups/*") == 1
    jdoe = user(sandbox, "jdoe")
    assert (jdoe["firstname"], jdoe["lastname"], jdoe["email"]) == ("Jane", "Doe", "jdoe@example.com")
    assert memberships(sandbox) == {("Sales", "user", "jdoe")}
    assert [p["name"] for p in listed(sandbox, "/processes")] == ["Loan Request"]
    assert served(snippet.counters, "POST /api/1.0/import/do-import") == 1
    assert sandbox.password_token("jdoe", str(ROLE_READER_SUPPLIED["vault_initial_password"]))["access_token"]
    assert snippet.counters["tokens_issued"] == {"password": 1}  # the token role's one login
    second, counters = snippet.rerun()
    assert second.recap()["changed"] == 0, second.tail()
    assert writes(counters) == {"POST /api/1.0/import/preview": 1}, writes(counters)  # the preview only reads


EMPLOYEES = 40


def employees_export(snippet: Snippet) -> None:
    """files/employees.json beside the playbook: the users an HR export would list, each with a password."""
    employees = [{"username": f"emp{n:03d}", "firstname": "Em", "lastname": f"Ployee {n}",
                  "email": f"emp{n:03d}@example.com", "password": f"Doc-Employee-Passw0rd-{n:03d}!"}
                 for n in range(EMPLOYEES)]
    for employee in employees:
        snippet.pb.guard.add(employee["password"], "an employee's password from the items file")
    (snippet.pb.tmp / "files").mkdir(exist_ok=True)
    (snippet.pb.tmp / "files" / "employees.json").write_text(json.dumps(employees))


def employees_converged(snippet: Snippet) -> None:
    """configuration-2: every employee created once from the file, with its password; the debug task says so;
    a second run writes nothing and says every employee is unchanged."""
    sandbox = snippet.sandbox
    assert {f"emp{n:03d}" for n in range(EMPLOYEES)} <= set(names_of_users(sandbox))
    assert writes(snippet.counters) == {"POST /api/1.0/users": EMPLOYEES}, writes(snippet.counters)
    assert sandbox.password_token("emp007", "Doc-Employee-Passw0rd-007!")["access_token"]
    assert f"{EMPLOYEES} created, 0 updated, 0 unchanged" in snippet.run.stdout, snippet.run.tail()
    second, counters = snippet.rerun()
    assert second.recap()["changed"] == 0 and writes(counters) == {}, second.tail()
    assert f"0 created, 0 updated, {EMPLOYEES} unchanged" in second.stdout, second.tail()


def names_of_users(sandbox: SandboxProcess) -> list:
    return [item["username"] for item in listed(sandbox, "/users")]


# ---------------------------------------------------------------------------------------------
# promotion.md

PACKAGE_ASSETS = {("Process", "Loan Request"), ("Screen", "Loan Form"), ("Script", "Score Applicant"),
                  ("ProcessCategory", "Finance"), ("ScreenCategory", "Forms"), ("ScriptCategory", "Tools")}


def package_file(snippet: Snippet) -> dict:
    path = snippet.pb.tmp / "packages" / "loan_request.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())


def packages_folder(snippet: Snippet) -> None:
    snippet.packages()


def staging_has_loan_request(snippet: Snippet) -> None:
    build_world(snippet.sandbox)
    snippet.packages()


def process_screen_script_created_and_exported(snippet: Snippet) -> None:
    """promotion-1: a process in Finance whose BPMN names the screen (in Forms) and the script (in Tools, run
    as the play's user); its export holds all six assets."""
    sandbox = snippet.sandbox
    categories = {path: {item["name"]: item["id"] for item in listed(sandbox, f"/{path}")}
                  for path in ("process_categories", "screen_categories", "script_categories")}
    [process] = listed(sandbox, "/processes")
    [screen] = listed(sandbox, "/screens")
    [script] = listed(sandbox, "/scripts")
    assert (process["name"], str(process["process_category_id"])) == (
        "Loan Request", str(categories["process_categories"]["Finance"]))
    assert (screen["title"], screen["type"], str(screen["screen_category_id"])) == (
        "Loan Form", "FORM", str(categories["screen_categories"]["Forms"]))
    assert (script["title"], script["language"], script["run_as_user_id"], str(script["script_category_id"])) == (
        "Score Applicant", "php", snippet.admin["id"], str(categories["script_categories"]["Tools"]))
    bpmn = sandbox.api("GET", f"/processes/{process['id']}/bpmn").text
    assert f'pm:screenRef="{screen["id"]}"' in bpmn and f'pm:scriptRef="{script["id"]}"' in bpmn
    assert writes(snippet.counters) == {
        "POST /api/1.0/process_categories": 1, "POST /api/1.0/screen_categories": 1,
        "POST /api/1.0/script_categories": 1, "POST /api/1.0/screens": 1, "POST /api/1.0/scripts": 1,
        "POST /api/1.0/processes": 1, "POST /api/1.0/export/{type}/download/{id}": 1}, writes(snippet.counters)
    package = package_file(snippet)
    assert {(asset["type"], asset["name"]) for asset in package["export"].values()} == PACKAGE_ASSETS


def exported_once(snippet: Snippet) -> None:
    """promotion-2: the package of Loan Request (with its screens, script, categories) written once; exporting
    the unchanged process again is changed=false and downloads nothing."""
    package = package_file(snippet)
    assert package["name"] == "Loan Request"
    assert PACKAGE_ASSETS <= {(asset["type"], asset["name"]) for asset in package["export"].values()}
    assert served(snippet.counters, "POST /api/1.0/export/*/download/*") == 1
    second, counters = snippet.rerun()
    assert second.recap()["changed"] == 0, second.tail()
    assert served(counters, "POST /api/1.0/export/*/download/*") == 0


def imported_once(snippet: Snippet) -> None:
    """promotion-3: the process and its screens arrive once, the debug names its id; importing the same package
    again reads the preview and writes nothing."""
    sandbox = snippet.sandbox
    [process] = listed(sandbox, "/processes")
    assert process["name"] == "Loan Request"
    assert names(sandbox, "/screens", "title") == ["Cancel Notice", "Loan Form"]
    assert served(snippet.counters, "POST /api/1.0/import/do-import") == 1
    assert f"Loan Request is process {process['id']} (" in snippet.run.stdout
    second, counters = snippet.rerun()
    assert second.recap()["changed"] == 0, second.tail()
    assert writes(counters) == {"POST /api/1.0/import/preview": 1}, writes(counters)


def exported_into_a_server_that_has_it(snippet: Snippet) -> None:
    build_world(snippet.sandbox)
    snippet.packages()
    ok(snippet.pb.play(EXPORT_LOAN_REQUEST, name="precondition-export.yml"))
    snippet.supplied["screen_categories_before"] = listed(snippet.sandbox, "/screen_categories")


def discarded_and_copied(snippet: Snippet) -> None:
    """promotion-4: the screen category was left as it was (discard), the script was copied (a second one),
    the rest updated in place (still one process)."""
    sandbox = snippet.sandbox
    assert listed(sandbox, "/screen_categories") == snippet.supplied["screen_categories_before"]
    scripts = names(sandbox, "/scripts", "title")
    assert len(scripts) == 2 and scripts[0] == "Score Applicant" and all("Score Applicant" in s for s in scripts), scripts
    assert [p["name"] for p in listed(sandbox, "/processes")] == ["Loan Request"]
    assert served(snippet.counters, "POST /api/1.0/import/do-import") == 1
    assert snippet.run.recap()["changed"] == 1, snippet.run.tail()


WRONG_PASSWORDS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Import with a wrong password
      processmaker.core.pm_package:
        state: imported
        src: "{{ playbook_dir }}/packages/loan_request.json"
        package_password: "{{ wrong_password }}"
      register: r_wrong
      ignore_errors: true
    - name: Import without the password
      processmaker.core.pm_package:
        state: imported
        src: "{{ playbook_dir }}/packages/loan_request.json"
      register: r_missing
      ignore_errors: true
""" + "\n".join("    " + save_result(name, name) for name in ("r_wrong", "r_missing")) + "\n"


def encrypted_package(snippet: Snippet) -> None:
    """promotion-5: the file is encrypted, the import with the password reads the preview (already installed:
    unchanged), and a wrong or missing password fails with the message the doc quotes."""
    package = package_file(snippet)
    assert package["encrypted"] is True and isinstance(package["export"], str)
    assert served(snippet.counters, "POST /api/1.0/export/*/download/*") == 1
    assert snippet.counters["statuses"]["POST /api/1.0/import/preview"] == {"200": 1}
    assert served(snippet.counters, "POST /api/1.0/import/do-import") == 0
    wrong = "Not-The-Package-Passw0rd!"
    snippet.pb.guard.add(wrong, "wrong package password")
    ok(snippet.play(WRONG_PASSWORDS, "wrong-passwords.yml", wrong_password=wrong))
    for name in ("r_wrong", "r_missing"):
        message = snippet.pb.result(name)["msg"]
        assert message.startswith("the server cannot open the package: ") and message.endswith(
            "; check package_password"), message
    assert "cannot open the package: <what the server said>; check package_password" in " ".join(
        (DOCS / "promotion.md").read_text().split())


def staging_world_and_production_pat(snippet: Snippet) -> None:
    staging_has_loan_request(snippet)
    token = admin_token_for(snippet.production, "deploy")
    snippet.pb.guard.add(token, "production personal access token")
    snippet.env = snippet.pb.env(PM_PRODUCTION_TOKEN=token)
    snippet.production.reset_counters()


def promoted_with_two_logins(snippet: Snippet) -> None:
    """promotion-6: exported from staging with its login, imported into production with its personal access
    token (no login there)."""
    production = snippet.production.counters()
    assert production["tokens_issued"] == {}, production["tokens_issued"]
    assert served(production, "POST /api/1.0/import/do-import") == 1 and refused(production) == {}
    assert [p["name"] for p in listed(snippet.production, "/processes")] == ["Loan Request"]
    assert snippet.counters["tokens_issued"] == {"password": 1}
    assert served(snippet.counters, "POST /api/1.0/export/*/download/*") == 1
    assert package_file(snippet)["name"] == "Loan Request"


# ---------------------------------------------------------------------------------------------
# quickstart.md


def first_playbook(snippet: Snippet) -> None:
    """quickstart-1: the users listed and shown, the group made the first time only; --check --diff and a
    second run change nothing."""
    groups = listed(snippet.sandbox, "/groups")
    assert [(g["name"], g["description"]) for g in groups] == [("Sales", "Sales team")]
    assert snippet.counters["statuses"]["GET /api/1.0/users"] == {"200": 1}
    shown = re.search(r"^TASK \[Show their names\].*?^ok: \[localhost\] => (\{.*?^\})", snippet.run.stdout,
                      re.MULTILINE | re.DOTALL)
    assert shown and json.loads(shown.group(1))["msg"] == [snippet.admin["username"]], snippet.run.tail()
    assert snippet.run.recap()["changed"] == 1
    for args in (["--check", "--diff"], None):
        again, counters = snippet.rerun(args)
        assert again.recap()["changed"] == 0, again.tail()
        assert writes(counters) == {}, writes(counters)


def no_pm_variables(snippet: Snippet) -> None:
    snippet.env = snippet.pb.env(**{name: None for name in ("PM_URL", "PM_CLIENT_ID", "PM_CLIENT_SECRET",
                                                            "PM_USERNAME", "PM_PASSWORD")})


def module_defaults_instead_of_env(snippet: Snippet) -> None:
    """quickstart-2: first.yml with the module_defaults block and no PM_* variable at all works the same."""
    assert names(snippet.sandbox, "/groups") == ["Sales"]
    assert snippet.counters["statuses"]["GET /api/1.0/users"] == {"200": 1}
    assert set(snippet.counters["tokens_issued"]) == {"password"}  # each task logged in by itself


# ---------------------------------------------------------------------------------------------
# bootstrap.md


def pipeline_client(snippet: Snippet) -> dict:
    """The client file the bootstrap wrote: its secret joins the leak guard."""
    client = json.loads((snippet.pb.secrets_dir / "ci-pipeline.json").read_text())
    snippet.pb.guard.add(client["client_secret"], "the pipeline client's secret")
    return client


def password_grant_status(sandbox: SandboxProcess, client: dict, username: str, password: str) -> int:
    response = sandbox.session().post(sandbox.token_url, data={
        "grant_type": "password", "client_id": client["client_id"], "client_secret": client["client_secret"],
        "username": username, "password": password, "scope": "*"}, timeout=30)
    return response.status_code


def bootstrapped(snippet: Snippet) -> None:
    """bootstrap-1: the client exists (0600 file, its password grant works); the group holds its two
    permissions; the auditor may list users and nothing else; the executor was built; the configuration went
    through the new client's password grant; a second run changes and writes nothing."""
    sandbox = snippet.sandbox
    client_file = snippet.pb.secrets_dir / "ci-pipeline.json"
    assert stat.S_IMODE(client_file.stat().st_mode) == 0o600
    client = pipeline_client(snippet)
    assert password_grant_status(sandbox, client, snippet.admin["username"], snippet.admin["password"]) == 200
    groups = sandbox.api("GET", "/groups", params={"include": "permissions"}).json()["data"]
    managers = next(group for group in groups if group["name"] == "release-managers")
    assert sorted(p["name"] for p in managers["permissions"]) == ["export-processes", "import-processes"]
    auditor = sandbox.session().post(sandbox.token_url, data={
        "grant_type": "password", "client_id": client["client_id"], "client_secret": client["client_secret"],
        "username": "auditor", "password": DOC_READER_SUPPLIED["auditor_password"], "scope": "*"}, timeout=30)
    token = auditor.json()["access_token"]
    assert status_of(sandbox, "/users", token) == 200 and status_of(sandbox, "/groups", token) == 403
    executors = {item["title"]: item for item in sandbox.api("GET", "/script-executors").json()["data"]}
    assert executors["Python with requests"]["config"] == "RUN pip install requests"
    assert executors["Python with requests"]["sandbox_build"]["status"] == "done"
    assert snippet.counters["tokens_issued"] == {"password": 1}, snippet.counters["tokens_issued"]
    second, counters = snippet.rerun()
    assert second.recap()["changed"] == 0, second.tail()
    assert writes(counters) == {"POST /login": 1}, writes(counters)  # the web login that lists the clients


def bootstrap_client_file(snippet: Snippet) -> None:
    snippet.play("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - processmaker.core.pm_auth_client:
                name: ci-pipeline
              register: client
              no_log: true
            - ansible.builtin.copy:
                content: "{{ {'client_id': client.client_id, 'client_secret': client.client_secret} | to_json }}"
                dest: "{{ secrets_dir }}/ci-pipeline.json"
                mode: "0600"
              no_log: true
            - processmaker.core.pm_resource:
                kind: groups
                items: [{name: release-managers}]
    """, name="bootstrap-client.yml", secrets_dir=str(snippet.pb.secrets_dir))
    pipeline_client(snippet)


def later_run_with_the_client(snippet: Snippet) -> None:
    """bootstrap-2: one password-grant token with the bootstrap's client, the group found and shown."""
    assert snippet.counters["tokens_issued"] == {"password": 1}, snippet.counters["tokens_issued"]
    assert served(snippet.counters, "GET /api/1.0/groups") == 1 and refused(snippet.counters) == {}
    shown = re.search(r"^TASK \[Say so\].*?^ok: \[localhost\] => (\{.*?^\})", snippet.run.stdout,
                      re.MULTILINE | re.DOTALL)
    assert shown and json.loads(shown.group(1))["msg"] == ["release-managers"], snippet.run.tail()

# ---------------------------------------------------------------------------------------------
# approvals.md


def approval_package_in_packages(snippet: Snippet) -> None:
    create_user(snippet, "jdoe")
    (snippet.packages() / "approval-package.json").write_bytes(PACKAGE.read_bytes())


def smoke_tested_and_canceled(snippet: Snippet) -> None:
    """approvals-1: the group (with jdoe) made before the import, so the imported task is assigned to it; one
    request reached the approval task, assigned to jdoe, and was canceled."""
    [group] = listed(snippet.sandbox, "/groups")
    [process] = listed(snippet.sandbox, "/processes")
    bpmn = snippet.sandbox.api("GET", f"/processes/{process['id']}/bpmn").text
    assert process["name"] == "Change approval" and f'pm:assignedGroups="{group["id"]}"' in bpmn
    [request] = requests_listed(snippet.sandbox)
    assert request["status"] == "CANCELED", request
    [task] = tasks_of(snippet.sandbox, request["id"])
    assert (task["element_name"], task["user_id"]) == ("Approve change", user(snippet.sandbox, "jdoe")["id"])
    assert served(snippet.counters, "POST /api/1.0/process_events/*") == 1
    assert served(snippet.counters, "PUT /api/1.0/requests/*") == 1


def approval_world_with_jdoe(snippet: Snippet) -> None:
    approval_world(snippet.sandbox, "jdoe", READER_SUPPLIED["jdoe_password"])


def approved_by_jdoe(snippet: Snippet) -> None:
    """approvals-2: one request, COMPLETED with approved true at the "Change approved" end event, its task
    completed by jdoe (the group's member), who the task was assigned to."""
    [request] = requests_listed(snippet.sandbox)
    assert request["status"] == "COMPLETED", request
    assert ended_at(snippet.sandbox, request["id"]) == [APPROVED_END]
    [task] = tasks_of(snippet.sandbox, request["id"])
    jdoe = user(snippet.sandbox, "jdoe")
    assert task["status"] == "CLOSED" and task["user_id"] == jdoe["id"]
    data = snippet.sandbox.api("GET", f"/requests/{request['id']}?include=data").json()["data"]
    assert data["approved"] is True and data["change"] == "CHG-1042"
    assert served(snippet.counters, "POST /api/1.0/process_events/*") == 1
    assert served(snippet.counters, "PUT /api/1.0/tasks/*") == 1


# ---------------------------------------------------------------------------------------------
# The table: every block, what it needs, and what it must have done


@dataclass(frozen=True)
class Spec:
    check: Callable[..., None]
    setup: Callable[[Snippet], None] | None = None
    observe: tuple[str, ...] = ()  # registered results the check reads (kept no_log, 0600)
    runner: str = "ansible-playbook"  # or "ansible-runner" (an AWX job)
    xfail: str | None = None  # the reason, for a snippet that needs a change on main first (strict)


SNIPPETS: dict[str, Spec] = {
    "approvals-1": Spec(smoke_tested_and_canceled, approval_package_in_packages),
    "approvals-2": Spec(approved_by_jdoe, approval_world_with_jdoe),
    "authentication-1": Spec(password_login_then_users, observe=("login",)),
    "authentication-2": Spec(code_flow_with_pkce, observe=("login",)),
    "authentication-3": Spec(pat_from_a_file, admin_pat_in_secrets_dir),
    "authentication-4": Spec(pat_created_checked_revoked, ci_pipeline_user, observe=("pat",)),
    "authentication-5": Spec(refresh_rotates, a_saved_refresh_token, observe=("renewed",)),
    "authentication-6": Spec(one_token_for_every_host, app_servers_inventory),
    "authentication-7": Spec(task_url_wins),
    "awx-1": Spec(credential_type_as_shipped, awx_collection_installed),
    "bootstrap-1": Spec(bootstrapped),
    "bootstrap-2": Spec(later_run_with_the_client, bootstrap_client_file),
    "awx-2": Spec(job_template_through_ansible_runner, runner="ansible-runner"),
    "configuration-1": Spec(groups_and_memberships, jdoe_exists),
    "configuration-2": Spec(employees_converged, employees_export),
    "configuration-3": Spec(whole_instance_configured, package_and_a_group_to_purge),
    "promotion-1": Spec(process_screen_script_created_and_exported, packages_folder),
    "promotion-2": Spec(exported_once, staging_has_loan_request),
    "promotion-3": Spec(imported_once, loan_request_package),
    "promotion-4": Spec(discarded_and_copied, exported_into_a_server_that_has_it),
    "promotion-5": Spec(encrypted_package, staging_has_loan_request),
    "promotion-6": Spec(promoted_with_two_logins, staging_world_and_production_pat),
    "quickstart-1": Spec(first_playbook),
    "quickstart-2": Spec(module_defaults_instead_of_env, no_pm_variables),
}


def test_every_block_is_checked() -> None:
    """A block without a check (or a check without its block) is a mistake of this file."""
    assert sorted(block.key for block in BLOCKS) == sorted(SNIPPETS)
    assert {block.doc for block in BLOCKS} == {"approvals", "authentication", "awx", "bootstrap", "configuration",
                                               "promotion", "quickstart"}


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.key)
def test_every_block_is_a_playbook(block: Block) -> None:
    plays = playbook_of(block)
    assert is_plays(plays) and all(play.get("tasks") or play.get("roles") for play in plays), block.key


def test_yaml_fences_are_plain_yaml() -> None:
    """Every YAML block is fenced ```yaml, so that this test finds it (no ```yml, ```yaml+jinja, ```YAML)."""
    for page in sorted(DOCS.glob("*.md")):
        odd = [info for info in FENCE.findall(page.read_text()) if "yaml" in info.lower() and info != "yaml"
               or info.lower() == "yml"]
        assert not odd, f"docs/{page.name}: fences {odd}; write ```yaml"


def _params() -> list:
    return [pytest.param(block, id=block.key, marks=[pytest.mark.xfail(strict=True, reason=spec.xfail)]
                         if (spec := SNIPPETS.get(block.key)) and spec.xfail else []) for block in BLOCKS]


@pytest.mark.deep
@pytest.mark.slow
@pytest.mark.parametrize("block", _params())
def test_doc_snippet_runs(block: Block, pb: Runner, clean_sandbox: SandboxProcess,
                          request: pytest.FixtureRequest) -> None:
    spec = SNIPPETS[block.key]
    plays = playbook_of(block)
    snippet = Snippet(block, clean_sandbox, pb, request)
    supplied = {**ROLE_READER_SUPPLIED, **DOC_READER_SUPPLIED}
    used = (used_vars(plays) | (jinja_names(plays) & set(supplied))) - defined_vars(plays)
    known: dict[str, object] = {**example_vars(clean_sandbox), **READER_SUPPLIED, **supplied}
    for name in used & (set(READER_SUPPLIED) | set(supplied)):
        for value in secret_values(known[name]):
            pb.guard.add(value, name)
    if used & set(SERVER_LOGINS):
        snippet.production.reset()
        known.update(staging=server_login(clean_sandbox), production=server_login(snippet.production))
        for name in used & set(SERVER_LOGINS):
            pb.guard.add(known[name]["client_secret"], f"{name} client secret")
            pb.guard.add(known[name]["password"], f"{name} password")
    if spec.setup:
        spec.setup(snippet)
    known.update(snippet.supplied)
    used |= jinja_names(plays) & set(snippet.supplied) - defined_vars(plays)
    unknown = used - set(known) - snippet.inventory_vars
    assert not unknown, f"{block.key} uses variables this test does not define: {sorted(unknown)}"
    snippet.extra = {name: known[name] for name in sorted(used - snippet.inventory_vars)}
    clean_sandbox.reset_counters()

    if spec.runner == "ansible-runner":
        spec.check(snippet, plays)
        return
    if spec.observe:
        plays = [*plays, observation(list(spec.observe))]
    snippet.playbook = pb.write(yaml.safe_dump(plays, sort_keys=False), name=f"doc-{block.key}.yml")
    if needs_a_person(plays):
        snippet.run = run_playbook_in_terminal(snippet.playbook, respond=the_person(snippet), env=snippet.env or pb.env(),
                                               extra_vars=pb.extra(snippet.extra), tmp_path=pb.tmp)
        assert snippet.run.returncode == 0, snippet.run.tail()
    else:
        snippet.run = ok(pb.run(snippet.playbook, env=snippet.env, extra_vars=snippet.extra,
                                inventory=snippet.inventory))
    recap = snippet.run.recap(APP_SERVERS[0] if snippet.inventory else "localhost")
    assert recap["failed"] == 0 and recap["ok"] > 0, snippet.run.tail()
    snippet.counters = clean_sandbox.counters()
    spec.check(snippet)



# ---------------------------------------------------------------------------------------------
# The quickstart's word on the shipped playbooks


@pytest.mark.deep
@pytest.mark.slow
def test_installed_demo_playbook_asks_the_person(pb: Runner, clean_sandbox: SandboxProcess) -> None:
    """quickstart: "Run from an installed collection ..., playbooks/demo.yml has no helper to approve the consent
    page: step 2 asks you (a pause prompt)". The demo of a collection installed from a tarball (which has no
    tools/) runs all five steps; the person approves the consent page and pastes where the browser landed."""
    home = installed_collection(pb.tmp)
    installed = home / ".ansible" / "collections" / "ansible_collections" / "processmaker" / "core"
    assert not (installed / "tools").exists() and (installed / "playbooks" / "demo.yml").is_file()
    client = clean_sandbox.credentials["authorization_code_client"]
    env = pb.env(PM_CODE_CLIENT_ID=client["client_id"], PM_CODE_CLIENT_SECRET=client["client_secret"],
                 PM_REDIRECT_URI=client["redirect_uri"], HOME=str(home),
                 ANSIBLE_COLLECTIONS_PATH=str(home / ".ansible" / "collections"))
    demo_vars = yaml.safe_load((installed / "playbooks" / "configure.yml").read_text())[0]["vars"]
    pb.guard.add(demo_vars["demo_initial_password"], "configure demo users' password")
    pb.guard.add(demo_vars["demo_erp_api_key"], "configure demo environment variable value")
    admin = clean_sandbox.credentials["admin"]

    def person(screen: str) -> str | None:
        match = re.search(r"Open (http\S+/oauth/authorize\?\S+) , sign in", screen)
        if not match or "Enter the authorization code" not in screen or not screen.rstrip().endswith(":"):
            return None
        callback = approve(match.group(1), admin["username"], admin["password"])
        pb.guard.add(callback, "callback URL the person pasted")
        return callback

    run = run_playbook_in_terminal(installed / "playbooks" / "demo.yml", respond=person, env=env,
                                   extra_vars=pb.extra(None), tmp_path=pb.tmp)
    assert run.returncode == 0, run.tail()
    for text in ("Password grant: got a Bearer token", "state checked", "The token acts as ci-pipeline",
                 "pm_token lookup: GET /users answered 200", "second run: changed=False"):
        assert text in run.stdout, text
    assert "pm_approve_command failed" not in run.stdout
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"]["authorization_code"] == 1 and counters["tokens_issued"]["personal_access"] == 1
    assert served(counters, "POST /oauth/authorize") == 1
    assert_demo_configuration(clean_sandbox)
