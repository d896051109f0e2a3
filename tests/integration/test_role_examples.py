"""Every ```yaml block of every role's README runs against the sandbox, as written, and does what it says.

The blocks of ``roles/<role>/README.md`` become playbooks by these rules (the reader's reading of them):

1. A list of plays (every item has ``hosts``) runs as it is.
2. A list of tasks runs in a play on localhost (``test_examples.as_playbook``, like a plugin's EXAMPLES);
   the server and the credentials come from the sandbox's ``PM_*`` environment variables.
3. A mapping of play keywords (``module_defaults:``, ``roles:``, ``tasks:`` ...) shows how the README's
   first play (its first block of rule 1) changes: that play runs with those keys replaced.
4. A mapping of the role's own variables (``configure_config:`` ...) is the ``vars`` of the role's entry
   in that first play: the play runs with that entry's ``vars`` replaced.

Every run gets the sandbox's ``PM_*`` environment variables and, as extra variables, those of
``test_examples`` (``pm_*``, ``READER_SUPPLIED``, the ``staging``/``production`` logins of a promotion:
the test's sandbox and a second one, reset first), the values a reader supplies to the roles' examples
(``ROLE_READER_SUPPLIED``: their secrets go to the leak guard), and the Runner's ``secrets_dir``, the
folder the examples keep token files in (the leak guard reads every file there). What an example
expects a server to hold already is made first (``PRECONDITIONS``). After the README's plays, one play
of the test's own keeps the facts a check needs (``keep_secret``: no_log, 0600 files in ``secrets_dir``).
Then ``CHECKS`` asserts, through the API, what the example declares: every block has a check. Two
checks run their playbook a second time, as the README says to: the configure example (nothing to
change: ``changed=0``, no write) and the service account with ``-e service_account_rotate=true`` (the
README's ```sh block).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import stat
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pm_integration import REPO_ROOT, PlaybookRun, Runner, keep_secret, ok, served
from pm_sandbox.testing import SandboxProcess
from test_examples import (
    READER_SUPPLIED,
    SERVER_LOGINS,
    as_playbook,
    defined_vars,
    example_vars,
    jinja_names,
    second_sandbox,  # noqa: F401 - the fixture of the production server, requested by name
    server_login,
    used_vars,
)
from test_pm_package import build_world

YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
PLAY_KEYWORDS = frozenset(
    ("name", "hosts", "connection", "gather_facts", "module_defaults", "environment", "vars", "vars_files",
     "roles", "pre_tasks", "tasks", "post_tasks", "handlers", "become", "serial", "strategy")
)
WRITES = ("POST", "PUT", "PATCH", "DELETE")

# Values the roles' examples expect a reader to supply (from a vault, say): secrets, for the leak guard.
ROLE_READER_SUPPLIED: dict[str, object] = {
    "vault_initial_password": "Initial-Example-Passw0rd!",
    "vault_crm_api_url": "https://crm.example.test/api?key=Crm-Example-Key-7d41",
    "my_env_vars": [
        {"name": "crm_api_url", "description": "CRM endpoint used by scripts",
         "value": "https://crm.example.test/api?key=Crm-Rotated-Key-2b9e"},
    ],
}


def secret_values(value: object) -> list[str]:
    """The secrets in a supplied value: a string, or the value/password of each item of a list."""
    if isinstance(value, str):
        return [value]
    return [item[key] for item in value for key in ("value", "password") if key in item]  # type: ignore[union-attr]


@dataclass(frozen=True)
class Block:
    role: str
    index: int  # its position among the README's yaml blocks, from 0
    text: str

    @property
    def key(self) -> str:
        return f"{self.role}-{self.index}"


def readme_blocks() -> list[Block]:
    blocks = []
    for readme in sorted((REPO_ROOT / "roles").glob("*/README.md")):
        for index, match in enumerate(YAML_BLOCK.finditer(readme.read_text())):
            blocks.append(Block(readme.parent.name, index, textwrap.dedent(match.group(1))))
    return blocks


BLOCKS = readme_blocks()


def is_plays(document: object) -> bool:
    return isinstance(document, list) and bool(document) and all(
        isinstance(item, dict) and "hosts" in item for item in document)


def first_play(role: str) -> dict:
    for block in BLOCKS:
        if block.role == role and is_plays(plays := yaml.safe_load(block.text)):
            return plays[0]
    raise AssertionError(f"roles/{role}/README.md has no full play for its fragments to change")


def playbook_of(block: Block) -> list[dict]:
    """The README block as plays, by the rules of the module docstring."""
    document = yaml.safe_load(block.text)
    if isinstance(document, list):
        return as_playbook(block.text)  # rule 1 (plays as they are) or rule 2 (tasks in a play)
    assert isinstance(document, dict) and document, f"{block.key}: neither plays, tasks nor a mapping"
    play = copy.deepcopy(first_play(block.role))
    if set(document) <= PLAY_KEYWORDS:  # rule 3
        play.update(document)
    elif all(str(key).startswith(block.role + "_") for key in document):  # rule 4
        fqcn = f"processmaker.core.{block.role}"
        entries = [entry for entry in play.get("roles", [])
                   if isinstance(entry, dict) and fqcn in (entry.get("role"), entry.get("name"))]
        assert len(entries) == 1, f"{block.key}: the README's first play applies {fqcn} {len(entries)} times"
        entries[0]["vars"] = document
    else:
        raise AssertionError(f"{block.key}: a mapping of neither play keywords nor {block.role}_* variables: {sorted(document)}")
    return [play]


def observation(facts: list[str]) -> dict:
    """The test's own last play: keeps facts of the run (no_log, 0600) for the checks."""
    return {"name": "Keep facts for the test (not part of the README)", "hosts": "localhost", "gather_facts": False,
            "tasks": [yaml.safe_load(keep_secret(fact))[0] for fact in facts]}


# ---------------------------------------------------------------------------------------------
# What the server holds, through the API


def listed(sandbox: SandboxProcess, path: str, **params: object) -> list[dict]:
    response = sandbox.api("GET", path, params={"per_page": 1000, **params})
    assert response.status_code == 200, (path, response.status_code, response.text[:200])
    return response.json()["data"]


def names(sandbox: SandboxProcess, path: str, field: str = "name") -> list[str]:
    return sorted(item[field] for item in listed(sandbox, path))


def user(sandbox: SandboxProcess, username: str) -> dict:
    found = [item for item in listed(sandbox, "/users", filter=username) if item["username"] == username]
    assert len(found) == 1, f"{len(found)} users {username!r}"
    return found[0]


def group_id(sandbox: SandboxProcess, name: str) -> int:
    found = [item["id"] for item in listed(sandbox, "/groups") if item["name"] == name]
    assert len(found) == 1, f"{len(found)} groups {name!r}"
    return found[0]


def memberships(sandbox: SandboxProcess) -> set[tuple[str, str, str]]:
    """(group, "user" or "group", member's username or name) of every membership."""
    users = {item["id"]: item["username"] for item in listed(sandbox, "/users")}
    groups = {item["id"]: item["name"] for item in listed(sandbox, "/groups")}
    rows = listed(sandbox, "/group_members")
    return {(row["name"], "user", users[row["member_id"]]) if row["member_type"].endswith("User")
            else (row["name"], "group", groups[row["member_id"]]) for row in rows}


def live_token_ids(sandbox: SandboxProcess, user_id: int, name: str | None = None) -> list[str]:
    return [token["id"] for token in listed(sandbox, f"/users/{user_id}/tokens") if name in (None, token["name"])]


def jti(token: str) -> str:
    """The id a ProcessMaker JWT carries (the id the token listing shows)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def status_of(sandbox: SandboxProcess, path: str, token: str) -> int:
    return sandbox.api("GET", path, token=token).status_code


def writes(counters: dict) -> dict[str, int]:
    return {route: count for route, count in counters["requests"].items()
            if route.split()[0] in WRITES and route != "POST /oauth/token"}


def refused(counters: dict) -> dict[str, dict]:
    """Routes that answered 4xx/5xx (a token that did not work would show here as 401)."""
    return {route: statuses for route, statuses in counters["statuses"].items()
            if any(status >= "400" for status in statuses)}


# ---------------------------------------------------------------------------------------------
# Preconditions and checks, per README block


@dataclass
class Example:
    block: Block
    sandbox: SandboxProcess
    pb: Runner
    request: pytest.FixtureRequest
    playbook: Path | None = None
    extra: dict | None = None
    run: PlaybookRun | None = None
    counters: dict | None = None

    @property
    def production(self) -> SandboxProcess:
        return self.request.getfixturevalue("second_sandbox")

    def rerun(self, args: list[str] | None = None) -> tuple[PlaybookRun, dict]:
        """The same playbook again (with more ``ansible-playbook`` arguments): its run and the counters of that run."""
        self.sandbox.reset_counters()
        run = ok(self.pb.run(self.playbook, extra_vars=self.extra, args=args))
        return run, self.sandbox.counters()


def task_outcomes(run: PlaybookRun, task: str) -> list[str]:
    """What each run of a task reported ("ok", "changed", "skipping"...), from the play's output."""
    outcomes: list[str] = []
    for section in re.split(r"^TASK \[", run.stdout, flags=re.MULTILINE)[1:]:
        if section.startswith(task + "]"):
            outcomes += re.findall(r"^(ok|changed|skipping|failed|fatal): \[localhost\]", section, re.MULTILINE)
    return outcomes


EXPORT_LOAN_REQUEST = """
- name: Precondition - export the process Loan Request to packages/loan_request.json
  hosts: localhost
  gather_facts: false
  tasks:
    - processmaker.core.pm_package:
        state: exported
        type: process
        name: Loan Request
        dest: "{{ playbook_dir }}/packages/loan_request.json"
"""


def loan_request_package(example: Example) -> None:
    """The package the configure example imports: Loan Request exported (pm_package) from a server that has it;
    then the server is reset, so that the example imports it into a server without it."""
    build_world(example.sandbox)
    (example.pb.tmp / "packages").mkdir(exist_ok=True)
    ok(example.pb.play(EXPORT_LOAN_REQUEST, name="precondition-export.yml"))
    assert (example.pb.tmp / "packages" / "loan_request.json").stat().st_size > 0
    example.sandbox.reset()


def staging_has_loan_request(example: Example) -> None:
    build_world(example.sandbox)
    (example.pb.tmp / "packages").mkdir(exist_ok=True)


def admin_pat_in_file(example: Example) -> None:
    """An administrator's personal access token in {{ secrets_dir }}/ci.token, mode 0600."""
    admin_id = example.sandbox.credentials["admin"]["id"]
    response = example.sandbox.api("POST", f"/users/{admin_id}/tokens", json={"name": "ci"})
    assert response.status_code == 200, response.text
    path = example.pb.secrets_dir / "ci.token"
    path.write_text(response.json()["accessToken"])
    path.chmod(0o600)


def a_user_who_leaves(example: Example) -> None:
    response = example.sandbox.api("POST", "/users", json={
        "username": "leaver", "firstname": "Lee", "lastname": "Ver", "email": "leaver@example.com",
        "password": "Leaver-Example-Passw0rd!", "status": "ACTIVE"})
    assert response.status_code == 201, response.text


def an_environment_variable_to_rotate(example: Example) -> None:
    response = example.sandbox.api("POST", "/environment_variables", json={
        "name": "crm_api_url", "description": "CRM endpoint used by scripts", "value": "https://old.example.test"})
    assert response.status_code == 201, response.text


PRECONDITIONS: dict[str, Callable[[Example], None]] = {
    "configure-0": loan_request_package,
    "configure-1": a_user_who_leaves,
    "configure-2": an_environment_variable_to_rotate,
    "token-2": staging_has_loan_request,
    "token-3": admin_pat_in_file,
}

# Facts the observation play keeps for a check (read with pb.secret(name)).
OBSERVE: dict[str, list[str]] = {
    "token-0": ["processmaker_token", "processmaker_token_id"],
    "token-3": ["processmaker_token"],
    "service_account-1": ["service_account_token", "service_account_token_created", "service_account_user"],
}


def one_login_used_throughout(example: Example) -> None:
    """token-0 (the full play) and token-1 (the same play, server and credentials from PM_*): one login
    (password grant) served every task of the play; the play ended by revoking that token."""
    counters = example.counters
    assert counters["tokens_issued"] == {"password": 1}, counters["tokens_issued"]
    assert served(counters, "POST /oauth/token") == 1
    # the configure role created the group it declares, once; pm_api listed the users, with the role's token
    assert names(example.sandbox, "/groups") == ["Sales"]
    assert served(counters, "POST /api/1.0/groups") == 1
    assert served(counters, "GET /api/1.0/users") >= 1
    assert refused(counters) == {}, refused(counters)
    # tasks_from: revoke revoked it (DELETE .../tokens/{id} answered 204) and emptied the facts
    assert counters["statuses"].get("DELETE /api/1.0/users/{user}/tokens/{tokenId}") == {"204": 1}, counters["statuses"]
    if example.block.key == "token-0":
        assert example.pb.secret("processmaker_token") == ""
        assert example.pb.secret("processmaker_token_id") is None


def promoted_to_production(example: Example) -> None:
    """token-2: the package went from staging (the test's sandbox) to production (a second one), each
    server with its own login and fact prefix."""
    production = example.production
    production_counters = production.counters()  # before this test's own requests (and its admin login)
    assert production_counters["tokens_issued"] == {"password": 1}  # production_token: one login
    assert served(production_counters, "POST /api/1.0/import/do-import") == 1
    assert [p["name"] for p in listed(production, "/processes")] == ["Loan Request"]
    assert names(production, "/screens", "title") == ["Cancel Notice", "Loan Form"]
    # staging: the play's login (processmaker_token, for the configure role) and staging_token's
    assert example.counters["tokens_issued"] == {"password": 2}
    assert names(example.sandbox, "/groups") == ["Sales"]
    assert (example.pb.tmp / "packages" / "loan_request.json").stat().st_size > 0
    assert refused(example.counters) == {} and refused(production_counters) == {}


def pat_kept_and_never_revoked(example: Example) -> None:
    """token-3: the personal access token from the file is the play's token: no login at all, it is the
    fact, every call of the play used it, and the role did not revoke it (it still works)."""
    pat = (example.pb.secrets_dir / "ci.token").read_text()
    counters = example.counters
    assert counters["tokens_issued"] == {}, counters["tokens_issued"]
    assert example.pb.secret("processmaker_token") == pat
    assert served(counters, "GET /api/1.0/users") >= 1 and refused(counters) == {}, refused(counters)
    assert served(counters, "DELETE /api/1.0/users/*/tokens/*") == 0
    admin_id = example.sandbox.credentials["admin"]["id"]
    assert jti(pat) in live_token_ids(example.sandbox, admin_id, "ci")
    assert status_of(example.sandbox, "/users", pat) == 200


def configured_and_second_run_unchanged(example: Example) -> None:
    """configure-0: everything the configuration declares is on the server, once; the second run changes nothing."""
    sandbox = example.sandbox
    setting = [item for item in listed(sandbox, "/settings", filter="session.lifetime") if item["key"] == "session.lifetime"]
    assert [item["config"] for item in setting] == ["60"]  # a "text" setting: the server answers a string
    categories = names(sandbox, "/process_categories")
    assert categories.count("Finance") == 1 and categories.count("Human Resources") == 1, categories
    assert names(sandbox, "/environment_variables") == ["crm_api_url"]
    assert names(sandbox, "/groups") == ["EMEA", "Sales"]  # purge: true (and nothing else to purge)
    jdoe = user(sandbox, "jdoe")
    assert (jdoe["firstname"], jdoe["lastname"], jdoe["email"], jdoe["title"]) == (
        "Jane", "Doe", "jdoe@example.com", "Account manager")
    assert {("Sales", "user", "jdoe"), ("Sales", "group", "EMEA")} <= memberships(sandbox)
    assert len(memberships(sandbox)) == 2
    # the package: the process, with its screens and script, imported once
    assert [p["name"] for p in listed(sandbox, "/processes")] == ["Loan Request"]
    assert names(sandbox, "/screens", "title") == ["Cancel Notice", "Loan Form"]
    assert served(example.counters, "POST /api/1.0/import/do-import") == 1
    # the initial password the example set works (it is only written on create)
    password = str(ROLE_READER_SUPPLIED["vault_initial_password"])
    assert sandbox.password_token("jdoe", password)["access_token"]
    assert example.counters["tokens_issued"] == {"password": 1}  # the token role's one login (and not ours above)

    second, counters = example.rerun()
    assert second.recap()["changed"] == 0, second.tail()
    # no write: the one POST is the import preview, which reads (pm_package compares before importing)
    assert writes(counters) == {"POST /api/1.0/import/preview": 1}, writes(counters)
    assert counters["tokens_issued"] == {"password": 1}


def user_removed(example: Example) -> None:
    """configure-1: state absent soft-deleted the listed user (listed among deleted users, not among users)."""
    assert "leaver" not in names(example.sandbox, "/users", "username")
    assert "leaver" in names(example.sandbox, "/deleted_users", "username")
    assert served(example.counters, "DELETE /api/1.0/users/*") == 1
    assert example.run.recap()["changed"] == 1, example.run.tail()


def secrets_rotated(example: Example) -> None:
    """configure-2: update_secrets always wrote the value of the existing variable again, reported changed,
    and created nothing."""
    assert names(example.sandbox, "/environment_variables") == ["crm_api_url"]
    assert served(example.counters, "PUT /api/1.0/environment_variables/*") == 1
    assert served(example.counters, "POST /api/1.0/environment_variables") == 0
    assert example.run.recap()["changed"] == 1, example.run.tail()


def ci_account_with_token_file(example: Example) -> None:
    """service_account-0: the user, its group and membership exist once; the PAT in the file (0600) is
    the one token named deploy, and it may do what the group's permissions allow, and no more."""
    sandbox = example.sandbox
    account = user(sandbox, "ci-deploy")
    assert (account["firstname"], account["lastname"]) == ("CI", "Deploy")
    assert names(sandbox, "/groups") == ["Deployment robots"]
    assert memberships(sandbox) == {("Deployment robots", "user", "ci-deploy")}
    path = example.pb.secrets_dir / "ci-deploy.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pat = path.read_text().strip()
    assert live_token_ids(sandbox, account["id"]) == [jti(pat)]
    assert live_token_ids(sandbox, account["id"], "deploy") == [jti(pat)]
    assert status_of(sandbox, "/processes", pat) == 200  # view-processes, through the group
    assert status_of(sandbox, "/users", pat) == 403  # never granted

    # The README's ```sh block: the same playbook with -e service_account_rotate=true makes a new token,
    # writes it to the file and revokes the old one (and changes nothing else)
    rotated, counters = example.rerun(["-e", "service_account_rotate=true"])
    new_pat = path.read_text().strip()
    assert new_pat != pat and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert live_token_ids(sandbox, account["id"], "deploy") == [jti(new_pat)]
    assert status_of(sandbox, "/processes", pat) == 401 and status_of(sandbox, "/processes", new_pat) == 200
    assert served(counters, "POST /api/1.0/users/*/tokens") == 1
    assert served(counters, "DELETE /api/1.0/users/*/tokens/*") == 1
    assert {route.split()[1] for route in writes(counters)} == {"/api/1.0/users/{user}/tokens",
                                                                 "/api/1.0/users/{user}/tokens/{tokenId}"}, writes(counters)
    assert rotated.recap()["changed"] >= 1, rotated.tail()


def reporter_token_handed_on(example: Example) -> None:
    """service_account-1: the reporter account exists with its default group; the token the role returned
    (no file) is its one PAT, the play's next task used it, and it may view users but not processes."""
    sandbox = example.sandbox
    account = user(sandbox, "reporter")
    assert names(sandbox, "/groups") == ["reporter service account"]
    assert memberships(sandbox) == {("reporter service account", "user", "reporter")}
    assert example.pb.secret("service_account_token_created") is True
    assert example.pb.secret("service_account_user") == {"id": account["id"], "username": "reporter"}
    token = example.pb.secret("service_account_token")
    assert live_token_ids(sandbox, account["id"], "ansible") == [jti(token)]
    assert status_of(sandbox, "/users", token) == 200
    assert status_of(sandbox, "/processes", token) == 403
    # the example's pm_api task ran with that token (it was not skipped), and nothing was refused
    assert task_outcomes(example.run, "List the users as the reporting account, with its new token") == ["ok"]
    assert refused(example.counters) == {}, refused(example.counters)


CHECKS: dict[str, Callable[[Example], None]] = {
    "configure-0": configured_and_second_run_unchanged,
    "configure-1": user_removed,
    "configure-2": secrets_rotated,
    "service_account-0": ci_account_with_token_file,
    "service_account-1": reporter_token_handed_on,
    "token-0": one_login_used_throughout,
    "token-1": one_login_used_throughout,
    "token-2": promoted_to_production,
    "token-3": pat_kept_and_never_revoked,
}


def test_every_block_is_checked() -> None:
    """A README block without a check (or a check without its block) is a mistake of this file."""
    assert sorted(block.key for block in BLOCKS) == sorted(CHECKS)
    assert {block.role for block in BLOCKS} == {"token", "configure", "service_account"}


@pytest.mark.deep
@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.key)
def test_role_example_runs(block: Block, pb: Runner, clean_sandbox: SandboxProcess,
                           request: pytest.FixtureRequest) -> None:
    plays = playbook_of(block)
    example = Example(block, clean_sandbox, pb, request)
    used = (used_vars(plays) | (jinja_names(plays) & set(ROLE_READER_SUPPLIED))) - defined_vars(plays)
    known: dict[str, object] = {**example_vars(clean_sandbox), **READER_SUPPLIED, **ROLE_READER_SUPPLIED}
    for name in used & (set(READER_SUPPLIED) | set(ROLE_READER_SUPPLIED)):
        for value in secret_values(known[name]):
            pb.guard.add(value, name)
    if used & set(SERVER_LOGINS):
        example.production.reset()
        known.update(staging=server_login(clean_sandbox), production=server_login(example.production))
        for name in used & set(SERVER_LOGINS):
            pb.guard.add(known[name]["client_secret"], f"{name} client secret")
            pb.guard.add(known[name]["password"], f"{name} password")
    unknown = used - set(known)
    assert not unknown, f"the example uses variables this test does not define: {sorted(unknown)}"
    if block.key in PRECONDITIONS:
        PRECONDITIONS[block.key](example)
    if block.key in OBSERVE:
        plays = [*plays, observation(OBSERVE[block.key])]
    example.extra = {name: known[name] for name in sorted(used)}
    example.playbook = pb.write(yaml.safe_dump(plays, sort_keys=False), name=f"readme-{block.key}.yml")
    clean_sandbox.reset_counters()

    example.run = ok(pb.run(example.playbook, extra_vars=example.extra))
    recap = example.run.recap()
    assert recap["failed"] == 0 and recap["ok"] > 0, example.run.tail()
    example.counters = clean_sandbox.counters()
    CHECKS[block.key](example)
